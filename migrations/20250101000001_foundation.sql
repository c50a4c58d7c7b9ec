-- orderpay foundation schema. Portable SQL: the same file runs on SQLite and
-- PostgreSQL. Ids are opaque TEXT, money is BIGINT minor units next to a
-- lowercase ISO currency, timestamps are fixed-width RFC 3339 UTC TEXT (so
-- text order is time order on both backends). Never edit once applied: add a
-- new migration instead.

-- Customers. Email is stored lowercased, so UNIQUE is case-insensitive.
CREATE TABLE users (
    id                 TEXT PRIMARY KEY,
    email              TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    stripe_customer_id TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

-- The catalog: the only source of prices a customer pays.
CREATE TABLE products (
    sku         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    currency    TEXT NOT NULL,
    unit_amount BIGINT NOT NULL CHECK (unit_amount > 0),
    -- 0/1 rather than BOOLEAN: sqlx's Any driver cannot read SQLite booleans.
    active      BIGINT NOT NULL CHECK (active IN (0, 1)),
    created_at  TEXT NOT NULL
);

-- Orders keep their own copy of what was bought (order_items), so a later
-- catalog change never alters what an order costs. A deleted user's orders
-- stay: they are financial records.
CREATE TABLE orders (
    id         TEXT PRIMARY KEY,
    number     TEXT NOT NULL UNIQUE,
    user_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
    email      TEXT,
    status     TEXT NOT NULL,
    currency   TEXT NOT NULL,
    amount     BIGINT NOT NULL CHECK (amount > 0),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX orders_by_created ON orders (created_at, id);
CREATE INDEX orders_by_user ON orders (user_id, created_at);

CREATE TABLE order_items (
    order_id    TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    unit_amount BIGINT NOT NULL CHECK (unit_amount > 0),
    quantity    BIGINT NOT NULL CHECK (quantity > 0),
    amount      BIGINT NOT NULL CHECK (amount > 0),
    PRIMARY KEY (order_id, position)
);

-- Append-only: every status change, who or what caused it, and when. seq is
-- per order; UNIQUE (order_id, seq) makes a double-written transition fail.
CREATE TABLE order_history (
    order_id    TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    source      TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
);

-- Server-to-server keys. Only a SHA-256 of the key is kept; prefix is the
-- first characters, shown in listings so an operator can tell keys apart.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    scopes     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
