//! Rules for account fields, kept apart from HTTP so they are unit-tested.

use super::email::is_valid_email;

pub const MIN_PASSWORD_CHARS: usize = 8;
/// Argon2 takes any length; the cap keeps a megabyte "password" from being work.
pub const MAX_PASSWORD_CHARS: usize = 128;
pub const MAX_NAME_CHARS: usize = 100;

/// (field, code, message) of the first problem found.
pub type FieldProblem = (&'static str, &'static str, String);

pub fn check_email(email: &str) -> Result<(), FieldProblem> {
    if is_valid_email(email) {
        Ok(())
    } else {
        Err((
            "email",
            "invalid_email",
            "is not a valid email address".into(),
        ))
    }
}

pub fn check_name(name: &str) -> Result<(), FieldProblem> {
    let chars = name.trim().chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err((
            "name",
            "invalid_name",
            format!("must be 1-{MAX_NAME_CHARS} characters, without control characters"),
        ));
    }
    Ok(())
}

pub fn check_password(field: &'static str, password: &str) -> Result<(), FieldProblem> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err((
            field,
            "invalid_password",
            format!("must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_bounded() {
        assert!(check_password("password", "1234567").is_err());
        assert!(check_password("password", "12345678").is_ok());
        assert!(check_password("password", &"x".repeat(129)).is_err());
        assert!(check_password("password", &"é".repeat(128)).is_ok());
    }

    #[test]
    fn names_are_bounded() {
        assert!(check_name("Ada").is_ok());
        assert!(check_name("   ").is_err());
        assert!(check_name(&"a".repeat(101)).is_err());
        assert!(check_name("a\u{0}b").is_err());
    }
}
