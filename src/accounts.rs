//! Account operations shared by the self-service and admin user routes.

use chrono::{Duration, Utc};
use rocket::http::Status;
use serde_json::json;

use crate::auth::bearer::{issue_token, IssuedToken};
use crate::auth::password::{burn_verification, hash_password, verify_password};
use crate::config::Settings;
use crate::db::{new_id, now_text, timestamp_text, DbPool};
use crate::domain::account::{check_email, check_name, check_password, FieldProblem};
use crate::error::{ApiError, ApiResult};
use crate::store::{self, users::UserRow};

pub fn problem(p: FieldProblem) -> ApiError {
    ApiError::invalid_field(p.1, p.0, p.2)
}

/// Argon2 is CPU-heavy by design: keep it off the async workers.
pub async fn hash(password: String) -> ApiResult<String> {
    rocket::tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

async fn verify(password: String, stored: Option<String>) -> ApiResult<bool> {
    rocket::tokio::task::spawn_blocking(move || match stored {
        Some(hash) => verify_password(&password, &hash),
        None => {
            burn_verification(&password);
            false
        }
    })
    .await
    .map_err(ApiError::internal)
}

fn email_taken() -> ApiError {
    ApiError::conflict("email_taken", "an account with this email already exists")
        .with_details(json!({ "field": "email" }))
}

pub async fn register(
    db: &DbPool,
    settings: &Settings,
    email: &str,
    name: &str,
    password: &str,
) -> ApiResult<(UserRow, IssuedToken)> {
    check_email(email).map_err(problem)?;
    check_name(name).map_err(problem)?;
    check_password("password", password).map_err(problem)?;
    let now = now_text();
    let user = UserRow {
        id: new_id(),
        email: store::users::normalize_email(email),
        name: name.trim().to_string(),
        password_hash: hash(password.to_string()).await?,
        stripe_customer_id: None,
        created_at: now.clone(),
        updated_at: now,
    };
    let mut tx = db.begin().await?;
    if !store::users::insert_if_absent(&mut tx, &user).await? {
        return Err(email_taken());
    }
    let token = issue_token(&mut tx, &user.id, settings.token_ttl_secs).await?;
    tx.commit().await?;
    Ok((user, token))
}

/// One answer for an unknown email and a wrong password; too many failures
/// for one email within the window is a 429 before the password is even checked.
pub async fn login(
    db: &DbPool,
    settings: &Settings,
    email: &str,
    password: &str,
) -> ApiResult<(UserRow, IssuedToken)> {
    let email = store::users::normalize_email(email);
    let now = Utc::now();
    let window_start = timestamp_text(now - Duration::seconds(settings.login_window_secs as i64));
    let mut conn = db.acquire().await?;
    let failures = store::login_failures::count_since(&mut conn, &email, &window_start).await?;
    if failures >= i64::from(settings.login_max_failures) {
        return Err(ApiError::new(
            Status::TooManyRequests,
            "too_many_attempts",
            "too many failed logins for this email; try again later",
        )
        .with_details(json!({ "retry_after_secs": settings.login_window_secs })));
    }
    let user = store::users::find_by_email(&mut conn, &email).await?;
    let ok = verify(
        password.to_string(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let Some(user) = user.filter(|_| ok) else {
        store::login_failures::record(&mut conn, &email, &timestamp_text(now)).await?;
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "the email or password is incorrect",
        ));
    };
    store::login_failures::clear(&mut conn, &email, &window_start).await?;
    let token = issue_token(&mut conn, &user.id, settings.token_ttl_secs).await?;
    Ok((user, token))
}

#[derive(Debug, Default)]
pub struct Changes<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password: Option<&'a str>,
}

/// Applies `changes`; a new password revokes every token the user has, so a
/// stolen session dies with the old password.
pub async fn update(db: &DbPool, mut user: UserRow, changes: Changes<'_>) -> ApiResult<UserRow> {
    if let Some(name) = changes.name {
        check_name(name).map_err(problem)?;
        user.name = name.trim().to_string();
    }
    if let Some(email) = changes.email {
        check_email(email).map_err(problem)?;
        user.email = store::users::normalize_email(email);
    }
    if let Some(password) = changes.password {
        check_password("password", password).map_err(problem)?;
        user.password_hash = hash(password.to_string()).await?;
    }
    user.updated_at = now_text();
    let mut tx = db.begin().await?;
    if changes.password.is_some() {
        store::tokens::revoke_all_for_user(&mut tx, &user.id, &user.updated_at).await?;
    }
    // Last in the transaction: a unique violation ends it (PostgreSQL).
    if !store::users::update(&mut tx, &user).await? {
        return Err(email_taken());
    }
    tx.commit().await?;
    Ok(user)
}

pub async fn check_current_password(user: &UserRow, current: Option<&str>) -> ApiResult<()> {
    let Some(current) = current else {
        return Err(ApiError::invalid_field(
            "current_password_required",
            "current_password",
            "is required to change the password",
        ));
    };
    if !verify(current.to_string(), Some(user.password_hash.clone())).await? {
        return Err(ApiError::invalid_field(
            "wrong_current_password",
            "current_password",
            "does not match",
        ));
    }
    Ok(())
}
