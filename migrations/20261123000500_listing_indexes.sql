-- Indexes for a million orders: listings that read one page, and a
-- reconciliation sweep that visits only what can still change. Partial
-- indexes are used where both backends have them; a query uses one only when
-- its WHERE repeats the index's condition word for word, with the same
-- literals (not bound parameters): the store's queries do, from
-- src/store/partial_indexes.rs, whose test checks this file repeats them.

-- A customer's own orders, newest first, keyset-paginated on (created_at,
-- id): the index holds the whole ORDER BY, so a page reads LIMIT rows
-- whatever the customer's size. PostgreSQL's generic plan of a pooled
-- prepared statement expects a sixth of all orders per customer when there
-- are six; with (user_id, created_at) alone it preferred walking
-- orders_by_created and filtering, which for a customer with 12 orders reads
-- all of them. This one covers everything orders_by_user did.
CREATE INDEX orders_by_user_created ON orders (user_id, created_at, id);
DROP INDEX orders_by_user;

-- Listings filtered by status, newest first: a status few orders or payments
-- have (processing, payment_failed) otherwise walks the whole table from the
-- newest row looking for LIMIT matches.
CREATE INDEX orders_by_status ON orders (status, created_at, id);
CREATE INDEX payment_attempts_by_status ON payment_attempts (status, created_at, id);

-- The sweep's two sources, each read in its own visiting order (least
-- recently checked first). 1. Attempts whose PaymentIntent was not last seen
-- in a final status: they may still change at Stripe.
CREATE INDEX payment_attempts_unsettled
    ON payment_attempts (COALESCE(checked_at, ''), created_at, id)
    WHERE payment_intent_id IS NOT NULL AND COALESCE(status, '') NOT IN ('canceled', 'succeeded');

-- 2. Orders that can still be paid (a lost webhook may have left one paid at
-- Stripe): their attempts are looked up by (order_id, attempt).
CREATE INDEX orders_payable ON orders (id)
    WHERE status IN ('pending_payment', 'processing', 'payment_failed');

-- Attempts whose create call had no known outcome and no PaymentIntent yet.
CREATE INDEX payment_attempts_lost ON payment_attempts (created_at)
    WHERE outcome_unknown = 1 AND payment_intent_id IS NULL;

-- Stray money whose automatic refund is not made yet (or is pending).
CREATE INDEX payment_mismatches_unrefunded ON payment_mismatches (order_id, payment_intent_id)
    WHERE reason IN ('currency_mismatch', 'amount_mismatch', 'order_not_payable', 'duplicate_payment') AND (refund_status IS NULL OR refund_status = 'pending');

-- Refunds still pending (Stripe's answer lost, or pending at Stripe).
CREATE INDEX refunds_pending ON refunds (updated_at, id) WHERE status = 'pending';
