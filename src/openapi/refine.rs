//! Rules that span several fields of a request, which schemars cannot derive
//! from one field's attributes: added to the generated definitions by name.

use schemars::JsonSchema;
use serde_json::{json, Value};

use crate::input::AmountInput;
use crate::routes::orders::CreateOrderRequest;
use crate::routes::users::UpdateMeRequest;

/// `schemas` is the document's `components.schemas`.
pub fn cross_field_rules(schemas: &mut Value) {
    // `routes::orders::requested_items`: exactly one of the two lists, and a
    // list that is null counts as absent.
    let one_list = json!([
        {"required": ["items"], "properties": {"items": {"type": "array"}}},
        {"required": ["line_items"], "properties": {"line_items": {"type": "array"}}},
    ]);
    add(
        schemas,
        &CreateOrderRequest::schema_name(),
        "oneOf",
        one_list,
    );

    // `accounts::check_current_password`: a new password needs the current one.
    let password_needs_current = json!([
        {"not": {"required": ["password"], "properties": {"password": {"type": "string"}}}},
        {"required": ["current_password"], "properties": {"current_password": {"type": "string"}}},
    ]);
    add(
        schemas,
        &UpdateMeRequest::schema_name(),
        "anyOf",
        password_needs_current,
    );

    // An amount given as a string follows `parse_major`'s grammar; as a JSON
    // number it must be positive. (Replaces the plain string-or-number.)
    let amount = json!([
        {"$ref": format!("#/components/schemas/{}", super::formats::AMOUNT_TEXT)},
        {"type": "number", "minimum": 0, "exclusiveMinimum": true},
    ]);
    schemas[AmountInput::schema_name()]["oneOf"] = amount;
}

fn add(schemas: &mut Value, name: &str, keyword: &str, alternatives: Value) {
    let schema = schemas
        .get_mut(name)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{name} is not an object schema in the document"));
    let previous = schema.insert(keyword.to_string(), alternatives);
    assert!(previous.is_none(), "{name} already has {keyword}");
}
