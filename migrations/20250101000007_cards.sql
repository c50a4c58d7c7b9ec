-- Saved cards: Stripe PaymentMethods attached to a user's Stripe customer.
-- Card details are Stripe's display fields only (brand, last 4, expiry);
-- card numbers never reach orderpay. requested_as is the id the client sent
-- (a Stripe.js pm_... id or a test alias), so saving it again finds this row.
CREATE TABLE cards (
    id                       TEXT PRIMARY KEY,
    user_id                  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stripe_payment_method_id TEXT NOT NULL UNIQUE,
    requested_as             TEXT NOT NULL,
    brand                    TEXT NOT NULL,
    last4                    TEXT NOT NULL,
    exp_month                BIGINT NOT NULL,
    exp_year                 BIGINT NOT NULL,
    created_at               TEXT NOT NULL,
    UNIQUE (user_id, requested_as)
);
CREATE INDEX cards_by_user ON cards (user_id, created_at, id);
