//! The database: one `AnyPool` that is SQLite or PostgreSQL depending on the
//! URL, exposed to Rocket through rocket_db_pools. The pool is our own type
//! so every SQLite connection gets WAL, foreign keys and a busy timeout.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rocket::figment::Figment;
use rocket_db_pools::{Config, Database};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions, Executor};
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

mod order_locks;
pub use order_locks::{OrderLockGuard, OrderLocks};

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

#[derive(Database)]
#[database("orderpay")]
pub struct Db(DbPool);

/// The pools orderpay uses. Reads take any connection of `pool`; writes take
/// the writer (`writer()`, or `begin` for a transaction). On PostgreSQL the
/// writer is the same pool. On SQLite, which lets one connection write at a
/// time, it is a separate pool of one connection: concurrent writes queue for
/// it in the process, in order, instead of each spinning on the file lock
/// (`busy_timeout`, which sleeps in growing steps and lets late comers win);
/// and the readers refuse to write (`query_only`), so a write sent to one by
/// mistake fails in the tests instead of queueing on the lock.
///
/// Background work that must not be cut off by the pool closing (an inbox
/// worker between its claim and writing the outcomes) holds `keep_open`
/// while it runs; closing waits for it.
#[derive(Clone)]
pub struct DbPool {
    pool: AnyPool,
    writer: AnyPool,
    open: Arc<RwLock<()>>,
    /// On SQLite only (see `order_lock_in_process`).
    order_locks: Option<OrderLocks>,
}

impl std::ops::Deref for DbPool {
    type Target = AnyPool;
    fn deref(&self) -> &AnyPool {
        &self.pool
    }
}

impl DbPool {
    /// One pool for reads and writes (PostgreSQL, or a pool made elsewhere).
    pub fn shared(pool: AnyPool) -> Self {
        DbPool {
            writer: pool.clone(),
            pool,
            open: Arc::default(),
            order_locks: None,
        }
    }

    /// Keeps the pool open until the guard is dropped: `close` waits for
    /// every guard. Taken for a unit of work that would otherwise leave
    /// something half-done (claimed inbox events without their outcome stay
    /// leased for `lease_secs`). Waits while the pool is closing.
    pub async fn keep_open(&self) -> OwnedRwLockReadGuard<()> {
        Arc::clone(&self.open).read_owned().await
    }

    /// The pool transactions and the webhook inbox's writes use.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// On SQLite, the order's lock in this process, for work that must keep
    /// the order locked across a call to Stripe: the database's lock on an
    /// order there is the one writer, and holding it while Stripe answers
    /// would stop every write, webhook intake included. The work holds this
    /// while it waits and takes the writer only to write. `None` on
    /// PostgreSQL (and on a shared pool), where the order's row lock stops
    /// only that order and several instances share the database.
    pub async fn order_lock_in_process(&self, order_id: &str) -> Option<OrderLockGuard> {
        match &self.order_locks {
            Some(locks) => Some(locks.lock(order_id).await),
            None => None,
        }
    }

    /// A transaction on the writer. Shadows `AnyPool::begin`, so every use
    /// case's transaction queues for SQLite's one writer. A transaction must
    /// not begin another before it ends: on SQLite the second would wait for
    /// the first forever (until the pool's acquire timeout).
    pub async fn begin(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
        self.writer.begin().await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database configuration: {0}")]
    Config(String),
    #[error("database connection: {0}")]
    Connect(#[from] sqlx::Error),
}

#[rocket::async_trait]
impl rocket_db_pools::Pool for DbPool {
    type Connection = sqlx::pool::PoolConnection<sqlx::Any>;
    type Error = DbError;

    async fn init(figment: &Figment) -> Result<Self, DbError> {
        let config: Config = figment
            .extract()
            .map_err(|e| DbError::Config(e.to_string()))?;
        let timeout = Duration::from_secs(config.connect_timeout);
        if !is_sqlite_url(&config.url) {
            let pool = connect(&config.url, config.max_connections as u32, timeout).await?;
            return Ok(DbPool::shared(pool));
        }
        let pool = connect_readers(&config.url, config.max_connections as u32, timeout).await?;
        let writer = connect(&config.url, 1, timeout).await?;
        Ok(DbPool {
            pool,
            writer,
            open: Arc::default(),
            order_locks: Some(OrderLocks::default()),
        })
    }

    async fn get(&self) -> Result<Self::Connection, DbError> {
        Ok(self.pool.acquire().await?)
    }

    async fn close(&self) {
        // Work holding the pool open finishes first (Rocket bounds the whole
        // shutdown by its grace and mercy periods).
        let _closing = self.open.write().await;
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// The database, for request guards that look credentials up.
pub async fn from_request<'r>(
    req: &'r rocket::Request<'_>,
) -> Result<&'r Db, crate::http::error::ApiError> {
    match req.guard::<&Db>().await {
        rocket::outcome::Outcome::Success(db) => Ok(db),
        _ => Err(crate::http::error::ApiError::unavailable(
            "database_unavailable",
            "the database is unavailable",
        )),
    }
}

pub fn is_sqlite_url(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Opens a pool for `url`, creating the SQLite file and its folder when needed.
pub async fn connect(
    url: &str,
    max_connections: u32,
    timeout: Duration,
) -> Result<AnyPool, DbError> {
    open(url, max_connections, timeout, Access::ReadWrite).await
}

/// A SQLite pool whose connections refuse to write (`PRAGMA query_only`): a
/// write that would take the file's lock beside the writer connection fails
/// at once, in tests as in production, instead of sleeping in
/// `busy_timeout` until the writer lets go.
async fn connect_readers(
    url: &str,
    max_connections: u32,
    timeout: Duration,
) -> Result<AnyPool, DbError> {
    open(url, max_connections, timeout, Access::ReadOnly).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

async fn open(
    url: &str,
    max_connections: u32,
    timeout: Duration,
    access: Access,
) -> Result<AnyPool, DbError> {
    sqlx::any::install_default_drivers();
    if is_sqlite_url(url) {
        create_sqlite_folder(url)?;
    }
    // Statements are logged at TRACE only (target `sqlx::query`: the SQL text,
    // never the bound values), so the default filters print none; the
    // benchmark turns them on to count statements per checkout.
    let options = AnyConnectOptions::from_str(url)
        .map_err(|e| DbError::Config(format!("invalid database URL: {e}")))?
        .log_statements(log::LevelFilter::Trace)
        .log_slow_statements(log::LevelFilter::Off, Duration::from_secs(1));
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(timeout)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if conn.backend_name() == "SQLite" {
                    // WAL lets readers run beside the single writer; NORMAL is
                    // durable across application crashes; the busy timeout makes
                    // concurrent writers queue instead of failing at once.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                    )
                    .await?;
                    if access == Access::ReadOnly {
                        conn.execute("PRAGMA query_only = ON").await?;
                    }
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// `sqlite://data/orderpay.db?mode=rwc` -> makes sure `data/` exists.
fn create_sqlite_folder(url: &str) -> Result<(), DbError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbError::Config(format!("cannot create {}: {e}", parent.display())))?;
        }
    }
    Ok(())
}

pub async fn migrate(pool: &AnyPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await?;
    leave_room_for_leases(pool).await?;
    Ok(())
}

/// PostgreSQL: inbox rows are written with room left on their page, so the
/// lease a worker takes on an event (which changes no indexed column) is a
/// HOT update: a new row version on the same page and no index entries. A
/// full page moves the new version elsewhere and indexes it three times.
/// Not a migration because SQLite has no such setting; checked first, so a
/// start does not take the table's lock when it is already set.
async fn leave_room_for_leases(pool: &AnyPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    if conn.backend_name() != "PostgreSQL" {
        return Ok(());
    }
    // A count, not a boolean: sqlx's `Any` driver cannot decode PostgreSQL's bool.
    let (set,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_class \
         WHERE oid = 'webhook_events'::regclass AND 'fillfactor=60' = ANY(reloptions)",
    )
    .fetch_one(&mut *conn)
    .await?;
    if set == 0 {
        conn.execute("ALTER TABLE webhook_events SET (fillfactor = 60)")
            .await?;
    }
    Ok(())
}

/// The current time as stored: fixed-width RFC 3339 UTC, so text order is time order.
pub fn now_text() -> String {
    timestamp_text(chrono::Utc::now())
}

pub fn timestamp_text(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether a database error means the database cannot be reached now (a
/// retry may succeed) rather than a query orderpay got wrong.
pub fn is_outage(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
    )
}

/// What a caller is told of a database failure: that the database is
/// unavailable (worth a retry), or nothing of the cause.
pub fn failure_message(error: &sqlx::Error) -> &'static str {
    if is_outage(error) {
        "the database is unavailable"
    } else {
        "internal server error"
    }
}

/// Logs a database failure where it first becomes one of orderpay's own
/// errors, so it is logged once whichever layer turns it into an answer.
pub fn log_failure(error: &sqlx::Error) {
    if is_outage(error) {
        tracing::error!(%error, "database unavailable");
    } else {
        tracing::error!(%error, "internal error");
    }
}
