//! The inbox workers: they claim stored webhook events in batches, apply
//! them (each PaymentIntent's events together, `webhook::apply`, several
//! PaymentIntents at once), and record the outcomes. A failure gives the events back with a growing delay and keeps
//! the error for the admin view; an event whose worker died is claimed again
//! once its lease runs out, by any instance. Applying twice is harmless
//! anyway: every transition is conditional on the state it starts from.

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use std::collections::{BTreeMap, HashMap};

use futures_util::stream::{self, StreamExt};
use futures_util::FutureExt;
use tokio::sync::Notify;

use crate::checkout::webhook::{self, permanent_refusal, Applied};
use crate::checkout::Error;
use crate::config::InboxSettings;
use crate::db::{new_id, timestamp_text, DbPool};
use crate::store::payments::{self, AttemptRow};
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
        // worker looks wakes it instead of waiting for the next poll (the
        // writer wakes one worker per batch; a worker busy when it comes
        // finds the wake-up waiting when it is done).
        let notified = stored.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // A stop asked for is checked before each claim (a flood never
        // leaves the loop otherwise), and a claim runs to its outcomes with
        // the pool held open: cut off, its events would stay leased.
        if shutdown.as_mut().now_or_never().is_some() {
            return;
        }
        let result = {
            let _open = db.keep_open().await;
            run_once(&db, &gateway, &settings).await
        };
        match result {
            Ok(claimed) if claimed >= settings.claim_max as usize => continue,
            Ok(claimed) if claimed > 0 => {
                // It took everything there was: let more arrive first.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(settings.linger_ms)) => continue,
                    _ = &mut shutdown => return,
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "webhook inbox: claiming failed"),
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(Duration::from_millis(settings.poll_ms)) => {}
            _ = &mut shutdown => return,
        }
    }
}

/// Claims a batch of events and applies it: the events are grouped by
/// PaymentIntent, up to `apply_in_flight` groups are applied at once (their
/// Stripe reads overlap), and every outcome is written in one transaction,
/// one statement per distinct outcome. Returns how many events it claimed:
/// 0 when nothing was left to do.
pub async fn run_once(
    db: &DbPool,
    gateway: &StripeGateway,
    settings: &InboxSettings,
) -> sqlx::Result<usize> {
    let token = new_id();
    let now = chrono::Utc::now();
    let lease_until = now + chrono::Duration::seconds(settings.lease_secs as i64);
    let mut conn = db.writer().acquire().await?;
    let mut claimed = webhook_queue::claim(
        &mut conn,
        &token,
        &timestamp_text(now),
        &timestamp_text(lease_until),
        i64::from(settings.claim_max),
    )
    .await?;
    drop(conn);
    if claimed.is_empty() {
        return Ok(0);
    }
    // Each PaymentIntent's events side by side, still oldest first (the sort
    // is stable); the events about none form one run, each only filed.
    claimed.sort_by(|a, b| a.payment_intent_id.cmp(&b.payment_intent_id));
    // Groups as index ranges: a closure taking borrowed slices would not be
    // `Send` for every lifetime (a known limit of the compiler's check).
    let mut groups: Vec<Range<usize>> = Vec::new();
    for group in claimed.chunk_by(|a, b| a.payment_intent_id == b.payment_intent_id) {
        let start = groups.last().map_or(0, |last| last.end);
        groups.push(start..start + group.len());
    }
    let attempts = match attempts_of(db, &claimed).await {
        Ok(attempts) => attempts,
        Err(error) => {
            // Nothing applied: the claim is given back with its error (shown
            // in the admin inbox, retried with the backoff), not left leased.
            let failed = [(&claimed[..], Err(Error::from(error)))];
            record(db, &token, settings, &failed).await?;
            return Ok(claimed.len());
        }
    };
    let claimed = &claimed;
    let results: Vec<(&[ClaimedEvent], Result<Applied, Error>)> = stream::iter(groups)
        .map(|range| {
            let group = &claimed[range];
            let attempt = group[0]
                .payment_intent_id
                .as_ref()
                .and_then(|pi| attempts.get(pi).cloned());
            async move { (group, webhook::apply(db, gateway, group, attempt).await) }
        })
        .buffer_unordered(settings.apply_in_flight.max(1) as usize)
        .collect()
        .await;
    record(db, &token, settings, &results).await?;
    Ok(claimed.len())
}

/// The attempts that made the claimed events' PaymentIntents, by
/// PaymentIntent: one statement for the whole claim instead of one per group
/// (most events of a flood are about PaymentIntents orderpay never made).
async fn attempts_of(
    db: &DbPool,
    claimed: &[ClaimedEvent],
) -> sqlx::Result<HashMap<String, AttemptRow>> {
    let mut ids: Vec<&str> = claimed
        .iter()
        .filter_map(|event| event.payment_intent_id.as_deref())
        .collect();
    ids.dedup();
    let mut conn = db.acquire().await?;
    let rows = payments::by_payment_intents(&mut conn, &ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.payment_intent_id.clone()?, row)))
        .collect())
}

/// Writes what the batch came to, in one transaction: applied events get
/// their outcome (one statement per distinct outcome and order), events
/// Stripe refused for good are done too (asking again for three days would
/// change nothing), and a group that failed is given back with a growing
/// delay and its error.
async fn record(
    db: &DbPool,
    token: &str,
    settings: &InboxSettings,
    results: &[(&[ClaimedEvent], Result<Applied, Error>)],
) -> sqlx::Result<()> {
    let mut done: BTreeMap<(&str, Option<&str>), Vec<&str>> = BTreeMap::new();
    let mut failed: Vec<(Vec<&str>, String, chrono::Duration)> = Vec::new();
    for (group, result) in results {
        match result {
            Ok(applied) => {
                for (id, outcome) in &applied.outcomes {
                    done.entry((outcome.as_str(), applied.order_id.as_deref()))
                        .or_default()
                        .push(id.as_str());
                }
            }
            Err(error) if permanent_refusal(error) => {
                tracing::warn!(events = group.len(), reason = %error, "Stripe refused the events' object for good");
                done.entry(("provider_refused", None))
                    .or_default()
                    .extend(group.iter().map(|event| event.id.as_str()));
            }
            Err(error) => {
                let reason = format!("{}: {error}", error.code());
                tracing::warn!(events = group.len(), %reason, "webhook events not applied; retrying later");
                let tries = group.iter().map(|event| event.attempts).max().unwrap_or(1);
                failed.push((
                    group.iter().map(|event| event.id.as_str()).collect(),
                    reason,
                    backoff(tries, settings),
                ));
            }
        }
    }
    let mut tx = db.begin().await?;
    // Lost in a crash, an outcome only means its events are applied again.
    webhook_queue::without_waiting_for_the_disk(&mut tx).await?;
    let now = chrono::Utc::now();
    for ((outcome, order_id), ids) in &done {
        webhook_queue::finish(
            &mut tx,
            ids,
            token,
            outcome,
            *order_id,
            &timestamp_text(now),
        )
        .await?;
    }
    for (ids, reason, delay) in &failed {
        webhook_queue::fail(&mut tx, ids, token, reason, &timestamp_text(now + *delay)).await?;
    }
    tx.commit().await
}

/// 1 s after the first failed try, doubling, capped at `retry_max_secs`.
fn backoff(tries: i64, settings: &InboxSettings) -> chrono::Duration {
    let doublings = tries.clamp(1, 20) - 1;
    let secs = (1u64 << doublings).min(settings.retry_max_secs.max(1));
    chrono::Duration::seconds(secs as i64)
}
