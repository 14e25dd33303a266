//! Command-line options of `auditwire serve`.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Options of `auditwire serve`; `Debug` never shows the API key.
#[derive(clap::Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the first stdout line names it).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: SocketAddr,
    /// SQLite database file, created readable by its owner only (default: in memory, gone at
    /// exit).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Accept only this API key (default: any non-empty key). Other local users can read it in
    /// the process list: prefer --api-key-file or the AUDITWIRE_SERVE_API_KEY environment
    /// variable. With a key set, `/__stats` and `/__reset` require it too.
    #[arg(long, conflicts_with = "api_key_file")]
    pub api_key: Option<String>,
    /// Read the only accepted API key from this file (one line; surrounding whitespace and
    /// the trailing newline are ignored). Without --api-key or --api-key-file, AUDITWIRE_SERVE_API_KEY is used if set.
    #[arg(long, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,
    /// Comma-separated organizations that exist; others get 404 (default: every one exists).
    #[arg(long, value_delimiter = ',')]
    pub orgs: Vec<String>,
    /// Enable `GET /__stats` and `POST /__reset` (for tests).
    #[arg(long)]
    pub test_endpoints: bool,
    /// Fraction of API requests answered with an injected fault, from 0 to 1.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub fail_rate: f64,
    /// Faults to inject, drawn uniformly: HTTP statuses (400-599), `reset`, `timeout`.
    #[arg(long, value_delimiter = ',', value_parser = parse_fault, default_value = "500")]
    pub fail_with: Vec<FaultKind>,
    /// `Retry-After` seconds sent with injected 429 and 503 responses.
    #[arg(long, default_value_t = 1)]
    pub retry_after: u64,
    /// Delay added to every request, in milliseconds.
    #[arg(long, alias = "latency", default_value_t = 0)]
    pub latency_ms: u64,
    /// Seed of the fault generator, for repeatable runs (default: random).
    #[arg(long)]
    pub seed: Option<u64>,
    /// How long a `timeout` fault holds a request before answering 504, in milliseconds.
    #[arg(long, default_value_t = 65_000)]
    pub hold_ms: u64,
    /// Delay before a new export is built, so clients can see `pending`, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub export_delay_ms: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, default_value_t = auditwire::ParseLimits::default().max_bytes)]
    pub max_body_bytes: usize,
}

impl fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeArgs")
            .field("addr", &self.addr)
            .field("db", &self.db)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("api_key_file", &self.api_key_file)
            .field("orgs", &self.orgs)
            .field("test_endpoints", &self.test_endpoints)
            .field("fail_rate", &self.fail_rate)
            .field("fail_with", &self.fail_with)
            .field("retry_after", &self.retry_after)
            .field("latency_ms", &self.latency_ms)
            .field("seed", &self.seed)
            .field("hold_ms", &self.hold_ms)
            .field("export_delay_ms", &self.export_delay_ms)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// The environment variable that holds the API key when no option names one.
pub const API_KEY_ENV: &str = "AUDITWIRE_SERVE_API_KEY";

impl ServeArgs {
    /// The only accepted API key: `--api-key`, else `--api-key-file`, else
    /// `AUDITWIRE_SERVE_API_KEY`; `None` accepts any key. Errors name the source, never the key.
    pub fn resolve_api_key(&self) -> Result<Option<String>, String> {
        let env = std::env::var_os(API_KEY_ENV);
        resolve_key(
            self.api_key.as_deref(),
            self.api_key_file.as_deref(),
            env.as_deref(),
        )
    }
}

fn resolve_key(
    arg: Option<&str>,
    file: Option<&std::path::Path>,
    env: Option<&std::ffi::OsStr>,
) -> Result<Option<String>, String> {
    let (key, source) = if let Some(key) = arg {
        (key.to_owned(), "--api-key".to_owned())
    } else if let Some(path) = file {
        let source = format!("--api-key-file {}", path.display());
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {source}: {e}"))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{source}: the API key file is not UTF-8 text"))?;
        (text.trim().to_owned(), source)
    } else if let Some(value) = env {
        let text = value
            .to_str()
            .ok_or_else(|| format!("{API_KEY_ENV} is not UTF-8 text"))?;
        (text.to_owned(), API_KEY_ENV.to_owned())
    } else {
        return Ok(None);
    };
    if key.trim().is_empty() {
        return Err(format!("{source}: the API key is empty"));
    }
    if key.chars().any(char::is_control) {
        return Err(format!(
            "{source}: the API key must be one line without control characters"
        ));
    }
    Ok(Some(key))
}

/// One kind of injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this HTTP status.
    Status(u16),
    /// Close the connection without a response.
    Reset,
    /// Hold the request longer than a client waits.
    Timeout,
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Status(code) => write!(f, "{code}"),
            FaultKind::Reset => f.write_str("reset"),
            FaultKind::Timeout => f.write_str("timeout"),
        }
    }
}

fn parse_fault(text: &str) -> Result<FaultKind, String> {
    match text.trim() {
        "reset" => Ok(FaultKind::Reset),
        "timeout" => Ok(FaultKind::Timeout),
        other => match other.parse::<u16>() {
            Ok(code) if (400..=599).contains(&code) => Ok(FaultKind::Status(code)),
            _ => Err(format!(
                "`{other}` is not a fault: use an HTTP status from 400 to 599, `reset` or `timeout`"
            )),
        },
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("`{text}` is not a rate: use a number from 0 to 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_and_rates_parse() {
        assert_eq!(parse_fault("503"), Ok(FaultKind::Status(503)));
        assert_eq!(parse_fault("reset"), Ok(FaultKind::Reset));
        assert_eq!(parse_fault(" timeout"), Ok(FaultKind::Timeout));
        assert!(parse_fault("200").is_err());
        assert!(parse_fault("boom").is_err());
        assert_eq!(parse_rate("0.3"), Ok(0.3));
        assert!(parse_rate("1.5").is_err());
        assert!(parse_rate("NaN").is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let cli = <Cli as clap::Parser>::parse_from(["serve", "--api-key", "sk_secret_1"]);
        let text = format!("{:?}", cli.serve);
        assert!(
            !text.contains("sk_secret_1") && text.contains("<redacted>"),
            "{text}"
        );
    }

    #[test]
    fn the_key_comes_from_the_option_the_file_or_the_environment() {
        use std::ffi::OsStr;
        let dir = std::env::temp_dir().join(format!("auditwire-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        std::fs::write(&file, "sk_file\n").unwrap();
        let env = Some(OsStr::new("sk_env"));
        assert_eq!(
            resolve_key(Some("sk_arg"), None, env),
            Ok(Some("sk_arg".into()))
        );
        assert_eq!(
            resolve_key(None, Some(&file), env),
            Ok(Some("sk_file".into()))
        );
        assert_eq!(resolve_key(None, None, env), Ok(Some("sk_env".into())));
        assert_eq!(resolve_key(None, None, None), Ok(None));
        std::fs::write(&file, "\n").unwrap();
        let empty = resolve_key(None, Some(&file), None).unwrap_err();
        assert!(
            empty.contains("--api-key-file") && empty.contains("empty"),
            "{empty}"
        );
        std::fs::write(&file, "sk_a\nsk_b\n").unwrap();
        let two = resolve_key(None, Some(&file), None).unwrap_err();
        assert!(two.contains("one line") && !two.contains("sk_a"), "{two}");
        let missing = resolve_key(None, Some(&dir.join("nope")), None).unwrap_err();
        assert!(missing.contains("cannot read --api-key-file"), "{missing}");
        assert!(resolve_key(None, None, Some(OsStr::new(""))).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
