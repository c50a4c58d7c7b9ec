//! Refunding a paid order, in full or in part. The refund row (and the amount
//! it reserves) is written before Stripe is asked, with an Idempotency-Key
//! derived from it, so a retry after a crash or a lost answer refunds once;
//! the caller's own Idempotency-Key header makes its retries return the same
//! refund instead of asking for another.

use sha2::{Digest, Sha256};

use crate::checkout::{refunded_total, Error, Result};
use crate::db::DbPool;
use crate::domain::money::{format_major, parse_major};
use crate::domain::{RefundStatus, Source};
use crate::store::orders::OrderRow;
use crate::store::refunds::{self, NewRefund, RefundRow, Refusal};
use crate::stripe::api::RefundParams;
use crate::stripe::gateway::StripeGateway;
use crate::stripe::{IdempotencyKey, StripeError};

/// Stripe's refund reasons.
const REASONS: &[&str] = &["duplicate", "fraudulent", "requested_by_customer"];

/// What the caller asked for, as it said it; `refund` checks it against the
/// order (the route only turns the request body into this).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RefundInput {
    /// Major units as written ("10.00", "10"); `None` refunds all that is left.
    pub amount: Option<String>,
    /// `Some(true)` refunds all that is left; not together with `amount`.
    pub full: Option<bool>,
    /// One of Stripe's refund reasons.
    pub reason: Option<String>,
}

pub struct Refunded {
    pub refund: RefundRow,
    /// False when an earlier request with the same Idempotency-Key made it.
    pub created: bool,
}

/// Validates the request against the order: the reason and the amount's
/// exactness in the order's currency (minor units out).
fn validate(order: &OrderRow, request: &RefundInput) -> Result<Option<i64>> {
    if let Some(reason) = request.reason.as_deref() {
        if !REASONS.contains(&reason) {
            return Err(Error::invalid(
                "invalid_reason",
                "reason",
                format!("must be one of {}", REASONS.join(", ")),
            ));
        }
    }
    let amount = match (&request.amount, request.full) {
        (Some(_), Some(true)) => {
            return Err(Error::invalid(
                "ambiguous_refund",
                "full",
                "send `amount` for a partial refund or `full: true` for a full one, not both",
            ))
        }
        (None, Some(false)) => {
            return Err(Error::invalid(
                "amount_required",
                "amount",
                "is required when `full` is false",
            ))
        }
        (None, _) => return Ok(None),
        (Some(amount), _) => amount,
    };
    parse_major(amount, order.currency)
        .map(Some)
        .map_err(|e| Error::invalid(e.code(), "amount", e.to_string()))
}

/// The request a caller's Idempotency-Key is bound to, normalized: the
/// order, the amount in minor units or "full" (so "10.00", "10.0" and 10 are
/// one request, and an empty body never equals an explicit amount, even one
/// equal to what is left), and the reason. SHA-256, hex.
pub fn fingerprint(order_id: &str, amount: Option<i64>, reason: Option<&str>) -> String {
    let amount = amount.map_or_else(|| "full".to_string(), |minor| minor.to_string());
    let reason = reason.unwrap_or("none");
    // Order ids, digits and Stripe's reason names hold no newline: unambiguous.
    let canonical = format!("refund\norder:{order_id}\namount:{amount}\nreason:{reason}");
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

#[tracing::instrument(skip_all, fields(order_id = %order.id))]
pub async fn refund(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    request: &RefundInput,
    request_key: Option<&str>,
) -> Result<Refunded> {
    let amount = validate(order, request)?;
    let reason = request.reason.as_deref();
    let bound_to = fingerprint(&order.id, amount, reason);
    let same_request = Request {
        fingerprint: &bound_to,
        amount,
        reason,
    };
    let mut conn = db.writer().acquire().await?;
    if let Some(key) = request_key {
        if let Some(earlier) = refunds::by_request_key(&mut conn, &order.id, key).await? {
            drop(conn);
            return replay(db, gateway, earlier, &same_request).await;
        }
    }
    let new = NewRefund {
        order_id: &order.id,
        amount,
        reason,
        request_key,
        request_fingerprint: request_key.map(|_| bound_to.as_str()),
    };
    let reserved = match refunds::reserve(&mut conn, &new).await {
        Ok(reserved) => reserved,
        // A concurrent request with the same Idempotency-Key got there first.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() && request_key.is_some() => {
            let key = request_key.unwrap_or_default();
            let earlier = refunds::by_request_key(&mut conn, &order.id, key)
                .await?
                .ok_or_else(|| Error::internal("refund vanished"))?;
            drop(conn);
            return replay(db, gateway, earlier, &same_request).await;
        }
        Err(e) => return Err(e.into()),
    };
    drop(conn);
    let row = reserved.map_err(|refusal| refused(order, refusal))?;
    let refund = send(db, gateway, row).await?;
    Ok(Refunded {
        refund,
        created: true,
    })
}

/// A validated request, as a replay compares it with the refund its key made.
struct Request<'a> {
    fingerprint: &'a str,
    amount: Option<i64>,
    reason: Option<&'a str>,
}

impl Request<'_> {
    fn made(&self, earlier: &RefundRow) -> bool {
        match &earlier.request_fingerprint {
            Some(fingerprint) => fingerprint == self.fingerprint,
            // Stored before fingerprints were kept: all that row can tell.
            None => {
                self.amount.is_none_or(|a| a == earlier.amount)
                    && self.reason == earlier.reason.as_deref()
            }
        }
    }
}

/// The same Idempotency-Key again: the same request gets the same refund
/// (finishing it if Stripe never answered); any other request is a conflict.
async fn replay(
    db: &DbPool,
    gateway: &StripeGateway,
    earlier: RefundRow,
    request: &Request<'_>,
) -> Result<Refunded> {
    if !request.made(&earlier) {
        return Err(Error::RefundKeyReused);
    }
    let refund = if earlier.status == RefundStatus::Pending {
        send(db, gateway, earlier).await?
    } else {
        earlier
    };
    Ok(Refunded {
        refund,
        created: false,
    })
}

fn refused(order: &OrderRow, refusal: Refusal) -> Error {
    match refusal {
        Refusal::NoOrder => Error::NotFound("order"),
        Refusal::NotRefundable(status) => Error::OrderNotRefundable { status },
        Refusal::NotPaidThroughStripe => Error::NotPaidThroughStripe,
        Refusal::TooMuch { remaining } => Error::RefundExceedsRemaining {
            remaining: format_major(remaining, order.currency),
            currency: order.currency,
        },
    }
}

/// Asks Stripe for the reserved refund and records the answer. A refusal
/// frees the reservation; an outage keeps it (the refund may have happened)
/// until the same request is retried or a sweep finishes it.
#[tracing::instrument(skip_all, fields(order_id = %row.order_id, refund_id = %row.id))]
pub async fn send(db: &DbPool, gateway: &StripeGateway, row: RefundRow) -> Result<RefundRow> {
    let key = IdempotencyKey::new(row.idempotency_key.clone()).map_err(Error::internal)?;
    let params = RefundParams {
        payment_intent: &row.payment_intent_id,
        amount: Some(row.amount),
        reason: row.reason.as_deref(),
        metadata: vec![("order_id", &row.order_id), ("refund_id", &row.id)],
    };
    // Once Stripe has named the refund (it answered `pending`), asking about
    // it is a read, safe at any age; before that, the create is re-sent with
    // the row's own key.
    let answer = match &row.stripe_refund_id {
        Some(id) => gateway.client.retrieve_refund(id).await,
        None => gateway.client.create_refund(&params, &key).await,
    };
    match answer {
        Ok(refund) => {
            // The refund's row and the order's total (the charge re-read)
            // are recorded together: see `refunded_total::record`.
            let answer = refunded_total::RowAnswer {
                row_id: &row.id,
                refund: &refund,
            };
            let charge = refund
                .charge
                .as_deref()
                .map(|charge_id| refunded_total::PayingCharge {
                    charge_id,
                    payment_intent_id: &row.payment_intent_id,
                });
            let source = Source::Refund(row.id.clone());
            refunded_total::record(db, gateway, &row.order_id, Some(answer), charge, &source)
                .await?;
        }
        Err(error @ (StripeError::Card { .. } | StripeError::InvalidRequest { .. })) => {
            let code = match &error {
                StripeError::Card { code, .. } => Some(code.clone()),
                StripeError::InvalidRequest { code, .. } => code.clone(),
                _ => None,
            };
            let mut conn = db.writer().acquire().await?;
            refunds::settle(
                &mut conn,
                &row.id,
                RefundStatus::Failed,
                None,
                code.as_deref(),
            )
            .await?;
            return Err(Error::stripe(error));
        }
        Err(error) => return Err(Error::stripe(error)),
    }
    let mut conn = db.acquire().await?;
    refunds::get(&mut conn, &row.id)
        .await?
        .ok_or_else(|| Error::internal("refund vanished"))
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn a_fingerprint_covers_the_whole_request() {
        let base = fingerprint("o1", Some(1000), None);
        assert_eq!(base, fingerprint("o1", Some(1000), None));
        assert_ne!(base, fingerprint("o1", None, None), "full is not 10.00");
        assert_ne!(base, fingerprint("o1", Some(1001), None));
        assert_ne!(base, fingerprint("o2", Some(1000), None));
        assert_ne!(
            base,
            fingerprint("o1", Some(1000), Some("requested_by_customer"))
        );
        assert_eq!(base.len(), 64, "hex SHA-256");
    }
}
