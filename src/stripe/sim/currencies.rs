//! The simulator's own currency rules, written from Stripe's documentation
//! (docs.stripe.com/currencies: zero-decimal, three-decimal, special cases,
//! "minimum and maximum charge amounts") and deliberately NOT imported from
//! orderpay's `domain::currency`: the simulator plays Stripe, so if both
//! tables came from one place a mistake there would pass every test.
//! `tests/api/stripe_sim.rs` compares the two tables code by code.

use serde_json::json;

use super::objects::{invalid, SimError};

/// Zero-decimal: the API amount is the whole unit (500 JPY is `500`).
/// UGX is not here: Stripe's special cases make it two-decimal (see below).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv", "xaf",
    "xof", "xpf",
];

/// Three-decimal: the minor unit is 1/1000 and the last digit must be 0.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// Special cases: two-decimal in the API, but only whole units may be charged,
/// so the last two digits must be 00 (5 UGX is `500`; `550` is refused).
const WHOLE_UNITS_IN_TWO_DECIMALS: &[&str] = &["isk", "ugx"];

/// The other presentment currencies for card charges: two-decimal. HUF and
/// TWD are here on purpose: they are zero-decimal for payouts only.
const TWO_DECIMAL: &[&str] = &[
    "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt",
    "bgn", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad", "cdf", "chf", "cny",
    "cop", "crc", "cve", "czk", "dkk", "dop", "dzd", "egp", "etb", "eur", "fjd", "fkp", "gbp",
    "gel", "gip", "gmd", "gtq", "gyd", "hkd", "hnl", "htg", "huf", "idr", "ils", "inr", "jmd",
    "kes", "kgs", "khr", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mkd",
    "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok",
    "npr", "nzd", "pab", "pen", "pgk", "php", "pkr", "pln", "qar", "ron", "rsd", "rub", "sar",
    "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl", "thb", "tjs", "top",
    "try", "ttd", "twd", "tzs", "uah", "usd", "uyu", "uzs", "wst", "xcd", "yer", "zar", "zmw",
];

/// Stripe's published minimum charge per currency, in minor units (the
/// table's major amounts in comments). Elsewhere Stripe compares against
/// 0.50 USD at the day's rate, which an offline simulator cannot know.
const MINIMUM_CHARGE: &[(&str, i64)] = &[
    ("usd", 50),    // 0.50
    ("aed", 200),   // 2.00
    ("aud", 50),    // 0.50
    ("bgn", 100),   // 1.00
    ("brl", 50),    // 0.50
    ("cad", 50),    // 0.50
    ("chf", 50),    // 0.50
    ("czk", 1500),  // 15.00
    ("dkk", 250),   // 2.50
    ("eur", 50),    // 0.50
    ("gbp", 30),    // 0.30
    ("hkd", 400),   // 4.00
    ("huf", 17500), // 175.00
    ("inr", 50),    // 0.50
    ("jpy", 50),    // 50 (zero-decimal)
    ("mxn", 1000),  // 10.00
    ("myr", 200),   // 2.00
    ("nok", 300),   // 3.00
    ("nzd", 50),    // 0.50
    ("pln", 200),   // 2.00
    ("ron", 200),   // 2.00
    ("sek", 300),   // 3.00
    ("sgd", 50),    // 0.50
    ("thb", 1000),  // 10.00
];

/// "The amount value supports up to eight digits": 99999999 minor units.
const MAXIMUM_CHARGE: i64 = 99_999_999;

/// What Stripe requires of an amount in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrencyRule {
    pub code: &'static str,
    /// Fraction digits of the API's integer amount.
    pub exponent: u32,
    /// Every amount must be a multiple of this (10 for three-decimal, 100 for
    /// ISK and UGX, 1 otherwise).
    pub charge_step: i64,
    /// The published minimum charge in minor units, where there is one.
    pub minimum: Option<i64>,
    pub maximum: i64,
}

/// Every currency code the simulator charges in.
pub fn codes() -> impl Iterator<Item = &'static str> {
    ZERO_DECIMAL
        .iter()
        .chain(THREE_DECIMAL)
        .chain(WHOLE_UNITS_IN_TWO_DECIMALS)
        .chain(TWO_DECIMAL)
        .copied()
}

/// The rule for a lowercase code; `None` if Stripe does not charge in it
/// (Stripe wants lowercase codes, so `USD` is unknown here).
pub fn rule(code: &str) -> Option<CurrencyRule> {
    let code = codes().find(|c| *c == code)?;
    let (exponent, charge_step) = if ZERO_DECIMAL.contains(&code) {
        (0, 1)
    } else if THREE_DECIMAL.contains(&code) {
        (3, 10)
    } else if WHOLE_UNITS_IN_TWO_DECIMALS.contains(&code) {
        (2, 100)
    } else {
        (2, 1)
    };
    let minimum = MINIMUM_CHARGE
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, minimum)| *minimum);
    Some(CurrencyRule {
        code,
        exponent,
        charge_step,
        minimum,
        maximum: MAXIMUM_CHARGE,
    })
}

/// `1234` with exponent 2 as `12.34`, by integer arithmetic (for messages).
pub(super) fn major(amount: i64, exponent: u32) -> String {
    if exponent == 0 {
        return amount.to_string();
    }
    let scale = 10_i64.pow(exponent);
    format!(
        "{}.{:0width$}",
        amount / scale,
        amount % scale,
        width = exponent as usize
    )
}

impl CurrencyRule {
    /// Stripe's checks on a charge amount, in the order it reports them.
    pub fn check_charge(&self, amount: i64, param: &str) -> Result<(), SimError> {
        let minimum = self.minimum.unwrap_or(1);
        if amount < minimum {
            let mut error = invalid(
                Some(param),
                "amount_too_small",
                format!(
                    "Amount must be at least {} {}",
                    major(minimum, self.exponent),
                    self.code
                ),
            );
            error.error["minimum"] = json!(minimum);
            return Err(error);
        }
        if amount > self.maximum {
            return Err(invalid(
                Some(param),
                "amount_too_large",
                format!("Amount must be no more than {}", self.maximum),
            ));
        }
        self.check_step(amount, param)
    }

    /// The divisibility rule alone (refunds and captures must follow it too).
    pub fn check_step(&self, amount: i64, param: &str) -> Result<(), SimError> {
        if amount % self.charge_step != 0 {
            return Err(invalid(
                Some(param),
                "invalid_charge_amount",
                format!(
                    "Invalid amount. Amounts in {} must be evenly divisible by {}. See https://stripe.com/docs/currencies#special-cases for more information.",
                    self.code.to_ascii_uppercase(),
                    self.charge_step
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(result: Result<(), SimError>) -> Option<String> {
        result
            .err()
            .map(|e| e.error["code"].as_str().unwrap().to_string())
    }

    #[test]
    fn ugx_and_isk_are_two_decimal_whole_units() {
        for code in ["ugx", "isk"] {
            let rule = rule(code).unwrap();
            assert_eq!((rule.exponent, rule.charge_step), (2, 100), "{code}");
            assert_eq!(code_of(rule.check_charge(500, "amount")), None);
            assert_eq!(
                code_of(rule.check_charge(550, "amount")).as_deref(),
                Some("invalid_charge_amount")
            );
        }
    }

    #[test]
    fn three_decimal_amounts_end_in_zero() {
        let kwd = rule("kwd").unwrap();
        assert_eq!(kwd.exponent, 3);
        assert_eq!(code_of(kwd.check_charge(1230, "amount")), None);
        assert_eq!(
            code_of(kwd.check_charge(1235, "amount")).as_deref(),
            Some("invalid_charge_amount")
        );
    }

    #[test]
    fn minimum_and_maximum_are_enforced() {
        let usd = rule("usd").unwrap();
        assert_eq!(
            code_of(usd.check_charge(49, "amount")).as_deref(),
            Some("amount_too_small")
        );
        assert_eq!(code_of(usd.check_charge(50, "amount")), None);
        assert_eq!(code_of(usd.check_charge(99_999_999, "amount")), None);
        assert_eq!(
            code_of(usd.check_charge(100_000_000, "amount")).as_deref(),
            Some("amount_too_large")
        );
        let jpy = rule("jpy").unwrap();
        assert_eq!((jpy.exponent, jpy.minimum), (0, Some(50)));
        // No published minimum: still at least one minor unit.
        assert_eq!(
            code_of(rule("kwd").unwrap().check_charge(0, "amount")).as_deref(),
            Some("amount_too_small")
        );
    }

    #[test]
    fn huf_and_twd_charge_in_two_decimals_and_codes_are_lowercase() {
        assert_eq!(rule("huf").unwrap().exponent, 2);
        assert_eq!(rule("huf").unwrap().minimum, Some(17_500));
        assert_eq!(rule("twd").unwrap().exponent, 2);
        assert!(rule("USD").is_none());
        assert!(rule("xyz").is_none());
        let mut all: Vec<&str> = codes().collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "no code is listed twice");
        for (code, _) in MINIMUM_CHARGE {
            assert!(rule(code).is_some(), "{code}");
        }
    }

    #[test]
    fn messages_show_major_units_without_floats() {
        assert_eq!(major(50, 2), "0.50");
        assert_eq!(major(17_500, 2), "175.00");
        assert_eq!(major(50, 0), "50");
        assert_eq!(major(1_230, 3), "1.230");
    }
}
