//! Queries, one module per aggregate. Each function takes a connection (a
//! pooled one or a transaction), so callers decide what is atomic. Query text
//! is portable: `$n` placeholders run unchanged on SQLite and PostgreSQL.

pub mod api_keys;
pub mod cards;
pub mod login_failures;
pub mod orders;
pub mod payments;
pub mod products;
pub mod refunds;
pub mod tokens;
pub mod types;
pub mod users;
pub mod webhook_events;

pub type Conn = sqlx::AnyConnection;

/// A nullable text parameter, bound as text either way and written in SQL as
/// `NULLIF($n, '')`. sqlx's `Any` driver binds `None` as an int4 NULL, and
/// PostgreSQL fixes a parameter's type when a statement is first prepared on
/// a connection, so mixing `Some` and `None` for one statement fails there
/// ("incorrect binary data format"). Empty text is never a meaningful value
/// for these columns (ids, emails).
pub fn nullable(value: Option<&str>) -> &str {
    value.unwrap_or("")
}

/// `$start, $start+1, ...` for an `IN (...)` list of `count` values.
pub fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
