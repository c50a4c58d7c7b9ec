-- A claim skips an event while another event about the same PaymentIntent
-- is leased (`NOT EXISTS ... status = 'processing'`). Without an index of
-- its own that test was a scan of the whole inbox on PostgreSQL for every
-- candidate row (8 ms at 20,000 rows, growing with processed events); this
-- index holds only the leased rows, a handful at any time.
CREATE INDEX webhook_events_leased_by_pi ON webhook_events (payment_intent_id)
    WHERE status = 'processing';
