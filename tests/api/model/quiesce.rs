//! Bringing a run to rest before the final checks: faults off, held webhooks
//! released, every event delivered and applied, one sweep, and its events
//! delivered too. Waiting is by observation (the simulator's delivery log,
//! orderpay's inbox), never by a fixed sleep.

use std::time::{Duration, Instant};

use orderpay::stripe::sim::faults::FaultPlan;
use orderpay::stripe::sim::webhooks::ReleaseOrder;
use rocket::http::Method;
use serde_json::json;

use super::stripe_view::{control, payment_intents, refunds};
use super::world::World;
use crate::helpers::api_key;

/// How long events may take to arrive before the run counts them as lost.
const PATIENCE: Duration = Duration::from_secs(40);

pub async fn quiesce(world: &World) {
    let app = world.app();
    app.sim.inject(FaultPlan::default());
    world.begin_step();
    // Refunds Stripe holds pending settle (a control the simulator may lack).
    let _ = control(app, "/_sim/refunds/hold", json!({"hold": false})).await;
    for order in world.orders() {
        for pi in payment_intents(app, &order.id) {
            let id = pi["id"].as_str().unwrap_or_default();
            for refund in refunds(app, id).iter().filter(|r| r["status"] == "pending") {
                let path = format!("/_sim/refunds/{}/settle", refund["id"].as_str().unwrap());
                let _ = control(app, &path, json!({"outcome": "succeed"})).await;
            }
        }
    }
    let mut settings = app.sim.webhooks.settings();
    settings.hold = false;
    settings.duplicates = 0;
    app.sim.webhooks.configure(settings);
    app.sim.webhooks.release(ReleaseOrder::Fifo).await;
    all_events_applied(world).await;
    let headers = [api_key(&app.admin_key)];
    world
        .call(Method::Post, "/api/v1/admin/reconcile", &headers, None)
        .await;
    all_events_applied(world).await;
    for delivery in app.sim.webhooks.deliveries() {
        if delivery.status.is_some_and(|s| s >= 500 && s != 503) {
            world.violation(format!("invariant 9: webhook {delivery:?} answered 5xx"));
        }
    }
}

/// Waits until every event Stripe made was accepted by orderpay and applied.
/// Stripe retries for three days; the simulator gives up after 8 attempts,
/// so an event still refused halfway through the wait is sent once more.
async fn all_events_applied(world: &World) {
    let app = world.app();
    let started = Instant::now();
    let mut resent = false;
    loop {
        let waiting = app.events_not_accepted();
        let (unapplied,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE processed_at IS NULL")
                .fetch_one(app.pool())
                .await
                .expect("count unapplied events");
        if waiting.is_empty() && unapplied == 0 {
            return;
        }
        if started.elapsed() > PATIENCE / 2 && !resent {
            resent = true;
            for event in &waiting {
                app.sim.webhooks.deliver_with_retries(event).await;
            }
        }
        if started.elapsed() > PATIENCE {
            let ids: Vec<_> = waiting
                .iter()
                .map(|e| format!("{} {}", e["id"], e["type"]))
                .collect();
            world.violation(format!(
                "quiescence: events never accepted {ids:?}; {unapplied} stored but not applied"
            ));
            return;
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
