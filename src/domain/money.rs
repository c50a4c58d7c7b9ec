//! Exact money: integer minor units in storage and arithmetic, decimal strings
//! in major units at the API. Nothing here ever touches a float, and input is
//! read digit by digit from its text: a decimal type would round text longer
//! than its ~28 digits ("0.49999999999999999999999999999" to 0.50) before any
//! check could see the extra digits.

use super::currency::{Currency, MAX_MINOR_AMOUNT};

/// Longer amount text is refused before it is looked at: no amount Stripe
/// can charge needs it, even written with an exponent or padding zeros.
pub const MAX_AMOUNT_TEXT_LEN: usize = 40;

/// Digits of the largest amount Stripe charges (99,999,999 minor units).
const MAX_MINOR_DIGITS: i64 = 8;

/// Why an amount was refused. Each maps to its own machine-readable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a decimal number such as \"12.50\"")]
    Malformed,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must be greater than zero")]
    NotPositive,
    #[error("{currency} allows at most {max} decimal places")]
    TooManyDecimals { currency: Currency, max: u32 },
    #[error("{currency} amounts must be a multiple of {step}")]
    NotChargeable { currency: Currency, step: String },
    #[error("exceeds the maximum of {max} {currency}")]
    TooLarge { currency: Currency, max: String },
}

impl MoneyError {
    pub fn code(&self) -> &'static str {
        match self {
            MoneyError::Malformed => "invalid_amount",
            MoneyError::TooLong { .. } => "amount_too_long",
            MoneyError::NotPositive => "amount_not_positive",
            MoneyError::TooManyDecimals { .. } => "too_many_decimals",
            MoneyError::NotChargeable { .. } => "amount_not_chargeable",
            MoneyError::TooLarge { .. } => "amount_too_large",
        }
    }
}

/// Parses a major-unit decimal ("112.00", "500", "1.25", "1.5e2") into minor
/// units for `currency`, refusing rather than rounding anything Stripe would
/// not charge. Every check works on the digits of the text itself.
pub fn parse_major(text: &str, currency: Currency) -> Result<i64, MoneyError> {
    if text.len() > MAX_AMOUNT_TEXT_LEN {
        return Err(MoneyError::TooLong {
            max: MAX_AMOUNT_TEXT_LEN,
        });
    }
    let number = DecimalText::scan(text)?;
    if number.negative || number.digits.is_empty() {
        return Err(MoneyError::NotPositive);
    }
    let exponent = i64::from(currency.exponent());
    if number.scale > exponent {
        return Err(MoneyError::TooManyDecimals {
            currency,
            max: currency.exponent(),
        });
    }
    // In minor units the value is `digits` followed by this many zeros.
    let zeros = exponent - number.scale;
    if number.digits.len() as i64 + zeros > MAX_MINOR_DIGITS {
        return Err(MoneyError::TooLarge {
            currency,
            max: format_major(MAX_MINOR_AMOUNT, currency),
        });
    }
    let significant: i64 = number.digits.parse().map_err(|_| MoneyError::Malformed)?;
    // At most eight digits in all (checked above): no overflow.
    let minor = significant * 10_i64.pow(zeros as u32);
    check_minor(minor, currency)?;
    Ok(minor)
}

/// Checks an amount already in minor units against Stripe's limits for the currency.
pub fn check_minor(minor: i64, currency: Currency) -> Result<(), MoneyError> {
    if minor <= 0 {
        return Err(MoneyError::NotPositive);
    }
    if minor > MAX_MINOR_AMOUNT {
        return Err(MoneyError::TooLarge {
            currency,
            max: format_major(MAX_MINOR_AMOUNT, currency),
        });
    }
    let step = currency.charge_step();
    if minor % step != 0 {
        return Err(MoneyError::NotChargeable {
            currency,
            step: format_major(step, currency),
        });
    }
    Ok(())
}

/// Renders minor units as a major-unit decimal string with exactly the
/// currency's number of fraction digits: 11200 usd -> "112.00", 500 jpy -> "500".
pub fn format_major(minor: i64, currency: Currency) -> String {
    let exponent = currency.exponent();
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10_u64.pow(exponent);
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = exponent as usize
    )
}

/// A decimal number as written: `-`? digits (`.` digits)? ([eE] [+-]? digits)?,
/// the JSON number grammar (leading zeros allowed). Nothing else: no spaces,
/// no leading '+' or '.', no thousands separators, no "NaN".
#[derive(Debug, PartialEq, Eq)]
struct DecimalText {
    negative: bool,
    /// The significant digits: no leading or trailing zeros (empty for zero).
    digits: String,
    /// The value is `digits` x 10^-scale (negative for trailing zeros of a whole number).
    scale: i64,
}

/// Exponents are clamped here: far beyond any amount, too large or too small
/// either way, and never an overflow.
const EXPONENT_CLAMP: i64 = 10_000;

impl DecimalText {
    fn scan(text: &str) -> Result<DecimalText, MoneyError> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (whole, fraction) = match mantissa.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (mantissa, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(MoneyError::Malformed);
        }
        let fraction = fraction.unwrap_or("");
        let exponent = match exponent {
            None => 0,
            Some(e) => {
                let (sign, digits) = match e.as_bytes().first() {
                    Some(b'-') => (-1, &e[1..]),
                    Some(b'+') => (1, &e[1..]),
                    _ => (1, e),
                };
                if !all_digits(digits) {
                    return Err(MoneyError::Malformed);
                }
                let digits = digits.trim_start_matches('0');
                let magnitude = if digits.len() > 5 {
                    EXPONENT_CLAMP
                } else {
                    digits.parse::<i64>().unwrap_or(0).min(EXPONENT_CLAMP)
                };
                sign * magnitude
            }
        };
        let mut scale = fraction.len() as i64 - exponent;
        let joined = format!("{whole}{fraction}");
        let trimmed = joined.trim_start_matches('0');
        let significant = trimmed.trim_end_matches('0');
        scale -= (trimmed.len() - significant.len()) as i64;
        Ok(DecimalText {
            negative,
            digits: significant.to_string(),
            scale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn parses_each_exponent_exactly() {
        assert_eq!(parse_major("112.00", cur("usd")), Ok(11200));
        assert_eq!(parse_major("0.1", cur("usd")), Ok(10));
        assert_eq!(parse_major("19.99", cur("eur")), Ok(1999));
        assert_eq!(parse_major("500", cur("jpy")), Ok(500));
        assert_eq!(parse_major("1.230", cur("kwd")), Ok(1230));
        assert_eq!(parse_major("1.5e2", cur("usd")), Ok(15000));
        assert_eq!(parse_major("12.500", cur("usd")), Ok(1250));
    }

    #[test]
    fn refuses_instead_of_rounding() {
        assert!(matches!(
            parse_major("1.005", cur("usd")),
            Err(MoneyError::TooManyDecimals { max: 2, .. })
        ));
        assert!(matches!(
            parse_major("1.5", cur("jpy")),
            Err(MoneyError::TooManyDecimals { max: 0, .. })
        ));
        assert!(matches!(
            parse_major("1.235", cur("kwd")),
            Err(MoneyError::NotChargeable { .. })
        ));
        assert!(matches!(
            parse_major("10.50", cur("isk")),
            Err(MoneyError::NotChargeable { .. })
        ));
        assert_eq!(parse_major("10.00", cur("isk")), Ok(1000));
    }

    #[test]
    fn refuses_zero_negative_huge_and_garbage() {
        assert_eq!(parse_major("0", cur("usd")), Err(MoneyError::NotPositive));
        assert_eq!(
            parse_major("0.00", cur("usd")),
            Err(MoneyError::NotPositive)
        );
        assert_eq!(parse_major("-5", cur("usd")), Err(MoneyError::NotPositive));
        assert!(matches!(
            parse_major("1000000.00", cur("usd")),
            Err(MoneyError::TooLarge { .. })
        ));
        assert!(matches!(
            parse_major("100000000", cur("jpy")),
            Err(MoneyError::TooLarge { .. })
        ));
        assert!(matches!(
            parse_major("1e400", cur("usd")),
            Err(MoneyError::Malformed | MoneyError::TooLarge { .. })
        ));
        for bad in [
            "", "abc", "1,00", " 1", "+1", ".5", "5.", "NaN", "1..2", "--1",
        ] {
            assert_eq!(
                parse_major(bad, cur("usd")),
                Err(MoneyError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn ugx_is_two_decimal_in_whole_shillings() {
        assert_eq!(parse_major("5000", cur("ugx")), Ok(500_000));
        assert_eq!(parse_major("5", cur("ugx")), Ok(500));
        assert_eq!(parse_major("5.00", cur("ugx")), Ok(500));
        assert!(matches!(
            parse_major("5.50", cur("ugx")),
            Err(MoneyError::NotChargeable { .. })
        ));
        assert_eq!(format_major(500_000, cur("ugx")), "5000.00");
    }

    #[test]
    fn long_text_is_judged_by_its_digits_not_rounded() {
        let usd = cur("usd");
        // 29 fraction digits: a 28-digit decimal type would make this 0.50.
        assert_eq!(
            parse_major("0.49999999999999999999999999999", usd),
            Err(MoneyError::TooManyDecimals {
                currency: usd,
                max: 2
            })
        );
        assert_eq!(
            parse_major("0.4999999999999999999999999999e0", usd),
            Err(MoneyError::TooManyDecimals {
                currency: usd,
                max: 2
            })
        );
        assert!(matches!(
            parse_major("99999999999999999999999999999.99", usd),
            Err(MoneyError::TooLarge { .. })
        ));
        assert!(matches!(
            parse_major("1e-10000000000000000000", usd),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        // Trailing zeros change nothing: the value is exactly 0.50.
        assert_eq!(parse_major("0.50000000000000000000000000000", usd), Ok(50));
        let long = format!("1.{}", "0".repeat(MAX_AMOUNT_TEXT_LEN));
        assert_eq!(
            parse_major(&long, usd),
            Err(MoneyError::TooLong {
                max: MAX_AMOUNT_TEXT_LEN
            })
        );
    }

    #[test]
    fn exponents_are_read_from_the_text() {
        assert_eq!(parse_major("1e2", cur("usd")), Ok(10000));
        assert_eq!(parse_major("1E+2", cur("usd")), Ok(10000));
        assert_eq!(parse_major("125e-2", cur("usd")), Ok(125));
        assert_eq!(parse_major("0.5e1", cur("jpy")), Ok(5));
        assert!(matches!(
            parse_major("125e-3", cur("usd")),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        assert_eq!(parse_major("0e5", cur("usd")), Err(MoneyError::NotPositive));
        for bad in ["1e", "1e+", "e5", "1e2.5", "1.e2", "-", "1-2", "0x10"] {
            assert_eq!(
                parse_major(bad, cur("usd")),
                Err(MoneyError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn formats_with_the_currency_digits() {
        assert_eq!(format_major(11200, cur("usd")), "112.00");
        assert_eq!(format_major(5, cur("usd")), "0.05");
        assert_eq!(format_major(500, cur("jpy")), "500");
        assert_eq!(format_major(1230, cur("kwd")), "1.230");
        assert_eq!(format_major(-150, cur("eur")), "-1.50");
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        prop::sample::select(vec![
            "usd", "eur", "jpy", "kwd", "bhd", "isk", "ugx", "huf", "krw",
        ])
        .prop_map(cur)
    }

    /// A plain decimal written without padding: "0012.500" -> "12.5", "0.0" -> "0".
    fn canonical(text: &str) -> String {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let whole = whole.trim_start_matches('0');
        let fraction = fraction.trim_end_matches('0');
        let whole = if whole.is_empty() { "0" } else { whole };
        if fraction.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{fraction}")
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(currency in any_currency(), units in 1_i64..=MAX_MINOR_AMOUNT) {
            let minor = units - units % currency.charge_step();
            prop_assume!(minor > 0);
            let text = format_major(minor, currency);
            prop_assert_eq!(parse_major(&text, currency), Ok(minor));
        }

        #[test]
        fn parse_then_format_is_canonical(whole in 0_u64..999_999, frac in 0_u64..100) {
            let currency = cur("usd");
            let text = format!("{whole}.{frac:02}");
            match parse_major(&text, currency) {
                Ok(minor) => prop_assert_eq!(format_major(minor, currency), text),
                Err(e) => prop_assert_eq!(e, MoneyError::NotPositive),
            }
        }

        #[test]
        fn extra_fraction_digits_are_never_rounded_away(whole in 0_u64..1000, digit in 1_u64..10) {
            let text = format!("{whole}.00{digit}");
            let refused = matches!(
                parse_major(&text, cur("usd")),
                Err(MoneyError::TooManyDecimals { .. })
            );
            prop_assert!(refused);
        }

        /// However many digits follow the currency's last decimal place, and
        /// however long the text, a non-zero digit there is refused.
        #[test]
        fn any_extra_fraction_digit_is_refused_at_any_length(
            currency in any_currency(),
            whole in "[0-9]{1,30}",
            allowed in "[0-9]{3}",
            padding in "[0-9]{0,40}",
            last in 1_u8..10,
        ) {
            let allowed = &allowed[..currency.exponent() as usize];
            let text = format!("{whole}.{allowed}{padding}{last}");
            let refused = matches!(
                parse_major(&text, currency),
                Err(MoneyError::TooManyDecimals { .. } | MoneyError::TooLong { .. })
            );
            prop_assert!(refused, "{} accepted for {}", text, currency);
        }

        /// Whatever is accepted stands for exactly the value that is shown back.
        #[test]
        fn whatever_is_accepted_formats_back_to_the_same_value(
            currency in any_currency(),
            text in "[0-9]{1,12}(\\.[0-9]{0,5}[1-9]?)?",
        ) {
            if let Ok(minor) = parse_major(&text, currency) {
                prop_assert_eq!(canonical(&format_major(minor, currency)), canonical(&text));
            }
        }

        #[test]
        fn an_exponent_only_moves_the_point(digits in "[1-9][0-9]{0,3}", shift in 0_usize..4) {
            let currency = cur("usd");
            let plain = format!("{digits}{}", "0".repeat(shift));
            prop_assert_eq!(
                parse_major(&format!("{digits}e{shift}"), currency),
                parse_major(&plain, currency)
            );
            prop_assert_eq!(
                parse_major(&format!("{plain}e-{shift}"), currency),
                parse_major(&digits, currency)
            );
        }

        #[test]
        fn amounts_scale_by_ten_to_the_exponent(currency in any_currency(), whole in 1_i64..9_999) {
            let expected = whole * 10_i64.pow(currency.exponent());
            prop_assume!(expected % currency.charge_step() == 0);
            prop_assert_eq!(parse_major(&whole.to_string(), currency), Ok(expected));
        }
    }
}
