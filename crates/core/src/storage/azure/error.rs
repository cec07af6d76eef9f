//! Translation of Azure SDK errors into `StorageError`, with every SAS signature scrubbed
//! from the text (transport errors quote the request URL, which carries the SAS).

use azure_core::error::ErrorKind;
use azure_core::http::StatusCode;

use crate::storage::StorageError;

/// What an error needs to be reported: the store's location and the blob concerned.
#[derive(Debug, Clone)]
pub(crate) struct ErrorMapper {
    store: String,
}

impl ErrorMapper {
    pub(crate) fn new(store: String) -> Self {
        ErrorMapper { store }
    }

    pub(crate) fn store(&self) -> &str {
        &self.store
    }

    /// Maps an SDK error. `blob` is the blob an operation targets: a 404 then means the
    /// backup does not exist.
    pub(crate) fn map(&self, err: azure_core::Error, blob: Option<&str>) -> StorageError {
        let store = self.store.clone();
        let (status, error_code) = match err.kind() {
            ErrorKind::HttpResponse {
                status, error_code, ..
            } => (*status, error_code.clone()),
            ErrorKind::Connection | ErrorKind::Io => {
                return StorageError::Unreachable {
                    store,
                    message: describe(&err),
                };
            }
            _ => {
                return StorageError::Request {
                    store,
                    message: describe(&err),
                }
            }
        };

        if status == StatusCode::NotFound {
            if let Some(name) = blob {
                return StorageError::NotFound {
                    name: name.to_owned(),
                    store,
                };
            }
        }
        let azure_message = azure_message(err);
        let mut message = format!("HTTP {}", u16::from(status));
        if let Some(code) = error_code.filter(|c| !c.is_empty()) {
            message.push(' ');
            message.push_str(&code);
        }
        if let Some(text) = azure_message {
            message.push_str(": ");
            message.push_str(&text);
        }
        let message = redact(&message);
        match u16::from(status) {
            401 | 403 => StorageError::Auth { store, message },
            // Timeouts, throttling and server errors pass: retrying later may succeed.
            408 | 429 | 500..=599 => StorageError::Unreachable { store, message },
            _ => StorageError::Request { store, message },
        }
    }
}

/// The status code of an SDK error, when the service answered.
pub(crate) fn status_of(err: &azure_core::Error) -> Option<u16> {
    err.http_status().map(u16::from)
}

/// Azure's error code (`x-ms-error-code`, e.g. `ContainerNotFound`), when the service answered.
pub(crate) fn error_code_of(err: &azure_core::Error) -> Option<&str> {
    match err.kind() {
        ErrorKind::HttpResponse { error_code, .. } => error_code.as_deref(),
        _ => None,
    }
}

/// The service's own `<Message>`, first line only (the rest is request id and time).
fn azure_message(err: azure_core::Error) -> Option<String> {
    let parsed = azure_storage_blob::StorageError::try_from(err).ok()?;
    let message = parsed.message?;
    let first = message.lines().next()?.trim();
    (!first.is_empty()).then(|| first.to_owned())
}

/// The error and its chain of causes, on one line, with SAS signatures removed.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    redact(&text)
}

/// Replaces the value of every `sig=` query parameter with `<redacted>`. The signature is
/// the only secret part of a SAS; the other fields (version, expiry, permissions) are not.
pub(crate) fn redact(text: &str) -> String {
    const MARK: &str = "sig=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find_ascii_case_insensitive(rest, MARK) {
        let value_start = at + MARK.len();
        out.push_str(&rest[..value_start]);
        let value = &rest[value_start..];
        let end = value
            .find(|c: char| c == '&' || c == ')' || c == '"' || c == '\'' || c.is_whitespace())
            .unwrap_or(value.len());
        if end > 0 {
            out.push_str("<redacted>");
        }
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_signature() {
        let text = "error sending request for url \
                    (http://h/c/b?comp=block&SIG=abc%2B%3D&sv=1): sig=xyz end sig=";
        let out = redact(text);
        assert!(!out.contains("abc"), "{out}");
        assert!(!out.contains("xyz"), "{out}");
        assert!(out.contains("comp=block&SIG=<redacted>&sv=1"), "{out}");
        assert!(out.ends_with("sig=<redacted> end sig="), "{out}");
    }

    #[test]
    fn maps_statuses_to_kinds() {
        let mapper = ErrorMapper::new("azure:acct/c".into());
        let http = |status: u16, code: &str| {
            azure_core::Error::with_message(
                ErrorKind::HttpResponse {
                    status: StatusCode::from(status),
                    error_code: Some(code.to_owned()),
                    raw_response: None,
                },
                "x",
            )
        };
        assert!(matches!(
            mapper.map(http(404, "BlobNotFound"), Some("a.sql")),
            StorageError::NotFound { name, .. } if name == "a.sql"
        ));
        assert!(matches!(
            mapper.map(http(403, "AuthenticationFailed"), None),
            StorageError::Auth { .. }
        ));
        assert!(matches!(
            mapper.map(http(503, "ServerBusy"), None),
            StorageError::Unreachable { .. }
        ));
        match mapper.map(http(400, "InvalidBlockList"), Some("a.sql")) {
            StorageError::Request { message, .. } => {
                assert!(
                    message.contains("400") && message.contains("InvalidBlockList"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
        let io = azure_core::Error::with_message(ErrorKind::Io, "reset sig=secret");
        match mapper.map(io, None) {
            StorageError::Unreachable { message, .. } => assert!(!message.contains("secret")),
            other => panic!("{other:?}"),
        }
    }
}
