//! The API's base address: checked once (http or https, a host, no credentials, no query),
//! shown in messages without anything secret it may hold, and told apart when it would
//! carry the password and token unencrypted (plain http to another computer).

use url::Url;

use crate::api::error::ApiError;
use crate::error::Result;

pub(super) fn parse_base_url(raw: &str) -> Result<Url> {
    let invalid = |reason: &str| ApiError::InvalidUrl {
        url: shown_url(raw),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => invalid(
            "it has no scheme: write it as https://HOST[:PORT] (http:// only for this computer)",
        ),
        e => invalid(&e.to_string()),
    })?;
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

/// Whether a sign-in to `url` would cross the network unencrypted: plain `http://` to
/// another computer than this one. An address that does not parse is not (its own error
/// says what is wrong).
pub fn is_unencrypted_remote(raw: &str) -> bool {
    Url::parse(raw.trim()).is_ok_and(|url| url.scheme() == "http" && !is_loopback(&url))
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

    #[test]
    fn an_address_without_a_scheme_says_so() {
        for bare in [
            "rythm.example.com",
            "rythm.example.com/api",
            "10.0.0.5:3000/x",
        ] {
            let err = ApiClient::new(bare).unwrap_err().to_string();
            assert!(
                err.contains("no scheme") && err.contains("https://"),
                "{bare}: {err}"
            );
            assert!(!err.contains("relative URL"), "{err}");
        }
    }

    #[test]
    fn plain_http_is_unencrypted_unless_to_this_computer() {
        for remote in [
            "http://rythm.example.com",
            "http://10.0.0.5:3000",
            "http://localhost.evil.example",
        ] {
            assert!(super::is_unencrypted_remote(remote), "{remote}");
        }
        for fine in [
            "https://rythm.example.com",
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
            "not a url",
        ] {
            assert!(!super::is_unencrypted_remote(fine), "{fine}");
        }
    }
}
