use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::Serialize;

/// What an API key may do. Scopes are exact: `admin` does not imply the others,
/// so a leaked admin key cannot mark orders paid, and a payment-system key
/// cannot seed data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, JsonSchema)]
pub enum Scope {
    #[serde(rename = "admin")]
    Admin,
    #[serde(rename = "checkout")]
    Checkout,
    #[serde(rename = "payments:callback")]
    PaymentsCallback,
    #[serde(rename = "payments:read")]
    PaymentsRead,
    #[serde(rename = "refunds:write")]
    RefundsWrite,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Admin,
        Scope::Checkout,
        Scope::PaymentsCallback,
        Scope::PaymentsRead,
        Scope::RefundsWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Checkout => "checkout",
            Scope::PaymentsCallback => "payments:callback",
            Scope::PaymentsRead => "payments:read",
            Scope::RefundsWrite => "refunds:write",
        }
    }

    /// Parses `a,b,c`; an unknown name is an error naming it.
    pub fn parse_list(text: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let scope = name.parse::<Scope>().map_err(|_| {
                let known: Vec<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown scope '{name}' (known: {})", known.join(", "))
            })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err("at least one scope is required".into());
        }
        Ok(scopes)
    }

    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_dedupes() {
        assert_eq!(
            Scope::parse_list("admin, checkout,admin").unwrap(),
            vec![Scope::Admin, Scope::Checkout]
        );
        assert!(Scope::parse_list("admin,root")
            .unwrap_err()
            .contains("root"));
        assert!(Scope::parse_list(" , ").is_err());
    }
}
