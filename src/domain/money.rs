//! Exact money: integer minor units in storage and arithmetic, decimal strings
//! in major units at the API. Nothing here ever touches a float.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::currency::{Currency, MAX_MINOR_AMOUNT};

/// Why an amount was refused. Each maps to its own machine-readable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a decimal number such as \"12.50\"")]
    Malformed,
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
            MoneyError::NotPositive => "amount_not_positive",
            MoneyError::TooManyDecimals { .. } => "too_many_decimals",
            MoneyError::NotChargeable { .. } => "amount_not_chargeable",
            MoneyError::TooLarge { .. } => "amount_too_large",
        }
    }
}

/// Parses a major-unit decimal ("112.00", "500", "1.25") into minor units for
/// `currency`, refusing rather than rounding anything Stripe would not charge.
pub fn parse_major(text: &str, currency: Currency) -> Result<i64, MoneyError> {
    let value = parse_decimal(text)?;
    if value <= Decimal::ZERO {
        return Err(MoneyError::NotPositive);
    }
    let exponent = currency.exponent();
    if value.normalize().scale() > exponent {
        return Err(MoneyError::TooManyDecimals {
            currency,
            max: exponent,
        });
    }
    let too_large = || MoneyError::TooLarge {
        currency,
        max: format_major(MAX_MINOR_AMOUNT, currency),
    };
    let minor = value
        .checked_mul(Decimal::from(10_i64.pow(exponent)))
        .ok_or_else(too_large)?;
    let minor: i64 = i64::try_from(minor.trunc()).map_err(|_| too_large())?;
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

/// Accepts plain decimals and JSON-number exponents ("1.5e2"); nothing else
/// (no spaces, no leading '+', no thousands separators, no "NaN").
fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let looks_numeric = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+'))
        && text.chars().any(|c| c.is_ascii_digit())
        && !text.starts_with('+')
        && !text.starts_with('.')
        && !text.ends_with('.');
    if !looks_numeric {
        return Err(MoneyError::Malformed);
    }
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).map_err(|_| MoneyError::Malformed)
    } else {
        Decimal::from_str(text).map_err(|_| MoneyError::Malformed)
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
    fn formats_with_the_currency_digits() {
        assert_eq!(format_major(11200, cur("usd")), "112.00");
        assert_eq!(format_major(5, cur("usd")), "0.05");
        assert_eq!(format_major(500, cur("jpy")), "500");
        assert_eq!(format_major(1230, cur("kwd")), "1.230");
        assert_eq!(format_major(-150, cur("eur")), "-1.50");
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        prop::sample::select(vec!["usd", "eur", "jpy", "kwd", "bhd", "isk", "huf", "krw"])
            .prop_map(cur)
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

        #[test]
        fn amounts_scale_by_ten_to_the_exponent(currency in any_currency(), whole in 1_i64..9_999) {
            let expected = whole * 10_i64.pow(currency.exponent());
            prop_assume!(expected % currency.charge_step() == 0);
            prop_assert_eq!(parse_major(&whole.to_string(), currency), Ok(expected));
        }
    }
}
