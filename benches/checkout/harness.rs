//! What every part of the bench shares: orderpay launched in this process,
//! a load generator that keeps N requests in flight, percentiles, and
//! memory readings of this process.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orderpay::db::Db;
use orderpay::stripe::gateway::StripeGateway;
use orderpay::stripe::sim::Sim;
use rocket::fairing::AdHoc;
use rocket::futures::{stream, StreamExt};
use rocket::Config;
use rocket_db_pools::Database;
use serde_json::{json, Value};
use sqlx::AnyPool;

/// orderpay served from this process, with its in-process simulator.
pub struct Server {
    pub base: String,
    pub pool: AnyPool,
    pub sim: Arc<Sim>,
    pub shutdown: rocket::Shutdown,
    pub http: reqwest::Client,
}

pub async fn launch(database_url: &str) -> Server {
    let figment = rocket::figment::Figment::from(Config::debug_default())
        .merge(("log_level", "off"))
        .merge(("port", 0))
        .merge(("address", "127.0.0.1"))
        .merge(("databases.orderpay.url", database_url))
        .merge(("databases.orderpay.max_connections", 16))
        .merge(("demo_seed", true))
        .merge(("reconcile_interval_secs", 0))
        .merge(("login_max_failures", 1_000_000));
    let (tx, rx) = rocket::tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let rocket = orderpay::app::build(figment).attach(AdHoc::on_liftoff("bench", move |r| {
        let server = (
            format!("http://127.0.0.1:{}", r.config().port),
            // The writer: on SQLite the readers refuse writes, and the
            // bench writes keys and bulk-loads orders.
            AnyPool::clone(Db::fetch(r).expect("database").writer()),
            r.state::<StripeGateway>()
                .and_then(|g| g.simulator.clone())
                .expect("simulator"),
            r.shutdown(),
        );
        if let Some(tx) = tx.lock().unwrap().take() {
            let _ = tx.send(server);
        }
        Box::pin(async {})
    }));
    rocket::tokio::spawn(rocket.launch());
    let (base, pool, sim, shutdown) = rx.await.expect("orderpay launched");
    Server {
        base,
        pool,
        sim,
        shutdown,
        http: reqwest::Client::new(),
    }
}

impl Server {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        call(&self.http, &self.base, method, path, headers, body).await
    }

    /// Seeds the catalog and the demo data through the admin route.
    pub async fn seed(&self, admin_key: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/admin/seed",
                &[("X-API-Key", admin_key)],
                None,
            )
            .await;
        assert_eq!(status, 201, "seed: {body}");
    }

    pub async fn key(&self, scopes: &str) -> String {
        api_key(&self.pool, scopes).await
    }

    pub fn stop(&self) {
        self.shutdown.clone().notify();
    }
}

/// One JSON call to any orderpay (this process's or a child's).
pub async fn call(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = http.request(method, format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Registers a customer at `base` (password `bench-password`); its bearer
/// header value, `Bearer <token>`.
pub async fn register(http: &reqwest::Client, base: &str, email: &str, name: &str) -> String {
    let body = json!({"email": email, "name": name, "password": "bench-password"});
    let (status, reply) = call(
        http,
        base,
        reqwest::Method::POST,
        "/api/v1/users/register",
        &[],
        Some(&body),
    )
    .await;
    assert_eq!(status, 201, "register: {reply}");
    let token = reply["data"]["access_token"].as_str().expect("token");
    format!("Bearer {token}")
}

/// A new API key with `scopes`, written straight into the database.
pub async fn api_key(pool: &AnyPool, scopes: &str) -> String {
    let lines = orderpay::cli::create_api_key(pool, "bench", scopes)
        .await
        .expect("key");
    lines.last().expect("key line").clone()
}

/// Calls per second and latency percentiles of one measured run.
pub struct Stats {
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub count: usize,
}

impl Stats {
    pub fn from(mut latencies: Vec<Duration>, elapsed: Duration) -> Stats {
        latencies.sort();
        let count = latencies.len();
        let pct = |p: usize| {
            latencies
                .get((count * p / 100).min(count.saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        Stats {
            per_sec: count as f64 / elapsed.as_secs_f64(),
            p50_ms: pct(50),
            p99_ms: pct(99),
            count,
        }
    }

    pub fn line(&self, name: &str, concurrency: usize) -> String {
        format!(
            "  {name:<44} {:>8.0}/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} x {concurrency} in flight)",
            self.per_sec, self.p50_ms, self.p99_ms, self.count
        )
    }
}

/// Runs `total` calls of `op` with `concurrency` in flight.
pub async fn run<F, Fut>(total: usize, concurrency: usize, op: F) -> Stats
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    let latencies: Vec<Duration> = stream::iter(0..total)
        .map(|i| {
            let call = op(i);
            async move {
                let t = Instant::now();
                call.await;
                t.elapsed()
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    Stats::from(latencies, started.elapsed())
}

/// Like `run`, and prints the line.
pub async fn measure<F, Fut>(name: &str, total: usize, concurrency: usize, op: F) -> Stats
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let stats = run(total, concurrency, op).await;
    println!("{}", stats.line(name, concurrency));
    stats
}

/// A field of `/proc/<pid>/status` in kB (`VmHWM`, `VmRSS`); `pid` "self" for this process.
pub fn status_kb(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l[field.len()..].trim().trim_end_matches(" kB").parse().ok())
        })
        .unwrap_or(0)
}

/// Resets a process's peak resident memory (`VmHWM`) to its current size.
pub fn reset_peak(pid: &str) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// CPU time (user + system) a process has used so far, in milliseconds.
/// Clock ticks are 100 per second on Linux x86-64 and arm64.
pub fn cpu_ms(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) * 10.0
}

pub fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}
