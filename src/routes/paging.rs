//! Keyset pagination: `limit` and an opaque `cursor` naming the last row seen.

use crate::error::{ApiError, ApiResult};
use crate::openapi::QueryParam;
use crate::response::Pagination;

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
    schema: r#"{"type": "string", "pattern": "^[0-9a-f]+$"}"#,
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

/// The (sort key, id) position a listing's `cursor` names: where the next
/// page starts.
pub fn position_after(cursor: Option<&str>) -> ApiResult<Option<(String, String)>> {
    cursor
        .map(|c| decode_cursor(c, 2).map(|mut parts| (parts.remove(0), parts.remove(0))))
        .transpose()
}

pub fn decode_cursor(raw: &str, parts: usize) -> ApiResult<Vec<String>> {
    let invalid = || {
        ApiError::invalid_field(
            "invalid_cursor",
            "cursor",
            "is not a cursor this API returned",
        )
    };
    let bytes = hex::decode(raw).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let fields: Vec<String> = text.split('\n').map(str::to_string).collect();
    if fields.len() != parts || fields.iter().any(|f| f.is_empty()) {
        return Err(invalid());
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = encode_cursor(&["2025-01-01T00:00:00.000000Z", "abc"]);
        assert_eq!(
            decode_cursor(&cursor, 2).unwrap(),
            vec!["2025-01-01T00:00:00.000000Z", "abc"]
        );
        assert_eq!(decode_cursor("zz", 2).unwrap_err().code, "invalid_cursor");
        assert_eq!(
            decode_cursor(&encode_cursor(&["one"]), 2).unwrap_err().code,
            "invalid_cursor"
        );
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
