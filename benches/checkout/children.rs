//! Servers run as their own processes, so each one's CPU time and peak
//! memory can be read apart from the load generator's: orderpay (the real
//! binary), the standalone Stripe simulator, and the bench's own probes
//! (this executable started again in probe mode).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::{cpu_ms, reset_peak, status_kb};

/// The simulator's default secret key (`orderpay stripe-sim`).
pub const SIM_SECRET_KEY: &str = "sk_test_orderpay_simulator";
/// The webhook signing secret the children are configured with.
pub const WEBHOOK_SECRET: &str = "whsec_orderpay_bench";

pub struct ChildServer {
    child: Child,
    pub base: String,
}

impl ChildServer {
    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn cpu_ms(&self) -> f64 {
        cpu_ms(&self.pid())
    }

    pub fn peak_kb(&self) -> u64 {
        status_kb(&self.pid(), "VmHWM:")
    }

    pub fn reset_peak(&self) {
        reset_peak(&self.pid());
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Starts `command` listening on `port` and waits until `ready_path` answers.
/// Its errors (RUST_LOG=error) reach the bench's output; its banner does not.
async fn start(mut command: Command, port: u16, ready_path: &str) -> ChildServer {
    let child = command
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start child server");
    let server = ChildServer {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(response) = http
            .get(format!("{}{ready_path}", server.base))
            .send()
            .await
        {
            if response.status().as_u16() < 500 {
                return server;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "child server did not start"
        );
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `orderpay stripe-sim`, delivering no webhooks (the bench sends its own).
pub async fn simulator() -> ChildServer {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_orderpay"));
    command
        .args(["stripe-sim", "--port", &port.to_string()])
        .args(["--webhook-secret", WEBHOOK_SECRET])
        // It announces itself on stderr whatever RUST_LOG says.
        .stderr(Stdio::null());
    start(command, port, "/v1/customers/cus_none").await
}

/// `orderpay` serving `database_url`, with Stripe at `stripe_base`.
pub async fn orderpay(database_url: &str, stripe_base: &str) -> ChildServer {
    orderpay_with(database_url, stripe_base, &[]).await
}

/// `orderpay` as above, with more settings (`ROCKET_...` variables).
pub async fn orderpay_with(
    database_url: &str,
    stripe_base: &str,
    settings: &[(&str, &str)],
) -> ChildServer {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_orderpay"));
    command.envs(settings.iter().copied());
    command
        .env("ROCKET_PROFILE", "release")
        .env("DATABASE_URL", database_url)
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_LOG_LEVEL", "off")
        .env("ROCKET_RECONCILE_INTERVAL_SECS", "0")
        .env("ROCKET_LOGIN_MAX_FAILURES", "1000000")
        .env("STRIPE_SECRET_KEY", SIM_SECRET_KEY)
        .env("STRIPE_API_BASE", stripe_base)
        .env("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET);
    start(command, port, "/health").await
}

/// This bench executable again, serving one of the probes (`probe.rs`).
pub async fn probe(mode: &str, database_url: &str) -> ChildServer {
    let port = free_port();
    let mut command = Command::new(std::env::current_exe().expect("bench executable"));
    command
        .env(super::probe::MODE_VAR, mode)
        .env(super::probe::DATABASE_VAR, database_url)
        .env(super::probe::PORT_VAR, port.to_string());
    start(command, port, "/ready").await
}
