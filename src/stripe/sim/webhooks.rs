//! Signed webhook delivery to the configured endpoint, at least once and in
//! no guaranteed order — as Stripe does — plus test controls to hold events,
//! release them in another order, and deliver each more than once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::seq::SliceRandom;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::state::now;
use crate::stripe::webhook;

/// Attempts per delivery before the simulator gives up (Stripe keeps trying
/// for three days; a test tool must stop by itself).
const MAX_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Where events are POSTed; none means events are only listed.
    pub url: Option<String>,
    /// The event types the endpoint is sent, as a Stripe webhook endpoint's
    /// `enabled_events`: exact type names, or `"*"` for every type. Events of
    /// other types are still made and listed, only not delivered.
    pub enabled_events: Vec<String>,
    /// Signing secrets: one `v1` per secret (several while rotating).
    pub secrets: Vec<String>,
    /// Keep events instead of delivering them, until released.
    pub hold: bool,
    /// Deliver every event this many extra times.
    pub duplicates: u32,
}

impl Default for WebhookSettings {
    /// An endpoint that is sent every event, like a Stripe endpoint created
    /// with `enabled_events: ["*"]`.
    fn default() -> Self {
        WebhookSettings {
            url: None,
            enabled_events: vec!["*".to_string()],
            secrets: Vec::new(),
            hold: false,
            duplicates: 0,
        }
    }
}

impl WebhookSettings {
    /// Whether the endpoint is sent events of type `kind`.
    pub fn enables(&self, kind: &str) -> bool {
        self.enabled_events.iter().any(|e| e == "*" || e == kind)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseOrder {
    Fifo,
    Reverse,
    Shuffle,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Delivery {
    pub event: String,
    pub event_type: String,
    /// The endpoint's HTTP status; null when it could not be reached.
    pub status: Option<u16>,
}

pub struct Webhooks {
    settings: Mutex<WebhookSettings>,
    held: Mutex<Vec<Value>>,
    log: Mutex<Vec<Delivery>>,
    http: reqwest::Client,
}

impl Webhooks {
    pub fn new(settings: WebhookSettings) -> Self {
        Webhooks {
            settings: Mutex::new(settings),
            held: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
        }
    }

    pub fn settings(&self) -> WebhookSettings {
        self.settings.lock().expect("lock").clone()
    }

    pub fn configure(&self, settings: WebhookSettings) {
        *self.settings.lock().expect("lock") = settings;
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.log.lock().expect("lock").clone()
    }

    pub fn held_count(&self) -> usize {
        self.held.lock().expect("lock").len()
    }

    /// New events from an API call: held, or delivered in the background.
    pub fn dispatch(self: &Arc<Self>, mut events: Vec<Value>) {
        let settings = self.settings();
        events.retain(|event| settings.enables(event["type"].as_str().unwrap_or_default()));
        if settings.url.is_none() || events.is_empty() {
            return;
        }
        if settings.hold {
            self.held.lock().expect("lock").extend(events);
            return;
        }
        for event in events {
            let this = Arc::clone(self);
            rocket::tokio::spawn(async move {
                for _ in 0..=settings.duplicates {
                    this.deliver_with_retries(&event).await;
                }
            });
        }
    }

    /// Delivers the held events in `order`, each (1 + duplicates) times,
    /// one after another, and reports what the endpoint answered.
    pub async fn release(&self, order: ReleaseOrder) -> Vec<Delivery> {
        let mut events: Vec<Value> = std::mem::take(&mut *self.held.lock().expect("lock"));
        match order {
            ReleaseOrder::Fifo => {}
            ReleaseOrder::Reverse => events.reverse(),
            ReleaseOrder::Shuffle => events.shuffle(&mut rand::thread_rng()),
        }
        let duplicates = self.settings().duplicates;
        let mut report = Vec::new();
        for event in &events {
            for _ in 0..=duplicates {
                report.push(self.deliver_with_retries(event).await);
            }
        }
        report
    }

    /// Delivers one event now (a redelivery), retrying until 2xx or the limit.
    pub async fn deliver_with_retries(&self, event: &Value) -> Delivery {
        let mut delay = Duration::from_millis(100);
        let mut last = None;
        for attempt in 0..MAX_ATTEMPTS {
            let delivery = self.deliver_once(event).await;
            let done = delivery.status.is_some_and(|s| (200..300).contains(&s));
            last = Some(delivery);
            if done || attempt + 1 == MAX_ATTEMPTS {
                break;
            }
            rocket::tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
        last.expect("at least one attempt")
    }

    async fn deliver_once(&self, event: &Value) -> Delivery {
        let settings = self.settings();
        let body = serde_json::to_vec(event).expect("JSON");
        let secrets: Vec<&str> = settings.secrets.iter().map(String::as_str).collect();
        let status = match &settings.url {
            Some(url) => self
                .http
                .post(url)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("Stripe-Signature", webhook::header(&body, now(), &secrets))
                .body(body)
                .send()
                .await
                .ok()
                .map(|r| r.status().as_u16()),
            None => None,
        };
        let delivery = Delivery {
            event: event["id"].as_str().unwrap_or_default().to_string(),
            event_type: event["type"].as_str().unwrap_or_default().to_string(),
            status,
        };
        self.log.lock().expect("lock").push(delivery.clone());
        delivery
    }
}
