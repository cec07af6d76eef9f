//! Argon2 verification in memory the verifier keeps. `PasswordVerifier::verify_password`
//! allocates its 19 MiB of working memory afresh for every check, and glibc's allocator
//! does not reliably reuse such blocks within one thread: a server's memory grew by about
//! 19 MiB per login until far past 100 MB. A `HashVerifier` allocates that memory once
//! (growing only for a hash with larger parameters) and runs every check in it, so each
//! password check worker holds one block of memory for its whole life.

use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// The most memory a hash in the admin file may ask for (ours use 19 MiB); a larger one,
/// from a hand-edited file, is refused rather than allocated.
const MAX_MEMORY_KIB: u32 = 256 * 1024;

#[derive(Default)]
pub struct HashVerifier {
    blocks: Vec<Block>,
}

impl HashVerifier {
    /// Whether `password` matches the PHC string `hash` (compared in constant time). A hash
    /// that cannot be used is logged and never matches.
    pub fn verify(&mut self, hash: &str, password: &[u8]) -> bool {
        match self.try_verify(hash, password) {
            Ok(matches) => matches,
            Err(e) => {
                tracing::warn!(error = %e, "an admin's password hash in the admin file cannot be used");
                false
            }
        }
    }

    fn try_verify(&mut self, hash: &str, password: &[u8]) -> Result<bool, String> {
        let parsed = PasswordHash::new(hash).map_err(|e| format!("not a PHC string: {e}"))?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err("the hash has no salt or no output".into());
        };
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| e.to_string())?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(|e| e.to_string())?;
        if params.m_cost() > MAX_MEMORY_KIB {
            return Err(format!(
                "the hash asks for {} KiB of memory; at most {MAX_MEMORY_KIB} are allowed",
                params.m_cost()
            ));
        }
        let mut salt_buffer = [0u8; 64];
        let salt = salt
            .decode_b64(&mut salt_buffer)
            .map_err(|e| e.to_string())?;
        let needed = params.block_count();
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        let mut computed = vec![0u8; expected.len()];
        // Argon2 writes every block before it reads it, so the previous check's content
        // does not matter.
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(
                password,
                salt,
                &mut computed,
                &mut self.blocks[..needed],
            )
            .map_err(|e| e.to_string())?;
        let computed = Output::new(&computed).map_err(|e| e.to_string())?;
        // `Output`'s equality is constant-time.
        Ok(computed == expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    fn hash_with(argon: &Argon2<'_>, password: &str) -> String {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).unwrap();
        argon
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[test]
    fn agrees_with_the_standard_verifier_and_reuses_its_memory() {
        let mut verifier = HashVerifier::default();
        let default = hash_with(&Argon2::default(), "right");
        let small = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(64, 3, 1, Some(24)).unwrap(),
        );
        let other = hash_with(&small, "other");
        for _ in 0..3 {
            assert!(verifier.verify(&default, b"right"));
            assert!(!verifier.verify(&default, b"wrong"));
            assert!(verifier.verify(&other, b"other"));
            assert!(!verifier.verify(&other, b"right"));
        }
        assert_eq!(
            verifier.blocks.len(),
            Params::default().block_count(),
            "allocated once, for the largest hash"
        );
    }

    #[test]
    fn unusable_hashes_never_match() {
        let mut verifier = HashVerifier::default();
        let huge = "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        for hash in ["", "not a hash", "$argon2id$v=19$m=19456,t=2,p=1", huge] {
            assert!(!verifier.verify(hash, b"x"), "{hash}");
        }
        assert!(verifier.blocks.is_empty(), "nothing was allocated for them");
    }
}
