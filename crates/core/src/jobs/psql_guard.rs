//! psql's restricted mode for restores, the second line behind the statement filter. A
//! plain dump is a psql script: a line such as `\! rm -rf ~` or `\connect` in it (a
//! tampered blob, a hostile server, CVE-2025-8714) would otherwise run as the admin, or
//! step outside the restore's transaction. The filter refuses every backslash command but
//! pg_dump's own `\restrict`/`\unrestrict` lines (which it drops); psql additionally runs
//! restricted with a random key of its own (`\restrict KEY`, psql 13.22, 14.19, 15.14,
//! 16.10, 17.6 and later), where it refuses every backslash command itself.

use rand::distr::{Alphanumeric, SampleString};

use crate::error::{Error, Result};

/// A fresh key for `\restrict`: 64 letters and digits, as pg_dump makes them.
pub(crate) fn restrict_key() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 64)
}

/// Refuses a psql without `\restrict`, naming the versions that have it.
pub(crate) fn require_restrict_support(psql_version: &str) -> Result<()> {
    if supports_restrict(psql_version) {
        return Ok(());
    }
    Err(Error::Unsupported(format!(
        "psql {psql_version} cannot restore safely: it lacks \\restrict, which keeps a \
         backup's SQL from running commands on this machine. Install PostgreSQL client tools \
         13.22, 14.19, 15.14, 16.10, 17.6 or newer."
    )))
}

fn supports_restrict(version: &str) -> bool {
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    match major {
        0..=12 => false,
        13 => minor >= 22,
        14 => minor >= 19,
        15 => minor >= 14,
        16 => minor >= 10,
        17 => minor >= 6,
        // 18 and later had it from their first release (betas included).
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fresh_letters_and_digits() {
        let key = restrict_key();
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(key, restrict_key());
    }

    #[test]
    fn knows_which_psql_has_restrict() {
        for yes in [
            "13.22", "14.19", "15.14", "15.18", "16.10", "17.6", "18.0", "18beta1", "19",
        ] {
            assert!(supports_restrict(yes), "{yes}");
        }
        for no in [
            "12.22", "13.21", "14.18", "15.13", "16.9", "17.5", "", "garbage",
        ] {
            assert!(!supports_restrict(no), "{no}");
        }
        let refused = require_restrict_support("15.13").unwrap_err().to_string();
        assert!(refused.contains("15.14"), "{refused}");
    }
}
