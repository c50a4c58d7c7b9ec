//! The limit probes: a minimal Rocket route that verifies a webhook's
//! signature as orderpay does (`orderpay::stripe::webhook`) and stores the
//! event in a table of the same database, in one of two ways:
//!
//! - `per_request`: one INSERT per request, its own commit: the
//!   one-commit-per-request limit.
//! - `group_commit`: the request hands its row to one writer task, which
//!   inserts whatever has queued in one multi-row INSERT (one commit) and
//!   then wakes each waiting request with its own answer.
//!
//! It runs as a child process (this executable, started with the variables
//! below) so its CPU time and memory are its own.

use std::collections::HashSet;
use std::time::Duration;

use orderpay::stripe::webhook::SignatureHeader;
use rocket::data::{Data, ToByteUnit};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::tokio::sync::{mpsc, oneshot};
use rocket::State;
use sqlx::AnyPool;

pub const MODE_VAR: &str = "ORDERPAY_BENCH_PROBE";
pub const DATABASE_VAR: &str = "ORDERPAY_BENCH_PROBE_DATABASE";
pub const PORT_VAR: &str = "ORDERPAY_BENCH_PROBE_PORT";

/// The probes' table, created by the bench before a probe starts.
pub const TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_probe_events \
     (id TEXT PRIMARY KEY, payload TEXT NOT NULL, received_at TEXT NOT NULL)";

/// Rows per multi-row INSERT at most (three parameters each).
const MAX_BATCH: usize = 256;

struct Signature(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Signature {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(Signature(
            req.headers()
                .get_one("Stripe-Signature")
                .map(str::to_string),
        ))
    }
}

#[derive(serde::Deserialize)]
struct EventId {
    id: String,
}

struct Row {
    id: String,
    payload: String,
    received_at: String,
}

/// A request waiting for the writer: `None` if the commit failed, else
/// whether its row was new (`false`: a duplicate, stored before).
type Waiter = (Row, oneshot::Sender<Option<bool>>);

enum Store {
    PerRequest(AnyPool),
    GroupCommit(mpsc::Sender<Waiter>),
}

/// Verified and parsed as orderpay's intake would; `None` if refused.
fn verified(signature: Option<&str>, raw: &[u8]) -> Option<Row> {
    let header = SignatureHeader::parse(signature).ok()?;
    header
        .check_timestamp(300, chrono::Utc::now().timestamp())
        .ok()?;
    header
        .check_payload(raw, &[super::children::WEBHOOK_SECRET])
        .ok()?;
    let event: EventId = serde_json::from_slice(raw).ok()?;
    Some(Row {
        id: event.id,
        payload: String::from_utf8(raw.to_vec()).ok()?,
        received_at: orderpay::db::now_text(),
    })
}

#[rocket::post("/probe", data = "<body>")]
async fn probe(store: &State<Store>, signature: Signature, body: Data<'_>) -> Status {
    let Ok(raw) = body.open(256.kibibytes()).into_bytes().await else {
        return Status::BadRequest;
    };
    let Some(row) = verified(signature.0.as_deref(), &raw) else {
        return Status::BadRequest;
    };
    let stored = match store.inner() {
        Store::PerRequest(pool) => sqlx::query(
            "INSERT INTO bench_probe_events (id, payload, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.payload)
        .bind(&row.received_at)
        .execute(pool)
        .await
        .is_ok(),
        Store::GroupCommit(queue) => {
            let (done, answer) = oneshot::channel();
            queue.send((row, done)).await.is_ok() && matches!(answer.await, Ok(Some(_)))
        }
    };
    if stored {
        Status::Ok
    } else {
        Status::ServiceUnavailable
    }
}

#[rocket::get("/ready")]
fn ready() -> &'static str {
    "ready"
}

/// The one writer: a batch is whatever queued while the last commit ran.
async fn writer(pool: AnyPool, mut queue: mpsc::Receiver<Waiter>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let values: Vec<String> = (0..batch.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO bench_probe_events (id, payload, received_at) VALUES {} \
             ON CONFLICT (id) DO NOTHING RETURNING id",
            values.join(", ")
        );
        let mut insert = sqlx::query_as::<_, (String,)>(&sql);
        for (row, _) in &batch {
            insert = insert
                .bind(&row.id)
                .bind(&row.payload)
                .bind(&row.received_at);
        }
        let inserted = insert
            .fetch_all(&pool)
            .await
            .ok()
            .map(|ids| ids.into_iter().map(|(id,)| id).collect::<HashSet<_>>());
        for (row, done) in batch {
            let _ = done.send(inserted.as_ref().map(|ids| ids.contains(&row.id)));
        }
    }
}

/// Serves the probe named by the environment until the bench kills it.
pub async fn serve(mode: &str) {
    let url = std::env::var(DATABASE_VAR).expect("probe database");
    let port: u16 = std::env::var(PORT_VAR)
        .ok()
        .and_then(|p| p.parse().ok())
        .expect("probe port");
    let pool = orderpay::db::connect(&url, 16, Duration::from_secs(10))
        .await
        .expect("probe database");
    let store = match mode {
        "per_request" => Store::PerRequest(pool),
        "group_commit" => {
            let (queue, incoming) = mpsc::channel(4096);
            rocket::tokio::spawn(writer(pool, incoming));
            Store::GroupCommit(queue)
        }
        other => panic!("unknown probe {other}"),
    };
    let figment = rocket::figment::Figment::from(rocket::Config::release_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"));
    rocket::custom(figment)
        .manage(store)
        .mount("/", rocket::routes![probe, ready])
        .launch()
        .await
        .expect("probe server");
}
