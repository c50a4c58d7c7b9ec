//! Signed webhook delivery from the simulator, checked by an independent
//! implementation of Stripe's scheme (HMAC-SHA256 over `<t>.<payload>`).

use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use rocket::http::Status;
use rocket::{Build, Rocket, State};
use sha2::Sha256;

use crate::stripe_client::{client, simulator};
use orderpay::stripe::api::{ConfirmParams, PaymentIntentParams};
use orderpay::stripe::sim::webhooks::{ReleaseOrder, WebhookSettings};
use orderpay::stripe::sim::SimHandle;
use orderpay::stripe::IdempotencyKey;

#[derive(Default)]
struct Inbox(Mutex<Vec<(String, Vec<u8>)>>);

struct SignatureHeader(String);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for SignatureHeader {
    type Error = ();
    async fn from_request(req: &'r rocket::Request<'_>) -> rocket::request::Outcome<Self, ()> {
        rocket::request::Outcome::Success(SignatureHeader(
            req.headers()
                .get_one("Stripe-Signature")
                .unwrap_or("")
                .to_string(),
        ))
    }
}

#[rocket::post("/hook", data = "<body>")]
fn hook(inbox: &State<Arc<Inbox>>, signature: SignatureHeader, body: Vec<u8>) -> Status {
    inbox.0.lock().unwrap().push((signature.0, body));
    Status::Ok
}

async fn receiver() -> (String, Arc<Inbox>) {
    let inbox = Arc::new(Inbox::default());
    let (tx, rx) = rocket::tokio::sync::oneshot::channel::<u16>();
    let tx = Mutex::new(Some(tx));
    let rocket: Rocket<Build> = rocket::custom(
        rocket::Config::figment()
            .merge(("port", 0))
            .merge(("log_level", "off"))
            .merge(("shutdown.ctrlc", false)),
    )
    .manage(Arc::clone(&inbox))
    .mount("/", rocket::routes![hook])
    .attach(rocket::fairing::AdHoc::on_liftoff("port", move |r| {
        let port = r.config().port;
        let tx = tx.lock().unwrap().take();
        Box::pin(async move {
            if let Some(tx) = tx {
                let _ = tx.send(port);
            }
        })
    }));
    rocket::tokio::spawn(rocket.launch());
    let port = rx.await.unwrap();
    (format!("http://127.0.0.1:{port}/hook"), inbox)
}

/// Stripe's scheme, written out here independently of orderpay's code.
fn independently_verified(header: &str, body: &[u8], secret: &str) -> bool {
    let mut timestamp = "";
    let mut signatures = Vec::new();
    for part in header.split(',') {
        if let Some(t) = part.strip_prefix("t=") {
            timestamp = t;
        } else if let Some(v1) = part.strip_prefix("v1=") {
            signatures.push(v1.to_string());
        }
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let expected = hex::encode(mac.finalize().into_bytes());
    let fresh = (chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap()).abs() < 60;
    fresh && signatures.contains(&expected)
}

async fn wait_for(inbox: &Inbox, count: usize) -> Vec<(String, Vec<u8>)> {
    for _ in 0..300 {
        let got = inbox.0.lock().unwrap().clone();
        if got.len() >= count {
            return got;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!(
        "expected {count} deliveries, got {}",
        inbox.0.lock().unwrap().len()
    );
}

/// A PaymentIntent of 20.00 EUR created and paid with a test card, its
/// Idempotency-Keys `<keys>-1` and `<keys>-2`: three events.
async fn pay_20_eur(handle: &SimHandle, keys: &str) {
    let stripe = client(handle, 5_000, 0);
    let params = PaymentIntentParams {
        amount: 2000,
        currency: "eur",
        ..Default::default()
    };
    let pi = stripe
        .create_payment_intent(&params, &IdempotencyKey::new(format!("{keys}-1")).unwrap())
        .await
        .unwrap();
    stripe
        .confirm_payment_intent(
            &pi.id,
            &ConfirmParams {
                payment_method: Some("pm_card_visa"),
                return_url: None,
            },
            &IdempotencyKey::new(format!("{keys}-2")).unwrap(),
        )
        .await
        .unwrap();
}

#[rocket::async_test]
async fn deliveries_are_signed_as_stripe_signs_them() {
    let (url, inbox) = receiver().await;
    let handle = simulator(WebhookSettings {
        url: Some(url),
        secrets: vec!["whsec_old".into(), "whsec_new".into()],
        ..Default::default()
    })
    .await;
    pay_20_eur(&handle, "wh").await;
    // payment_intent.created, charge.succeeded, payment_intent.succeeded (+ nothing else).
    let deliveries = wait_for(&inbox, 3).await;
    let mut types = Vec::new();
    for (header, body) in &deliveries {
        assert!(
            independently_verified(header, body, "whsec_new"),
            "{header}"
        );
        assert!(
            independently_verified(header, body, "whsec_old"),
            "one v1 per secret while rotating"
        );
        assert!(!independently_verified(header, body, "whsec_other"));
        let event: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["object"], "event");
        assert!(event["id"].as_str().unwrap().starts_with("evt_"));
        types.push(event["type"].as_str().unwrap().to_string());
    }
    types.sort();
    assert_eq!(
        types,
        vec![
            "charge.succeeded",
            "payment_intent.created",
            "payment_intent.succeeded"
        ]
    );
    // orderpay's own verifier agrees with the independent one.
    let (header, body) = &deliveries[0];
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        orderpay::stripe::webhook::verify(body, Some(header), &["whsec_new"], 300, now),
        Ok(())
    );
}

/// Like a Stripe endpoint's `enabled_events`: other types are made and
/// listed, not sent.
#[rocket::async_test]
async fn an_endpoint_is_sent_only_the_event_types_it_enables() {
    let (url, inbox) = receiver().await;
    let handle = simulator(WebhookSettings {
        url: Some(url),
        secrets: vec!["whsec_x".into()],
        enabled_events: vec!["payment_intent.succeeded".into(), "refund.created".into()],
        ..Default::default()
    })
    .await;
    pay_20_eur(&handle, "enabled").await;
    wait_for(&inbox, 1).await;
    // Whatever else was going to be sent has been by the time this is.
    rocket::tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let delivered: Vec<String> = inbox
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            serde_json::from_slice::<serde_json::Value>(body).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(delivered, vec!["payment_intent.succeeded"]);
    let deliveries: Vec<String> = handle
        .sim
        .webhooks
        .deliveries()
        .into_iter()
        .map(|d| d.event_type)
        .collect();
    assert_eq!(
        deliveries,
        vec!["payment_intent.succeeded"],
        "nothing else tried"
    );
    let made = handle.sim.data.lock().unwrap().events.len();
    assert_eq!(made, 3, "created, charge, succeeded: all made and listed");
}

#[rocket::async_test]
async fn held_events_are_released_reordered_and_duplicated() {
    let (url, inbox) = receiver().await;
    let handle = simulator(WebhookSettings {
        url: Some(url.clone()),
        secrets: vec!["whsec_x".into()],
        hold: true,
        duplicates: 2,
        ..Default::default()
    })
    .await;
    let stripe = client(&handle, 5_000, 0);
    for n in 0..3 {
        let params = PaymentIntentParams {
            amount: 1000 + n,
            currency: "usd",
            ..Default::default()
        };
        stripe
            .create_payment_intent(&params, &IdempotencyKey::new(format!("held-{n}")).unwrap())
            .await
            .unwrap();
    }
    assert!(inbox.0.lock().unwrap().is_empty(), "held, not delivered");
    let report = handle.sim.webhooks.release(ReleaseOrder::Reverse).await;
    assert_eq!(report.len(), 9, "three events, three times each");
    assert!(report.iter().all(|d| d.status == Some(200)));
    let amounts: Vec<i64> = inbox
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            serde_json::from_slice::<serde_json::Value>(body).unwrap()["data"]["object"]["amount"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        amounts,
        vec![1002, 1002, 1002, 1001, 1001, 1001, 1000, 1000, 1000]
    );
}
