//! Stripe webhook signatures: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`,
//! where each v1 is HMAC-SHA256 keyed with the endpoint secret over
//! `<t>.<raw body>`. Verified over the raw bytes, before any parsing.
//!
//! The endpoint is public, so everything here is bounded before any work:
//! the header is parsed (and its caps enforced) without touching the body,
//! and the body's MAC is computed once per configured secret, whatever the
//! number of `v1` values; each candidate is then compared in constant time
//! against those precomputed MACs.

use hmac::digest::CtOutput;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;
type Mac256 = CtOutput<HmacSha256>;

/// The longest `Stripe-Signature` accepted, in bytes. Stripe's is about 80
/// bytes per signature (`,v1=` and 64 hex digits, the same for a test-mode
/// `v0`); 2 KiB leaves room for every allowed `v1` and as many `v0` values.
pub const MAX_HEADER_LEN: usize = 2048;

/// The most `v1` values accepted. Stripe sends one per active secret of the
/// endpoint: two while a secret is being rolled. Eight is generous and still
/// bounds the comparisons an unauthenticated caller can ask for.
pub const MAX_SIGNATURES: usize = 8;

/// An HMAC-SHA256: 32 bytes, 64 hex digits in the header.
const MAC_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    Missing,
    #[error("Stripe-Signature header longer than {MAX_HEADER_LEN} bytes")]
    HeaderTooLarge,
    #[error("more than {MAX_SIGNATURES} v1 signatures")]
    TooManySignatures,
    #[error("malformed Stripe-Signature header")]
    Malformed,
    #[error("timestamp outside the tolerance")]
    Stale,
    #[error("no signature matches a configured secret")]
    Mismatch,
}

impl SignatureError {
    pub fn code(self) -> &'static str {
        match self {
            SignatureError::Missing => "missing_signature",
            SignatureError::HeaderTooLarge => "signature_header_too_large",
            SignatureError::TooManySignatures => "too_many_signatures",
            SignatureError::Malformed => "malformed_signature",
            SignatureError::Stale => "stale_signature",
            SignatureError::Mismatch => "invalid_signature",
        }
    }
}

/// A parsed `Stripe-Signature`: its timestamp and its `v1` candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: i64,
    candidates: Vec<[u8; MAC_LEN]>,
}

impl SignatureHeader {
    /// Parses the header in one pass over at most `MAX_HEADER_LEN` bytes; no
    /// MAC is computed. Elements other than `t` and `v1` (Stripe's test-mode
    /// `v0`) are ignored, as Stripe's libraries do. A `v1` that is not 64 hex
    /// digits could never match and is malformed; so is a second `t`.
    pub fn parse(header: Option<&str>) -> Result<Self, SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        if header.len() > MAX_HEADER_LEN {
            return Err(SignatureError::HeaderTooLarge);
        }
        let mut timestamp = None;
        let mut candidates = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", _)) if timestamp.is_some() => return Err(SignatureError::Malformed),
                Some(("t", value)) => {
                    timestamp = Some(
                        value
                            .parse::<i64>()
                            .map_err(|_| SignatureError::Malformed)?,
                    )
                }
                Some(("v1", _)) if candidates.len() == MAX_SIGNATURES => {
                    return Err(SignatureError::TooManySignatures)
                }
                Some(("v1", value)) => {
                    let mut mac = [0u8; MAC_LEN];
                    hex::decode_to_slice(value, &mut mac).map_err(|_| SignatureError::Malformed)?;
                    candidates.push(mac);
                }
                Some(_) => {}
                None => return Err(SignatureError::Malformed),
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
        if candidates.is_empty() {
            return Err(SignatureError::Malformed);
        }
        Ok(SignatureHeader {
            timestamp,
            candidates,
        })
    }

    /// Refuses a timestamp more than `tolerance_secs` away from `now`, in the
    /// past (a replay) or in the future (Stripe stamps the time it sends, so
    /// only a skewed clock or a forgery produces one; accepting it would
    /// stretch the window in which a captured delivery can be replayed).
    /// Any i64 is handled: a difference that does not fit is stale.
    pub fn check_timestamp(&self, tolerance_secs: i64, now: i64) -> Result<(), SignatureError> {
        let tolerance = tolerance_secs.max(0).unsigned_abs();
        match now.checked_sub(self.timestamp) {
            Some(age) if age.unsigned_abs() <= tolerance => Ok(()),
            _ => Err(SignatureError::Stale),
        }
    }

    /// Accepts when any `v1` is the MAC of `payload` under any of `secrets`
    /// (several while rotating). One MAC per secret, whatever the number of
    /// candidates.
    pub fn check_payload(&self, payload: &[u8], secrets: &[&str]) -> Result<(), SignatureError> {
        let signed_prefix = format!("{}.", self.timestamp);
        matching_secret(secrets, &self.candidates, |secret| {
            mac(secret, signed_prefix.as_bytes(), payload)
        })
        .map(|_| ())
        .ok_or(SignatureError::Mismatch)
    }
}

fn mac(secret: &str, signed_prefix: &[u8], payload: &[u8]) -> Mac256 {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(signed_prefix);
    mac.update(payload);
    mac.finalize()
}

/// The index of the first secret whose MAC (`mac_of`, called once per secret
/// at most) equals one of `candidates`. `CtOutput`'s equality is constant-time.
fn matching_secret(
    secrets: &[&str],
    candidates: &[[u8; MAC_LEN]],
    mut mac_of: impl FnMut(&str) -> Mac256,
) -> Option<usize> {
    secrets.iter().position(|secret| {
        let expected = mac_of(secret);
        candidates
            .iter()
            .any(|candidate| expected == Mac256::new((*candidate).into()))
    })
}

/// The `v1` signature of `payload` at `timestamp` with `secret`, hex.
pub fn compute(payload: &[u8], timestamp: i64, secret: &str) -> String {
    let signed_prefix = format!("{timestamp}.");
    hex::encode(mac(secret, signed_prefix.as_bytes(), payload).into_bytes())
}

/// A complete header value, as Stripe (and the simulator) send it.
pub fn header(payload: &[u8], timestamp: i64, secrets: &[&str]) -> String {
    let mut value = format!("t={timestamp}");
    for secret in secrets {
        value.push_str(&format!(",v1={}", compute(payload, timestamp, secret)));
    }
    value
}

/// The whole check: header, then timestamp, then payload.
pub fn verify(
    payload: &[u8],
    header: Option<&str>,
    secrets: &[&str],
    tolerance_secs: i64,
    now: i64,
) -> Result<(), SignatureError> {
    let header = SignatureHeader::parse(header)?;
    header.check_timestamp(tolerance_secs, now)?;
    header.check_payload(payload, secrets)
}

#[cfg(test)]
mod tests;
