//! The Stripe client against the simulator on an ephemeral port, over HTTP.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orderpay::secret::Secret;
use orderpay::stripe::api::{
    ConfirmParams, CustomerParams, EventQuery, PaymentIntentParams, PaymentIntentUpdate,
    RefundParams,
};
use orderpay::stripe::sim::faults::FaultPlan;
use orderpay::stripe::sim::webhooks::WebhookSettings;
use orderpay::stripe::sim::{self, SimConfig, SimHandle};
use orderpay::stripe::types::PaymentIntentStatus;
use orderpay::stripe::{ClientConfig, IdempotencyKey, StripeClient, StripeError};

pub const SECRET: &str = "sk_test_client_tests_0123456789";

pub async fn simulator(webhooks: WebhookSettings) -> SimHandle {
    sim::spawn(SimConfig {
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        secret_key: SECRET.into(),
        webhooks,
        standalone: false,
    })
    .await
    .expect("simulator starts")
}

pub fn client(handle: &SimHandle, timeout_ms: u64, max_retries: u32) -> StripeClient {
    let mut config = ClientConfig::new(handle.base_url.clone(), Secret::new(SECRET));
    config.timeout = Duration::from_millis(timeout_ms);
    config.max_retries = max_retries;
    config.initial_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(50);
    StripeClient::new(config).unwrap()
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

fn pi_params<'a>(amount: i64, metadata: Vec<(&'a str, &'a str)>) -> PaymentIntentParams<'a> {
    PaymentIntentParams {
        amount,
        currency: "usd",
        metadata,
        ..Default::default()
    }
}

#[rocket::async_test]
async fn every_call_returns_the_expected_object() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 0);

    let customer = stripe
        .create_customer(
            &CustomerParams {
                email: Some("ada@example.com"),
                name: Some("Ada"),
                metadata: vec![("user_id", "u1")],
            },
            &key("c1"),
        )
        .await
        .unwrap();
    assert!(customer.id.starts_with("cus_"));
    assert_eq!(
        stripe
            .retrieve_customer(&customer.id)
            .await
            .unwrap()
            .email
            .as_deref(),
        Some("ada@example.com")
    );

    let visa = stripe
        .retrieve_payment_method("pm_card_visa")
        .await
        .unwrap();
    assert_eq!(visa.card.as_ref().unwrap().last4, "4242");
    let attached = stripe
        .attach_payment_method("pm_card_mastercard", &customer.id, &key("a1"))
        .await
        .unwrap();
    assert!(attached.id.starts_with("pm_") && attached.id != "pm_card_mastercard");
    assert_eq!(attached.customer.as_deref(), Some(customer.id.as_str()));
    assert_eq!(attached.card.as_ref().unwrap().brand, "mastercard");
    let listed = stripe.list_payment_methods(&customer.id).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    let detached = stripe
        .detach_payment_method(&attached.id, &key("d1"))
        .await
        .unwrap();
    assert_eq!(detached.customer, None);
    assert!(stripe
        .list_payment_methods(&customer.id)
        .await
        .unwrap()
        .data
        .is_empty());

    let params = PaymentIntentParams {
        amount: 11200,
        currency: "usd",
        customer: Some(&customer.id),
        description: Some("Payment for Order #ORD-20250331-5XZF"),
        receipt_email: Some("ada@example.com"),
        metadata: vec![("order_id", "o1"), ("order_number", "ORD-20250331-5XZF")],
        payment_method_types: vec!["card"],
        ..Default::default()
    };
    let pi = stripe
        .create_payment_intent(&params, &key("pi1"))
        .await
        .unwrap();
    assert!(pi.id.starts_with("pi_"));
    assert!(pi
        .client_secret
        .as_deref()
        .unwrap()
        .starts_with(&format!("{}_secret_", pi.id)));
    assert_eq!(pi.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert_eq!(
        (pi.amount, pi.amount_received, pi.currency.as_str()),
        (11200, 0, "usd")
    );
    assert_eq!(pi.customer.as_deref(), Some(customer.id.as_str()));
    assert_eq!(
        pi.description.as_deref(),
        Some("Payment for Order #ORD-20250331-5XZF")
    );
    assert_eq!(pi.receipt_email.as_deref(), Some("ada@example.com"));

    let updated = stripe
        .update_payment_intent(
            &pi.id,
            &PaymentIntentUpdate {
                amount: Some(11300),
                metadata: vec![("note", "x")],
                ..Default::default()
            },
            &key("u1"),
        )
        .await
        .unwrap();
    assert_eq!(updated.amount, 11300);
    assert_eq!(updated.metadata["order_id"], "o1", "metadata updates merge");
    assert_eq!(updated.metadata["note"], "x");

    let paid = stripe
        .confirm_payment_intent(
            &pi.id,
            &ConfirmParams {
                payment_method: Some("pm_card_visa"),
                return_url: None,
            },
            &key("cf1"),
        )
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentIntentStatus::Succeeded);
    assert_eq!(paid.amount_received, 11300);
    assert!(paid.latest_charge.as_deref().unwrap().starts_with("ch_"));
    let fetched = stripe.retrieve_payment_intent(&pi.id).await.unwrap();
    assert_eq!(fetched.status, PaymentIntentStatus::Succeeded);

    let partial = stripe
        .create_refund(
            &RefundParams {
                payment_intent: &pi.id,
                amount: Some(300),
                ..Default::default()
            },
            &key("r1"),
        )
        .await
        .unwrap();
    assert!(partial.id.starts_with("re_"));
    assert_eq!(
        (partial.amount, partial.payment_intent.as_deref()),
        (300, Some(pi.id.as_str()))
    );
    let rest = stripe
        .create_refund(
            &RefundParams {
                payment_intent: &pi.id,
                ..Default::default()
            },
            &key("r2"),
        )
        .await
        .unwrap();
    assert_eq!(
        rest.amount, 11000,
        "a refund without amount refunds what remains"
    );
    assert_eq!(
        stripe.retrieve_refund(&partial.id).await.unwrap().amount,
        300
    );
    match stripe
        .create_refund(
            &RefundParams {
                payment_intent: &pi.id,
                ..Default::default()
            },
            &key("r3"),
        )
        .await
    {
        Err(StripeError::InvalidRequest { code, .. }) => {
            assert_eq!(code.as_deref(), Some("charge_already_refunded"))
        }
        other => panic!("{other:?}"),
    }

    let manual = stripe
        .create_payment_intent(
            &PaymentIntentParams {
                capture_method: Some("manual"),
                payment_method: Some("pm_card_visa"),
                ..pi_params(5000, vec![])
            },
            &key("pi2"),
        )
        .await
        .unwrap();
    assert_eq!(manual.status, PaymentIntentStatus::RequiresConfirmation);
    let authorized = stripe
        .confirm_payment_intent(&manual.id, &ConfirmParams::default(), &key("cf2"))
        .await
        .unwrap();
    assert_eq!(
        (authorized.status, authorized.amount_capturable),
        (PaymentIntentStatus::RequiresCapture, 5000)
    );
    let captured = stripe
        .capture_payment_intent(&manual.id, Some(4000), &key("cap2"))
        .await
        .unwrap();
    assert_eq!(
        (captured.status, captured.amount_received),
        (PaymentIntentStatus::Succeeded, 4000)
    );

    let to_cancel = stripe
        .create_payment_intent(&pi_params(700, vec![]), &key("pi3"))
        .await
        .unwrap();
    let canceled = stripe
        .cancel_payment_intent(&to_cancel.id, &key("cx3"))
        .await
        .unwrap();
    assert_eq!(canceled.status, PaymentIntentStatus::Canceled);

    let events = stripe
        .list_events(&EventQuery {
            kind: Some("payment_intent.succeeded"),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.data.len(), 2);
    assert!(events
        .data
        .iter()
        .all(|e| e.kind == "payment_intent.succeeded"));
    assert_eq!(
        events.data[0].data.object["id"],
        manual.id.as_str(),
        "newest first"
    );
    let page = stripe
        .list_events(&EventQuery {
            limit: Some(1),
            starting_after: Some(&events.data[0].id),
            kind: Some("payment_intent.succeeded"),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.data[0].id, events.data[1].id);
    let refunded = stripe
        .list_events(&EventQuery {
            kind: Some("charge.refunded"),
            created_gte: Some(0),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(refunded.data[0].data.object["amount_refunded"], 11300);

    match stripe.retrieve_payment_intent("pi_missing").await {
        Err(StripeError::InvalidRequest {
            status: 404, code, ..
        }) => assert_eq!(code.as_deref(), Some("resource_missing")),
        other => panic!("{other:?}"),
    }
}

#[rocket::async_test]
async fn nested_metadata_round_trips_with_unicode_and_brackets() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 0);
    let line_items =
        r#"[{"name":"Crème brûlée [large]","amount":5600,"currency":"usd","quantity":2}]"#;
    let tricky = "a&b=c%d+e ✓ 日本 [x][y]";
    let pi = stripe
        .create_payment_intent(
            &pi_params(
                11200,
                vec![
                    ("line_items", line_items),
                    ("note", tricky),
                    ("order_id", "ord_1"),
                ],
            ),
            &key("meta"),
        )
        .await
        .unwrap();
    let fetched = stripe.retrieve_payment_intent(&pi.id).await.unwrap();
    assert_eq!(fetched.metadata["line_items"], line_items);
    assert_eq!(fetched.metadata["note"], tricky);
    assert_eq!(fetched.metadata["order_id"], "ord_1");
}

#[rocket::async_test]
async fn card_errors_carry_code_and_decline_code() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 0);
    for (card, code, decline) in [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "card_declined",
            "insufficient_funds",
        ),
        (
            "pm_card_chargeDeclinedExpiredCard",
            "expired_card",
            "expired_card",
        ),
    ] {
        let pi = stripe
            .create_payment_intent(&pi_params(2500, vec![]), &key(&format!("pi-{card}")))
            .await
            .unwrap();
        let result = stripe
            .confirm_payment_intent(
                &pi.id,
                &ConfirmParams {
                    payment_method: Some(card),
                    return_url: None,
                },
                &key(&format!("cf-{card}")),
            )
            .await;
        match result {
            Err(StripeError::Card {
                code: c,
                decline_code,
                payment_intent,
                ..
            }) => {
                assert_eq!(c, code, "{card}");
                assert_eq!(decline_code.as_deref(), Some(decline), "{card}");
                let pi = payment_intent.expect("the failed PaymentIntent comes with the error");
                assert_eq!(pi.status, PaymentIntentStatus::RequiresPaymentMethod);
                assert_eq!(
                    pi.last_payment_error.unwrap().decline_code.as_deref(),
                    Some(decline)
                );
            }
            other => panic!("{card}: {other:?}"),
        }
        // The PaymentIntent can be paid with another card afterwards.
        let paid = stripe
            .confirm_payment_intent(
                &pi.id,
                &ConfirmParams {
                    payment_method: Some("pm_card_visa"),
                    return_url: None,
                },
                &key(&format!("cf2-{card}")),
            )
            .await
            .unwrap();
        assert_eq!(paid.status, PaymentIntentStatus::Succeeded);
    }
    let pi = stripe
        .create_payment_intent(&pi_params(2500, vec![]), &key("pi-3ds"))
        .await
        .unwrap();
    let pending = stripe
        .confirm_payment_intent(
            &pi.id,
            &ConfirmParams {
                payment_method: Some("pm_card_authenticationRequired"),
                return_url: Some("https://shop.test/return"),
            },
            &key("cf-3ds"),
        )
        .await
        .unwrap();
    assert_eq!(pending.status, PaymentIntentStatus::RequiresAction);
    assert_eq!(
        pending.next_action.as_ref().unwrap()["type"],
        "redirect_to_url"
    );
    assert_eq!(
        pending.next_action.as_ref().unwrap()["redirect_to_url"]["return_url"],
        "https://shop.test/return"
    );
    handle
        .sim
        .data
        .lock()
        .unwrap()
        .authenticate(&pi.id, true)
        .unwrap();
    assert_eq!(
        stripe.retrieve_payment_intent(&pi.id).await.unwrap().status,
        PaymentIntentStatus::Succeeded
    );
}

#[rocket::async_test]
async fn bursts_of_500_and_429_are_retried_with_the_same_key() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 3);
    for status in [500, 429] {
        handle.sim.inject(FaultPlan {
            fail_next: 3,
            fail_status: Some(status),
            ..Default::default()
        });
        let pi = stripe
            .create_payment_intent(&pi_params(1000, vec![]), &key(&format!("burst-{status}")))
            .await
            .unwrap();
        assert_eq!(pi.amount, 1000, "{status}");
        // The key was used for the successful attempt: replaying it returns the same PaymentIntent.
        let again = stripe
            .create_payment_intent(&pi_params(1000, vec![]), &key(&format!("burst-{status}")))
            .await
            .unwrap();
        assert_eq!(again.id, pi.id);
    }
    assert_eq!(handle.sim.payment_intent_count(), 2);
}

#[rocket::async_test]
async fn a_burst_longer_than_the_retry_budget_is_a_typed_error() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 2);
    handle.sim.inject(FaultPlan {
        fail_next: 3,
        ..Default::default()
    });
    match stripe
        .create_payment_intent(&pi_params(1000, vec![]), &key("long-500"))
        .await
    {
        Err(StripeError::Api { status: 500, .. }) => {}
        other => panic!("{other:?}"),
    }
    handle.sim.inject(FaultPlan {
        fail_next: 3,
        fail_status: Some(429),
        ..Default::default()
    });
    match stripe
        .create_payment_intent(&pi_params(1000, vec![]), &key("long-429"))
        .await
    {
        Err(error @ StripeError::RateLimited { .. }) => assert!(error.is_transient()),
        other => panic!("{other:?}"),
    }
    assert_eq!(handle.sim.payment_intent_count(), 0, "nothing was applied");
}

#[rocket::async_test]
async fn a_hung_call_times_out() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 300, 0);
    handle.sim.inject(FaultPlan {
        hang_next: 1,
        delay_ms: Some(2_000),
        ..Default::default()
    });
    let started = std::time::Instant::now();
    match stripe.retrieve_customer("cus_x").await {
        Err(StripeError::Timeout) => {}
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_millis(1_900),
        "gave up before the simulator answered"
    );
}

#[rocket::async_test]
async fn an_applied_but_unanswered_create_is_found_by_its_retry() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 400, 2);
    handle.sim.inject(FaultPlan {
        drop_next: 1,
        delay_ms: Some(1_500),
        ..Default::default()
    });
    let pi = stripe
        .create_payment_intent(
            &pi_params(4200, vec![("order_id", "o-drop")]),
            &key("orderpay:pi:o-drop:1"),
        )
        .await
        .unwrap();
    assert_eq!(pi.metadata["order_id"], "o-drop");
    assert_eq!(
        handle.sim.payment_intent_count(),
        1,
        "the simulator holds exactly one PaymentIntent"
    );
}

#[rocket::async_test]
async fn a_reused_key_with_other_parameters_is_an_idempotency_error() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 3);
    stripe
        .create_payment_intent(&pi_params(1000, vec![]), &key("same-key"))
        .await
        .unwrap();
    match stripe
        .create_payment_intent(&pi_params(2000, vec![]), &key("same-key"))
        .await
    {
        Err(StripeError::Idempotency { message }) => assert!(message.contains("same-key")),
        other => panic!("{other:?}"),
    }
    assert_eq!(handle.sim.payment_intent_count(), 1);
}

#[rocket::async_test]
async fn a_wrong_secret_key_is_an_authentication_error() {
    let handle = simulator(WebhookSettings::default()).await;
    let mut config = ClientConfig::new(
        handle.base_url.clone(),
        Secret::new("sk_test_wrong_key_9999"),
    );
    config.max_retries = 0;
    let stripe = StripeClient::new(config).unwrap();
    match stripe.retrieve_customer("cus_x").await {
        Err(StripeError::Authentication { message }) => {
            assert!(!message.contains("sk_test_wrong_key_9999"))
        }
        other => panic!("{other:?}"),
    }
}

/// Captures this thread's tracing output.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[rocket::async_test]
async fn the_secret_key_never_reaches_logs_or_debug_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 300, 2);
    handle.sim.inject(FaultPlan {
        fail_next: 2,
        ..Default::default()
    });
    stripe
        .create_payment_intent(&pi_params(1000, vec![]), &key("logged"))
        .await
        .unwrap();
    handle.sim.inject(FaultPlan {
        fail_next: 5,
        ..Default::default()
    });
    let error = stripe.retrieve_customer("cus_x").await.unwrap_err();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("retrying with the same Idempotency-Key"),
        "the capture works: {logs}"
    );
    for text in [
        logs,
        format!("{stripe:?}"),
        format!("{error:?}"),
        error.to_string(),
    ] {
        assert!(!text.contains(SECRET), "secret key in: {text}");
    }
}

#[rocket::async_test]
async fn connection_errors_are_retried_then_surface_as_network_errors() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = ClientConfig::new(format!("http://127.0.0.1:{closed}"), Secret::new(SECRET));
    config.max_retries = 2;
    config.initial_backoff = Duration::from_millis(5);
    let stripe = StripeClient::new(config).unwrap();
    match stripe.retrieve_customer("cus_x").await {
        Err(error @ StripeError::Network(_)) => assert!(error.is_transient()),
        other => panic!("{other:?}"),
    }
}

#[rocket::async_test]
async fn failed_authentication_leaves_the_payment_intent_payable() {
    let handle = simulator(WebhookSettings::default()).await;
    let stripe = client(&handle, 5_000, 0);
    let pi = stripe
        .create_payment_intent(&pi_params(2500, vec![]), &key("3ds-fail"))
        .await
        .unwrap();
    let confirm = ConfirmParams {
        payment_method: Some("pm_card_authenticationRequired"),
        return_url: None,
    };
    let pending = stripe
        .confirm_payment_intent(&pi.id, &confirm, &key("3ds-fail-c"))
        .await
        .unwrap();
    assert_eq!(pending.status, PaymentIntentStatus::RequiresAction);
    assert_eq!(pending.next_action.unwrap()["type"], "use_stripe_sdk");
    handle
        .sim
        .control(|data| data.authenticate(&pi.id, false))
        .unwrap();
    let failed = stripe.retrieve_payment_intent(&pi.id).await.unwrap();
    assert_eq!(failed.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert_eq!(
        failed.last_payment_error.unwrap().code.as_deref(),
        Some("payment_intent_authentication_failure")
    );
}
