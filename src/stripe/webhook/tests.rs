use proptest::prelude::*;

use super::*;

const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
const T: i64 = 1_700_000_000;

fn candidates(n: usize) -> String {
    (0..n).map(|i| format!(",v1={:064x}", i)).collect()
}

#[test]
fn a_signed_payload_verifies() {
    let header = header(BODY, T, &["whsec_a"]);
    assert_eq!(
        verify(BODY, Some(&header), &["whsec_a"], 300, T + 100),
        Ok(())
    );
}

#[test]
fn any_secret_and_any_v1_match() {
    let header = header(BODY, T, &["whsec_old", "whsec_new"]);
    assert_eq!(verify(BODY, Some(&header), &["whsec_new"], 300, T), Ok(()));
    assert_eq!(
        verify(BODY, Some(&header), &["whsec_other", "whsec_old"], 300, T),
        Ok(())
    );
}

#[test]
fn refusals() {
    let header_a = header(BODY, T, &["whsec_a"]);
    let refused = |header: Option<&str>, secret: &str, now: i64| {
        verify(BODY, header, &[secret], 300, now).unwrap_err()
    };
    assert_eq!(refused(None, "whsec_a", T), SignatureError::Missing);
    assert_eq!(
        refused(Some("garbage"), "whsec_a", T),
        SignatureError::Malformed
    );
    assert_eq!(
        refused(Some("t=1,v1=zz"), "whsec_a", 1),
        SignatureError::Malformed
    );
    assert_eq!(
        refused(Some(&header_a), "whsec_b", T),
        SignatureError::Mismatch
    );
    assert_eq!(
        refused(Some(&header_a), "whsec_a", T + 301),
        SignatureError::Stale
    );
    assert_eq!(
        verify(b"tampered", Some(&header_a), &["whsec_a"], 300, T),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn malformed_headers_are_refused_while_parsing() {
    for header in [
        String::new(),
        "v1=00".to_string(),
        format!("t={T}"),
        format!("t={T},t={T}{}", candidates(1)),
        format!("t={T},v1=abcd"),
        format!("t={T},v1={}", "0".repeat(66)),
        format!("t=1e9{}", candidates(1)),
        format!("t={T},{}", candidates(1)),
    ] {
        assert_eq!(
            SignatureHeader::parse(Some(&header)),
            Err(SignatureError::Malformed),
            "{header}"
        );
    }
    // Other schemes are ignored, as Stripe's libraries ignore them.
    let with_v0 = format!("t={T},v0={}{}", "ab".repeat(32), candidates(1));
    assert!(SignatureHeader::parse(Some(&with_v0)).is_ok());
}

#[test]
fn the_header_is_capped_in_length_and_in_signatures() {
    let most = format!("t={T}{}", candidates(MAX_SIGNATURES));
    assert!(most.len() <= MAX_HEADER_LEN);
    assert_eq!(
        SignatureHeader::parse(Some(&most))
            .unwrap()
            .candidates
            .len(),
        MAX_SIGNATURES
    );
    let one_more = format!("t={T}{}", candidates(MAX_SIGNATURES + 1));
    assert_eq!(
        SignatureHeader::parse(Some(&one_more)),
        Err(SignatureError::TooManySignatures)
    );
    let long = format!("t={T}{},x={}", candidates(1), "a".repeat(MAX_HEADER_LEN));
    assert_eq!(
        SignatureHeader::parse(Some(&long)),
        Err(SignatureError::HeaderTooLarge)
    );
}

#[test]
fn the_last_allowed_signature_still_matches() {
    let valid = compute(BODY, T, "whsec_a");
    let header = format!("t={T}{},v1={valid}", candidates(MAX_SIGNATURES - 1));
    assert_eq!(verify(BODY, Some(&header), &["whsec_a"], 300, T), Ok(()));
}

#[test]
fn one_mac_is_computed_per_secret_not_per_candidate() {
    let secrets = ["whsec_1", "whsec_2", "whsec_3"];
    let forged: Vec<[u8; MAC_LEN]> = (0..MAX_SIGNATURES as u8).map(|i| [i; MAC_LEN]).collect();
    let mut computed = 0;
    let found = matching_secret(&secrets, &forged, |secret| {
        computed += 1;
        mac(secret, b"1.", BODY)
    });
    assert_eq!(found, None);
    assert_eq!(computed, secrets.len(), "not secrets x candidates");

    let mut candidates = forged;
    candidates.push(mac("whsec_2", b"1.", BODY).into_bytes().into());
    let mut computed = 0;
    let found = matching_secret(&secrets, &candidates, |secret| {
        computed += 1;
        mac(secret, b"1.", BODY)
    });
    assert_eq!(
        (found, computed),
        (Some(1), 2),
        "stops at the matching secret"
    );
}

#[test]
fn timestamps_at_the_extremes_are_stale_not_a_panic() {
    let at = |t: i64| SignatureHeader {
        timestamp: t,
        candidates: vec![[0; MAC_LEN]],
    };
    assert_eq!(
        at(i64::MIN).check_timestamp(300, T),
        Err(SignatureError::Stale)
    );
    assert_eq!(
        at(i64::MAX).check_timestamp(300, T),
        Err(SignatureError::Stale)
    );
    assert_eq!(
        at(i64::MIN).check_timestamp(300, i64::MAX),
        Err(SignatureError::Stale)
    );
    assert_eq!(at(T + 300).check_timestamp(300, T), Ok(()));
    assert_eq!(
        at(T + 301).check_timestamp(300, T),
        Err(SignatureError::Stale),
        "the future too"
    );
    assert_eq!(at(T - 300).check_timestamp(300, T), Ok(()));
    assert_eq!(
        at(T).check_timestamp(-5, T),
        Ok(()),
        "a negative tolerance is zero"
    );
}

proptest! {
    #[test]
    fn any_timestamp_never_panics(t in any::<i64>(), now in any::<i64>(), tolerance in any::<i64>()) {
        let header = format!("t={t}{}", candidates(1));
        let result = verify(BODY, Some(&header), &["whsec_a"], tolerance, now);
        prop_assert!(matches!(result, Err(SignatureError::Stale | SignatureError::Mismatch)));
    }

    #[test]
    fn any_header_text_never_panics(header in ".{0,300}", t_text in "\\PC{0,40}") {
        let _ = verify(BODY, Some(&header), &["whsec_a"], 300, T);
        let with_t = format!("t={t_text}{}", candidates(1));
        let _ = verify(BODY, Some(&with_t), &["whsec_a"], 300, T);
    }
}
