//! What one connection is doing, for its watchdog: the bytes it reads (`TrackedIo`), the
//! requests it has in flight (`InFlight`, held by the response body until it is sent), and
//! `Activity::expired`, which resolves when the connection has waited too long for the
//! first byte of a request (idle) or for the rest of a request's head (header). While a
//! request is in flight nothing expires here: its body has its own deadline (see
//! `routes`), and a long backup or a slow download is not idleness.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::HttpTimeouts;

/// Why a connection was closed by its watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No byte of a new request within the idle timeout.
    Idle,
    /// A request's head began but was not complete within the header timeout.
    Header,
}

#[derive(Debug)]
struct State {
    in_flight: usize,
    /// Since when the connection has had no request in flight.
    idle_since: Instant,
    /// When the first byte arrived while no request was in flight: a head is coming.
    head_started: Option<Instant>,
}

#[derive(Debug)]
pub struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: Instant::now(),
                head_started: None,
            }),
            changed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bytes_read(&self) {
        let mut state = self.lock();
        if state.in_flight == 0 && state.head_started.is_none() {
            state.head_started = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    /// A request's head was parsed and its handling begins; in flight until the guard
    /// (moved into the response body) is dropped.
    pub fn request_started(self: &Arc<Self>) -> InFlight {
        let mut state = self.lock();
        state.in_flight += 1;
        state.head_started = None;
        drop(state);
        self.changed.notify_one();
        InFlight(self.clone())
    }

    fn request_ended(&self) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
        }
        drop(state);
        self.changed.notify_one();
    }

    /// Resolves when the connection must be closed; pending forever while requests are in
    /// flight and deadlines hold.
    pub async fn expired(&self, timeouts: HttpTimeouts) -> Expiry {
        loop {
            let due = {
                let state = self.lock();
                if state.in_flight > 0 {
                    None
                } else if let Some(started) = state.head_started {
                    Some((started + timeouts.header, Expiry::Header))
                } else {
                    Some((state.idle_since + timeouts.idle, Expiry::Idle))
                }
            };
            let change = self.changed.notified();
            match due {
                Some((deadline, expiry)) if Instant::now() >= deadline => return expiry,
                Some((deadline, _)) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => {}
                        _ = change => {}
                    }
                }
                None => change.await,
            }
        }
    }
}

/// One request in flight on a connection.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

/// A response body that keeps its request in flight until it has been sent (or dropped).
pub struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl TrackedBody {
    pub fn new(inner: Body, in_flight: InFlight) -> TrackedBody {
        TrackedBody {
            inner,
            _in_flight: in_flight,
        }
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's socket that reports every read to its `Activity`.
#[derive(Debug)]
pub struct TrackedIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> TrackedIo<T> {
    pub fn new(inner: T, activity: Arc<Activity>) -> TrackedIo<T> {
        TrackedIo { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TrackedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_read();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TrackedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const TIMEOUTS: HttpTimeouts = HttpTimeouts {
        header: Duration::from_secs(10),
        body: Duration::from_secs(30),
        idle: Duration::from_secs(60),
    };

    /// Runs `expired` until it resolves and says when (paused time: no real waiting).
    async fn expiry_after(activity: &Arc<Activity>) -> (Expiry, Duration) {
        let start = Instant::now();
        let expiry = activity.expired(TIMEOUTS).await;
        (expiry, start.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_expires_after_the_idle_timeout() {
        let activity = Activity::new();
        let (expiry, after) = expiry_after(&activity).await;
        assert_eq!(expiry, Expiry::Idle);
        assert_eq!(after, TIMEOUTS.idle);
    }

    #[tokio::test(start_paused = true)]
    async fn a_started_head_must_end_within_the_header_timeout() {
        let activity = Activity::new();
        let (mut client, server) = tokio::io::duplex(64);
        let mut io = TrackedIo::new(server, activity.clone());
        let watch = {
            let activity = activity.clone();
            tokio::spawn(async move { expiry_after(&activity).await })
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        client.write_all(b"GET / HT").await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(io.read(&mut buf).await.unwrap(), 8);
        let (expiry, after) = watch.await.unwrap();
        assert_eq!(expiry, Expiry::Header);
        assert_eq!(after, Duration::from_secs(5) + TIMEOUTS.header);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_expires_while_a_request_is_in_flight_then_idle_counts_again() {
        let activity = Activity::new();
        let in_flight = activity.request_started();
        let watch = {
            let activity = activity.clone();
            tokio::spawn(async move { expiry_after(&activity).await })
        };
        // A long backup: ten idle timeouts without a byte.
        tokio::time::sleep(TIMEOUTS.idle * 10).await;
        assert!(!watch.is_finished());
        let body = TrackedBody::new(Body::from("done"), in_flight);
        drop(body);
        let (expiry, after) = watch.await.unwrap();
        assert_eq!(expiry, Expiry::Idle);
        assert_eq!(after, TIMEOUTS.idle * 11);
    }
}
