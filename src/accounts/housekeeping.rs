//! Keeps credential tables small: expired and revoked access tokens and
//! login failures older than the throttling window are of no use to anyone,
//! and the token table is read on every authenticated request.

use std::time::Duration;

use crate::db::{now_text, timestamp_text, DbPool};
use crate::store;

pub const INTERVAL: Duration = Duration::from_secs(60 * 60);

/// What one purge removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub tokens: u64,
    pub login_failures: u64,
}

pub async fn purge(db: &DbPool, login_window_secs: u64) -> sqlx::Result<Purged> {
    let mut conn = db.writer().acquire().await?;
    let tokens = store::tokens::purge_dead(&mut conn, &now_text()).await?;
    let window = chrono::Duration::seconds(
        i64::try_from(login_window_secs)
            .unwrap_or(i64::MAX / 1000)
            .min(365 * 24 * 3600),
    );
    let before = timestamp_text(chrono::Utc::now() - window);
    let login_failures = store::login_failures::purge_before(&mut conn, &before).await?;
    Ok(Purged {
        tokens,
        login_failures,
    })
}

/// Purges every `INTERVAL` until `shutdown` completes, the first one interval after launch.
pub async fn run_periodically(
    db: DbPool,
    login_window_secs: u64,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(INTERVAL) => {}
        }
        match purge(&db, login_window_secs).await {
            Ok(purged) if purged != Purged::default() => tracing::info!(?purged, "housekeeping"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "housekeeping failed"),
        }
    }
}
