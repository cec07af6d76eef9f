//! A database to connect to, parsed from a `postgres://` URL. The password is split off into
//! a `Sensitive` so the URL handed to child processes never carries it.

use std::fmt;

use percent_encoding::percent_decode_str;
use url::Url;

use crate::secrets::Sensitive;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(
        "invalid database URL: {0} (expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME)"
    )]
    Invalid(String),
}

/// One database on one server, with the credentials to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct DbTarget {
    /// The URL without the password (safe to log and to pass in argv).
    url: Url,
    password: Option<Sensitive<String>>,
}

impl DbTarget {
    /// Parses a `postgres://` or `postgresql://` URL. The error never repeats the input,
    /// since it may contain a password.
    pub fn parse(raw: &str) -> Result<Self, TargetError> {
        let mut url = Url::parse(raw.trim())
            .map_err(|e| TargetError::Invalid(format!("cannot parse it ({e})")))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(TargetError::Invalid(format!(
                "scheme {:?} is not postgresql",
                url.scheme()
            )));
        }
        let mut password = url
            .password()
            .map(|p| Sensitive::new(percent_decode_str(p).decode_utf8_lossy().into_owned()));
        url.set_password(None)
            .map_err(|_| TargetError::Invalid("it has no host".into()))?;
        // libpq also takes `?password=` (and `?sslpassword=`, for a client key): they must not
        // travel in argv or logs with the rest of the URL.
        let mut kept = Vec::new();
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "password" => password = Some(Sensitive::new(value.into_owned())),
                "sslpassword" => {
                    return Err(TargetError::Invalid(
                        "sslpassword in the URL is not supported; use an unencrypted client key \
                         or a key agent"
                            .into(),
                    ))
                }
                _ => kept.push((key.into_owned(), value.into_owned())),
            }
        }
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
        let target = DbTarget { url, password };
        if target.database().is_empty() {
            return Err(TargetError::Invalid("it names no database".into()));
        }
        Ok(target)
    }

    /// The database name.
    pub fn database(&self) -> String {
        let path = self.url.path().trim_start_matches('/');
        percent_decode_str(path).decode_utf8_lossy().into_owned()
    }

    pub fn host(&self) -> String {
        self.url.host_str().unwrap_or("localhost").to_owned()
    }

    pub fn port(&self) -> u16 {
        self.url.port().unwrap_or(5432)
    }

    pub fn user(&self) -> Option<String> {
        let user = self.url.username();
        (!user.is_empty()).then(|| percent_decode_str(user).decode_utf8_lossy().into_owned())
    }

    /// The connection URL without the password, for `--dbname`.
    pub fn url_without_password(&self) -> &str {
        self.url.as_str()
    }

    pub fn password(&self) -> Option<&Sensitive<String>> {
        self.password.as_ref()
    }

    /// The same server and credentials, another database.
    pub fn with_database(&self, database: &str) -> DbTarget {
        let mut other = self.clone();
        let encoded: String =
            percent_encoding::utf8_percent_encode(database, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        other.url.set_path(&format!("/{encoded}"));
        other
    }

    /// Whether `other` is on the same server as the same user (so it may share our password).
    pub fn same_server_and_user(&self, other: &DbTarget) -> bool {
        self.host() == other.host() && self.port() == other.port() && self.user() == other.user()
    }

    /// Uses `password` when this target has none of its own.
    pub fn with_fallback_password(mut self, password: Option<&Sensitive<String>>) -> DbTarget {
        if self.password.is_none() {
            self.password = password.cloned();
        }
        self
    }

    /// `host:port/db` for messages.
    pub fn describe(&self) -> String {
        format!("{}:{}/{}", self.host(), self.port(), self.database())
    }
}

impl fmt::Debug for DbTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbTarget")
            .field("url", &self.url.as_str())
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_off_the_password() {
        let t = DbTarget::parse(
            "postgresql://admin:s%3Acret%40x@db.example:6543/rythm?sslmode=require",
        )
        .unwrap();
        assert_eq!(t.password().unwrap().expose(), "s:cret@x");
        assert_eq!(
            t.url_without_password(),
            "postgresql://admin@db.example:6543/rythm?sslmode=require"
        );
        assert_eq!(t.database(), "rythm");
        assert_eq!(t.port(), 6543);
        assert!(!format!("{t:?}").contains("cret"));
    }

    #[test]
    fn query_string_passwords_are_split_off_too() {
        let t = DbTarget::parse("postgresql://u@h/db?sslmode=require&password=s3cr%26t").unwrap();
        assert_eq!(t.password().unwrap().expose(), "s3cr&t");
        assert_eq!(
            t.url_without_password(),
            "postgresql://u@h/db?sslmode=require"
        );
        let t = DbTarget::parse("postgresql://u@h/db?password=x").unwrap();
        assert_eq!(t.url_without_password(), "postgresql://u@h/db");
        let err = DbTarget::parse("postgresql://u@h/db?sslpassword=topsecret").unwrap_err();
        assert!(!err.to_string().contains("topsecret"));
    }

    #[test]
    fn switches_database_keeping_credentials() {
        let t = DbTarget::parse("postgres://u:p@h/a")
            .unwrap()
            .with_database("new db");
        assert_eq!(t.database(), "new db");
        assert_eq!(t.password().unwrap().expose(), "p");
    }

    #[test]
    fn errors_never_echo_the_input() {
        let err = DbTarget::parse("mysql://u:topsecret@h/a")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("topsecret"), "{err}");
        assert!(DbTarget::parse("postgres://u:p@h/").is_err());
        assert!(DbTarget::parse("not a url at all topsecret")
            .unwrap_err()
            .to_string()
            .find("topsecret")
            .is_none());
    }
}
