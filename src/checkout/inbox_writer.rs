//! Group commit for the webhook inbox. Every intake request hands its event
//! to one writer task and waits; the writer inserts whatever has queued in
//! one multi-row statement and then answers each waiter: stored first, or a
//! duplicate. Batches form by themselves under load (a batch is what arrived
//! while the previous commit ran, capped at `max_batch`); an idle server
//! commits a lone event at once. A failed commit fails every waiter of that
//! batch, so nothing is acknowledged that is not stored.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Notify};

use crate::db::DbPool;
use crate::store::webhook_queue::{self, NewEvent};

/// What storing one delivery came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// This delivery stored the event.
    First,
    /// The event was already stored (an earlier delivery, or another
    /// delivery of it in the same batch).
    Duplicate,
}

/// The event could not be stored (the database failed, or the writer is
/// gone because the server is stopping): the delivery must not be acknowledged.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the webhook inbox could not store the event: {0}")]
pub struct NotStored(pub String);

struct Submission {
    event: NewEvent,
    reply: oneshot::Sender<Result<Stored, NotStored>>,
}

/// The handle requests use; cheap to clone.
#[derive(Clone)]
pub struct InboxWriter {
    queue: mpsc::Sender<Submission>,
}

impl InboxWriter {
    /// Starts the writer task on the current runtime. `stored` is notified
    /// after each commit that stored something, so workers start at once.
    /// Up to `queue_len` deliveries wait for the writer; more wait to enter
    /// the queue (their requests simply take longer).
    pub fn start(db: DbPool, max_batch: usize, queue_len: usize, stored: Arc<Notify>) -> Self {
        let (queue, receiver) = mpsc::channel(queue_len.max(1));
        tokio::spawn(run(db, receiver, max_batch.max(1), stored));
        InboxWriter { queue }
    }

    /// Stores `event` with whatever else is queued, and says how it went.
    pub async fn store(&self, event: NewEvent) -> Result<Stored, NotStored> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Submission { event, reply })
            .await
            .map_err(|_| NotStored("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| NotStored("the writer stopped before answering".into()))?
    }
}

/// Ends when every `InboxWriter` handle is dropped (the server has stopped).
async fn run(
    db: DbPool,
    mut receiver: mpsc::Receiver<Submission>,
    max_batch: usize,
    stored: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while receiver.recv_many(&mut batch, max_batch).await > 0 {
        match commit(&db, &batch).await {
            Ok(first) => {
                if !first.is_empty() {
                    // One worker claims what is there (all of it, up to a
                    // claim); waking every worker for each batch made the
                    // others' claims come back empty, and on SQLite each
                    // empty claim still waited its turn at the one writer.
                    stored.notify_one();
                }
                answer(batch.drain(..), first);
            }
            Err(error) => {
                tracing::warn!(%error, events = batch.len(), "webhook inbox batch failed; not acknowledged");
                let failed = NotStored(error.to_string());
                for submission in batch.drain(..) {
                    let _ = submission.reply.send(Err(failed.clone()));
                }
            }
        }
    }
}

/// One statement for the batch; the same event delivered twice within it is
/// sent once.
async fn commit(db: &DbPool, batch: &[Submission]) -> sqlx::Result<HashSet<String>> {
    let mut seen = HashSet::new();
    let distinct: Vec<&NewEvent> = batch
        .iter()
        .map(|s| &s.event)
        .filter(|event| seen.insert(event.id.as_str()))
        .collect();
    let mut conn = db.writer().acquire().await?;
    webhook_queue::insert_batch(&mut conn, &distinct).await
}

/// The first delivery of each stored id is the one that stored it; every
/// other delivery of it is a duplicate. A waiter that has gone away (its
/// client hung up) is skipped: its event is stored all the same.
fn answer(batch: impl Iterator<Item = Submission>, mut first: HashSet<String>) {
    for submission in batch {
        let stored = if first.remove(&submission.event.id) {
            Stored::First
        } else {
            Stored::Duplicate
        };
        let _ = submission.reply.send(Ok(stored));
    }
}
