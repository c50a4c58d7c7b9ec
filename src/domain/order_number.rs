//! Human order numbers such as `ORD-20250331-5XZF`: the UTC date plus a random
//! suffix. Uniqueness is enforced by the database; callers retry on a clash.

use chrono::{DateTime, Utc};
use rand::Rng;

/// No 0/O or 1/I: a customer reads these out over the phone.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

pub fn new_order_number(now: DateTime<Utc>) -> String {
    let mut rng = rand::thread_rng();
    let suffix: String = (0..4)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("ORD-{}-{suffix}", now.format("%Y%m%d"))
}

/// Whether `text` has the shape of an order number (used to validate seed files).
pub fn is_order_number(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    matches!(parts.as_slice(), ["ORD", date, suffix]
        if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit())
        && (4..=8).contains(&suffix.len())
        && suffix.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn numbers_carry_the_date_and_a_readable_suffix() {
        let now = Utc.with_ymd_and_hms(2025, 3, 31, 12, 0, 0).unwrap();
        let number = new_order_number(now);
        assert!(number.starts_with("ORD-20250331-"), "{number}");
        assert!(is_order_number(&number));
        let suffix = &number["ORD-20250331-".len()..];
        assert!(suffix.bytes().all(|b| ALPHABET.contains(&b)));
    }

    #[test]
    fn shape_check() {
        assert!(is_order_number("ORD-20250331-5XZF"));
        assert!(!is_order_number("ORD-2025033-5XZF"));
        assert!(!is_order_number("ord-20250331-5xzf"));
        assert!(!is_order_number("ORD-20250331-"));
    }
}
