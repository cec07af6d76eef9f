//! Downloads through the API, with the same guarantees as direct mode: the bytes go to
//! `FILE.part`, are checked against the sha256 the list gives (our server's; the RYTHM API
//! gives none) and only then renamed into place. An existing `.part` is resumed with
//! `Range`; a server that ignores `Range` (the RYTHM API buffers and answers 200) makes the
//! download start over, never append a second copy.

use std::path::PathBuf;
use std::time::Instant;

use futures::StreamExt;
use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::{Method, Response, StatusCode};
use sha2::{Digest, Sha256};
use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{is_transient_status, ApiClient};
use crate::api::error::{from_transport, ApiError, Call};
use crate::catalog::BackupName;
use crate::error::{Error, Result};
use crate::jobs::download::{part_path, DownloadOutcome};
use crate::jobs::{Cancel, JobEvent, Phase, Progress};

/// The `.part` file and the hash of what it holds.
struct Part {
    path: PathBuf,
    hasher: Sha256,
    written: u64,
}

impl Part {
    /// Picks up what an earlier run left.
    async fn load(path: PathBuf) -> Result<Part> {
        let mut part = Part {
            path,
            hasher: Sha256::new(),
            written: 0,
        };
        let mut file = match fs::File::open(&part.path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(part),
            Err(e) => return Err(Error::io("cannot read", &part.path, e)),
        };
        let mut buffer = vec![0u8; 1024 * 1024];
        loop {
            let n = file
                .read(&mut buffer)
                .await
                .map_err(|e| Error::io("cannot read", &part.path, e))?;
            if n == 0 {
                break;
            }
            part.hasher.update(&buffer[..n]);
            part.written += n as u64;
        }
        Ok(part)
    }

    /// Empties the file, to start over.
    async fn reset(&mut self) -> Result<()> {
        crate::fsmode::private_file_async()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.path)
            .await
            .map_err(|e| Error::io("cannot write", &self.path, e))?;
        self.hasher = Sha256::new();
        self.written = 0;
        Ok(())
    }

    fn sha256(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

/// The state of one download across its attempts.
struct Transfer {
    part: Part,
    /// The backup's size, from the list and then the answer's headers.
    total: Option<u64>,
    /// Bytes the first usable answer let us keep.
    resumed_from: Option<u64>,
    announced: bool,
}

/// Why an attempt ended early.
enum Failure {
    /// The connection broke or the server is briefly unavailable: try again (resuming).
    Retry(Error),
    /// The part did not fit; start over at once.
    Restart,
    Stop(Error),
}

impl ApiClient {
    pub(super) async fn download_to(
        &self,
        name: &BackupName,
        destination: PathBuf,
        force: bool,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<DownloadOutcome> {
        let started = Instant::now();
        if !force && fs::try_exists(&destination).await.unwrap_or(false) {
            return Err(Error::AlreadyExists {
                path: destination.display().to_string(),
            });
        }
        // The list gives the size and (our server) the sha256; it also tells a missing backup
        // apart before the RYTHM API can answer 500.
        let entry = self
            .list_backups()
            .await?
            .into_iter()
            .find(|e| &e.name == name)
            .ok_or_else(|| Error::Api(self.not_found(name)))?;
        let expected = entry.sha256.clone();
        let mut transfer = Transfer {
            part: Part::load(part_path(&destination)).await?,
            total: Some(entry.size),
            resumed_from: None,
            announced: false,
        };
        let held = transfer.part.written;
        let complete = held == entry.size
            && expected
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(&transfer.part.sha256()));
        if complete {
            transfer.resumed_from = Some(held);
        } else {
            if held > 0 && held >= entry.size {
                // Not a prefix of this backup (or unverifiable): start over.
                transfer.part.reset().await?;
            }
            self.transfer(name, &mut transfer, progress, cancel).await?;
        }
        let written = transfer.part.written;
        if let Some(total) = transfer.total.filter(|t| *t != written) {
            return Err(Error::Api(ApiError::Unreachable {
                server: self.server.clone(),
                message: format!(
                    "the download of {name} ended after {written} of {total} bytes; run it \
                     again to resume"
                ),
            }));
        }
        let sha256 = transfer.part.sha256();
        let part = transfer.part.path.clone();
        let checksum_verified = match expected {
            Some(expected) if !expected.eq_ignore_ascii_case(&sha256) => {
                // Wrong bytes: resuming from them would be wrong too.
                let _ = fs::remove_file(&part).await;
                return Err(Error::ChecksumMismatch {
                    name: name.to_string(),
                    expected,
                    actual: sha256,
                });
            }
            Some(_) => Some(true),
            None => None,
        };
        if force && cfg!(windows) {
            let _ = fs::remove_file(&destination).await;
        }
        fs::rename(&part, &destination)
            .await
            .map_err(|e| Error::io("cannot rename", &part, e))?;
        progress.bytes(Phase::Downloading, written, None, transfer.total, true);
        let duration_ms = started.elapsed().as_millis() as u64;
        tracing::info!(server = %self.server, backup = %name, path = %destination.display(), size = written, ?checksum_verified, "download finished");
        Ok(DownloadOutcome {
            name: name.clone(),
            path: destination,
            size: written,
            sha256,
            checksum_verified,
            resumed_from: transfer.resumed_from.unwrap_or(0),
            duration_ms,
        })
    }

    /// Attempts until the body is complete, retrying breaks with a growing delay.
    async fn transfer(
        &self,
        name: &BackupName,
        transfer: &mut Transfer,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<()> {
        let mut attempt = 0;
        loop {
            match self.attempt(name, transfer, progress, cancel).await {
                Ok(()) => return Ok(()),
                Err(Failure::Restart) => {
                    transfer.part.reset().await?;
                }
                Err(Failure::Retry(error)) if attempt < self.options.download_retries => {
                    attempt += 1;
                    let delay = self.options.retry_delay * 2u32.saturating_pow(attempt - 1);
                    tracing::warn!(backup = %name, attempt, error = %error, "download broke; retrying");
                    progress.emit(JobEvent::Retrying {
                        phase: Phase::Downloading,
                        attempt,
                        delay_ms: delay.as_millis() as u64,
                        reason: error.to_string(),
                    });
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(Error::Cancelled),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
                Err(Failure::Retry(error) | Failure::Stop(error)) => return Err(error),
            }
        }
    }

    /// One request: from the end of the `.part` when it holds something.
    async fn attempt(
        &self,
        name: &BackupName,
        transfer: &mut Transfer,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<(), Failure> {
        let segments = ["api", "backups", name.as_str(), "download"];
        let mut request = self
            .request(false, Method::GET, &segments)
            .map_err(Failure::Stop)?;
        let offset = transfer.part.written;
        if offset > 0 {
            request = request.header(RANGE, format!("bytes={offset}-"));
        }
        let response = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Failure::Stop(Error::Cancelled)),
            sent = self.send(request) => sent.map_err(|e| Failure::Retry(e.into()))?,
        };
        let status = response.status();
        match status {
            StatusCode::PARTIAL_CONTENT if content_range(&response).0 == Some(offset) => {
                transfer.total = content_range(&response).1.or(transfer.total);
                transfer.resumed_from.get_or_insert(offset);
            }
            StatusCode::OK => {
                if offset > 0 {
                    tracing::info!(backup = %name, offset, "the server ignored Range; starting over");
                    progress.emit(JobEvent::Note {
                        message: format!(
                            "{} cannot resume downloads; downloading {name} from the start",
                            self.server
                        ),
                    });
                    transfer.part.reset().await.map_err(Failure::Stop)?;
                }
                transfer.total = response.content_length().or(transfer.total);
                transfer.resumed_from.get_or_insert(0);
            }
            StatusCode::PARTIAL_CONTENT | StatusCode::RANGE_NOT_SATISFIABLE if offset > 0 => {
                return Err(Failure::Restart);
            }
            _ => {
                let error = match self.check(response, Call::Authorized).await {
                    Err(error) => Error::Api(error),
                    Ok(_) => Error::Api(ApiError::Server {
                        server: self.server.clone(),
                        status: status.as_u16(),
                        message: "unexpected answer to a download".into(),
                    }),
                };
                if is_transient_status(status) {
                    return Err(Failure::Retry(error));
                }
                return Err(Failure::Stop(self.explain_failure(name, error).await));
            }
        }
        if !transfer.announced {
            transfer.announced = true;
            progress.phase(Phase::Downloading, Some(name.to_string()), transfer.total);
        }
        self.stream_body(response, transfer, progress, cancel).await
    }

    /// Appends the answer's body to the `.part`, hashing as it goes.
    async fn stream_body(
        &self,
        response: Response,
        transfer: &mut Transfer,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<(), Failure> {
        let path = transfer.part.path.clone();
        let io = |e| Failure::Stop(Error::io("cannot write", &path, e));
        // Owner-only: a backup holds every tenant's data.
        let mut file = crate::fsmode::private_file_async()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(io)?;
        let mut body = response.bytes_stream();
        let outcome = loop {
            let next = tokio::select! {
                biased;
                _ = cancel.cancelled() => break Err(Failure::Stop(Error::Cancelled)),
                next = body.next() => next,
            };
            match next {
                None => break Ok(()),
                Some(Ok(chunk)) => {
                    if let Err(e) = file.write_all(&chunk).await {
                        break Err(io(e));
                    }
                    let part = &mut transfer.part;
                    part.hasher.update(&chunk);
                    part.written += chunk.len() as u64;
                    progress.bytes(
                        Phase::Downloading,
                        part.written,
                        None,
                        transfer.total,
                        false,
                    );
                }
                Some(Err(e)) => break Err(Failure::Retry(from_transport(&self.server, &e).into())),
            }
        };
        // Whatever happened, what was written stays for the next attempt or run.
        let synced = match file.flush().await {
            Ok(()) => file.sync_all().await,
            Err(e) => Err(e),
        };
        outcome?;
        synced.map_err(io)
    }
}

/// `Content-Range: bytes START-END/TOTAL` as (START, TOTAL).
fn content_range(response: &Response) -> (Option<u64>, Option<u64>) {
    let Some(value) = response
        .headers()
        .get(CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
    else {
        return (None, None);
    };
    parse_content_range(value)
}

fn parse_content_range(value: &str) -> (Option<u64>, Option<u64>) {
    let Some(rest) = value.trim().strip_prefix("bytes ") else {
        return (None, None);
    };
    let (range, total) = rest.split_once('/').unwrap_or((rest, "*"));
    let start = range
        .split_once('-')
        .and_then(|(start, _)| start.trim().parse().ok());
    (start, total.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_content_range() {
        assert_eq!(
            parse_content_range("bytes 100-999/1000"),
            (Some(100), Some(1000))
        );
        assert_eq!(parse_content_range("bytes 5-9/*"), (Some(5), None));
        assert_eq!(parse_content_range("bytes */1000"), (None, Some(1000)));
        assert_eq!(parse_content_range("items 1-2/3"), (None, None));
    }
}
