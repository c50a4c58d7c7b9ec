//! `JsonBody<T>`: the JSON request-body guard. Unlike Rocket's `Json`, it says
//! precisely what is wrong: 415 for a non-JSON or unparseable content type,
//! 413 past the size limit, 400 for malformed JSON, 422 naming the field whose
//! value is wrong — including any string (or key) holding a control character.

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::http::Status;
use rocket::request::Request;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::http::error::{ApiError, GuardFailure};
use crate::http::input::{control_character_error, has_control_character};

pub struct JsonBody<T>(pub T);

/// Like `JsonBody`, but an empty body is `None` rather than an error.
pub struct OptionalJsonBody<T>(pub Option<T>);

fn fail<'r, T>(req: &'r Request<'_>, error: ApiError) -> data::Outcome<'r, T, ApiError> {
    GuardFailure::record(req, error.clone());
    data::Outcome::Error((error.status, error))
}

#[rocket::async_trait]
impl<'r, T: DeserializeOwned> FromData<'r> for JsonBody<T> {
    type Error = ApiError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match read_json(req, data).await {
            Ok(text) => match parse_object(&text) {
                Ok(value) => data::Outcome::Success(JsonBody(value)),
                Err(error) => fail(req, error),
            },
            Err(error) => fail(req, error),
        }
    }
}

#[rocket::async_trait]
impl<'r, T: DeserializeOwned> FromData<'r> for OptionalJsonBody<T> {
    type Error = ApiError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match read_json(req, data).await {
            Ok(text) if text.trim().is_empty() => data::Outcome::Success(OptionalJsonBody(None)),
            Ok(text) => match parse_object(&text) {
                Ok(value) => data::Outcome::Success(OptionalJsonBody(Some(value))),
                Err(error) => fail(req, error),
            },
            Err(error) => fail(req, error),
        }
    }
}

/// Checks the content type and reads the body within the `json` limit.
async fn read_json(req: &Request<'_>, data: Data<'_>) -> Result<String, ApiError> {
    // Rocket reads an unparseable Content-Type as none at all; a client that
    // sent one meant something, and it is not JSON we can be sure of.
    let sent = req.headers().get_one("Content-Type").is_some();
    let is_json = req.content_type().map(|c| c.is_json());
    if is_json == Some(false) || (sent && is_json.is_none()) {
        return Err(ApiError::new(
            Status::UnsupportedMediaType,
            "unsupported_media_type",
            "the body must be JSON (Content-Type: application/json)",
        ));
    }
    let limit = req.limits().get("json").unwrap_or(1.mebibytes());
    match data.open(limit).into_string().await {
        Ok(text) if text.is_complete() => Ok(text.into_inner()),
        Ok(_) => Err(ApiError::new(
            Status::PayloadTooLarge,
            "payload_too_large",
            format!("the body is larger than {limit}"),
        )),
        Err(_) => Err(ApiError::bad_request(
            "unreadable_body",
            "the body is not valid UTF-8",
        )),
    }
}

/// Every request body of this API is a JSON object. serde would also read a
/// struct from an array (by position), which no client means: refuse it.
pub fn parse_object<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    let value = parse(text)?;
    if !text.trim_start().starts_with('{') {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "body",
            "must be a JSON object",
        ));
    }
    Ok(value)
}

/// Parses `text`, telling syntax errors (400) from wrong values (422 with a
/// field path). A control character in any string or key is a 422 naming it,
/// whatever the target type: every body and seed file passes here.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    let document: serde_json::Value = serde_json::from_str(text).map_err(|e| classify(e, "."))?;
    if let Some(field) = control_character_at(&document, String::new()) {
        return Err(control_character_error(&field));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        classify(inner, &path)
    })?;
    deserializer.end().map_err(|err| classify(err, "."))?;
    Ok(value)
}

fn classify(err: serde_json::Error, path: &str) -> ApiError {
    use serde_json::error::Category;
    match err.classify() {
        Category::Data => {
            let field = if path == "." { "body" } else { path };
            ApiError::invalid_field("invalid_field", field, strip_position(&err.to_string()))
        }
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {err}"),
        )
        .with_details(json!({ "line": err.line(), "column": err.column() })),
    }
}

/// The path (`items[1].sku`, as serde_path_to_error writes it) of the first
/// string or key in `value` holding a control character.
fn control_character_at(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let here = || {
        if path.is_empty() {
            "body".to_string()
        } else {
            path.clone()
        }
    };
    match value {
        Value::String(text) if has_control_character(text) => Some(here()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| control_character_at(item, format!("{}[{index}]", here()))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if has_control_character(key) {
                return Some(here());
            }
            let inner = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            control_character_at(item, inner)
        }),
        _ => None,
    }
}

/// serde_json appends " at line 1 column 42"; the field path already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        sku: String,
        quantity: u32,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        items: Vec<Item>,
    }

    #[test]
    fn syntax_errors_are_400() {
        let err = parse::<Body>("{\"items\": [").unwrap_err();
        assert_eq!(err.status, Status::BadRequest);
        assert_eq!(err.code, "malformed_json");
        let err = parse::<Body>("{\"items\": []} trailing").unwrap_err();
        assert_eq!(err.code, "malformed_json");
    }

    #[test]
    fn bodies_must_be_objects() {
        let err = parse_object::<Body>(r#"[[{"sku": "A", "quantity": 1}]]"#).unwrap_err();
        assert_eq!(
            (err.status, &*err.code),
            (Status::UnprocessableEntity, "invalid_body")
        );
        assert!(
            parse::<Body>(r#"[[{"sku": "A", "quantity": 1}]]"#).is_ok(),
            "what serde alone would accept"
        );
        assert!(parse_object::<Body>(r#" {"items": []}"#).is_ok());
    }

    #[test]
    fn control_characters_anywhere_are_422_naming_the_field() {
        let err = parse::<Body>(
            r#"{"items": [{"sku": "A", "quantity": 1}, {"sku": "B\u0000", "quantity": 1}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            (err.status, &*err.code),
            (Status::UnprocessableEntity, "control_character")
        );
        assert_eq!(err.details.unwrap()["field"], "items[1].sku");
        // even in a field the target type would ignore or refuse
        let err = parse::<serde_json::Value>(r#"{"a": {"b\u001f": 1}}"#).unwrap_err();
        assert_eq!(err.details.unwrap()["field"], "a");
        let err = parse::<serde_json::Value>(r#"{"note": "two\nlines"}"#).unwrap_err();
        assert_eq!(err.details.unwrap()["field"], "note");
        assert!(parse::<serde_json::Value>(r#"{"name": "Zoë \u00e9"}"#).is_ok());
    }

    #[test]
    fn wrong_values_name_the_field() {
        let err = parse::<Body>(
            r#"{"items": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": -2}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.status, Status::UnprocessableEntity);
        assert_eq!(err.details.unwrap()["field"], "items[1].quantity");
        let err = parse::<Body>(r#"{}"#).unwrap_err();
        assert_eq!(err.status, Status::UnprocessableEntity);
        assert!(err.message.contains("items"), "{}", err.message);
    }
}
