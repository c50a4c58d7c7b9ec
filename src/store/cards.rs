//! Saved cards.

use sqlx::FromRow;

use super::Conn;
use crate::db::{new_id, now_text};

#[derive(Debug, Clone, FromRow)]
pub struct CardRow {
    pub id: String,
    pub user_id: String,
    pub stripe_payment_method_id: String,
    pub requested_as: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub created_at: String,
}

const COLUMNS: &str = "id, user_id, stripe_payment_method_id, requested_as, brand, last4, \
     exp_month, exp_year, created_at";

pub struct NewCard<'a> {
    pub user_id: &'a str,
    pub stripe_payment_method_id: &'a str,
    pub requested_as: &'a str,
    pub brand: &'a str,
    pub last4: &'a str,
    pub exp_month: i64,
    pub exp_year: i64,
}

/// Stores the card unless the user saved it already. Returns the row and
/// whether this call created it.
pub async fn save(conn: &mut Conn, card: &NewCard<'_>) -> sqlx::Result<(CardRow, bool)> {
    let inserted = sqlx::query(
        "INSERT INTO cards (id, user_id, stripe_payment_method_id, requested_as, brand, last4, \
             exp_month, exp_year, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(card.user_id)
    .bind(card.stripe_payment_method_id)
    .bind(card.requested_as)
    .bind(card.brand)
    .bind(card.last4)
    .bind(card.exp_month)
    .bind(card.exp_year)
    .bind(now_text())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    // Whichever unique key a concurrent save won on.
    let row = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cards WHERE user_id = $1 \
         AND (stripe_payment_method_id = $2 OR requested_as = $3) ORDER BY created_at LIMIT 1"
    ))
    .bind(card.user_id)
    .bind(card.stripe_payment_method_id)
    .bind(card.requested_as)
    .fetch_optional(conn)
    .await?
    .ok_or(sqlx::Error::RowNotFound)?;
    Ok((row, inserted))
}

/// The user's card by orderpay id; another user's card is not found.
pub async fn get(conn: &mut Conn, user_id: &str, id: &str) -> sqlx::Result<Option<CardRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cards WHERE user_id = $1 AND id = $2"
    ))
    .bind(user_id)
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn by_request(
    conn: &mut Conn,
    user_id: &str,
    requested_as: &str,
) -> sqlx::Result<Option<CardRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cards WHERE user_id = $1 AND requested_as = $2"
    ))
    .bind(user_id)
    .bind(requested_as)
    .fetch_optional(conn)
    .await
}

/// Oldest first (the order they were saved), keyset-paginated on (created_at, id).
pub async fn list(
    conn: &mut Conn,
    user_id: &str,
    after: Option<&(String, String)>,
    limit: i64,
) -> sqlx::Result<(Vec<CardRow>, bool)> {
    let (after_at, after_id) = after
        .cloned()
        .unwrap_or_else(|| (String::new(), String::new()));
    let sql = format!(
        "SELECT {COLUMNS} FROM cards WHERE user_id = $1 \
         AND (created_at, id) > ($2, $3) \
         ORDER BY created_at, id LIMIT {}",
        limit + 1
    );
    let binds = [user_id.to_string(), after_at, after_id];
    super::fetch_page(conn, &sql, &binds, limit).await
}

pub async fn delete(conn: &mut Conn, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM cards WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
