//! The webhook inbox.

use super::{nullable, Conn};
use crate::db::now_text;

pub struct NewEvent<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub payment_intent_id: Option<&'a str>,
    pub order_id: Option<&'a str>,
    pub payload: &'a str,
}

/// Stores the event unless its id is already there. Returns whether this
/// delivery is the first one still to be processed: a stored event that was
/// processed is a redelivery; one stored but never processed (a crash midway)
/// is processed again, which is safe because processing is idempotent.
pub async fn receive(conn: &mut Conn, event: &NewEvent<'_>) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO webhook_events (id, type, payment_intent_id, order_id, payload, received_at) \
         VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), $5, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(event.id)
    .bind(event.kind)
    .bind(nullable(event.payment_intent_id))
    .bind(nullable(event.order_id))
    .bind(event.payload)
    .bind(now_text())
    .execute(&mut *conn)
    .await?;
    let (processed,): (i64,) = sqlx::query_as(
        "SELECT CASE WHEN processed_at IS NULL THEN 0 ELSE 1 END FROM webhook_events WHERE id = $1",
    )
    .bind(event.id)
    .fetch_one(conn)
    .await?;
    Ok(processed == 0)
}

pub async fn mark_processed(conn: &mut Conn, id: &str, outcome: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE webhook_events SET processed_at = $1, outcome = $2 WHERE id = $3")
        .bind(now_text())
        .bind(outcome)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// An inbox entry as an operator sees it (without the payload).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    #[sqlx(try_from = "super::types::NullableText")]
    pub payment_intent_id: Option<String>,
    #[sqlx(try_from = "super::types::NullableText")]
    pub order_id: Option<String>,
    pub received_at: String,
    #[sqlx(try_from = "super::types::NullableText")]
    pub processed_at: Option<String>,
    #[sqlx(try_from = "super::types::NullableText")]
    pub outcome: Option<String>,
}

/// Newest first, keyset-paginated on (received_at, id).
pub async fn list(
    conn: &mut Conn,
    kind: Option<&str>,
    order_id: Option<&str>,
    after: Option<&(String, String)>,
    limit: i64,
) -> sqlx::Result<(Vec<EventRow>, bool)> {
    let mut conditions = vec!["1 = 1".to_string()];
    let mut binds = Vec::new();
    let mut next = |value: &str| {
        binds.push(value.to_string());
        format!("${}", binds.len())
    };
    if let Some(kind) = kind {
        conditions.push(format!("type = {}", next(kind)));
    }
    if let Some(order_id) = order_id {
        conditions.push(format!("order_id = {}", next(order_id)));
    }
    if let Some((at, id)) = after {
        let (a, i) = (next(at), next(id));
        conditions.push(format!(
            "(received_at < {a} OR (received_at = {a} AND id < {i}))"
        ));
    }
    let sql = format!(
        "SELECT id, type, payment_intent_id, order_id, received_at, processed_at, outcome \
         FROM webhook_events WHERE {} ORDER BY received_at DESC, id DESC LIMIT {}",
        conditions.join(" AND "),
        limit + 1
    );
    super::fetch_page(conn, &sql, &binds, limit).await
}
