//! Helpers shared by the integration tests: the test services' settings from the environment
//! (set by `scripts/test.sh`), fresh random names, test data, stream collection, and a fake
//! HTTP server for failures a real service will not produce on demand.

pub mod engine;
pub mod pg;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::TryStreamExt;
use rythm_backup_core::catalog::BackupName;
use rythm_backup_core::storage::{ByteStream, StorageError};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// A variable `scripts/test.sh` exports. Missing means the services are not running: the
/// test fails (never skips) and says how to run it.
pub fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => panic!(
            "{name} is not set. Run the tests through `bash scripts/test.sh` (it starts \
             Azurite and PostgreSQL and exports it), or start the services with \
             `bash scripts/test.sh --services-only` and export what it prints."
        ),
    }
}

/// The connection string of the Azurite that `scripts/test.sh` started.
pub fn azure_connection_string() -> String {
    required_env("RYTHM_TEST_AZURE_CONNECTION_STRING")
}

/// 16 random hex digits, to keep parallel tests apart.
pub fn random_hex() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// A fresh Azure container name for one test, e.g. `conf-0123456789abcdef`.
pub fn fresh_container(prefix: &str) -> String {
    format!("{prefix}-{}", random_hex())
}

/// A valid backup name.
pub fn name(raw: &str) -> BackupName {
    BackupName::parse(raw).expect("test names are valid")
}

/// `len` bytes of deterministic, poorly compressible data; `seed` varies it.
pub fn test_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            // xorshift64*: cheap and good enough to make every block differ.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Reads a whole stream into memory (test data is small).
pub async fn collect(stream: ByteStream) -> Result<Vec<u8>, StorageError> {
    stream
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
}

/// A minimal HTTP server for failure tests: it reads each request (head and body) and hands
/// the connection to a handler that writes whatever answer, broken or not, the test needs.
/// One request per connection (answers should say `Connection: close`).
pub struct FakeServer {
    port: u16,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// Serves with `handler(index, request head, connection)`; `index` counts requests.
    pub async fn start<F, Fut>(handler: F) -> FakeServer
    where
        F: Fn(usize, String, TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let port = listener.local_addr().expect("local address").port();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let handler = handler.clone();
                let counter = counter.clone();
                // Read in the connection's own task, so slow handlers never block accepting.
                tokio::spawn(async move {
                    if let Some(head) = read_request(&mut socket).await {
                        let index = counter.fetch_add(1, Ordering::SeqCst);
                        handler(index, head, socket).await;
                    }
                });
            }
        });
        FakeServer {
            port,
            requests,
            task,
        }
    }

    /// Its address, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many requests arrived so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// A connection string for the emulator account at this server.
    pub fn azure_connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;\
             AccountKey={DEV_ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:{}/devstoreaccount1",
            self.port
        )
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Azurite's published development key (not a secret).
pub const DEV_ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Reads a request head and its `Content-Length` body (unread bytes would make closing the
/// socket reset the connection); returns the head, or None if the peer went away first.
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let body_len: usize = head
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body_read = data.len() - head_end;
    while body_read < body_len {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body_read += n,
        }
    }
    Some(head)
}
