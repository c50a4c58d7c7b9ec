//! Two orderpay processes on one PostgreSQL database against one: webhook
//! intake (distinct signed events, 32 in flight) and whole checkouts (16 in
//! flight), requests spread over the instances in turn, with each
//! instance's CPU time per request so the gain on more cores can be argued.
//! The simulator runs as its own process and delivers no webhooks here.

use super::backend::Backend;
use super::children::{self, ChildServer, SIM_SECRET_KEY};
use super::events;
use super::harness::{mb, run, Stats};
use super::intake::IN_FLIGHT;
use super::shop::Shop;

const EVENTS: usize = 10_000;
const CHECKOUTS: usize = 1_000;
const CHECKOUT_IN_FLIGHT: usize = 16;

struct Round {
    stats: Stats,
    cpu_ms_per_request: f64,
    peak_kb: u64,
}

/// Runs `load` against `servers` and reads their CPU time and peak memory.
async fn round<F: std::future::Future<Output = Stats>>(servers: &[ChildServer], load: F) -> Round {
    let cpu: f64 = servers.iter().map(ChildServer::cpu_ms).sum();
    servers.iter().for_each(ChildServer::reset_peak);
    let stats = load.await;
    let used: f64 = servers.iter().map(ChildServer::cpu_ms).sum::<f64>() - cpu;
    Round {
        cpu_ms_per_request: used / stats.count as f64,
        peak_kb: servers.iter().map(ChildServer::peak_kb).max().unwrap_or(0),
        stats,
    }
}

fn print(name: &str, concurrency: usize, round: &Round) {
    println!(
        "{}   CPU {:.3} ms/request (all instances)   peak RSS {} per instance",
        round.stats.line(name, concurrency),
        round.cpu_ms_per_request,
        mb(round.peak_kb)
    );
}

pub async fn run_part(backend: &Backend) {
    let db = backend.fresh("instances").await;
    let pool = orderpay::cli::open_database(&db.url)
        .await
        .expect("database");
    orderpay::cli::seed(&pool, None).await.expect("seed");
    let sim = children::simulator().await;
    let http = reqwest::Client::new();
    let mut results = Vec::new();
    for count in [1, 2] {
        let mut servers = Vec::new();
        for _ in 0..count {
            servers.push(children::orderpay(&db.url, &sim.base).await);
        }
        let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
        let shop = Shop::open(&pool, &bases[0], &sim.base, SIM_SECRET_KEY, 16).await;
        let tag = format!("i{count}x{}", std::process::id());
        let urls: Vec<String> = bases
            .iter()
            .map(|b| format!("{b}/api/v1/webhooks/stripe"))
            .collect();
        // Warm-up, unmeasured.
        let warm = events::foreign(&format!("{tag}w"), 2_000);
        let (warm, urls_ref, http_ref) = (&warm, &urls, &http);
        run(warm.len(), IN_FLIGHT, |i| async move {
            events::deliver(http_ref, &urls_ref[i % count], &warm[i]).await;
        })
        .await;
        super::applied::drain(&pool).await;
        let events = events::foreign(&tag, EVENTS);
        let (events, urls, http) = (&events, &urls, &http);
        let intake = round(
            &servers,
            run(EVENTS, IN_FLIGHT, |i| async move {
                let status = events::deliver(http, &urls[i % count], &events[i]).await;
                assert_eq!(status, 200, "event not acknowledged");
            }),
        )
        .await;
        print(
            &format!("{count} instance(s): webhook intake"),
            IN_FLIGHT,
            &intake,
        );
        // What the flood left to apply, worked off before checkouts start.
        let backlog = super::applied::unapplied(&pool).await;
        let drained = super::applied::drained(backlog, super::applied::drain(&pool).await);
        println!("    {backlog} events left to apply after the flood: {drained}");
        let (shop, bases) = (&shop, &bases);
        let cpu_sim = sim.cpu_ms();
        let checkout = round(
            &servers,
            run(CHECKOUTS, CHECKOUT_IN_FLIGHT, |i| async move {
                shop.checkout(&bases[i % count], i).await;
            }),
        )
        .await;
        print(
            &format!("{count} instance(s): whole checkout"),
            CHECKOUT_IN_FLIGHT,
            &checkout,
        );
        println!(
            "    simulator process: {:.3} ms CPU per checkout",
            (sim.cpu_ms() - cpu_sim) / CHECKOUTS as f64
        );
        results.push((intake.stats.per_sec, checkout.stats.per_sec));
    }
    println!(
        "  two instances / one: intake {:.2}x, checkout {:.2}x",
        results[1].0 / results[0].0,
        results[1].1 / results[0].1
    );
    drop(sim);
    pool.close().await;
    db.remove().await;
}
