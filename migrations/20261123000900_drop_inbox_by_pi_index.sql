-- `webhook_events_to_apply_by_pi` served the first workers, which gathered
-- the other unapplied events of a claimed event's PaymentIntent. Claims now
-- take the oldest events and group them in the worker; the one per-
-- PaymentIntent test left (is another event of it leased?) reads
-- `webhook_events_leased_by_pi`. Nothing reads this index, and every stored
-- event and every lease paid for an entry in it.
DROP INDEX IF EXISTS webhook_events_to_apply_by_pi;
