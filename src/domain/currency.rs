//! Currencies as Stripe sees them: which ISO codes it charges in, how many
//! fraction digits the API's integer amounts carry, and the per-currency rules
//! that turn an otherwise valid amount into a rejected one.
//!
//! Source: docs.stripe.com/currencies (zero-decimal, three-decimal, special
//! cases, minimum and maximum charge amounts).

use std::fmt;

use super::unknown_name::UnknownName;

/// A currency Stripe accepts for card charges, lowercase ISO 4217 code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
}

/// Zero-decimal: the API amount is the whole unit (500 JPY -> 500). Not UGX:
/// Stripe's zero-decimal list links it, but its special cases take it as a
/// two-decimal currency like ISK (see `WHOLE_UNITS_ONLY`).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv", "xaf",
    "xof", "xpf",
];

/// Three-decimal: the minor unit is 1/1000 and Stripe requires the last digit to be 0.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// ISK and UGX are two-decimal in the API, but charges must be whole krónur or
/// shillings: the last two digits are always 00 (5 UGX is sent as 500; 550 is
/// refused). Both are also in `TWO_DECIMAL`.
const WHOLE_UNITS_ONLY: &[&str] = &["isk", "ugx"];

/// Two-decimal currencies Stripe charges cards in (HUF and TWD included: they are
/// zero-decimal only for payouts, which orderpay never makes).
const TWO_DECIMAL: &[&str] = &[
    "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt",
    "bgn", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad", "cdf", "chf", "cny",
    "cop", "crc", "cve", "czk", "dkk", "dop", "dzd", "egp", "etb", "eur", "fjd", "fkp", "gbp",
    "gel", "gip", "gmd", "gtq", "gyd", "hkd", "hnl", "htg", "huf", "idr", "ils", "inr", "isk",
    "jmd", "kes", "kgs", "khr", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl",
    "mkd", "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio",
    "nok", "npr", "nzd", "pab", "pen", "pgk", "php", "pkr", "pln", "qar", "ron", "rsd", "rub",
    "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl", "thb", "tjs",
    "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "usd", "uyu", "uzs", "wst", "xcd", "yer",
    "zar", "zmw",
];

/// Stripe's minimum charge, in minor units, for the currencies where it publishes one.
/// Others are checked by Stripe itself against the USD 0.50 equivalent.
const MINIMUM_CHARGE: &[(&str, i64)] = &[
    ("usd", 50),
    ("aed", 200),
    ("aud", 50),
    ("bgn", 100),
    ("brl", 50),
    ("cad", 50),
    ("chf", 50),
    ("czk", 1500),
    ("dkk", 250),
    ("eur", 50),
    ("gbp", 30),
    ("hkd", 400),
    ("huf", 17500),
    ("inr", 50),
    ("jpy", 50),
    ("mxn", 1000),
    ("myr", 200),
    ("nok", 300),
    ("nzd", 50),
    ("pln", 200),
    ("ron", 200),
    ("sek", 300),
    ("sgd", 50),
    ("thb", 1000),
];

/// Stripe caps amounts at eight digits of minor units (999,999.99 USD).
pub const MAX_MINOR_AMOUNT: i64 = 99_999_999;

impl Currency {
    /// Looks a code up case-insensitively; `None` for codes Stripe does not charge in.
    pub fn parse(code: &str) -> Option<Currency> {
        let lower = code.trim().to_ascii_lowercase();
        ZERO_DECIMAL
            .iter()
            .chain(THREE_DECIMAL)
            .chain(TWO_DECIMAL)
            .find(|c| **c == lower)
            .map(|code| Currency { code })
    }

    /// A code exactly as `code()` writes it (lowercase, nothing around it):
    /// how a stored currency is read back. Anything else is unknown, where
    /// `parse` (for input) would forgive case and spaces.
    pub fn from_code(code: &str) -> Result<Currency, UnknownName> {
        Currency::parse(code)
            .filter(|currency| currency.code == code)
            .ok_or_else(|| UnknownName::new("currency", code))
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Number of fraction digits in the API's integer amount (0, 2 or 3).
    pub fn exponent(&self) -> u32 {
        if ZERO_DECIMAL.contains(&self.code) {
            0
        } else if THREE_DECIMAL.contains(&self.code) {
            3
        } else {
            2
        }
    }

    /// The step every charged amount must be a multiple of, in minor units:
    /// 10 for three-decimal currencies, 100 for ISK and UGX, 1 otherwise.
    pub fn charge_step(&self) -> i64 {
        if THREE_DECIMAL.contains(&self.code) {
            10
        } else if WHOLE_UNITS_ONLY.contains(&self.code) {
            100
        } else {
            1
        }
    }

    /// Stripe's published minimum charge in minor units, where it has one.
    pub fn minimum_charge(&self) -> Option<i64> {
        MINIMUM_CHARGE
            .iter()
            .find(|(c, _)| *c == self.code)
            .map(|(_, min)| *min)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_follow_stripe() {
        assert_eq!(Currency::parse("USD").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("jpy").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("kwd").unwrap().exponent(), 3);
        assert_eq!(Currency::parse("huf").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("twd").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("isk").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("ugx").unwrap().exponent(), 2);
    }

    #[test]
    fn unknown_codes_are_rejected() {
        assert!(Currency::parse("xyz").is_none());
        assert!(Currency::parse("").is_none());
        assert!(Currency::parse("us").is_none());
    }

    #[test]
    fn a_stored_code_reads_back_exactly() {
        for code in ZERO_DECIMAL.iter().chain(THREE_DECIMAL).chain(TWO_DECIMAL) {
            assert_eq!(Currency::from_code(code).map(|c| c.code()), Ok(*code));
        }
        for stored in ["USD", " usd", "xyz", ""] {
            assert_eq!(
                Currency::from_code(stored),
                Err(UnknownName::new("currency", stored))
            );
        }
    }

    #[test]
    fn charge_steps() {
        assert_eq!(Currency::parse("kwd").unwrap().charge_step(), 10);
        assert_eq!(Currency::parse("isk").unwrap().charge_step(), 100);
        assert_eq!(Currency::parse("ugx").unwrap().charge_step(), 100);
        assert_eq!(Currency::parse("usd").unwrap().charge_step(), 1);
        assert_eq!(Currency::parse("jpy").unwrap().charge_step(), 1);
    }

    #[test]
    fn whole_unit_currencies_are_two_decimal() {
        for code in WHOLE_UNITS_ONLY {
            assert!(TWO_DECIMAL.contains(code), "{code}");
            assert!(!ZERO_DECIMAL.contains(code), "{code}");
        }
    }

    #[test]
    fn every_listed_code_is_lowercase_and_three_letters() {
        for code in ZERO_DECIMAL.iter().chain(THREE_DECIMAL).chain(TWO_DECIMAL) {
            assert_eq!(code.len(), 3, "{code}");
            assert!(code.chars().all(|c| c.is_ascii_lowercase()), "{code}");
        }
        for (code, _) in MINIMUM_CHARGE {
            assert!(Currency::parse(code).is_some(), "{code}");
        }
    }
}
