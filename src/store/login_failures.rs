use super::Conn;
use crate::db::new_id;

pub async fn record(conn: &mut Conn, email: &str, at: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO login_failures (id, email, at) VALUES ($1, $2, $3)")
        .bind(new_id())
        .bind(email)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Failures for `email` since `since`.
pub async fn count_since(conn: &mut Conn, email: &str, since: &str) -> sqlx::Result<i64> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at > $2")
            .bind(email)
            .bind(since)
            .fetch_one(conn)
            .await?;
    Ok(count)
}

/// A successful login clears the slate (and old rows are pruned on the way).
pub async fn clear(conn: &mut Conn, email: &str, older_than: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE email = $1 OR at < $2")
        .bind(email)
        .bind(older_than)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes failures older than the throttling window: they no longer count.
pub async fn purge_before(conn: &mut Conn, before: &str) -> sqlx::Result<u64> {
    let gone = sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(gone.rows_affected())
}
