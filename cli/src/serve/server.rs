//! The accept loop: one hyper HTTP/1 connection per socket, so a fault can drop the socket.
//!
//! Every request passes through [`handle`]: counting, latency, fault injection, the router,
//! and an `X-Request-ID` on whatever answer goes back.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tower::ServiceExt;

use super::app::Shared;
use super::args::FaultKind;
use super::errors::json_response;

/// Accepts connections until Ctrl-C or SIGTERM.
pub async fn accept_loop(listener: TcpListener, st: Shared, router: Router) {
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors and the like: wait a moment rather than spin.
                    eprintln!("auditwire serve: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        tokio::spawn(connection(stream, Arc::clone(&st), router.clone()));
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Lets a request end its own connection without an answer.
struct Kill {
    flag: Arc<AtomicBool>,
    notify: Notify,
}

async fn connection(stream: TcpStream, st: Shared, router: Router) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Kill {
        flag: Arc::new(AtomicBool::new(false)),
        notify: Notify::new(),
    });
    let io = ResettableStream {
        inner: stream,
        reset: Arc::clone(&kill.flag),
    };
    let svc_kill = Arc::clone(&kill);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let (st, router, kill) = (Arc::clone(&st), router.clone(), Arc::clone(&svc_kill));
        async move { Ok::<_, Infallible>(handle(req, st, router, kill).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    tokio::select! {
        _ = conn => {}
        () = kill.notify.notified() => {
            // Dropping the connection drops the socket with SO_LINGER 0: an RST, no response.
        }
    }
}

async fn handle(
    req: Request<Incoming>,
    st: Shared,
    router: Router,
    kill: Arc<Kill>,
) -> Response<Body> {
    let path = req.uri().path();
    let control = path == "/__stats" || path == "/__reset";
    let api = !path.starts_with("/__");
    if !control {
        st.stats.request();
    }
    if !st.latency.is_zero() {
        tokio::time::sleep(st.latency).await;
    }
    let fault = if api { st.faults.draw() } else { None };
    let mut resp = match fault {
        None => match router.oneshot(req.map(Body::new)).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        },
        Some(kind) => {
            st.stats.fault(kind);
            match kind {
                FaultKind::Reset => {
                    kill.flag.store(true, Ordering::SeqCst);
                    kill.notify.notify_one();
                    return std::future::pending().await;
                }
                FaultKind::Timeout => {
                    tokio::time::sleep(st.hold).await;
                    fault_response(StatusCode::GATEWAY_TIMEOUT, st.retry_after)
                }
                FaultKind::Status(code) => fault_response(
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    st.retry_after,
                ),
            }
        }
    };
    if !control {
        st.stats.status(resp.status().as_u16());
    }
    // From the per-thread generator: `Uuid::new_v4` would cost a getrandom call each.
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    if let Ok(v) = HeaderValue::from_bytes(id.hyphenated().encode_lower(&mut text).as_bytes()) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// The answer of an injected status fault, shaped like the real API's.
fn fault_response(status: StatusCode, retry_after: u64) -> Response<Body> {
    let body = match status {
        StatusCode::TOO_MANY_REQUESTS => {
            json!({"message": "Too many requests.", "code": "rate_limit_exceeded"})
        }
        s => json!({
            "message": format!("{} (injected fault).", s.canonical_reason().unwrap_or("Error")),
            "code": "injected_fault",
        }),
    };
    let mut resp = json_response(status, &body);
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from(retry_after));
    }
    resp
}

/// A TCP stream that, when its connection is killed, closes with an RST instead of a FIN.
struct ResettableStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
