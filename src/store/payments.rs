//! PaymentIntent attempts and recorded payment mismatches.

use sqlx::FromRow;

use super::{partial_indexes, placeholders, Conn};
use crate::db::{new_id, now_text};
use crate::domain::{Currency, MismatchReason, PaymentIntentStatus, Source, StrayRefundStatus};

#[derive(Debug, Clone, FromRow)]
pub struct AttemptRow {
    pub id: String,
    pub order_id: String,
    pub attempt: i64,
    pub idempotency_key: String,
    #[sqlx(try_from = "super::types::NullableText")]
    pub payment_intent_id: Option<String>,
    pub amount: i64,
    pub currency: Currency,
    pub confirmations: i64,
    pub created_at: String,
    /// The create call ended without a known outcome (see `mark_outcome_unknown`).
    #[sqlx(try_from = "super::types::Flag")]
    pub outcome_unknown: bool,
    /// The PaymentIntent's status as last seen from Stripe.
    #[sqlx(try_from = "super::types::Nullable<PaymentIntentStatus>")]
    pub status: Option<PaymentIntentStatus>,
}

const COLUMNS: &str = "id, order_id, attempt, idempotency_key, payment_intent_id, amount, currency, confirmations, created_at, outcome_unknown, status";

pub fn idempotency_key(order_id: &str, attempt: i64) -> String {
    format!("orderpay:pi:{order_id}:{attempt}")
}

pub async fn latest(conn: &mut Conn, order_id: &str) -> sqlx::Result<Option<AttemptRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payment_attempts WHERE order_id = $1 ORDER BY attempt DESC LIMIT 1"
    ))
    .bind(order_id)
    .fetch_optional(conn)
    .await
}

pub async fn for_order(conn: &mut Conn, order_id: &str) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payment_attempts WHERE order_id = $1 ORDER BY attempt"
    ))
    .bind(order_id)
    .fetch_all(conn)
    .await
}

pub async fn by_payment_intent(
    conn: &mut Conn,
    payment_intent_id: &str,
) -> sqlx::Result<Option<AttemptRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payment_attempts WHERE payment_intent_id = $1"
    ))
    .bind(payment_intent_id)
    .fetch_optional(conn)
    .await
}

/// The attempts that made any of `payment_intent_ids`, in one statement (the
/// inbox workers look up a whole claim's PaymentIntents at once).
pub async fn by_payment_intents(
    conn: &mut Conn,
    payment_intent_ids: &[&str],
) -> sqlx::Result<Vec<AttemptRow>> {
    if payment_intent_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM payment_attempts WHERE payment_intent_id IN ({})",
        placeholders(1, payment_intent_ids.len())
    );
    let mut query = sqlx::query_as(&sql);
    for id in payment_intent_ids {
        query = query.bind(*id);
    }
    query.fetch_all(conn).await
}

/// Claims attempt number `attempt` for the order. Returns the row, whether this
/// call created it (true) or a concurrent one did: both then use the same key.
/// The conflict has no target: two concurrent claims collide on
/// `(order_id, attempt)` and on `idempotency_key` alike, and PostgreSQL may
/// report either (a targeted clause would let the other become a 500).
pub async fn claim(
    conn: &mut Conn,
    order_id: &str,
    attempt: i64,
    amount: i64,
    currency: Currency,
) -> sqlx::Result<(AttemptRow, bool)> {
    let now = now_text();
    // The row comes back when this call inserted it; only a claim that lost
    // reads the winner's.
    let inserted: Option<AttemptRow> = sqlx::query_as(&format!(
        "INSERT INTO payment_attempts (id, order_id, attempt, idempotency_key, amount, currency, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(new_id())
    .bind(order_id)
    .bind(attempt)
    .bind(idempotency_key(order_id, attempt))
    .bind(amount)
    .bind(currency.code())
    .bind(&now)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = inserted {
        return Ok((row, true));
    }
    let row = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payment_attempts WHERE order_id = $1 AND attempt = $2"
    ))
    .bind(order_id)
    .bind(attempt)
    .fetch_one(conn)
    .await?;
    Ok((row, false))
}

/// Records which PaymentIntent an attempt produced (first writer wins; every
/// writer has the same id, since they all sent the same Idempotency-Key).
pub async fn set_payment_intent(
    conn: &mut Conn,
    order_id: &str,
    attempt: i64,
    payment_intent_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE payment_attempts SET payment_intent_id = $1, updated_at = $2 \
         WHERE order_id = $3 AND attempt = $4 AND payment_intent_id IS NULL",
    )
    .bind(payment_intent_id)
    .bind(now_text())
    .bind(order_id)
    .bind(attempt)
    .execute(conn)
    .await?;
    Ok(())
}

/// `set_payment_intent` and `observe_status` of the PaymentIntent the
/// attempt just made, in one UPDATE: the id is written if the attempt has
/// none yet (or already has this one), and the status unless the attempt was
/// already seen final, exactly as the two statements would.
pub async fn link_payment_intent(
    conn: &mut Conn,
    order_id: &str,
    attempt: i64,
    payment_intent_id: &str,
    status: PaymentIntentStatus,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE payment_attempts SET payment_intent_id = $1, \
             status = CASE WHEN COALESCE(status, '') IN ($2, $3) THEN status ELSE $4 END, \
             updated_at = $5 \
         WHERE order_id = $6 AND attempt = $7 AND COALESCE(payment_intent_id, $1) = $1",
    )
    .bind(payment_intent_id)
    .bind(PaymentIntentStatus::Succeeded.as_str())
    .bind(PaymentIntentStatus::Canceled.as_str())
    .bind(status.as_str())
    .bind(now_text())
    .bind(order_id)
    .bind(attempt)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the PaymentIntent's status as just seen from Stripe. Final
/// statuses stay: a slower request that fetched the PaymentIntent earlier
/// cannot turn a succeeded payment back into a pending one.
pub async fn observe_status(
    conn: &mut Conn,
    payment_intent_id: &str,
    status: PaymentIntentStatus,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE payment_attempts SET status = $1, updated_at = $2 \
         WHERE payment_intent_id = $3 AND COALESCE(status, '') NOT IN ($4, $5)",
    )
    .bind(status.as_str())
    .bind(now_text())
    .bind(payment_intent_id)
    .bind(PaymentIntentStatus::Succeeded.as_str())
    .bind(PaymentIntentStatus::Canceled.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The next confirmation number for the attempt, persisted before the call.
pub async fn next_confirmation(conn: &mut Conn, attempt_id: &str) -> sqlx::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "UPDATE payment_attempts SET confirmations = confirmations + 1, updated_at = $1 WHERE id = $2 RETURNING confirmations",
    )
    .bind(now_text())
    .bind(attempt_id)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Attempts whose PaymentIntent can still change something: those of orders
/// that are still payable (a lost webhook could leave them paid at Stripe but
/// not here), and any other that was not last seen final (a replaced or
/// canceled order's PaymentIntent that must be canceled, or refunded if it
/// took money). Least recently checked first.
///
/// Each source is read through its own partial index (`partial_indexes`),
/// in the visiting order and at most `limit` rows, and the union is ordered
/// again: the same rows as one join of all attempts with all orders, without
/// visiting settled ones.
pub async fn unsettled(conn: &mut Conn, limit: i64) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as(&unsettled_query())
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// The statement `unsettled` runs (its one bind is the limit); public so the
/// benchmark can show its plan.
pub fn unsettled_query() -> String {
    let columns = prefixed_columns();
    let visit_order = "COALESCE(a.checked_at, ''), a.created_at, a.id";
    let changing = partial_indexes::attempt_still_changing("a.");
    let payable = partial_indexes::order_payable("o.");
    format!(
        "SELECT {COLUMNS} FROM ( \
             SELECT * FROM ( \
                 SELECT {columns}, COALESCE(a.checked_at, '') AS check_key FROM payment_attempts a \
                 WHERE {changing} ORDER BY {visit_order} LIMIT $1) changing \
             UNION \
             SELECT * FROM ( \
                 SELECT {columns}, COALESCE(a.checked_at, '') AS check_key \
                 FROM orders o JOIN payment_attempts a ON a.order_id = o.id \
                 WHERE {payable} AND a.payment_intent_id IS NOT NULL \
                 ORDER BY {visit_order} LIMIT $1) payable \
         ) due ORDER BY check_key, created_at, id LIMIT $1"
    )
}

fn prefixed_columns() -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Marks an attempt whose create call's outcome is unknown: the next request
/// for the order starts a new attempt (Stripe would replay this key's answer).
pub async fn mark_outcome_unknown(conn: &mut Conn, attempt_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE payment_attempts SET outcome_unknown = 1, updated_at = $1 \
         WHERE id = $2 AND payment_intent_id IS NULL",
    )
    .bind(now_text())
    .bind(attempt_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// An attempt whose outcome is unknown, with the Stripe customer its
/// PaymentIntent (if any) was made for: where to look for it.
#[derive(Debug, Clone, FromRow)]
pub struct LostAttempt {
    pub id: String,
    pub order_id: String,
    pub attempt: i64,
    pub created_at: String,
    pub stripe_customer_id: String,
}

/// Attempts with an unknown outcome and no PaymentIntent found yet, created
/// after `since` (older ones are left: Stripe's list is searched only so far
/// back), least recently checked first.
pub async fn lost(conn: &mut Conn, since: &str, limit: i64) -> sqlx::Result<Vec<LostAttempt>> {
    sqlx::query_as(
        "SELECT a.id, a.order_id, a.attempt, a.created_at, u.stripe_customer_id \
         FROM payment_attempts a JOIN orders o ON o.id = a.order_id JOIN users u ON u.id = o.user_id \
         WHERE a.outcome_unknown = 1 AND a.payment_intent_id IS NULL \
           AND u.stripe_customer_id IS NOT NULL AND a.created_at >= $1 \
         ORDER BY COALESCE(a.checked_at, ''), a.created_at, a.id LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn mark_checked(conn: &mut Conn, attempt_id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE payment_attempts SET checked_at = $1 WHERE id = $2")
        .bind(now_text())
        .bind(attempt_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a mismatch once per order, PaymentIntent and reason: redelivered
/// events and repeated sweeps see the same mismatch again, and two of them
/// at once meet the unique index.
pub async fn record_mismatch(
    conn: &mut Conn,
    order_id: &str,
    payment_intent_id: &str,
    source: &Source,
    reason: MismatchReason,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO payment_mismatches (id, order_id, payment_intent_id, source, reason, detail, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (order_id, payment_intent_id, reason) DO NOTHING",
    )
    .bind(new_id())
    .bind(order_id)
    .bind(payment_intent_id)
    .bind(source.to_string())
    .bind(reason.as_str())
    .bind(detail)
    .bind(now_text())
    .execute(conn)
    .await?;
    Ok(())
}

/// A mismatch whose money is still to be refunded automatically.
#[derive(Debug, Clone, FromRow)]
pub struct UnrefundedMismatch {
    pub order_id: String,
    pub payment_intent_id: String,
    #[sqlx(try_from = "super::types::Nullable<StrayRefundStatus>")]
    pub refund_status: Option<StrayRefundStatus>,
    #[sqlx(try_from = "super::types::NullableText")]
    pub stripe_refund_id: Option<String>,
}

/// Records what became of a mismatch's automatic refund. Returns true the
/// first time anything is recorded for it (so the order's history notes the
/// refund once); a later record only moves pending on to refunded.
pub async fn record_stray_refund(
    conn: &mut Conn,
    order_id: &str,
    payment_intent_id: &str,
    status: StrayRefundStatus,
    stripe_refund_id: Option<&str>,
) -> sqlx::Result<bool> {
    let first = sqlx::query(
        "UPDATE payment_mismatches SET refund_status = $1, stripe_refund_id = NULLIF($2, '') \
         WHERE order_id = $3 AND payment_intent_id = $4 AND refund_status IS NULL",
    )
    .bind(status.as_str())
    .bind(super::nullable(stripe_refund_id))
    .bind(order_id)
    .bind(payment_intent_id)
    .execute(&mut *conn)
    .await?;
    if first.rows_affected() > 0 {
        return Ok(true);
    }
    sqlx::query(
        "UPDATE payment_mismatches SET refund_status = $1, \
             stripe_refund_id = COALESCE(NULLIF($2, ''), stripe_refund_id) \
         WHERE order_id = $3 AND payment_intent_id = $4 AND refund_status = $5",
    )
    .bind(status.as_str())
    .bind(super::nullable(stripe_refund_id))
    .bind(order_id)
    .bind(payment_intent_id)
    .bind(StrayRefundStatus::Pending.as_str())
    .execute(conn)
    .await?;
    Ok(false)
}

/// Whether the automatic refund of `payment_intent_id`'s money is made
/// (`refunded`) or on its way (`pending` at Stripe).
pub async fn stray_refund_made(
    conn: &mut Conn,
    order_id: &str,
    payment_intent_id: &str,
) -> sqlx::Result<bool> {
    let (made,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM payment_mismatches WHERE order_id = $1 AND payment_intent_id = $2 \
           AND refund_status IN ($3, $4)",
    )
    .bind(order_id)
    .bind(payment_intent_id)
    .bind(StrayRefundStatus::Refunded.as_str())
    .bind(StrayRefundStatus::Pending.as_str())
    .fetch_one(conn)
    .await?;
    Ok(made > 0)
}

/// A stray payment's refund failed at Stripe: it is to be made again.
pub async fn forget_stray_refund(
    conn: &mut Conn,
    order_id: &str,
    payment_intent_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE payment_mismatches SET refund_status = NULL, stripe_refund_id = NULL \
         WHERE order_id = $1 AND payment_intent_id = $2 AND refund_status = $3",
    )
    .bind(order_id)
    .bind(payment_intent_id)
    .bind(StrayRefundStatus::Pending.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Mismatches of taken money whose automatic refund has not been made (or is
/// still pending at Stripe), oldest first, through their partial index.
pub async fn unrefunded(conn: &mut Conn, limit: i64) -> sqlx::Result<Vec<UnrefundedMismatch>> {
    sqlx::query_as(&format!(
        "SELECT DISTINCT order_id, payment_intent_id, refund_status, stripe_refund_id FROM payment_mismatches \
         WHERE {} ORDER BY order_id, payment_intent_id LIMIT $1",
        partial_indexes::mismatch_unrefunded()
    ))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A payment as listed: an attempt that reached Stripe, with its order.
#[derive(Debug, Clone, FromRow)]
pub struct PaymentRow {
    pub id: String,
    pub payment_intent_id: String,
    pub order_id: String,
    pub order_number: String,
    pub amount: i64,
    pub currency: Currency,
    #[sqlx(try_from = "super::types::Nullable<PaymentIntentStatus>")]
    pub status: Option<PaymentIntentStatus>,
    #[sqlx(try_from = "super::types::NullableText")]
    pub paid_payment_intent_id: Option<String>,
    pub order_amount_refunded: i64,
    pub created_at: String,
}

#[derive(Debug, Default)]
pub struct PaymentFilter {
    pub status: Option<PaymentIntentStatus>,
    pub currency: Option<Currency>,
    /// Minor units, inclusive.
    pub min_amount: Option<i64>,
    pub max_amount: Option<i64>,
    /// created_at bounds, in the stored text form (inclusive, exclusive).
    pub since: Option<String>,
    pub until: Option<String>,
    pub order_id: Option<String>,
    /// Position after which the page starts: (created_at, id) of the last row seen.
    pub after: Option<(String, String)>,
    pub limit: i64,
}

/// Newest first, keyset-paginated on (created_at, id) like orders. Amounts
/// are bound as text and cast, so every bind of the dynamic statement has
/// one type on both backends.
pub async fn list(
    conn: &mut Conn,
    filter: &PaymentFilter,
) -> sqlx::Result<(Vec<PaymentRow>, bool)> {
    let (sql, binds) = list_query(filter);
    super::fetch_page(conn, &sql, &binds, filter.limit).await
}

/// The statement `list` runs and its binds, in order (see
/// `orders::list_query` for why the position is a row-value comparison).
pub fn list_query(filter: &PaymentFilter) -> (String, Vec<String>) {
    let mut conditions = vec!["a.payment_intent_id IS NOT NULL".to_string()];
    let mut binds: Vec<String> = Vec::new();
    let mut next = |value: String| {
        binds.push(value);
        format!("${}", binds.len())
    };
    if let Some(status) = filter.status {
        conditions.push(format!("a.status = {}", next(status.as_str().to_string())));
    }
    if let Some(currency) = filter.currency {
        conditions.push(format!(
            "a.currency = {}",
            next(currency.code().to_string())
        ));
    }
    if let Some(min) = filter.min_amount {
        conditions.push(format!(
            "a.amount >= CAST({} AS BIGINT)",
            next(min.to_string())
        ));
    }
    if let Some(max) = filter.max_amount {
        conditions.push(format!(
            "a.amount <= CAST({} AS BIGINT)",
            next(max.to_string())
        ));
    }
    if let Some(since) = &filter.since {
        conditions.push(format!("a.created_at >= {}", next(since.clone())));
    }
    if let Some(until) = &filter.until {
        conditions.push(format!("a.created_at < {}", next(until.clone())));
    }
    if let Some(order_id) = &filter.order_id {
        conditions.push(format!("a.order_id = {}", next(order_id.clone())));
    }
    if let Some((created_at, id)) = &filter.after {
        let c = next(created_at.clone());
        let i = next(id.clone());
        conditions.push(format!("(a.created_at, a.id) < ({c}, {i})"));
    }
    let sql = format!(
        "SELECT a.id, a.payment_intent_id, a.order_id, o.number AS order_number, a.amount, \
             a.currency, a.status, o.paid_payment_intent_id, o.amount_refunded AS order_amount_refunded, \
             a.created_at \
         FROM payment_attempts a JOIN orders o ON o.id = a.order_id \
         WHERE {} ORDER BY a.created_at DESC, a.id DESC LIMIT {}",
        conditions.join(" AND "),
        filter.limit + 1
    );
    (sql, binds)
}

/// A recorded mismatch: a PaymentIntent that could not pay its order.
#[derive(Debug, Clone, FromRow)]
pub struct MismatchRow {
    pub id: String,
    pub order_id: String,
    pub payment_intent_id: String,
    pub source: Source,
    pub reason: MismatchReason,
    pub detail: String,
    pub at: String,
    /// What became of the automatic refund of its money (see the migration).
    #[sqlx(try_from = "super::types::Nullable<StrayRefundStatus>")]
    pub refund_status: Option<StrayRefundStatus>,
    #[sqlx(try_from = "super::types::NullableText")]
    pub stripe_refund_id: Option<String>,
}

/// Newest first, keyset-paginated on (at, id); one order's when `order_id` is given.
pub async fn mismatches(
    conn: &mut Conn,
    order_id: Option<&str>,
    after: Option<&(String, String)>,
    limit: i64,
) -> sqlx::Result<(Vec<MismatchRow>, bool)> {
    let mut conditions = vec!["1 = 1".to_string()];
    let mut binds = Vec::new();
    let mut next = |value: &str| {
        binds.push(value.to_string());
        format!("${}", binds.len())
    };
    if let Some(order_id) = order_id {
        conditions.push(format!("order_id = {}", next(order_id)));
    }
    if let Some((at, id)) = after {
        let (a, i) = (next(at), next(id));
        conditions.push(format!("(at, id) < ({a}, {i})"));
    }
    let sql = format!(
        "SELECT id, order_id, payment_intent_id, source, reason, detail, at, refund_status, stripe_refund_id \
         FROM payment_mismatches WHERE {} ORDER BY at DESC, id DESC LIMIT {}",
        conditions.join(" AND "),
        limit + 1
    );
    super::fetch_page(conn, &sql, &binds, limit).await
}
