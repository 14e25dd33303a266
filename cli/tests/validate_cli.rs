//! `auditwire validate` against the shared vectors: exact wire bodies, exact problem lines.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use base64::Engine;
use serde_json::Value;

fn run(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditwire"))
        .arg("validate")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("auditwire runs");
    child.stdin.take().unwrap().write_all(input).expect("stdin");
    child.wait_with_output().expect("exit")
}

fn cases(file: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn input(case: &Value) -> Vec<u8> {
    if let Some(t) = case["input_text"].as_str() {
        t.as_bytes().to_vec()
    } else if let Some(b) = case["input_base64"].as_str() {
        base64::engine::general_purpose::STANDARD.decode(b).unwrap()
    } else {
        serde_json::to_vec(&case["input"]).unwrap()
    }
}

fn expected_lines(case: &Value) -> String {
    case["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let (path, message) = (p["path"].as_str().unwrap(), p["message"].as_str().unwrap());
            if path.is_empty() {
                format!("{message}\n")
            } else {
                format!("{path}: {message}\n")
            }
        })
        .collect()
}

fn check(file: &str, args: &[&str]) {
    for case in cases(file) {
        let name = case["name"].as_str().unwrap();
        let out = run(args, &input(&case));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        if case["valid"] == true {
            assert!(out.status.success(), "{name}: {stderr}");
            assert_eq!(
                stdout,
                format!("{}\n", case["wire"].as_str().unwrap()),
                "{name}"
            );
            assert_eq!(stderr, "", "{name}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{name}");
            assert_eq!(stdout, "", "{name}");
            assert_eq!(stderr, expected_lines(&case), "{name}");
            let mut json_args = args.to_vec();
            json_args.push("--problems-json");
            let out = run(&json_args, &input(&case));
            let problems: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(problems, case["problems"], "{name}");
        }
    }
}

#[test]
fn current_api_vectors_print_the_wire_body_or_every_problem() {
    check("current.json", &[]);
}

#[test]
fn legacy_vectors_translate_to_the_current_api() {
    check("legacy.json", &["--legacy"]);
}

#[test]
fn legacy_v1_body_is_sent_unchanged_apart_from_normalisation() {
    for case in cases("legacy.json")
        .into_iter()
        .filter(|c| c["valid"] == true)
    {
        let out = run(&["--legacy", "--v1-body"], &input(&case));
        assert!(out.status.success());
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout, format!("{}\n", case["v1_wire"].as_str().unwrap()));
    }
}

#[test]
fn oversize_input_is_refused_with_the_limit() {
    let out = run(&["--max-bytes", "10"], b"{\"organization_id\": \"org_1\"}");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("the limit is 10 bytes"), "{stderr}");
}

#[test]
fn malformed_json_reports_the_parser_position() {
    let out = run(&[], b"{\"organization_id\": ");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("line 1 column 20"), "{stderr}");
}
