use sqlx::FromRow;

use super::users::{self, UserRow};
use super::Conn;

pub struct NewToken<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub created_at: &'a str,
    pub expires_at: &'a str,
}

pub async fn insert(conn: &mut Conn, token: &NewToken<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO access_tokens (id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token.id)
    .bind(token.user_id)
    .bind(token.token_hash)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A live token (not revoked, not expired) and its user.
#[derive(Debug, FromRow)]
pub struct LiveToken {
    pub token_id: String,
    #[sqlx(flatten)]
    pub user: UserRow,
}

/// The live token with this hash at `now`, and its user, in one statement:
/// every request with a bearer token reads it.
pub async fn find_live(
    conn: &mut Conn,
    token_hash: &str,
    now: &str,
) -> sqlx::Result<Option<LiveToken>> {
    sqlx::query_as(&format!(
        "SELECT t.id AS token_id, {} FROM access_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2",
        users::columns_of("u")
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

pub async fn revoke(conn: &mut Conn, token_id: &str, now: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE access_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(token_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn revoke_all_for_user(conn: &mut Conn, user_id: &str, now: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE access_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes tokens that can never work again: expired, or revoked (logout,
/// password change). Returns how many went.
pub async fn purge_dead(conn: &mut Conn, now: &str) -> sqlx::Result<u64> {
    let gone =
        sqlx::query("DELETE FROM access_tokens WHERE expires_at <= $1 OR revoked_at IS NOT NULL")
            .bind(now)
            .execute(conn)
            .await?;
    Ok(gone.rows_affected())
}
