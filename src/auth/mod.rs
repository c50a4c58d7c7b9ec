//! Who is calling: request guards for server API keys and for users' bearer tokens.
//! Authentication lives in guards, never in fairings, so every route states
//! what it needs in its signature.

pub mod api_key;
pub mod bearer;
pub mod caller;
pub mod hash_pool;
pub mod password;
pub mod scope;

pub use api_key::{ApiKeyCaller, Scoped};
pub use bearer::User;
pub use caller::{Caller, CheckoutCaller};
pub use scope::Scope;

use sha2::{Digest, Sha256};

/// Stored form of a high-entropy secret (API key, access token): SHA-256 hex.
/// These secrets are random, so a slow password hash would buy nothing and
/// cost every request.
pub fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `bytes` random bytes from the OS generator, hex-encoded, behind `prefix`.
pub fn random_secret(prefix: &str, bytes: usize) -> String {
    use rand::RngCore;
    let mut buffer = vec![0_u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    format!("{prefix}{}", hex::encode(buffer))
}
