//! The webhook inbox as a queue: deliveries are inserted in batches (one
//! statement for everything that arrived while the last commit ran), and
//! workers claim, finish or fail them. Claims are leases taken with a
//! conditional UPDATE, portable to both backends: a row is claimable when it
//! is not processed and its `claimed_until` is unset or past.

use std::collections::HashSet;

use sqlx::Connection;

use super::{nullable, placeholders, types::NullableText, Conn};

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
/// one PaymentIntent's events are applied by one worker at a time).
/// `processed_at IS NULL` repeats the condition of the inbox's partial
/// indexes (`webhook_events_to_apply`, `webhook_events_unapplied_by_pi`), so
/// the claim walks only unapplied events and the sub-select probes only the
/// PaymentIntent's. Those indexes leave out the lease's columns, so taking a
/// lease writes no index entry (migration 1000).
const CLAIMABLE: &str = "processed_at IS NULL AND (claimed_until IS NULL OR claimed_until < $1) \
     AND NOT EXISTS (SELECT 1 FROM webhook_events AS busy \
       WHERE busy.processed_at IS NULL \
       AND busy.payment_intent_id = webhook_events.payment_intent_id \
       AND busy.status = 'processing' AND busy.claimed_until >= $1)";

/// PostgreSQL advisory lock that serializes claims across workers and
/// instances ("orderpay" in ASCII).
const CLAIM_LOCK: i64 = 0x6f72_6465_7270_6179;

/// Claims the oldest claimable events, at most `limit`, leased to `token`
/// until `lease_until`; the caller groups them by PaymentIntent. Empty when
/// there is nothing to do (or another worker took it all first).
///
/// Claims run one at a time. Two claims at once would each miss the other's
/// uncommitted lease and could split one PaymentIntent's events between two
/// workers (PostgreSQL did, under a test of eight claimers). SQLite has one
/// writer, so its claims never overlap; on PostgreSQL the claim holds a
/// transaction-scoped advisory lock, so the next claim's statement starts
/// after this one committed and sees its leases. A claim is one indexed
/// UPDATE, so queueing for it costs little next to applying what it took.
pub async fn claim(
    conn: &mut Conn,
    token: &str,
    now: &str,
    lease_until: &str,
    limit: i64,
) -> sqlx::Result<Vec<ClaimedEvent>> {
    let postgres = conn.backend_name() == "PostgreSQL";
    let mut tx = conn.begin().await?;
    if postgres {
        // The lock, and the lease's commit not waiting for the disk (see
        // `without_waiting_for_the_disk`), in one round trip.
        sqlx::query(
            "SELECT pg_advisory_xact_lock($1), set_config('synchronous_commit', 'off', true)",
        )
        .bind(CLAIM_LOCK)
        .execute(&mut *tx)
        .await?;
    }
    let mut claimed: Vec<ClaimedEvent> = sqlx::query_as(&format!(
        "UPDATE webhook_events SET status = 'processing', claim_token = $2, claimed_until = $3, \
         attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM webhook_events WHERE {CLAIMABLE} \
           ORDER BY received_at, id LIMIT $4) \
         RETURNING id, type, payment_intent_id, order_id, payload, received_at, attempts"
    ))
    .bind(now)
    .bind(token)
    .bind(lease_until)
    .bind(limit.max(1))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    claimed.sort_by(|a, b| (&a.received_at, &a.id).cmp(&(&b.received_at, &b.id)));
    Ok(claimed)
}

/// On PostgreSQL, lets the current transaction commit without waiting for
/// its WAL to reach the disk (`synchronous_commit = off`, for this
/// transaction only). For the queue's own bookkeeping — a lease, an
/// outcome — and nothing else: a crash can lose the last few hundred
/// milliseconds of such commits, which only makes their events claimable
/// and applied again (harmless: every transition is conditional), never
/// loses a stored event or an order's change (those commit durably, in
/// their own transactions). It keeps the workers' two commits per claim
/// from queueing for the disk beside the intake's, whose durability is the
/// acknowledgement. A no-op on SQLite.
pub async fn without_waiting_for_the_disk(conn: &mut Conn) -> sqlx::Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT set_config('synchronous_commit', 'off', true)")
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Records `outcome` for the events `ids` whose lease is still `token`'s
/// (one statement for all of them). The order they turned out to concern is
/// kept for the admin view's filter.
pub async fn finish(
    conn: &mut Conn,
    ids: &[&str],
    token: &str,
    outcome: &str,
    order_id: Option<&str>,
    now: &str,
) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE webhook_events SET status = 'processed', processed_at = $1, outcome = $2, \
         order_id = COALESCE(order_id, NULLIF($3, '')), claimed_until = NULL, \
         claim_token = NULL, last_error = NULL WHERE claim_token = $4 AND id IN ({})",
        placeholders(5, ids.len())
    );
    let mut query = sqlx::query(&sql)
        .bind(now)
        .bind(outcome)
        .bind(nullable(order_id))
        .bind(token);
    for id in ids {
        query = query.bind(*id);
    }
    query.execute(conn).await?;
    Ok(())
}

/// Gives the events `ids` back after a failed try: claimable again from
/// `retry_at`, if the lease is still `token`'s.
pub async fn fail(
    conn: &mut Conn,
    ids: &[&str],
    token: &str,
    error: &str,
    retry_at: &str,
) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE webhook_events SET status = 'failed', last_error = $1, claimed_until = $2, \
         claim_token = NULL WHERE claim_token = $3 AND id IN ({})",
        placeholders(4, ids.len())
    );
    let mut query = sqlx::query(&sql).bind(error).bind(retry_at).bind(token);
    for id in ids {
        query = query.bind(*id);
    }
    query.execute(conn).await?;
    Ok(())
}
