//! What each operation does to the app, the simulator, or Stripe's side.
//! Invariant 6 (refund keys) is checked here, where the answers are seen.

use orderpay::stripe::sim::faults::FaultPlan;
use orderpay::stripe::sim::webhooks::ReleaseOrder;
use rocket::futures::future::join_all;
use rocket::http::Method;
use serde_json::json;

use super::money_ref::{api_amount, major_of, step as currency_step, SAMPLE};
use super::ops::{Card, FaultKind, Op, RefundKey, Release};
use super::stripe_view::{self as stripe, at_stripe, control, latest_in};
use super::world::{OrderRef, UsedKey, World, CUSTOMER, FAULT_DELAY_MS};
use crate::helpers::api_key;

/// Most orders a run keeps, so operations collide on them.
const MAX_ORDERS: usize = 3;

/// One catalog product per sampled currency, for admin test orders to name.
pub async fn seed_products(world: &World) {
    let products: Vec<_> = SAMPLE
        .iter()
        .map(|c| {
            json!({"sku": sku(c), "name": format!("Model {c}"), "currency": c,
                   "unit_amount": super::money_ref::major_text(c, 2_000, 0)})
        })
        .collect();
    let app = world.app();
    let reply = app
        .post(
            "/api/v1/admin/seed",
            Some(&app.admin_key.clone()),
            &json!({"products": products}).to_string(),
        )
        .await;
    assert!(reply.status.code < 300, "seed products: {:?}", reply.body);
}

fn sku(currency: &str) -> String {
    format!("MODEL-{}", currency.to_ascii_uppercase())
}

/// Runs one step: a single operation, a restart, or several at once.
pub async fn step(world: &mut World, op: &Op) {
    match op {
        Op::Restart => world.restart().await,
        Op::Parallel(ops) => {
            join_all(ops.iter().map(|op| apply(world, op))).await;
        }
        op => apply(world, op).await,
    }
}

async fn apply(world: &World, op: &Op) {
    match op {
        Op::CreateOrder { currency, amount } => create_order(world, currency, amount).await,
        Op::PaymentIntent { order, at_once } => {
            let Some(order) = world.order(*order) else {
                return;
            };
            let path = format!("/api/v1/shop/orders/{}/payment-intent", order.id);
            let headers = world.customer_headers();
            join_all((0..*at_once).map(|_| world.call(Method::Post, &path, &headers, None))).await;
        }
        Op::Confirm { order, card } => confirm(world, *order, *card).await,
        Op::ConfirmAtStripe { order, card } => confirm_at_stripe(world, *order, *card).await,
        Op::Authenticate { order, succeed } => {
            let Some(order) = world.order(*order) else {
                return;
            };
            let Some(pi) = latest_in(world.app(), &order.id, &["requires_action"]) else {
                return;
            };
            let outcome = if *succeed { "succeed" } else { "fail" };
            let path = format!(
                "/_sim/payment_intents/{}/authenticate",
                pi["id"].as_str().unwrap()
            );
            if control(world.app(), &path, json!({"outcome": outcome}))
                .await
                .is_none()
            {
                world.skip("authenticate");
            }
        }
        Op::FinishProcessing { order, succeed } => {
            let Some(order) = world.order(*order) else {
                return;
            };
            let Some(pi) = latest_in(world.app(), &order.id, &["processing"]) else {
                return;
            };
            let action = if *succeed { "succeed" } else { "fail" };
            let path = format!(
                "/_sim/payment_intents/{}/process",
                pi["id"].as_str().unwrap()
            );
            if control(world.app(), &path, json!({"action": action}))
                .await
                .is_none()
            {
                world.skip("finish processing");
            }
        }
        Op::Cancel { order } => {
            let Some(order) = world.order(*order) else {
                return;
            };
            let path = format!("/api/v1/shop/orders/{}/cancel", order.id);
            let headers = [crate::helpers::bearer(&world.keys.token)];
            world.call(Method::Post, &path, &headers, None).await;
        }
        Op::Callback { order, with_id } => callback(world, *order, *with_id).await,
        Op::Sweep => {
            let headers = [api_key(&world.app().admin_key)];
            world
                .call(Method::Post, "/api/v1/admin/reconcile", &headers, None)
                .await;
        }
        Op::Refund {
            order,
            percent,
            key,
        } => refund(world, *order, *percent, *key).await,
        Op::DashboardRefund { order, percent } => dashboard_refund(world, *order, *percent),
        Op::DashboardCancel { order } => {
            let Some(order) = world.order(*order) else {
                return;
            };
            let payable = [
                "requires_payment_method",
                "requires_confirmation",
                "requires_action",
            ];
            let Some(pi) = latest_in(world.app(), &order.id, &payable) else {
                return;
            };
            let id = pi["id"].as_str().unwrap().to_string();
            at_stripe(world.app(), |d, p, _| d.cancel_payment_intent(&id, p), "");
        }
        Op::DashboardAmountChange { order } => {
            let Some(order) = world.order(*order) else {
                return;
            };
            let payable = [
                "requires_payment_method",
                "requires_confirmation",
                "requires_action",
            ];
            let Some(pi) = latest_in(world.app(), &order.id, &payable) else {
                return;
            };
            let id = pi["id"].as_str().unwrap().to_string();
            let amount = pi["amount"].as_i64().unwrap();
            // A multiple of every currency's step, and within eight digits.
            let changed = if amount > 50_000_000 {
                amount - 1_000
            } else {
                amount + 1_000
            };
            let params = format!("amount={changed}");
            if at_stripe(
                world.app(),
                |d, p, _| d.update_payment_intent(&id, p),
                &params,
            ) {
                world.record().tampered.insert(id);
            }
        }
        Op::Webhooks { hold, duplicates } => {
            let webhooks = &world.app().sim.webhooks;
            let mut settings = webhooks.settings();
            settings.hold = *hold;
            settings.duplicates = *duplicates;
            webhooks.configure(settings);
        }
        Op::ReleaseWebhooks(order) => {
            let order = match order {
                Release::Fifo => ReleaseOrder::Fifo,
                Release::Reverse => ReleaseOrder::Reverse,
                Release::Shuffle => ReleaseOrder::Shuffle,
            };
            world.app().sim.webhooks.release(order).await;
        }
        Op::Redeliver { nth } => {
            let event = {
                let data = world.app().sim.data.lock().unwrap();
                (!data.events.is_empty()).then(|| data.events[nth % data.events.len()].clone())
            };
            if let Some(event) = event {
                world.app().sim.webhooks.deliver_with_retries(&event).await;
            }
        }
        Op::Fault { path, kind } => fault(world, path.prefix(), *kind).await,
        Op::HoldRefunds { hold } => {
            if control(world.app(), "/_sim/refunds/hold", json!({"hold": hold}))
                .await
                .is_none()
            {
                world.skip("hold refunds");
            }
        }
        Op::SettleRefund { order, succeed } => {
            let Some(order) = world.order(*order) else {
                return;
            };
            let outcome = if *succeed { "succeed" } else { "fail" };
            let pending = stripe::payment_intents(world.app(), &order.id)
                .iter()
                .flat_map(|pi| stripe::refunds(world.app(), pi["id"].as_str().unwrap_or_default()))
                .find(|refund| refund["status"] == "pending");
            if let Some(refund) = pending {
                let path = format!("/_sim/refunds/{}/settle", refund["id"].as_str().unwrap());
                if control(world.app(), &path, json!({"outcome": outcome}))
                    .await
                    .is_none()
                {
                    world.skip("settle refund");
                }
            }
        }
        Op::Restart | Op::Parallel(_) => unreachable!("run by `step`"),
    }
}

async fn create_order(world: &World, currency: &'static str, amount: &str) {
    if world.orders().len() >= MAX_ORDERS {
        return;
    }
    let body = json!({
        "line_items": [{"sku": sku(currency), "quantity": 1, "unit_amount": amount}],
        "customer_email": CUSTOMER,
    });
    let headers = [api_key(&world.app().admin_key)];
    let reply = world
        .call(
            Method::Post,
            "/api/v1/shop/orders",
            &headers,
            Some(&body.to_string()),
        )
        .await;
    if reply.status.code != 201 {
        world.violation(format!(
            "invariant 8: orderpay refused {amount} {currency}, a valid Stripe amount: {} {}",
            reply.status.code, reply.body
        ));
        return;
    }
    let id = reply.body["data"]["id"].as_str().unwrap().to_string();
    let mut record = world.record();
    if record.orders.len() < MAX_ORDERS {
        record.orders.push(OrderRef {
            id,
            currency,
            amount_text: amount.to_string(),
        });
    }
}

async fn confirm(world: &World, order: usize, card: Card) {
    let Some(order) = world.order(order) else {
        return;
    };
    if card == Card::Processing && !answer_next_processing(world).await {
        return;
    }
    let path = format!("/api/v1/shop/orders/{}/payment-intent/confirm", order.id);
    let body = json!({"payment_method": card.payment_method()}).to_string();
    world
        .call(Method::Post, &path, &world.customer_headers(), Some(&body))
        .await;
}

/// Asks the simulator to end the next successful confirmation in `processing`.
async fn answer_next_processing(world: &World) -> bool {
    let armed = control(world.app(), "/_sim/processing", json!({"next": 1})).await;
    if armed.is_none() {
        world.skip("processing card");
    }
    armed.is_some()
}

async fn confirm_at_stripe(world: &World, order: usize, card: Card) {
    let Some(order) = world.order(order) else {
        return;
    };
    let confirmable = ["requires_payment_method", "requires_confirmation"];
    let Some(pi) = latest_in(world.app(), &order.id, &confirmable) else {
        return;
    };
    if card == Card::Processing && !answer_next_processing(world).await {
        return;
    }
    let id = pi["id"].as_str().unwrap().to_string();
    let params = format!("payment_method={}", card.payment_method());
    at_stripe(
        world.app(),
        |d, p, base| d.confirm_payment_intent(&id, p, base),
        &params,
    );
}

async fn callback(world: &World, order: usize, with_id: bool) {
    let Some(order) = world.order(order) else {
        return;
    };
    let latest = stripe::payment_intents(world.app(), &order.id).pop();
    let body = match (with_id, latest) {
        (true, Some(pi)) => Some(json!({"payment_intent_id": pi["id"]}).to_string()),
        _ => None,
    };
    let path = format!("/api/v1/shop/orders/{}/payment", order.id);
    let headers = [api_key(&world.keys.callback)];
    world
        .call(Method::Post, &path, &headers, body.as_deref())
        .await;
}

/// `percent` of `amount`, rounded down to the currency's step (at least one step).
fn share(amount: i64, percent: u8, currency: &str) -> i64 {
    let step = currency_step(currency);
    (amount * i64::from(percent) / 100 / step * step).max(step)
}

async fn refund(world: &World, order: usize, percent: Option<u8>, key: RefundKey) {
    let Some(order) = world.order(order) else {
        return;
    };
    let amount =
        api_amount(&order.amount_text, order.currency).expect("generated amounts are valid");
    let body_for = |percent: Option<u8>| {
        percent.map(|p| {
            json!({"amount": major_of(share(amount, p, order.currency), order.currency)})
                .to_string()
        })
    };
    let last = world
        .record()
        .refund_keys
        .get(&order.id)
        .and_then(|keys| keys.last().cloned());
    let (key, body, expect) = match (key, last) {
        (RefundKey::None, _) => (None, body_for(percent), Expect::Nothing),
        (RefundKey::ReusedSameBody, Some(used)) => {
            let expect = used.refund_id.clone().map_or(Expect::Nothing, Expect::Same);
            (Some(used.key), used.body, expect)
        }
        (RefundKey::ReusedOtherBody, Some(used)) => {
            let other = match used.body {
                Some(_) => None,
                None => Some(
                    json!({"amount": major_of(currency_step(order.currency), order.currency)})
                        .to_string(),
                ),
            };
            let expect = if used.refund_id.is_some() {
                Expect::Conflict
            } else {
                Expect::Nothing
            };
            (Some(used.key), other, expect)
        }
        _ => {
            let mut record = world.record();
            record.next_key += 1;
            let key = format!("model-refund-{}", record.next_key);
            let body = body_for(percent);
            record
                .refund_keys
                .entry(order.id.clone())
                .or_default()
                .push(UsedKey {
                    key: key.clone(),
                    body: body.clone(),
                    refund_id: None,
                });
            (Some(key), body, Expect::Nothing)
        }
    };
    let mut headers = vec![api_key(&world.keys.refunds)];
    if let Some(key) = &key {
        headers.push(rocket::http::Header::new("Idempotency-Key", key.clone()));
    }
    let path = format!("/api/v1/shop/orders/{}/refunds", order.id);
    let reply = world
        .call(Method::Post, &path, &headers, body.as_deref())
        .await;
    let code = reply.status.code;
    let refund_id = reply.body["data"]["id"].as_str().map(str::to_string);
    let lost = code == 503;
    match expect {
        Expect::Same(first) if !lost && refund_id.as_deref() != Some(first.as_str()) => world.violation(format!(
            "invariant 6: Idempotency-Key {key:?} with the same body made {first} first, now {code} {}",
            reply.body
        )),
        Expect::Conflict if !lost && code != 409 => world.violation(format!(
            "invariant 6: Idempotency-Key {key:?} with another body {body:?}: {code} {}, not 409",
            reply.body
        )),
        _ => {}
    }
    if let (Some(key), Some(id), true) = (key, refund_id, code < 300) {
        let mut record = world.record();
        let used = record
            .refund_keys
            .get_mut(&order.id)
            .and_then(|keys| keys.iter_mut().find(|k| k.key == key));
        // The body that made the refund is the key's body from now on: a
        // request sent beside it with the same key may have been first.
        if let Some(used) = used.filter(|u| u.refund_id.is_none()) {
            used.refund_id = Some(id);
            used.body = body;
        }
    }
}

enum Expect {
    Nothing,
    Same(String),
    Conflict,
}

fn dashboard_refund(world: &World, order: usize, percent: Option<u8>) {
    let Some(order) = world.order(order) else {
        return;
    };
    let app = world.app();
    let succeeded = stripe::payment_intents(app, &order.id)
        .into_iter()
        .rev()
        .filter(|pi| pi["status"] == "succeeded")
        .map(|pi| {
            let id = pi["id"].as_str().unwrap().to_string();
            let left = pi["amount_received"].as_i64().unwrap() - stripe::refunded_total(app, &id);
            (id, left)
        })
        .find(|(_, left)| *left > 0);
    let Some((id, left)) = succeeded else { return };
    let amount = percent.map_or(left, |p| share(left, p, order.currency).min(left));
    let params = format!("payment_intent={id}&amount={amount}");
    at_stripe(app, |d, p, _| d.create_refund(p), &params);
}

async fn fault(world: &World, prefix: Option<&'static str>, kind: FaultKind) {
    let path_prefix = prefix.map(str::to_string);
    let plan = match kind {
        FaultKind::Fail500 => FaultPlan {
            fail_next: 1,
            ..Default::default()
        },
        // The first call and each of the client's three retries.
        FaultKind::Outage => FaultPlan {
            fail_next: 4,
            ..Default::default()
        },
        FaultKind::RateLimited => FaultPlan {
            fail_next: 1,
            fail_status: Some(429),
            ..Default::default()
        },
        FaultKind::DropAnswer => FaultPlan {
            drop_next: 1,
            delay_ms: Some(FAULT_DELAY_MS),
            ..Default::default()
        },
        FaultKind::Hang => FaultPlan {
            hang_next: 1,
            delay_ms: Some(FAULT_DELAY_MS),
            ..Default::default()
        },
        FaultKind::FailInside => {
            let body = json!({"fail_inside_next": 1, "path_prefix": path_prefix});
            world.fault_injected();
            if control(world.app(), "/_sim/faults", body).await.is_none() {
                world.skip("fail_inside_next fault");
            }
            return;
        }
    };
    world.fault_injected();
    world.app().sim.inject(FaultPlan {
        path_prefix,
        ..plan
    });
}
