-- The generation of the Idempotency-Key a user's Stripe customer is created
-- with (`orderpay:customer:v2:<user_id>[:<generation>]`). A create whose
-- outcome is unknown (Stripe answered 5xx, which it keeps and replays for
-- the key, or nothing) moves it on, so the next try is not answered with
-- that replay for a day. A customer the abandoned key may have made is an
-- empty orphan at Stripe: no payment is ever made with it.
ALTER TABLE users ADD COLUMN stripe_customer_key_gen BIGINT NOT NULL DEFAULT 0;
