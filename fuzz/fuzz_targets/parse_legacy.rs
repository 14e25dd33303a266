//! Arbitrary bytes as a flat v1 (`@workos-inc/js`) event, then its translation.
//!
//! Invariants: parsing never panics; an accepted event passes `validate()`; its wire bytes
//! parse again to an equal value with identical bytes; `to_current()` never panics, and when
//! it succeeds the current body carries the same organization, action and actor, passes
//! `validate()`, and round-trips through `CreateEventBody::from_json` byte for byte.
#![no_main]

use auditwire::{CreateEventBody, LegacyEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = LegacyEvent::from_json(data) else {
        return;
    };
    if let Err(e) = event.validate() {
        panic!("from_json accepted an event that validate() refuses: {e:?}");
    }
    let wire = event.to_json();
    let again = match LegacyEvent::from_json(&wire) {
        Ok(e) => e,
        Err(e) => panic!(
            "legacy wire bytes do not parse again: {e:?}\nwire: {}",
            String::from_utf8_lossy(&wire)
        ),
    };
    assert_eq!(event, again, "re-parsed legacy event differs");
    assert_eq!(wire, again.to_json(), "legacy serialisation is not stable");

    let Ok(current) = event.to_current() else {
        return;
    };
    assert_eq!(current.organization_id, event.group);
    assert_eq!(current.event.action, event.action);
    assert_eq!(current.event.actor.id, event.actor_id);
    assert_eq!(current.event.occurred_at, event.occurred_at);
    assert_eq!(current.event.targets.len(), 1);
    if let Err(e) = current.validate() {
        panic!("to_current() produced a body that validate() refuses: {e:?}");
    }
    let cwire = current.to_json();
    let reparsed = match CreateEventBody::from_json(&cwire) {
        Ok(b) => b,
        Err(e) => panic!(
            "to_current() body does not parse as a current body: {e:?}\nwire: {}",
            String::from_utf8_lossy(&cwire)
        ),
    };
    assert_eq!(
        current, reparsed,
        "translated body differs after a round trip"
    );
    assert_eq!(
        cwire,
        reparsed.to_json(),
        "translated serialisation is not stable"
    );
});
