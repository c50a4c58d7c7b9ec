-- An attempt whose create call ended without a known outcome (Stripe answered
-- 5xx, or nothing, after every retry). Stripe keeps a 5xx answer for the
-- attempt's Idempotency-Key and replays it, so the next request starts a new
-- attempt with a new key instead of asking again; the sweep and the
-- payment_intent.created webhook find whatever this one may have made.
ALTER TABLE payment_attempts ADD COLUMN outcome_unknown BIGINT NOT NULL DEFAULT 0;

-- Money that arrives where it cannot go (a canceled order, a second payment
-- of a paid order, an amount changed at Stripe) is refunded automatically:
-- what became of that refund is kept with the mismatch that found it.
--   refund_status: NULL (not yet tried or to be retried), pending, refunded,
--   not_refunded (automatic refunds are off: an operator decides).
ALTER TABLE payment_mismatches ADD COLUMN refund_status TEXT;
ALTER TABLE payment_mismatches ADD COLUMN stripe_refund_id TEXT;
