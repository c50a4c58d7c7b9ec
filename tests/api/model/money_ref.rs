//! Invariant 8's reference: Stripe's currency rules written out again from
//! docs.stripe.com/currencies, independently of `src/domain`, so the model
//! test catches a wrong rule there instead of agreeing with it.

/// The currencies a run draws from: zero-decimal, two-decimal, three-decimal
/// and Stripe's special cases (ISK, UGX, HUF, TWD).
pub const SAMPLE: &[&str] = &[
    "usd", "eur", "gbp", "jpy", "krw", "vnd", "clp", "xof", "bhd", "jod", "kwd", "omr", "tnd",
    "isk", "ugx", "huf", "twd",
];

/// How Stripe's API writes amounts of a currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decimals {
    /// The API amount is the whole unit (500 JPY -> 500).
    Zero,
    /// Cents (12.34 USD -> 1234). HUF and TWD too: zero-decimal only for payouts.
    Two,
    /// 1/1000, last digit 0 (4.250 KWD -> 4250).
    Three,
    /// ISK and UGX: whole units in life, sent as two-decimal with 00 (5 UGX -> 500).
    WholeAsTwo,
}

pub fn rule(currency: &str) -> Decimals {
    match currency {
        "bif" | "clp" | "djf" | "gnf" | "jpy" | "kmf" | "krw" | "mga" | "pyg" | "rwf" | "vnd"
        | "vuv" | "xaf" | "xof" | "xpf" => Decimals::Zero,
        "bhd" | "jod" | "kwd" | "omr" | "tnd" => Decimals::Three,
        "isk" | "ugx" => Decimals::WholeAsTwo,
        _ => Decimals::Two,
    }
}

fn exponent(rule: Decimals) -> u32 {
    match rule {
        Decimals::Zero => 0,
        Decimals::Two | Decimals::WholeAsTwo => 2,
        Decimals::Three => 3,
    }
}

/// The smallest step between two chargeable amounts, in API units.
pub fn step(currency: &str) -> i64 {
    match rule(currency) {
        Decimals::Zero | Decimals::Two => 1,
        Decimals::Three => 10,
        Decimals::WholeAsTwo => 100,
    }
}

/// A major amount as a person writes it, from a whole part and two digits
/// of fraction (used as far as the currency has decimals).
pub fn major_text(currency: &str, whole: u32, fraction: u32) -> String {
    match rule(currency) {
        Decimals::Zero | Decimals::WholeAsTwo => whole.to_string(),
        Decimals::Two => format!("{whole}.{:02}", fraction % 100),
        Decimals::Three => format!("{whole}.{:02}0", fraction % 100),
    }
}

/// The integer amount Stripe's API expects for a major amount written in
/// decimal (`"12.5"`, `"4.250"`, `"1200"`); None when it has more decimals
/// than the currency or breaks its last-digit rule.
pub fn api_amount(text: &str, currency: &str) -> Option<i64> {
    let rule = rule(currency);
    let exponent = exponent(rule);
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > exponent as usize {
        return None;
    }
    let padded = format!("{fraction:0<width$}", width = exponent as usize);
    let amount = format!("{whole}{padded}").parse::<i64>().ok()?;
    (amount % step(currency) == 0).then_some(amount)
}

/// The decimal text of an API amount, as orderpay's input takes it.
pub fn major_of(amount: i64, currency: &str) -> String {
    match rule(currency) {
        Decimals::Zero => amount.to_string(),
        Decimals::WholeAsTwo => (amount / 100).to_string(),
        Decimals::Two => format!("{}.{:02}", amount / 100, amount % 100),
        Decimals::Three => format!("{}.{:03}", amount / 1000, amount % 1000),
    }
}

#[test]
fn the_reference_follows_stripes_published_examples() {
    assert_eq!(api_amount("12.34", "usd"), Some(1234));
    assert_eq!(api_amount("500", "jpy"), Some(500));
    assert_eq!(api_amount("4.250", "kwd"), Some(4250));
    assert_eq!(api_amount("4.255", "kwd"), None);
    assert_eq!(api_amount("5", "ugx"), Some(500));
    assert_eq!(api_amount("5.50", "ugx"), None);
    assert_eq!(api_amount("1.5", "jpy"), None);
    assert_eq!(api_amount("175.00", "huf"), Some(17500));
    assert_eq!(major_of(4250, "kwd"), "4.250");
    assert_eq!(major_of(500, "isk"), "5");
}
