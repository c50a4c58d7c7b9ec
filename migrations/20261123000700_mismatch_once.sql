-- A mismatch is recorded once per order, PaymentIntent and reason. The
-- insert's NOT EXISTS guard could not hold that when two messages about one
-- PaymentIntent were applied at once (two inbox workers, or the callback and
-- the sweep): both saw no row. A unique index makes it hold; any duplicate
-- already stored is removed first, keeping the earliest (duplicates describe
-- the same payment and its one automatic refund, whose Idempotency-Key is the
-- PaymentIntent's).
DELETE FROM payment_mismatches WHERE EXISTS (
    SELECT 1 FROM payment_mismatches AS earlier
    WHERE earlier.order_id = payment_mismatches.order_id
      AND earlier.payment_intent_id = payment_mismatches.payment_intent_id
      AND earlier.reason = payment_mismatches.reason
      AND (earlier.at < payment_mismatches.at
           OR (earlier.at = payment_mismatches.at AND earlier.id < payment_mismatches.id)));

CREATE UNIQUE INDEX payment_mismatches_once
    ON payment_mismatches (order_id, payment_intent_id, reason);
