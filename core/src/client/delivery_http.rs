//! The delivery connection: one keep-alive HTTP/1.1 connection (hyper, rustls) driven by a
//! worker thread's event loop, so that waiting for a response costs no thread of its own.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use super::api_error::{ApiError, ErrorKind};
use super::config::Config;
use super::envelope::Envelope;
use super::transport::{
    auth_header, user_agent_header, Reply, APPLICATION_JSON, IDEMPOTENCY_KEY, MAX_RESPONSE_BYTES,
    RESOLVE_TTL,
};

/// What every delivery connection of a client shares: the server's address, TLS settings
/// and the fixed headers.
pub(crate) struct Endpoint {
    host: String,
    port: u16,
    /// `None` for plain `http://`.
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls::pki_types::ServerName<'static>,
    )>,
    /// The base URL's path, without a trailing slash (usually empty).
    prefix: String,
    authority: HeaderValue,
    auth: HeaderValue,
    user_agent: HeaderValue,
}

impl Endpoint {
    /// Reads the base URL, key and trust settings of `config` (already validated).
    pub(crate) fn new(config: &Config) -> Result<Self, ApiError> {
        let bad = |why: String| ApiError::transport(ErrorKind::Connection, why);
        let uri: Uri = config
            .base_url
            .parse()
            .map_err(|e| bad(format!("base_url: {e}")))?;
        let https = uri.scheme_str() == Some("https");
        let host = uri
            .host()
            .ok_or_else(|| bad("base_url has no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_else(|| host.clone());
        let tls = if https {
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| bad(format!("base_url host: {e}")))?;
            Some((tls_connector(config)?, name))
        } else {
            None
        };
        Ok(Endpoint {
            host,
            port,
            tls,
            prefix: uri.path().trim_end_matches('/').to_owned(),
            authority: HeaderValue::from_str(&authority)
                .map_err(|_| bad("base_url host is not a valid header value".into()))?,
            auth: auth_header(config),
            user_agent: user_agent_header(config),
        })
    }
}

/// rustls with the caller's CA certificates, else Mozilla's roots (as ureq uses).
fn tls_connector(config: &Config) -> Result<tokio_rustls::TlsConnector, ApiError> {
    let mut roots = rustls::RootCertStore::empty();
    match &config.ca_certs {
        Some(ca) => {
            for cert in ca.0.iter() {
                roots
                    .add(rustls::pki_types::CertificateDer::from(cert.der().to_vec()))
                    .map_err(|e| {
                        ApiError::transport(ErrorKind::Connection, format!("ca_certificates: {e}"))
                    })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ApiError::transport(ErrorKind::Connection, e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(tls)))
}

/// One lane's connection, opened on first use and again after any failure.
pub(crate) struct Connection {
    endpoint: Arc<Endpoint>,
    timeout: Duration,
    sender: Option<SendRequest<Full<Bytes>>>,
    resolved: Option<(Instant, Vec<SocketAddr>)>,
}

impl Connection {
    pub(crate) fn new(endpoint: Arc<Endpoint>, timeout: Duration) -> Self {
        Connection {
            endpoint,
            timeout,
            sender: None,
            resolved: None,
        }
    }

    /// Posts one event; `Err` only when no HTTP response came back.
    pub(crate) async fn send(&mut self, env: &Envelope) -> Result<Reply, ApiError> {
        let ep = self.endpoint.clone();
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("{}{}", ep.prefix, env.endpoint.path()))
            .body(Full::new(Bytes::copy_from_slice(&env.body)))
            .map_err(|e| ApiError::transport(ErrorKind::Connection, e.to_string()))?;
        let h = req.headers_mut();
        h.reserve(6);
        h.insert(HOST, ep.authority.clone());
        h.insert(AUTHORIZATION, ep.auth.clone());
        h.insert(USER_AGENT, ep.user_agent.clone());
        h.insert(ACCEPT, APPLICATION_JSON);
        h.insert(CONTENT_TYPE, APPLICATION_JSON);
        if let Ok(key) = HeaderValue::from_str(env.key()) {
            h.insert(IDEMPOTENCY_KEY, key);
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        let result = tokio::time::timeout_at(deadline, self.exchange(req)).await;
        let reply = match result {
            Ok(r) => r,
            Err(_) => Err(ApiError::transport(
                ErrorKind::Timeout,
                format!("no response within {:?}", self.timeout),
            )),
        };
        if reply.is_err() {
            // The connection's state is unknown: the next request opens a new one.
            self.sender = None;
        }
        reply
    }

    async fn exchange(&mut self, req: Request<Full<Bytes>>) -> Result<Reply, ApiError> {
        let reusable = match self.sender.as_mut() {
            Some(s) if !s.is_closed() => s.ready().await.is_ok(),
            _ => false,
        };
        if !reusable {
            self.sender = None;
            self.sender = Some(self.connect().await?);
        }
        let Some(sender) = self.sender.as_mut() else {
            return Err(ApiError::transport(ErrorKind::Connection, "not connected"));
        };
        let resp = sender.send_request(req).await.map_err(hyper_error)?;
        let (head, body) = resp.into_parts();
        let body = Limited::new(body, MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| ApiError::transport(ErrorKind::Connection, e.to_string()))?
            .to_bytes()
            .to_vec();
        Ok(Reply::new(head.status.as_u16(), &head.headers, body))
    }

    async fn connect(&mut self) -> Result<SendRequest<Full<Bytes>>, ApiError> {
        let addrs = self.addresses().await?;
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            let why = last.map_or_else(|| "no address".to_owned(), |e| e.to_string());
            ApiError::transport(
                ErrorKind::Connection,
                format!(
                    "cannot connect to {}:{}: {why}",
                    self.endpoint.host, self.endpoint.port
                ),
            )
        })?;
        let _ = tcp.set_nodelay(true);
        match &self.endpoint.tls {
            None => handshake(tcp).await,
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| ApiError::transport(ErrorKind::Connection, format!("TLS: {e}")))?;
                handshake(tls).await
            }
        }
    }

    /// The server's addresses: IP literals as they are, names resolved and kept briefly.
    async fn addresses(&mut self) -> Result<Vec<SocketAddr>, ApiError> {
        let ep = &self.endpoint;
        if let Ok(ip) = ep.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, ep.port)]);
        }
        if let Some((at, addrs)) = &self.resolved {
            if at.elapsed() < RESOLVE_TTL && !addrs.is_empty() {
                return Ok(addrs.clone());
            }
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((ep.host.as_str(), ep.port))
            .await
            .map_err(|e| {
                ApiError::transport(
                    ErrorKind::Connection,
                    format!("cannot resolve {}: {e}", ep.host),
                )
            })?
            .collect();
        self.resolved = Some((Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

/// HTTP/1.1 over `io`; the connection task runs on the worker's event loop.
async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, ApiError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(hyper_error)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Classifies a hyper failure; the message never includes request headers.
fn hyper_error(e: hyper::Error) -> ApiError {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Connection
    };
    let mut message = e.to_string();
    if let Some(source) = std::error::Error::source(&e) {
        message = format!("{message}: {source}");
    }
    ApiError::transport(kind, message)
}
