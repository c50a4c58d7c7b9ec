//! The webhook inbox as a queue: a delivery is acknowledged only once its
//! event is stored (deliveries share commits), each event is stored once,
//! and workers apply it after the answer: surviving crashes, sharing the
//! work between instances, and coalescing a PaymentIntent's events into the
//! state applying them one by one gives.

use std::collections::HashSet;

use orderpay::stripe::api::RefundParams;
use orderpay::stripe::IdempotencyKey;
use rocket::futures::future::join_all;
use rocket::http::Status;
use serde_json::{json, Value};

use super::*;
use crate::db_test;
use crate::helpers::{test_figment, Backend, TestApp};

fn customer_event(id: &str) -> String {
    json!({"id": id, "object": "event", "type": "customer.created",
           "created": chrono::Utc::now().timestamp(), "livemode": false,
           "data": {"object": {"id": "cus_1", "object": "customer"}}})
    .to_string()
}

async fn deliver(app: &TestApp, body: &str) -> Reply {
    let secret = app.sim.webhooks.settings().secrets[0].clone();
    let at = chrono::Utc::now().timestamp();
    post_event(app, body, Some(signed(body, &secret, at))).await
}

async fn stored_ids(app: &TestApp) -> HashSet<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM webhook_events")
        .fetch_all(app.pool())
        .await
        .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

/// Makes the database refuse to store events whose id is LIKE `pattern`: a
/// trigger, so the failure happens inside the writer's statement, as a full
/// disk or a lost connection would.
async fn poison(app: &TestApp, name: &str, pattern: &str) {
    let statements: Vec<String> = match app.backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER {name} BEFORE INSERT ON webhook_events WHEN NEW.id LIKE '{pattern}' \
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
        )],
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION {name}() RETURNS trigger AS $body$ BEGIN \
                 IF NEW.id LIKE '{pattern}' THEN RAISE EXCEPTION 'poisoned'; END IF; \
                 RETURN NEW; END $body$ LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER {name} BEFORE INSERT ON webhook_events \
                 FOR EACH ROW EXECUTE FUNCTION {name}()"
            ),
        ],
    };
    for sql in statements {
        sqlx::query(&sql).execute(app.pool()).await.unwrap();
    }
}

async fn cure(app: &TestApp, name: &str) {
    let statements = match app.backend {
        Backend::Sqlite => vec![format!("DROP TRIGGER {name}")],
        Backend::Postgres => vec![
            format!("DROP TRIGGER {name} ON webhook_events"),
            format!("DROP FUNCTION {name}()"),
        ],
    };
    for sql in statements {
        sqlx::query(&sql).execute(app.pool()).await.unwrap();
    }
}

db_test!(an_event_is_acknowledged_only_once_it_is_stored, |app| {
    // The database refuses everything: every delivery of the batch is a 503.
    poison(&app, "database_down", "evt_%").await;
    let bodies: Vec<String> = (0..24)
        .map(|n| customer_event(&format!("evt_down_{n}")))
        .collect();
    let replies = join_all(bodies.iter().map(|b| deliver(&app, b))).await;
    for reply in &replies {
        assert_eq!(
            (reply.status, reply.code()),
            (Status::ServiceUnavailable, "inbox_unavailable"),
            "{:?}",
            reply.body
        );
    }
    assert!(stored_ids(&app).await.is_empty());
    cure(&app, "database_down").await;

    // Some events poison the batch they land in: whatever shared their
    // commit is refused with them; whatever is acknowledged is stored.
    poison(&app, "poisoned_events", "evt_poison%").await;
    let ids: Vec<String> = (0..40)
        .map(|n| match n % 5 {
            0 => format!("evt_poison_{n}"),
            _ => format!("evt_ok_{n}"),
        })
        .collect();
    let bodies: Vec<String> = ids.iter().map(|id| customer_event(id)).collect();
    let replies = join_all(bodies.iter().map(|b| deliver(&app, b))).await;
    let stored = stored_ids(&app).await;
    for (id, reply) in ids.iter().zip(&replies) {
        match reply.status {
            Status::Ok => assert!(stored.contains(id), "{id} acknowledged, not stored"),
            Status::ServiceUnavailable => {
                assert!(!stored.contains(id), "{id} refused, yet stored")
            }
            other => panic!("{id}: {other} {:?}", reply.body),
        }
        if id.starts_with("evt_poison") {
            assert_eq!(reply.status, Status::ServiceUnavailable, "{id}");
        }
    }
    // A failed batch does not stop the writer: a batch without poison is stored.
    for n in 0..3 {
        let id = format!("evt_alone_{n}");
        let reply = deliver(&app, &customer_event(&id)).await;
        assert_eq!(reply.body["data"]["outcome"], "stored", "{:?}", reply.body);
    }
    cure(&app, "poisoned_events").await;

    // Stripe redelivers what was refused; now it is stored.
    for (id, body) in ids.iter().zip(&bodies) {
        if !stored.contains(id) {
            let reply = deliver(&app, body).await;
            assert_eq!(reply.body["data"]["outcome"], "stored", "{id}");
        }
    }
    assert_eq!(stored_ids(&app).await.len(), ids.len() + 3);
    app.applied().await;
});

db_test!(
    duplicates_within_and_across_batches_are_stored_once,
    |app| {
        let ids: Vec<String> = (0..16).map(|n| format!("evt_dup_{n}")).collect();
        // Each event four times, interleaved, all at once: copies meet in one
        // batch and in different ones.
        let deliveries: Vec<(String, String)> = (0..4)
            .flat_map(|_| ids.iter().map(|id| (id.clone(), customer_event(id))))
            .collect();
        let replies = join_all(deliveries.iter().map(|(_, b)| deliver(&app, b))).await;
        for id in &ids {
            let outcomes: Vec<&str> = deliveries
                .iter()
                .zip(&replies)
                .filter(|((of, _), _)| of == id)
                .map(|(_, r)| {
                    assert_eq!(r.status, Status::Ok, "{:?}", r.body);
                    r.body["data"]["outcome"].as_str().unwrap()
                })
                .collect();
            let mut sorted = outcomes.clone();
            sorted.sort();
            assert_eq!(
                sorted,
                ["duplicate", "duplicate", "duplicate", "stored"],
                "{id}"
            );
        }
        assert_eq!(stored_events(&app).await, 16);
        app.applied().await;
        // Later redeliveries, applied or not, are duplicates too.
        let again = join_all(deliveries[..16].iter().map(|(_, b)| deliver(&app, b))).await;
        assert!(again
            .iter()
            .all(|r| r.body["data"]["outcome"] == "duplicate"));
        assert_eq!(stored_events(&app).await, 16);
    }
);

/// Waits until the inbox holds an event of `kind` about `pi`.
async fn wait_stored(app: &TestApp, kind: &str, pi: &str) {
    for _ in 0..400 {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM webhook_events WHERE type = $1 AND payment_intent_id = $2",
        )
        .bind(kind)
        .bind(pi)
        .fetch_one(app.pool())
        .await
        .unwrap();
        if n > 0 {
            return;
        }
        rocket::tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no {kind} event about {pi} was stored");
}

db_test!(a_crash_between_answer_and_apply_loses_nothing, |app| {
    let url = app.database_url.clone();
    // An instance that stores and applies nothing: as if it crashed right
    // after answering.
    let app = app
        .restart(test_figment(&url).merge(("webhook_inbox.workers", 0)))
        .await;
    let shop = Shop::new(&app).await;
    let pi = shop.payment_intent_id(&app, &shop.order).await;
    pay_at_stripe(&app, &pi).await;
    wait_stored(&app, "payment_intent.succeeded", &pi).await;
    assert_eq!(order(&app, &shop.order).await["status"], "pending_payment");
    // One event was held by a worker that died (its lease has run out);
    // another (about another PaymentIntent) is held by a worker still within
    // its lease.
    sqlx::query(
        "UPDATE webhook_events SET status = 'processing', claim_token = 'dead', attempts = 1, \
         claimed_until = '2000-01-01T00:00:00.000000Z' WHERE type = 'payment_intent.succeeded'",
    )
    .execute(app.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO webhook_events (id, type, payment_intent_id, payload, received_at, status, \
         claim_token, claimed_until, attempts) VALUES ('evt_held', 'payment_intent.processing', \
         'pi_elsewhere', '{}', '2026-01-01T00:00:00.000000Z', 'processing', 'alive', \
         '2999-01-01T00:00:00.000000Z', 1)",
    )
    .execute(app.pool())
    .await
    .unwrap();

    let app = app.restart(test_figment(&url)).await;
    let paid = wait_for_status(&app, &shop.order, "paid").await;
    assert_eq!(paid_entries(&paid).len(), 1);
    // The order is paid before the worker writes the events' outcomes.
    let mut row: (String, i64, String) = Default::default();
    for _ in 0..400 {
        row = sqlx::query_as(
            "SELECT status, attempts, COALESCE(outcome, '') FROM webhook_events \
             WHERE type = 'payment_intent.succeeded'",
        )
        .fetch_one(app.pool())
        .await
        .unwrap();
        if row.0 == "processed" {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (status, attempts, outcome) = row;
    // Claimed again, once; it or another event of the PaymentIntent applied
    // with it marked the order paid (one history step, checked above).
    assert_eq!((status.as_str(), attempts), ("processed", 2));
    assert!(
        ["paid", "already_paid"].contains(&outcome.as_str()),
        "{outcome}"
    );
    let (held,): (String,) =
        sqlx::query_as("SELECT status FROM webhook_events WHERE id = 'evt_held'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(held, "processing", "a live lease is respected");
});

/// Delivers every event the simulator made about `pi`, each acknowledged;
/// how many.
async fn deliver_events_about(app: &TestApp, pi: &str) -> i64 {
    let events = events_about(app, pi);
    for event in &events {
        assert_eq!(deliver(app, &event.to_string()).await.status, Status::Ok);
    }
    events.len() as i64
}

/// Every event the simulator made about `pi` (its own and its charge's and
/// refunds'), oldest first.
fn events_about(app: &TestApp, pi: &str) -> Vec<Value> {
    let data = app.sim.data.lock().unwrap();
    data.events
        .iter()
        .filter(|e| {
            let object = &e["data"]["object"];
            object["id"] == pi || object["payment_intent"] == pi
        })
        .cloned()
        .collect()
}

db_test!(two_instances_apply_each_event_once, |app| {
    let shop = Shop::new(&app).await;
    hold_webhooks(&app, 0);
    let url = app.database_url.clone();
    let other = app.another_instance(test_figment(&url)).await;
    let mut orders = vec![shop.order.clone()];
    for _ in 0..5 {
        orders.push(new_order(&app, &shop.token, "MAIN-2", 1).await);
    }
    let mut events = Vec::new();
    for id in &orders {
        let pi = shop.payment_intent_id(&app, id).await;
        pay_at_stripe(&app, &pi).await;
        events.extend(events_about(&app, &pi));
    }
    // Stripe's deliveries reach either instance behind a load balancer,
    // and redeliveries the other: every event to both, at once.
    let bodies: Vec<String> = events.iter().map(Value::to_string).collect();
    let replies = join_all(
        bodies
            .iter()
            .flat_map(|b| [deliver(&app, b), deliver(&other, b)]),
    )
    .await;
    assert!(replies.iter().all(|r| r.status == Status::Ok));
    app.applied().await;
    for id in &orders {
        assert_paid_once(&app, id).await;
    }
    // No event was ever held by two workers: one claim each.
    let (most,): (i64,) = sqlx::query_as("SELECT MAX(attempts) FROM webhook_events")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(most, 1);
    assert_eq!(stored_events(&app).await, events.len() as i64);
    drop(other);
});

/// A PaymentIntent paid and refunded twice at Stripe, its events shuffled
/// (by `seed`) and one of them repeated.
async fn paid_and_refunded(app: &TestApp, shop: &Shop, seed: u64) -> (String, Vec<String>) {
    let id = new_order(app, &shop.token, "MAIN-2", 2).await;
    let pi = shop.payment_intent_id(app, &id).await;
    pay_at_stripe(app, &pi).await;
    for (n, amount) in [(1, 300), (2, 450)] {
        let refund = RefundParams {
            payment_intent: &pi,
            amount: Some(amount),
            ..Default::default()
        };
        stripe_side(app)
            .create_refund(
                &refund,
                &IdempotencyKey::new(format!("dash-{n}-{pi}")).unwrap(),
            )
            .await
            .unwrap();
    }
    let mut bodies: Vec<String> = events_about(app, &pi)
        .iter()
        .map(Value::to_string)
        .collect();
    // A small deterministic shuffle: the order of arrival is Stripe's to choose.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for i in (1..bodies.len()).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        bodies.swap(i, (state >> 33) as usize % (i + 1));
    }
    let again = bodies[(state as usize) % bodies.len()].clone();
    bodies.push(again);
    (id, bodies)
}

/// What applying an order's events must agree on.
fn outcome_of(order: &Value) -> (Value, Value, usize) {
    (
        order["status"].clone(),
        order["amount_refunded"].clone(),
        paid_entries(order).len(),
    )
}

db_test!(coalesced_events_end_as_applying_them_one_by_one, |app| {
    let url = app.database_url.clone();
    let shop = Shop::new(&app).await;
    hold_webhooks(&app, 0);
    let stopped = test_figment(&url).merge(("webhook_inbox.workers", 0));
    let mut app = app.restart(stopped.clone()).await;
    for seed in 1..=3 {
        // Coalesced: everything stored first, then one worker takes it all.
        let (together, bodies) = paid_and_refunded(&app, &shop, seed).await;
        for body in &bodies {
            assert_eq!(deliver(&app, body).await.status, Status::Ok);
        }
        app = app.restart(test_figment(&url)).await;
        app.applied().await;
        let (groups,): (i64,) = sqlx::query_as(
            "SELECT COUNT(DISTINCT processed_at) FROM webhook_events WHERE order_id = $1",
        )
        .bind(&together)
        .fetch_one(app.pool())
        .await
        .unwrap();
        assert_eq!(groups, 1, "applied as one group");

        // One by one, in the same order.
        app = app
            .restart(test_figment(&url).merge(("webhook_inbox.claim_max", 1)))
            .await;
        let (alone, bodies) = paid_and_refunded(&app, &shop, seed).await;
        for body in &bodies {
            assert_eq!(deliver(&app, body).await.status, Status::Ok);
            app.applied().await;
        }
        let (together, alone) = (order(&app, &together).await, order(&app, &alone).await);
        assert_eq!(outcome_of(&together), outcome_of(&alone), "seed {seed}");
        assert_eq!(outcome_of(&together).0, "partially_refunded");
        app = app.restart(stopped.clone()).await;
    }
});

/// How many events each commit of outcomes recorded (outcomes written
/// together share their `processed_at`).
async fn events_per_commit(app: &TestApp) -> Vec<i64> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT COUNT(*) FROM webhook_events WHERE processed_at IS NOT NULL \
         GROUP BY processed_at ORDER BY 1",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    rows.into_iter().map(|(n,)| n).collect()
}

db_test!(
    a_claim_applies_several_payment_intents_and_records_them_together,
    |app| {
        let url = app.database_url.clone();
        let shop = Shop::new(&app).await;
        hold_webhooks(&app, 0);
        let stopped = test_figment(&url).merge(("webhook_inbox.workers", 0));
        let mut app = app.restart(stopped.clone()).await;
        // Six PaymentIntents paid at Stripe, their events stored, none applied.
        let mut orders = vec![shop.order.clone()];
        for _ in 0..5 {
            orders.push(new_order(&app, &shop.token, "MAIN-2", 1).await);
        }
        let mut events = 0;
        for id in &orders {
            let pi = shop.payment_intent_id(&app, id).await;
            pay_at_stripe(&app, &pi).await;
            events += deliver_events_about(&app, &pi).await;
        }
        // One worker: its first claim holds them all, reads each PaymentIntent
        // from Stripe once, and writes every outcome in one commit.
        let reads_before = app.sim.api_calls();
        app = app
            .restart(test_figment(&url).merge(("webhook_inbox.workers", 1)))
            .await;
        app.applied().await;
        for id in &orders {
            assert_paid_once(&app, id).await;
        }
        assert_eq!(events_per_commit(&app).await, vec![events]);
        assert_eq!(app.sim.api_calls() - reads_before, orders.len() as u64);

        // A claim holds at most `claim_max` events.
        app = app.restart(stopped).await;
        let more: Vec<String> = (0..7)
            .map(|n| customer_event(&format!("evt_more_{n}")))
            .collect();
        for body in &more {
            assert_eq!(deliver(&app, body).await.status, Status::Ok);
        }
        app = app
            .restart(test_figment(&url).merge(("webhook_inbox.claim_max", 3)))
            .await;
        app.applied().await;
        let commits = events_per_commit(&app).await;
        assert_eq!(commits.iter().sum::<i64>(), events + 7);
        assert!(
            commits[..commits.len() - 1].iter().all(|&n| n <= 3),
            "{commits:?}"
        );
    }
);

db_test!(concurrent_claims_never_split_one_payment_intent, |app| {
    let url = app.database_url.clone();
    let app = app
        .restart(test_figment(&url).merge(("webhook_inbox.workers", 0)))
        .await;
    // 120 events about 6 PaymentIntents, interleaved, none applied.
    for n in 0..120 {
        let body = json!({"id": format!("evt_split_{n:03}"), "object": "event",
            "type": "payment_intent.processing", "created": chrono::Utc::now().timestamp(),
            "livemode": false,
            "data": {"object": {"id": format!("pi_split_{}", n % 6), "object": "payment_intent",
                                "metadata": {}}}})
        .to_string();
        assert_eq!(deliver(&app, &body).await.status, Status::Ok);
    }
    // Eight claimers at once, none finishing: whatever each took, the
    // leased events of one PaymentIntent belong to one claim.
    let now = orderpay::db::timestamp_text(chrono::Utc::now());
    let until = orderpay::db::timestamp_text(chrono::Utc::now() + chrono::Duration::seconds(60));
    let claims = (0..8).map(|n| {
        let (pool, now, until) = (app.pool().clone(), now.clone(), until.clone());
        async move {
            let mut conn = pool.acquire().await.unwrap();
            let token = format!("claim-{n}");
            orderpay::store::webhook_queue::claim(&mut conn, &token, &now, &until, 7)
                .await
                .unwrap()
        }
    });
    let taken: usize = join_all(claims).await.iter().map(Vec::len).sum();
    assert!(taken > 0);
    let split: Vec<(String, i64)> = sqlx::query_as(
        "SELECT payment_intent_id, COUNT(DISTINCT claim_token) FROM webhook_events \
         WHERE status = 'processing' GROUP BY payment_intent_id \
         HAVING COUNT(DISTINCT claim_token) > 1",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert!(split.is_empty(), "{split:?}");
});

db_test!(
    a_restart_in_the_middle_of_a_claim_leaves_nothing_leased,
    |app| {
        let url = app.database_url.clone();
        let shop = Shop::new(&app).await;
        hold_webhooks(&app, 0);
        let pi = shop.payment_intent_id(&app, &shop.order).await;
        pay_at_stripe(&app, &pi).await;
        // The worker's read of the PaymentIntent hangs at Stripe for a second;
        // the instance is stopped while it waits.
        app.sim.inject(FaultPlan {
            hang_next: 1,
            delay_ms: Some(1_000),
            path_prefix: Some(format!("payment_intents/{pi}")),
            ..Default::default()
        });
        deliver_events_about(&app, &pi).await;
        while app.sim.faults().hang_next > 0 {
            rocket::tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The stopping instance writes its claim's outcomes before its pool
        // closes: nothing waits for a lease (60 s) to run out, which `applied`
        // (30 s) would not sit through.
        let app = app.restart(test_figment(&url)).await;
        app.applied().await;
        assert_paid_once(&app, &shop.order).await;
    }
);

db_test!(
    a_late_event_about_the_payment_intent_that_paid_asks_stripe_nothing,
    |app| {
        let shop = Shop::new(&app).await;
        hold_webhooks(&app, 0);
        let pi = shop.payment_intent_id(&app, &shop.order).await;
        pay_at_stripe(&app, &pi).await;
        // The callback marks the order paid (and sees the PaymentIntent succeed).
        let called = shop.callback(&app, &shop.order).await;
        assert_eq!(called.status, Status::Ok, "{:?}", called.body);
        assert_eq!(order(&app, &shop.order).await["status"], "paid");
        // Its events come later; the PaymentIntent's own cannot change anything.
        let calls_before = app.sim.api_calls();
        let events: Vec<Value> = events_about(&app, &pi)
            .into_iter()
            .filter(|e| {
                e["type"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("payment_intent.")
            })
            .collect();
        assert!(events
            .iter()
            .any(|e| e["type"] == "payment_intent.succeeded"));
        for event in &events {
            assert_eq!(deliver(&app, &event.to_string()).await.status, Status::Ok);
        }
        app.applied().await;
        assert_eq!(app.sim.api_calls(), calls_before, "no Stripe call");
        let outcomes: Vec<(String,)> =
            sqlx::query_as("SELECT outcome FROM webhook_events WHERE payment_intent_id = $1")
                .bind(&pi)
                .fetch_all(app.pool())
                .await
                .unwrap();
        assert!(
            outcomes.iter().all(|(o,)| o == "already_paid"),
            "{outcomes:?}"
        );
        let paid = order(&app, &shop.order).await;
        assert_eq!(paid_entries(&paid).len(), 1, "{paid:?}");
    }
);

db_test!(
    a_database_failure_while_applying_shows_and_is_retried,
    |app| {
        let url = app.database_url.clone();
        let shop = Shop::new(&app).await;
        hold_webhooks(&app, 0);
        let stopped = test_figment(&url).merge(("webhook_inbox.workers", 0));
        let app = app.restart(stopped).await;
        let pi = shop.payment_intent_id(&app, &shop.order).await;
        pay_at_stripe(&app, &pi).await;
        deliver_events_about(&app, &pi).await;
        // The attempts cannot be read (a column gone): nothing can be applied.
        let rename = |from: &str, to: &str| {
            format!("ALTER TABLE payment_attempts RENAME COLUMN {from} TO {to}")
        };
        sqlx::query(&rename("confirmations", "confirmations_gone"))
            .execute(app.pool())
            .await
            .unwrap();
        let app = app.restart(test_figment(&url)).await;
        // The claim is given back failed, with the error, not left leased.
        let mut seen: Vec<(String, String)> = Vec::new();
        for _ in 0..400 {
            seen = sqlx::query_as(
            "SELECT status, COALESCE(last_error, '') FROM webhook_events WHERE payment_intent_id = $1",
        )
        .bind(&pi)
        .fetch_all(app.pool())
        .await
        .unwrap();
            if seen
                .iter()
                .all(|(status, error)| status == "failed" && !error.is_empty())
            {
                break;
            }
            rocket::tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(
            seen.iter()
                .all(|(status, error)| status == "failed" && !error.is_empty()),
            "{seen:?}"
        );
        // Once the database answers again, a later try applies them.
        sqlx::query(&rename("confirmations_gone", "confirmations"))
            .execute(app.pool())
            .await
            .unwrap();
        app.applied().await;
        assert_paid_once(&app, &shop.order).await;
    }
);

db_test!(
    a_worker_that_took_everything_lets_more_arrive_before_claiming_again,
    |app| {
        // One worker (a second would be woken by the next delivery), and a
        // linger long enough for the next deliveries to be stored within it
        // even with the cores and the disk busy.
        let url = app.database_url.clone();
        let linger_ms = 6_000;
        let lingering = test_figment(&url)
            .merge(("webhook_inbox.workers", 1))
            .merge(("webhook_inbox.linger_ms", linger_ms));
        let app = app.restart(lingering).await;
        let first = customer_event("evt_first");
        assert_eq!(deliver(&app, &first).await.status, Status::Ok);
        app.applied().await;
        // Delivered at once, as Stripe does: one after another, a full run
        // on a slow disk once took longer than a 6 s linger to store them.
        let next: Vec<String> = (0..5)
            .map(|n| customer_event(&format!("evt_next_{n}")))
            .collect();
        for reply in join_all(next.iter().map(|event| deliver(&app, event))).await {
            assert_eq!(reply.status, Status::Ok);
        }
        app.applied().await;
        // The first claim took the one event there was; the next waited for
        // the five that came meanwhile, though the first of them woke the
        // worker, and took them together, instead of one claim (two
        // commits) per delivery.
        assert_eq!(events_per_commit(&app).await, vec![1, 5]);
        let processed: Vec<(String,)> = sqlx::query_as(
            "SELECT processed_at FROM webhook_events GROUP BY processed_at ORDER BY processed_at",
        )
        .fetch_all(app.pool())
        .await
        .unwrap();
        let at = |n: usize| {
            chrono::DateTime::parse_from_rfc3339(&processed[n].0)
                .unwrap()
                .timestamp_millis()
        };
        assert!(at(1) - at(0) >= linger_ms, "{processed:?}");
    }
);
