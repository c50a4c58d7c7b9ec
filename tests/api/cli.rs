use std::process::{Command, Output};

use crate::db_test;
use rocket::http::Status;

fn orderpay(database_url: Option<&str>, profile: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orderpay"));
    command
        .args(args)
        .env("ROCKET_PROFILE", profile)
        .env("RUST_LOG", "warn");
    match database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    command.output().expect("run orderpay")
}

db_test!(the_cli_creates_lists_and_revokes_keys, |app| {
    let url = app.database_url.clone();
    let created = orderpay(
        Some(&url),
        "debug",
        &[
            "api-key",
            "create",
            "--name",
            "shop",
            "--scopes",
            "admin,checkout",
        ],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let stdout = String::from_utf8(created.stdout).unwrap();
    let key = stdout.lines().last().unwrap().to_string();
    assert!(key.starts_with("opk_") && key.len() > 40, "{stdout}");
    assert_eq!(
        app.get("/api/v1/shop/orders", Some(&key)).await.status,
        Status::Ok
    );

    let listed = orderpay(Some(&url), "debug", &["api-key", "list"]);
    let listing = String::from_utf8(listed.stdout).unwrap();
    let line = listing
        .lines()
        .find(|l| l.ends_with("shop"))
        .expect("listed");
    assert!(line.contains("admin,checkout") && line.contains("active"));
    assert!(!listing.contains(&key), "the key is shown only at creation");
    let id = line.split_whitespace().next().unwrap();

    let revoked = orderpay(Some(&url), "debug", &["api-key", "revoke", id]);
    assert!(revoked.status.success());
    assert_eq!(
        app.get("/api/v1/shop/orders", Some(&key)).await.status,
        Status::Unauthorized
    );

    let bad_scope = orderpay(
        Some(&url),
        "debug",
        &["api-key", "create", "--name", "x", "--scopes", "root"],
    );
    assert!(!bad_scope.status.success());
    assert!(String::from_utf8_lossy(&bad_scope.stderr).contains("unknown scope 'root'"));
});

db_test!(the_cli_seeds_and_reports_bad_files, |app| {
    let url = app.database_url.clone();
    let seeded = orderpay(Some(&url), "debug", &["seed"]);
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    assert!(String::from_utf8_lossy(&seeded.stdout).contains("created 9 products"));
    let again = orderpay(Some(&url), "debug", &["seed"]);
    assert!(String::from_utf8_lossy(&again.stdout)
        .contains("created 0 products, 0 customers, 0 orders"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-seed.json");
    std::fs::write(
        &path,
        r#"{"orders": [{"number": "nope", "status": "paid", "items": []}]}"#,
    )
    .unwrap();
    let failed = orderpay(
        Some(&url),
        "debug",
        &["seed", "--file", path.to_str().unwrap()],
    );
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("bad-seed.json") && stderr.contains("orders[0]"),
        "{stderr}"
    );
});

db_test!(the_cli_lists_orders_to_review_after_a_currency_fix, |app| {
    let url = app.database_url.clone();
    let clean = orderpay(Some(&url), "debug", &["check-currencies"]);
    assert!(clean.status.success(), "{clean:?}");
    assert!(String::from_utf8_lossy(&clean.stdout).starts_with("nothing to review"));
    app.seed().await;
    let (order_id,): (String,) = sqlx::query_as("SELECT id FROM orders LIMIT 1")
        .fetch_one(app.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO currency_unit_review (order_id, amount, currency, reason) \
         VALUES ($1, 5000, 'ugx', 'ugx_charged_one_hundredth')",
    )
    .bind(&order_id)
    .execute(app.pool())
    .await
    .unwrap();
    let listed = orderpay(Some(&url), "debug", &["check-currencies"]);
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert!(
        stdout.contains(&format!("({order_id})")) && stdout.contains("asked 50.00 ugx"),
        "{stdout}"
    );
});

#[test]
fn release_refuses_to_start_without_a_database_in_one_line() {
    let output = orderpay(None, "release", &["migrate"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn release_does_not_print_the_database_password() {
    let output = orderpay(
        Some("mysql://orderpay:s3cret-pw@db.internal/x"),
        "release",
        &["migrate"],
    );
    assert_eq!(output.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains("s3cret-pw"), "{all}");
}

#[rocket::async_test]
async fn the_standalone_stripe_simulator_speaks_stripe() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_orderpay"))
        .args([
            "stripe-sim",
            "--port",
            &port.to_string(),
            "--secret-key",
            "sk_test_standalone_1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut config = orderpay::stripe::ClientConfig::new(
        format!("http://127.0.0.1:{port}"),
        orderpay::secret::Secret::new("sk_test_standalone_1"),
    );
    config.max_retries = 0;
    let stripe = orderpay::stripe::StripeClient::new(config).unwrap();
    let mut pm = None;
    for _ in 0..200 {
        match stripe.retrieve_payment_method("pm_card_visa").await {
            Ok(found) => {
                pm = Some(found);
                break;
            }
            Err(_) => rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        pm.expect("the simulator answered").card.unwrap().last4,
        "4242"
    );
}
