//! Logging. orderpay logs through `tracing`; Rocket's `log` records are
//! bridged into it, so one filter (`RUST_LOG`, default `info`) governs both.
//!
//! The filters are global layers, not per-layer filters on the output layer:
//! with only per-layer filters the subscriber has no maximum level, so the
//! `log` bridge lets every record through to be asked about one by one, and
//! the registry answers "enabled" for records no layer wants. sqlx then
//! pretty-printed every statement it ran for a TRACE record that was dropped
//! (`sqlformat`, quadratic in the statement's length: 59% of the webhook
//! intake's instructions, for the inbox's multi-row INSERT).

use std::fmt::Debug;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// At debug level Rocket's server prints every raw request and response,
/// headers included (`Authorization`, `X-API-Key`). Secrets never reach the
/// logs, so those records are dropped whatever `RUST_LOG` or
/// `ROCKET_LOG_LEVEL` ask for; Rocket's info-level request lines remain.
struct NeverRawRequests;

impl<S: Subscriber> Layer<S> for NeverRawRequests {
    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        !(meta.target().starts_with("rocket::server") && *meta.level() > Level::INFO)
    }
}

/// Rocket reports a request no route matches ("No matching routes for PUT
/// /x.") at ERROR, though it is the client's mistake and orderpay's catchers
/// answer it with a 404 or 405 (Rocket's info-level request line stays). Those
/// records are dropped so that ERROR means a failure of orderpay's own.
struct NoClientErrorsAsErrors;

const UNMATCHED: &str = "No matching routes";

impl<S: Subscriber> Layer<S> for NoClientErrorsAsErrors {
    // By message alone: Rocket's records arrive through the `log` bridge,
    // whose events carry the target "log" (fmt shows the original one).
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        let mut message = MessageStart(false);
        event.record(&mut message);
        !message.0
    }
}

/// Whether the event's message starts with [`UNMATCHED`].
struct MessageStart(bool);

impl Visit for MessageStart {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.starts_with(UNMATCHED);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}").starts_with(UNMATCHED);
        }
    }
}

/// Every filter is a layer of the subscriber itself: a record one of them
/// refuses is refused for the whole subscriber, and `wanted`'s level is the
/// subscriber's maximum (what the `log` bridge and `tracing`'s macros check
/// before anything else). Stacked with `with`, not composed with
/// `and_then` (a composed layer reports only its outermost layer's level)
/// nor as `filter_fn`s (a `FilterFn` layer has no level and takes the
/// maximum away).
fn subscriber<W>(wanted: EnvFilter, writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(wanted)
        .with(NeverRawRequests)
        .with(NoClientErrorsAsErrors)
        .with(fmt::layer().with_writer(writer))
}

fn wanted() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

pub fn init() {
    subscriber(wanted(), std::io::stderr).init();
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn unmatched_routes_are_not_logged_as_errors_but_real_errors_are() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = subscriber(EnvFilter::new("info"), move || sink.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(target: "rocket::server::_", "No matching routes for PUT /api/v1/x.");
            // What Rocket's `log` records look like once bridged.
            tracing::error!(target: "log", "No matching routes for GET /nope.");
            tracing::error!(target: "rocket::server::_", "Handler panicked.");
            tracing::error!(target: "orderpay::checkout", "the database went away");
            tracing::info!(target: "rocket::server", "PUT /api/v1/x:");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("No matching routes"), "{text}");
        assert!(text.contains("Handler panicked."), "{text}");
        assert!(text.contains("the database went away"), "{text}");
        assert!(text.contains("PUT /api/v1/x:"), "{text}");
    }

    /// The `log` bridge and `tracing`'s macros compare a record's level with
    /// the subscriber's maximum before anything else; with none (TRACE),
    /// sqlx formatted every statement for a record that was then dropped.
    #[test]
    fn the_subscriber_has_the_filters_maximum_level() {
        let at =
            |filter: &str| subscriber(EnvFilter::new(filter), Captured::default).max_level_hint();
        assert_eq!(at("info"), Some(tracing::level_filters::LevelFilter::INFO));
        assert_eq!(
            at("error"),
            Some(tracing::level_filters::LevelFilter::ERROR)
        );
        assert_eq!(
            at("warn,sqlx::query=trace"),
            Some(tracing::level_filters::LevelFilter::TRACE)
        );
    }
}
