-- The webhook inbox becomes a queue: a delivery is acknowledged once its row
-- is committed, and workers apply it afterwards.
--   status         pending (never tried), processing (claimed; the lease is
--                  `claimed_until`), failed (the last try failed; retried
--                  from `claimed_until` on), processed (done, `outcome` says
--                  what it did).
--   attempts       tries so far.
--   claimed_until  a lease while processing, the earliest retry while failed;
--                  a worker claims a row only when it is NULL or past, with a
--                  conditional UPDATE, so two workers (or two instances)
--                  never hold one row at once.
--   claim_token    whose lease it is: a worker finishes only rows it still holds.
--   last_error     why the last try failed, for the admin view.
ALTER TABLE webhook_events ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE webhook_events ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhook_events ADD COLUMN claimed_until TEXT;
ALTER TABLE webhook_events ADD COLUMN claim_token TEXT;
ALTER TABLE webhook_events ADD COLUMN last_error TEXT;

UPDATE webhook_events SET status = 'processed', attempts = 1 WHERE processed_at IS NOT NULL;

-- Workers look only at what is still to do, oldest first; the index holds
-- only those rows, so it stays small however long the inbox grows.
CREATE INDEX webhook_events_to_apply ON webhook_events (received_at, id)
    WHERE status <> 'processed';
-- Coalescing: the other unapplied events about one PaymentIntent.
CREATE INDEX webhook_events_to_apply_by_pi ON webhook_events (payment_intent_id)
    WHERE status <> 'processed';
