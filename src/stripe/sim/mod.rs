//! A test-mode Stripe that runs offline: the debug profile and the tests talk
//! to it over real HTTP in Stripe's wire format (form-encoded requests with
//! nested keys, Bearer secret key, Stripe-shaped JSON objects and errors),
//! with Idempotency-Key replay, signed webhook delivery and fault injection.
//! It is strict where Stripe is: its own currency table (`currencies.rs`),
//! results saved from the moment execution begins (5xx included) and keys
//! expiring after 24 hours on its own clock, lifecycles that take time
//! (processing, pending refunds, disputes, 3-D Secure) driven by `/_sim`
//! controls. Run standalone with `orderpay stripe-sim`.

pub mod cards;
pub mod catchers;
pub mod clock;
pub mod control;
pub mod currencies;
pub mod disputes;
pub mod faults;
pub mod http;
pub mod idempotency;
pub mod intents;
pub mod lifecycle;
pub mod listing;
pub mod objects;
pub mod refunds;
pub mod state;
pub mod three_d_secure;
pub mod webhooks;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};

use self::clock::Clock;
use self::faults::FaultPlan;
use self::idempotency::KeyStore;
use self::state::Data;
use self::webhooks::{WebhookSettings, Webhooks};

pub struct Sim {
    pub data: Mutex<Data>,
    pub keys: Mutex<KeyStore>,
    /// Shared with `data`: one clock for key expiry and object timestamps.
    pub clock: Clock,
    pub faults: Mutex<FaultPlan>,
    pub webhooks: Arc<Webhooks>,
    secret_key: String,
    base_url: Mutex<String>,
    /// API calls answered (authorized or not), for benchmarks to count
    /// Stripe calls per checkout.
    api_calls: AtomicU64,
}

impl Sim {
    pub fn new(secret_key: &str, webhooks: WebhookSettings) -> Arc<Sim> {
        let clock = Clock::default();
        Arc::new(Sim {
            data: Mutex::new(Data::with_clock(clock.clone())),
            keys: Mutex::new(KeyStore::default()),
            clock,
            faults: Mutex::new(FaultPlan::default()),
            webhooks: Arc::new(Webhooks::new(webhooks)),
            secret_key: secret_key.to_string(),
            base_url: Mutex::new(String::new()),
            api_calls: AtomicU64::new(0),
        })
    }

    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    pub fn base_url(&self) -> String {
        self.base_url.lock().expect("lock").clone()
    }

    pub fn inject(&self, plan: FaultPlan) {
        *self.faults.lock().expect("lock") = plan;
    }

    /// The fault plan as it stands (its counters run down as calls arrive),
    /// so a test can wait until a call has met its fault.
    pub fn faults(&self) -> FaultPlan {
        self.faults.lock().expect("lock").clone()
    }

    /// Runs a test control on the data and delivers the events it creates,
    /// as an API call would.
    pub fn control(&self, action: impl FnOnce(&mut Data) -> state::SimResult) -> state::SimResult {
        let (result, events) = {
            let mut data = self.data.lock().expect("lock");
            data.outbox.clear();
            let result = action(&mut data);
            (result, std::mem::take(&mut data.outbox))
        };
        self.webhooks.dispatch(events);
        result
    }

    /// API calls received so far (test controls under `/_sim` not counted).
    pub fn api_calls(&self) -> u64 {
        self.api_calls.load(Ordering::Relaxed)
    }

    pub fn payment_intent_count(&self) -> usize {
        self.data.lock().expect("lock").payment_intent_count()
    }

    pub fn refund_amounts(&self, payment_intent: &str) -> Vec<i64> {
        self.data
            .lock()
            .expect("lock")
            .refund_amounts(payment_intent)
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub address: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// The secret key clients must send (any `sk_test_...` value).
    pub secret_key: String,
    pub webhooks: WebhookSettings,
    /// Whether Ctrl-C stops it (standalone) or the host process decides (embedded).
    pub standalone: bool,
}

/// A running simulator.
pub struct SimHandle {
    pub sim: Arc<Sim>,
    /// e.g. `http://127.0.0.1:41234`: the client's `api_base`.
    pub base_url: String,
    shutdown: rocket::Shutdown,
}

impl SimHandle {
    pub fn shutdown(&self) {
        self.shutdown.clone().notify();
    }
}

pub fn rocket(config: &SimConfig, sim: Arc<Sim>) -> Rocket<Build> {
    let figment = Figment::from(rocket::Config::default())
        .merge(("address", config.address))
        .merge(("port", config.port))
        .merge((
            "log_level",
            if config.standalone {
                "normal"
            } else {
                "critical"
            },
        ))
        .merge(("shutdown.ctrlc", config.standalone))
        .merge(("limits.string", "1 MiB"))
        .merge(("ident", "orderpay-stripe-sim"));
    let on_liftoff = Arc::clone(&sim);
    rocket::custom(figment)
        .manage(sim)
        .attach(AdHoc::on_liftoff("simulator address", move |rocket| {
            Box::pin(async move {
                let config = rocket.config();
                *on_liftoff.base_url.lock().expect("lock") =
                    format!("http://{}:{}", config.address, config.port);
            })
        }))
        .mount("/", http::routes())
        .mount("/", control::routes())
        .mount("/", lifecycle::routes())
        .mount("/", three_d_secure::routes())
        .register("/", catchers::catchers())
}

/// Starts a simulator in the background and waits until it listens.
pub async fn spawn(config: SimConfig) -> Result<SimHandle, String> {
    let sim = Sim::new(&config.secret_key, config.webhooks.clone());
    let ignited = rocket(&config, Arc::clone(&sim))
        .ignite()
        .await
        .map_err(|e| format!("Stripe simulator: {e}"))?;
    let shutdown = ignited.shutdown();
    rocket::tokio::spawn(async move {
        if let Err(error) = ignited.launch().await {
            tracing::error!(%error, "Stripe simulator stopped");
        }
    });
    for _ in 0..500 {
        let base_url = sim.base_url();
        if !base_url.is_empty() {
            return Ok(SimHandle {
                sim,
                base_url,
                shutdown,
            });
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Err("Stripe simulator did not start listening".into())
}
