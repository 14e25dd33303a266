//! Blocking HTTP for the management calls: one keep-alive `ureq` agent (rustls, verified
//! certificates).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use ureq::http::header::{
    HeaderName, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT,
};
use ureq::http::{HeaderMap, HeaderValue, Method, Uri};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::api_error::{ApiError, ErrorKind};
use super::config::Config;
use super::retry::parse_retry_after;

// Header names are typed constants, never strings: parsing a string name runs `http`'s
// lookup table over a partly uninitialised buffer, which valgrind reports in release builds.

/// `Idempotency-Key`.
pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// `X-Request-ID`, the server's id of a response.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// `application/json`, for `Accept` and `Content-Type`.
pub(crate) const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Largest response body read; API responses are small.
pub(crate) const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// A response of any status.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
}

impl Reply {
    /// A reply from its status, headers (request id, `Retry-After`) and body.
    pub(crate) fn new(status: u16, headers: &HeaderMap, body: Vec<u8>) -> Self {
        Reply {
            status,
            body,
            request_id: header(headers, &X_REQUEST_ID).map(str::to_owned),
            retry_after: header(headers, &RETRY_AFTER)
                .and_then(|v| parse_retry_after(v, SystemTime::now())),
        }
    }

    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The typed error for a non-2xx reply.
    pub(crate) fn into_error(self) -> ApiError {
        ApiError::from_response(self.status, &self.body, self.request_id, self.retry_after)
    }
}

/// One keep-alive HTTP client with the API's headers.
pub(crate) struct Transport {
    agent: ureq::Agent,
    /// Built once: `Bearer <key>`, marked sensitive.
    auth: HeaderValue,
    base_url: String,
    user_agent: HeaderValue,
}

/// `Authorization: Bearer <key>`, marked sensitive so it never shows in `Debug`.
pub(crate) fn auth_header(config: &Config) -> HeaderValue {
    // The key was checked as printable ASCII by the configuration.
    let mut v = HeaderValue::from_str(&format!("Bearer {}", config.api_key.expose()))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
    v.set_sensitive(true);
    v
}

/// The `User-Agent` value (checked as printable ASCII by the configuration).
pub(crate) fn user_agent_header(config: &Config) -> HeaderValue {
    HeaderValue::from_str(&config.user_agent)
        .unwrap_or_else(|_| HeaderValue::from_static("auditwire"))
}

impl Transport {
    /// A transport for management calls.
    pub(crate) fn new(config: &Config) -> Self {
        let agent_config = ureq::Agent::config_builder()
            // Statuses are data here: the retry logic reads every one.
            .http_status_as_error(false)
            // Per-phase timeouts rather than one deadline per request: a constant socket
            // timeout is set once per connection, not with a system call on every request.
            .timeout_connect(Some(config.timeout))
            .timeout_per_read(Some(config.timeout))
            .timeout_per_write(Some(config.timeout))
            .max_redirects(0)
            .max_idle_connections(4)
            .max_idle_connections_per_host(4);
        let agent_config = match &config.ca_certs {
            Some(ca) => agent_config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(ca.0.clone()))
                    .build(),
            ),
            None => agent_config,
        }
        .build();
        Transport {
            agent: ureq::Agent::with_parts(
                agent_config,
                DefaultConnector::new(),
                CachingResolver::default(),
            ),
            auth: auth_header(config),
            user_agent: user_agent_header(config),
            base_url: config.base_url.clone(),
        }
    }

    /// Sends one request; `Err` only when no HTTP response came back.
    pub(crate) fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        idempotency_key: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let uri = format!("{}{}", self.base_url, path)
            .parse::<Uri>()
            .map_err(|e| ApiError::transport(ErrorKind::Connection, e.to_string()))?;
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(uri)
            .header(AUTHORIZATION, self.auth.clone())
            .header(USER_AGENT, self.user_agent.clone())
            .header(ACCEPT, APPLICATION_JSON);
        if body.is_some() {
            req = req.header(CONTENT_TYPE, APPLICATION_JSON);
        }
        if let Some(key) = idempotency_key {
            req = req.header(IDEMPOTENCY_KEY, key);
        }
        let result = match body {
            Some(b) => req
                .body(b)
                .map_err(|e| ApiError::transport(ErrorKind::Connection, e.to_string()))
                .and_then(|r| self.agent.run(r).map_err(transport_error)),
            None => req
                .body(())
                .map_err(|e| ApiError::transport(ErrorKind::Connection, e.to_string()))
                .and_then(|r| self.agent.run(r).map_err(transport_error)),
        };
        let mut resp = result?;
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES as u64)
            .read_to_vec()
            .map_err(transport_error)?;
        Ok(Reply::new(resp.status().as_u16(), resp.headers(), body))
    }
}

/// How long a resolved host name is reused.
pub(crate) const RESOLVE_TTL: Duration = Duration::from_secs(30);

/// Resolves IP literals without a lookup and caches names briefly.
///
/// ureq resolves before every request, even one that reuses a pooled connection, and with a
/// timeout set it does so on a new thread each time; this keeps that off the hot path.
#[derive(Debug, Default)]
struct CachingResolver {
    inner: DefaultResolver,
    cache: Mutex<Option<(String, Instant, Vec<SocketAddr>)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("http") => 80,
            _ => 443,
        });
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            let mut out = self.empty();
            out.push(SocketAddr::new(ip, port));
            return Ok(out);
        }
        let key = format!("{host}:{port}");
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((k, at, addrs)) = cache.as_ref() {
            if *k == key && at.elapsed() < RESOLVE_TTL && !addrs.is_empty() {
                let mut out = self.empty();
                addrs.iter().for_each(|a| out.push(*a));
                return Ok(out);
            }
        }
        let resolved = self.inner.resolve(uri, config, timeout)?;
        *cache = Some((key, Instant::now(), resolved.iter().copied().collect()));
        Ok(resolved)
    }
}

/// A header's value.
fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Classifies a `ureq` failure; the message never includes request headers.
fn transport_error(e: ureq::Error) -> ApiError {
    let kind = match &e {
        ureq::Error::Timeout(_) => ErrorKind::Timeout,
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
        _ => ErrorKind::Connection,
    };
    ApiError::transport(kind, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// Answers one connection's requests with canned responses; returns the raw requests.
    fn responder(responses: Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let t = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut out = stream;
            let mut seen = Vec::new();
            for resp in responses {
                let mut head = String::new();
                let mut len = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                seen.push(head + &String::from_utf8(body).unwrap());
                out.write_all(resp.as_bytes()).unwrap();
            }
            seen
        });
        (url, t)
    }

    fn config(url: &str) -> Config {
        Config::builder()
            .api_key("sk_test_transport")
            .base_url(url)
            .user_agent_suffix("tests/1")
            .timeout(Duration::from_secs(10))
            .ignore_env(true)
            .build()
            .unwrap()
    }

    #[test]
    fn sends_headers_keeps_alive_and_reads_status_ids_and_retry_after() {
        let (url, t) = responder(vec![
            "HTTP/1.1 201 Created\r\nContent-Length: 16\r\nX-REQUEST-ID: req_a\r\n\r\n{\"success\":true}".into(),
            "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\nretry-after: 3\r\nx-request-id: req_b\r\n\r\n{}".into(),
        ]);
        let tr = Transport::new(&config(&url));
        let r = tr
            .send(
                Method::POST,
                "/audit_logs/events",
                Some(b"{\"a\":1}"),
                Some("key-1"),
            )
            .unwrap();
        assert!(r.is_success());
        assert_eq!((r.status, r.request_id.as_deref()), (201, Some("req_a")));
        let r = tr
            .send(Method::GET, "/audit_logs/actions", None, None)
            .unwrap();
        assert_eq!(r.status, 429);
        assert_eq!(r.retry_after, Some(Duration::from_secs(3)));
        let e = r.into_error();
        assert_eq!(
            (e.kind, e.request_id.as_deref()),
            (ErrorKind::RateLimitExceeded, Some("req_b"))
        );
        // Both requests came over one connection (the responder accepts only one).
        let seen = t.join().unwrap();
        let first = seen[0].to_ascii_lowercase();
        assert!(
            first.starts_with("post /audit_logs/events http/1.1"),
            "{first}"
        );
        assert!(first.contains("authorization: bearer sk_test_transport"));
        assert!(first.contains("idempotency-key: key-1"));
        assert!(first.contains("content-type: application/json"));
        assert!(first.contains(&format!(
            "user-agent: auditwire/{} tests/1",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(first.ends_with("{\"a\":1}"));
        assert!(!seen[1].to_ascii_lowercase().contains("idempotency-key"));
    }

    #[test]
    fn connection_failures_and_timeouts_are_typed_without_the_key() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let tr = Transport::new(&config(&url));
        let e = tr.send(Method::GET, "/x", None, None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Connection);
        assert!(!e.to_string().contains("sk_test"));
        // A server that accepts and never answers: the request timeout applies.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let cfg = Config::builder()
            .api_key("sk_test_transport")
            .base_url(&url)
            .timeout(Duration::from_millis(200))
            .ignore_env(true)
            .build()
            .unwrap();
        let t0 = std::time::Instant::now();
        let e = Transport::new(&cfg)
            .send(Method::GET, "/x", None, None)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
        assert!(t0.elapsed() >= Duration::from_millis(200));
        assert!(t0.elapsed() < Duration::from_secs(10));
        drop(listener);
    }
}
