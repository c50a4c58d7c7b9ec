//! Settings: Rocket.toml profiles, `ROCKET_*` env overrides, and the plain
//! `DATABASE_URL` that deployments usually set.

use rocket::figment::Figment;
use serde::Deserialize;

use crate::secret::Secret;

/// The SQLite file `cargo run` creates when nothing else is configured.
pub const DEFAULT_DEBUG_DATABASE_URL: &str = "sqlite://data/orderpay.db?mode=rwc";
pub const DATABASE_URL_KEY: &str = "databases.orderpay.url";
/// Stripe's API, unless `STRIPE_API_BASE` points elsewhere (the simulator, a proxy).
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";
/// How old a webhook's signed timestamp may be, in seconds (Stripe's own default).
pub const DEFAULT_WEBHOOK_TOLERANCE_SECS: i64 = 300;

/// orderpay's own settings, read from the same figment as Rocket's.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Whether demo data (customers with known passwords) may be seeded.
    /// On in the debug profile, off in release.
    #[serde(default)]
    pub demo_seed: bool,
    /// Lifetime of a user's access token, in seconds (default 24 h).
    #[serde(default = "default_token_ttl")]
    pub token_ttl_secs: u64,
    /// Failed logins for one email within `login_window_secs` before 429.
    #[serde(default = "default_login_max_failures")]
    pub login_max_failures: u32,
    #[serde(default = "default_login_window")]
    pub login_window_secs: u64,
    /// Seconds between reconciliation sweeps (asking Stripe about the
    /// PaymentIntents of still-payable orders); 0 turns the sweep off.
    #[serde(default = "default_reconcile_interval")]
    pub reconcile_interval_secs: u64,
    /// PaymentIntents (and pending refunds) one sweep asks about at most.
    #[serde(default = "default_reconcile_batch")]
    pub reconcile_batch: u32,
    /// A pending refund is re-sent by a sweep only once it is this old, so
    /// its own request has had time to hear from Stripe.
    #[serde(default = "default_reconcile_refund_age")]
    pub reconcile_refund_age_secs: u64,
    #[serde(default)]
    pub stripe: StripeSettings,
    #[serde(default)]
    pub webhook_inbox: InboxSettings,
}

/// `[webhook_inbox]`: how webhook deliveries are stored and applied.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct InboxSettings {
    /// Tasks applying stored events (per instance). 0 stores events and
    /// applies none (another instance, or a later start, applies them).
    pub workers: u32,
    /// Most deliveries stored in one commit.
    pub batch_max: u32,
    /// Deliveries that may wait for the writer before requests wait to queue.
    pub queue_len: u32,
    /// Most events one worker claims at once (oldest first). Those about
    /// one PaymentIntent are applied together (one Stripe read).
    pub claim_max: u32,
    /// Groups (PaymentIntents) of one claim applied at once by a worker, so
    /// their Stripe reads overlap.
    pub apply_in_flight: u32,
    /// How long a worker waits after a claim that took everything there was
    /// (fewer than `claim_max`) before it claims again. Under a flood, the
    /// next claim then takes what arrived meanwhile in one go, instead of a
    /// few events per claim at two commits each; idle, an event is still
    /// claimed as soon as it is stored (0: claim again at once).
    pub linger_ms: u64,
    /// How long a worker holds an event it claimed; after that (a crash, a
    /// hang) another worker or instance may claim it.
    pub lease_secs: u64,
    /// How often an idle worker looks for work it was not told about
    /// (another instance's events, retries, expired leases).
    pub poll_ms: u64,
    /// A failed event is retried after 1 s, 2 s, 4 s, ... up to this.
    pub retry_max_secs: u64,
}

impl Default for InboxSettings {
    fn default() -> Self {
        InboxSettings {
            workers: 2,
            batch_max: 128,
            queue_len: 4096,
            claim_max: 128,
            apply_in_flight: 8,
            linger_ms: 50,
            lease_secs: 60,
            poll_ms: 1000,
            retry_max_secs: 300,
        }
    }
}

/// `[stripe]` in Rocket.toml; `STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET`
/// and `STRIPE_API_BASE` override it.
#[derive(Debug, Clone, Deserialize)]
pub struct StripeSettings {
    /// `sk_test_...` or `sk_live_...`. Without one, the simulator is used
    /// (debug profile, or `simulator = true`).
    #[serde(default)]
    pub secret_key: Option<Secret>,
    /// Webhook signing secrets, comma-separated or a list: several while rotating.
    #[serde(default, deserialize_with = "secret_list")]
    pub webhook_secret: Vec<Secret>,
    #[serde(default = "default_api_base")]
    pub api_base: String,
    /// Allows the offline simulator outside the debug profile.
    #[serde(default)]
    pub simulator: bool,
    #[serde(default = "default_stripe_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_stripe_retries")]
    pub max_retries: u32,
    #[serde(default = "default_webhook_tolerance")]
    pub webhook_tolerance_secs: i64,
    /// Refund at once money that arrives where it cannot go (a canceled
    /// order, a second payment of a paid order, an amount changed at
    /// Stripe). Off: such payments are only recorded, for an operator.
    #[serde(default = "default_auto_refund")]
    pub auto_refund: bool,
}

impl Default for StripeSettings {
    fn default() -> Self {
        StripeSettings {
            secret_key: None,
            webhook_secret: Vec::new(),
            api_base: default_api_base(),
            simulator: false,
            timeout_secs: default_stripe_timeout(),
            max_retries: default_stripe_retries(),
            auto_refund: default_auto_refund(),
            webhook_tolerance_secs: default_webhook_tolerance(),
        }
    }
}

impl StripeSettings {
    pub fn secret_key(&self) -> Option<&Secret> {
        self.secret_key.as_ref().filter(|key| !key.is_empty())
    }
}

fn default_api_base() -> String {
    DEFAULT_STRIPE_API_BASE.to_string()
}

fn default_stripe_timeout() -> u64 {
    30
}

fn default_stripe_retries() -> u32 {
    3
}

fn default_webhook_tolerance() -> i64 {
    DEFAULT_WEBHOOK_TOLERANCE_SECS
}

fn secret_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Secret>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let values = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(text) => text.split(',').map(str::to_string).collect(),
        OneOrMany::Many(list) => list,
    };
    Ok(values
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .map(Secret::new)
        .collect())
}

fn default_token_ttl() -> u64 {
    24 * 60 * 60
}

fn default_login_max_failures() -> u32 {
    5
}

fn default_login_window() -> u64 {
    15 * 60
}

fn default_reconcile_interval() -> u64 {
    5 * 60
}

fn default_reconcile_batch() -> u32 {
    100
}

fn default_auto_refund() -> bool {
    true
}

fn default_reconcile_refund_age() -> u64 {
    2 * 60
}

/// The shipped Rocket.toml, compiled in: the profiles' defaults (release
/// listens on 0.0.0.0 and never seeds demo data; debug seeds) hold wherever
/// the binary is started from, not only next to the file.
const BUILT_IN_SETTINGS: &str = include_str!("../Rocket.toml");

/// Rocket's own layering (defaults, Rocket.toml or `ROCKET_CONFIG`,
/// `ROCKET_*`) with the built-in settings between the defaults and the file:
/// a Rocket.toml that is found still overrides them key by key.
fn layered(config_file: &str) -> Figment {
    use rocket::figment::providers::{Env, Format, Toml};
    use rocket::figment::Profile;
    Figment::from(rocket::Config::default())
        .merge(Toml::string(BUILT_IN_SETTINGS).nested())
        .merge(Toml::file(config_file).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            rocket::Config::DEFAULT_PROFILE,
        ))
}

/// Rocket's figment (built-in settings, Rocket.toml, `ROCKET_*`), with
/// `DATABASE_URL` on top and, in the debug profile only, a zero-setup SQLite
/// default underneath.
pub fn figment() -> Figment {
    let config_file = std::env::var("ROCKET_CONFIG").unwrap_or_else(|_| "Rocket.toml".into());
    let mut figment = layered(&config_file);
    for (env, key) in [
        ("DATABASE_URL", DATABASE_URL_KEY),
        ("STRIPE_SECRET_KEY", "stripe.secret_key"),
        ("STRIPE_WEBHOOK_SECRET", "stripe.webhook_secret"),
        ("STRIPE_API_BASE", "stripe.api_base"),
    ] {
        if let Ok(value) = std::env::var(env) {
            if !value.trim().is_empty() {
                figment = figment.merge((key, value));
            }
        }
    }
    if figment.profile() == rocket::Config::DEBUG_PROFILE {
        figment = figment.join((DATABASE_URL_KEY, DEFAULT_DEBUG_DATABASE_URL));
    }
    figment
}

/// Refuses a configuration that cannot run, with a one-line reason.
pub fn check(figment: &Figment) -> Result<Settings, String> {
    let url: Option<String> = figment.extract_inner(DATABASE_URL_KEY).ok();
    match url {
        None => {
            return Err(format!(
                "profile '{}': no database configured: set DATABASE_URL or {DATABASE_URL_KEY} in Rocket.toml",
                figment.profile()
            ))
        }
        Some(url) if !(url.starts_with("sqlite:") || url.starts_with("postgres:") || url.starts_with("postgresql:")) => {
            return Err(format!(
                "{DATABASE_URL_KEY} must start with sqlite:, postgres: or postgresql: (got a URL with scheme '{}')",
                url.split(':').next().unwrap_or_default()
            ))
        }
        Some(_) => {}
    }
    let settings = figment
        .extract::<Settings>()
        .map_err(|e| format!("invalid settings: {e}"))?;
    let debug = figment.profile() == rocket::Config::DEBUG_PROFILE;
    if settings.stripe.secret_key().is_none() && !debug && !settings.stripe.simulator {
        return Err(format!(
            "profile '{}': no Stripe key: set STRIPE_SECRET_KEY (or stripe.simulator = true to run the offline simulator)",
            figment.profile()
        ));
    }
    if let Some(key) = settings.stripe.secret_key() {
        if !(key.expose().starts_with("sk_") || key.expose().starts_with("rk_")) {
            return Err("STRIPE_SECRET_KEY must be a secret key (sk_test_..., sk_live_...) or a restricted key (rk_...)".into());
        }
        if settings.stripe.webhook_secret.is_empty() {
            return Err("STRIPE_WEBHOOK_SECRET is required with a real Stripe key: webhooks cannot be verified without it".into());
        }
    }
    let inbox = &settings.webhook_inbox;
    if !(1..=1000).contains(&inbox.batch_max)
        || inbox.queue_len == 0
        || !(1..=1000).contains(&inbox.claim_max)
        || inbox.apply_in_flight == 0
        || inbox.linger_ms > 10_000
    {
        return Err(
            "webhook_inbox: batch_max must be 1..=1000, claim_max must be 1..=1000, queue_len and apply_in_flight at least 1, linger_ms at most 10000".into(),
        );
    }
    if inbox.workers > 64 || inbox.lease_secs == 0 || inbox.poll_ms == 0 {
        return Err(
            "webhook_inbox: workers must be at most 64, lease_secs and poll_ms at least 1".into(),
        );
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::figment::providers::Serialized;

    #[test]
    fn the_profiles_defaults_do_not_need_rocket_toml_in_the_working_directory() {
        let nowhere = "/nonexistent/orderpay/Rocket.toml";
        let release = layered(nowhere).select("release");
        let address: String = release.extract_inner("address").unwrap();
        assert_eq!(address, "0.0.0.0");
        assert!(!release.extract_inner::<bool>("demo_seed").unwrap());
        let debug = layered(nowhere).select("debug");
        let address: String = debug.extract_inner("address").unwrap();
        assert_eq!(address, "127.0.0.1");
        assert!(debug.extract_inner::<bool>("demo_seed").unwrap());
    }

    #[test]
    fn release_without_a_database_is_refused_in_one_line() {
        let figment = Figment::from(rocket::Config::default()).select("release");
        let reason = check(&figment).unwrap_err();
        assert!(reason.contains("DATABASE_URL"), "{reason}");
        assert!(!reason.contains('\n'));
    }

    #[test]
    fn release_needs_a_stripe_key_or_the_simulator() {
        let figment = Figment::from(rocket::Config::default())
            .select("release")
            .merge(Serialized::default(DATABASE_URL_KEY, "sqlite://x.db"));
        let reason = check(&figment).unwrap_err();
        assert!(reason.contains("STRIPE_SECRET_KEY"), "{reason}");
        let with_sim = figment
            .clone()
            .merge(Serialized::default("stripe.simulator", true));
        assert!(check(&with_sim).is_ok());
        let with_key = figment
            .merge(Serialized::default("stripe.secret_key", "sk_live_abc"))
            .merge(Serialized::default(
                "stripe.webhook_secret",
                "whsec_1, whsec_2",
            ));
        let settings = check(&with_key).unwrap();
        assert_eq!(settings.stripe.webhook_secret.len(), 2);
        assert_eq!(settings.stripe.webhook_secret[1].expose(), "whsec_2");
    }

    #[test]
    fn unknown_database_schemes_are_refused_without_echoing_the_url() {
        let figment = Figment::from(rocket::Config::default()).merge(Serialized::default(
            DATABASE_URL_KEY,
            "mysql://user:hunter2@db/x",
        ));
        let reason = check(&figment).unwrap_err();
        assert!(reason.contains("mysql"));
        assert!(!reason.contains("hunter2"));
    }

    #[test]
    fn a_worker_linger_past_ten_seconds_is_refused() {
        let figment = Figment::from(rocket::Config::default())
            .merge(Serialized::default(DATABASE_URL_KEY, "sqlite://x.db"));
        assert_eq!(check(&figment).unwrap().webhook_inbox.linger_ms, 50);
        let slow = figment.merge(Serialized::default("webhook_inbox.linger_ms", 10_001));
        let reason = check(&slow).unwrap_err();
        assert!(reason.contains("linger_ms"), "{reason}");
    }
}
