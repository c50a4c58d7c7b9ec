//! Builds the Rocket application. `main` and the tests call the same `build`,
//! so the tests exercise exactly what runs in production.

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::tokio::sync::Notify;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;

use crate::accounts::housekeeping;
use crate::auth::hash_pool::{HashPool, HashPoolSettings};
use crate::checkout::inbox_workers;
use crate::checkout::inbox_writer::InboxWriter;
use crate::checkout::{sweep, webhook};
use crate::config::{self, Settings};
use crate::db::{self, Db};
use crate::http::{self, edge};
use crate::stripe::gateway::StripeGateway;

/// Wakes the inbox workers when the writer has stored events.
struct InboxSignal(Arc<Notify>);

pub fn build(figment: Figment) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(AdHoc::try_on_ignite(
            "orderpay settings",
            |rocket| async move {
                match config::check(rocket.figment()) {
                    Ok(settings) => Ok(rocket.manage::<Settings>(settings)),
                    Err(reason) => {
                        tracing::error!("{reason}");
                        Err(rocket)
                    }
                }
            },
        ))
        .attach(AdHoc::try_on_ignite(
            "password hashing threads",
            |rocket| async move {
                let pool = rocket
                    .figment()
                    .extract::<HashPoolSettings>()
                    .map_err(|e| e.to_string())
                    .and_then(|settings| HashPool::start(&settings).map_err(|e| e.to_string()));
                match pool {
                    Ok(pool) => Ok(rocket.manage(pool)),
                    Err(reason) => {
                        tracing::error!("password hashing: {reason}");
                        Err(rocket)
                    }
                }
            },
        ))
        .attach(AdHoc::try_on_ignite("stripe", |rocket| async move {
            let Some(settings) = rocket.state::<Settings>().cloned() else {
                return Err(rocket);
            };
            let debug = rocket.figment().profile() == rocket::Config::DEBUG_PROFILE;
            match StripeGateway::start(&settings.stripe, debug).await {
                Ok(gateway) => Ok(rocket.manage(gateway)),
                Err(reason) => {
                    tracing::error!("stripe: {reason}");
                    Err(rocket)
                }
            }
        }))
        .attach(Db::init())
        .attach(AdHoc::try_on_ignite(
            "database migrations",
            |rocket| async move {
                let Some(pool) = Db::fetch(&rocket) else {
                    return Err(rocket);
                };
                match db::migrate(pool.writer()).await {
                    Ok(()) => Ok(rocket),
                    Err(error) => {
                        tracing::error!(%error, "database migrations failed");
                        Err(rocket)
                    }
                }
            },
        ))
        .attach(AdHoc::try_on_ignite(
            "webhook inbox writer",
            |rocket| async move {
                let (Some(settings), Some(pool)) = (rocket.state::<Settings>(), Db::fetch(&rocket))
                else {
                    return Err(rocket);
                };
                let inbox = &settings.webhook_inbox;
                let stored = InboxSignal(Arc::new(Notify::new()));
                let writer = InboxWriter::start(
                    (**pool).clone(),
                    inbox.batch_max as usize,
                    inbox.queue_len as usize,
                    stored.0.clone(),
                );
                Ok(rocket.manage(writer).manage(stored))
            },
        ))
        .attach(AdHoc::on_liftoff("simulator webhooks", |rocket| {
            Box::pin(async move {
                // The in-process simulator delivers its events to this server.
                if let Some(sim) = rocket
                    .state::<StripeGateway>()
                    .and_then(|g| g.simulator.as_ref())
                {
                    let config = rocket.config();
                    let host = if config.address.is_unspecified() {
                        "127.0.0.1".to_string()
                    } else {
                        config.address.to_string()
                    };
                    let mut settings = sim.webhooks.settings();
                    settings.url = Some(format!(
                        "http://{host}:{}/api/v1/webhooks/stripe",
                        config.port
                    ));
                    // As a Stripe endpoint should be set up (README).
                    settings.enabled_events =
                        webhook::subscribed_events().map(str::to_string).collect();
                    sim.webhooks.configure(settings);
                }
            })
        }))
        .attach(AdHoc::on_liftoff("background tasks", |rocket| {
            Box::pin(async move {
                let (Some(settings), Some(gateway), Some(db)) = (
                    rocket.state::<Settings>(),
                    rocket.state::<StripeGateway>(),
                    Db::fetch(rocket),
                ) else {
                    return;
                };
                if let Some(stored) = rocket.state::<InboxSignal>() {
                    inbox_workers::start(
                        (**db).clone(),
                        gateway.clone(),
                        settings.webhook_inbox.clone(),
                        stored.0.clone(),
                        rocket.shutdown(),
                    );
                }
                rocket::tokio::spawn(housekeeping::run_periodically(
                    (**db).clone(),
                    settings.login_window_secs,
                    rocket.shutdown(),
                ));
                if settings.reconcile_interval_secs == 0 {
                    return;
                }
                rocket::tokio::spawn(sweep::run_periodically(
                    (**db).clone(),
                    gateway.clone(),
                    Duration::from_secs(settings.reconcile_interval_secs),
                    i64::from(settings.reconcile_batch.max(1)),
                    sweep::RefundWindow::after_secs(settings.reconcile_refund_age_secs),
                    rocket.shutdown(),
                ));
            })
        }))
        .mount("/", http::routes())
        .attach(edge::EdgeCheck)
        .register("/", http::catchers())
}
