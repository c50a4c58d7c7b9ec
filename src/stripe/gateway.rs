//! How this orderpay instance reaches Stripe: the real API when a secret key
//! is configured, otherwise the in-process simulator (debug profile, or
//! `stripe.simulator = true`, which is announced loudly).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use super::client::{ClientConfig, StripeClient};
use super::sim::webhooks::WebhookSettings;
use super::sim::{self, Sim, SimConfig};
use crate::auth::random_secret;
use crate::config::StripeSettings;
use crate::secret::Secret;

#[derive(Clone)]
pub struct StripeGateway {
    pub client: StripeClient,
    /// Secrets webhook signatures are checked against (several while rotating).
    pub webhook_secrets: Vec<Secret>,
    pub webhook_tolerance_secs: i64,
    /// Present when payments go to the offline simulator.
    pub simulator: Option<Arc<Sim>>,
    /// Whether money that cannot pay its order is refunded automatically.
    pub auto_refund: bool,
}

impl StripeGateway {
    pub async fn start(
        settings: &StripeSettings,
        debug_profile: bool,
    ) -> Result<StripeGateway, String> {
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        if let Some(key) = settings.secret_key() {
            let mut config = ClientConfig::new(settings.api_base.clone(), key.clone());
            config.timeout = timeout;
            config.max_retries = settings.max_retries;
            return Ok(StripeGateway {
                client: StripeClient::new(config).map_err(|e| e.to_string())?,
                webhook_secrets: settings.webhook_secret.clone(),
                webhook_tolerance_secs: settings.webhook_tolerance_secs,
                simulator: None,
                auto_refund: settings.auto_refund,
            });
        }
        if !debug_profile && !settings.simulator {
            return Err("no Stripe secret key configured and the simulator is not enabled".into());
        }
        let secret_key = random_secret("sk_test_sim_", 16);
        let webhook_secret = random_secret("whsec_sim_", 16);
        let handle = sim::spawn(SimConfig {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            secret_key: secret_key.clone(),
            webhooks: WebhookSettings {
                secrets: vec![webhook_secret.clone()],
                ..WebhookSettings::default()
            },
            standalone: false,
        })
        .await?;
        if debug_profile {
            tracing::info!(api_base = %handle.base_url, "payments go to the offline Stripe simulator");
        } else {
            tracing::warn!(
                api_base = %handle.base_url,
                "STRIPE SIMULATOR ENABLED (stripe.simulator = true): no real payments are taken"
            );
        }
        let mut config = ClientConfig::new(handle.base_url.clone(), Secret::new(secret_key));
        config.timeout = timeout;
        config.max_retries = settings.max_retries;
        config.initial_backoff = Duration::from_millis(50);
        Ok(StripeGateway {
            client: StripeClient::new(config).map_err(|e| e.to_string())?,
            // The simulator's secret, plus any configured ones (rotation tests).
            webhook_secrets: std::iter::once(Secret::new(webhook_secret))
                .chain(settings.webhook_secret.iter().cloned())
                .collect(),
            webhook_tolerance_secs: settings.webhook_tolerance_secs,
            simulator: Some(Arc::clone(&handle.sim)),
            auto_refund: settings.auto_refund,
        })
    }
}
