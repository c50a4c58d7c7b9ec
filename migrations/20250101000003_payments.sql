-- Payments: PaymentIntent attempts, the webhook inbox, and recorded mismatches.

-- One row per PaymentIntent orderpay asks Stripe for, written BEFORE the call.
-- Its idempotency_key (orderpay:pi:<order_id>:<attempt>) is what every
-- concurrent or retried request for the same attempt sends, so Stripe creates
-- one PaymentIntent per attempt however often orderpay asks or crashes.
CREATE TABLE payment_attempts (
    id                TEXT PRIMARY KEY,
    order_id          TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    attempt           BIGINT NOT NULL,
    idempotency_key   TEXT NOT NULL UNIQUE,
    payment_intent_id TEXT UNIQUE,
    amount            BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    -- Bumped before each server-side confirm: its key is orderpay:confirm:<id>:<n>.
    confirmations     BIGINT NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (order_id, attempt)
);

-- Refunded so far, from charge.refunded events (cumulative, only grows).
ALTER TABLE orders ADD COLUMN amount_refunded BIGINT NOT NULL DEFAULT 0;

-- The durable webhook inbox: an event id is stored once; a redelivery finds
-- it and does nothing. Unknown and foreign events are kept too.
CREATE TABLE webhook_events (
    id                TEXT PRIMARY KEY,
    type              TEXT NOT NULL,
    payment_intent_id TEXT,
    order_id          TEXT,
    payload           TEXT NOT NULL,
    received_at       TEXT NOT NULL,
    processed_at      TEXT,
    outcome           TEXT
);

-- A PaymentIntent that did not match its order (amount, currency, metadata,
-- status) or that succeeded for an order that can no longer be paid.
-- Nothing is marked paid for these; an operator looks at them.
CREATE TABLE payment_mismatches (
    id                TEXT PRIMARY KEY,
    order_id          TEXT NOT NULL,
    payment_intent_id TEXT NOT NULL,
    source            TEXT NOT NULL,
    reason            TEXT NOT NULL,
    detail            TEXT NOT NULL,
    at                TEXT NOT NULL
);
CREATE INDEX payment_mismatches_by_order ON payment_mismatches (order_id);
