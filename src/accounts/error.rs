//! What can go wrong registering, logging in or changing an account. Each
//! has a machine-readable `code()` and a `Display` text a caller may read
//! (never the cause of a database failure or a bug); statuses and the
//! `Retry-After` header are decided once, in `http::error::accounts`.
//! Database failures and bugs are logged where the error is built, so the
//! HTTP mapping never logs them again.

use crate::domain::account::FieldProblem;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input field the use case refuses; `code` says what is wrong with it.
    #[error("{field}: {message}")]
    InvalidInput {
        code: &'static str,
        field: &'static str,
        message: String,
    },
    #[error("an account with this email already exists")]
    EmailTaken,
    /// One answer for an unknown email and a wrong password.
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    /// Throttled: too many failed logins or probing registrations.
    #[error("{message}")]
    TooManyAttempts {
        message: &'static str,
        retry_after_secs: u64,
    },
    /// The password hashing queue is full; a retry shortly may pass.
    #[error("too many password checks in progress; retry shortly")]
    HashingBusy { retry_after_secs: u64 },
    #[error("{}", crate::db::failure_message(.0))]
    Database(#[source] sqlx::Error),
    /// A bug; the cause (kept for `Debug`) was logged when it was built.
    #[error("internal server error")]
    Internal(String),
}

impl Error {
    /// What went wrong, for machines: the API's `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidInput { code, .. } => code,
            Error::EmailTaken => "email_taken",
            Error::InvalidCredentials => "invalid_credentials",
            Error::TooManyAttempts { .. } => "too_many_attempts",
            Error::HashingBusy { .. } => "hashing_busy",
            Error::Database(error) if crate::db::is_outage(error) => "database_unavailable",
            Error::Database(_) | Error::Internal(_) => "internal_error",
        }
    }

    /// When the caller may try again, in seconds, if throttled.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Error::TooManyAttempts {
                retry_after_secs, ..
            }
            | Error::HashingBusy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// Logs the real cause; callers only ever learn that something failed.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Error::Internal(cause.to_string())
    }
}

impl From<FieldProblem> for Error {
    fn from((field, code, message): FieldProblem) -> Self {
        Error::InvalidInput {
            code,
            field,
            message,
        }
    }
}

/// Logged here, where it is first an error of accounts': see the module comment.
impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        crate::db::log_failure(&error);
        Error::Database(error)
    }
}
