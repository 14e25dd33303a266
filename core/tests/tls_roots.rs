//! HTTPS against a self-signed loopback server: refused with the built-in roots, delivered
//! once the caller supplies the server's certificate as a CA; plain `http://` to a
//! non-loopback host is refused at configuration time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use auditwire::{
    Actor, Client, Config, ConfigBuilder, ConfigError, Context, CreateEventError, EmitOptions,
    ErrorKind, Event, Outcome, Target, Timestamp,
};

const KEY: &str = "sk_test_tls_recognisable_4242";

/// A TLS server on 127.0.0.1 with a fresh self-signed certificate; answers 201 to every
/// request. Returns its base URL, the certificate's PEM and the count of answered requests.
fn self_signed_server() -> (String, String, Arc<AtomicUsize>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("certificate");
    let cert_pem = ck.cert.pem();
    let cert_der = ck.cert.der().clone();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert_der], key_der)
    .expect("server certificate");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            tcp.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let tls = rustls::StreamOwned::new(conn, tcp);
            let count = count.clone();
            std::thread::spawn(move || serve_connection(tls, &count));
        }
    });
    (url, cert_pem, answered)
}

/// Answers keep-alive requests on one connection until it fails or closes.
fn serve_connection(
    tls: rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>,
    answered: &AtomicUsize,
) {
    let mut reader = BufReader::new(tls);
    loop {
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        answered.fetch_add(1, Ordering::SeqCst);
        let reply = "HTTP/1.1 201 Created\r\nContent-Length: 16\r\nX-Request-ID: req_tls\r\n\r\n{\"success\":true}";
        if reader.get_mut().write_all(reply.as_bytes()).is_err() {
            return;
        }
        let _ = reader.get_mut().flush();
    }
}

fn event() -> Event {
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::now(),
        version: None,
        actor: Actor::new("user_1", "user"),
        targets: vec![Target::new("team_1", "team")],
        context: Context::new("1.1.1.1"),
        metadata: None,
    }
}

fn builder(url: &str) -> ConfigBuilder {
    Config::builder()
        .api_key(KEY)
        .base_url(url)
        .max_retries(0)
        .timeout(Duration::from_secs(10))
        .ignore_env(true)
}

#[test]
fn self_signed_certificate_is_refused_with_the_built_in_roots() {
    let (url, _pem, answered) = self_signed_server();
    let client = Client::new(builder(&url).build().unwrap());
    let err = client
        .create_event("org_1", &event(), EmitOptions::default())
        .unwrap_err();
    let CreateEventError::Expired { last_error, .. } = &err else {
        panic!("expected the event to end expired, got {err:?}");
    };
    assert_eq!(last_error.kind, ErrorKind::Connection, "{last_error}");
    let text = err.to_string().to_ascii_lowercase();
    assert!(
        text.contains("certificate") || text.contains("issuer"),
        "the error names the certificate problem: {text}"
    );
    assert!(!format!("{err} {err:?}").contains(KEY));
    assert_eq!(answered.load(Ordering::SeqCst), 0, "no request got through");
}

#[test]
fn self_signed_certificate_is_trusted_when_its_ca_is_supplied() {
    let (url, pem, answered) = self_signed_server();
    // As PEM text.
    let client = Client::new(builder(&url).ca_pem(pem.clone()).build().unwrap());
    let outcome = client
        .create_event("org_1", &event(), EmitOptions::default())
        .expect("delivered over TLS");
    assert!(
        matches!(outcome, Outcome::Delivered { status: 201, .. }),
        "{outcome:?}"
    );
    // As a file.
    let dir = std::env::temp_dir().join(format!("auditwire-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ca.pem");
    std::fs::write(&file, &pem).unwrap();
    let client = Client::new(builder(&url).ca_file(&file).build().unwrap());
    client
        .create_event("org_1", &event(), EmitOptions::default())
        .expect("delivered with ca_file");
    assert_eq!(answered.load(Ordering::SeqCst), 2);
    let debug = format!("{:?}", client.config());
    assert!(
        debug.contains("1 certificate(s)") && !debug.contains(KEY),
        "{debug}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unusable_ca_settings_are_configuration_errors_naming_the_setting() {
    let missing = builder("https://127.0.0.1:1")
        .ca_file("/nonexistent/auditwire/ca.pem")
        .build()
        .unwrap_err();
    let text = missing.to_string();
    assert!(
        text.starts_with("ca_certificates: cannot read /nonexistent/auditwire/ca.pem"),
        "{text}"
    );
    let garbage = builder("https://127.0.0.1:1")
        .ca_pem("not a certificate")
        .build()
        .unwrap_err();
    assert!(matches!(
        garbage,
        ConfigError::Invalid {
            field: "ca_certificates",
            ..
        }
    ));
    assert!(
        garbage.to_string().contains("no PEM certificate"),
        "{garbage}"
    );
}

#[test]
fn plain_http_to_a_non_loopback_host_is_refused() {
    for url in [
        "http://api.example.com",
        "http://10.0.0.1:8080",
        "http://[2001:db8::1]",
    ] {
        let err = builder(url).build().unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidBaseUrl { .. }),
            "{url}: {err:?}"
        );
        assert!(err.to_string().contains("http"), "{err}");
    }
    for url in ["http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"] {
        builder(url).build().expect(url);
    }
    builder("http://10.0.0.1:8080")
        .allow_insecure_http(true)
        .build()
        .expect("explicitly allowed");
}
