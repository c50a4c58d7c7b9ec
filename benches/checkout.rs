//! Throughput, latency, CPU and peak memory of orderpay's hot paths, measured
//! on the real server over HTTP: SQLite always, PostgreSQL too when
//! ORDERPAY_BENCH_POSTGRES_URL names a server (e.g.
//! postgres://postgres@127.0.0.1:5432). Run with `cargo bench`; nothing here
//! asserts a speed (`cargo bench --bench checkout` skips the unit tests'
//! listing). Parts, in order (ORDERPAY_BENCH_ONLY=intake,listing runs only
//! those; ORDERPAY_BENCH_SKIP_SQLITE=1 runs PostgreSQL alone):
//!
//! - `basics`: a login flood, then products, orders, confirm, inbox (`basics.rs`);
//! - `intake`: the limit probes beside orderpay's webhook intake, and the
//!   time from a delivered event to its order being paid (`intake.rs`);
//! - `checkout`: whole checkouts per second beside the simulator alone, and
//!   statements and Stripe calls per checkout (`checkout_rate.rs`);
//! - `listing`: listings and the sweep at a million orders (`listing.rs`);
//! - `instances`: two orderpay processes on one PostgreSQL against one
//!   (`instances.rs`; PostgreSQL only).

#[path = "checkout/applied.rs"]
mod applied;
#[path = "checkout/backend.rs"]
mod backend;
#[path = "checkout/basics.rs"]
mod basics;
#[path = "checkout/bulk_load.rs"]
mod bulk_load;
#[path = "checkout/checkout_rate.rs"]
mod checkout_rate;
#[path = "checkout/children.rs"]
mod children;
#[path = "checkout/events.rs"]
mod events;
#[path = "checkout/harness.rs"]
mod harness;
#[path = "checkout/instances.rs"]
mod instances;
#[path = "checkout/intake.rs"]
mod intake;
#[path = "checkout/listing.rs"]
mod listing;
#[path = "checkout/login_flood.rs"]
mod login_flood;
#[path = "checkout/plans.rs"]
mod plans;
#[path = "checkout/probe.rs"]
mod probe;
#[path = "checkout/shop.rs"]
mod shop;
#[path = "checkout/statements.rs"]
mod statements;
#[path = "checkout/sweep_query.rs"]
mod sweep_query;

use backend::Backend;
use harness::Server;

const PARTS: [&str; 5] = ["basics", "intake", "checkout", "listing", "instances"];

/// The parts ORDERPAY_BENCH_ONLY asks for (comma-separated), or all.
fn wanted() -> Vec<&'static str> {
    match std::env::var("ORDERPAY_BENCH_ONLY") {
        Ok(only) if !only.trim().is_empty() => {
            let asked: Vec<&str> = only.split(',').map(str::trim).collect();
            for part in &asked {
                assert!(
                    PARTS.contains(part),
                    "ORDERPAY_BENCH_ONLY: unknown part {part} (parts: {})",
                    PARTS.join(", ")
                );
            }
            PARTS.into_iter().filter(|p| asked.contains(p)).collect()
        }
        _ => PARTS.to_vec(),
    }
}

async fn run(backend: &Backend, parts: &[&str]) {
    println!("{}", backend.label());
    for part in parts {
        match *part {
            "basics" => basics::run_part(backend).await,
            "intake" => intake::run_part(backend).await,
            "checkout" => checkout_rate::run_part(backend).await,
            "listing" => listing::run_part(backend).await,
            "instances" if backend.is_postgres() => instances::run_part(backend).await,
            _ => {}
        }
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    format!("{cores} cores, load average {load} at start")
}

fn main() {
    if let Ok(mode) = std::env::var(probe::MODE_VAR) {
        rocket::execute(probe::serve(&mode));
        return;
    }
    statements::install();
    let parts = wanted();
    println!("orderpay bench: {} ({})", parts.join(", "), machine());
    rocket::execute(async {
        // ORDERPAY_BENCH_SKIP_SQLITE=1: PostgreSQL only.
        if std::env::var("ORDERPAY_BENCH_SKIP_SQLITE").map_or(true, |v| v != "1") {
            let sqlite = Backend::Sqlite(tempfile::tempdir().expect("temp dir"));
            run(&sqlite, &parts).await;
        }
        if let Ok(server) = std::env::var("ORDERPAY_BENCH_POSTGRES_URL") {
            let postgres = Backend::Postgres(server.trim_end_matches('/').to_string());
            run(&postgres, &parts).await;
        }
        println!(
            "peak RSS of the bench process (load generator, in-process servers): {}",
            harness::mb(harness::status_kb("self", "VmHWM:"))
        );
    });
}
