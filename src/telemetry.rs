//! Logging. orderpay logs through `tracing`; Rocket's `log` records are
//! bridged into it, so one filter (`RUST_LOG`, default `info`) governs both.

use tracing::{Level, Metadata};
use tracing_subscriber::filter::{filter_fn, FilterExt};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// At debug level Rocket's server prints every raw request and response,
/// headers included (`Authorization`, `X-API-Key`). Secrets never reach the
/// logs, so those records are dropped whatever `RUST_LOG` or
/// `ROCKET_LOG_LEVEL` ask for; Rocket's info-level request lines remain.
fn never_raw_requests(meta: &Metadata<'_>) -> bool {
    !(meta.target().starts_with("rocket::server") && *meta.level() > Level::INFO)
}

pub fn init() {
    let wanted = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(wanted.and(filter_fn(never_raw_requests)));
    tracing_subscriber::registry().with(layer).init();
}
