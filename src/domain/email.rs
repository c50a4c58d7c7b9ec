//! A deliberately plain email check: what a shop needs to send a receipt, not
//! RFC 5322. Normalization (lowercasing) happens in the user store.

pub const MAX_EMAIL_LEN: usize = 254;

pub fn is_valid_email(email: &str) -> bool {
    let email = email.trim();
    if email.len() > MAX_EMAIL_LEN || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        assert!(is_valid_email("jane@example.com"));
        assert!(is_valid_email("Jane.Doe+shop@mail.example.co.uk"));
    }

    #[test]
    fn refuses_malformed_ones() {
        for bad in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "jane@example",
            "a@b@c.com",
            "ja ne@x.com",
            "jane@.com",
            "jane@x..com",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
        assert!(!is_valid_email(&format!("{}@example.com", "a".repeat(65))));
    }
}
