//! Runs the real server binary with verbose logging through a full flow and
//! searches everything it printed for the secrets that flowed through it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::db_test;
use serde_json::{json, Value};

/// A minimal HTTP/1.1 client: the test must not depend on the code under test.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let text = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("");
    (status, serde_json::from_str(text).unwrap_or(Value::Null))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

db_test!(no_secret_reaches_the_logs, |app| {
    let url = app.database_url.clone();
    let bin = env!("CARGO_BIN_EXE_orderpay");
    let created = Command::new(bin)
        .args(["api-key", "create", "--name", "logs", "--scopes", "admin"])
        .env("DATABASE_URL", &url)
        .env("ROCKET_PROFILE", "debug")
        .output()
        .unwrap();
    let api_key = String::from_utf8(created.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();

    let port = free_port();
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = Command::new(bin)
        .env("DATABASE_URL", &url)
        .env("ROCKET_PROFILE", "debug")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_LOG_LEVEL", "debug")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let password = "correct-horse-battery-staple";
    let new_password = "another-horse-battery-staple";
    let key = [("X-API-Key", api_key.as_str())];
    assert_eq!(http(port, "POST", "/api/v1/admin/seed", &key, None).0, 201);
    let (status, registered) = http(
        port,
        "POST",
        "/api/v1/users/register",
        &[],
        Some(&json!({"email": "secret@example.com", "name": "S", "password": password})),
    );
    assert_eq!(status, 201);
    let first_token = registered["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, logged_in) = http(
        port,
        "POST",
        "/api/v1/users/login",
        &[],
        Some(&json!({"email": "secret@example.com", "password": password})),
    );
    let token = logged_in["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        http(
            port,
            "POST",
            "/api/v1/users/login",
            &[],
            Some(&json!({"email": "secret@example.com", "password": "wrong-guess-123"}))
        )
        .0,
        401
    );
    let auth = format!("Bearer {token}");
    let user = [("Authorization", auth.as_str())];
    assert_eq!(
        http(
            port,
            "POST",
            "/api/v1/shop/orders",
            &user,
            Some(&json!({"items": [{"sku": "MAIN-2", "quantity": 1}]}))
        )
        .0,
        201
    );
    assert_eq!(http(port, "GET", "/api/v1/shop/orders", &key, None).0, 200);
    assert_eq!(
        http(
            port,
            "PATCH",
            "/api/v1/users/me",
            &user,
            Some(&json!({"password": new_password, "current_password": password}))
        )
        .0,
        200
    );
    assert_eq!(http(port, "GET", "/api/v1/users/me", &user, None).0, 401);
    assert_eq!(
        http(
            port,
            "GET",
            "/api/v1/users",
            &[("X-API-Key", "opk_guessed-key")],
            None
        )
        .0,
        401
    );

    server.kill().unwrap();
    server.wait().unwrap();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("/api/v1/users/login"),
        "the log capture works: {logs}"
    );
    for (name, secret) in [
        ("password", password),
        ("new password", new_password),
        ("wrong password", "wrong-guess-123"),
        ("access token", &first_token),
        ("access token", &token),
        ("API key", &api_key),
        ("guessed key", "opk_guessed-key"),
    ] {
        let leaks: Vec<&str> = logs.lines().filter(|line| line.contains(secret)).collect();
        assert!(
            leaks.is_empty(),
            "the {name} appears in the logs: {leaks:#?}"
        );
    }
});
