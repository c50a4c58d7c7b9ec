//! Argon2id password hashing (the argon2 crate's default algorithm and
//! parameters, which follow OWASP's recommendation).
//!
//! Requests hash through [`PasswordWork`], which keeps its 19 MiB of Argon2
//! memory from one hash to the next (see `hash_pool`); the free functions
//! allocate per call and are for one-off work such as seeding.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

pub type Error = argon2::password_hash::Error;

/// Stored hashes asking for more memory than this are refused rather than
/// verified: the worker's buffer grows to the largest hash it has checked.
const MAX_MEMORY_BLOCKS: usize = 64 * 1024;

/// 1 KiB blocks past glibc's `DEFAULT_MMAP_THRESHOLD_MAX` (32 MiB).
const ALWAYS_MAPPED_BLOCKS: usize = 33 * 1024;

/// One thread's Argon2 working memory, reused by every hash it computes.
#[derive(Default)]
pub struct PasswordWork {
    blocks: Vec<Block>,
}

impl PasswordWork {
    /// Gives the working memory back (to the system: an allocation this
    /// large is its own mapping). The next hash allocates it again.
    pub fn release(&mut self) {
        self.blocks = Vec::new();
    }

    /// Argon2 blocks (1 KiB each) held now.
    pub fn held_blocks(&self) -> usize {
        self.blocks.capacity()
    }

    /// A new PHC string (`$argon2id$v=19$m=...`) with a fresh salt.
    pub fn hash(&mut self, password: &str) -> Result<String, Error> {
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0_u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let params = Params::default();
        let output = self.compute(
            Algorithm::Argon2id,
            Version::V0x13,
            &params,
            password,
            salt_bytes,
            Params::DEFAULT_OUTPUT_LEN,
        )?;
        Ok(PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        }
        .to_string())
    }

    /// Whether `password` matches `stored_hash` (false for anything unparseable).
    pub fn verify(&mut self, password: &str, stored_hash: &str) -> bool {
        self.check(password, stored_hash).unwrap_or(false)
    }

    fn check(&mut self, password: &str, stored_hash: &str) -> Result<bool, Error> {
        let parsed = PasswordHash::new(stored_hash)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Ok(false);
        };
        let algorithm = Algorithm::try_from(parsed.algorithm)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let params = Params::try_from(&parsed)?;
        let mut salt_bytes = [0_u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let computed = self.compute(
            algorithm,
            version,
            &params,
            password,
            salt_bytes,
            expected.len(),
        )?;
        // `Output`'s equality is constant-time.
        Ok(computed == expected)
    }

    fn compute(
        &mut self,
        algorithm: Algorithm,
        version: Version,
        params: &Params,
        password: &str,
        salt: &[u8],
        output_len: usize,
    ) -> Result<Output, Error> {
        let needed = params.block_count();
        if needed > MAX_MEMORY_BLOCKS {
            return Err(Error::ParamValueInvalid(
                argon2::password_hash::errors::InvalidValue::TooLong,
            ));
        }
        if self.blocks.len() < needed {
            if self.blocks.capacity() < needed {
                // Reserved above glibc's largest mmap threshold (32 MiB on
                // 64-bit), so the buffer is always its own mapping: given back
                // (`release`) it is unmapped. A 19 MiB buffer, once freed,
                // raises the threshold to its size, and the next ones came
                // from the thread's heap and were not given back (a process
                // that registered 16 customers sat at 228 MB instead of 39).
                // Only the blocks used are touched, so only they are resident.
                self.blocks = Vec::with_capacity(needed.max(ALWAYS_MAPPED_BLOCKS));
            }
            self.blocks.resize(needed, Block::default());
        }
        let argon2 = Argon2::new(algorithm, version, params.clone());
        Output::init_with(output_len, |out| {
            Ok(argon2.hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                out,
                &mut self.blocks[..needed],
            )?)
        })
    }
}

pub fn hash_password(password: &str) -> Result<String, Error> {
    PasswordWork::default().hash(password)
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordWork::default().verify(password, stored_hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_verify_and_are_salted() {
        let first = hash_password("correct horse").unwrap();
        let second = hash_password("correct horse").unwrap();
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(first, second);
        assert!(verify_password("correct horse", &first));
        assert!(!verify_password("wrong horse", &first));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn reused_memory_agrees_with_the_argon2_crate_both_ways() {
        let mut work = PasswordWork::default();
        let ours = work.hash("correct horse").unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &PasswordHash::new(&ours).unwrap())
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        // The same memory, used again for another hash, still verifies right.
        assert!(work.verify("battery staple", &theirs));
        assert!(!work.verify("battery stapler", &theirs));
        let light = "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$kI0X6XfJqpmVs/0cE7Jgqw";
        assert!(!work.verify("password", light), "other parameters parse");
    }

    #[test]
    fn absurd_memory_parameters_are_refused_not_allocated() {
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$kI0X6XfJqpmVs/0cE7Jgqw";
        let mut work = PasswordWork::default();
        assert!(!work.verify("password", huge));
        assert!(work.blocks.is_empty());
    }
}
