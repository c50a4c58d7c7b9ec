//! Queries, one module per aggregate. Each function takes a connection (a
//! pooled one or a transaction), so callers decide what is atomic. Query text
//! is portable: `$n` placeholders run unchanged on SQLite and PostgreSQL.

pub mod api_keys;
pub mod cards;
pub mod login_failures;
pub mod orders;
pub mod partial_indexes;
pub mod payments;
pub mod products;
pub mod refunds;
pub mod tokens;
pub mod types;
pub mod users;
pub mod webhook_events;
pub mod webhook_queue;

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

/// Runs a keyset page query whose text ends in `LIMIT <limit + 1>`, binding
/// `binds` (all text) in order. Returns at most `limit` rows and whether more
/// follow: the extra row only says that.
///
/// On PostgreSQL the page is planned for its own values. A pooled
/// connection's prepared statement otherwise switches to a generic plan
/// after five runs, and the generic plan of `user_id = $1` expects each
/// customer to own an equal share of the orders: with a few large customers
/// it walks `orders_by_created` and filters, which for a customer with 12
/// orders reads all of them (the same holds for a rare status). sqlx's `Any`
/// driver prepares every statement with arguments, so the plan mode is set
/// around the query instead. A page with nothing bound (a first page, no
/// filter) has one plan either way and skips those two round trips.
pub async fn fetch_page<T>(
    conn: &mut Conn,
    sql: &str,
    binds: &[String],
    limit: i64,
) -> sqlx::Result<(Vec<T>, bool)>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    use sqlx::Executor;
    let custom_plan = conn.backend_name() == "PostgreSQL" && !binds.is_empty();
    if custom_plan {
        conn.execute("SET plan_cache_mode = force_custom_plan")
            .await?;
    }
    let mut query = sqlx::query_as::<_, T>(sql);
    for value in binds {
        query = query.bind(value);
    }
    let rows = query.fetch_all(&mut *conn).await;
    if custom_plan {
        conn.execute("RESET plan_cache_mode").await?;
    }
    let mut rows = rows?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, has_more))
}
