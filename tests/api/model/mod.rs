//! The model-based test of payments ("Money right in every case"): proptest
//! draws sequences of operations — orders in many currencies, PaymentIntents
//! alone and at once, confirmations with every kind of card, the customer and
//! the dashboard acting at Stripe directly, cancels, callbacks, sweeps,
//! refunds with and without keys, webhooks held, reordered and repeated,
//! faults, restarts, several operations at once — drives the real app over
//! HTTP against the simulator, and checks the invariants (invariants.rs)
//! after every step and once everything is quiet. On failure it prints the
//! shrunk sequence, which replays with the printed seed or by hand.
//!
//! `ORDERPAY_MODEL_CASES` (default 16) and `ORDERPAY_MODEL_STEPS` (most steps
//! per case, default 16) size a run; `ORDERPAY_MODEL_SEED` (hex, 32 bytes)
//! replays one; `ORDERPAY_MODEL_SHRINK_SECS` (default 60) bounds shrinking.
//! `ORDERPAY_MODEL_KEEP_GOING=1` (long runs) does not stop at the first
//! failing case: it counts failures by invariant and reports each kind once.

mod apply;
mod invariants;
mod money_ref;
mod ops;
mod quiesce;
mod stripe_view;
mod world;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use self::invariants::Moment;
use self::ops::Op;
use self::world::World;
use crate::helpers::{run_with, Backend, POSTGRES_ENV};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The seed of this run: given (to replay) or fresh, and printed either way.
fn seed() -> [u8; 32] {
    let given = std::env::var("ORDERPAY_MODEL_SEED")
        .ok()
        .and_then(|hex| hex::decode(hex.trim()).ok());
    match given.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok()) {
        Some(seed) => seed,
        None => rand::random(),
    }
}

/// What a run did, summed over its cases.
#[derive(Default)]
struct Tally {
    steps: AtomicUsize,
    /// Steps up to the broken invariant in the latest failing case: what
    /// proptest reports last is that case, and the steps after it are noise.
    failing_prefix: AtomicUsize,
    skipped: Mutex<BTreeMap<&'static str, u32>>,
    /// In a long run that keeps going: each failing case's report, its
    /// first line (what broke) counted.
    failures: Mutex<BTreeMap<String, (u32, String)>>,
}

fn model(backend: Backend) {
    if backend == Backend::Postgres
        && std::env::var(POSTGRES_ENV).map_or(true, |v| v.trim().is_empty())
    {
        eprintln!("SKIPPED model on postgres: {POSTGRES_ENV} is not set");
        return;
    }
    let config = Config {
        cases: env_number("ORDERPAY_MODEL_CASES", 16) as u32,
        max_shrink_time: 1_000 * env_number("ORDERPAY_MODEL_SHRINK_SECS", 60) as u32,
        failure_persistence: None,
        ..Config::default()
    };
    let max_steps = env_number("ORDERPAY_MODEL_STEPS", 16).max(1) as usize;
    let seed = seed();
    eprintln!(
        "model on {backend:?}: ORDERPAY_MODEL_SEED={}",
        hex::encode(seed)
    );
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let keep_going = env_number("ORDERPAY_MODEL_KEEP_GOING", 0) == 1;
    let tally = Tally::default();
    let outcome = runner.run(&ops::case(max_steps), |case| {
        let verdict = run_case(backend, &case, &tally);
        match verdict {
            Err(report) if keep_going => {
                let what = broken_invariant(&report);
                let mut failures = tally.failures.lock().unwrap();
                let entry = failures
                    .entry(what)
                    .or_insert((0, format!("{report}\n{case:#?}")));
                entry.0 += 1;
                Ok(())
            }
            verdict => verdict.map_err(TestCaseError::fail),
        }
    });
    eprintln!(
        "model on {backend:?}: {} steps run (shrinking included); skipped operations: {:?}",
        tally.steps.load(Ordering::SeqCst),
        tally.skipped.lock().unwrap()
    );
    let failures = tally.failures.lock().unwrap();
    if !failures.is_empty() {
        for (what, (n, example)) in failures.iter() {
            eprintln!("=== {n} case(s): {what}\nfirst example:\n{example}\n");
        }
        panic!(
            "model on {backend:?}: {} kinds of broken invariant (see above)",
            failures.len()
        );
    }
    match outcome {
        Ok(()) => {}
        Err(TestError::Fail(reason, case)) => {
            let prefix = tally
                .failing_prefix
                .load(Ordering::SeqCst)
                .clamp(1, case.len());
            panic!(
                "model on {backend:?} broke an invariant\n{reason}\nshrunk sequence ({prefix} of {} steps):\n{:#?}",
                case.len(),
                &case[..prefix]
            )
        }
        Err(TestError::Abort(reason)) => panic!("model on {backend:?} aborted: {reason}"),
    }
}

/// "invariant N" and the first id-free words of what broke, to count alike failures.
fn broken_invariant(report: &str) -> String {
    let line = report.lines().nth(1).unwrap_or(report).trim();
    let number = line.split([',', ':']).next().unwrap_or(line);
    let detail = line
        .split_once("): ")
        .or_else(|| line.split_once(": "))
        .map_or("", |(_, detail)| detail);
    let words: Vec<&str> = detail
        .split_whitespace()
        .filter(|w| !w.contains(|c: char| c.is_ascii_digit() || c == '"'))
        .take(4)
        .collect();
    format!("{number}: {}", words.join(" "))
}

/// One case on a fresh app and database: its first broken invariant, if any.
fn run_case(backend: Backend, case: &[Op], tally: &Tally) -> Result<(), String> {
    let runtime = rocket::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime per case");
    let verdict = Arc::new(Mutex::new(Ok(())));
    let written = Arc::clone(&verdict);
    runtime.block_on(run_with(
        backend,
        "model",
        world::figment,
        |app| async move {
            let mut world = World::new(app).await;
            apply::seed_products(&world).await;
            let result = drive(&mut world, case, tally).await;
            tally
                .skipped
                .lock()
                .unwrap()
                .extend(world.record().skipped.clone());
            *written.lock().unwrap() = result;
        },
    ));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let verdict = verdict.lock().unwrap().clone();
    verdict
}

async fn drive(world: &mut World, case: &[Op], tally: &Tally) -> Result<(), String> {
    tally.failing_prefix.store(case.len(), Ordering::SeqCst);
    for (i, op) in case.iter().enumerate() {
        world.begin_step();
        apply::step(world, op).await;
        tally.steps.fetch_add(1, Ordering::SeqCst);
        let broken = invariants::check(world, Moment::AfterStep).await;
        if !broken.is_empty() {
            tally.failing_prefix.store(i + 1, Ordering::SeqCst);
            return Err(format!("after step {i} {op:?}:\n  {}", broken.join("\n  ")));
        }
    }
    quiesce::quiesce(world).await;
    let broken = invariants::check(world, Moment::Quiescent).await;
    if !broken.is_empty() {
        tally.failing_prefix.store(case.len(), Ordering::SeqCst);
        return Err(format!("after quiescence:\n  {}", broken.join("\n  ")));
    }
    Ok(())
}

#[test]
fn model_on_sqlite() {
    model(Backend::Sqlite);
}

#[test]
fn model_on_postgres() {
    model(Backend::Postgres);
}
