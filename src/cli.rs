//! The command line: `orderpay` serves; the subcommands are operator tasks
//! that run against the same database without serving.

use std::time::Duration;

use clap::{Parser, Subcommand};
use sqlx::AnyPool;

use crate::auth::{random_secret, secret_digest, Scope};
use crate::db::{self, new_id, now_text};
use crate::seed;
use crate::store;

#[derive(Debug, Parser)]
#[command(
    name = "orderpay",
    version,
    about = "Order payments for a shop backend"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load demo products, customers and test orders (idempotent).
    Seed {
        /// A seed file; the built-in seeds/demo.json when omitted.
        #[arg(long)]
        file: Option<std::path::PathBuf>,
    },
    /// Run the offline Stripe simulator on its own (Stripe's wire format, test mode).
    StripeSim {
        #[arg(long, default_value_t = 12111)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        address: std::net::IpAddr,
        /// Where to POST signed events (e.g. http://127.0.0.1:8000/api/v1/webhooks/stripe).
        #[arg(long)]
        webhook_url: Option<String>,
        /// Signing secret(s) for webhook deliveries; repeat to sign with several.
        #[arg(long = "webhook-secret", default_value = "whsec_orderpay_simulator")]
        webhook_secrets: Vec<String>,
        /// The secret key clients must send.
        #[arg(long, default_value = "sk_test_orderpay_simulator")]
        secret_key: String,
    },
    /// List orders sent to Stripe before their currency's units were fixed
    /// (UGX), with what to do about each.
    CheckCurrencies,
    /// Manage server API keys.
    #[command(name = "api-key", subcommand)]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key; it is printed once, on the last line of output.
    Create {
        #[arg(long)]
        name: String,
        /// Comma-separated: admin, checkout, payments:callback, payments:read, refunds:write.
        #[arg(long)]
        scopes: String,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id; it stops working at once.
    Revoke { id: String },
}

/// Connects with the server's own configuration and brings the schema up to date.
pub async fn open_database(url: &str) -> Result<AnyPool, String> {
    let pool = db::connect(url, 2, Duration::from_secs(10))
        .await
        .map_err(|e| e.to_string())?;
    db::migrate(&pool)
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    Ok(pool)
}

pub async fn seed(pool: &AnyPool, file: Option<&std::path::Path>) -> Result<String, String> {
    let (origin, text) = match file {
        Some(path) => {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| format!("{origin}: {e}"))?;
            (origin, text)
        }
        None => (
            seed::DEMO_SEED_NAME.to_string(),
            seed::DEMO_SEED.to_string(),
        ),
    };
    let doc = seed::parse(&origin, &text).map_err(|e| e.to_string())?;
    let report = seed::load(pool, &origin, &doc)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "{origin}: created {} products, {} customers, {} orders ({} / {} / {} in the file)",
        report.products_created,
        report.customers_created,
        report.orders_created,
        report.products_in_file,
        report.customers_in_file,
        report.orders_in_file
    ))
}

/// Creates a key; returns the lines to print, the key itself last.
pub async fn create_api_key(
    pool: &AnyPool,
    name: &str,
    scopes: &str,
) -> Result<Vec<String>, String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err("--name must be 1-100 characters".into());
    }
    let scopes = Scope::parse_list(scopes)?;
    let key = random_secret("opk_", 24);
    let row = store::api_keys::ApiKeyRow {
        id: new_id(),
        name: name.to_string(),
        prefix: key[..12].to_string(),
        scopes: Scope::join(&scopes),
        created_at: now_text(),
        revoked_at: None,
    };
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    store::api_keys::insert(&mut conn, &row, &secret_digest(&key))
        .await
        .map_err(|e| e.to_string())?;
    Ok(vec![
        format!(
            "created API key {} ({}) with scopes {}",
            row.id, row.name, row.scopes
        ),
        "it is shown only this once; store it now:".into(),
        key,
    ])
}

pub async fn list_api_keys(pool: &AnyPool) -> Result<Vec<String>, String> {
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    let rows = store::api_keys::list(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let mut lines = vec![format!(
        "{:<36}  {:<14}  {:<8}  {:<40}  NAME",
        "ID", "PREFIX", "STATE", "SCOPES"
    )];
    for row in rows {
        let state = if row.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        };
        lines.push(format!(
            "{:<36}  {:<14}  {:<8}  {:<40}  {}",
            row.id,
            format!("{}…", row.prefix),
            state,
            row.scopes,
            row.name
        ));
    }
    Ok(lines)
}

pub async fn revoke_api_key(pool: &AnyPool, id: &str) -> Result<String, String> {
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    if store::api_keys::revoke(&mut conn, id, &now_text())
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(format!("revoked API key {id}"))
    } else {
        Err(format!("no active API key with id {id}"))
    }
}
