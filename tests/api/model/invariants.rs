//! The invariants of "Money right in every case", checked against orderpay's
//! own views and Stripe's (the simulator's) after every step; 3, 5 and 7
//! only once the system is quiet, when no message is still on its way.

use rocket::http::Method;
use serde_json::Value;

use super::money_ref::api_amount;
use super::stripe_view::{self as stripe, is_payable};
use super::world::{OrderRef, World};
use crate::helpers::api_key;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Moment {
    AfterStep,
    Quiescent,
}

const PAID: &[&str] = &["paid", "partially_refunded", "refunded"];

/// Forward-only moves, from README "Orders": payment_failed stays payable.
fn legal(from: Option<&str>, to: &str) -> bool {
    match from {
        None => to == "pending_payment",
        Some("pending_payment") => {
            matches!(to, "processing" | "payment_failed" | "paid" | "canceled")
        }
        Some("processing") => matches!(to, "payment_failed" | "paid" | "canceled"),
        Some("payment_failed") => matches!(to, "processing" | "paid" | "canceled"),
        // A refund that fails at Stripe gives the money back: the refunded
        // total falls, and the status with it (never to unpaid).
        Some("paid") => matches!(to, "partially_refunded" | "refunded"),
        Some("partially_refunded") => matches!(to, "partially_refunded" | "refunded" | "paid"),
        Some("refunded") => matches!(to, "partially_refunded" | "paid"),
        Some(_) => false,
    }
}

/// A history entry that records an event without a move (README "Payments":
/// money refunded automatically): `from` and `to` are the status it left
/// unchanged.
fn is_note(step: &Value) -> bool {
    step["from"] == step["to"]
        && step["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("auto_refund:"))
}

/// A step that marks an unpaid order paid (not a failed refund's way back).
fn is_paid_step(step: &Value) -> bool {
    step["to"] == "paid"
        && matches!(
            step["from"].as_str(),
            None | Some("pending_payment" | "processing" | "payment_failed")
        )
}

/// Everything both sides know about one order.
struct Seen {
    order: OrderRef,
    view: Value,
    /// What the order costs in Stripe's units, by the reference conversion.
    amount: i64,
    paid_pi: String,
    attempts: Vec<String>,
    mismatches: Vec<String>,
    pis: Vec<Value>,
    /// orderpay's latest attempt has no PaymentIntent yet: it replaced the
    /// last one (canceled at Stripe because it could no longer pay the
    /// order) and waits for the customer to ask again.
    awaiting_new_attempt: bool,
}

impl Seen {
    fn status(&self) -> &str {
        self.view["status"].as_str().unwrap_or_default()
    }

    fn pi(&self, id: &str) -> Option<&Value> {
        self.pis.iter().find(|pi| pi["id"] == id)
    }
}

/// All violations found now, plus those the steps recorded; empty when all hold.
pub async fn check(world: &World, moment: Moment) -> Vec<String> {
    let mut found = std::mem::take(&mut world.record().violations);
    for order in world.orders() {
        let seen = see(world, order).await;
        let mut say = |n: u8, text: String| {
            found.push(format!(
                "invariant {n}, order {} ({}): {text}",
                seen.order.id, seen.order.currency
            ))
        };
        history(&seen, &mut say);
        paying(&seen, &mut say);
        payable(&seen, &mut say);
        amounts(world, &seen, &mut say);
        if moment == Moment::Quiescent {
            no_silent_money(world, &seen, &mut say);
            refunds_agree(world, &seen, &mut say);
            status_follows_stripe(world, &seen, &mut say);
        }
    }
    found
}

async fn see(world: &World, order: OrderRef) -> Seen {
    let app = world.app();
    let admin = [api_key(&app.admin_key)];
    let view = world
        .call(
            Method::Get,
            &format!("/api/v1/shop/orders/{}", order.id),
            &admin,
            None,
        )
        .await;
    let payments = world
        .call(
            Method::Get,
            &format!("/api/v1/payments?order_id={}&limit=100", order.id),
            &[api_key(&world.keys.payments_read)],
            None,
        )
        .await;
    let mismatches = world
        .call(
            Method::Get,
            &format!(
                "/api/v1/admin/payment-mismatches?order_id={}&limit=100",
                order.id
            ),
            &admin,
            None,
        )
        .await;
    let ids = |list: &Value| -> Vec<String> {
        list["data"].as_array().map_or(Vec::new(), |rows| {
            rows.iter()
                .filter_map(|r| r["payment_intent_id"].as_str().map(str::to_string))
                .collect()
        })
    };
    let latest_attempt: Option<(String,)> = sqlx::query_as(
        "SELECT COALESCE(payment_intent_id, '') FROM payment_attempts WHERE order_id = $1 \
         ORDER BY attempt DESC LIMIT 1",
    )
    .bind(&order.id)
    .fetch_optional(app.pool())
    .await
    .expect("latest attempt");
    let awaiting_new_attempt = latest_attempt.is_some_and(|(pi,)| pi.is_empty());
    let (paid_pi,): (String,) =
        sqlx::query_as("SELECT COALESCE(paid_payment_intent_id, '') FROM orders WHERE id = $1")
            .bind(&order.id)
            .fetch_one(app.pool())
            .await
            .expect("read the order's paying PaymentIntent");
    Seen {
        amount: api_amount(&order.amount_text, order.currency)
            .expect("generated amounts are valid"),
        view: view.body["data"].clone(),
        paid_pi,
        attempts: ids(&payments.body),
        mismatches: ids(&mismatches.body),
        pis: stripe::payment_intents(app, &order.id),
        awaiting_new_attempt,
        order,
    }
}

/// 1. At most one paid step, and every step a legal move from the one before.
fn history(seen: &Seen, say: &mut impl FnMut(u8, String)) {
    let steps = seen.view["history"].as_array().cloned().unwrap_or_default();
    let paid = steps.iter().filter(|s| is_paid_step(s)).count();
    if paid > 1 {
        say(1, format!("{paid} paid steps: {steps:?}"));
    }
    let mut before: Option<&str> = None;
    for (i, s) in steps.iter().enumerate() {
        let (from, to) = (s["from"].as_str(), s["to"].as_str().unwrap_or_default());
        if from != before || !(legal(from, to) || is_note(s)) {
            say(
                1,
                format!("step {i} {from:?} -> {to} after {before:?}: {steps:?}"),
            );
        }
        before = Some(to);
    }
}

/// 2. A paid order's paying PaymentIntent is one of its attempts, succeeded
///    at Stripe with exactly the order's amount, currency and order_id.
fn paying(seen: &Seen, say: &mut impl FnMut(u8, String)) {
    if !PAID.contains(&seen.status()) {
        return;
    }
    if !seen.attempts.contains(&seen.paid_pi) {
        return say(
            2,
            format!(
                "paid by {:?}, not one of its attempts {:?}",
                seen.paid_pi, seen.attempts
            ),
        );
    }
    let Some(pi) = seen.pi(&seen.paid_pi) else {
        return say(
            2,
            format!("paid by {}, which Stripe does not have", seen.paid_pi),
        );
    };
    let right = pi["status"] == "succeeded"
        && pi["amount_received"].as_i64() == Some(seen.amount)
        && pi["currency"] == seen.order.currency
        && pi["metadata"]["order_id"] == seen.order.id;
    if !right {
        say(
            2,
            format!(
                "paid by {pi}, the order is {} {}",
                seen.amount, seen.order.currency
            ),
        );
    }
}

/// 4. At most one payable PaymentIntent, none once the order is settled.
fn payable(seen: &Seen, say: &mut impl FnMut(u8, String)) {
    let live: Vec<&Value> = seen.pis.iter().filter(|pi| is_payable(pi)).collect();
    let settled = seen.status() == "canceled" || PAID.contains(&seen.status());
    if live.len() > 1 || (settled && !live.is_empty()) {
        let ids: Vec<_> = live
            .iter()
            .map(|pi| format!("{} {}", pi["id"], pi["status"]))
            .collect();
        say(
            4,
            format!("order {}, payable at Stripe: {ids:?}", seen.status()),
        );
    }
}

/// 8. What Stripe was asked to charge is the reference conversion of the
///    amount the test wrote (unless the dashboard changed it since).
fn amounts(world: &World, seen: &Seen, say: &mut impl FnMut(u8, String)) {
    let shown = seen.view["amount"].as_str().unwrap_or_default();
    if api_amount(shown, seen.order.currency) != Some(seen.amount) {
        say(
            8,
            format!("orderpay shows {shown} for {}", seen.order.amount_text),
        );
    }
    let tampered = world.record().tampered.clone();
    for pi in seen
        .pis
        .iter()
        .filter(|pi| !tampered.contains(pi["id"].as_str().unwrap_or_default()))
    {
        if pi["amount"].as_i64() != Some(seen.amount) || pi["currency"] != seen.order.currency {
            say(
                8,
                format!(
                    "{} asks {} {} for {} (reference {})",
                    pi["id"], pi["amount"], pi["currency"], seen.order.amount_text, seen.amount
                ),
            );
        }
    }
}

/// 3. Every succeeded PaymentIntent is the paying one, or a recorded
///    mismatch that was refunded in full.
fn no_silent_money(world: &World, seen: &Seen, say: &mut impl FnMut(u8, String)) {
    for pi in seen.pis.iter().filter(|pi| pi["status"] == "succeeded") {
        let id = pi["id"].as_str().unwrap_or_default();
        if id == seen.paid_pi {
            continue;
        }
        let received = pi["amount_received"].as_i64().unwrap_or_default();
        let refunded = stripe::refunded_total(world.app(), id);
        if !seen.mismatches.iter().any(|m| m == id) || refunded != received {
            say(3, format!(
                "{id} took {received}, refunded {refunded}, mismatch recorded: {}; the order is {} paid by {:?}",
                seen.mismatches.iter().any(|m| m == id), seen.status(), seen.paid_pi
            ));
        }
    }
}

/// The refunded total Stripe shows on the paying PaymentIntent.
fn stripe_refunded(world: &World, seen: &Seen) -> i64 {
    stripe::refunded_total(world.app(), &seen.paid_pi)
}

/// 5. The order's refunded total is Stripe's, and never more than was paid.
fn refunds_agree(world: &World, seen: &Seen, say: &mut impl FnMut(u8, String)) {
    if !PAID.contains(&seen.status()) {
        return;
    }
    let shown = seen.view["amount_refunded"].as_str().unwrap_or_default();
    let ours = api_amount(shown, seen.order.currency);
    let theirs = stripe_refunded(world, seen);
    if ours != Some(theirs) || theirs > seen.amount {
        say(
            5,
            format!(
                "orderpay shows {shown} refunded, Stripe {theirs} of {}",
                seen.amount
            ),
        );
    }
}

/// 7. The order's status is the one its latest PaymentIntent's state implies.
fn status_follows_stripe(world: &World, seen: &Seen, say: &mut impl FnMut(u8, String)) {
    let status = seen.status();
    let implied: Vec<&str> = if PAID.contains(&status) {
        let refunded = stripe_refunded(world, seen);
        vec![match refunded {
            0 => "paid",
            r if r < seen.amount => "partially_refunded",
            _ => "refunded",
        }]
    } else {
        match seen.pis.last() {
            None => vec!["pending_payment", "canceled"],
            Some(pi) => match pi["status"].as_str().unwrap_or_default() {
                "processing" => vec!["processing"],
                "canceled" => vec!["canceled"],
                // A latest success that could not pay the order (a mismatch:
                // 3 checks it was refunded) leaves it unpaid or canceled.
                "succeeded" if seen.mismatches.iter().any(|m| pi["id"] == m.as_str()) => {
                    vec!["pending_payment", "payment_failed", "canceled"]
                }
                "succeeded" => vec!["paid"],
                _ => vec!["pending_payment", "payment_failed"],
            },
        }
    };
    // A replaced PaymentIntent is no longer the order's: its order stays
    // payable until the customer asks for the next one.
    let payable_again =
        seen.awaiting_new_attempt && matches!(status, "pending_payment" | "payment_failed");
    if !implied.contains(&status) && !payable_again {
        let latest = seen
            .pis
            .last()
            .map(|pi| format!("{} {}", pi["id"], pi["status"]));
        say(
            7,
            format!("status {status}, latest PaymentIntent {latest:?} implies {implied:?}"),
        );
    }
}
