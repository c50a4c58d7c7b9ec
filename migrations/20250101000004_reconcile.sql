-- Reconciliation: a sweep asks Stripe about the PaymentIntents of orders that
-- are still payable, so an order paid at Stripe is marked paid even when no
-- webhook and no callback ever arrives. checked_at lets the sweep visit the
-- least recently checked attempts first, so a bounded batch still reaches
-- every attempt in turn.
ALTER TABLE payment_attempts ADD COLUMN checked_at TEXT;
