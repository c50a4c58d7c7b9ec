-- Refunds orderpay asks Stripe for, and the PaymentIntent that paid each order.

-- Set when an order is marked paid: the PaymentIntent a refund goes against
-- (an order may have had several attempts; only one paid it).
ALTER TABLE orders ADD COLUMN paid_payment_intent_id TEXT;

-- One row per refund, written BEFORE the Stripe call with the amount it
-- reserves: its idempotency_key (orderpay:refund:<id>) makes a retried call
-- refund once, and the reservation keeps concurrent refunds of one order
-- from adding up to more than was paid. request_key is the caller's own
-- Idempotency-Key header, so a client retrying after a lost answer gets the
-- same refund back instead of a second one.
CREATE TABLE refunds (
    id                TEXT PRIMARY KEY,
    order_id          TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    payment_intent_id TEXT NOT NULL,
    amount            BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    reason            TEXT,
    -- pending (reserved, Stripe not yet answered or refund in progress),
    -- succeeded, failed, canceled: Stripe's refund statuses.
    status            TEXT NOT NULL,
    stripe_refund_id  TEXT UNIQUE,
    idempotency_key   TEXT NOT NULL UNIQUE,
    request_key       TEXT,
    failure_code      TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (order_id, request_key)
);
CREATE INDEX refunds_by_order ON refunds (order_id);
