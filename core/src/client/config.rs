//! Client configuration: a builder, environment fallbacks and validation.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::errors::ConfigError;
use super::outcome::OutcomeReport;
use super::retry::Backoff;
pub use super::spool::Durability;

/// The API host used when neither the builder nor `WORKOS_BASE_URL` names one.
pub const DEFAULT_BASE_URL: &str = "https://api.workos.com";
/// Environment variable holding the API key.
pub const ENV_API_KEY: &str = "WORKOS_API_KEY";
/// Environment variable holding the base URL.
pub const ENV_BASE_URL: &str = "WORKOS_BASE_URL";
/// Environment variable holding the request timeout in seconds.
pub const ENV_REQUEST_TIMEOUT: &str = "WORKOS_REQUEST_TIMEOUT";

/// What `emit` does when the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Refuse the event at once with `EmitError::QueueFull` (the default without a spool).
    Reject,
    /// Wait up to this long for room, then refuse with `EmitError::QueueFull`.
    Block(Duration),
    /// Leave the event on the disk spool when memory is full (the default with `spool_dir`;
    /// needs one). The spool is bounded by `spool_max_bytes` (`EmitError::SpoolFull`).
    Spill,
}

/// Where v1 (`LegacyEvent`) events are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LegacyEndpoint {
    /// Translate to the current API and send to `POST /audit_logs/events` (the default).
    #[default]
    Current,
    /// Send the flat v1 body unchanged to `POST /events`.
    V1,
}

/// The callback told of every event's final outcome, on a worker thread.
pub type OutcomeCallback = Arc<dyn Fn(&OutcomeReport<'_>) + Send + Sync>;

/// The API key, kept out of `Debug` and `Display`.
#[derive(Clone)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// A validated client configuration. Build it with [`Config::builder`] or [`Config::from_env`].
#[derive(Clone)]
pub struct Config {
    pub(crate) api_key: ApiKey,
    pub(crate) base_url: String,
    pub(crate) timeout: Duration,
    pub(crate) max_retries: Option<u32>,
    pub(crate) retry_window: Duration,
    pub(crate) backoff: Backoff,
    pub(crate) retry_after_cap: Duration,
    pub(crate) workers: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) queue_max_bytes: usize,
    pub(crate) overflow: Overflow,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) on_outcome: Option<OutcomeCallback>,
    pub(crate) legacy_endpoint: LegacyEndpoint,
    pub(crate) spool_dir: Option<std::path::PathBuf>,
    pub(crate) spool_max_bytes: u64,
    pub(crate) durability: Durability,
    /// Roots that replace the built-in (Mozilla) set when given.
    pub(crate) ca_certs: Option<CaCerts>,
}

/// Trusted root certificates from the caller's PEM, in DER.
#[derive(Clone)]
pub(crate) struct CaCerts(pub(crate) Arc<Vec<ureq::tls::Certificate<'static>>>);

impl CaCerts {
    /// Every certificate in `pem`; an error when there is none or one is malformed.
    fn from_pem(pem: &[u8], source: &str) -> Result<Self, ConfigError> {
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => {
                    return Err(invalid(
                        "ca_certificates",
                        format!("{source}: not valid PEM ({e})"),
                    ))
                }
            }
        }
        if certs.is_empty() {
            return Err(invalid(
                "ca_certificates",
                format!("{source}: no PEM certificate (-----BEGIN CERTIFICATE-----) found"),
            ));
        }
        Ok(CaCerts(Arc::new(certs)))
    }
}

impl fmt::Debug for CaCerts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} certificate(s)", self.0.len())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key)
            .field("base_url", &redact_url(&self.base_url))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_window", &self.retry_window)
            .field("backoff", &self.backoff)
            .field("retry_after_cap", &self.retry_after_cap)
            .field("workers", &self.workers)
            .field("queue_capacity", &self.queue_capacity)
            .field("queue_max_bytes", &self.queue_max_bytes)
            .field("overflow", &self.overflow)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("user_agent", &self.user_agent)
            .field(
                "on_outcome",
                &self.on_outcome.as_ref().map(|_| "<callback>"),
            )
            .field("legacy_endpoint", &self.legacy_endpoint)
            .field("spool_dir", &self.spool_dir)
            .field("spool_max_bytes", &self.spool_max_bytes)
            .field("durability", &self.durability)
            .field("ca_certificates", &self.ca_certs)
            .finish()
    }
}

impl Config {
    /// A builder with every default; unset key, URL and timeout come from the environment.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The configuration from `WORKOS_API_KEY`, `WORKOS_BASE_URL` and `WORKOS_REQUEST_TIMEOUT`.
    pub fn from_env() -> Result<Config, ConfigError> {
        ConfigBuilder::default().build()
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The number of delivery workers: requests in flight at once, each on its own connection.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The queue bounds: events and bytes.
    pub fn queue_limits(&self) -> (usize, usize) {
        (self.queue_capacity, self.queue_max_bytes)
    }

    /// The overflow policy.
    pub fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// How long `Drop` waits for delivery before giving up on the rest.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    /// The full `User-Agent` header sent.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The disk spool's directory, if there is one.
    pub fn spool_dir(&self) -> Option<&std::path::Path> {
        self.spool_dir.as_deref()
    }

    /// The disk spool's bound in bytes.
    pub fn spool_max_bytes(&self) -> u64 {
        self.spool_max_bytes
    }

    /// How much of a spool commit survives.
    pub fn durability(&self) -> Durability {
        self.durability
    }
}

/// Builds a [`Config`]; every setter is optional.
#[derive(Clone, Default)]
pub struct ConfigBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    max_retries: Option<u32>,
    retry_window: Option<Duration>,
    backoff: Option<Backoff>,
    retry_after_cap: Option<Duration>,
    workers: Option<usize>,
    queue_capacity: Option<usize>,
    queue_max_bytes: Option<usize>,
    overflow: Option<Overflow>,
    spool_dir: Option<std::path::PathBuf>,
    spool_max_bytes: Option<u64>,
    durability: Durability,
    shutdown_timeout: Option<Duration>,
    user_agent_suffix: Option<String>,
    on_outcome: Option<OutcomeCallback>,
    legacy_endpoint: LegacyEndpoint,
    allow_insecure_http: bool,
    ignore_env: bool,
    ca: Option<CaSource>,
}

/// Where the caller's trusted roots come from.
#[derive(Clone, Debug)]
enum CaSource {
    File(std::path::PathBuf),
    Pem(Vec<u8>),
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("workers", &self.workers)
            .field("overflow", &self.overflow)
            .finish_non_exhaustive()
    }
}

/// Default number of delivery workers.
pub const DEFAULT_WORKERS: usize = 4;
/// Default queue bound in events.
pub const DEFAULT_QUEUE_CAPACITY: usize = 10_000;
/// Default queue bound in bytes (64 MiB).
pub const DEFAULT_QUEUE_MAX_BYTES: usize = 64 << 20;
/// Default per-request timeout, as in the official SDKs.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time an event may be retried after it was accepted (no spool).
pub const DEFAULT_RETRY_WINDOW: Duration = Duration::from_secs(600);
/// Default cap on a `Retry-After` floor.
pub const DEFAULT_RETRY_AFTER_CAP: Duration = Duration::from_secs(60);
/// Default disk spool bound (1 GiB).
pub const DEFAULT_SPOOL_MAX_BYTES: u64 = 1 << 30;
/// Default retry window with a spool: the API's 24 h idempotency window.
pub const DEFAULT_SPOOL_RETRY_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Default time `Drop` waits for delivery.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_WORKERS: usize = 1024;

impl ConfigBuilder {
    /// The API key (else `WORKOS_API_KEY`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The base URL (else `WORKOS_BASE_URL`, else `https://api.workos.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The request timeout: the longest wait to connect or for any read or write of a
    /// request (else `WORKOS_REQUEST_TIMEOUT` seconds, else 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Caps the retries per event, as in the official SDKs (default: none within the window).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// How long an event may still be retried (default 10 minutes after acceptance; with a
    /// spool 24 h, counted from when this process took the event, and an event whose budget
    /// runs out moves to the spool's dead letters instead of being dropped).
    pub fn retry_window(mut self, window: Duration) -> Self {
        self.retry_window = Some(window);
        self
    }

    /// Exponential backoff with full jitter (default base 500 ms, factor 2, cap 30 s).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// The most a `Retry-After` header may make a retry wait (default 60 s).
    pub fn retry_after_cap(mut self, cap: Duration) -> Self {
        self.retry_after_cap = Some(cap);
        self
    }

    /// Delivery workers: requests in flight at once, each on its own keep-alive connection
    /// (default 4).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Queue bound in events (default 10,000).
    pub fn queue_capacity(mut self, events: usize) -> Self {
        self.queue_capacity = Some(events);
        self
    }

    /// Queue bound in body bytes (default 64 MiB).
    pub fn queue_max_bytes(mut self, bytes: usize) -> Self {
        self.queue_max_bytes = Some(bytes);
        self
    }

    /// What `emit` does when the queue is full (default `Reject`; `Spill` with a spool).
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = Some(overflow);
        self
    }

    /// A directory for the disk spool: `emit` returns once the event is committed there, and
    /// a later run adopts what a dead one left.
    pub fn spool_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// The disk spool's bound in body bytes, pending and dead letters together (default 1 GiB).
    pub fn spool_max_bytes(mut self, bytes: u64) -> Self {
        self.spool_max_bytes = Some(bytes);
        self
    }

    /// `Durability::PowerLoss` adds an fsync per (group) commit (default `Process`).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// How long `Drop` waits for delivery (default 5 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Appended to `User-Agent: auditwire/<version>`.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Called once per event with its final outcome, on a worker thread.
    pub fn on_outcome(mut self, f: impl Fn(&OutcomeReport<'_>) + Send + Sync + 'static) -> Self {
        self.on_outcome = Some(Arc::new(f));
        self
    }

    /// Where v1 events go (default: translated, to the current endpoint).
    pub fn legacy_endpoint(mut self, endpoint: LegacyEndpoint) -> Self {
        self.legacy_endpoint = endpoint;
        self
    }

    /// Allows plain `http://` to hosts other than loopback (never do this in production).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Trusts only the CA certificates in this PEM file (a private or self-signed server).
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.ca = Some(CaSource::File(path.into()));
        self
    }

    /// Trusts only the CA certificates in this PEM text (a private or self-signed server).
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca = Some(CaSource::Pem(pem.into()));
        self
    }

    /// Ignores `WORKOS_*` environment variables (for tests and embedding).
    pub fn ignore_env(mut self, ignore: bool) -> Self {
        self.ignore_env = ignore;
        self
    }

    /// Validates the settings, filling gaps from the environment.
    pub fn build(self) -> Result<Config, ConfigError> {
        let ignore = self.ignore_env;
        self.build_with(|name| {
            if ignore {
                None
            } else {
                std::env::var(name).ok()
            }
        })
    }

    /// Validates with a custom environment lookup.
    pub(crate) fn build_with(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let api_key = match self.api_key.or_else(|| env(ENV_API_KEY)) {
            Some(k) if !k.trim().is_empty() => k,
            _ => return Err(ConfigError::MissingApiKey),
        };
        if api_key.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
            return Err(ConfigError::Invalid {
                field: "api_key",
                message: "must be printable ASCII without spaces".into(),
            });
        }
        let raw_url = self
            .base_url
            .or_else(|| env(ENV_BASE_URL).filter(|u| !u.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = check_base_url(raw_url.trim(), self.allow_insecure_http)?;
        let timeout = match self.timeout {
            Some(t) => t,
            None => match env(ENV_REQUEST_TIMEOUT).filter(|v| !v.trim().is_empty()) {
                Some(v) => parse_timeout_secs(&v)?,
                None => DEFAULT_TIMEOUT,
            },
        };
        if timeout.is_zero() {
            return Err(invalid("timeout", "must be greater than zero"));
        }
        let workers = self.workers.unwrap_or(DEFAULT_WORKERS);
        if workers == 0 || workers > MAX_WORKERS {
            return Err(invalid(
                "workers",
                format!("must be between 1 and {MAX_WORKERS} (found {workers})"),
            ));
        }
        let queue_capacity = self.queue_capacity.unwrap_or(DEFAULT_QUEUE_CAPACITY);
        if queue_capacity == 0 {
            return Err(invalid("queue_capacity", "must be at least 1 event"));
        }
        let queue_max_bytes = self.queue_max_bytes.unwrap_or(DEFAULT_QUEUE_MAX_BYTES);
        if queue_max_bytes < 1024 {
            return Err(invalid("queue_max_bytes", "must be at least 1024 bytes"));
        }
        let spool_dir = self.spool_dir.filter(|d| !d.as_os_str().is_empty());
        let spool_max_bytes = self.spool_max_bytes.unwrap_or(DEFAULT_SPOOL_MAX_BYTES);
        if spool_max_bytes < 1024 {
            return Err(invalid("spool_max_bytes", "must be at least 1024 bytes"));
        }
        let overflow = self.overflow.unwrap_or(if spool_dir.is_some() {
            Overflow::Spill
        } else {
            Overflow::Reject
        });
        if overflow == Overflow::Spill && spool_dir.is_none() {
            return Err(invalid(
                "overflow",
                "`spill` needs a disk spool (spool_dir)",
            ));
        }
        if let Some(dir) = &spool_dir {
            if dir.exists() && !dir.is_dir() {
                return Err(invalid(
                    "spool_dir",
                    format!("{} is not a directory", dir.display()),
                ));
            }
        }
        let default_window = if spool_dir.is_some() {
            DEFAULT_SPOOL_RETRY_WINDOW
        } else {
            DEFAULT_RETRY_WINDOW
        };
        let backoff = self.backoff.unwrap_or_default();
        backoff.check()?;
        let ca_certs = match self.ca {
            None => None,
            Some(CaSource::Pem(pem)) => Some(CaCerts::from_pem(&pem, "PEM")?),
            Some(CaSource::File(path)) => {
                let shown = path.display().to_string();
                let pem = std::fs::read(&path)
                    .map_err(|e| invalid("ca_certificates", format!("cannot read {shown}: {e}")))?;
                Some(CaCerts::from_pem(&pem, &shown)?)
            }
        };
        let mut user_agent = format!("auditwire/{}", env!("CARGO_PKG_VERSION"));
        if let Some(suffix) = self.user_agent_suffix.filter(|s| !s.trim().is_empty()) {
            if suffix.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
                return Err(invalid("user_agent", "suffix must be printable ASCII"));
            }
            user_agent.push(' ');
            user_agent.push_str(suffix.trim());
        }
        Ok(Config {
            api_key: ApiKey(api_key),
            base_url,
            timeout,
            max_retries: self.max_retries,
            retry_window: self.retry_window.unwrap_or(default_window),
            backoff,
            retry_after_cap: self.retry_after_cap.unwrap_or(DEFAULT_RETRY_AFTER_CAP),
            workers,
            queue_capacity,
            queue_max_bytes,
            overflow,
            shutdown_timeout: self.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
            user_agent,
            on_outcome: self.on_outcome,
            legacy_endpoint: self.legacy_endpoint,
            spool_dir,
            spool_max_bytes,
            ca_certs,
            durability: self.durability,
        })
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        message: message.into(),
    }
}

fn parse_timeout_secs(v: &str) -> Result<Duration, ConfigError> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            invalid(
                "timeout",
                format!("{ENV_REQUEST_TIMEOUT} must be a positive number of seconds (found {v:?})"),
            )
        })
}

/// Checks scheme and host; returns the URL without a trailing slash.
fn check_base_url(url: &str, allow_insecure: bool) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError::InvalidBaseUrl {
        url: redact_url(url).into_owned(),
        reason: why.to_owned(),
    };
    let uri: ureq::http::Uri = url.parse().map_err(|_| bad("not a valid absolute URL"))?;
    let scheme = uri
        .scheme_str()
        .ok_or_else(|| bad("the scheme is missing"))?;
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("the host is missing"))?;
    if uri.query().is_some() || url.contains('#') {
        return Err(bad("a base URL takes no query or fragment"));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(bad(
            "credentials in the URL are not allowed; use the API key",
        ));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if allow_insecure || is_loopback(host) => {}
        "http" => {
            return Err(bad(
                "plain http:// is only allowed to loopback hosts (127.0.0.1, ::1, localhost); \
                 use https:// or allow insecure http explicitly",
            ))
        }
        _ => return Err(bad("the scheme must be https:// (or http:// to loopback)")),
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `url` with anything that may be credentials (`user:password@`) replaced by `***`.
///
/// Everything between the scheme and the last `@` goes, so a password that itself holds
/// `@`, `/` or `#` never shows (a path holding `@` is over-redacted, which is harmless).
pub(crate) fn redact_url(url: &str) -> Cow<'_, str> {
    let is_scheme = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    };
    let start = match url.find("://") {
        Some(i) if is_scheme(&url[..i]) => i + 3,
        _ => 0,
    };
    match url[start..].rfind('@') {
        Some(at) => Cow::Owned(format!("{}***{}", &url[..start], &url[start + at..])),
        None => Cow::Borrowed(url),
    }
}

/// True for `localhost` and loopback IP addresses.
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_none(_: &str) -> Option<String> {
        None
    }

    fn base() -> ConfigBuilder {
        Config::builder().api_key("sk_test_secret")
    }

    #[test]
    fn defaults_and_env_fallbacks() {
        let c = base().build_with(env_none).unwrap();
        assert_eq!(c.base_url, "https://api.workos.com");
        assert_eq!(c.timeout, Duration::from_secs(60));
        assert_eq!(c.workers, 4);
        assert_eq!((c.queue_capacity, c.queue_max_bytes), (10_000, 64 << 20));
        assert_eq!(c.overflow, Overflow::Reject);
        assert_eq!(c.retry_window, Duration::from_secs(600));
        assert!(c.user_agent.starts_with("auditwire/"));
        let env = |n: &str| match n {
            ENV_API_KEY => Some("sk_env".to_owned()),
            ENV_BASE_URL => Some("http://127.0.0.1:8080/".to_owned()),
            ENV_REQUEST_TIMEOUT => Some("2.5".to_owned()),
            _ => None,
        };
        let c = Config::builder().build_with(env).unwrap();
        assert_eq!(c.api_key.expose(), "sk_env");
        assert_eq!(c.base_url, "http://127.0.0.1:8080");
        assert_eq!(c.timeout, Duration::from_millis(2500));
        // Builder values win over the environment.
        let c = base().base_url("https://x.test").build_with(env).unwrap();
        assert_eq!(c.base_url, "https://x.test");
    }

    #[test]
    fn configuration_errors_are_clear() {
        let e = Config::builder().build_with(env_none).unwrap_err();
        assert!(e.to_string().contains("WORKOS_API_KEY"), "{e}");
        for (url, needle) in [
            ("not a url", "not a valid"),
            ("http://example.com", "loopback"),
            ("ftp://example.com", "scheme"),
            ("https://user:pw@example.com", "credentials"),
            ("https://example.com/?a=b", "query"),
        ] {
            let e = base().base_url(url).build_with(env_none).unwrap_err();
            assert!(e.to_string().contains(needle), "{url}: {e}");
        }
        for url in [
            "http://127.0.0.1:1",
            "http://localhost:9",
            "http://[::1]:80/x",
        ] {
            assert!(base().base_url(url).build_with(env_none).is_ok(), "{url}");
        }
        assert!(base()
            .base_url("http://example.com")
            .allow_insecure_http(true)
            .build_with(env_none)
            .is_ok());
        let env = |n: &str| (n == ENV_REQUEST_TIMEOUT).then(|| "soon".to_owned());
        let e = base().build_with(env).unwrap_err();
        assert!(e.to_string().contains("WORKOS_REQUEST_TIMEOUT"), "{e}");
        assert!(base().workers(0).build_with(env_none).is_err());
        assert!(base()
            .overflow(Overflow::Spill)
            .build_with(env_none)
            .is_err());
        let c = base().spool_dir("/tmp/x").build_with(env_none).unwrap();
        assert_eq!(c.overflow, Overflow::Spill);
        assert_eq!(c.retry_window, DEFAULT_SPOOL_RETRY_WINDOW);
        assert!(base()
            .spool_dir("/tmp/x")
            .spool_max_bytes(10)
            .build_with(env_none)
            .is_err());
    }

    #[test]
    fn credentials_in_base_url_never_show() {
        for url in [
            "https://user:pw_SECRET@api.example.com",
            "https://user:pw_SECRET@api.example.com/?a=b",
            "http://user:pw_SECRET@example.com",
            "https://user:pw_SECRET@@host",
            "https://user:pw/SECRET#x@host",
            "https://user:pw SECRET@host",
            "ftp://pw_SECRET@host",
            "pw_SECRET@host",
            "user:pw_SECRET@host",
        ] {
            let e = base().base_url(url).build_with(env_none).unwrap_err();
            let text = format!("{e} {e:?} {:?}", base().base_url(url));
            assert!(!text.contains("SECRET"), "{url}: {text}");
            assert!(text.contains("***@"), "{url}: {text}");
            let env = |n: &str| (n == ENV_BASE_URL).then(|| url.to_owned());
            let e = base().build_with(env).unwrap_err();
            assert!(!format!("{e} {e:?}").contains("SECRET"), "{url}: {e}");
        }
        let e = base()
            .base_url("https://user:secret@api.example.com")
            .build_with(env_none)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "base_url \"https://***@api.example.com\" cannot be used: \
             credentials in the URL are not allowed; use the API key"
        );
        assert_eq!(
            redact_url("https://api.workos.com"),
            "https://api.workos.com"
        );
        assert_eq!(redact_url("not a url"), "not a url");
        let c = base()
            .base_url("https://h.test/p")
            .build_with(env_none)
            .unwrap();
        assert!(format!("{c:?}").contains("\"https://h.test/p\""));
    }

    #[test]
    fn key_never_shows() {
        let c = base().build_with(env_none).unwrap();
        let text = format!("{c:?} {:?}", base());
        assert!(!text.contains("sk_test_secret"), "{text}");
        let e = base()
            .base_url("http://example.com")
            .build_with(env_none)
            .unwrap_err();
        assert!(!format!("{e} {e:?}").contains("sk_test_secret"));
    }
}
