//! Runs the shared vectors in `tests/vectors/` through the core parser and serialiser.

use std::path::PathBuf;

use auditwire::{CreateEventBody, LegacyEvent, ValidationError};
use base64::Engine;
use serde_json::Value;

fn vectors(file: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("vector file");
    let doc: Value = serde_json::from_str(&text).expect("vector JSON");
    doc["cases"].as_array().expect("cases").clone()
}

fn input_bytes(case: &Value) -> Vec<u8> {
    if let Some(text) = case["input_text"].as_str() {
        text.as_bytes().to_vec()
    } else if let Some(b64) = case["input_base64"].as_str() {
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64")
    } else {
        serde_json::to_vec(&case["input"]).expect("input")
    }
}

fn problem_list(e: &ValidationError) -> Vec<(String, String, String)> {
    e.problems()
        .iter()
        .map(|p| (p.path.clone(), p.rule.code().to_owned(), p.message.clone()))
        .collect()
}

fn expected_problems(case: &Value) -> Vec<(String, String, String)> {
    case["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_owned(),
                p["rule"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn current_api_vectors() {
    let cases = vectors("current.json");
    assert!(cases.iter().filter(|c| c["valid"] == false).count() >= 30);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let got = CreateEventBody::from_json(&input_bytes(case));
        if case["valid"] == true {
            let body = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            let wire = String::from_utf8(body.to_json()).unwrap();
            assert_eq!(wire, case["wire"].as_str().unwrap(), "{name}");
            let again = CreateEventBody::from_json(wire.as_bytes()).unwrap();
            assert_eq!(again, body, "{name}: wire output re-parses unchanged");
            assert!(body.validate().is_ok(), "{name}");
        } else {
            let e = got.err().unwrap_or_else(|| panic!("{name}: accepted"));
            assert_eq!(problem_list(&e), expected_problems(case), "{name}");
        }
    }
}

#[test]
fn legacy_vectors() {
    for case in &vectors("legacy.json") {
        let name = case["name"].as_str().unwrap();
        let got =
            LegacyEvent::from_json(&input_bytes(case)).and_then(|e| e.to_current().map(|c| (e, c)));
        if case["valid"] == true {
            let (event, current) = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(event.validate().is_ok(), "{name}");
            let wire = String::from_utf8(current.to_json()).unwrap();
            assert_eq!(wire, case["wire"].as_str().unwrap(), "{name}");
            let v1 = String::from_utf8(event.to_json()).unwrap();
            assert_eq!(v1, case["v1_wire"].as_str().unwrap(), "{name}");
            assert!(current.validate().is_ok(), "{name}");
        } else {
            let e = got.err().unwrap_or_else(|| panic!("{name}: accepted"));
            assert_eq!(problem_list(&e), expected_problems(case), "{name}");
        }
    }
}
