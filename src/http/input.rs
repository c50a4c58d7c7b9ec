//! Request-side value types shared by several routes.

use rocket::request::FromParam;
use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject, SubschemaValidation};
use schemars::JsonSchema;
use serde::de::{Deserializer, Error};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::domain::Currency;
use crate::http::error::{ApiError, ApiResult};

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

/// For an optional field that may be left out but not sent as `null`: use as
/// `#[serde(default, deserialize_with = "input::not_null")]`. A client that
/// sends `null` may mean "none" or "all"; the API makes it say which.
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    match Option::<T>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(D::Error::custom(
            "must not be null; leave the field out instead",
        )),
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

/// Whether `text` holds a control character (U+0000-U+001F, U+007F-U+009F).
/// No name, email, sku, id, filter or password of this API has one, and
/// PostgreSQL refuses NUL in text outright; they are refused at the edge.
pub fn has_control_character(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// The 422 for a `field` whose text holds a control character.
pub fn control_character_error(field: &str) -> ApiError {
    ApiError::invalid_field(
        "control_character",
        field,
        "must not contain control characters (such as NUL or a line break)",
    )
}

/// Whether `text` is an id as orderpay makes them (`db::new_id`): a UUID in
/// its canonical lowercase, hyphenated form.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// A `<id>` path parameter: an orderpay id (UUID). Anything else names no
/// resource, so the route does not match and the answer is 404 (or 405 with
/// the methods the path really has), never a lookup of a word like `login`.
/// The catcher relies on this: a route parameter named `<id>` is always an `Id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id<'r>(pub &'r str);

impl<'r> FromParam<'r> for Id<'r> {
    type Error = &'r str;

    fn from_param(param: &'r str) -> Result<Self, Self::Error> {
        if is_uuid(param) {
            Ok(Id(param))
        } else {
            Err(param)
        }
    }
}

impl std::ops::Deref for Id<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        self.0
    }
}

/// A query parameter that must be an orderpay id (an `order_id` filter).
pub fn id_param<'a>(field: &str, raw: &'a str) -> ApiResult<&'a str> {
    if is_uuid(raw) {
        Ok(raw)
    } else {
        Err(ApiError::invalid_field(
            "invalid_id",
            field,
            "must be an id as this API returns them (a lowercase UUID)",
        ))
    }
}

/// A `currency` query parameter: any case, one Stripe knows.
pub fn currency_param(raw: &str) -> ApiResult<Currency> {
    Currency::parse(raw).ok_or_else(|| {
        ApiError::invalid_field(
            "unsupported_currency",
            "currency",
            format!("'{raw}' is not a known currency"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_canonical_uuids() {
        assert!(is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
        for bad in [
            "login",
            "me",
            "",
            "0F8FAD5B-D9CB-469F-A165-70867728950E",
            "0f8fad5bd9cb469fa16570867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950\0",
            "{0f8fad5b-d9cb-469f-a165-70867728950e}",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
        assert!(Id::from_param("login").is_err());
    }

    #[test]
    fn control_characters_are_found() {
        assert!(has_control_character("a\u{0}b"));
        assert!(has_control_character("line\nbreak"));
        assert!(has_control_character("\u{85}"));
        assert!(!has_control_character("Zoë O'Brien +1 café"));
    }

    #[derive(Deserialize)]
    struct Holder {
        amount: AmountInput,
    }

    fn amount(json: &str) -> Result<String, String> {
        crate::http::body::parse::<Holder>(json)
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
