//! Rules that span several fields of a request, which schemars cannot derive
//! from one field's attributes: added to the generated definitions by name.

use schemars::schema::Schema;
use schemars::{JsonSchema, Map};
use serde_json::json;

use crate::routes::orders::CreateOrderRequest;

pub fn cross_field_rules(schemas: &mut Map<String, Schema>) {
    // `routes::orders::requested_items`: exactly one of the two lists, and a
    // list that is null counts as absent.
    let one_list = json!([
        {"required": ["items"], "properties": {"items": {"type": "array"}}},
        {"required": ["line_items"], "properties": {"line_items": {"type": "array"}}},
    ]);
    add_one_of(schemas, &CreateOrderRequest::schema_name(), one_list);
}

fn add_one_of(schemas: &mut Map<String, Schema>, name: &str, alternatives: serde_json::Value) {
    let schema = schemas
        .get_mut(name)
        .unwrap_or_else(|| panic!("{name} is not in the document's schemas"));
    let alternatives: Vec<Schema> =
        serde_json::from_value(alternatives).expect("alternatives are schemas");
    if let Schema::Object(object) = schema {
        object.subschemas().one_of = Some(alternatives);
    }
}
