//! 600 logins at once, and what everyone else sees meanwhile: how the
//! logins were answered, the p99 of other routes during the flood, and the
//! process's resident memory before, right after, and a moment later.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rocket::futures::future::join_all;
use serde_json::json;

use super::Server;

const LOGINS: usize = 600;

/// Current resident memory of this process (`VmRSS`), in kB.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l["VmRSS:".len()..]
                    .trim()
                    .trim_end_matches(" kB")
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

pub async fn run(s: &Server, admin: &str) {
    let before = rss_kb();
    let done = AtomicBool::new(false);
    let login = json!({"email": "bench@example.com", "password": "bench-password"});
    let flood = async {
        let statuses = join_all((0..LOGINS).map(|_| async {
            let (status, body) = s
                .call(
                    reqwest::Method::POST,
                    "/api/v1/users/login",
                    &[],
                    Some(&login),
                )
                .await;
            (
                status,
                body["error"]["code"].as_str().unwrap_or("").to_string(),
            )
        }))
        .await;
        done.store(true, Ordering::Release);
        statuses
    };
    // Other routes, one request at a time, for as long as the flood lasts.
    let others = async {
        let mut latencies = Vec::new();
        let admin_header = [("X-API-Key", admin)];
        while !done.load(Ordering::Acquire) {
            for (path, headers) in [
                ("/api/v1/shop/products", &[][..]),
                ("/api/v1/users?limit=10", &admin_header[..]),
            ] {
                let started = Instant::now();
                let (status, _) = s.call(reqwest::Method::GET, path, headers, None).await;
                assert_eq!(status, 200, "{path} during the login flood");
                latencies.push(started.elapsed());
            }
        }
        latencies
    };
    let started = Instant::now();
    let (statuses, mut latencies) = rocket::futures::future::join(flood, others).await;
    let elapsed = started.elapsed();
    let after = rss_kb();
    rocket::tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = rss_kb();

    let tally = |status: u16, code: &str| {
        statuses
            .iter()
            .filter(|(s, c)| *s == status && c == code)
            .count()
    };
    let (ok, busy) = (tally(200, ""), tally(429, "hashing_busy"));
    let server_errors = statuses.iter().filter(|(s, _)| *s >= 500).count();
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "  {LOGINS} concurrent logins in {:.2} s: {ok} logged in, {busy} told to retry (429 hashing_busy), {} other, {server_errors} 5xx",
        elapsed.as_secs_f64(),
        LOGINS - ok - busy,
    );
    println!(
        "  other routes during the flood ({} calls): p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms",
        latencies.len(),
        pct(50).as_secs_f64() * 1e3,
        pct(99).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    println!(
        "  RSS: {} MB before the flood, {} MB right after, {} MB 2 s later",
        before / 1024,
        after / 1024,
        settled / 1024
    );
}
