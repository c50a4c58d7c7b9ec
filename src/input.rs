//! Request-side value types shared by several routes.

use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject, SubschemaValidation};
use schemars::JsonSchema;
use serde::de::{Deserializer, Error};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{ApiError, ApiResult};

/// An amount in major units as the client sent it: a JSON string ("112.00")
/// or a JSON number (112.00). The number's literal text is kept, so it never
/// passes through an f64; the currency-aware parse happens in `domain::money`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountInput(pub String);

impl<'de> Deserialize<'de> for AmountInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Box<RawValue> = Deserialize::deserialize(deserializer)?;
        let text = raw.get().trim();
        if text.starts_with('"') {
            let value: String = serde_json::from_str(text).map_err(D::Error::custom)?;
            Ok(AmountInput(value))
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            Ok(AmountInput(text.to_string()))
        } else {
            Err(D::Error::custom(
                "expected a decimal amount as a string (\"12.50\") or a number",
            ))
        }
    }
}

impl JsonSchema for AmountInput {
    fn schema_name() -> String {
        "AmountInput".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let string = SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            ..Default::default()
        };
        let number = SchemaObject {
            instance_type: Some(InstanceType::Number.into()),
            ..Default::default()
        };
        let mut schema = SchemaObject {
            subschemas: Some(Box::new(SubschemaValidation {
                one_of: Some(vec![string.into(), number.into()]),
                ..Default::default()
            })),
            ..Default::default()
        };
        schema.metadata().description = Some(
            "Major units, e.g. \"112.00\" (usd), \"500\" (jpy), \"1.250\" (kwd). Parsed exactly; \
             more decimals than the currency has is an error, never rounded."
                .into(),
        );
        schema.into()
    }
}

/// A Stripe PaymentMethod id as a client sends it (`payment_method`): cards
/// reach orderpay only as ids Stripe.js made, never as numbers.
pub fn payment_method_id(pm: &str) -> ApiResult<&str> {
    let plausible = pm.starts_with("pm_")
        && pm.len() <= 255
        && pm.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !plausible {
        return Err(ApiError::invalid_field(
            "invalid_payment_method",
            "payment_method",
            "must be a Stripe PaymentMethod id (pm_...); card numbers are never accepted",
        ));
    }
    Ok(pm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        amount: AmountInput,
    }

    fn amount(json: &str) -> Result<String, String> {
        crate::body::parse::<Holder>(json)
            .map(|h| h.amount.0)
            .map_err(|e| e.message)
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        assert_eq!(amount(r#"{"amount": 0.1}"#).unwrap(), "0.1");
        assert_eq!(
            amount(r#"{"amount": 19.999999999999999999}"#).unwrap(),
            "19.999999999999999999"
        );
        assert_eq!(amount(r#"{"amount": 1e2}"#).unwrap(), "1e2");
        assert_eq!(amount(r#"{"amount": "112.00"}"#).unwrap(), "112.00");
    }

    #[test]
    fn other_json_types_are_refused_with_the_field() {
        let err = amount(r#"{"amount": true}"#).unwrap_err();
        assert!(err.starts_with("amount:"), "{err}");
        assert!(amount(r#"{"amount": null}"#).is_err());
        assert!(amount(r#"{"amount": [1]}"#).is_err());
    }
}
