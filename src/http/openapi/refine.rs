//! Rules that span several fields of a request, which schemars cannot derive
//! from one field's attributes: added to the generated definitions by name.

use schemars::JsonSchema;
use serde_json::{json, Value};

use crate::http::input::AmountInput;
use crate::http::routes::orders::CreateOrderRequest;
use crate::http::routes::refunds::RefundRequest;
use crate::http::routes::users::UpdateMeRequest;

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

    // `routes::refunds::RefundRequest`: `full` is only ever `true` (false
    // without an amount is `amount_required`), and never beside `amount`.
    let refund = &mut schemas[RefundRequest::schema_name()];
    refund["properties"]["full"]["enum"] = json!([true]);
    refund["not"] = json!({"required": ["amount", "full"]});

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

/// The server refuses a control character in every query parameter, path
/// parameter and JSON string of a request (`edge.rs`, `body.rs`): say so on
/// every request-side string that has no stricter rule of its own. Response
/// schemas are left alone. Schemas reached from a request body through
/// `$ref` are refined in `components` (they are request types only).
pub fn no_control_characters(doc: &mut Value) {
    let mut refs = Vec::new();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in operation.values_mut() {
                if let Some(parameters) = op["parameters"].as_array_mut() {
                    for parameter in parameters {
                        refine_strings(&mut parameter["schema"], &mut refs);
                    }
                }
                if let Some(body) = op.pointer_mut("/requestBody/content/application~1json/schema")
                {
                    refine_strings(body, &mut refs);
                }
            }
        }
    }
    let mut done = std::collections::BTreeSet::new();
    while let Some(name) = refs.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = doc["components"]["schemas"].get_mut(&name) {
            refine_strings(schema, &mut refs);
        }
    }
}

/// No NUL, C0 or C1 control character (tab and line breaks included).
pub const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

fn refine_strings(schema: &mut Value, refs: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                if let Some(name) = reference.strip_prefix("#/components/schemas/") {
                    refs.push(name.to_string());
                }
            }
            let plain_string = map.get("type").and_then(Value::as_str) == Some("string")
                && !["pattern", "enum", "format"]
                    .iter()
                    .any(|k| map.contains_key(*k));
            if plain_string {
                map.insert("pattern".into(), Value::from(NO_CONTROL_CHARACTERS));
            }
            for (key, value) in map.iter_mut() {
                if key != "example" && key != "default" {
                    refine_strings(value, refs);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| refine_strings(v, refs)),
        _ => {}
    }
}
