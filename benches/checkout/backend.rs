//! The database server a run uses, and a fresh database for each part of
//! it, so one part's rows (a million orders) never slow another.

use std::time::Duration;

use sqlx::Connection;

pub enum Backend {
    /// Files in a temporary folder.
    Sqlite(tempfile::TempDir),
    /// A server URL without a database name, e.g. postgres://postgres@127.0.0.1:5432.
    Postgres(String),
}

impl Backend {
    pub fn label(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "SQLite (file, WAL)",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Backend::Postgres(_))
    }

    /// A new, empty database named after `part`.
    pub async fn fresh(&self, part: &str) -> Database {
        match self {
            Backend::Sqlite(dir) => Database {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join(format!("{part}.db")).display()
                ),
                drop: None,
            },
            Backend::Postgres(server) => {
                let name = format!("orderpay_bench_{}_{part}", std::process::id());
                let mut admin = admin(server).await;
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                Database {
                    url: format!("{server}/{name}"),
                    drop: Some((server.clone(), name)),
                }
            }
        }
    }
}

async fn admin(server: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("PostgreSQL")
}

pub struct Database {
    pub url: String,
    /// PostgreSQL: (server, name) to drop when the part is done.
    drop: Option<(String, String)>,
}

impl Database {
    /// Drops a PostgreSQL database once the pools using it had time to close.
    pub async fn remove(self) {
        if let Some((server, name)) = self.drop {
            rocket::tokio::time::sleep(Duration::from_millis(500)).await;
            let mut admin = admin(&server).await;
            sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .expect("drop database");
        }
    }
}
