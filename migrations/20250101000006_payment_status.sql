-- The PaymentIntent's status as orderpay last saw it (creation, confirmation,
-- callback, webhook, sweep), for payment listings. 'succeeded' and 'canceled'
-- are final and never overwritten by an older, slower observation.
ALTER TABLE payment_attempts ADD COLUMN status TEXT;
CREATE INDEX payment_attempts_by_created ON payment_attempts (created_at, id);
