use sqlx::FromRow;

use super::{nullable, Conn};

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    #[sqlx(try_from = "super::types::NullableText")]
    pub stripe_customer_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, email, name, password_hash, stripe_customer_id, created_at, updated_at";

/// `COLUMNS` of the table named `alias` in a join.
pub fn columns_of(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Emails are compared lowercased; callers pass them as typed.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub async fn find_by_email(conn: &mut Conn, email: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(normalize_email(email))
        .fetch_optional(conn)
        .await
}

/// Inserts unless the email is taken; returns whether a row was created.
pub async fn insert_if_absent(conn: &mut Conn, user: &UserRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, stripe_customer_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7) ON CONFLICT (email) DO NOTHING",
    )
    .bind(&user.id)
    .bind(normalize_email(&user.email))
    .bind(&user.name)
    .bind(&user.password_hash)
    .bind(nullable(user.stripe_customer_id.as_deref()))
    .bind(&user.created_at)
    .bind(&user.updated_at)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn get(conn: &mut Conn, id: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Oldest first, keyset-paginated on (created_at, id).
pub async fn list(
    conn: &mut Conn,
    after: Option<(&str, &str)>,
    limit: i64,
) -> sqlx::Result<(Vec<UserRow>, bool)> {
    let (filter, binds) = match after {
        Some((created_at, id)) => (
            "WHERE (created_at, id) > ($1, $2)",
            vec![created_at.to_string(), id.to_string()],
        ),
        None => ("", vec![]),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM users {filter} ORDER BY created_at, id LIMIT {}",
        limit + 1
    );
    super::fetch_page(conn, &sql, &binds, limit).await
}

/// Writes name, email and password hash as given. `Ok(false)` when the email
/// belongs to another user (the unique constraint, so two concurrent changes
/// cannot both take it).
pub async fn update(conn: &mut Conn, user: &UserRow) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE users SET email = $1, name = $2, password_hash = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(normalize_email(&user.email))
    .bind(&user.name)
    .bind(&user.password_hash)
    .bind(&user.updated_at)
    .bind(&user.id)
    .execute(conn)
    .await;
    match result {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes the user; their tokens go with them (CASCADE), their orders stay.
pub async fn delete(conn: &mut Conn, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the user's Stripe customer unless one is already stored; returns
/// the one that is stored now.
pub async fn set_stripe_customer(
    conn: &mut Conn,
    id: &str,
    customer_id: &str,
) -> sqlx::Result<Option<String>> {
    // First writer wins, and the statement answers which customer won.
    let stored: Option<(String,)> = sqlx::query_as(
        "UPDATE users SET stripe_customer_id = COALESCE(stripe_customer_id, $1) WHERE id = $2 \
         RETURNING stripe_customer_id",
    )
    .bind(customer_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(stored.map(|(customer,)| customer))
}

/// The generation of the key the user's Stripe customer is created with.
pub async fn customer_key_generation(conn: &mut Conn, user_id: &str) -> sqlx::Result<i64> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT stripe_customer_key_gen FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map_or(0, |(generation,)| generation))
}

/// Abandons key generation `seen` (its create had no known outcome).
/// Conditional, so concurrent failures move it on once.
pub async fn abandon_customer_key(conn: &mut Conn, user_id: &str, seen: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET stripe_customer_key_gen = stripe_customer_key_gen + 1 \
         WHERE id = $1 AND stripe_customer_key_gen = $2",
    )
    .bind(user_id)
    .bind(seen)
    .execute(conn)
    .await?;
    Ok(())
}
