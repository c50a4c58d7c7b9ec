//! Turning requested lines (sku + quantity) into priced order lines and a
//! total, from the server's catalog. The client never sets what it pays; only
//! an admin creating a test order may set a unit price explicitly.

use std::borrow::Cow;

use super::currency::Currency;
use super::money::{self, format_major, MoneyError};

pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: i64 = 999;

/// What the catalog says about a sku.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub sku: String,
    pub name: String,
    pub currency: Currency,
    pub unit_amount: i64,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct LineRequest {
    pub sku: String,
    pub quantity: i64,
    /// Admin-only explicit unit price, major units as sent.
    pub unit_amount: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    pub sku: String,
    pub name: String,
    pub unit_amount: i64,
    pub quantity: i64,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedOrder {
    pub currency: Currency,
    pub lines: Vec<PricedLine>,
    pub amount: i64,
}

/// A refusal tied to one input field, e.g. `items[2].quantity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: Cow<'static, str>,
    pub message: String,
}

impl FieldError {
    fn new(field: String, code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }

    fn money(field: String, err: MoneyError) -> Self {
        FieldError::new(field, err.code(), err.to_string())
    }
}

/// Prices `lines` (named `list_field` in the request, for error paths).
/// `currency`, when given, must be the currency of every product.
pub fn price_order(
    list_field: &str,
    lines: &[LineRequest],
    currency: Option<Currency>,
    lookup: impl Fn(&str) -> Option<CatalogEntry>,
) -> Result<PricedOrder, FieldError> {
    if lines.is_empty() {
        return Err(FieldError::new(
            list_field.into(),
            "empty_order",
            "must contain at least one item",
        ));
    }
    if lines.len() > MAX_LINES {
        return Err(FieldError::new(
            list_field.into(),
            "too_many_items",
            format!("must contain at most {MAX_LINES} items"),
        ));
    }
    let mut order_currency = currency;
    let mut priced = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let field = |name: &str| format!("{list_field}[{index}].{name}");
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(FieldError::new(
                field("quantity"),
                "invalid_quantity",
                format!("must be between 1 and {MAX_QUANTITY}"),
            ));
        }
        let entry = lookup(&line.sku).ok_or_else(|| {
            FieldError::new(
                field("sku"),
                "unknown_sku",
                format!("no product with sku '{}'", line.sku),
            )
        })?;
        if !entry.active {
            return Err(FieldError::new(
                field("sku"),
                "product_inactive",
                format!("product '{}' is not for sale", entry.sku),
            ));
        }
        let currency = *order_currency.get_or_insert(entry.currency);
        if entry.currency != currency {
            return Err(FieldError::new(
                field("sku"),
                "currency_mismatch",
                format!(
                    "product '{}' is priced in {}, the order is in {}",
                    entry.sku, entry.currency, currency
                ),
            ));
        }
        let unit_amount = match &line.unit_amount {
            Some(text) => money::parse_major(text, currency)
                .map_err(|e| FieldError::money(field("unit_amount"), e))?,
            None => entry.unit_amount,
        };
        let amount = unit_amount
            .checked_mul(line.quantity)
            .ok_or(MoneyError::TooLarge {
                currency,
                max: format_major(super::currency::MAX_MINOR_AMOUNT, currency),
            })
            .and_then(|amount| money::check_minor(amount, currency).map(|_| amount))
            .map_err(|e| FieldError::money(field("quantity"), e))?;
        priced.push(PricedLine {
            sku: entry.sku,
            name: entry.name,
            unit_amount,
            quantity: line.quantity,
            amount,
        });
    }
    let currency = order_currency.expect("at least one line was priced");
    let total = priced
        .iter()
        .try_fold(0_i64, |sum, line| sum.checked_add(line.amount))
        .unwrap_or(i64::MAX);
    money::check_minor(total, currency).map_err(|e| FieldError::money(list_field.into(), e))?;
    if let Some(minimum) = currency.minimum_charge() {
        if total < minimum {
            return Err(FieldError::new(
                list_field.into(),
                "amount_below_minimum",
                format!(
                    "the total {} {currency} is below Stripe's minimum charge of {}",
                    format_major(total, currency),
                    format_major(minimum, currency)
                ),
            ));
        }
    }
    Ok(PricedOrder {
        currency,
        lines: priced,
        amount: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(sku: &str) -> Option<CatalogEntry> {
        let (currency, unit_amount, active) = match sku {
            "TEE" => ("usd", 2500, true),
            "MUG" => ("usd", 1250, true),
            "OLD" => ("usd", 1000, false),
            "TEA" => ("jpy", 1200, true),
            "DATES" => ("kwd", 4250, true),
            "GUM" => ("usd", 10, true),
            _ => return None,
        };
        Some(CatalogEntry {
            sku: sku.into(),
            name: format!("{sku} name"),
            currency: Currency::parse(currency).unwrap(),
            unit_amount,
            active,
        })
    }

    fn line(sku: &str, quantity: i64) -> LineRequest {
        LineRequest {
            sku: sku.into(),
            quantity,
            unit_amount: None,
        }
    }

    #[test]
    fn totals_come_from_the_catalog() {
        let order = price_order("items", &[line("TEE", 2), line("MUG", 3)], None, catalog).unwrap();
        assert_eq!(order.currency.code(), "usd");
        assert_eq!(order.amount, 2 * 2500 + 3 * 1250);
        assert_eq!(order.lines[1].amount, 3750);
        let order = price_order("items", &[line("DATES", 3)], None, catalog).unwrap();
        assert_eq!(order.amount, 12750);
    }

    #[test]
    fn errors_name_the_field() {
        let err =
            price_order("items", &[line("TEE", 1), line("NOPE", 1)], None, catalog).unwrap_err();
        assert_eq!(
            (err.field.as_str(), &*err.code),
            ("items[1].sku", "unknown_sku")
        );
        let err = price_order("items", &[line("TEE", 0)], None, catalog).unwrap_err();
        assert_eq!(
            (err.field.as_str(), &*err.code),
            ("items[0].quantity", "invalid_quantity")
        );
        let err =
            price_order("items", &[line("TEE", 1), line("TEA", 1)], None, catalog).unwrap_err();
        assert_eq!(
            (err.field.as_str(), &*err.code),
            ("items[1].sku", "currency_mismatch")
        );
        let err = price_order("items", &[line("OLD", 1)], None, catalog).unwrap_err();
        assert_eq!(&*err.code, "product_inactive");
        let err = price_order("items", &[], None, catalog).unwrap_err();
        assert_eq!((err.field.as_str(), &*err.code), ("items", "empty_order"));
        let err = price_order("items", &[line("GUM", 1)], None, catalog).unwrap_err();
        assert_eq!(&*err.code, "amount_below_minimum");
    }

    #[test]
    fn explicit_currency_must_match_products() {
        let eur = Currency::parse("eur");
        let err = price_order("items", &[line("TEE", 1)], eur, catalog).unwrap_err();
        assert_eq!(&*err.code, "currency_mismatch");
    }

    #[test]
    fn explicit_unit_prices_are_parsed_in_the_order_currency() {
        let mut custom = line("DATES", 2);
        custom.unit_amount = Some("1.235".into());
        let err = price_order("line_items", &[custom.clone()], None, catalog).unwrap_err();
        assert_eq!(err.field, "line_items[0].unit_amount");
        assert_eq!(&*err.code, "amount_not_chargeable");
        custom.unit_amount = Some("1.230".into());
        assert_eq!(
            price_order("line_items", &[custom], None, catalog)
                .unwrap()
                .amount,
            2460
        );
    }

    #[test]
    fn overflowing_totals_are_refused_not_wrapped() {
        let mut big = line("TEE", 999);
        big.unit_amount = Some("999999.99".into());
        let err = price_order("items", &[big], None, catalog).unwrap_err();
        assert_eq!(&*err.code, "amount_too_large");
    }
}
