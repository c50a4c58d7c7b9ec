use crate::db_test;
use crate::helpers::{bearer, test_figment, Reply, TestApp};
use rocket::http::{Header, Method, Status};
use serde_json::json;

async fn as_user(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> Reply {
    let body = body.map(|b| b.to_string());
    app.send(method, path, &[bearer(token)], body.as_deref())
        .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Reply {
    app.post(
        "/api/v1/users/login",
        None,
        &json!({"email": email, "password": password}).to_string(),
    )
    .await
}

db_test!(register_login_me_and_logout, |app| {
    let reply = app
        .post(
            "/api/v1/users/register",
            None,
            &json!({"email": "Ada@Example.com", "name": " Ada ", "password": "analytical-engine"})
                .to_string(),
        )
        .await;
    assert_eq!(reply.status, Status::Created);
    let data = &reply.body["data"];
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["user"]["email"], "ada@example.com");
    assert_eq!(data["user"]["name"], "Ada");
    assert_eq!(data["user"]["stripe_customer_id"], json!(null));
    assert!(data["expires_at"].as_str().unwrap() > "2026");
    assert!(data["user"].get("password_hash").is_none());
    let first_token = data["access_token"].as_str().unwrap().to_string();
    assert!(
        first_token.len() >= 64,
        "at least 128 bits of randomness, hex"
    );

    let logged_in = login(&app, "ADA@example.com", "analytical-engine").await;
    assert_eq!(logged_in.status, Status::Ok);
    let token = logged_in.body["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(token, first_token);

    let me = as_user(&app, Method::Get, "/api/v1/users/me", &token, None).await;
    assert_eq!(me.status, Status::Ok);
    assert_eq!(me.body["data"]["email"], "ada@example.com");

    let out = as_user(&app, Method::Post, "/api/v1/users/logout", &token, None).await;
    assert_eq!(out.status, Status::Ok);
    let after = as_user(&app, Method::Get, "/api/v1/users/me", &token, None).await;
    assert_eq!(after.status, Status::Unauthorized);
    assert_eq!(after.code(), "invalid_token");
    // Logging out one session leaves the others alone.
    let other = as_user(&app, Method::Get, "/api/v1/users/me", &first_token, None).await;
    assert_eq!(other.status, Status::Ok);

    let missing = app.get("/api/v1/users/me", None).await;
    assert_eq!(
        (missing.status, missing.code()),
        (Status::Unauthorized, "missing_token")
    );
    let garbage = app
        .send(
            Method::Get,
            "/api/v1/users/me",
            &[Header::new("Authorization", "Basic abc")],
            None,
        )
        .await;
    assert_eq!(garbage.status, Status::Unauthorized);
});

db_test!(patch_and_delete_me, |app| {
    let (_, token) = app.register("grace@example.com", "cobol-forever").await;
    let renamed = as_user(
        &app,
        Method::Patch,
        "/api/v1/users/me",
        &token,
        Some(json!({"name": "Grace Hopper"})),
    )
    .await;
    assert_eq!(renamed.status, Status::Ok);
    assert_eq!(renamed.body["data"]["name"], "Grace Hopper");
    let array = as_user(
        &app,
        Method::Patch,
        "/api/v1/users/me",
        &token,
        Some(json!(["Grace"])),
    )
    .await;
    assert_eq!(
        (array.status, array.code()),
        (Status::UnprocessableEntity, "invalid_body")
    );
    let not_allowed = as_user(
        &app,
        Method::Patch,
        "/api/v1/users/me",
        &token,
        Some(json!({"stripe_customer_id": "cus_x"})),
    )
    .await;
    assert_eq!(
        not_allowed.status,
        Status::UnprocessableEntity,
        "users never set their Stripe customer"
    );
    let no_current = as_user(
        &app,
        Method::Patch,
        "/api/v1/users/me",
        &token,
        Some(json!({"password": "new-password-1"})),
    )
    .await;
    assert_eq!(
        (no_current.status, no_current.field()),
        (Status::UnprocessableEntity, "current_password")
    );
    let wrong_current = as_user(
        &app,
        Method::Patch,
        "/api/v1/users/me",
        &token,
        Some(json!({"password": "new-password-1", "current_password": "nope-nope"})),
    )
    .await;
    assert_eq!(wrong_current.code(), "wrong_current_password");

    let deleted = as_user(&app, Method::Delete, "/api/v1/users/me", &token, None).await;
    assert_eq!(deleted.status, Status::Ok);
    let after = as_user(&app, Method::Get, "/api/v1/users/me", &token, None).await;
    assert_eq!(
        after.status,
        Status::Unauthorized,
        "a deleted user's token stops working"
    );
    assert_eq!(
        login(&app, "grace@example.com", "cobol-forever")
            .await
            .status,
        Status::Unauthorized
    );
});

db_test!(a_password_change_ends_every_session, |app| {
    let (_, token) = app.register("linus@example.com", "first-password").await;
    let second = login(&app, "linus@example.com", "first-password")
        .await
        .body["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let changed = as_user(
        &app,
        Method::Patch,
        "/api/v1/users/me",
        &token,
        Some(json!({"password": "second-password", "current_password": "first-password"})),
    )
    .await;
    assert_eq!(changed.status, Status::Ok, "{:?}", changed.body);
    for old in [&token, &second] {
        assert_eq!(
            as_user(&app, Method::Get, "/api/v1/users/me", old, None)
                .await
                .status,
            Status::Unauthorized
        );
    }
    assert_eq!(
        login(&app, "linus@example.com", "first-password")
            .await
            .status,
        Status::Unauthorized
    );
    assert_eq!(
        login(&app, "linus@example.com", "second-password")
            .await
            .status,
        Status::Ok
    );
});

db_test!(expired_tokens_are_refused, |app| {
    let url = app.database_url.clone();
    let short = TestApp::start_with(
        app.backend,
        &url,
        test_figment(&url).merge(("token_ttl_secs", 0)),
    )
    .await;
    let (_, token) = short.register("brief@example.com", "short-lived").await;
    let reply = as_user(&short, Method::Get, "/api/v1/users/me", &token, None).await;
    assert_eq!(
        (reply.status, reply.code()),
        (Status::Unauthorized, "invalid_token")
    );
    // The same account on an app with the default lifetime gets a working token.
    let token = login(&app, "brief@example.com", "short-lived").await.body["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        as_user(&app, Method::Get, "/api/v1/users/me", &token, None)
            .await
            .status,
        Status::Ok
    );
});

db_test!(duplicate_emails_are_409_whatever_the_case, |app| {
    app.register("dup@example.com", "password-1").await;
    let reply = app
        .post(
            "/api/v1/users/register",
            None,
            &json!({"email": "DUP@Example.COM", "name": "Dup", "password": "password-2"})
                .to_string(),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (Status::Conflict, "email_taken")
    );
    let (_, token) = app.register("other@example.com", "password-3").await;
    let taken = as_user(
        &app,
        Method::Patch,
        "/api/v1/users/me",
        &token,
        Some(json!({"email": "Dup@example.com"})),
    )
    .await;
    assert_eq!(
        (taken.status, taken.code()),
        (Status::Conflict, "email_taken")
    );
});

db_test!(registration_input_is_validated, |app| {
    let cases = [
        (
            json!({"email": "not-an-email", "name": "X", "password": "long-enough"}),
            "email",
        ),
        (
            json!({"email": "x@example.com", "name": "", "password": "long-enough"}),
            "name",
        ),
        (
            json!({"email": "x@example.com", "name": "X".repeat(101), "password": "long-enough"}),
            "name",
        ),
        (
            json!({"email": "x@example.com", "name": "X", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "x@example.com", "name": "X", "password": "p".repeat(129)}),
            "password",
        ),
        (
            json!({"email": format!("{}@example.com", "x".repeat(250)), "name": "X", "password": "long-enough"}),
            "email",
        ),
        (json!({"email": "x@example.com", "name": "X"}), "body"),
    ];
    for (body, field) in cases {
        let reply = app
            .post("/api/v1/users/register", None, &body.to_string())
            .await;
        assert_eq!(reply.status, Status::UnprocessableEntity, "{body}");
        assert!(
            reply.field() == field || reply.body["message"].as_str().unwrap().contains("password"),
            "{body}: {:?}",
            reply.body
        );
    }
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(count, 0);
});

db_test!(login_failures_look_the_same_and_are_throttled, |app| {
    app.register("target@example.com", "right-password").await;
    let unknown = login(&app, "nobody@example.com", "right-password").await;
    let wrong = login(&app, "target@example.com", "wrong-password").await;
    assert_eq!(unknown.status, Status::Unauthorized);
    assert_eq!(unknown.body, wrong.body, "no hint whether the email exists");

    for _ in 0..4 {
        assert_eq!(
            login(&app, "Target@example.com", "wrong-password")
                .await
                .status,
            Status::Unauthorized
        );
    }
    let locked = login(&app, "target@example.com", "right-password").await;
    assert_eq!(
        (locked.status, locked.code()),
        (Status::TooManyRequests, "too_many_attempts")
    );
    // Throttling is per email: others log in normally.
    app.register("bystander@example.com", "right-password")
        .await;
    assert_eq!(
        login(&app, "bystander@example.com", "right-password")
            .await
            .status,
        Status::Ok
    );
});

db_test!(users_cannot_reach_each_other_but_admins_can, |app| {
    let (a_id, a_token) = app.register("a@example.com", "password-a").await;
    let (b_id, b_token) = app.register("b@example.com", "password-b").await;
    let _ = a_id;
    // The admin routes want an admin key: a user's token is not one.
    for method in [Method::Get, Method::Patch, Method::Delete] {
        let body = (method == Method::Patch).then(|| json!({"name": "Hacked"}));
        let reply = as_user(
            &app,
            method,
            &format!("/api/v1/users/{b_id}"),
            &a_token,
            body,
        )
        .await;
        assert_eq!(reply.status, Status::Unauthorized, "{method}");
    }
    let b_me = as_user(&app, Method::Get, "/api/v1/users/me", &b_token, None).await;
    assert_eq!(b_me.body["data"]["name"], "Test Customer");

    let admin = [crate::helpers::api_key(&app.admin_key)];
    let listed = app
        .send(Method::Get, "/api/v1/users?limit=1", &admin, None)
        .await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["pagination"]["has_more"], true);
    let got = app
        .send(Method::Get, &format!("/api/v1/users/{b_id}"), &admin, None)
        .await;
    assert_eq!(got.body["data"]["email"], "b@example.com");
    let patched = app
        .send(
            Method::Patch,
            &format!("/api/v1/users/{b_id}"),
            &admin,
            Some(&json!({"password": "reset-by-admin"}).to_string()),
        )
        .await;
    assert_eq!(patched.status, Status::Ok);
    assert_eq!(
        as_user(&app, Method::Get, "/api/v1/users/me", &b_token, None)
            .await
            .status,
        Status::Unauthorized
    );
    assert_eq!(
        login(&app, "b@example.com", "reset-by-admin").await.status,
        Status::Ok
    );
    let deleted = app
        .send(
            Method::Delete,
            &format!("/api/v1/users/{b_id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(deleted.status, Status::Ok);
    let gone = app
        .send(Method::Get, &format!("/api/v1/users/{b_id}"), &admin, None)
        .await;
    assert_eq!(gone.status, Status::NotFound);
});

db_test!(housekeeping_purges_dead_tokens_and_stale_failures, |app| {
    let (_, first) = app.register("keeper@example.com", "keeper-password").await;
    let login = json!({"email": "keeper@example.com", "password": "keeper-password"}).to_string();
    let second = app.post("/api/v1/users/login", None, &login).await.body["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let out = app
        .send(
            Method::Post,
            "/api/v1/users/logout",
            &[bearer(&first)],
            None,
        )
        .await;
    assert_eq!(out.status, Status::Ok);
    let wrong = json!({"email": "keeper@example.com", "password": "wrong-password"}).to_string();
    app.post("/api/v1/users/login", None, &wrong).await;
    sqlx::query("INSERT INTO login_failures (id, email, at) VALUES ('old', 'x@example.com', '2000-01-01T00:00:00.000000Z')")
        .execute(app.pool())
        .await
        .unwrap();

    let db = orderpay::db::DbPool::shared(app.pool().clone());
    let purged = orderpay::accounts::housekeeping::purge(&db, 900)
        .await
        .unwrap();
    assert_eq!(
        (purged.tokens, purged.login_failures),
        (1, 1),
        "the logged-out token and the old failure; the live token and the fresh failure stay"
    );
    let me = app
        .send(Method::Get, "/api/v1/users/me", &[bearer(&second)], None)
        .await;
    assert_eq!(me.status, Status::Ok);
    let (failures,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM login_failures")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(failures, 1);
});
