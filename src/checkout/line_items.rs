//! The order's line items as the PaymentIntent carries them in its Stripe
//! metadata (JSON, unit prices in minor units: the seed documents' shape).
//! The API's own answers use `views::LineItemView` (decimal strings).

use serde::Serialize;

use crate::domain::Currency;
use crate::store::orders::ItemRow;

/// Stripe caps a metadata value at 500 characters.
pub const METADATA_VALUE_LIMIT: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineItem {
    pub name: String,
    /// Unit price in minor units (5600 = 56.00 usd).
    pub amount: i64,
    pub currency: String,
    pub quantity: i64,
    pub description: String,
}

pub fn from_items(items: &[ItemRow], currency: Currency) -> Vec<LineItem> {
    items
        .iter()
        .map(|item| LineItem {
            name: item.name.clone(),
            amount: item.unit_amount,
            currency: currency.code().to_string(),
            quantity: item.quantity,
            description: String::new(),
        })
        .collect()
}

/// `metadata[line_items]`: the JSON list, cut to Stripe's 500-character limit.
/// When items must be dropped, the list ends with `{"more_items": n}` so the
/// value stays valid JSON and says it is partial (the order has them all).
pub fn metadata_value(items: &[LineItem]) -> String {
    let full = serde_json::to_string(items).expect("line items serialize");
    if full.chars().count() <= METADATA_VALUE_LIMIT {
        return full;
    }
    for keep in (0..items.len()).rev() {
        let mut list: Vec<serde_json::Value> =
            items[..keep].iter().map(|i| serde_json::json!(i)).collect();
        list.push(serde_json::json!({ "more_items": items.len() - keep }));
        let text = serde_json::to_string(&list).expect("JSON");
        if text.chars().count() <= METADATA_VALUE_LIMIT {
            return text;
        }
    }
    serde_json::json!([{ "more_items": items.len() }]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str) -> LineItem {
        LineItem {
            name: name.into(),
            amount: 5600,
            currency: "usd".into(),
            quantity: 2,
            description: String::new(),
        }
    }

    #[test]
    fn small_orders_are_carried_whole_in_the_seed_shape() {
        let value = metadata_value(&[item("Main product 2")]);
        assert_eq!(
            value,
            r#"[{"name":"Main product 2","amount":5600,"currency":"usd","quantity":2,"description":""}]"#
        );
    }

    #[test]
    fn large_orders_are_cut_to_stripe_limit_and_say_so() {
        let items: Vec<LineItem> = (0..40)
            .map(|n| item(&format!("Product with a long name {n}")))
            .collect();
        let value = metadata_value(&items);
        assert!(value.chars().count() <= METADATA_VALUE_LIMIT);
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&value).unwrap();
        let more = parsed.last().unwrap()["more_items"].as_u64().unwrap() as usize;
        assert_eq!(parsed.len() - 1 + more, 40);
    }
}
