//! Arbitrary bytes as a current-API request body `{"organization_id", "event"}`.
//!
//! Invariants: parsing never panics; an accepted body also passes `validate()`; its wire
//! bytes (`to_json`) parse again to an equal value that serialises to the identical bytes;
//! the wire bytes are valid JSON for serde_json too.
#![no_main]

use auditwire::CreateEventBody;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = CreateEventBody::from_json(data) else {
        return;
    };
    if let Err(e) = body.validate() {
        panic!("from_json accepted a body that validate() refuses: {e:?}");
    }
    let wire = body.to_json();
    let again = match CreateEventBody::from_json(&wire) {
        Ok(b) => b,
        Err(e) => panic!(
            "wire bytes do not parse again: {e:?}\nwire: {}",
            String::from_utf8_lossy(&wire)
        ),
    };
    assert_eq!(body, again, "re-parsed body differs");
    let wire2 = again.to_json();
    assert_eq!(
        wire,
        wire2,
        "serialisation is not stable:\n1: {}\n2: {}",
        String::from_utf8_lossy(&wire),
        String::from_utf8_lossy(&wire2)
    );
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&wire) {
        panic!("wire bytes are not JSON: {e}");
    }
});
