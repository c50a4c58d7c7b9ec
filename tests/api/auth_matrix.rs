//! The auth matrix: every mounted route (read from Rocket's route table, so a
//! new route cannot slip past) is checked against what its declaration in
//! `orderpay::http::routes::endpoints()` says it needs.

use crate::db_test;
use crate::helpers::{api_key, bearer, Reply, TestApp};
use orderpay::auth::Scope;
use orderpay::http::openapi::Access;
use rocket::http::{Header, Method, Status};
use serde_json::json;

struct Fixtures {
    /// A customer's token and the order/user ids that are theirs.
    owner_order: String,
    owner_user: String,
    owner_token: String,
    /// Another customer, whose token must not reach the owner's resources.
    stranger: String,
    expired: String,
    revoked: String,
    revoked_key: String,
}

async fn fixtures(app: &TestApp) -> Fixtures {
    app.seed().await;
    let (owner_user, owner_token) = app.register("owner@example.com", "owner-password").await;
    let (_, stranger) = app
        .register("stranger@example.com", "stranger-password")
        .await;
    let order = app
        .send(
            Method::Post,
            "/api/v1/shop/orders",
            &[bearer(&owner_token)],
            Some(&json!({"items": [{"sku": "MAIN-2", "quantity": 1}]}).to_string()),
        )
        .await;
    let owner_order = order.body["data"]["id"].as_str().unwrap().to_string();

    let (_, revoked) = app
        .register("revoked@example.com", "revoked-password")
        .await;
    app.send(
        Method::Post,
        "/api/v1/users/logout",
        &[bearer(&revoked)],
        None,
    )
    .await;
    let (_, expired) = app
        .register("expired@example.com", "expired-password")
        .await;
    sqlx::query("UPDATE access_tokens SET expires_at = $1 WHERE token_hash = $2")
        .bind("2000-01-01T00:00:00.000000Z")
        .bind(orderpay::auth::secret_digest(&expired))
        .execute(app.pool())
        .await
        .unwrap();

    let revoked_key = app
        .key("admin,checkout,payments:callback,payments:read,refunds:write")
        .await;
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE key_hash = $2")
        .bind("2000-01-01T00:00:00.000000Z")
        .bind(orderpay::auth::secret_digest(&revoked_key))
        .execute(app.pool())
        .await
        .unwrap();
    Fixtures {
        owner_order,
        owner_user,
        owner_token,
        stranger,
        expired,
        revoked,
        revoked_key,
    }
}

/// A key holding every scope but `scope`.
async fn key_without(app: &TestApp, scope: Scope) -> String {
    let others: Vec<&str> = Scope::ALL
        .iter()
        .filter(|s| **s != scope)
        .map(|s| s.as_str())
        .collect();
    app.key(&others.join(",")).await
}

async fn call(app: &TestApp, method: Method, path: &str, headers: &[Header<'static>]) -> Reply {
    let body = matches!(method, Method::Post | Method::Patch | Method::Put).then_some("{}");
    app.send(method, path, headers, body).await
}

fn expect(reply: &Reply, status: Status, what: &str) {
    assert_eq!(reply.status, status, "{what}: {:?}", reply.body);
    assert!(
        reply.body["error"]["code"].is_string(),
        "{what}: JSON error envelope"
    );
}

db_test!(every_route_enforces_its_declared_access, |app| {
    let f = fixtures(&app).await;
    let declared = orderpay::http::routes::endpoints();
    let routes = app.routes.clone();
    assert!(routes.len() >= 15);
    for (method, template) in routes {
        let endpoint = declared
            .iter()
            .find(|e| e.method == method && e.path == template)
            .unwrap_or_else(|| panic!("{method} {template} is mounted but has no declared access"));
        // Parameters are filled with the owner's resources, so "another
        // user's resource" can be checked on the same path.
        let id = if template.contains("/orders/") {
            &f.owner_order
        } else {
            &f.owner_user
        };
        let path = template.replace("<id>", id);
        let what = |case: &str| format!("{method} {template}: {case}");

        let anonymous = call(&app, method, &path, &[]).await;
        if endpoint.access == Access::Public {
            assert!(
                !matches!(anonymous.status.code, 401 | 403),
                "{}: public routes need no credentials",
                what("anonymous")
            );
            continue;
        }
        expect(&anonymous, Status::Unauthorized, &what("no credentials"));
        let revoked_key = call(&app, method, &path, &[api_key(&f.revoked_key)]).await;
        expect(&revoked_key, Status::Unauthorized, &what("revoked key"));
        let bad_key = call(&app, method, &path, &[api_key("opk_unknown")]).await;
        if endpoint.access != Access::User {
            expect(&bad_key, Status::Unauthorized, &what("unknown key"));
        }

        match endpoint.access {
            Access::Public => unreachable!(),
            Access::ApiKey(scope) => {
                let lacking = key_without(&app, scope).await;
                expect(
                    &call(&app, method, &path, &[api_key(&lacking)]).await,
                    Status::Forbidden,
                    &what("key without the scope"),
                );
                // A user's token is not a key.
                expect(
                    &call(&app, method, &path, &[bearer(&f.stranger)]).await,
                    Status::Unauthorized,
                    &what("bearer token"),
                );
            }
            Access::UserAndApiKey(scope) => {
                let with_scope = app.key(scope.as_str()).await;
                let lacking = key_without(&app, scope).await;
                let owner = bearer(&f.owner_token);
                expect(
                    &call(&app, method, &path, &[owner.clone(), api_key(&lacking)]).await,
                    Status::Forbidden,
                    &what("owner with a key lacking the scope"),
                );
                expect(
                    &call(&app, method, &path, std::slice::from_ref(&owner)).await,
                    Status::Unauthorized,
                    &what("owner without a key"),
                );
                expect(
                    &call(&app, method, &path, &[api_key(&with_scope)]).await,
                    Status::Unauthorized,
                    &what("key without a user"),
                );
                expect(
                    &call(
                        &app,
                        method,
                        &path,
                        &[bearer(&f.expired), api_key(&with_scope)],
                    )
                    .await,
                    Status::Unauthorized,
                    &what("expired token"),
                );
                expect(
                    &call(
                        &app,
                        method,
                        &path,
                        &[bearer(&f.revoked), api_key(&with_scope)],
                    )
                    .await,
                    Status::Unauthorized,
                    &what("revoked token"),
                );
                expect(
                    &call(&app, method, &path, &[owner, api_key(&f.revoked_key)]).await,
                    Status::Unauthorized,
                    &what("revoked key"),
                );
                if template.contains("<id>") {
                    let stranger = call(
                        &app,
                        method,
                        &path,
                        &[bearer(&f.stranger), api_key(&with_scope)],
                    )
                    .await;
                    expect(
                        &stranger,
                        Status::NotFound,
                        &what("another user's resource"),
                    );
                }
            }
            Access::User | Access::UserOrAdmin => {
                expect(
                    &call(&app, method, &path, &[bearer(&f.expired)]).await,
                    Status::Unauthorized,
                    &what("expired token"),
                );
                expect(
                    &call(&app, method, &path, &[bearer(&f.revoked)]).await,
                    Status::Unauthorized,
                    &what("revoked token"),
                );
                expect(
                    &call(&app, method, &path, &[bearer("opt_forged")]).await,
                    Status::Unauthorized,
                    &what("unknown token"),
                );
                if endpoint.access == Access::UserOrAdmin {
                    let lacking = key_without(&app, Scope::Admin).await;
                    expect(
                        &call(&app, method, &path, &[api_key(&lacking)]).await,
                        Status::Forbidden,
                        &what("key without admin"),
                    );
                    if template.contains("<id>") {
                        let stranger = call(&app, method, &path, &[bearer(&f.stranger)]).await;
                        expect(
                            &stranger,
                            Status::NotFound,
                            &what("another user's resource"),
                        );
                    }
                } else {
                    let admin_only = call(&app, method, &path, &[api_key(&app.admin_key)]).await;
                    expect(
                        &admin_only,
                        Status::Unauthorized,
                        &what("a key is not a user"),
                    );
                }
            }
        }
    }
});
