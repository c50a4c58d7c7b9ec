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
