//! Refunds: reserved before the Stripe call, settled by its answer.

use sqlx::{Connection, FromRow};

use super::{nullable, Conn};
use crate::db::{new_id, now_text};
use crate::domain::{Currency, OrderStatus, RefundStatus};

#[derive(Debug, Clone, FromRow)]
pub struct RefundRow {
    pub id: String,
    pub order_id: String,
    pub payment_intent_id: String,
    pub amount: i64,
    pub currency: Currency,
    #[sqlx(try_from = "super::types::NullableText")]
    pub reason: Option<String>,
    pub status: RefundStatus,
    #[sqlx(try_from = "super::types::NullableText")]
    pub stripe_refund_id: Option<String>,
    pub idempotency_key: String,
    #[sqlx(try_from = "super::types::NullableText")]
    pub request_key: Option<String>,
    /// What `request_key` was first sent with (`checkout::refund::fingerprint`);
    /// `None` on refunds stored before fingerprints were kept.
    #[sqlx(try_from = "super::types::NullableText")]
    pub request_fingerprint: Option<String>,
    #[sqlx(try_from = "super::types::NullableText")]
    pub failure_code: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, order_id, payment_intent_id, amount, currency, reason, status, \
     stripe_refund_id, idempotency_key, request_key, request_fingerprint, failure_code, \
     created_at, updated_at";

pub struct NewRefund<'a> {
    pub order_id: &'a str,
    /// `None` refunds everything not yet refunded or reserved.
    pub amount: Option<i64>,
    pub reason: Option<&'a str>,
    pub request_key: Option<&'a str>,
    /// The normalized request `request_key` is bound to.
    pub request_fingerprint: Option<&'a str>,
}

/// Why a refund could not be reserved.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    NoOrder,
    /// The order's status, which is not paid or partially refunded.
    NotRefundable(OrderStatus),
    /// Paid without a PaymentIntent (a seeded test order).
    NotPaidThroughStripe,
    /// More than `remaining` (minor units) was asked for.
    TooMuch {
        remaining: i64,
    },
}

/// Reserves a refund: checks the order and what is left of its payment, and
/// writes the pending row, all under the order's write lock (the first
/// statement), so concurrent refunds of one order are weighed one at a time
/// and together never exceed what was paid.
pub async fn reserve(
    conn: &mut Conn,
    new: &NewRefund<'_>,
) -> sqlx::Result<Result<RefundRow, Refusal>> {
    let mut tx = conn.begin().await?;
    if !super::orders::lock(&mut tx, new.order_id).await? {
        return Ok(Err(Refusal::NoOrder));
    }
    let (status, amount, refunded, paid_with): (OrderStatus, i64, i64, super::types::NullableText) =
        sqlx::query_as(
            "SELECT status, amount, amount_refunded, paid_payment_intent_id FROM orders WHERE id = $1",
        )
        .bind(new.order_id)
        .fetch_one(&mut *tx)
        .await?;
    if !matches!(status, OrderStatus::Paid | OrderStatus::PartiallyRefunded) {
        return Ok(Err(Refusal::NotRefundable(status)));
    }
    let Some(payment_intent_id) = Option::<String>::from(paid_with) else {
        return Ok(Err(Refusal::NotPaidThroughStripe));
    };
    // amount_refunded is Stripe's refunded total on the paying charge as last
    // read: every refund Stripe has made, pending or succeeded, orderpay's or
    // not. orderpay's own refunds that have not failed may be in it or not
    // yet (one just made, its answer or its events still on the way), so
    // the larger of the two is spent. Under concurrent refunds of one order
    // this is exact; if refunds made outside orderpay overlap with orderpay's
    // not yet counted ones it can let too much through, and Stripe, which
    // never refunds more than the charge, refuses it (the row fails). Pending
    // and succeeded refunds count against what is left to refund.
    let (own,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM refunds \
         WHERE order_id = $1 AND (status = $2 OR status = $3)",
    )
    .bind(new.order_id)
    .bind(RefundStatus::Pending.as_str())
    .bind(RefundStatus::Succeeded.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let remaining = (amount - refunded.max(own)).max(0);
    let wanted = new.amount.unwrap_or(remaining);
    if wanted <= 0 || wanted > remaining {
        return Ok(Err(Refusal::TooMuch { remaining }));
    }
    let id = new_id();
    let now = now_text();
    sqlx::query(
        "INSERT INTO refunds (id, order_id, payment_intent_id, amount, currency, reason, status, \
             idempotency_key, request_key, request_fingerprint, created_at, updated_at) \
         SELECT $1, id, $2, $3, currency, NULLIF($4, ''), $5, $6, NULLIF($7, ''), NULLIF($8, ''), \
             $9, $9 \
         FROM orders WHERE id = $10",
    )
    .bind(&id)
    .bind(&payment_intent_id)
    .bind(wanted)
    .bind(nullable(new.reason))
    .bind(RefundStatus::Pending.as_str())
    .bind(format!("orderpay:refund:{id}"))
    .bind(nullable(new.request_key))
    .bind(nullable(new.request_fingerprint))
    .bind(&now)
    .bind(new.order_id)
    .execute(&mut *tx)
    .await?;
    let row = get(&mut tx, &id).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(Ok(row))
}

pub async fn get(conn: &mut Conn, id: &str) -> sqlx::Result<Option<RefundRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM refunds WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The refund an earlier request with the same Idempotency-Key made.
pub async fn by_request_key(
    conn: &mut Conn,
    order_id: &str,
    request_key: &str,
) -> sqlx::Result<Option<RefundRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE order_id = $1 AND request_key = $2"
    ))
    .bind(order_id)
    .bind(request_key)
    .fetch_optional(conn)
    .await
}

pub async fn for_order(conn: &mut Conn, order_id: &str) -> sqlx::Result<Vec<RefundRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE order_id = $1 ORDER BY created_at, id"
    ))
    .bind(order_id)
    .fetch_all(conn)
    .await
}

/// Records Stripe's answer. A pending refund takes any answer; a succeeded
/// one can still fail at Stripe later (the bank returns it) and takes only
/// that; a failed one stays failed. So a replayed or late answer changes
/// nothing that a newer one settled.
pub async fn settle(
    conn: &mut Conn,
    id: &str,
    status: RefundStatus,
    stripe_refund_id: Option<&str>,
    failure_code: Option<&str>,
) -> sqlx::Result<bool> {
    let from_succeeded = if status == RefundStatus::Failed {
        RefundStatus::Succeeded
    } else {
        RefundStatus::Pending
    };
    let changed = sqlx::query(
        "UPDATE refunds SET status = $1, stripe_refund_id = COALESCE(NULLIF($2, ''), stripe_refund_id), \
             failure_code = NULLIF($3, ''), updated_at = $4 \
         WHERE id = $5 AND (status = $6 OR status = $7)",
    )
    .bind(status.as_str())
    .bind(nullable(stripe_refund_id))
    .bind(nullable(failure_code))
    .bind(now_text())
    .bind(id)
    .bind(RefundStatus::Pending.as_str())
    .bind(from_succeeded.as_str())
    .execute(conn)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// The order's refund row for a Stripe refund: the one Stripe named, or the
/// one the refund's metadata names (its answer never reached orderpay).
pub async fn for_stripe_refund(
    conn: &mut Conn,
    order_id: &str,
    stripe_refund_id: &str,
    row_id: Option<&str>,
) -> sqlx::Result<Option<RefundRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE order_id = $1 \
         AND (stripe_refund_id = $2 OR (stripe_refund_id IS NULL AND id = $3))"
    ))
    .bind(order_id)
    .bind(stripe_refund_id)
    .bind(row_id.unwrap_or_default())
    .fetch_optional(conn)
    .await
}

/// The sum of the order's refunds in `status` (minor units): what is
/// reserved (pending) or what orderpay's refunds have returned (succeeded).
pub async fn total(conn: &mut Conn, order_id: &str, status: RefundStatus) -> sqlx::Result<i64> {
    let (total,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM refunds WHERE order_id = $1 AND status = $2",
    )
    .bind(order_id)
    .bind(status.as_str())
    .fetch_one(conn)
    .await?;
    Ok(total)
}

/// Pending refunds created before `created_before` (stored text
/// timestamps): ones whose caller never learned Stripe's answer, or that
/// Stripe itself reported pending. Those Stripe never named are only
/// returned if created after `created_after` (re-sending them is safe only
/// while Stripe remembers their Idempotency-Key). Read through their
/// partial index (`partial_indexes`).
pub async fn stale_pending(
    conn: &mut Conn,
    created_after: &str,
    created_before: &str,
    limit: i64,
) -> sqlx::Result<Vec<RefundRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE {} AND created_at < $2 \
         AND (created_at > $1 OR stripe_refund_id IS NOT NULL) \
         ORDER BY updated_at, id LIMIT $3",
        super::partial_indexes::refund_pending()
    ))
    .bind(created_after)
    .bind(created_before)
    .bind(limit)
    .fetch_all(conn)
    .await
}
