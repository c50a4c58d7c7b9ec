//! Stripe's webhook: verify the signature over the raw bytes, store the event
//! in the inbox once, then bring the order in line with what Stripe says now.
//! Each event is handled by re-reading the PaymentIntent from Stripe (the
//! same path as the callback), so duplicates and any order of arrival end in
//! the same state: the latest truth, applied through forward-only transitions.
//! Refund events re-read the paying charge the same way (`refunded_total`).

use crate::checkout::{refunded_total, stray, stripe_error};
use crate::db::DbPool;
use crate::domain::Source;
use crate::http::error::{ApiError, ApiResult};
use crate::store::{self, orders::OrderRow, payments::AttemptRow, webhook_events::NewEvent, Conn};
use crate::stripe::gateway::StripeGateway;
use crate::stripe::types::{Event, PaymentIntent};
use crate::stripe::webhook::{SignatureError, SignatureHeader};
use crate::stripe::StripeError;
use serde_json::Value;

/// Events that may change what Stripe has refunded of a PaymentIntent: a
/// refund made (counted at once, even pending), settled, or failed (its money
/// back). Each re-reads the charge, so which of them arrive, how often and
/// in what order does not matter.
const REFUND_EVENTS: &[&str] = &[
    "charge.refunded",
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
];

pub struct Ack {
    pub event_id: String,
    pub outcome: String,
}

const PAYMENT_INTENT_EVENTS: &[&str] = &[
    "payment_intent.created",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.succeeded",
    "payment_intent.amount_capturable_updated",
];

/// What the `Stripe-Signature` header alone can refuse (missing, oversized,
/// too many signatures, malformed, stale), checked before the body is read:
/// it costs no MAC and no body.
pub fn check_header(gateway: &StripeGateway, header: Option<&str>) -> ApiResult<SignatureHeader> {
    let signature = SignatureHeader::parse(header).map_err(refused)?;
    signature
        .check_timestamp(
            gateway.webhook_tolerance_secs,
            chrono::Utc::now().timestamp(),
        )
        .map_err(refused)?;
    Ok(signature)
}

fn refused(error: SignatureError) -> ApiError {
    ApiError::bad_request(error.code(), format!("webhook refused: {error}"))
}

/// Text from the event that reaches a query. No Stripe id or event type has
/// control characters, and PostgreSQL refuses NUL in text (SQLite would
/// store it): refused alike on both backends, before anything is stored.
fn plain_text<'a>(field: &str, value: &'a str) -> ApiResult<&'a str> {
    if value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "malformed_event",
            format!("the event's {field} contains control characters"),
        ));
    }
    Ok(value)
}

/// Stripe refused for good (a 4xx other than 404, e.g. an id it can never
/// accept): asking again cannot change the answer. `stripe_error` turns every
/// such refusal into this code; outages and rate limits are 503 instead.
fn permanent_refusal(error: &ApiError) -> bool {
    error.code == "payment_provider_refused"
}

#[tracing::instrument(skip_all, fields(body_len = raw.len()))]
pub async fn receive(
    db: &DbPool,
    gateway: &StripeGateway,
    raw: &[u8],
    signature: &SignatureHeader,
) -> ApiResult<Ack> {
    let secrets: Vec<&str> = gateway.webhook_secrets.iter().map(|s| s.expose()).collect();
    signature.check_payload(raw, &secrets).map_err(refused)?;
    let text = std::str::from_utf8(raw)
        .map_err(|_| ApiError::bad_request("malformed_event", "the event is not UTF-8"))?;
    let event: Event = serde_json::from_str(text).map_err(|e| {
        ApiError::bad_request(
            "malformed_event",
            format!("the event is not a Stripe event: {e}"),
        )
    })?;
    plain_text("id", &event.id)?;
    plain_text("type", &event.kind)?;
    let object = &event.data.object;
    let payment_intent_id = match object["object"].as_str() {
        Some("payment_intent") => object["id"].as_str(),
        _ => object["payment_intent"].as_str(),
    }
    .map(|pi| plain_text("payment_intent", pi))
    .transpose()?;
    let snapshot_order_id = object["metadata"]["order_id"]
        .as_str()
        .map(|id| plain_text("metadata.order_id", id))
        .transpose()?;
    let mut conn = db.acquire().await?;
    // Looked up once here and handed down: it tags the inbox row and tells
    // the handlers whose PaymentIntent this is.
    let attempt = match payment_intent_id {
        Some(pi) => store::payments::by_payment_intent(&mut conn, pi).await?,
        None => None,
    };
    let order_id = attempt
        .as_ref()
        .map(|a| a.order_id.clone())
        .or_else(|| snapshot_order_id.map(str::to_string));
    let first = store::webhook_events::receive(
        &mut conn,
        &NewEvent {
            id: &event.id,
            kind: &event.kind,
            payment_intent_id,
            order_id: order_id.as_deref(),
            payload: text,
        },
    )
    .await?;
    drop(conn);
    if !first {
        return Ok(Ack {
            event_id: event.id,
            outcome: "duplicate".into(),
        });
    }
    let source = Source::Webhook(event.id.clone());
    let handled = match (event.kind.as_str(), payment_intent_id) {
        (kind, Some(pi)) if PAYMENT_INTENT_EVENTS.contains(&kind) => {
            reconcile(db, gateway, pi, attempt, object, &source).await
        }
        (kind, Some(pi)) if REFUND_EVENTS.contains(&kind) => {
            refund(db, gateway, pi, attempt, object, &source).await
        }
        ("charge.dispute.created", _) => Ok("recorded".to_string()),
        _ => Ok("ignored".to_string()),
    };
    // A transient failure leaves the event unprocessed and answers non-2xx,
    // so Stripe redelivers it; a permanent refusal is recorded and
    // acknowledged: redelivering it for three days would change nothing.
    let outcome = match handled {
        Ok(outcome) => outcome,
        Err(error) if permanent_refusal(&error) => {
            tracing::warn!(event = %event.id, reason = %error.message, "Stripe refused the event's object for good");
            "provider_refused".to_string()
        }
        Err(error) => return Err(error),
    };
    let mut conn = db.acquire().await?;
    store::webhook_events::mark_processed(&mut conn, &event.id, &outcome).await?;
    Ok(Ack {
        event_id: event.id,
        outcome,
    })
}

/// The order a PaymentIntent belongs to, and whether it is that order's
/// current attempt. A PaymentIntent not in the attempts table is linked by its
/// metadata when it names an attempt that never learned its id (orderpay
/// crashed between Stripe's answer and its commit); otherwise it is foreign.
async fn owner(
    conn: &mut Conn,
    pi: &PaymentIntent,
    mut attempt: Option<AttemptRow>,
) -> ApiResult<Option<(OrderRow, bool)>> {
    if attempt.is_none() {
        let order_id = pi.metadata.get("order_id");
        let number = pi
            .metadata
            .get("attempt")
            .and_then(|n| n.parse::<i64>().ok());
        if let (Some(order_id), Some(number)) = (order_id, number) {
            store::payments::set_payment_intent(conn, order_id, number, &pi.id).await?;
            attempt = store::payments::by_payment_intent(conn, &pi.id).await?;
        }
    }
    let Some(attempt) = attempt else {
        return Ok(None);
    };
    let Some(order) = store::orders::get(conn, &attempt.order_id).await? else {
        return Ok(None);
    };
    let latest = store::payments::latest(conn, &order.id)
        .await?
        .map(|a| a.attempt);
    Ok(Some((order, latest == Some(attempt.attempt))))
}

/// The PaymentIntent as Stripe has it now, with the order it belongs to and
/// whether it is that order's latest attempt; `None` for a foreign one. A
/// PaymentIntent neither recorded by orderpay nor naming an order in the
/// event's snapshot is foreign without asking Stripe; one Stripe does not know
/// (another account's, a forged id) is foreign too: both are acknowledged.
async fn current(
    db: &DbPool,
    gateway: &StripeGateway,
    pi_id: &str,
    attempt: Option<AttemptRow>,
    snapshot: &Value,
) -> ApiResult<Option<(PaymentIntent, OrderRow, bool)>> {
    if attempt.is_none() && !snapshot["metadata"]["order_id"].is_string() {
        return Ok(None);
    }
    let pi = match gateway.client.retrieve_payment_intent(pi_id).await {
        Ok(pi) => pi,
        Err(StripeError::InvalidRequest { status: 404, .. }) => return Ok(None),
        Err(error) => return Err(stripe_error(error)),
    };
    let mut conn = db.acquire().await?;
    Ok(owner(&mut conn, &pi, attempt)
        .await?
        .map(|(order, is_latest)| (pi, order, is_latest)))
}

async fn reconcile(
    db: &DbPool,
    gateway: &StripeGateway,
    pi_id: &str,
    attempt: Option<AttemptRow>,
    snapshot: &Value,
    source: &Source,
) -> ApiResult<String> {
    let Some((pi, order, is_latest)) = current(db, gateway, pi_id, attempt, snapshot).await? else {
        return Ok("foreign".into());
    };
    Ok(stray::apply(db, gateway, &order, &pi, is_latest, source)
        .await?
        .describe())
}

/// A refund only applies to a paid order: if its payment has not been
/// recorded yet (events out of order), it is settled first. Only a refund of
/// the PaymentIntent that paid the order changes it: refunding a stray
/// payment (a duplicate, money for a canceled order) gives back money the
/// order never counted. The order's refunded total is then set to the paying
/// charge's, re-read from Stripe (up or down: a failed refund gives its money
/// back), and an event about a refund settles orderpay's row for it, also
/// from the refund as Stripe has it now.
async fn refund(
    db: &DbPool,
    gateway: &StripeGateway,
    pi_id: &str,
    attempt: Option<AttemptRow>,
    snapshot: &Value,
    source: &Source,
) -> ApiResult<String> {
    let Some((pi, order, is_latest)) = current(db, gateway, pi_id, attempt, snapshot).await? else {
        return Ok("foreign".into());
    };
    if order.status.is_payable() {
        stray::apply(db, gateway, &order, &pi, is_latest, source).await?;
    }
    let mut conn = db.acquire().await?;
    let paid_by = store::orders::get(&mut conn, &order.id)
        .await?
        .and_then(|o| o.paid_payment_intent_id);
    if paid_by.as_deref() != Some(pi.id.as_str()) {
        return Ok("refund_of_other_payment".into());
    }
    let stripe_refund = match snapshot["object"].as_str() {
        Some("refund") => match snapshot["id"].as_str() {
            Some(id) => match gateway.client.retrieve_refund(plain_text("id", id)?).await {
                Ok(refund) => Some(refund),
                Err(StripeError::InvalidRequest { status: 404, .. }) => None,
                Err(error) => return Err(stripe_error(error)),
            },
            None => None,
        },
        _ => None,
    };
    let row = match &stripe_refund {
        Some(refund) => {
            let row_id = refund.metadata.get("refund_id").map(String::as_str);
            store::refunds::for_stripe_refund(&mut conn, &order.id, &refund.id, row_id).await?
        }
        None => None,
    };
    drop(conn);
    let answer = row
        .as_ref()
        .zip(stripe_refund.as_ref())
        .map(|(row, refund)| refunded_total::RowAnswer {
            row_id: &row.id,
            refund,
        });
    // The paying PaymentIntent's charge, as just re-read; the event's own
    // charge only if Stripe's answer names none.
    let snapshot_charge = match snapshot["object"].as_str() {
        Some("charge") => snapshot["id"].as_str(),
        _ => snapshot["charge"].as_str(),
    };
    let charge = pi
        .latest_charge
        .as_deref()
        .or(snapshot_charge)
        .map(|charge_id| plain_text("charge", charge_id))
        .transpose()?
        .map(|charge_id| refunded_total::PayingCharge {
            charge_id,
            payment_intent_id: &pi.id,
        });
    let changed = refunded_total::record(db, gateway, &order.id, answer, charge, source).await?;
    Ok(if changed {
        "refund_applied".into()
    } else {
        "refund_unchanged".into()
    })
}
