//! The webhook is public: what an unauthenticated caller can send it is
//! refused by its answers, before the body is read or a MAC computed, and
//! a signed event's text never reaches a query with control characters.
//! (Nothing here times anything: the caps show in the answers.)

use rocket::http::{Header, Status};
use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::TcpStream;
use serde_json::json;

use crate::checkout::{post_event, signed, stored_events};
use crate::db_test;
use crate::helpers::TestApp;

fn event(id: &str, kind: &str, object: serde_json::Value) -> String {
    json!({"id": id, "object": "event", "type": kind, "created": 1_700_000_000,
           "livemode": false, "data": {"object": object}})
    .to_string()
}

fn customer_event() -> String {
    event(
        "evt_hostile_1",
        "customer.created",
        json!({"id": "cus_1", "object": "customer"}),
    )
}

fn secret(app: &TestApp) -> String {
    app.sim.webhooks.settings().secrets[0].clone()
}

fn signature(value: String) -> Option<Header<'static>> {
    Some(Header::new("Stripe-Signature", value))
}

/// `count` well-formed `v1` values that match nothing.
fn forged(count: usize) -> String {
    (0..count).map(|i| format!(",v1={i:064x}")).collect()
}

db_test!(
    the_signature_header_is_capped_and_checked_before_the_body,
    |app| {
        let body = customer_event();
        let now = chrono::Utc::now().timestamp();
        let valid = orderpay::stripe::webhook::compute(body.as_bytes(), now, &secret(&app));
        for (case, header, code) in [
            (
                "one v1 over the cap, the valid one last",
                format!("t={now}{},v1={valid}", forged(8)),
                "too_many_signatures",
            ),
            (
                "a thousand v1",
                format!("t={now},v1={valid}{}", forged(999)),
                "signature_header_too_large",
            ),
            (
                "over 2 KiB, valid but padded",
                format!("t={now},v1={valid},x={}", "a".repeat(2_048)),
                "signature_header_too_large",
            ),
            (
                "i64::MIN",
                format!("t=-9223372036854775808,v1={valid}"),
                "stale_signature",
            ),
            (
                "i64::MAX",
                format!("t=9223372036854775807,v1={valid}"),
                "stale_signature",
            ),
            (
                "beyond the tolerance in the future",
                orderpay::stripe::webhook::header(body.as_bytes(), now + 600, &[&secret(&app)]),
                "stale_signature",
            ),
            (
                "two timestamps",
                format!("t={now},t=1,v1={valid}"),
                "malformed_signature",
            ),
            (
                "a short v1",
                format!("t={now},v1=abcd"),
                "malformed_signature",
            ),
        ] {
            let reply = post_event(&app, &body, signature(header)).await;
            assert_eq!(
                (reply.status, reply.code()),
                (Status::BadRequest, code),
                "{case}: {:?}",
                reply.body
            );
        }
        assert_eq!(stored_events(&app).await, 0, "nothing stored");

        // Up to the cap, a valid signature among forged ones is accepted.
        let at_the_cap = format!("t={now}{},v1={valid}", forged(7));
        let reply = post_event(&app, &body, signature(at_the_cap)).await;
        assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
        assert_eq!(stored_events(&app).await, 1);
    }
);

/// Sends a request head announcing `Content-Length: 1 GiB` and the first 1 KiB
/// of it, keeps the connection open, and returns the status line of the
/// answer. (Rocket itself peeks at the first 14 bytes of any body before
/// routing, so fewer would not reach orderpay at all.)
async fn announce_a_huge_body(app: &TestApp, signature: &str) -> String {
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/webhooks/stripe HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/json\r\nStripe-Signature: {signature}\r\n\
         Content-Length: 1073741824\r\n\r\n{{\"id\": \"{}",
        "x".repeat(1024)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    // Only a guard against hanging forever: a server that waits for the
    // announced body never answers, and the test fails here.
    let read = rocket::tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no answer: the server waited for the body");
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

db_test!(
    a_body_over_the_webhook_limit_is_refused_before_it_is_read,
    |app| {
        let now = chrono::Utc::now().timestamp();
        let status = announce_a_huge_body(&app, &format!("t={now}{}", forged(1))).await;
        assert!(status.starts_with("HTTP/1.1 413"), "{status}");

        // Sent whole and correctly signed, 300 KiB is still over the 256 KiB limit.
        let padding = "x".repeat(300 * 1024);
        let body = event(
            "evt_hostile_big",
            "customer.created",
            json!({"id": "cus_1", "object": "customer", "description": padding}),
        );
        let reply = post_event(&app, &body, Some(signed(&body, &secret(&app), now))).await;
        assert_eq!(
            (reply.status, reply.code()),
            (Status::PayloadTooLarge, "payload_too_large"),
            "{:?}",
            reply.body
        );
        assert_eq!(stored_events(&app).await, 0);
    }
);

db_test!(
    control_characters_in_a_signed_event_are_malformed_event,
    |app| {
        let now = chrono::Utc::now().timestamp();
        let pi = |id: &str, order: &str| json!({"id": id, "object": "payment_intent", "metadata": {"order_id": order}});
        for (case, body) in [
            (
                "NUL in the event id",
                event("evt_\u{0}1", "customer.created", json!({})),
            ),
            (
                "BEL in the event id",
                event("evt_\u{7}1", "customer.created", json!({})),
            ),
            (
                "NUL in the type",
                event("evt_2", "customer.\u{0}created", json!({})),
            ),
            (
                "NUL in the PaymentIntent id",
                event(
                    "evt_3",
                    "payment_intent.succeeded",
                    pi("pi_\u{0}3", "ord_3"),
                ),
            ),
            (
                "NUL in the order id",
                event(
                    "evt_4",
                    "payment_intent.succeeded",
                    pi("pi_4", "ord_\u{0}4"),
                ),
            ),
        ] {
            let reply = post_event(&app, &body, Some(signed(&body, &secret(&app), now))).await;
            assert_eq!(
                (reply.status, reply.code()),
                (Status::BadRequest, "malformed_event"),
                "{case}: {:?}",
                reply.body
            );
        }
        assert_eq!(stored_events(&app).await, 0, "nothing stored");
    }
);
