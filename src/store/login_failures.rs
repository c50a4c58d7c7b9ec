//! Failed logins per (normalized) email, and the per-email lock that makes
//! "count, then add one" atomic across connections and instances.

use super::Conn;
use crate::db::new_id;

/// Reserves one attempt for `email` (or another throttling key) at `at`,
/// unless `max` attempts already happened after `since`: returns the
/// reservation's id if it did. The reservation is
/// written as a failure before the password is checked, so an attempt that
/// never reports back (crash, client gone) still counts; a successful login
/// clears it with [`clear`].
///
/// Runs in its own transaction, under the email's row in `login_throttles`,
/// so two logins can never both read "4 of 5" and both go on.
pub async fn reserve(
    conn: &mut Conn,
    email: &str,
    at: &str,
    since: &str,
    max: u32,
) -> sqlx::Result<Option<String>> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    // The upsert takes the lock whether or not the row existed.
    sqlx::query(
        "INSERT INTO login_throttles (email) VALUES ($1) \
         ON CONFLICT (email) DO UPDATE SET email = excluded.email",
    )
    .bind(email)
    .execute(&mut *tx)
    .await?;
    // A statement after the lock: on PostgreSQL it sees every reservation
    // committed by whoever held the lock before.
    let id = new_id();
    let reserved = sqlx::query(
        "INSERT INTO login_failures (id, email, at) \
         SELECT $1, $2, $3 \
         WHERE (SELECT COUNT(*) FROM login_failures WHERE email = $2 AND at > $4) < $5",
    )
    .bind(&id)
    .bind(email)
    .bind(at)
    .bind(since)
    .bind(i64::from(max))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((reserved.rows_affected() == 1).then_some(id))
}

/// Gives back one reservation: the attempt turned out not to count.
pub async fn release(conn: &mut Conn, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
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

/// Deletes failures older than the throttling window (they no longer count)
/// and the locks of emails left without any; returns the failures deleted.
pub async fn purge_before(conn: &mut Conn, before: &str) -> sqlx::Result<u64> {
    let gone = sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "DELETE FROM login_throttles \
         WHERE NOT EXISTS (SELECT 1 FROM login_failures f WHERE f.email = login_throttles.email)",
    )
    .execute(&mut *conn)
    .await?;
    Ok(gone.rows_affected())
}
