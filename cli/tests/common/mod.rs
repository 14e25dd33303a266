//! Shared test support: start the real `auditwire serve` binary on a free port and talk to it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How long a server may take to print its `listening on` line.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `auditwire serve` child process; killed and reaped on drop.
pub struct TestServer {
    child: Option<Child>,
    addr: String,
    stderr: Arc<Mutex<String>>,
    /// The key `/__stats` and `/__reset` are sent with.
    control_key: String,
}

impl TestServer {
    /// Runs `auditwire serve --addr 127.0.0.1:0 --test-endpoints <args>` and waits for it to listen.
    pub fn start(args: &[&str]) -> TestServer {
        Self::start_env(args, &[])
    }

    /// Like [`TestServer::start`] with extra environment variables for the server.
    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> TestServer {
        // The test endpoints need the server's key when one is set: --api-key, its file, or
        // AUDITWIRE_SERVE_API_KEY.
        let arg_after = |name: &str| {
            args.iter()
                .position(|a| *a == name)
                .and_then(|i| args.get(i + 1))
                .map(|v| v.to_string())
        };
        let control_key = arg_after("--api-key")
            .or_else(|| {
                arg_after("--api-key-file")
                    .and_then(|path| std::fs::read_to_string(path).ok())
                    .map(|text| text.trim().to_owned())
            })
            .or_else(|| {
                env.iter()
                    .find(|(k, _)| *k == "AUDITWIRE_SERVE_API_KEY")
                    .map(|(_, v)| v.to_string())
            })
            .unwrap_or_else(|| KEY.to_owned());
        let mut child = Command::new(env!("CARGO_BIN_EXE_auditwire"))
            .args(["serve", "--addr", "127.0.0.1:0", "--test-endpoints"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn auditwire serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut err) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                    sink.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push_str(&text);
                }
            });
        }
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines.by_ref() {}
        });
        let mut server = TestServer {
            child: Some(child),
            addr: String::new(),
            stderr,
            control_key,
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => match line.strip_prefix("listening on http://") {
                Some(addr) => server.addr = addr.trim().to_owned(),
                None => server.fail(&format!("unexpected first stdout line {line:?}")),
            },
            Err(_) => server.fail("no `listening on` line"),
        }
        server
    }

    fn fail(&mut self, why: &str) -> ! {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Give the stderr reader a moment to collect the last output.
        thread::sleep(Duration::from_millis(100));
        let stderr = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        panic!("auditwire serve failed to start: {why}\nstderr:\n{stderr}");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `GET /__stats` as JSON.
    pub fn stats(&self) -> serde_json::Value {
        let mut resp = agent()
            .get(format!("{}/__stats", self.base_url()))
            .header("Authorization", format!("Bearer {}", self.control_key))
            .call()
            .expect("GET /__stats");
        assert_eq!(resp.status().as_u16(), 200, "GET /__stats");
        resp.body_mut().read_json().expect("stats JSON")
    }

    /// `POST /__reset`: clears events, keys, exports, schemas, retention and counters.
    pub fn reset(&self) {
        let resp = agent()
            .post(format!("{}/__reset", self.base_url()))
            .header("Authorization", format!("Bearer {}", self.control_key))
            .send_empty()
            .expect("POST /__reset");
        assert_eq!(resp.status().as_u16(), 200, "POST /__reset");
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Kills the server and waits for it to exit.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP agent that returns 4xx/5xx as responses (not errors), with a 10 s overall timeout.
pub fn agent() -> ureq::Agent {
    agent_with_timeout(Duration::from_secs(10))
}

/// Like [`agent`] with a chosen overall timeout.
pub fn agent_with_timeout(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// A response reduced to what tests check.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `X-Request-ID`, if any.
    pub request_id: Option<String>,
    /// Other headers of interest, lower-cased name → value.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON (`Null` when empty or not JSON).
    pub json: serde_json::Value,
    /// The raw body.
    pub text: String,
}

impl Reply {
    /// A header by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request; `body` is sent as JSON when given; `headers` are added as is.
pub fn send(
    method: &str,
    url: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Reply, ureq::Error> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    if let Some(k) = key {
        builder = builder.header("Authorization", format!("Bearer {k}"));
    }
    if body.is_some() {
        builder = builder.header("Content-Type", "application/json");
    }
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let mut resp = match body {
        Some(b) => agent().run(builder.body(b.to_owned()).expect("valid request"))?,
        None => agent().run(builder.body(()).expect("valid request"))?,
    };
    let status = resp.status().as_u16();
    let headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let request_id = headers
        .iter()
        .find(|(k, _)| k == "x-request-id")
        .map(|(_, v)| v.clone());
    let text = resp.body_mut().read_to_string()?;
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    Ok(Reply {
        status,
        request_id,
        headers,
        json,
        text,
    })
}

/// The API key the helpers send.
pub const KEY: &str = "sk_test_auditwire";

/// `GET {base}{path}` with the test key.
pub fn get(server: &TestServer, path: &str) -> Reply {
    send(
        "GET",
        &format!("{}{path}", server.base_url()),
        Some(KEY),
        &[],
        None,
    )
    .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// `POST {base}{path}` with the test key and a JSON body.
pub fn post(server: &TestServer, path: &str, body: &str) -> Reply {
    post_with(server, path, body, &[])
}

/// `POST {base}{path}` with the test key, a JSON body and extra headers.
pub fn post_with(server: &TestServer, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    send(
        "POST",
        &format!("{}{path}", server.base_url()),
        Some(KEY),
        headers,
        Some(body),
    )
    .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

/// `PUT {base}{path}` with the test key and a JSON body.
pub fn put(server: &TestServer, path: &str, body: &str) -> Reply {
    send(
        "PUT",
        &format!("{}{path}", server.base_url()),
        Some(KEY),
        &[],
        Some(body),
    )
    .unwrap_or_else(|e| panic!("PUT {path}: {e}"))
}

/// A valid `POST /audit_logs/events` body for `org` with the given action, actor and target type.
pub fn event_body(
    org: &str,
    action: &str,
    actor: (&str, &str),
    target_type: &str,
    at: &str,
) -> String {
    serde_json::json!({
        "organization_id": org,
        "event": {
            "action": action,
            "occurred_at": at,
            "actor": {"id": actor.0, "type": "user", "name": actor.1},
            "targets": [{"id": format!("{target_type}_1"), "type": target_type}],
            "context": {"location": "123.123.123.123", "user_agent": "tests"},
            "metadata": {"owner": "user_01"}
        }
    })
    .to_string()
}

/// The seed example event of WORKOS-API.md.
pub fn sample_event() -> String {
    event_body(
        "org_01EHWNCE74X7JSDV0X3SZ3KJNY",
        "user.signed_in",
        ("user_01GBNJC3MX9ZZJW1FSTF4C5938", "Jon Smith"),
        "team",
        "2026-02-02T16:35:39.317Z",
    )
}

/// Parses RFC 4180 CSV text into rows of fields.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
