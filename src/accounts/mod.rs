//! Account operations shared by the self-service and admin user routes, and
//! the housekeeping that keeps credential tables small. It knows no HTTP: its
//! use cases answer `accounts::Error`, which `http::error` turns into statuses.

pub mod error;
pub mod housekeeping;

pub use error::{Error, Result};

use std::net::IpAddr;

use chrono::{Duration, Utc};

use crate::auth::bearer::{issue_token, IssuedToken};
use crate::auth::hash_pool::{HashError, HashPool, BUSY_RETRY_AFTER_SECS};
use crate::config::Settings;
use crate::db::{new_id, now_text, timestamp_text, DbPool};
use crate::domain::account::{check_email, check_name, check_password};
use crate::store::{self, users::UserRow};

/// What a hash that could not run means to the client: a full queue is
/// worth a retry shortly; anything else is our fault.
fn hash_error(error: HashError) -> Error {
    match error {
        HashError::Busy => Error::HashingBusy {
            retry_after_secs: BUSY_RETRY_AFTER_SECS,
        },
        HashError::Failed(cause) => Error::internal(cause),
    }
}

/// Registration answers 409 `email_taken` for an existing email (it logs the
/// new user in, so it cannot answer the same either way). To keep that from
/// enumerating accounts, each client address gets `login_max_failures`
/// registrations of existing emails per login window, counted like failed
/// logins; then every registration from it is a 429 until the window passes.
#[tracing::instrument(skip_all)]
pub async fn register(
    db: &DbPool,
    settings: &Settings,
    hashes: &HashPool,
    client: Option<IpAddr>,
    email: &str,
    name: &str,
    password: &str,
) -> Result<(UserRow, IssuedToken)> {
    check_email(email)?;
    check_name(name)?;
    check_password("password", password)?;
    let ticket = hashes.admit().map_err(hash_error)?;
    let probes = registration_probes_key(client);
    let reservation = {
        let mut conn = db.writer().acquire().await?;
        reserve_attempt(&mut conn, settings, &probes).await?
    };
    let Some(reservation) = reservation else {
        return Err(too_many_attempts(
            settings,
            "too many registrations of existing emails from this address; try again later",
        ));
    };
    let now = now_text();
    let user = UserRow {
        id: new_id(),
        email: store::users::normalize_email(email),
        name: name.trim().to_string(),
        password_hash: ticket
            .hash(password.to_string())
            .await
            .map_err(hash_error)?,
        stripe_customer_id: None,
        created_at: now.clone(),
        updated_at: now,
    };
    let mut tx = db.begin().await?;
    if !store::users::insert_if_absent(&mut tx, &user).await? {
        // The reservation stays: it counts this probe.
        return Err(Error::EmailTaken);
    }
    let token = issue_token(&mut tx, &user.id, settings.token_ttl_secs).await?;
    store::login_failures::release(&mut tx, &reservation).await?;
    tx.commit().await?;
    Ok((user, token))
}

/// The throttling key for registrations from `client`: upper case, so no
/// login (emails are lowercased) can ever count against it.
fn registration_probes_key(client: Option<IpAddr>) -> String {
    match client {
        Some(ip) => format!("REGISTER FROM {ip}"),
        None => "REGISTER FROM UNKNOWN".to_string(),
    }
}

/// Reserves one attempt for `key` in the current window: `None` when the
/// window already holds `login_max_failures`.
async fn reserve_attempt(
    conn: &mut sqlx::AnyConnection,
    settings: &Settings,
    key: &str,
) -> sqlx::Result<Option<String>> {
    let now = Utc::now();
    let window_start = timestamp_text(now - login_window(settings));
    store::login_failures::reserve(
        conn,
        key,
        &timestamp_text(now),
        &window_start,
        settings.login_max_failures,
    )
    .await
}

/// The throttling window, at most a year (a larger setting would overflow
/// the timestamp arithmetic, and means "forever" anyway).
fn login_window(settings: &Settings) -> Duration {
    const YEAR_SECS: i64 = 365 * 24 * 3600;
    Duration::seconds(
        i64::try_from(settings.login_window_secs)
            .unwrap_or(YEAR_SECS)
            .min(YEAR_SECS),
    )
}

/// One answer for an unknown email and a wrong password. Each attempt is
/// reserved (counted as a failure) before its password is checked, and too
/// many for one email within the window is a 429 without any check. No
/// database connection is held while the password is hashed.
#[tracing::instrument(skip_all)]
pub async fn login(
    db: &DbPool,
    settings: &Settings,
    hashes: &HashPool,
    email: &str,
    password: &str,
) -> Result<(UserRow, IssuedToken)> {
    let email = store::users::normalize_email(email);
    // A full queue turns the login away before it costs the database anything.
    let ticket = hashes.admit().map_err(hash_error)?;
    let user = {
        let mut conn = db.writer().acquire().await?;
        if reserve_attempt(&mut conn, settings, &email)
            .await?
            .is_none()
        {
            return Err(too_many_attempts(
                settings,
                "too many failed logins for this email; try again later",
            ));
        }
        store::users::find_by_email(&mut conn, &email).await?
    };
    let ok = ticket
        .verify(
            password.to_string(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await
        .map_err(hash_error)?;
    let Some(user) = user.filter(|_| ok) else {
        // The reservation stays: it is this failure.
        return Err(Error::InvalidCredentials);
    };
    let window_start = timestamp_text(Utc::now() - login_window(settings));
    let mut conn = db.writer().acquire().await?;
    store::login_failures::clear(&mut conn, &email, &window_start).await?;
    let token = issue_token(&mut conn, &user.id, settings.token_ttl_secs).await?;
    Ok((user, token))
}

fn too_many_attempts(settings: &Settings, message: &'static str) -> Error {
    Error::TooManyAttempts {
        message,
        retry_after_secs: settings.login_window_secs,
    }
}

#[derive(Debug, Default)]
pub struct Changes<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password: Option<&'a str>,
}

/// Applies `changes`; a new password revokes every token the user has, so a
/// stolen session dies with the old password.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn update(
    db: &DbPool,
    hashes: &HashPool,
    mut user: UserRow,
    changes: Changes<'_>,
) -> Result<UserRow> {
    if let Some(name) = changes.name {
        check_name(name)?;
        user.name = name.trim().to_string();
    }
    if let Some(email) = changes.email {
        check_email(email)?;
        user.email = store::users::normalize_email(email);
    }
    if let Some(password) = changes.password {
        check_password("password", password)?;
        user.password_hash = hashes
            .hash(password.to_string())
            .await
            .map_err(hash_error)?;
    }
    user.updated_at = now_text();
    let mut tx = db.begin().await?;
    if changes.password.is_some() {
        store::tokens::revoke_all_for_user(&mut tx, &user.id, &user.updated_at).await?;
    }
    // Last in the transaction: a unique violation ends it (PostgreSQL).
    if !store::users::update(&mut tx, &user).await? {
        return Err(Error::EmailTaken);
    }
    tx.commit().await?;
    Ok(user)
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn check_current_password(
    hashes: &HashPool,
    user: &UserRow,
    current: Option<&str>,
) -> Result<()> {
    let Some(current) = current else {
        return Err(Error::InvalidInput {
            code: "current_password_required",
            field: "current_password",
            message: "is required to change the password".into(),
        });
    };
    let matches = hashes
        .verify(current.to_string(), Some(user.password_hash.clone()))
        .await
        .map_err(hash_error)?;
    if !matches {
        return Err(Error::InvalidInput {
            code: "wrong_current_password",
            field: "current_password",
            message: "does not match".into(),
        });
    }
    Ok(())
}
