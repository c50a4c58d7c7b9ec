-- Two money fixes: UGX amounts move to Stripe's two-decimal units, and a
-- refund remembers the whole request its caller's Idempotency-Key was sent with.

-- 1. UGX was stored as zero-decimal (5000 UGX as 5000). Stripe takes UGX as
-- two-decimal whole shillings (5000 UGX is 500000), which is how orderpay
-- now reads the column. Rows Stripe never saw are rewritten so they keep
-- their price: the catalog, and orders no PaymentIntent was ever asked for
-- (no attempt row; a seeded order included) with their items.
--
-- Orders with an attempt are left alone: Stripe holds their PaymentIntents
-- in the old units, and a paid one really was charged 1/100 of its price
-- (5000 stored, 50 UGX taken). Read in the new units, the stored amount is
-- exactly what Stripe charged, so marking paid, refunds and reconciliation
-- stay consistent with Stripe; they now show as 50.00 UGX. Such orders need
-- an operator: they are kept in currency_unit_review, which
-- `orderpay check-currencies` lists with what to do about each.
CREATE TABLE currency_unit_review (
    order_id    TEXT PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    -- The order's stored amount when this migration ran: Stripe's minor
    -- units, in which 1/100 of the meant price was asked for.
    amount      BIGINT NOT NULL,
    currency    TEXT NOT NULL,
    reason      TEXT NOT NULL
);
INSERT INTO currency_unit_review (order_id, amount, currency, reason)
SELECT id, amount, currency, 'ugx_charged_one_hundredth' FROM orders
WHERE currency = 'ugx'
  AND EXISTS (SELECT 1 FROM payment_attempts a WHERE a.order_id = orders.id);

UPDATE products SET unit_amount = unit_amount * 100 WHERE currency = 'ugx';

UPDATE order_items SET unit_amount = unit_amount * 100, amount = amount * 100
WHERE order_id IN (
    SELECT id FROM orders
    WHERE currency = 'ugx'
      AND NOT EXISTS (SELECT 1 FROM payment_attempts a WHERE a.order_id = orders.id)
);

UPDATE orders SET amount = amount * 100
WHERE currency = 'ugx'
  AND NOT EXISTS (SELECT 1 FROM payment_attempts a WHERE a.order_id = orders.id);

-- 2. A SHA-256 of the caller's normalized refund request (order, amount in
-- minor units or "full", reason), so a reused Idempotency-Key with any other
-- request is told apart, even one that would resolve to the same amount.
-- NULL on refunds made before this column: those compare amount and reason.
ALTER TABLE refunds ADD COLUMN request_fingerprint TEXT;
