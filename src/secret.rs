//! The one type every credential travels in. Its own module, so that
//! `config` (which reads secrets) and `stripe` (which sends them) both use it
//! without either importing the other.

/// A secret (API key, webhook secret) that never prints: Debug and Display
/// show a redacted form, so it cannot leak through logs or error messages.
#[derive(Clone, Default, serde::Deserialize, PartialEq, Eq)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
