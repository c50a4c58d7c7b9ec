//! Counts the database statements orderpay runs in this process: sqlx logs
//! each one at TRACE under the target `sqlx::query` (see `db::connect`).
//! Counting is off unless asked for, so the statements are not even
//! formatted while other parts measure speed.

use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

static COUNTING: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU64 = AtomicU64::new(0);
/// The statements' first words, while `record` is on.
static RECORDING: AtomicBool = AtomicBool::new(false);
static RECORDED: Mutex<Vec<String>> = Mutex::new(Vec::new());

const TARGET: &str = "sqlx::query";

struct StatementCounter;

impl<S: Subscriber> Layer<S> for StatementCounter {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.target() == TARGET {
            // Asked each time: counting is switched on and off.
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        meta.target() == TARGET && COUNTING.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == TARGET {
            COUNT.fetch_add(1, Ordering::Relaxed);
            if RECORDING.load(Ordering::Relaxed) {
                let mut summary = Summary(String::new());
                event.record(&mut summary);
                RECORDED.lock().unwrap().push(summary.0);
            }
        }
    }
}

/// sqlx's `summary` field: the statement's first words.
struct Summary(String);

impl Visit for Summary {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" {
            self.0 = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "summary" {
            self.0 = format!("{value:?}");
        }
    }
}

/// Keeps each statement's first words from now until `recorded` is called.
pub fn record() {
    RECORDED.lock().unwrap().clear();
    RECORDING.store(true, Ordering::Relaxed);
}

/// The statements recorded since `record`.
pub fn recorded() -> Vec<String> {
    RECORDING.store(false, Ordering::Relaxed);
    std::mem::take(&mut *RECORDED.lock().unwrap())
}

/// Installs the counter as this process's only subscriber (nothing is printed).
pub fn install() {
    tracing_subscriber::registry().with(StatementCounter).init();
}

/// Counts from now on; returns the count so far.
pub fn start() -> u64 {
    COUNTING.store(true, Ordering::Relaxed);
    COUNT.load(Ordering::Relaxed)
}

/// Stops counting; returns the count so far.
pub fn stop() -> u64 {
    COUNTING.store(false, Ordering::Relaxed);
    COUNT.load(Ordering::Relaxed)
}

/// The count so far.
pub fn now() -> u64 {
    COUNT.load(Ordering::Relaxed)
}
