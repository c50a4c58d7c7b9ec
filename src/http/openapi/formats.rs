//! Schemas for fields whose Rust type is a plain `String` but whose text has
//! a documented shape, for `#[schemars(schema_with = "...")]`.

use std::sync::OnceLock;

use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject};
use serde_json::{json, Value};

use crate::domain::Currency;

/// A timestamp as orderpay writes it (`db::now_text`): RFC 3339 in UTC.
pub fn date_time(_: &mut SchemaGenerator) -> Schema {
    SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        format: Some("date-time".to_string()),
        ..Default::default()
    }
    .into()
}

/// A timestamp that is null until the thing it dates happens.
pub fn nullable_date_time(gen: &mut SchemaGenerator) -> Schema {
    let mut schema = date_time(gen).into_object();
    schema
        .extensions
        .insert("nullable".to_string(), serde_json::Value::Bool(true));
    schema.into()
}

/// A webhook inbox entry's status (`InboxStatus`).
pub fn inbox_status(_: &mut SchemaGenerator) -> Schema {
    SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        enum_values: Some(
            crate::domain::InboxStatus::ALL
                .iter()
                .map(|s| s.as_str().into())
                .collect(),
        ),
        ..Default::default()
    }
    .into()
}

/// The name under which `currency_code` is a shared component, for query
/// parameters (declared as JSON text) to `$ref`.
pub const CURRENCY_CODE: &str = "CurrencyCode";

/// The currencies Stripe charges in, lowercase. The server also takes them in
/// any case and trims spaces; the document lists the canonical form.
pub fn currency_code(_: &mut SchemaGenerator) -> Schema {
    let mut schema = SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        enum_values: Some(known_currency_codes().into_iter().map(Into::into).collect()),
        ..Default::default()
    };
    schema.metadata().description =
        Some("ISO 4217 code of a currency Stripe charges in, e.g. \"usd\"".to_string());
    schema.into()
}

/// Every code `Currency::parse` accepts: asking it about all three-letter
/// codes keeps the document and the server from ever disagreeing. Computed
/// once: the document is public and built on every request.
fn known_currency_codes() -> Vec<String> {
    static CODES: OnceLock<Vec<String>> = OnceLock::new();
    CODES.get_or_init(every_code_parse_accepts).clone()
}

fn every_code_parse_accepts() -> Vec<String> {
    let letters = b'a'..=b'z';
    letters
        .clone()
        .flat_map(|a| letters.clone().map(move |b| (a, b)))
        .flat_map(|(a, b)| (b'a'..=b'z').map(move |c| [a, b, c]))
        .filter_map(|code| {
            let code = String::from_utf8(code.to_vec()).ok()?;
            Currency::parse(&code).map(|currency| currency.code().to_string())
        })
        .collect()
}

/// Components that hand-written parameter schemas refer to.
pub fn register_shared(gen: &mut SchemaGenerator) {
    let currency = currency_code(gen);
    let definitions = gen.definitions_mut();
    definitions.insert(CURRENCY_CODE.to_string(), currency);
    definitions.insert(AMOUNT_TEXT.to_string(), amount_text());
}

/// The name of `amount_text` among the components.
pub const AMOUNT_TEXT: &str = "AmountText";

/// `domain::money::parse_major`'s grammar: digits, an optional fraction and
/// exponent, at most 40 characters, and some digit of the mantissa not zero
/// (zero and negative amounts are refused). How many decimals and how large
/// depend on the currency, which a schema of one field cannot know.
pub const AMOUNT_PATTERN: &str = r"^(?=[0-9.]*[1-9])[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$";

fn amount_text() -> Schema {
    let mut schema = SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        ..Default::default()
    };
    schema.string().pattern = Some(AMOUNT_PATTERN.to_string());
    schema.string().max_length = Some(crate::domain::money::MAX_AMOUNT_TEXT_LEN as u32);
    schema.metadata().description =
        Some("A positive decimal in major units, e.g. \"12.50\"".to_string());
    schema.into()
}

/// A path parameter: every `<id>` is a UUID orderpay generated (`db::new_id`).
pub fn path_param(name: &str) -> Value {
    match name {
        "id" => json!({"type": "string", "format": "uuid"}),
        _ => json!({"type": "string", "minLength": 1}),
    }
}

/// A request header's schema, as its reader checks it.
pub fn header(name: &str) -> Value {
    if name.eq_ignore_ascii_case(crate::http::idempotency::HEADER) {
        // `idempotency::RequestKey`: 1-255 visible ASCII characters.
        return json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"});
    }
    json!({"type": "string", "minLength": 1})
}

/// `currency_code`, or null (the same as leaving it out). OpenAPI 3.0 wants
/// null among an enum's values as well as `nullable`.
pub fn nullable_currency_code(gen: &mut SchemaGenerator) -> Schema {
    let mut schema = currency_code(gen).into_object();
    if let Some(values) = schema.enum_values.as_mut() {
        values.push(Value::Null);
    }
    schema
        .extensions
        .insert("nullable".to_string(), Value::Bool(true));
    schema.into()
}

/// `domain::account::check_name`: no control characters, and something
/// other than spaces.
pub const DISPLAY_NAME_PATTERN: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";
