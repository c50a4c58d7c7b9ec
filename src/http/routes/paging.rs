//! Keyset pagination: `limit` and an opaque `cursor` naming the last row seen.

use crate::http::error::{ApiError, ApiResult};
use crate::http::input::is_uuid;
use crate::http::openapi::QueryParam;
use crate::http::response::Pagination;
use crate::seed::is_valid_sku;

pub const DEFAULT_LIMIT: i64 = 20;

/// The query parameters every listing takes, for its OpenAPI declaration.
pub const LIMIT_PARAM: QueryParam = QueryParam {
    name: "limit",
    description: "1-100, default 20",
    schema: r#"{"type": "integer", "minimum": 1, "maximum": 100}"#,
};
pub const CURSOR_PARAM: QueryParam = QueryParam {
    name: "cursor",
    description: "pagination.next_cursor of the previous page",
    schema: r#"{"type": "string", "pattern": "^[0-9a-f]+$", "maxLength": 1024}"#,
};
pub const MAX_LIMIT: i64 = 100;

pub fn parse_limit(raw: Option<&str>) -> ApiResult<i64> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    match raw.parse::<i64>() {
        Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        _ => Err(ApiError::invalid_field(
            "invalid_limit",
            "limit",
            format!("must be a whole number from 1 to {MAX_LIMIT}"),
        )),
    }
}

/// The `pagination` of a page: a cursor after its last row when more follow.
pub fn pagination<T>(
    limit: i64,
    has_more: bool,
    last: Option<&T>,
    cursor_of: impl Fn(&T) -> Vec<&str>,
) -> Pagination {
    let next_cursor = match last {
        Some(last) if has_more => Some(encode_cursor(&cursor_of(last))),
        _ => None,
    };
    Pagination {
        limit,
        next_cursor,
        has_more,
    }
}

/// Cursors are hex so they survive any URL untouched; their content is not a contract.
pub fn encode_cursor(parts: &[&str]) -> String {
    hex::encode(parts.join("\n"))
}

/// What one part of a cursor must be: cursors are decoded and checked, so
/// whatever reaches a query is a value this API could have put there.
#[derive(Clone, Copy, Debug)]
pub enum CursorPart {
    /// A stored timestamp, exactly as `db::timestamp_text` writes it.
    Timestamp,
    /// An orderpay id (UUID) or a Stripe object id (`evt_...`).
    Id,
    /// A product sku.
    Sku,
}

impl CursorPart {
    fn accepts(self, text: &str) -> bool {
        match self {
            CursorPart::Timestamp => chrono::NaiveDateTime::parse_from_str(text, TIMESTAMP_FORMAT)
                .is_ok_and(|at| crate::db::timestamp_text(at.and_utc()) == text),
            CursorPart::Id => {
                is_uuid(text)
                    || ((1..=255).contains(&text.len())
                        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
            }
            CursorPart::Sku => is_valid_sku(text),
        }
    }
}

/// The format of `db::timestamp_text`, e.g. `2025-01-01T00:00:00.000000Z`.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Far longer than any cursor this API makes; refused before decoding.
const MAX_CURSOR_LEN: usize = 1024;

/// The (sort key, id) position a listing's `cursor` names: where the next
/// page starts.
pub fn position_after(cursor: Option<&str>) -> ApiResult<Option<(String, String)>> {
    cursor
        .map(|c| {
            decode_cursor(c, &[CursorPart::Timestamp, CursorPart::Id])
                .map(|mut parts| (parts.remove(0), parts.remove(0)))
        })
        .transpose()
}

pub fn decode_cursor(raw: &str, parts: &[CursorPart]) -> ApiResult<Vec<String>> {
    let invalid = || {
        ApiError::invalid_field(
            "invalid_cursor",
            "cursor",
            "is not a cursor this API returned",
        )
    };
    if raw.len() > MAX_CURSOR_LEN {
        return Err(invalid());
    }
    let bytes = hex::decode(raw).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let fields: Vec<String> = text.split('\n').map(str::to_string).collect();
    let well_formed = fields.len() == parts.len()
        && fields
            .iter()
            .zip(parts)
            .all(|(field, part)| part.accepts(field));
    if !well_formed {
        return Err(invalid());
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT_AND_ID: &[CursorPart] = &[CursorPart::Timestamp, CursorPart::Id];
    const AT: &str = "2025-01-01T00:00:00.000000Z";
    const ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = encode_cursor(&[AT, ID]);
        assert_eq!(decode_cursor(&cursor, AT_AND_ID).unwrap(), vec![AT, ID]);
        let event = encode_cursor(&[AT, "evt_123abc"]);
        assert!(decode_cursor(&event, AT_AND_ID).is_ok());
        assert_eq!(
            decode_cursor("zz", AT_AND_ID).unwrap_err().code,
            "invalid_cursor"
        );
        assert_eq!(
            decode_cursor(&encode_cursor(&["one"]), AT_AND_ID)
                .unwrap_err()
                .code,
            "invalid_cursor"
        );
    }

    #[test]
    fn cursors_are_checked_part_by_part() {
        let bad = [
            // decodes to NUL
            "00".to_string(),
            encode_cursor(&[AT, "a\0b"]),
            encode_cursor(&["2025-13-01T00:00:00.000000Z", ID]),
            encode_cursor(&["2025-01-01 00:00:00", ID]),
            encode_cursor(&[AT, "x' OR 1=1"]),
            encode_cursor(&[AT, ""]),
            "ab".repeat(MAX_CURSOR_LEN),
        ];
        for cursor in bad {
            assert_eq!(
                decode_cursor(&cursor, AT_AND_ID).unwrap_err().code,
                "invalid_cursor",
                "{cursor}"
            );
        }
        let sku = encode_cursor(&["BLUE-MUG_2"]);
        assert!(decode_cursor(&sku, &[CursorPart::Sku]).is_ok());
        assert!(decode_cursor(&encode_cursor(&["mug"]), &[CursorPart::Sku]).is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "ten"] {
            assert_eq!(parse_limit(Some(bad)).unwrap_err().code, "invalid_limit");
        }
    }
}
