//! The API's base address: checked once (http or https, a host, no credentials, no query),
//! and shown in messages without anything secret it may hold.

use url::Url;

use crate::api::error::ApiError;
use crate::error::Result;

pub(super) fn parse_base_url(raw: &str) -> Result<Url> {
    let invalid = |reason: &str| ApiError::InvalidUrl {
        url: shown_url(raw),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("use an http:// or https:// address").into());
    }
    if url.host_str().is_none() {
        return Err(invalid("it names no host").into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not contain credentials; sign in instead").into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment").into());
    }
    Ok(url)
}

/// An address for an error message, without any credentials it holds.
pub(super) fn shown_url(raw: &str) -> String {
    let raw = raw.trim();
    let shown = match Url::parse(raw) {
        Ok(mut url) => {
            let _ = url.set_password(None);
            let _ = url.set_username("");
            url.to_string()
        }
        Err(_) => match raw.rfind('@') {
            Some(at) => format!("…{}", &raw[at..]),
            None => raw.to_owned(),
        },
    };
    shown.chars().take(200).collect()
}

pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::ApiClient;

    #[test]
    fn refuses_odd_base_urls() {
        for bad in [
            "ftp://h",
            "not a url",
            "https://user:secret@h",
            "https://h/?q=1",
            "mailto:a@b",
        ] {
            let err = ApiClient::new(bad).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::Config, "{bad}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }
}
