//! Stripe's webhook, the part inside the request: the signature is checked
//! over the raw bytes, just enough of the event is read to file it (its id,
//! type, PaymentIntent and order), and it is stored in the inbox through the
//! group-committing writer. The answer comes once the row is committed;
//! applying the event is the inbox workers' job (`inbox_workers`), after the
//! answer, so Stripe hears back quickly and an outage at Stripe or a slow
//! order update never makes it redeliver.

use std::borrow::Cow;

use serde::Deserialize;

use crate::checkout::inbox_writer::{InboxWriter, Stored};
use crate::checkout::{Error, Result};
use crate::db::now_text;
use crate::store::webhook_queue::NewEvent;
use crate::stripe::gateway::StripeGateway;
use crate::stripe::webhook::{SignatureError, SignatureHeader};

/// What the request learnt: the event and whether this delivery stored it.
pub struct Ack {
    pub event_id: String,
    pub stored: Stored,
}

/// What the `Stripe-Signature` header alone can refuse (missing, oversized,
/// too many signatures, malformed, stale), checked before the body is read:
/// it costs no MAC and no body.
pub fn check_header(gateway: &StripeGateway, header: Option<&str>) -> Result<SignatureHeader> {
    let signature = SignatureHeader::parse(header).map_err(refused)?;
    signature
        .check_timestamp(
            gateway.webhook_tolerance_secs,
            chrono::Utc::now().timestamp(),
        )
        .map_err(refused)?;
    Ok(signature)
}

fn refused(error: SignatureError) -> Error {
    Error::SignatureRefused(error)
}

/// Text from the event that reaches a query. No Stripe id or event type has
/// control characters, and PostgreSQL refuses NUL in text (SQLite would
/// store it): refused alike on both backends, before anything is stored.
pub fn plain_text<'a>(field: &str, value: &'a str) -> Result<&'a str> {
    if value.chars().any(char::is_control) {
        return Err(Error::MalformedEvent(format!(
            "the event's {field} contains control characters"
        )));
    }
    Ok(value)
}

/// The few fields intake reads; serde skips the rest of the event without
/// building it.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    data: Data<'a>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    object: Object<'a>,
}

#[derive(Deserialize)]
struct Object<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    object: Option<Cow<'a, str>>,
    /// A charge's or refund's PaymentIntent (`null` on some charges).
    #[serde(borrow, default)]
    payment_intent: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    metadata: Option<Metadata<'a>>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(borrow, default)]
    order_id: Option<Cow<'a, str>>,
}

/// Verifies, files and durably stores one delivery. Nothing else happens in
/// the request.
#[tracing::instrument(skip_all, fields(body_len = raw.len()))]
pub async fn accept(
    writer: &InboxWriter,
    gateway: &StripeGateway,
    raw: &[u8],
    signature: &SignatureHeader,
) -> Result<Ack> {
    let secrets: Vec<&str> = gateway.webhook_secrets.iter().map(|s| s.expose()).collect();
    signature.check_payload(raw, &secrets).map_err(refused)?;
    let text = std::str::from_utf8(raw)
        .map_err(|_| Error::MalformedEvent("the event is not UTF-8".into()))?;
    let event: Envelope = serde_json::from_str(text)
        .map_err(|e| Error::MalformedEvent(format!("the event is not a Stripe event: {e}")))?;
    let object = &event.data.object;
    let payment_intent_id = match object.object.as_deref() {
        Some("payment_intent") => object.id.as_deref(),
        _ => object.payment_intent.as_deref(),
    };
    let order_id = object.metadata.as_ref().and_then(|m| m.order_id.as_deref());
    let new = NewEvent {
        id: plain_text("id", &event.id)?.to_string(),
        kind: plain_text("type", &event.kind)?.to_string(),
        payment_intent_id: payment_intent_id
            .map(|pi| plain_text("payment_intent", pi).map(str::to_string))
            .transpose()?,
        order_id: order_id
            .map(|id| plain_text("metadata.order_id", id).map(str::to_string))
            .transpose()?,
        payload: text.to_string(),
        received_at: now_text(),
    };
    let event_id = new.id.clone();
    let stored = writer.store(new).await.map_err(|error| {
        tracing::warn!(event = %event_id, %error, "webhook not stored; Stripe will redeliver");
        Error::InboxUnavailable
    })?;
    Ok(Ack { event_id, stored })
}
