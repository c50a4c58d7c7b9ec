//! The Stripe HTTP client: form-encoded requests, a pinned API version, a
//! caller-supplied Idempotency-Key on every POST, a timeout on every call, and
//! retries with exponential backoff and jitter on what Stripe says is worth
//! retrying — always with the same key, so a retry can never charge twice.

use std::fmt;
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde::de::DeserializeOwned;

use super::error::{self, StripeError};
use super::form::Form;
use crate::secret::Secret;

/// The API version orderpay is written against; sent on every call.
pub const STRIPE_VERSION: &str = "2024-06-20";

/// An Idempotency-Key: derived by the caller from a row it persisted first
/// (e.g. `orderpay:pi:<order_id>:<attempt>`), at most 255 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn new(key: impl Into<String>) -> Result<Self, StripeError> {
        let key = key.into();
        if key.is_empty() || key.len() > 255 {
            return Err(StripeError::InvalidRequest {
                status: 400,
                code: Some("idempotency_key_invalid".into()),
                param: None,
                message: "an Idempotency-Key must be 1-255 characters".into(),
            });
        }
        Ok(IdempotencyKey(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone)]
pub struct ClientConfig {
    /// Without the `/v1`: `https://api.stripe.com`, or the simulator's URL.
    pub api_base: String,
    pub secret_key: Secret,
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl ClientConfig {
    pub fn new(api_base: impl Into<String>, secret_key: Secret) -> Self {
        ClientConfig {
            api_base: api_base.into(),
            secret_key,
            timeout: Duration::from_secs(30),
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    config: ClientConfig,
}

impl fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeClient")
            .field("api_base", &self.config.api_base)
            .field("secret_key", &self.config.secret_key)
            .finish()
    }
}

enum Verb {
    Get,
    Post(IdempotencyKey),
    Delete,
}

impl StripeClient {
    pub fn new(config: ClientConfig) -> Result<Self, StripeError> {
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.secret_key.expose()))
            .map_err(|_| StripeError::Authentication {
                message: "the secret key is not a valid header value".into(),
            })?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert("Stripe-Version", HeaderValue::from_static(STRIPE_VERSION));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout)
            .user_agent(concat!("orderpay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StripeError::Network(e.to_string()))?;
        Ok(StripeClient { http, config })
    }

    pub fn api_base(&self) -> &str {
        &self.config.api_base
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: Form,
    ) -> Result<T, StripeError> {
        self.send(Verb::Get, path, query).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: Form,
        key: &IdempotencyKey,
    ) -> Result<T, StripeError> {
        self.send(Verb::Post(key.clone()), path, form).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, StripeError> {
        self.send(Verb::Delete, path, Form::new()).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        verb: Verb,
        path: &str,
        form: Form,
    ) -> Result<T, StripeError> {
        let url = format!("{}{path}", self.config.api_base.trim_end_matches('/'));
        let mut attempt = 0;
        loop {
            let outcome = self.attempt(&verb, &url, &form).await;
            let retry = match &outcome {
                Ok(_) => false,
                Err(Failure { should_retry, .. }) => *should_retry,
            };
            if !retry || attempt >= self.config.max_retries {
                return match outcome {
                    Ok(body) => {
                        serde_json::from_str(&body).map_err(|e| StripeError::Decode(e.to_string()))
                    }
                    Err(failure) => Err(failure.error),
                };
            }
            let delay = self.backoff(attempt);
            tracing::warn!(
                path,
                attempt = attempt + 1,
                error = %outcome.as_ref().err().map(|f| f.error.to_string()).unwrap_or_default(),
                delay_ms = delay.as_millis() as u64,
                "Stripe call failed; retrying with the same Idempotency-Key"
            );
            rocket::tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, verb: &Verb, url: &str, form: &Form) -> Result<String, Failure> {
        let request = match verb {
            Verb::Get if form.is_empty() => self.http.get(url),
            Verb::Get => self.http.get(format!("{url}?{}", form.encode())),
            Verb::Delete => self.http.delete(url),
            Verb::Post(key) => self
                .http
                .post(url)
                .header("Idempotency-Key", key.as_str())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form.encode()),
        };
        let response = request.send().await.map_err(|e| {
            let error = if e.is_timeout() {
                StripeError::Timeout
            } else {
                StripeError::Network(without_url(&e))
            };
            Failure {
                error,
                should_retry: true,
            }
        })?;
        let status = response.status().as_u16();
        let should_retry_header = response
            .headers()
            .get("Stripe-Should-Retry")
            .and_then(|v| v.to_str().ok())
            .map(|v| v == "true");
        let body = response.text().await.map_err(|e| Failure {
            error: if e.is_timeout() {
                StripeError::Timeout
            } else {
                StripeError::Network(without_url(&e))
            },
            should_retry: true,
        })?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        // Stripe's own opinion wins; without one, retry what is transient.
        let should_retry = should_retry_header.unwrap_or(matches!(status, 409 | 429 | 500..=599));
        Err(Failure {
            error: error::from_response(status, &body),
            should_retry,
        })
    }

    /// Exponential backoff with jitter (50-100% of the step), capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self
            .config
            .initial_backoff
            .saturating_mul(2_u32.saturating_pow(attempt))
            .min(self.config.max_backoff);
        let jitter = rand::thread_rng().gen_range(0.5..=1.0);
        step.mul_f64(jitter)
    }
}

struct Failure {
    error: StripeError,
    should_retry: bool,
}

/// reqwest errors print the URL; it holds no secret, but keep messages short.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<stripe>");
    }
    text
}
