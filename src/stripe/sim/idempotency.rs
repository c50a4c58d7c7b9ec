//! Idempotency-Key memory, as Stripe keeps it: the first result of a request
//! that began executing (success, refusal or 500 alike) is saved with a
//! fingerprint of the request and replayed for the same key; the same key
//! with other parameters is an `idempotency_error`; a key whose request is
//! still running is "in use"; keys are forgotten 24 hours after their result
//! was saved (on the simulator's clock), after which the key starts anew.

use std::collections::HashMap;

use serde_json::Value;

/// Stripe: "keys are eligible to be removed ... after they're at least 24 hours old".
pub const KEY_TTL_SECS: i64 = 24 * 60 * 60;

#[derive(Debug, Clone)]
pub enum KeyState {
    InFlight {
        fingerprint: String,
    },
    Done {
        fingerprint: String,
        status: u16,
        body: Value,
        saved_at: i64,
    },
}

/// What to do with a request carrying a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// No live result: run it (the key is now in flight).
    Execute,
    Replay {
        status: u16,
        body: Value,
    },
    /// The key was first used with other parameters.
    Mismatch,
    /// The first request with this key is still running.
    InUse,
}

#[derive(Debug, Default)]
pub struct KeyStore {
    keys: HashMap<String, KeyState>,
}

impl KeyStore {
    pub fn begin(&mut self, key: &str, fingerprint: &str, now: i64) -> Begin {
        let begin = match self.keys.get(key) {
            Some(KeyState::Done {
                fingerprint: first,
                status,
                body,
                saved_at,
            }) if now < saved_at + KEY_TTL_SECS => {
                if first == fingerprint {
                    Begin::Replay {
                        status: *status,
                        body: body.clone(),
                    }
                } else {
                    Begin::Mismatch
                }
            }
            Some(KeyState::InFlight { fingerprint: first }) => {
                if first == fingerprint {
                    Begin::InUse
                } else {
                    Begin::Mismatch
                }
            }
            // Never seen, or expired: a new request.
            _ => Begin::Execute,
        };
        if begin == Begin::Execute {
            self.keys.insert(
                key.to_string(),
                KeyState::InFlight {
                    fingerprint: fingerprint.to_string(),
                },
            );
        }
        begin
    }

    /// Keeps the result of a request that began executing.
    pub fn save(&mut self, key: &str, fingerprint: String, status: u16, body: Value, now: i64) {
        self.keys.insert(
            key.to_string(),
            KeyState::Done {
                fingerprint,
                status,
                body,
                saved_at: now,
            },
        );
    }

    /// Drops the key of a request that never began (failed validation, or a
    /// fault before execution): a retry with it runs afresh.
    pub fn forget(&mut self, key: &str) {
        self.keys.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_saved_result_is_replayed_until_it_expires() {
        let mut keys = KeyStore::default();
        assert_eq!(keys.begin("k", "a", 1_000), Begin::Execute);
        assert_eq!(keys.begin("k", "a", 1_000), Begin::InUse);
        assert_eq!(keys.begin("k", "b", 1_000), Begin::Mismatch);
        keys.save("k", "a".into(), 500, json!({"error": {}}), 1_000);
        assert_eq!(
            keys.begin("k", "a", 1_000 + KEY_TTL_SECS - 1),
            Begin::Replay {
                status: 500,
                body: json!({"error": {}})
            }
        );
        assert_eq!(keys.begin("k", "b", 1_001), Begin::Mismatch);
        assert_eq!(keys.begin("k", "b", 1_000 + KEY_TTL_SECS), Begin::Execute);
    }

    #[test]
    fn a_forgotten_key_runs_again() {
        let mut keys = KeyStore::default();
        assert_eq!(keys.begin("k", "a", 0), Begin::Execute);
        keys.forget("k");
        assert_eq!(keys.begin("k", "b", 0), Begin::Execute);
    }
}
