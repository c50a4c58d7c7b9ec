//! One model run's world: the app under test, the customer and keys that
//! drive it, what the run has done so far (orders, refund keys), and what
//! it has seen go wrong. Every request to orderpay goes through `call`, so
//! invariant 9 (no 5xx but a 503 while a fault is injected) sees all of them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use orderpay::stripe::sim::faults::FaultPlan;
use rocket::figment::Figment;
use rocket::http::{Header, Method};

use crate::helpers::{api_key, bearer, test_figment, Reply, TestApp};

pub const CUSTOMER: &str = "model@example.com";
/// orderpay's Stripe calls time out after this; injected delays exceed it.
pub const STRIPE_TIMEOUT_SECS: u64 = 2;
pub const FAULT_DELAY_MS: u64 = 2_300;

/// The app's settings in a model run: short Stripe timeouts (faults cost
/// seconds, not tens of them) and no background sweep (sweeps are steps).
pub fn figment(url: &str) -> Figment {
    test_figment(url)
        .merge(("stripe.timeout_secs", STRIPE_TIMEOUT_SECS))
        .merge(("reconcile_interval_secs", 0))
        .merge(("reconcile_refund_age_secs", 0))
}

#[derive(Clone, Debug)]
pub struct OrderRef {
    pub id: String,
    pub currency: &'static str,
    /// The major amount as the test wrote it; the reference converts it.
    pub amount_text: String,
}

/// A refund Idempotency-Key a run has sent, with the body it went with
/// (once it made a refund: the body of the request that made it).
#[derive(Clone, Debug)]
pub struct UsedKey {
    pub key: String,
    pub body: Option<String>,
    /// The refund it made, once a request with it got one back.
    pub refund_id: Option<String>,
}

#[derive(Default)]
pub struct Record {
    pub orders: Vec<OrderRef>,
    /// Per order id, the refund keys used, oldest first.
    pub refund_keys: BTreeMap<String, Vec<UsedKey>>,
    /// PaymentIntents whose amount the dashboard changed.
    pub tampered: BTreeSet<String>,
    pub violations: Vec<String>,
    /// Operations the simulator could not do (a control it does not have yet).
    pub skipped: BTreeMap<&'static str, u32>,
    pub next_key: u32,
}

pub struct Keys {
    pub token: String,
    pub checkout: String,
    pub callback: String,
    pub refunds: String,
    pub payments_read: String,
}

pub struct World {
    app: Option<TestApp>,
    pub keys: Keys,
    pub record: Mutex<Record>,
    /// Whether a fault was injected and not yet used up when the step began.
    fault_window: AtomicBool,
}

impl World {
    pub async fn new(app: TestApp) -> World {
        let (_, token) = app.register(CUSTOMER, "model-password").await;
        let keys = Keys {
            token,
            checkout: app.key("checkout").await,
            callback: app.key("payments:callback").await,
            refunds: app.key("refunds:write").await,
            payments_read: app.key("payments:read").await,
        };
        World {
            app: Some(app),
            keys,
            record: Mutex::new(Record::default()),
            fault_window: AtomicBool::new(false),
        }
    }

    pub fn app(&self) -> &TestApp {
        self.app.as_ref().expect("the app runs")
    }

    pub async fn restart(&mut self) {
        let app = self.app.take().expect("the app runs");
        let url = app.database_url.clone();
        self.app = Some(app.restart(figment(&url)).await);
    }

    pub fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().unwrap()
    }

    pub fn violation(&self, text: String) {
        self.record().violations.push(text);
    }

    pub fn skip(&self, what: &'static str) {
        *self.record().skipped.entry(what).or_default() += 1;
    }

    /// The run's order for a small index; None before any order exists.
    pub fn order(&self, index: usize) -> Option<OrderRef> {
        let record = self.record();
        let orders = &record.orders;
        (!orders.is_empty()).then(|| orders[index % orders.len()].clone())
    }

    pub fn orders(&self) -> Vec<OrderRef> {
        self.record().orders.clone()
    }

    /// A step begins: 503s are excused while an injected fault is pending.
    pub fn begin_step(&self) {
        self.fault_window
            .store(self.fault_pending(), Ordering::SeqCst);
    }

    pub fn fault_injected(&self) {
        self.fault_window.store(true, Ordering::SeqCst);
    }

    fn fault_pending(&self) -> bool {
        let plan = self.app().sim.faults.lock().unwrap().clone();
        FaultPlan {
            fail_status: None,
            delay_ms: None,
            path_prefix: None,
            ..plan
        } != FaultPlan::default()
    }

    pub fn customer_headers(&self) -> Vec<Header<'static>> {
        vec![bearer(&self.keys.token), api_key(&self.keys.checkout)]
    }

    /// A request to orderpay; a 5xx that is not an excused 503 is recorded
    /// as a violation of invariant 9.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[Header<'static>],
        body: Option<&str>,
    ) -> Reply {
        let reply = self.app().send(method, path, headers, body).await;
        let code = reply.status.code;
        let excused = code == 503 && self.fault_window.load(Ordering::SeqCst);
        if code >= 500 && !excused {
            self.violation(format!(
                "invariant 9: {method} {path} answered {code}: {}",
                reply.body
            ));
        }
        reply
    }
}
