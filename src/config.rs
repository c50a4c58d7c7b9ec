//! Settings: Rocket.toml profiles, `ROCKET_*` env overrides, and the plain
//! `DATABASE_URL` that deployments usually set.

use rocket::figment::Figment;
use serde::Deserialize;

/// The SQLite file `cargo run` creates when nothing else is configured.
pub const DEFAULT_DEBUG_DATABASE_URL: &str = "sqlite://data/orderpay.db?mode=rwc";
pub const DATABASE_URL_KEY: &str = "databases.orderpay.url";

/// A secret (API key, webhook secret) that never prints: Debug and Display
/// show a redacted form, so it cannot leak through logs or error messages.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Enough to tell a test key from a live one, nothing more.
        let kind = ["sk_test_", "sk_live_", "rk_test_", "rk_live_", "whsec_"]
            .into_iter()
            .find(|prefix| self.0.starts_with(prefix))
            .unwrap_or("");
        write!(f, "Secret({kind}****)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

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
}

impl Settings {
    pub fn refund_window(&self) -> crate::checkout::sweep::RefundWindow {
        let secs = i64::try_from(self.reconcile_refund_age_secs).unwrap_or(i64::MAX / 1000);
        crate::checkout::sweep::RefundWindow {
            min_age: chrono::Duration::seconds(secs.min(24 * 60 * 60)),
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
    crate::stripe::client::DEFAULT_API_BASE.to_string()
}

fn default_stripe_timeout() -> u64 {
    30
}

fn default_stripe_retries() -> u32 {
    3
}

fn default_webhook_tolerance() -> i64 {
    crate::stripe::webhook::DEFAULT_TOLERANCE_SECS
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
        .map(Secret)
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

/// Rocket's figment (Rocket.toml + `ROCKET_*`), with `DATABASE_URL` on top and,
/// in the debug profile only, a zero-setup SQLite default underneath.
pub fn figment() -> Figment {
    let mut figment = rocket::Config::figment();
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
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::figment::providers::Serialized;

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
    fn secrets_never_print() {
        let key = Secret::new("sk_live_51Habcdefghijklmnop");
        assert_eq!(format!("{key:?}"), "Secret(sk_live_****)");
        assert_eq!(format!("{key}"), "Secret(sk_live_****)");
        assert_eq!(
            format!("{:?}", Secret::new("whsec_onlysecret")),
            "Secret(whsec_****)"
        );
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(****)");
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
}
