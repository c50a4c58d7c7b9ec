//! Stripe webhook signatures: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`,
//! where each v1 is HMAC-SHA256 keyed with the endpoint secret over
//! `<t>.<raw body>`. Verified over the raw bytes, before any parsing.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    Missing,
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
            SignatureError::Malformed => "malformed_signature",
            SignatureError::Stale => "stale_signature",
            SignatureError::Mismatch => "invalid_signature",
        }
    }
}

/// The `v1` signature of `payload` at `timestamp` with `secret`, hex.
pub fn compute(payload: &[u8], timestamp: i64, secret: &str) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// A complete header value, as Stripe (and the simulator) send it.
pub fn header(payload: &[u8], timestamp: i64, secrets: &[&str]) -> String {
    let mut value = format!("t={timestamp}");
    for secret in secrets {
        value.push_str(&format!(",v1={}", compute(payload, timestamp, secret)));
    }
    value
}

/// Accepts when any `v1` matches any of `secrets` (rotation) and `t` is within
/// `tolerance_secs` of `now`. Comparison is constant-time.
pub fn verify(
    payload: &[u8],
    header: Option<&str>,
    secrets: &[&str],
    tolerance_secs: i64,
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            Some(("v1", value)) => {
                signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?)
            }
            Some(_) => {} // other schemes (v0) are ignored, as Stripe's libraries do
            None => return Err(SignatureError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    for secret in secrets {
        for signature in &signatures {
            let mut mac =
                HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(payload);
            // verify_slice compares in constant time.
            if mac.verify_slice(signature).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    #[test]
    fn a_signed_payload_verifies() {
        let header = header(BODY, 1_700_000_000, &["whsec_a"]);
        assert_eq!(
            verify(BODY, Some(&header), &["whsec_a"], 300, 1_700_000_100),
            Ok(())
        );
    }

    #[test]
    fn any_secret_and_any_v1_match() {
        let header = header(BODY, 1_700_000_000, &["whsec_old", "whsec_new"]);
        assert_eq!(
            verify(BODY, Some(&header), &["whsec_new"], 300, 1_700_000_000),
            Ok(())
        );
        assert_eq!(
            verify(
                BODY,
                Some(&header),
                &["whsec_other", "whsec_old"],
                300,
                1_700_000_000
            ),
            Ok(())
        );
    }

    #[test]
    fn refusals() {
        let header_a = header(BODY, 1_700_000_000, &["whsec_a"]);
        assert_eq!(
            verify(BODY, None, &["whsec_a"], 300, 1_700_000_000),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(BODY, Some("garbage"), &["whsec_a"], 300, 1_700_000_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(BODY, Some("t=1,v1=zz"), &["whsec_a"], 300, 1),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(BODY, Some(&header_a), &["whsec_b"], 300, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(BODY, Some(&header_a), &["whsec_a"], 300, 1_700_000_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(
                b"tampered",
                Some(&header_a),
                &["whsec_a"],
                300,
                1_700_000_000
            ),
            Err(SignatureError::Mismatch)
        );
    }
}
