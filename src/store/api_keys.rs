use sqlx::FromRow;

use super::Conn;

#[derive(Debug, Clone, FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_at: String,
    #[sqlx(try_from = "super::types::NullableText")]
    pub revoked_at: Option<String>,
}

const COLUMNS: &str = "id, name, prefix, scopes, created_at, revoked_at";

pub async fn insert(conn: &mut Conn, row: &ApiKeyRow, key_hash: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, name, prefix, key_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&row.id)
    .bind(&row.name)
    .bind(&row.prefix)
    .bind(key_hash)
    .bind(&row.scopes)
    .bind(&row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The live (not revoked) key with this hash.
pub async fn find_active_by_hash(
    conn: &mut Conn,
    key_hash: &str,
) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
    ))
    .bind(key_hash)
    .fetch_optional(conn)
    .await
}

pub async fn list(conn: &mut Conn) -> sqlx::Result<Vec<ApiKeyRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"
    ))
    .fetch_all(conn)
    .await
}

/// Returns false when no live key has this id.
pub async fn revoke(conn: &mut Conn, id: &str, at: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}
