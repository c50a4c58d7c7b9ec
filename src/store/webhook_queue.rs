//! The webhook inbox as a queue: deliveries are inserted in batches (one
//! statement for everything that arrived while the last commit ran), and
//! workers claim, finish or fail them. Claims are leases taken with a
//! conditional UPDATE, portable to both backends: a row is claimable when it
//! is not processed and its `claimed_until` is unset or past.

use std::collections::HashSet;

use super::{nullable, types::NullableText, Conn};

/// A delivery to store, as intake parsed it. Owned: it crosses from the
/// request to the writer task.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: String,
    pub kind: String,
    pub payment_intent_id: Option<String>,
    pub order_id: Option<String>,
    pub payload: String,
    pub received_at: String,
}

/// Columns bound per event; a batch binds `COLUMNS * len` values, far below
/// both backends' limits (SQLite 32,766, PostgreSQL 65,535) at any batch size
/// the settings allow.
const COLUMNS: usize = 6;

/// Inserts `events` (distinct ids) in one statement; ids already stored are
/// skipped. Returns the ids this statement stored: the others were
/// duplicates of an earlier delivery.
pub async fn insert_batch(conn: &mut Conn, events: &[&NewEvent]) -> sqlx::Result<HashSet<String>> {
    if events.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<String> = (0..events.len())
        .map(|n| {
            let p = n * COLUMNS;
            format!(
                "(${}, ${}, NULLIF(${}, ''), NULLIF(${}, ''), ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO webhook_events (id, type, payment_intent_id, order_id, payload, received_at) \
         VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
        rows.join(", ")
    );
    let mut query = sqlx::query_as::<_, (String,)>(&sql);
    for event in events {
        query = query
            .bind(event.id.as_str())
            .bind(event.kind.as_str())
            .bind(nullable(event.payment_intent_id.as_deref()))
            .bind(nullable(event.order_id.as_deref()))
            .bind(event.payload.as_str())
            .bind(event.received_at.as_str());
    }
    let stored = query.fetch_all(conn).await?;
    Ok(stored.into_iter().map(|(id,)| id).collect())
}

/// A claimed event, with what applying it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedEvent {
    pub id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    #[sqlx(try_from = "NullableText")]
    pub payment_intent_id: Option<String>,
    #[sqlx(try_from = "NullableText")]
    pub order_id: Option<String>,
    pub payload: String,
    pub received_at: String,
    pub attempts: i64,
}

/// The condition that makes a row claimable at `$1` (now): not processed, no
/// live lease on it, and no live lease on another event about the same
/// PaymentIntent (that worker is applying it; this one waits its turn, so
/// one PaymentIntent's events are applied one group at a time).
const CLAIMABLE: &str = "status <> 'processed' AND (claimed_until IS NULL OR claimed_until < $1) \
     AND NOT EXISTS (SELECT 1 FROM webhook_events AS busy \
       WHERE busy.payment_intent_id = webhook_events.payment_intent_id \
       AND busy.status <> 'processed' AND busy.status = 'processing' \
       AND busy.claimed_until >= $1)";

/// Claims the oldest claimable event and every other claimable event about
/// the same PaymentIntent (at most `limit`), leased to `token` until
/// `lease_until`. `None` when there is nothing to do; empty when another
/// worker won the race for that event (the caller simply asks again).
pub async fn claim_group(
    conn: &mut Conn,
    token: &str,
    now: &str,
    lease_until: &str,
    limit: i64,
) -> sqlx::Result<Option<Vec<ClaimedEvent>>> {
    let head: Option<(String, NullableText)> = sqlx::query_as(&format!(
        "SELECT id, payment_intent_id FROM webhook_events WHERE {CLAIMABLE} \
         ORDER BY received_at, id LIMIT 1"
    ))
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((head_id, payment_intent_id)) = head else {
        return Ok(None);
    };
    let payment_intent_id: Option<String> = payment_intent_id.into();
    // The claimable condition is repeated outside the sub-select: under
    // concurrency it is what decides (PostgreSQL re-checks it on the locked
    // row; SQLite runs one writer at a time).
    let mut claimed: Vec<ClaimedEvent> = sqlx::query_as(&format!(
        "UPDATE webhook_events SET status = 'processing', claim_token = $2, claimed_until = $3, \
         attempts = attempts + 1 \
         WHERE {CLAIMABLE} AND id IN (SELECT id FROM webhook_events WHERE {CLAIMABLE} \
           AND (id = $4 OR payment_intent_id = $5) ORDER BY received_at, id LIMIT $6) \
         RETURNING id, type, payment_intent_id, order_id, payload, received_at, attempts"
    ))
    .bind(now)
    .bind(token)
    .bind(lease_until)
    .bind(&head_id)
    .bind(nullable(payment_intent_id.as_deref()))
    .bind(limit.max(1))
    .fetch_all(conn)
    .await?;
    claimed.sort_by(|a, b| (&a.received_at, &a.id).cmp(&(&b.received_at, &b.id)));
    Ok(Some(claimed))
}

/// Records what applying the event did, if the lease is still `token`'s.
/// The order it turned out to concern is kept for the admin view's filter.
pub async fn finish(
    conn: &mut Conn,
    id: &str,
    token: &str,
    outcome: &str,
    order_id: Option<&str>,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_events SET status = 'processed', processed_at = $1, outcome = $2, \
         order_id = COALESCE(order_id, NULLIF($3, '')), claimed_until = NULL, \
         claim_token = NULL, last_error = NULL WHERE id = $4 AND claim_token = $5",
    )
    .bind(now)
    .bind(outcome)
    .bind(nullable(order_id))
    .bind(id)
    .bind(token)
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives the event back after a failed try: claimable again from `retry_at`.
pub async fn fail(
    conn: &mut Conn,
    id: &str,
    token: &str,
    error: &str,
    retry_at: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_events SET status = 'failed', last_error = $1, claimed_until = $2, \
         claim_token = NULL WHERE id = $3 AND claim_token = $4",
    )
    .bind(error)
    .bind(retry_at)
    .bind(id)
    .bind(token)
    .execute(conn)
    .await?;
    Ok(())
}
