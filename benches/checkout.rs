//! Throughput, latency and peak memory of orderpay's hot paths, measured on
//! the real server over HTTP with the in-process Stripe simulator: SQLite
//! always, PostgreSQL too when ORDERPAY_BENCH_POSTGRES_URL names a server
//! (e.g. postgres://postgres@127.0.0.1:5432). Run with `cargo bench`. It
//! prints numbers to compare between changes on one machine; nothing here
//! asserts a speed. It starts with a flood of 600 concurrent logins
//! (`checkout/login_flood.rs`): resident memory after it, and other routes'
//! p99 during it.

#[path = "checkout/login_flood.rs"]
mod login_flood;

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
use sqlx::{AnyPool, Connection};

struct Server {
    base: String,
    pool: AnyPool,
    sim: Arc<Sim>,
    shutdown: rocket::Shutdown,
    http: reqwest::Client,
}

async fn launch(database_url: &str) -> Server {
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
            AnyPool::clone(Db::fetch(r).expect("database")),
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
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
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

    async fn key(&self, scopes: &str) -> String {
        let lines = orderpay::cli::create_api_key(&self.pool, "bench", scopes)
            .await
            .expect("key");
        lines.last().expect("key line").clone()
    }
}

/// Runs `total` calls of `op` with `concurrency` in flight; prints calls per
/// second and latency percentiles.
async fn measure<F, Fut>(name: &str, total: usize, concurrency: usize, op: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    let mut latencies: Vec<Duration> = stream::iter(0..total)
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
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "  {name:<44} {:>8.0}/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({total} x {concurrency} in flight)",
        total as f64 / elapsed.as_secs_f64(),
        pct(50).as_secs_f64() * 1e3,
        pct(99).as_secs_f64() * 1e3,
    );
}

async fn run(label: &str, database_url: &str) {
    println!("{label}");
    let server = launch(database_url).await;
    let admin = server.key("admin").await;
    let checkout = server.key("checkout").await;
    server
        .call(
            reqwest::Method::POST,
            "/api/v1/admin/seed",
            &[("X-API-Key", &admin)],
            None,
        )
        .await;
    let register =
        json!({"email": "bench@example.com", "name": "Bench", "password": "bench-password"});
    let (_, body) = server
        .call(
            reqwest::Method::POST,
            "/api/v1/users/register",
            &[],
            Some(&register),
        )
        .await;
    let token = format!(
        "Bearer {}",
        body["data"]["access_token"].as_str().expect("token")
    );
    let s = &server;

    // First, while the process is still small: its memory after the flood
    // is the flood's doing.
    login_flood::run(s, &admin).await;

    measure("GET /api/v1/shop/products", 2000, 16, |_| async move {
        let (status, _) = s
            .call(reqwest::Method::GET, "/api/v1/shop/products", &[], None)
            .await;
        assert_eq!(status, 200);
    })
    .await;

    let order_body = json!({"items": [{"sku": "MAIN-2", "quantity": 2}]});
    let orders = Mutex::new(Vec::new());
    measure("POST /api/v1/shop/orders (customer)", 500, 8, |_| {
        let (token, body, orders) = (&token, &order_body, &orders);
        async move {
            let (status, reply) = s
                .call(
                    reqwest::Method::POST,
                    "/api/v1/shop/orders",
                    &[("Authorization", token)],
                    Some(body),
                )
                .await;
            assert_eq!(status, 201);
            orders
                .lock()
                .unwrap()
                .push(reply["data"]["id"].as_str().unwrap().to_string());
        }
    })
    .await;
    let orders = orders.into_inner().unwrap();

    let both = [
        ("Authorization", token.as_str()),
        ("X-API-Key", checkout.as_str()),
    ];
    measure("payment-intent + confirm + paid by webhook", 200, 4, |i| {
        let (order, both) = (&orders[i], &both);
        async move {
            let path = format!("/api/v1/shop/orders/{order}/payment-intent");
            let (status, _) = s.call(reqwest::Method::POST, &path, both, None).await;
            assert_eq!(status, 201);
            let pm = json!({"payment_method": "pm_card_visa"});
            let (status, _) = s
                .call(
                    reqwest::Method::POST,
                    &format!("{path}/confirm"),
                    both,
                    Some(&pm),
                )
                .await;
            assert_eq!(status, 200);
            let view = format!("/api/v1/shop/orders/{order}");
            loop {
                let (_, reply) = s.call(reqwest::Method::GET, &view, &both[..1], None).await;
                if reply["data"]["status"] == "paid" {
                    break;
                }
                rocket::tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    })
    .await;

    let secret = s.sim.webhooks.settings().secrets[0].clone();
    measure("POST /api/v1/webhooks/stripe (inbox only)", 2000, 16, |i| {
        let secret = &secret;
        async move {
            let now = chrono::Utc::now().timestamp();
            let event = json!({"id": format!("evt_bench_{i}"), "object": "event", "type": "customer.created",
                "created": now, "livemode": false, "data": {"object": {"id": format!("cus_{i}"), "object": "customer"}}})
            .to_string();
            let signature = orderpay::stripe::webhook::header(event.as_bytes(), now, &[secret]);
            let response = s
                .http
                .post(format!("{}/api/v1/webhooks/stripe", s.base))
                .header("Stripe-Signature", signature)
                .header("Content-Type", "application/json")
                .body(event)
                .send()
                .await
                .expect("webhook");
            assert_eq!(response.status().as_u16(), 200);
        }
    })
    .await;
    server.shutdown.clone().notify();
}

/// Peak resident memory of this process (server, simulator and client together).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() {
    rocket::execute(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        run("SQLite (file, WAL)", &sqlite).await;
        if let Ok(server) = std::env::var("ORDERPAY_BENCH_POSTGRES_URL") {
            let server = server.trim_end_matches('/').to_string();
            let name = format!("orderpay_bench_{}", std::process::id());
            let mut admin = sqlx::AnyConnection::connect(&format!("{server}/postgres"))
                .await
                .expect("PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .await
                .expect("create");
            run("PostgreSQL", &format!("{server}/{name}")).await;
            // Let the pool close before the database goes.
            rocket::tokio::time::sleep(Duration::from_millis(500)).await;
            sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .expect("drop");
        }
        println!("peak RSS of the whole bench process: {}", peak_rss());
    });
}
