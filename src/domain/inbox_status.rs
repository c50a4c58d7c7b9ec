//! Where a stored webhook event is on its way to being applied.

use std::fmt;
use std::str::FromStr;

use super::unknown_name::{find_named, UnknownName};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxStatus {
    /// Stored, never tried.
    Pending,
    /// A worker holds it (until its lease runs out).
    Processing,
    /// The last try failed; it is tried again after a delay.
    Failed,
    /// Applied; the outcome says what that did.
    Processed,
}

impl InboxStatus {
    pub const ALL: [InboxStatus; 4] = [
        InboxStatus::Pending,
        InboxStatus::Processing,
        InboxStatus::Failed,
        InboxStatus::Processed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InboxStatus::Pending => "pending",
            InboxStatus::Processing => "processing",
            InboxStatus::Failed => "failed",
            InboxStatus::Processed => "processed",
        }
    }
}

impl fmt::Display for InboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InboxStatus {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, UnknownName> {
        find_named(
            "webhook inbox status",
            &InboxStatus::ALL,
            InboxStatus::as_str,
            text,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_reads_back_from_its_text_and_nothing_else_does() {
        for status in InboxStatus::ALL {
            assert_eq!(status.as_str().parse::<InboxStatus>().unwrap(), status);
        }
        assert!("Pending".parse::<InboxStatus>().is_err());
        assert!("".parse::<InboxStatus>().is_err());
    }
}
