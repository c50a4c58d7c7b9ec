//! The inbox workers: they claim stored webhook events, apply them (the
//! PaymentIntent's events together, `webhook::apply`), and record each
//! outcome. A failure gives the events back with a growing delay and keeps
//! the error for the admin view; an event whose worker died is claimed again
//! once its lease runs out, by any instance. Applying twice is harmless
//! anyway: every transition is conditional on the state it starts from.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::checkout::webhook::{self, permanent_refusal};
use crate::config::InboxSettings;
use crate::db::{new_id, timestamp_text, DbPool};
use crate::store::webhook_queue::{self, ClaimedEvent};
use crate::stripe::gateway::StripeGateway;

/// Starts `settings.workers` workers on the current runtime; they stop when
/// `shutdown` completes.
pub fn start<S>(
    db: DbPool,
    gateway: StripeGateway,
    settings: InboxSettings,
    stored: Arc<Notify>,
    shutdown: S,
) where
    S: Future<Output = ()> + Clone + Send + 'static,
{
    for _ in 0..settings.workers {
        tokio::spawn(work(
            db.clone(),
            gateway.clone(),
            settings.clone(),
            stored.clone(),
            shutdown.clone(),
        ));
    }
}

async fn work<S>(
    db: DbPool,
    gateway: StripeGateway,
    settings: InboxSettings,
    stored: Arc<Notify>,
    shutdown: S,
) where
    S: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    loop {
        // Listening starts before looking, so an event stored while this
        // worker looks wakes it instead of waiting for the next poll.
        let notified = stored.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match run_once(&db, &gateway, &settings).await {
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "webhook inbox: claiming failed"),
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(Duration::from_millis(settings.poll_ms)) => {}
            _ = &mut shutdown => return,
        }
    }
}

/// Claims one group of events and applies it. `None` when nothing is left to
/// do; `Some(n)` with the events handled (0 when another worker won the claim).
pub async fn run_once(
    db: &DbPool,
    gateway: &StripeGateway,
    settings: &InboxSettings,
) -> sqlx::Result<Option<usize>> {
    let token = new_id();
    let now = chrono::Utc::now();
    let lease_until = now + chrono::Duration::seconds(settings.lease_secs as i64);
    let mut conn = db.writer().acquire().await?;
    let Some(group) = webhook_queue::claim_group(
        &mut conn,
        &token,
        &timestamp_text(now),
        &timestamp_text(lease_until),
        i64::from(settings.group_max),
    )
    .await?
    else {
        return Ok(None);
    };
    drop(conn);
    if group.is_empty() {
        return Ok(Some(0));
    }
    match webhook::apply(db, gateway, &group).await {
        Ok(applied) => {
            let mut tx = db.begin().await?;
            let done = timestamp_text(chrono::Utc::now());
            for (id, outcome) in &applied.outcomes {
                webhook_queue::finish(
                    &mut tx,
                    id,
                    &token,
                    outcome,
                    applied.order_id.as_deref(),
                    &done,
                )
                .await?;
            }
            tx.commit().await?;
        }
        // Stripe refused for good: asking again for three days would change nothing.
        Err(error) if permanent_refusal(&error) => {
            tracing::warn!(events = group.len(), reason = %error, "Stripe refused the events' object for good");
            let mut tx = db.begin().await?;
            let done = timestamp_text(chrono::Utc::now());
            for event in &group {
                webhook_queue::finish(&mut tx, &event.id, &token, "provider_refused", None, &done)
                    .await?;
            }
            tx.commit().await?;
        }
        Err(error) => {
            let reason = format!("{}: {error}", error.code());
            tracing::warn!(events = group.len(), %reason, "webhook events not applied; retrying later");
            let mut tx = db.begin().await?;
            for event in &group {
                let retry_at = chrono::Utc::now() + backoff(event, settings);
                webhook_queue::fail(
                    &mut tx,
                    &event.id,
                    &token,
                    &reason,
                    &timestamp_text(retry_at),
                )
                .await?;
            }
            tx.commit().await?;
        }
    }
    Ok(Some(group.len()))
}

/// 1 s after the first failed try, doubling, capped at `retry_max_secs`.
fn backoff(event: &ClaimedEvent, settings: &InboxSettings) -> chrono::Duration {
    let doublings = event.attempts.clamp(1, 20) - 1;
    let secs = (1u64 << doublings).min(settings.retry_max_secs.max(1));
    chrono::Duration::seconds(secs as i64)
}
