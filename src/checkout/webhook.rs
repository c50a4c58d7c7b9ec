//! Stripe's webhook events, applied by the inbox workers after intake
//! (`webhook_intake`) stored them: bring the order in line with what Stripe
//! says now. Each event is handled by re-reading the PaymentIntent from Stripe (the
//! same path as the callback), so duplicates and any order of arrival end in
//! the same state: the latest truth, applied through forward-only transitions.
//! Refund events re-read the paying charge the same way (`refunded_total`).

use crate::checkout::webhook_intake::plain_text;
use crate::checkout::{refunded_total, stray, Error, Result};
use crate::db::DbPool;
use crate::domain::{PaymentIntentStatus, Source};
use crate::store::{self, orders::OrderRow, payments::AttemptRow, webhook_queue::ClaimedEvent};
use crate::stripe::gateway::StripeGateway;
use crate::stripe::types::{Event, PaymentIntent};
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

const PAYMENT_INTENT_EVENTS: &[&str] = &[
    "payment_intent.created",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.succeeded",
    "payment_intent.amount_capturable_updated",
];

/// Disputes are stored (outcome `recorded`) for an operator to see.
const DISPUTE_EVENTS: &[&str] = &["charge.dispute.created"];

/// The event types orderpay's webhook endpoint should be sent (a Stripe
/// endpoint's `enabled_events`): the ones it applies or records. Every
/// other type would be stored and answered `ignored`, at the cost of a
/// delivery, an intake and a worker's claim each; a checkout's
/// `charge.succeeded` alone was a third of its events.
pub fn subscribed_events() -> impl Iterator<Item = &'static str> {
    PAYMENT_INTENT_EVENTS
        .iter()
        .chain(REFUND_EVENTS)
        .chain(DISPUTE_EVENTS)
        .copied()
}

/// What applying a claimed group came to: each event's outcome, in the
/// group's order, and the order the events turned out to concern.
pub struct Applied {
    pub outcomes: Vec<(String, String)>,
    pub order_id: Option<String>,
}

/// Applies events about one PaymentIntent (or a single event about none),
/// coalesced: Stripe is asked about the PaymentIntent once, the
/// PaymentIntent's own events are applied once with that answer (they all
/// mean "look again"), and each refund or charge the refund events name is
/// settled once. An error leaves the whole group to be retried; an outcome is
/// per event. `attempt` is the attempt that made the PaymentIntent, as the
/// caller looked it up (for a whole claim at once): it tells the handlers
/// whose PaymentIntent this is.
#[tracing::instrument(skip_all, fields(events = events.len(), payment_intent = events.first().and_then(|e| e.payment_intent_id.as_deref())))]
pub async fn apply(
    db: &DbPool,
    gateway: &StripeGateway,
    events: &[ClaimedEvent],
    attempt: Option<AttemptRow>,
) -> Result<Applied> {
    let mut outcomes: Vec<(String, String)> = Vec::with_capacity(events.len());
    let mut relevant: Vec<(usize, Event)> = Vec::new();
    for (n, claimed) in events.iter().enumerate() {
        let outcome = match serde_json::from_str::<Event>(&claimed.payload) {
            // Intake read it, so this is a payload no Stripe event has
            // (an object that is not an object): nothing to apply, for good.
            Err(_) => "malformed",
            Ok(_) if claimed.payment_intent_id.is_none() => not_about_a_payment(&claimed.kind),
            Ok(event)
                if PAYMENT_INTENT_EVENTS.contains(&claimed.kind.as_str())
                    || REFUND_EVENTS.contains(&claimed.kind.as_str()) =>
            {
                relevant.push((n, event));
                ""
            }
            Ok(_) => not_about_a_payment(&claimed.kind),
        };
        outcomes.push((claimed.id.clone(), outcome.to_string()));
    }
    let Some(pi_id) = events.first().and_then(|e| e.payment_intent_id.as_deref()) else {
        return Ok(Applied {
            outcomes,
            order_id: None,
        });
    };
    if relevant.is_empty() {
        return Ok(Applied {
            outcomes,
            order_id: None,
        });
    }
    if let Some(order_id) = paid_by_it(db, pi_id, attempt.as_ref(), &relevant).await? {
        for (n, _) in &relevant {
            outcomes[*n].1 = "already_paid".into();
        }
        return Ok(Applied {
            outcomes,
            order_id: Some(order_id),
        });
    }
    let names_an_order = relevant
        .iter()
        .any(|(_, e)| e.data.object["metadata"]["order_id"].is_string());
    let known = current(db, gateway, pi_id, attempt, names_an_order).await?;
    let Some((pi, order, is_latest)) = known else {
        for (n, _) in &relevant {
            outcomes[*n].1 = "foreign".into();
        }
        return Ok(Applied {
            outcomes,
            order_id: None,
        });
    };
    let source_of = |n: usize| Source::Webhook(events[n].id.clone());
    let intent_events: Vec<usize> = relevant
        .iter()
        .filter(|(_, e)| PAYMENT_INTENT_EVENTS.contains(&e.kind.as_str()))
        .map(|(n, _)| *n)
        .collect();
    if let Some(&newest) = intent_events.last() {
        let outcome = stray::apply(db, gateway, &order, &pi, is_latest, &source_of(newest))
            .await?
            .describe();
        for n in &intent_events {
            outcomes[*n].1 = outcome.clone();
        }
    }
    // Refund events, one application per object they are about (a refund,
    // or a charge), with the newest snapshot of it.
    let mut refund_objects: Vec<(String, Vec<usize>)> = Vec::new();
    for (n, event) in relevant
        .iter()
        .filter(|(_, e)| REFUND_EVENTS.contains(&e.kind.as_str()))
    {
        let object = &event.data.object;
        let key = format!("{}:{}", object["object"], object["id"]);
        match refund_objects.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(*n),
            None => refund_objects.push((key, vec![*n])),
        }
    }
    for (_, members) in &refund_objects {
        let newest = *members.last().expect("a group has members");
        let snapshot = &relevant
            .iter()
            .find(|(n, _)| *n == newest)
            .expect("member of relevant")
            .1
            .data
            .object;
        let outcome = refund(
            db,
            gateway,
            &pi,
            &order,
            is_latest,
            snapshot,
            &source_of(newest),
        )
        .await?;
        for n in members {
            outcomes[*n].1 = outcome.clone();
        }
    }
    Ok(Applied {
        outcomes,
        order_id: Some(order.id),
    })
}

/// The order, when these events can only say what orderpay already knows:
/// they are all about the PaymentIntent itself (no refund), it was last
/// seen `succeeded` (final at Stripe: it never changes status again), and
/// it is what paid its order. Re-reading it from Stripe would end in
/// `already_paid` too; this costs one read of the order instead of a Stripe
/// call and a settle (a checkout's late `payment_intent.succeeded`, after
/// the callback marked the order paid).
async fn paid_by_it(
    db: &DbPool,
    pi_id: &str,
    attempt: Option<&AttemptRow>,
    relevant: &[(usize, Event)],
) -> Result<Option<String>> {
    let Some(attempt) = attempt else {
        return Ok(None);
    };
    let only_its_own = relevant
        .iter()
        .all(|(_, e)| PAYMENT_INTENT_EVENTS.contains(&e.kind.as_str()));
    if !only_its_own || attempt.status != Some(PaymentIntentStatus::Succeeded) {
        return Ok(None);
    }
    let mut conn = db.acquire().await?;
    let order = store::orders::get(&mut conn, &attempt.order_id).await?;
    Ok(order
        .filter(|o| {
            o.status.is_refund_state() && o.paid_payment_intent_id.as_deref() == Some(pi_id)
        })
        .map(|o| o.id))
}

fn not_about_a_payment(kind: &str) -> &'static str {
    if DISPUTE_EVENTS.contains(&kind) {
        "recorded"
    } else {
        "ignored"
    }
}

/// Stripe refused for good (a 4xx other than 404, e.g. an id it can never
/// accept): asking again cannot change the answer. `Error::stripe` turns
/// every such refusal into this variant; outages and rate limits are
/// `ProviderUnavailable` instead.
pub fn permanent_refusal(error: &Error) -> bool {
    matches!(error, Error::ProviderRefused { .. })
}
/// The order a PaymentIntent belongs to, and whether it is that order's
/// current attempt. A PaymentIntent not in the attempts table is linked by its
/// metadata when it names an attempt that never learned its id (orderpay
/// crashed between Stripe's answer and its commit); otherwise it is foreign.
async fn owner(
    db: &DbPool,
    pi: &PaymentIntent,
    mut attempt: Option<AttemptRow>,
) -> Result<Option<(OrderRow, bool)>> {
    if attempt.is_none() {
        let order_id = pi.metadata.get("order_id");
        let number = pi
            .metadata
            .get("attempt")
            .and_then(|n| n.parse::<i64>().ok());
        if let (Some(order_id), Some(number)) = (order_id, number) {
            let mut conn = db.writer().acquire().await?;
            store::payments::set_payment_intent(&mut conn, order_id, number, &pi.id).await?;
            attempt = store::payments::by_payment_intent(&mut conn, &pi.id).await?;
        }
    }
    let Some(attempt) = attempt else {
        return Ok(None);
    };
    let mut conn = db.acquire().await?;
    let Some((order, latest)) =
        store::orders::get_with_latest_attempt(&mut conn, &attempt.order_id).await?
    else {
        return Ok(None);
    };
    Ok(Some((order, latest == attempt.attempt)))
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
    names_an_order: bool,
) -> Result<Option<(PaymentIntent, OrderRow, bool)>> {
    if attempt.is_none() && !names_an_order {
        return Ok(None);
    }
    let pi = match gateway.client.retrieve_payment_intent(pi_id).await {
        Ok(pi) => pi,
        Err(StripeError::InvalidRequest { status: 404, .. }) => return Ok(None),
        Err(error) => return Err(Error::stripe(error)),
    };
    Ok(owner(db, &pi, attempt)
        .await?
        .map(|(order, is_latest)| (pi, order, is_latest)))
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
    pi: &PaymentIntent,
    order: &OrderRow,
    is_latest: bool,
    snapshot: &Value,
    source: &Source,
) -> Result<String> {
    if order.status.is_payable() {
        stray::apply(db, gateway, order, pi, is_latest, source).await?;
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
                Err(error) => return Err(Error::stripe(error)),
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
