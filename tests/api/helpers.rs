//! Test harness: every test gets the real application on a fresh database of
//! its own — a temporary SQLite file, or a new PostgreSQL database that is
//! dropped afterwards — served for real on an ephemeral port, with its own
//! in-process Stripe simulator, and talks to it over HTTP.
//!
//! PostgreSQL tests run when ORDERPAY_TEST_POSTGRES_URL is set (e.g.
//! `postgres://postgres@127.0.0.1:5432`); without it they print a SKIPPED line
//! straight to the terminal. A set but unreachable URL fails the test.

use std::io::Write;
use std::panic::AssertUnwindSafe;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use orderpay::db::Db;
use orderpay::stripe::gateway::StripeGateway;
use orderpay::stripe::sim::Sim;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::futures::FutureExt;
use rocket::http::{ContentType, Header, Method, Status};
use rocket_db_pools::Database;
use serde_json::Value;
use sqlx::{AnyPool, Connection};

pub const POSTGRES_ENV: &str = "ORDERPAY_TEST_POSTGRES_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    /// e.g. `http://127.0.0.1:41234`: the real server, on an ephemeral port.
    pub base_url: String,
    http: reqwest::Client,
    pool: AnyPool,
    app_pool: AnyPool,
    /// (method, path) of every mounted route, from Rocket's route table.
    pub routes: Vec<(Method, String)>,
    /// The in-process Stripe simulator this app pays through.
    pub sim: Arc<Sim>,
    shutdown: rocket::Shutdown,
    pub backend: Backend,
    /// A key with the `admin` scope.
    pub admin_key: String,
    pub database_url: String,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

pub struct Reply {
    pub status: Status,
    pub body: Value,
    pub content_type: Option<ContentType>,
}

impl Reply {
    /// The machine-readable error code of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<none>")
    }

    pub fn field(&self) -> &str {
        self.body["error"]["details"]["field"]
            .as_str()
            .unwrap_or("<none>")
    }
}

/// Server-side warnings and errors go to the test's captured output, so a
/// failing test shows what the server logged (e.g. the cause of a 500).
fn capture_server_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_test_writer()
            .try_init();
    });
}

/// Runs `test` against a fresh app on `backend`, cleaning up even if it panics.
pub async fn run<F, Fut>(backend: Backend, name: &str, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    run_with(backend, name, test_figment, test).await
}

/// `run`, with the app's settings built by `figment` from the database URL.
pub async fn run_with<F, Fut>(
    backend: Backend,
    name: &str,
    figment: impl FnOnce(&str) -> Figment,
    test: F,
) where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (url, cleanup) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("orderpay.db").display()
            );
            (url, Cleanup::Sqlite(dir))
        }
        Backend::Postgres => match std::env::var(POSTGRES_ENV) {
            Ok(server) if !server.trim().is_empty() => {
                let (url, name) = create_postgres_database(server.trim()).await;
                (url, Cleanup::Postgres(server.trim().to_string(), name))
            }
            _ => {
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED {name} on postgres: {POSTGRES_ENV} is not set"
                );
                return;
            }
        },
    };
    capture_server_logs();
    let app = TestApp::start_with(backend, &url, figment(&url)).await;
    let outcome = AssertUnwindSafe(test(app)).catch_unwind().await;
    cleanup.finish().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// What to remove once a test is over: its SQLite directory or its PostgreSQL database.
pub enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres(String, String),
}

impl Cleanup {
    pub async fn finish(self) {
        match self {
            Cleanup::Sqlite(dir) => drop(dir),
            Cleanup::Postgres(server, name) => {
                let mut conn = admin_connection(&server).await;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .expect("drop test database");
            }
        }
    }
}

async fn admin_connection(server: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    let url = format!("{}/postgres", server.trim_end_matches('/'));
    sqlx::AnyConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL is unreachable: {e}"))
}

pub async fn create_postgres_database(server: &str) -> (String, String) {
    let name = format!("orderpay_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin_connection(server).await;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .expect("create test database");
    (format!("{}/{name}", server.trim_end_matches('/')), name)
}

/// The figment a test app runs with: Rocket's defaults, quiet logs, its own database.
pub fn test_figment(database_url: &str) -> Figment {
    Figment::from(rocket::Config::debug_default())
        .merge(("log_level", "off"))
        .merge(("databases.orderpay.url", database_url))
        .merge(("databases.orderpay.max_connections", 8))
        .merge(("databases.orderpay.connect_timeout", 5))
        .merge(("demo_seed", true))
        .merge(("port", 0))
        .merge(("address", "127.0.0.1"))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.grace", 0))
        .merge(("shutdown.mercy", 0))
        // Stripe calls to the simulator: fail fast rather than wait 30 s.
        .merge(("stripe.timeout_secs", 5))
        // Inbox retries after an outage the test made: seconds, not minutes.
        .merge(("webhook_inbox.retry_max_secs", 2))
        .merge(("webhook_inbox.poll_ms", 200))
}

/// `figment`, paying through `sim` and trusting its webhook secrets.
fn with_sim(figment: Figment, sim: &Sim) -> Figment {
    figment
        .merge(("stripe.secret_key", sim.secret_key()))
        .merge(("stripe.api_base", sim.base_url()))
        .merge((
            "stripe.webhook_secret",
            sim.webhooks.settings().secrets.join(","),
        ))
}

/// The test's pool: on SQLite one of its own, because the app's readers
/// refuse writes (`query_only`) and its one writer is the app's; on
/// PostgreSQL the app's.
async fn test_pool(backend: Backend, url: &str, app_pool: AnyPool) -> AnyPool {
    match backend {
        Backend::Sqlite => orderpay::db::connect(url, 4, Duration::from_secs(10))
            .await
            .expect("test pool"),
        Backend::Postgres => app_pool,
    }
}

struct Launched {
    base_url: String,
    pool: AnyPool,
    routes: Vec<(Method, String)>,
    sim: Arc<Sim>,
    shutdown: rocket::Shutdown,
}

impl TestApp {
    /// Launches the real app (the same `app::build` as `main`) on 127.0.0.1:0.
    pub async fn start_with(backend: Backend, url: &str, figment: Figment) -> TestApp {
        Self::launch(backend, url, figment, None).await
    }

    /// A server restart: stops this server and starts a new one on the same
    /// database with `figment`, paying through the same simulator (so Stripe
    /// keeps its PaymentIntents, refunds and held webhooks), which from then
    /// on delivers its webhooks to the new server.
    pub async fn restart(self, figment: Figment) -> TestApp {
        let sim = Arc::clone(&self.sim);
        let (backend, url) = (self.backend, self.database_url.clone());
        drop(self);
        let app = Self::launch(
            backend,
            &url,
            with_sim(figment, &sim),
            Some(Arc::clone(&sim)),
        )
        .await;
        let mut settings = sim.webhooks.settings();
        settings.url = Some(format!("{}/api/v1/webhooks/stripe", app.base_url));
        sim.webhooks.configure(settings);
        app
    }

    /// A second instance of the server on the same database and the same
    /// simulator (which keeps delivering its webhooks to the first).
    pub async fn another_instance(&self, figment: Figment) -> TestApp {
        let sim = Arc::clone(&self.sim);
        Self::launch(
            self.backend,
            &self.database_url,
            with_sim(figment, &sim),
            Some(sim),
        )
        .await
    }

    /// `start_with`; `sim` is the simulator when the app talks to one it did not start.
    async fn launch(
        backend: Backend,
        url: &str,
        figment: Figment,
        sim: Option<Arc<Sim>>,
    ) -> TestApp {
        let (tx, rx) = rocket::tokio::sync::oneshot::channel::<Launched>();
        let tx = Mutex::new(Some(tx));
        let rocket = orderpay::app::build(figment).attach(AdHoc::on_liftoff(
            "test harness",
            move |rocket| {
                let launched = Launched {
                    base_url: format!("http://127.0.0.1:{}", rocket.config().port),
                    pool: AnyPool::clone(Db::fetch(rocket).expect("database attached")),
                    routes: rocket
                        .routes()
                        .map(|r| (r.method, r.uri.path().to_string()))
                        .collect(),
                    sim: rocket
                        .state::<StripeGateway>()
                        .and_then(|g| g.simulator.clone())
                        .or_else(|| sim.clone())
                        .expect("tests pay through the simulator"),
                    shutdown: rocket.shutdown(),
                };
                let tx = tx.lock().unwrap().take();
                Box::pin(async move {
                    if let Some(tx) = tx {
                        let _ = tx.send(launched);
                    }
                })
            },
        ));
        let server = rocket::tokio::spawn(rocket.launch());
        let launched = match rx.await {
            Ok(launched) => launched,
            Err(_) => panic!("the app did not launch: {:?}", server.await),
        };
        let mut app = TestApp {
            base_url: launched.base_url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            pool: test_pool(backend, url, launched.pool.clone()).await,
            app_pool: launched.pool,
            routes: launched.routes,
            sim: launched.sim,
            shutdown: launched.shutdown,
            backend,
            admin_key: String::new(),
            database_url: url.to_string(),
        };
        app.admin_key = app.key("admin").await;
        app
    }

    /// The app's own pool (its readers on SQLite): closing it takes the
    /// database away from the app.
    pub fn app_pool(&self) -> &AnyPool {
        &self.app_pool
    }

    /// A pool on the app's database for the test's own reads and fixture
    /// writes, beside the app (as an operator's client would be).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The events the simulator made for orderpay's endpoint (of a type it
    /// enables) that orderpay has not yet accepted (no delivery of them
    /// answered 2xx): on their way, held, or refused.
    pub fn events_not_accepted(&self) -> Vec<serde_json::Value> {
        let settings = self.sim.webhooks.settings();
        let accepted: std::collections::HashSet<String> = self
            .sim
            .webhooks
            .deliveries()
            .into_iter()
            .filter(|d| d.status.is_some_and(|s| (200..300).contains(&s)))
            .map(|d| d.event)
            .collect();
        self.sim
            .data
            .lock()
            .unwrap()
            .events
            .iter()
            .filter(|e| settings.enables(e["type"].as_str().unwrap_or_default()))
            .filter(|e| !accepted.contains(e["id"].as_str().unwrap_or_default()))
            .cloned()
            .collect()
    }

    /// Waits until the inbox workers have applied every stored webhook
    /// event: a delivery is answered once stored, and applied after. Panics
    /// with what is left after 30 s.
    pub async fn applied(&self) {
        let started = std::time::Instant::now();
        loop {
            let left: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, status, COALESCE(last_error, '') FROM webhook_events \
                 WHERE status <> 'processed' ORDER BY received_at",
            )
            .fetch_all(self.pool())
            .await
            .expect("read the inbox");
            if left.is_empty() {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "webhook events not applied after 30 s: {left:?}"
            );
            rocket::tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Creates an API key with `scopes` (comma-separated) the way the CLI does.
    pub async fn key(&self, scopes: &str) -> String {
        let lines = orderpay::cli::create_api_key(self.pool(), "test", scopes)
            .await
            .expect("create key");
        lines.last().expect("key line").clone()
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> Reply {
        let headers: Vec<Header<'static>> = key.map(api_key).into_iter().collect();
        self.send(Method::Get, path, &headers, None).await
    }

    /// Any request: `headers` as built by `api_key()` / `bearer()`, an optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[Header<'static>],
        body: Option<&str>,
    ) -> Reply {
        let content_type = body.map(|_| "application/json");
        self.send_raw(
            method,
            path,
            headers,
            body.map(|b| b.as_bytes().to_vec()),
            content_type,
        )
        .await
    }

    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        headers: &[Header<'static>],
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        for header in headers {
            request = request.header(header.name().as_str(), header.value());
        }
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("the app answers");
        let status = Status::new(response.status().as_u16());
        let content_type = response
            .headers()
            .get("Content-Type")
            .and_then(|v| v.to_str().ok())
            .and_then(ContentType::parse_flexible);
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            body,
            content_type,
        }
    }

    /// Registers a customer; returns (user id, access token).
    pub async fn register(&self, email: &str, password: &str) -> (String, String) {
        let body =
            serde_json::json!({"email": email, "name": "Test Customer", "password": password});
        let reply = self
            .post("/api/v1/users/register", None, &body.to_string())
            .await;
        assert_eq!(
            reply.status,
            Status::Created,
            "register {email}: {:?}",
            reply.body
        );
        let data = &reply.body["data"];
        (
            data["user"]["id"].as_str().unwrap().to_string(),
            data["access_token"].as_str().unwrap().to_string(),
        )
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: &str) -> Reply {
        let headers: Vec<Header<'static>> = key.map(api_key).into_iter().collect();
        self.send(Method::Post, path, &headers, Some(body)).await
    }

    /// Seeds the built-in demo data as an admin would.
    pub async fn seed(&self) -> Reply {
        let reply = self
            .post("/api/v1/admin/seed", Some(&self.admin_key.clone()), "")
            .await;
        assert!(reply.status.code < 300, "seed failed: {:?}", reply.body);
        reply
    }
}

pub fn api_key(key: &str) -> Header<'static> {
    Header::new("X-API-Key", key.to_string())
}

pub fn bearer(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {token}"))
}

/// Declares a test that runs once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[rocket::async_test]
            async fn sqlite() {
                $crate::helpers::run($crate::helpers::Backend::Sqlite, stringify!($name), |$app| async move $body).await
            }

            #[rocket::async_test]
            async fn postgres() {
                $crate::helpers::run($crate::helpers::Backend::Postgres, stringify!($name), |$app| async move $body).await
            }
        }
    };
}
