//! Accepting connections and serving HTTP/1.1 on each (hyper), with a watchdog per
//! connection that closes it when it idles or dribbles its request head past the timeouts,
//! and a graceful shutdown that stops accepting, lets requests in flight finish and closes
//! idle connections. (axum's `serve` offers no timeouts, hence this loop.)
//!
//! HTTP/1.1 only: every client of this API speaks it, and a TLS proxy in front may speak
//! HTTP/2 to browsers; that keeps the connection rules simple and the attack surface small.

pub mod activity;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::config::HttpTimeouts;
use activity::{Activity, TrackedBody, TrackedIo};

/// Serves `app` on `listener` until `shutdown` completes, then waits for the connections
/// to finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: HttpTimeouts,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // The watchdog keeps the time; hyper's own header timer would also close kept-alive
    // connections after the header timeout instead of the idle one.
    http.header_read_timeout(None);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        spawn_connection(&http, &graceful, stream, peer, app.clone(), timeouts);
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves one connection on its own task until the client or the server ends it, or its
/// watchdog does.
fn spawn_connection(
    http: &hyper::server::conn::http1::Builder,
    graceful: &GracefulShutdown,
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    timeouts: HttpTimeouts,
) {
    // Small answers go out at once rather than waiting for an acknowledgement.
    let _ = stream.set_nodelay(true);
    let activity = Activity::new();
    let io = TokioIo::new(TrackedIo::new(stream, activity.clone()));
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let in_flight = requests.request_started();
        request.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        async move {
            let response = match app.oneshot(request.map(Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(response.map(|body| Body::new(TrackedBody::new(body, in_flight))))
        }
    });
    let served = graceful.watch(http.serve_connection(io, service));
    tokio::spawn(async move {
        tokio::select! {
            _ = served => {}
            expiry = activity.expired(timeouts) => {
                tracing::debug!(client = %peer.ip(), ?expiry, "closing a connection past its timeout");
            }
        }
    });
}

/// After a failed accept: connection-level errors (the client gave up) are skipped; others
/// (out of file descriptors) pause accepting for a moment instead of spinning.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %error, "cannot accept a connection; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
