//! Downloads: a stored backup streamed from `BlobStore::get_from` (memory stays flat whatever
//! its size) with `Content-Length`, `Content-Disposition`, `ETag`, `Last-Modified` and
//! single-range `Range` support (`bytes=a-b`, `bytes=a-`, `bytes=-n` → 206; past the end →
//! 416; `If-Range` with an ETag or date).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures::{stream, StreamExt};
use rythm_backup_core::catalog::BackupMetadata;
use rythm_backup_core::storage::{BlobInfo, BlobStore, StorageError};
use rythm_backup_core::{BackupName, Error};
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

use crate::error::{codes, ApiError};

/// What the request's `Range` asks for, against a blob of a known size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No (usable) range: the whole blob, 200.
    Full,
    /// Bytes `start..=end`, 206.
    Partial { start: u64, end: u64 },
    /// 416.
    Unsatisfiable,
}

/// Parses one `Range` header value. Syntax it does not support (other units, several
/// ranges, garbage) is ignored, as RFC 9110 allows: the whole blob is sent.
pub fn parse_range(value: &str, size: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial {
                    start: size.saturating_sub(n),
                    end: size - 1,
                }
            }
        }
        (false, Some(start), end) if last.trim().is_empty() || end.is_some() => {
            if start >= size {
                return RangeRequest::Unsatisfiable;
            }
            match end {
                Some(end) if end < start => RangeRequest::Full,
                Some(end) => RangeRequest::Partial {
                    start,
                    end: end.min(size - 1),
                },
                None => RangeRequest::Partial {
                    start,
                    end: size - 1,
                },
            }
        }
        _ => RangeRequest::Full,
    }
}

/// A strong ETag: the content's sha256 when our metadata knows it, else the store's tag.
pub fn etag_of(info: &BlobInfo) -> String {
    if let Some(sha) = BackupMetadata::from_map(&info.metadata).and_then(|m| m.sha256) {
        return format!("\"sha256-{sha}\"");
    }
    match &info.etag {
        Some(tag) if tag.starts_with('"') => tag.clone(),
        Some(tag) => format!("\"{}\"", tag.replace('"', "")),
        None => format!(
            "\"{:x}-{:x}\"",
            info.size,
            info.last_modified.unix_timestamp()
        ),
    }
}

fn http_date(t: OffsetDateTime) -> String {
    // RFC 2822 dates with +0000 read as HTTP dates for every client; IMF-fixdate wants GMT.
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc2822)
        .map(|s| s.replace("+0000", "GMT"))
        .unwrap_or_default()
}

/// Whether an `If-Range` value still matches the blob (else the whole blob is sent).
fn if_range_matches(value: &str, etag: &str, last_modified: &str) -> bool {
    let value = value.trim();
    if value.starts_with('"') {
        value == etag
    } else {
        // Weak tags never match; a date must be exactly the Last-Modified we send.
        !value.starts_with("W/") && value == last_modified
    }
}

/// The response for `GET /api/backups/{name}/download` (`head_only` for HEAD: the same
/// headers, and storage is not read).
pub async fn respond(
    store: &Arc<dyn BlobStore>,
    name: &BackupName,
    headers: &HeaderMap,
    head_only: bool,
) -> Result<Response, ApiError> {
    let info = store.head(name).await.map_err(Error::from)?;
    let size = info.size;
    let etag = etag_of(&info);
    let last_modified = http_date(info.last_modified);
    let mut range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map_or(RangeRequest::Full, |v| parse_range(v, size));
    if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        if !if_range_matches(if_range, &etag, &last_modified) {
            range = RangeRequest::Full;
        }
    }

    let (status, start, len) = match range {
        RangeRequest::Full => (StatusCode::OK, 0, size),
        RangeRequest::Partial { start, end } => {
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeRequest::Unsatisfiable => {
            let mut response = axum::response::IntoResponse::into_response(ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                codes::RANGE_NOT_SATISFIABLE,
                format!("the range is outside the backup's {size} bytes"),
            ));
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes */{size}")),
            );
            return Ok(response);
        }
    };

    let body = if len == 0 || head_only {
        Body::empty()
    } else {
        let stream = store.get_from(name, start).await.map_err(Error::from)?;
        Body::from_stream(take_bytes(stream, len))
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, header_value(&len.to_string()));
    // Names are validated ([A-Za-z0-9._-] only), so no quoting or encoding is needed.
    h.insert(
        header::CONTENT_DISPOSITION,
        header_value(&format!("attachment; filename=\"{name}\"")),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, header_value(&etag));
    if !last_modified.is_empty() {
        h.insert(header::LAST_MODIFIED, header_value(&last_modified));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(
            header::CONTENT_RANGE,
            header_value(&format!("bytes {start}-{}/{size}", start + len - 1)),
        );
    }
    Ok(response)
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("built from ASCII without control characters")
}

/// The first `len` bytes of `stream`; the stream is dropped (its request closed) once they
/// are out. A stream that ends early is an error, so the client sees a broken transfer
/// rather than a short file that looks complete.
fn take_bytes(
    stream: rythm_backup_core::storage::ByteStream,
    len: u64,
) -> impl futures::Stream<Item = Result<Bytes, StorageError>> + Send {
    stream::unfold((Some(stream), len), |(stream, remaining)| async move {
        let mut stream = stream?;
        if remaining == 0 {
            return None;
        }
        match stream.next().await {
            Some(Ok(mut chunk)) => {
                if chunk.len() as u64 > remaining {
                    chunk.truncate(remaining as usize);
                }
                let left = remaining - chunk.len() as u64;
                Some((Ok(chunk), (Some(stream), left)))
            }
            Some(Err(e)) => Some((Err(e), (None, 0))),
            None => Some((
                Err(StorageError::Request {
                    store: "storage".into(),
                    message: format!("the blob ended {remaining} bytes early"),
                }),
                (None, 0),
            )),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range("bytes=0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(
            parse_range("bytes=90-", 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range("bytes=-10", 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range("bytes=-1000", 100),
            Partial { start: 0, end: 99 }
        );
        assert_eq!(
            parse_range("bytes=50-1000", 100),
            Partial { start: 50, end: 99 }
        );
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=100-200", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-2", 100), Full);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Full);
        assert_eq!(parse_range("items=0-1", 100), Full);
        assert_eq!(parse_range("bytes=a-b", 100), Full);
        assert_eq!(parse_range("bytes=-", 100), Full);
        assert_eq!(parse_range("bytes=+1-2", 100), Full);
    }

    #[test]
    fn if_range_needs_an_exact_strong_match() {
        assert!(if_range_matches("\"abc\"", "\"abc\"", "d"));
        assert!(!if_range_matches("\"abd\"", "\"abc\"", "d"));
        assert!(!if_range_matches("W/\"abc\"", "\"abc\"", "d"));
        let date = http_date(time::macros::datetime!(2026-01-02 03:04:05 UTC));
        assert_eq!(date, "Fri, 02 Jan 2026 03:04:05 GMT");
        assert!(if_range_matches(&date, "\"x\"", &date));
    }

    #[tokio::test]
    async fn take_bytes_truncates_and_flags_short_streams() {
        let chunks: Vec<Result<Bytes, StorageError>> = vec![
            Ok(Bytes::from_static(b"hello ")),
            Ok(Bytes::from_static(b"world")),
        ];
        let s: rythm_backup_core::storage::ByteStream = Box::pin(stream::iter(chunks));
        let out: Vec<_> = take_bytes(s, 8).collect().await;
        let bytes: Vec<u8> = out.into_iter().flat_map(|c| c.unwrap().to_vec()).collect();
        assert_eq!(bytes, b"hello wo");
        let s: rythm_backup_core::storage::ByteStream =
            Box::pin(stream::iter(vec![Ok(Bytes::from_static(b"ab"))]));
        let out: Vec<_> = take_bytes(s, 5).collect().await;
        assert!(out.last().unwrap().is_err());
    }
}
