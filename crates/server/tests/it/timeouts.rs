//! Connection timeouts, over raw TCP: half a request head then silence is disconnected
//! within the header timeout; a kept-alive connection is closed after the idle timeout (and
//! not at the shorter header timeout); a body that stops arriving gets 408; a slow
//! download that keeps progressing runs well past every timeout and arrives whole; and a
//! shutdown waits for it while refusing new connections.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{sha256_hex, Backend, Options, TestServer};

const HEADER: Duration = Duration::from_secs(1);
const BODY: Duration = Duration::from_secs(1);
const IDLE: Duration = Duration::from_secs(3);
/// Added to a deadline for a loaded machine: the watchdog acts at the deadline, but the
/// test's own task may be scheduled late.
const SLACK: Duration = Duration::from_secs(3);

async fn start() -> TestServer {
    TestServer::start_with(Options {
        backend: Backend::Local,
        configure: |config| {
            config.timeouts.header = HEADER;
            config.timeouts.body = BODY;
            config.timeouts.idle = IDLE;
        },
        ..Options::default()
    })
    .await
}

/// Reads until the server closes the connection; returns what arrived and when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Err(_) => panic!("still open after {limit:?}; received {received:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_header_then_silence_is_disconnected_within_the_header_timeout() {
    let server = start().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Half: ")
        .await
        .unwrap();
    let (received, after) = read_until_closed(&mut stream, HEADER + SLACK).await;
    assert!(after >= HEADER - Duration::from_millis(100), "{after:?}");
    assert!(!received.contains("200 OK"), "{received}");

    // A client that connects and never sends a byte is dropped after the idle timeout.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let (received, after) = read_until_closed(&mut silent, IDLE + SLACK).await;
    assert!(received.is_empty(), "{received}");
    assert!(after >= IDLE - Duration::from_millis(100), "{after:?}");

    // The server still serves.
    let health = server
        .http
        .get(server.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_closes_after_the_idle_timeout() {
    let server = start().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    for _ in 0..2 {
        stream
            .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&answer).contains("\"version\"") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early");
            answer.extend_from_slice(&buf[..n]);
        }
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
        // Kept alive across the (shorter) header timeout.
        tokio::time::sleep(HEADER * 2).await;
    }
    let (received, after) = read_until_closed(&mut stream, IDLE + SLACK).await;
    assert!(received.is_empty(), "{received}");
    assert!(after <= IDLE, "{after:?} after the last answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_gets_408() {
    let server = start().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    let (received, after) = read_until_closed(&mut stream, BODY + SLACK).await;
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");
    assert!(received.contains("request_timeout"), "{received}");
    assert!(after >= BODY - Duration::from_millis(100), "{after:?}");
}

/// A legacy backup of 24 MiB in the server's folder: far more than the socket buffers
/// hold (4 MiB for sending here), so the server is still sending while a client reads
/// slowly. Returns its name and content.
fn store_big_backup(server: &TestServer) -> (&'static str, Vec<u8>) {
    let name = "rythm-backup-2026-01-01T00-00-00-000Z.sql";
    let backups = server.dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let content: Vec<u8> = (0..24 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(backups.join(name), &content).unwrap();
    (name, content)
}

/// A download in progress: the connection (a small receive buffer), the bytes so far and
/// the total expected (head and body).
struct Download {
    stream: TcpStream,
    received: Vec<u8>,
    expected_len: usize,
    body_len: usize,
}

impl Download {
    /// Sends the request and reads up to the end of the answer's head.
    async fn start(server: &TestServer, name: &str, body_len: usize) -> Download {
        let token = server.token().await;
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(64 * 1024).unwrap();
        let mut stream = socket.connect(server.addr).await.unwrap();
        let request = format!(
            "GET /api/backups/{name}/download HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut received = Vec::new();
        let mut buf = vec![0u8; 32 * 1024];
        let expected_len = loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the head");
            received.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&received);
            if let Some(end) = text.find("\r\n\r\n") {
                assert!(text.starts_with("HTTP/1.1 200"), "{}", &text[..end]);
                break end + 4 + body_len;
            }
        };
        Download {
            stream,
            received,
            expected_len,
            body_len,
        }
    }

    /// Reads the rest, 32 KiB every 100 ms until `slow_until`, then as fast as it comes;
    /// returns the body.
    async fn finish(mut self, slow_until: Instant) -> Vec<u8> {
        let mut buf = vec![0u8; 32 * 1024];
        while self.received.len() < self.expected_len {
            let n = self.stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "cut off after {} of {} bytes",
                self.received.len(),
                self.expected_len
            );
            self.received.extend_from_slice(&buf[..n]);
            if Instant::now() < slow_until {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        self.received.split_off(self.expected_len - self.body_len)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_but_progressing_download_is_not_cut_off() {
    let server = start().await;
    let (name, content) = store_big_backup(&server);
    let download = Download::start(&server, name, content.len()).await;
    // Slow for longer than the idle and header timeouts together: a watchdog that took
    // this for a stall would have closed the connection with most of the backup unsent.
    let body = download.finish(Instant::now() + IDLE + HEADER).await;
    assert_eq!(sha256_hex(&body), sha256_hex(&content));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_download_in_flight_finish_and_accepts_no_more() {
    let mut server = start().await;
    let (name, content) = store_big_backup(&server);
    let download = Download::start(&server, name, content.len()).await;
    let reading = tokio::spawn(download.finish(Instant::now() + Duration::from_secs(2)));
    // An idle kept-alive connection does not hold the shutdown up.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    assert!(idle.read(&mut buf).await.unwrap() > 0);

    let addr = server.addr;
    let stopping = Instant::now();
    tokio::time::timeout(Duration::from_secs(60), server.stop())
        .await
        .expect("the server stops once the download is sent");
    // The server could not finish before the slow reader had taken most of the 24 MiB
    // (the last few MiB may still sit in socket buffers when it stops).
    assert!(
        stopping.elapsed() >= Duration::from_secs(1),
        "{:?}",
        stopping.elapsed()
    );
    let body = reading.await.unwrap();
    assert_eq!(
        sha256_hex(&body),
        sha256_hex(&content),
        "cut off at shutdown"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
}
