use std::process::ExitCode;

use clap::Parser;
use orderpay::cli::{self, ApiKeyCommand, Cli, Command};
use orderpay::config::{self, DATABASE_URL_KEY};

#[rocket::main]
async fn main() -> ExitCode {
    orderpay::telemetry::init();
    let cli = Cli::parse();
    if let Some(Command::StripeSim {
        port,
        address,
        webhook_url,
        webhook_secrets,
        secret_key,
    }) = cli.command
    {
        return stripe_sim(address, port, webhook_url, webhook_secrets, secret_key).await;
    }
    let figment = config::figment();
    if let Err(reason) = config::check(&figment) {
        eprintln!("orderpay: {reason}");
        return ExitCode::from(2);
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(figment).await,
        command => run_task(&figment, command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("orderpay: {reason}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(figment: rocket::figment::Figment) -> Result<(), String> {
    orderpay::app::build(figment)
        .launch()
        .await
        .map(|_| ())
        .map_err(|e| format!("server stopped: {e}"))
}

async fn run_task(figment: &rocket::figment::Figment, command: Command) -> Result<(), String> {
    let url: String = figment
        .extract_inner(DATABASE_URL_KEY)
        .map_err(|e| e.to_string())?;
    let pool = cli::open_database(&url).await?;
    let lines = match command {
        Command::Serve | Command::StripeSim { .. } => unreachable!("handled by main"),
        Command::Migrate => vec!["migrations applied".to_string()],
        Command::Seed { file } => vec![cli::seed(&pool, file.as_deref()).await?],
        Command::CheckCurrencies => orderpay::currency_review::check_currencies(&pool).await?,
        Command::ApiKey(ApiKeyCommand::Create { name, scopes }) => {
            cli::create_api_key(&pool, &name, &scopes).await?
        }
        Command::ApiKey(ApiKeyCommand::List) => cli::list_api_keys(&pool).await?,
        Command::ApiKey(ApiKeyCommand::Revoke { id }) => {
            vec![cli::revoke_api_key(&pool, &id).await?]
        }
    };
    pool.close().await;
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// The simulator needs no database or orderpay configuration.
async fn stripe_sim(
    address: std::net::IpAddr,
    port: u16,
    webhook_url: Option<String>,
    webhook_secrets: Vec<String>,
    secret_key: String,
) -> ExitCode {
    use orderpay::stripe::sim::{self, webhooks::WebhookSettings, Sim, SimConfig};
    let config = SimConfig {
        address,
        port,
        secret_key: secret_key.clone(),
        webhooks: WebhookSettings {
            url: webhook_url,
            secrets: webhook_secrets,
            ..WebhookSettings::default()
        },
        standalone: true,
    };
    let sim = Sim::new(&secret_key, config.webhooks.clone());
    eprintln!("orderpay: Stripe simulator (test mode only) on http://{address}:{port}");
    match sim::rocket(&config, sim).launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("orderpay: Stripe simulator: {error}");
            ExitCode::FAILURE
        }
    }
}
