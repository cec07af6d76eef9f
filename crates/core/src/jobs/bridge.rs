//! Bridges between the blocking world (child processes, compressors) and the async storage
//! clients: a `Write` that cuts bytes into upload blocks, a resilient reader of a stored
//! blob that resumes with a ranged request after a broken transfer, and a blocking `Read`
//! over the chunks that reader sends.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::{Cancel, JobEvent, Phase, Progress};
use crate::catalog::BackupName;
use crate::error::Error;
use crate::storage::{BlobStore, StorageError};

/// Upload block size: large enough for throughput, small enough that a few in flight keep
/// memory flat (4 MiB × (queue + in-flight) stays well under 64 MiB).
pub const BLOCK_SIZE: usize = 4 * 1024 * 1024;

/// A `Write` that sends full blocks to an async consumer, blocking when it lags behind.
pub struct BlockWriter {
    buffer: BytesMut,
    sender: mpsc::Sender<Bytes>,
}

impl BlockWriter {
    pub fn new(sender: mpsc::Sender<Bytes>) -> Self {
        BlockWriter {
            buffer: BytesMut::with_capacity(BLOCK_SIZE),
            sender,
        }
    }

    fn send(&mut self, block: Bytes) -> io::Result<()> {
        self.sender
            .blocking_send(block)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }

    /// Sends what is left.
    pub fn finish(mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            let block = self.buffer.split().freeze();
            self.send(block)?;
        }
        Ok(())
    }
}

impl Write for BlockWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = BLOCK_SIZE - self.buffer.len();
        let n = room.min(buf.len());
        self.buffer.extend_from_slice(&buf[..n]);
        if self.buffer.len() == BLOCK_SIZE {
            let block = self.buffer.split().freeze();
            self.buffer.reserve(BLOCK_SIZE);
            self.send(block)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How often and how patiently a broken transfer is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// About a minute of patience: 0.5 + 1 + 2 + 4 + 8 + 8 + … seconds.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Streams a stored blob from `start` into a channel, reopening it from the current offset
/// when the connection breaks. Each item is a chunk or the error that ended the transfer.
pub fn spawn_blob_reader(
    store: Arc<dyn BlobStore>,
    name: BackupName,
    start: u64,
    phase: Phase,
    progress: Progress,
    cancel: Cancel,
    policy: RetryPolicy,
) -> mpsc::Receiver<Result<Bytes, Error>> {
    let (sender, receiver) = mpsc::channel(4);
    tokio::spawn(async move {
        let mut offset = start;
        let mut attempt = 0u32;
        loop {
            let failure = match store.get_from(&name, offset).await {
                Ok(mut stream) => loop {
                    let next = tokio::select! {
                        _ = cancel.cancelled() => Some(Err(StorageError::Cancelled)),
                        next = stream.next() => next,
                    };
                    match next {
                        None => return,
                        Some(Ok(chunk)) => {
                            attempt = 0;
                            offset += chunk.len() as u64;
                            if sender.send(Ok(chunk)).await.is_err() {
                                return;
                            }
                        }
                        Some(Err(e)) => break e,
                    }
                },
                Err(e) => e,
            };
            attempt += 1;
            if matches!(failure, StorageError::Cancelled) {
                let _ = sender.send(Err(Error::Cancelled)).await;
                return;
            }
            if !failure.is_transient() || attempt >= policy.max_attempts {
                let _ = sender.send(Err(failure.into())).await;
                return;
            }
            let delay = policy.delay(attempt);
            tracing::warn!(backup = %name, offset, attempt, error = %failure, "transfer broke; resuming");
            progress.emit(JobEvent::Retrying {
                phase,
                attempt,
                delay_ms: delay.as_millis() as u64,
                reason: failure.to_string(),
            });
            tokio::select! {
                _ = cancel.cancelled() => {
                    let _ = sender.send(Err(Error::Cancelled)).await;
                    return;
                }
                _ = tokio::time::sleep(delay) => {}
            }
        }
    });
    receiver
}

/// A blocking `Read` over the chunks of `spawn_blob_reader`. The error that ended a
/// transfer is kept for `take_error` (the `Read` reports it as `ConnectionAborted`).
pub struct ChunkReader {
    chunks: mpsc::Receiver<Result<Bytes, Error>>,
    current: Bytes,
    error: Arc<std::sync::Mutex<Option<Error>>>,
}

impl ChunkReader {
    pub fn new(chunks: mpsc::Receiver<Result<Bytes, Error>>) -> Self {
        ChunkReader {
            chunks,
            current: Bytes::new(),
            error: Arc::default(),
        }
    }

    /// A handle to the error that ended the transfer, readable after the reader is gone.
    pub fn error_slot(&self) -> Arc<std::sync::Mutex<Option<Error>>> {
        self.error.clone()
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => {
                    let message = e.to_string();
                    *self.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    return Err(io::Error::new(io::ErrorKind::ConnectionAborted, message));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_writer_cuts_exact_blocks() {
        let (tx, mut rx) = mpsc::channel(8);
        let handle = std::thread::spawn(move || {
            let mut w = BlockWriter::new(tx);
            w.write_all(&vec![1u8; BLOCK_SIZE * 2 + 10]).unwrap();
            w.finish().unwrap();
        });
        let mut sizes = Vec::new();
        while let Some(b) = rx.blocking_recv() {
            sizes.push(b.len());
        }
        handle.join().unwrap();
        assert_eq!(sizes, vec![BLOCK_SIZE, BLOCK_SIZE, 10]);
    }

    #[test]
    fn retry_delays_grow_and_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1), Duration::from_millis(500));
        assert_eq!(p.delay(2), Duration::from_secs(1));
        assert_eq!(p.delay(9), Duration::from_secs(8));
    }
}
