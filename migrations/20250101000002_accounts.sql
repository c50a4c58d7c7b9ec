-- Accounts: bearer access tokens and login throttling.

-- Only a SHA-256 of each token is kept. A token stops working when it
-- expires, when it is revoked (logout, password change) or when its user is
-- deleted (CASCADE).
CREATE TABLE access_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX access_tokens_by_user ON access_tokens (user_id);

-- Failed logins per (lowercased) email, whether or not the account exists,
-- so throttling works across instances and says nothing about existence.
CREATE TABLE login_failures (
    id    TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    at    TEXT NOT NULL
);
CREATE INDEX login_failures_by_email ON login_failures (email, at);
