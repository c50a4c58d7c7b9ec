//! Hostile login traffic: concurrent guessing must not get more password
//! checks than the throttle allows, and a flood must neither exhaust the
//! database pool nor queue password hashes without bound.

use rocket::futures::future::join_all;
use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{test_figment, TestApp};

/// What a client sees of one answer: status, error code, `Retry-After`.
struct Answer {
    status: u16,
    code: String,
    retry_after: Option<String>,
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    bearer: Option<&str>,
    body: Value,
) -> Answer {
    let mut request = http.post(format!("{base}{path}")).json(&body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    answer(request).await
}

async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the app answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        code: body["error"]["code"].as_str().unwrap_or("").to_string(),
        retry_after,
    }
}

fn count(answers: &[Answer], status: u16, code: &str) -> usize {
    answers
        .iter()
        .filter(|a| a.status == status && a.code == code)
        .count()
}

/// A second instance of the app on the same database, with `extra` settings.
async fn instance(app: &TestApp, extra: &[(&str, i64)]) -> TestApp {
    let mut figment = test_figment(&app.database_url);
    for (key, value) in extra {
        figment = figment.merge((*key, *value));
    }
    TestApp::start_with(app.backend, &app.database_url, figment).await
}

/// Fires every login at once, spread over `apps` (round robin).
async fn concurrent_logins(
    apps: &[&TestApp],
    email: &str,
    password: &str,
    n: usize,
) -> Vec<Answer> {
    let http = reqwest::Client::new();
    let body = json!({"email": email, "password": password});
    join_all((0..n).map(|i| {
        let base = apps[i % apps.len()].base_url.clone();
        let (http, body) = (&http, body.clone());
        async move { post(http, &base, "/api/v1/users/login", None, body).await }
    }))
    .await
}

db_test!(
    concurrent_wrong_passwords_on_two_instances_get_at_most_the_allowed_checks,
    |app| {
        app.register("victim@example.com", "right-password").await;
        // Room for every login in the hashing queue, so only the throttle decides.
        let roomy = [("password_hash_queue", 200)];
        let first = instance(&app, &roomy).await;
        let second = instance(&app, &roomy).await;
        let answers =
            concurrent_logins(&[&first, &second], "victim@example.com", "wrong-guess", 60).await;
        let checked = count(&answers, 401, "invalid_credentials");
        let throttled = count(&answers, 429, "too_many_attempts");
        assert_eq!(checked + throttled, 60, "only 401s and 429s");
        assert!(
            (1..=5).contains(&checked),
            "login_max_failures is 5, yet {checked} passwords were checked"
        );
        // The window is full: even the right password is refused now.
        let http = reqwest::Client::new();
        let right = json!({"email": "victim@example.com", "password": "right-password"});
        let locked = post(&http, &first.base_url, "/api/v1/users/login", None, right).await;
        assert_eq!(
            (locked.status, locked.code.as_str()),
            (429, "too_many_attempts")
        );
        assert!(locked.retry_after.is_some(), "says when to come back");
    }
);

db_test!(a_full_hashing_queue_answers_429_with_retry_after, |app| {
    app.register("queued@example.com", "right-password").await;
    let tiny = instance(
        &app,
        &[("password_hash_threads", 1), ("password_hash_queue", 1)],
    )
    .await;
    let answers = concurrent_logins(&[&tiny], "queued@example.com", "right-password", 30).await;
    let busy: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == 429 && a.code == "hashing_busy")
        .collect();
    assert!(!busy.is_empty(), "30 logins at once for 2 places");
    assert!(busy.iter().all(|a| a.retry_after.as_deref() == Some("1")));
    assert!(
        count(&answers, 200, "") >= 1,
        "admitted logins still succeed"
    );
    assert_eq!(count(&answers, 200, "") + busy.len(), 30);
});

db_test!(
    a_login_flood_never_runs_out_of_database_connections,
    |app| {
        app.register("flood@example.com", "right-password").await;
        // Few connections and a short wait for one: holding a connection across
        // a password hash would time out here.
        let small = instance(
            &app,
            &[
                ("databases.orderpay.max_connections", 4),
                ("databases.orderpay.connect_timeout", 3),
                ("login_max_failures", 1_000_000),
            ],
        )
        .await;
        let answers =
            concurrent_logins(&[&small], "flood@example.com", "right-password", 300).await;
        let failed: Vec<(u16, &str)> = answers
            .iter()
            .filter(|a| a.status >= 500)
            .map(|a| (a.status, a.code.as_str()))
            .collect();
        assert!(
            failed.is_empty(),
            "{} server errors: {:?}",
            failed.len(),
            &failed[..failed.len().min(5)]
        );
        assert!(count(&answers, 200, "") >= 1);
        assert_eq!(
            count(&answers, 200, "") + count(&answers, 429, "hashing_busy"),
            300
        );
    }
);

db_test!(
    registration_and_password_change_use_the_same_hashing_queue,
    |app| {
        let tiny = instance(
            &app,
            &[("password_hash_threads", 1), ("password_hash_queue", 1)],
        )
        .await;
        let http = reqwest::Client::new();
        let registrations = join_all((0..30).map(|i| {
        let (http, base) = (&http, tiny.base_url.clone());
        let body = json!({"email": format!("new{i}@example.com"), "name": "New", "password": "new-password"});
        async move { post(http, &base, "/api/v1/users/register", None, body).await }
    }))
    .await;
        let busy = count(&registrations, 429, "hashing_busy");
        assert!(
            busy >= 1,
            "registrations queue for the same hashing threads"
        );
        assert_eq!(count(&registrations, 201, "") + busy, 30);

        let (_, token) = tiny.register("changer@example.com", "old-password").await;
        let changes = join_all((0..30).map(|_| {
            let (http, base, token) = (&http, tiny.base_url.clone(), token.clone());
            let body = json!({"current_password": "wrong-password", "password": "new-password"});
            async move {
                let request = http
                    .patch(format!("{base}/api/v1/users/me"))
                    .bearer_auth(token)
                    .json(&body);
                answer(request).await
            }
        }))
        .await;
        let busy = count(&changes, 429, "hashing_busy");
        assert!(
            busy >= 1,
            "password checks queue for the same hashing threads"
        );
        assert_eq!(count(&changes, 422, "wrong_current_password") + busy, 30);
    }
);

async fn register_from(
    http: &reqwest::Client,
    app: &TestApp,
    client_ip: &str,
    email: &str,
) -> Answer {
    let body = json!({"email": email, "name": "Prober", "password": "probe-password"});
    let request = http
        .post(format!("{}/api/v1/users/register", app.base_url))
        .header("X-Real-IP", client_ip)
        .json(&body);
    answer(request).await
}

db_test!(
    probing_registrations_for_existing_emails_is_throttled_per_client,
    |app| {
        app.register("known@example.com", "right-password").await;
        let http = reqwest::Client::new();
        // New accounts do not count against a client.
        for i in 0..7 {
            let fresh =
                register_from(&http, &app, "203.0.113.7", &format!("fresh{i}@example.com")).await;
            assert_eq!(fresh.status, 201);
        }
        // Existing emails do, up to login_max_failures (5) per window.
        for _ in 0..5 {
            let taken = register_from(&http, &app, "203.0.113.7", "known@example.com").await;
            assert_eq!((taken.status, taken.code.as_str()), (409, "email_taken"));
        }
        let probing = register_from(&http, &app, "203.0.113.7", "Known@example.com").await;
        assert_eq!(
            (probing.status, probing.code.as_str()),
            (429, "too_many_attempts")
        );
        assert!(probing.retry_after.is_some());
        let fresh = register_from(&http, &app, "203.0.113.7", "later@example.com").await;
        assert_eq!(fresh.status, 429, "the whole address waits out the window");
        // Another client is not affected, and logins for that email are not either.
        let other = register_from(&http, &app, "198.51.100.2", "other@example.com").await;
        assert_eq!(other.status, 201);
        let login = post(
            &http,
            &app.base_url,
            "/api/v1/users/login",
            None,
            json!({"email": "known@example.com", "password": "right-password"}),
        )
        .await;
        assert_eq!(login.status, 200);
    }
);
