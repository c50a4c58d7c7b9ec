//! Webhook intake against its limits, each server in its own process and
//! the same load generator for all: distinct signed events, 32 in flight.
//! The per-request probe is the one-commit-per-request limit; the
//! group-commit probe is what sharing commits reaches; orderpay's intake is
//! measured beside them, with the time from a `payment_intent.succeeded`
//! delivery to its order reading `paid` under that load (`applied.rs`).
//!
//! ORDERPAY_BENCH_INTAKE_ALONE=1 runs orderpay without inbox workers
//! (`webhook_inbox.workers = 0`): its CPU and memory are then the intake's
//! alone, as the probes' are, and nothing is applied (no time to applied).

use rocket::futures::future::join;

use super::applied;
use super::backend::Backend;
use super::children::{self, ChildServer};
use super::events::{self, SignedEvent};
use super::harness::{mb, run, Stats};

pub const IN_FLIGHT: usize = 32;
const WARMUP: usize = 2_000;
const EVENTS: usize = 20_000;

pub struct Measured {
    pub stats: Stats,
    pub peak_kb: u64,
    pub cpu_ms_per_request: f64,
}

/// Delivers `events` to `url` with 32 in flight; every one must be acknowledged.
pub async fn flood(http: &reqwest::Client, url: &str, events: &[SignedEvent]) -> Stats {
    run(events.len(), IN_FLIGHT, |i| async move {
        let status = events::deliver(http, url, &events[i]).await;
        assert_eq!(status, 200, "event {i} not acknowledged");
    })
    .await
}

/// Warms `server` up (then lets `settle` finish what the warm-up left), then
/// measures it: rate, latency, its peak memory during the run and its CPU
/// time per request.
async fn measure<S: std::future::Future<Output = ()>>(
    http: &reqwest::Client,
    server: &ChildServer,
    path: &str,
    run_id: &str,
    settle: S,
    alongside: impl std::future::Future<Output = ()>,
) -> Measured {
    let url = format!("{}{path}", server.base);
    flood(http, &url, &events::foreign(&format!("{run_id}w"), WARMUP)).await;
    settle.await;
    let events = events::foreign(run_id, EVENTS);
    server.reset_peak();
    let cpu = server.cpu_ms();
    let (stats, ()) = join(flood(http, &url, &events), alongside).await;
    Measured {
        cpu_ms_per_request: (server.cpu_ms() - cpu) / stats.count as f64,
        peak_kb: server.peak_kb(),
        stats,
    }
}

fn print(name: &str, m: &Measured) {
    println!(
        "{}   peak RSS {:>8}   CPU {:.3} ms/request",
        m.stats.line(name, IN_FLIGHT),
        mb(m.peak_kb),
        m.cpu_ms_per_request
    );
}

pub async fn run_part(backend: &Backend) {
    let bytes = events::foreign("size", 1)[0].body.len();
    println!("  intake: distinct signed events of {bytes} bytes, {IN_FLIGHT} in flight, each server its own process");
    let db = backend.fresh("intake").await;
    let pool = orderpay::cli::open_database(&db.url)
        .await
        .expect("database");
    orderpay::cli::seed(&pool, None).await.expect("seed");
    sqlx::query(super::probe::TABLE)
        .execute(&pool)
        .await
        .expect("probe table");
    let http = reqwest::Client::new();
    let tag = std::process::id();

    let per_request = {
        let probe = children::probe("per_request", &db.url).await;
        measure(
            &http,
            &probe,
            "/probe",
            &format!("pr{tag}"),
            async {},
            async {},
        )
        .await
    };
    print("limit probe (one INSERT per request)", &per_request);
    let group = {
        let probe = children::probe("group_commit", &db.url).await;
        measure(
            &http,
            &probe,
            "/probe",
            &format!("gc{tag}"),
            async {},
            async {},
        )
        .await
    };
    print("group-commit probe (one writer, batches)", &group);

    let sim = children::simulator().await;
    let alone = std::env::var("ORDERPAY_BENCH_INTAKE_ALONE").is_ok_and(|v| v == "1");
    let mut applied_stats = None;
    let (server, intake) = if alone {
        let server = children::orderpay_with(
            &db.url,
            &sim.base,
            &[("ROCKET_WEBHOOK_INBOX", "{workers=0}")],
        )
        .await;
        let path = "/api/v1/webhooks/stripe";
        let intake = measure(&http, &server, path, &format!("op{tag}"), async {}, async {
        })
        .await;
        print("orderpay POST ..., no inbox workers", &intake);
        (server, intake)
    } else {
        let server = children::orderpay(&db.url, &sim.base).await;
        let pending = applied::prepare(&pool, &server.base, &sim.base).await;
        let intake = measure(
            &http,
            &server,
            "/api/v1/webhooks/stripe",
            &format!("op{tag}"),
            async {
                applied::drain(&pool).await;
            },
            async { applied_stats = Some(applied::measure(&pool, &server.base, pending).await) },
        )
        .await;
        print("orderpay POST /api/v1/webhooks/stripe", &intake);
        let backlog = applied::unapplied(&pool).await;
        let drained = applied::drained(backlog, applied::drain(&pool).await);
        println!(
            "  events stored but not yet applied when the flood and the paid orders were done: {backlog}, {drained}"
        );
        (server, intake)
    };
    println!(
        "  intake / per-request probe {:.2}x   intake / group-commit probe {:.2}x   (group-commit / per-request {:.2}x)",
        intake.stats.per_sec / per_request.stats.per_sec,
        intake.stats.per_sec / group.stats.per_sec,
        group.stats.per_sec / per_request.stats.per_sec,
    );
    if let Some(stats) = applied_stats {
        println!(
            "  time to applied (payment_intent.succeeded delivered -> order reads paid), under that load: p50 {:.2} ms   p99 {:.2} ms   ({} events)",
            stats.p50_ms, stats.p99_ms, stats.count
        );
    }
    drop(server);
    drop(sim);
    pool.close().await;
    db.remove().await;
}
