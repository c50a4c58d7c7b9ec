//! The simulator holds orderpay to what Stripe refuses: its own currency
//! table (compared with orderpay's), Stripe's idempotency (5xx inside
//! execution replayed, 24-hour key expiry on a movable clock), lifecycles
//! that take time (processing, pending refunds, disputes, 3-D Secure), paged
//! listings and sustained faults. Over HTTP, like orderpay reaches Stripe.

use orderpay::domain::currency::{Currency, MAX_MINOR_AMOUNT};
use orderpay::stripe::api::{ConfirmParams, PaymentIntentParams, RefundParams};
use orderpay::stripe::form::Form;
use orderpay::stripe::sim::webhooks::WebhookSettings;
use orderpay::stripe::sim::{currencies, SimHandle};
use orderpay::stripe::types::PaymentIntentStatus;
use orderpay::stripe::{IdempotencyKey, StripeError};
use serde_json::{json, Value};

use crate::stripe_client::{client, simulator, SECRET};

/// One raw answer of the simulator.
struct Answer {
    status: u16,
    body: Value,
    replayed: bool,
}

async fn v1(handle: &SimHandle, method: &str, path: &str, form: Form, key: Option<&str>) -> Answer {
    let http = reqwest::Client::new();
    let url = format!("{}/v1/{path}", handle.base_url);
    let request = if method == "GET" {
        http.get(format!("{url}?{}", form.encode()))
    } else {
        http.post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.encode())
    };
    let request = match key {
        Some(key) => request.header("Idempotency-Key", key),
        None => request,
    };
    let response = request.bearer_auth(SECRET).send().await.unwrap();
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("Idempotent-Replayed");
    Answer {
        status,
        body: response.json().await.unwrap(),
        replayed,
    }
}

/// A `/_sim` control with a JSON body (or none).
async fn control(handle: &SimHandle, path: &str, body: Option<Value>) -> (u16, Value) {
    let request = reqwest::Client::new().post(format!("{}/_sim/{path}", handle.base_url));
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn pi_form(amount: &str, currency: &str) -> Form {
    Form::new()
        .field("amount", amount)
        .field("currency", currency)
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

/// The types of the events about one object, oldest first.
fn event_types(handle: &SimHandle, object_id: &str) -> Vec<String> {
    let data = handle.sim.data.lock().unwrap();
    data.events
        .iter()
        .filter(|e| e["data"]["object"]["id"] == object_id)
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// A PaymentIntent paid with Stripe's test Visa card.
async fn paid_intent(handle: &SimHandle, amount: i64, name: &str) -> (String, String) {
    let stripe = client(handle, 5_000, 0);
    let pi = stripe
        .create_payment_intent(
            &PaymentIntentParams {
                amount,
                currency: "usd",
                payment_method: Some("pm_card_visa"),
                ..Default::default()
            },
            &key(&format!("{name}-create")),
        )
        .await
        .unwrap();
    let paid = stripe
        .confirm_payment_intent(
            &pi.id,
            &ConfirmParams::default(),
            &key(&format!("{name}-pay")),
        )
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentIntentStatus::Succeeded);
    (pi.id, paid.latest_charge.unwrap())
}

#[test]
fn the_simulators_currency_table_agrees_with_orderpays() {
    // Every three-letter lowercase code: neither table can hide a currency.
    let letters = || b'a'..=b'z';
    let mut disagreements = Vec::new();
    for a in letters() {
        for b in letters() {
            for c in letters() {
                let code = String::from_utf8(vec![a, b, c]).unwrap();
                let sim = currencies::rule(&code);
                let ours = Currency::parse(&code);
                let (sim, ours) = match (sim, ours) {
                    (None, None) => continue,
                    (Some(sim), Some(ours)) => (sim, ours),
                    (sim, ours) => {
                        disagreements.push(format!(
                            "{code}: simulator lists it: {}, orderpay lists it: {}",
                            sim.is_some(),
                            ours.is_some()
                        ));
                        continue;
                    }
                };
                let pairs = [
                    (
                        "exponent",
                        i64::from(sim.exponent),
                        i64::from(ours.exponent()),
                    ),
                    ("charge step", sim.charge_step, ours.charge_step()),
                    (
                        "minimum",
                        sim.minimum.unwrap_or(0),
                        ours.minimum_charge().unwrap_or(0),
                    ),
                    ("maximum", sim.maximum, MAX_MINOR_AMOUNT),
                ];
                for (what, sim, ours) in pairs {
                    if sim != ours {
                        disagreements
                            .push(format!("{code}: {what}: simulator {sim}, orderpay {ours}"));
                    }
                }
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "the tables disagree:\n{}",
        disagreements.join("\n")
    );
}

#[rocket::async_test]
async fn amounts_that_break_the_currency_rules_are_refused_with_stripes_codes() {
    let handle = simulator(WebhookSettings::default()).await;
    for (amount, currency, code) in [
        ("550", "ugx", Some("invalid_charge_amount")),
        ("500", "ugx", None),
        ("150", "isk", Some("invalid_charge_amount")),
        ("1235", "kwd", Some("invalid_charge_amount")),
        ("1230", "kwd", None),
        ("49", "usd", Some("amount_too_small")),
        ("29", "gbp", Some("amount_too_small")),
        ("17499", "huf", Some("amount_too_small")),
        ("49", "jpy", Some("amount_too_small")),
        ("0", "bhd", Some("amount_too_small")),
        ("99999999", "usd", None),
        ("100000000", "usd", Some("amount_too_large")),
    ] {
        let answer = v1(
            &handle,
            "POST",
            "payment_intents",
            pi_form(amount, currency),
            None,
        )
        .await;
        match code {
            None => assert_eq!(answer.status, 200, "{amount} {currency}: {}", answer.body),
            Some(code) => {
                assert_eq!(answer.status, 400, "{amount} {currency}");
                let error = &answer.body["error"];
                assert_eq!(
                    error["type"], "invalid_request_error",
                    "{amount} {currency}"
                );
                assert_eq!(error["code"], code, "{amount} {currency}");
                assert_eq!(error["param"], "amount", "{amount} {currency}");
            }
        }
    }
    let upper = v1(
        &handle,
        "POST",
        "payment_intents",
        pi_form("500", "USD"),
        None,
    )
    .await;
    assert_eq!(
        (upper.status, upper.body["error"]["param"].as_str()),
        (400, Some("currency"))
    );
}

#[rocket::async_test]
async fn a_500_inside_execution_is_applied_saved_and_replayed_for_its_key() {
    let handle = simulator(WebhookSettings::default()).await;
    let (status, _) = control(&handle, "faults", Some(json!({"fail_inside_next": 1}))).await;
    assert_eq!(status, 200);
    let first = v1(
        &handle,
        "POST",
        "payment_intents",
        pi_form("1000", "usd"),
        Some("k-500"),
    )
    .await;
    assert_eq!(first.status, 500);
    assert_eq!(first.body["error"]["type"], "api_error");
    assert_eq!(handle.sim.payment_intent_count(), 1, "the call was applied");

    let retry = v1(
        &handle,
        "POST",
        "payment_intents",
        pi_form("1000", "usd"),
        Some("k-500"),
    )
    .await;
    assert_eq!((retry.status, retry.replayed), (500, true));
    assert_eq!(retry.body, first.body, "the saved 500 is replayed");
    assert_eq!(handle.sim.payment_intent_count(), 1);

    let other = v1(
        &handle,
        "POST",
        "payment_intents",
        pi_form("2000", "usd"),
        Some("k-500"),
    )
    .await;
    assert_eq!(other.status, 400);
    assert_eq!(other.body["error"]["type"], "idempotency_error");

    // A validation failure never began executing: not saved, the key is free.
    let invalid = v1(
        &handle,
        "POST",
        "payment_intents",
        pi_form("1", "usd"),
        Some("k-free"),
    )
    .await;
    assert_eq!(invalid.status, 400);
    let fixed = v1(
        &handle,
        "POST",
        "payment_intents",
        pi_form("1000", "usd"),
        Some("k-free"),
    )
    .await;
    assert_eq!((fixed.status, fixed.replayed), (200, false));
}

#[rocket::async_test]
async fn idempotency_keys_expire_after_24_hours_on_the_simulators_clock() {
    let handle = simulator(WebhookSettings::default()).await;
    let create = || pi_form("1000", "usd");
    let first = v1(&handle, "POST", "payment_intents", create(), Some("k-day")).await;
    let reply = reqwest::get(format!("{}/_sim/clock", handle.base_url))
        .await
        .unwrap();
    let started = reply.json::<Value>().await.unwrap()["now"]
        .as_i64()
        .unwrap();

    let (_, moved) = control(&handle, "clock", Some(json!({"advance_secs": 86_000}))).await;
    assert!(moved["now"].as_i64().unwrap() >= started + 86_000);
    let replayed = v1(&handle, "POST", "payment_intents", create(), Some("k-day")).await;
    assert!(replayed.replayed);
    assert_eq!(replayed.body["id"], first.body["id"]);

    control(&handle, "clock", Some(json!({"advance_secs": 400}))).await;
    let anew = v1(&handle, "POST", "payment_intents", create(), Some("k-day")).await;
    assert!(!anew.replayed, "the key was forgotten after 24 hours");
    assert_ne!(anew.body["id"], first.body["id"]);
    assert!(anew.body["created"].as_i64().unwrap() >= started + 86_400);
    assert_eq!(handle.sim.payment_intent_count(), 2);

    let (status, body) = control(&handle, "clock", Some(json!({"advance_secs": -5}))).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[rocket::async_test]
async fn drop_all_loses_every_retry_until_the_plan_is_replaced() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 200, 3);
    control(
        &handle,
        "faults",
        Some(json!({"drop_all": true, "delay_ms": 400})),
    )
    .await;
    let params = PaymentIntentParams {
        amount: 1000,
        currency: "usd",
        ..Default::default()
    };
    match stripe.create_payment_intent(&params, &key("k-lost")).await {
        Err(StripeError::Timeout) => {}
        other => panic!("every attempt should time out: {other:?}"),
    }
    assert_eq!(
        handle.sim.payment_intent_count(),
        1,
        "applied once, answered never"
    );

    control(&handle, "faults", Some(json!({}))).await;
    let found = stripe
        .create_payment_intent(&params, &key("k-lost"))
        .await
        .unwrap();
    assert_eq!(handle.sim.payment_intent_count(), 1);
    assert_eq!(found.amount, 1000);
}

#[rocket::async_test]
async fn processing_payments_later_succeed_or_fail_and_cannot_be_canceled() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 0);
    control(&handle, "processing", Some(json!({"next": 2}))).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let pi = stripe
            .create_payment_intent(
                &PaymentIntentParams {
                    amount: 2500,
                    currency: "usd",
                    payment_method: Some("pm_card_visa"),
                    ..Default::default()
                },
                &key(&format!("proc-{n}")),
            )
            .await
            .unwrap();
        let confirmed = stripe
            .confirm_payment_intent(
                &pi.id,
                &ConfirmParams::default(),
                &key(&format!("proc-c{n}")),
            )
            .await
            .unwrap();
        let expected = if n < 2 {
            PaymentIntentStatus::Processing
        } else {
            PaymentIntentStatus::Succeeded
        };
        assert_eq!(confirmed.status, expected, "confirmation {n}");
        ids.push(pi.id);
    }
    match stripe
        .cancel_payment_intent(&ids[0], &key("proc-cancel"))
        .await
    {
        Err(StripeError::InvalidRequest {
            status: 400, code, ..
        }) => {
            assert_eq!(code.as_deref(), Some("payment_intent_unexpected_state"))
        }
        other => panic!("cancel from processing: {other:?}"),
    }

    let path = |id: &str| format!("payment_intents/{id}/process");
    let (status, pi) = control(&handle, &path(&ids[0]), Some(json!({"action": "succeed"}))).await;
    assert_eq!((status, pi["status"].as_str()), (200, Some("succeeded")));
    assert_eq!(pi["amount_received"], 2500);
    assert_eq!(
        event_types(&handle, &ids[0]),
        [
            "payment_intent.created",
            "payment_intent.processing",
            "payment_intent.succeeded"
        ]
    );
    let (status, pi) = control(&handle, &path(&ids[1]), Some(json!({"action": "fail"}))).await;
    assert_eq!(
        (status, pi["status"].as_str()),
        (200, Some("requires_payment_method"))
    );
    assert_eq!(pi["last_payment_error"]["code"], "card_declined");
    assert_eq!(
        event_types(&handle, &ids[1]).last().map(String::as_str),
        Some("payment_intent.payment_failed")
    );
    match stripe
        .cancel_payment_intent(&ids[2], &key("paid-cancel"))
        .await
    {
        Err(StripeError::InvalidRequest { code, .. }) => {
            assert_eq!(code.as_deref(), Some("payment_intent_unexpected_state"))
        }
        other => panic!("cancel once succeeded: {other:?}"),
    }

    // `start` sends a payable PaymentIntent into processing by hand.
    let fresh = v1(
        &handle,
        "POST",
        "payment_intents",
        pi_form("900", "usd"),
        None,
    )
    .await;
    let id = fresh.body["id"].as_str().unwrap();
    let (status, pi) = control(&handle, &path(id), Some(json!({"action": "start"}))).await;
    assert_eq!((status, pi["status"].as_str()), (200, Some("processing")));
    let (status, body) = control(&handle, &path(id), Some(json!({"action": "later"}))).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[rocket::async_test]
async fn held_refunds_are_pending_then_succeed_or_fail_with_events() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 0);
    let (pi, _) = paid_intent(&handle, 1000, "refunds").await;
    control(&handle, "refunds/hold", Some(json!({"hold": true}))).await;
    let refund = |amount: i64, name: &'static str| {
        let stripe = stripe.clone();
        let pi = pi.clone();
        async move {
            stripe
                .create_refund(
                    &RefundParams {
                        payment_intent: &pi,
                        amount: Some(amount),
                        ..Default::default()
                    },
                    &key(name),
                )
                .await
        }
    };
    let first = refund(300, "re-1").await.unwrap();
    assert_eq!(first.status.as_deref(), Some("pending"));
    // Stripe reserves a pending refund's amount at once: 700 is left, not 1000.
    match refund(800, "re-2").await {
        Err(StripeError::InvalidRequest { code, .. }) => {
            assert_eq!(code.as_deref(), Some("amount_too_large"))
        }
        other => panic!("{other:?}"),
    }
    let refunded_total = || {
        let data = handle.sim.data.lock().unwrap();
        data.events
            .iter()
            .rev()
            .find(|e| e["type"] == "charge.refunded")
            .map(|e| e["data"]["object"]["amount_refunded"].as_i64().unwrap())
    };
    assert_eq!(refunded_total(), Some(300));

    let settle = |id: String, outcome: &'static str| {
        let handle = &handle;
        async move {
            control(
                handle,
                &format!("refunds/{id}/settle"),
                Some(json!({"outcome": outcome})),
            )
            .await
        }
    };
    let (status, failed) = settle(first.id.clone(), "fail").await;
    assert_eq!((status, failed["status"].as_str()), (200, Some("failed")));
    assert_eq!(failed["failure_reason"], "expired_or_canceled_card");
    assert_eq!(
        event_types(&handle, &first.id),
        ["refund.created", "refund.updated", "charge.refund.updated"]
    );
    // The failed refund's 300 is refundable again: all 1000 can go.
    let second = refund(1000, "re-3").await.unwrap();
    assert_eq!(second.status.as_deref(), Some("pending"));
    let (status, done) = settle(second.id.clone(), "succeed").await;
    assert_eq!((status, done["status"].as_str()), (200, Some("succeeded")));
    assert_eq!(
        stripe
            .retrieve_refund(&second.id)
            .await
            .unwrap()
            .status
            .as_deref(),
        Some("succeeded")
    );
    let (status, again) = settle(second.id.clone(), "fail").await;
    assert_eq!(status, 400, "only pending refunds settle: {again}");

    control(&handle, "refunds/hold", Some(json!({"hold": false}))).await;
    let (other_pi, _) = paid_intent(&handle, 500, "refunds-now").await;
    let immediate = stripe
        .create_refund(
            &RefundParams {
                payment_intent: &other_pi,
                ..Default::default()
            },
            &key("re-now"),
        )
        .await
        .unwrap();
    assert_eq!(immediate.status.as_deref(), Some("succeeded"));
}

#[rocket::async_test]
async fn a_charge_is_read_by_id_with_its_refunded_total_pending_refunds_included() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 0);
    let (pi, charge_id) = paid_intent(&handle, 1000, "charge-read").await;
    let charge = stripe.retrieve_charge(&charge_id).await.unwrap();
    assert_eq!(
        (
            charge.amount,
            charge.amount_captured,
            charge.amount_refunded,
            charge.refunded
        ),
        (1000, 1000, 0, false)
    );
    assert_eq!(charge.payment_intent.as_deref(), Some(pi.as_str()));
    assert_eq!(charge.currency, "usd");

    control(&handle, "refunds/hold", Some(json!({"hold": true}))).await;
    let params = RefundParams {
        payment_intent: &pi,
        amount: Some(400),
        ..Default::default()
    };
    let pending = stripe
        .create_refund(&params, &key("charge-read-re"))
        .await
        .unwrap();
    let total = || async {
        stripe
            .retrieve_charge(&charge_id)
            .await
            .unwrap()
            .amount_refunded
    };
    assert_eq!(total().await, 400, "a pending refund counts at once");
    let path = format!("refunds/{}/settle", pending.id);
    control(&handle, &path, Some(json!({"outcome": "fail"}))).await;
    assert_eq!(total().await, 0, "a failed one gives it back");

    let unknown = v1(&handle, "GET", "charges/ch_nope", Form::new(), None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        (
            unknown.body["error"]["type"].as_str(),
            unknown.body["error"]["code"].as_str()
        ),
        (Some("invalid_request_error"), Some("resource_missing"))
    );
}

#[rocket::async_test]
async fn disputes_open_and_close_with_events_and_block_refunds() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 0);
    let (pi, charge) = paid_intent(&handle, 4200, "dispute").await;
    let (status, dispute) = control(&handle, &format!("charges/{charge}/dispute"), None).await;
    assert_eq!(status, 200, "{dispute}");
    let id = dispute["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("dp_"));
    assert_eq!(
        (dispute["status"].as_str(), dispute["amount"].as_i64()),
        (Some("needs_response"), Some(4200))
    );
    assert_eq!(dispute["payment_intent"], pi.as_str());
    match stripe
        .create_refund(
            &RefundParams {
                payment_intent: &pi,
                ..Default::default()
            },
            &key("refund-disputed"),
        )
        .await
    {
        Err(StripeError::InvalidRequest { code, .. }) => {
            assert_eq!(code.as_deref(), Some("charge_disputed"))
        }
        other => panic!("{other:?}"),
    }
    let (status, closed) = control(
        &handle,
        &format!("disputes/{id}/close"),
        Some(json!({"outcome": "lost"})),
    )
    .await;
    assert_eq!((status, closed["status"].as_str()), (200, Some("lost")));
    assert_eq!(
        event_types(&handle, &id),
        ["charge.dispute.created", "charge.dispute.closed"]
    );
    let (status, _) = control(
        &handle,
        &format!("disputes/{id}/close"),
        Some(json!({"outcome": "won"})),
    )
    .await;
    assert_eq!(status, 400, "a dispute closes once");
    let (status, missing) = control(&handle, "charges/ch_missing/dispute", None).await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );
}

#[rocket::async_test]
async fn the_3d_secure_url_answers_a_page_that_completes_the_challenge() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 0);
    let http = reqwest::Client::new();
    for (n, return_url, url_at) in [
        (0, Some("https://shop.test/return"), "/redirect_to_url/url"),
        (1, None, "/use_stripe_sdk/stripe_js"),
    ] {
        let pi = stripe
            .create_payment_intent(
                &PaymentIntentParams {
                    amount: 2500,
                    currency: "usd",
                    ..Default::default()
                },
                &key(&format!("3ds-{n}")),
            )
            .await
            .unwrap();
        let pending = stripe
            .confirm_payment_intent(
                &pi.id,
                &ConfirmParams {
                    payment_method: Some("pm_card_authenticationRequired"),
                    return_url,
                },
                &key(&format!("3ds-c{n}")),
            )
            .await
            .unwrap();
        let url = pending
            .next_action
            .unwrap()
            .pointer(url_at)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        let page = http.get(&url).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200, "{url}");
        assert!(page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&pi.id) && html.contains("name=\"outcome\""),
            "{html}"
        );

        let outcome = if n == 0 { "succeed" } else { "fail" };
        let done = http
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("outcome={outcome}"))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status().as_u16(), 200);
        let expected = if n == 0 {
            PaymentIntentStatus::Succeeded
        } else {
            PaymentIntentStatus::RequiresPaymentMethod
        };
        assert_eq!(
            stripe.retrieve_payment_intent(&pi.id).await.unwrap().status,
            expected
        );
    }
    let missing = http
        .get(format!("{}/_sim/3ds/pi_missing", handle.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

#[rocket::async_test]
async fn payment_intents_are_listed_and_paged_as_stripe_pages() {
    let handle = simulator(WebhookSettings::default()).await;
    let customer = |email: &str| Form::new().field("email", email);
    let alice = v1(
        &handle,
        "POST",
        "customers",
        customer("a@example.com"),
        None,
    )
    .await;
    let alice = alice.body["id"].as_str().unwrap().to_string();
    let bob = v1(
        &handle,
        "POST",
        "customers",
        customer("b@example.com"),
        None,
    )
    .await;
    let bob = bob.body["id"].as_str().unwrap().to_string();
    let mut created = Vec::new();
    for n in 0..5 {
        if n == 3 {
            control(&handle, "clock", Some(json!({"advance_secs": 100}))).await;
        }
        let form = pi_form("1000", "usd").field("customer", &alice);
        let pi = v1(&handle, "POST", "payment_intents", form, None).await;
        created.push(pi.body["id"].as_str().unwrap().to_string());
    }
    v1(
        &handle,
        "POST",
        "payment_intents",
        pi_form("1000", "usd").field("customer", &bob),
        None,
    )
    .await;
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    let list = |form: Form| v1(&handle, "GET", "payment_intents", form, None);
    let ids = |answer: &Answer| -> Vec<String> {
        answer.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pi| pi["id"].as_str().unwrap().to_string())
            .collect()
    };
    let of_alice = || Form::new().field("customer", &alice).field("limit", 2);
    let page1 = list(of_alice()).await;
    assert_eq!(
        (ids(&page1), page1.body["has_more"].as_bool()),
        (newest_first[0..2].to_vec(), Some(true))
    );
    let page2 = list(of_alice().field("starting_after", &newest_first[1])).await;
    assert_eq!(
        (ids(&page2), page2.body["has_more"].as_bool()),
        (newest_first[2..4].to_vec(), Some(true))
    );
    let page3 = list(of_alice().field("starting_after", &newest_first[3])).await;
    assert_eq!(
        (ids(&page3), page3.body["has_more"].as_bool()),
        (newest_first[4..].to_vec(), Some(false))
    );
    let back = list(of_alice().field("ending_before", &newest_first[2])).await;
    assert_eq!(
        (ids(&back), back.body["has_more"].as_bool()),
        (newest_first[0..2].to_vec(), Some(false))
    );

    let all = list(Form::new()).await;
    assert_eq!(ids(&all).len(), 6, "default limit 10, every customer");
    let late = newest_first[0].clone();
    let cutoff = v1(
        &handle,
        "GET",
        &format!("payment_intents/{late}"),
        Form::new(),
        None,
    )
    .await;
    let since = cutoff.body["created"].as_i64().unwrap();
    let recent = list(
        Form::new()
            .field("customer", &alice)
            .field("created[gte]", since),
    )
    .await;
    assert_eq!(ids(&recent), newest_first[0..2].to_vec());
    let older = list(
        Form::new()
            .field("customer", &alice)
            .field("created[lte]", since - 1),
    )
    .await;
    assert_eq!(ids(&older), newest_first[2..].to_vec());

    for (form, param) in [
        (Form::new().field("limit", 0), "limit"),
        (Form::new().field("limit", 101), "limit"),
        (Form::new().field("status", "succeeded"), "status"),
        (
            Form::new().field("starting_after", "pi_missing"),
            "starting_after",
        ),
    ] {
        let refused = list(form).await;
        assert_eq!(refused.status, 400, "{param}: {}", refused.body);
        assert_eq!(refused.body["error"]["param"], param);
    }
    let unknown = list(Form::new().field("status", "succeeded")).await;
    assert_eq!(unknown.body["error"]["code"], "parameter_unknown");
    let both = list(
        Form::new()
            .field("starting_after", &late)
            .field("ending_before", &late),
    )
    .await;
    assert_eq!(both.status, 400);
}

#[rocket::async_test]
async fn malformed_control_bodies_are_stripe_shaped_400s() {
    let handle = simulator(WebhookSettings::default()).await;
    for (path, body) in [
        ("faults", json!({"fail_inside_next": "many"})),
        ("processing", json!({"next": -1})),
        ("refunds/hold", json!({"hold": "yes"})),
        ("refunds/re_missing/settle", json!({"outcome": "maybe"})),
    ] {
        let (status, answer) = control(&handle, path, Some(body)).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert_eq!(answer["error"]["type"], "invalid_request_error", "{path}");
    }
    let (status, answer) = control(
        &handle,
        "refunds/re_missing/settle",
        Some(json!({"outcome": "succeed"})),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );
}
