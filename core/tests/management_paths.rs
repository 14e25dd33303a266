//! Management calls put each caller-given id into exactly one path segment: an id of `.`, `..`
//! or nothing is refused before any request, and every other id is percent-encoded, so no id
//! can address another resource.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auditwire::{ApiError, Client, Config, CreateSchemaRequest, ErrorKind, ListOptions};

/// A loopback server that records each request's method and target and answers 404.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut out = stream;
                    loop {
                        let mut request_line = String::new();
                        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                            return;
                        }
                        let mut len = 0;
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let lower = line.to_ascii_lowercase();
                            if let Some(v) = lower.strip_prefix("content-length:") {
                                len = v.trim().parse().unwrap();
                            }
                            if line == "\r\n" {
                                break;
                            }
                        }
                        let mut body = vec![0; len];
                        reader.read_exact(&mut body).unwrap();
                        let mut parts = request_line.split_whitespace();
                        let method = parts.next().unwrap_or_default();
                        let target = parts.next().unwrap_or_default();
                        log.lock().unwrap().push(format!("{method} {target}"));
                        let body = br#"{"message":"Not found."}"#;
                        let head = format!(
                            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\
                             content-length: {}\r\n\r\n",
                            body.len()
                        );
                        out.write_all(head.as_bytes()).unwrap();
                        out.write_all(body).unwrap();
                    }
                });
            }
        });
        Recorder { url, seen }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn client(url: &str) -> Client {
    Client::new(
        Config::builder()
            .api_key("sk_test_paths")
            .base_url(url)
            .max_retries(0)
            .timeout(Duration::from_secs(10))
            .ignore_env(true)
            .build()
            .unwrap(),
    )
}

/// Every management call that takes an id, with the parameter's name and the path it builds
/// from an already encoded id.
#[allow(clippy::type_complexity)]
fn calls() -> Vec<(
    &'static str,
    Box<dyn Fn(&Client, &str) -> Result<(), ApiError>>,
    fn(&str) -> String,
)> {
    let schema: CreateSchemaRequest =
        serde_json::from_str(r#"{"actor":{"metadata":{}},"targets":[{"type":"team"}]}"#).unwrap();
    vec![
        (
            "export_id",
            Box::new(|c, id| c.get_export(id).map(drop)),
            |e| format!("GET /audit_logs/exports/{e}"),
        ),
        (
            "action",
            Box::new(move |c, id| c.create_schema(id, &schema).map(drop)),
            |e| format!("POST /audit_logs/actions/{e}/schemas"),
        ),
        (
            "action",
            Box::new(|c, id| c.list_schemas(id, &ListOptions::default()).map(drop)),
            |e| format!("GET /audit_logs/actions/{e}/schemas"),
        ),
        (
            "organization_id",
            Box::new(|c, id| c.get_retention(id).map(drop)),
            |e| format!("GET /organizations/{e}/audit_logs_retention"),
        ),
        (
            "organization_id",
            Box::new(|c, id| c.set_retention(id, 30).map(drop)),
            |e| format!("PUT /organizations/{e}/audit_logs_retention"),
        ),
    ]
}

#[test]
fn dot_segments_and_empty_ids_are_refused_before_any_request() {
    let server = Recorder::start();
    let c = client(&server.url);
    for (parameter, call, _) in calls() {
        for id in [".", "..", ""] {
            let e = call(&c, id).expect_err(id);
            assert_eq!(
                e.kind,
                ErrorKind::UnprocessableEntity,
                "{parameter} {id:?}: {e}"
            );
            assert_eq!(e.status, None, "{e}");
            let text = e.to_string();
            assert!(text.contains(parameter), "names the parameter: {text}");
            if id.is_empty() {
                assert!(text.contains("must not be empty"), "{text}");
            } else {
                assert!(text.contains("must not be `.` or `..`"), "{text}");
            }
        }
        assert_eq!(
            server.take(),
            Vec::<String>::new(),
            "{parameter}: nothing sent"
        );
    }
    c.shutdown(Duration::from_secs(5));
}

#[test]
fn every_other_id_stays_in_its_own_segment() {
    let server = Recorder::start();
    let c = client(&server.url);
    let ids = [
        ("../admin", "..%2Fadmin"),
        ("a/b", "a%2Fb"),
        ("x?limit=1", "x%3Flimit%3D1"),
        ("h#frag", "h%23frag"),
        ("50%2E", "50%252E"),
        ("...", "..."),
        ("user.signed_in", "user.signed_in"),
        ("é ~", "%C3%A9%20~"),
    ];
    for (parameter, call, path) in calls() {
        for (id, encoded) in ids {
            let e = call(&c, id).expect_err("the recorder answers 404");
            assert_eq!(e.status, Some(404), "{parameter} {id:?}: {e}");
            assert_eq!(server.take(), vec![path(encoded)], "{parameter} {id:?}");
        }
    }
    c.shutdown(Duration::from_secs(5));
}
