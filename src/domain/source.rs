//! Who or what made a recorded change: the `source` of each step in an
//! order's history, and of each recorded payment mismatch. Stored and
//! shown as text: `api`, `admin`, `webhook:evt_...`, `auto_refund:pi_...`.

use std::fmt;
use std::str::FromStr;

use super::unknown_name::UnknownName;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// An API call: creating an order, asking for its PaymentIntent, a
    /// customer canceling.
    Api,
    /// Server-side confirmation of the order's PaymentIntent.
    Confirm,
    /// An admin's API call (canceling an order).
    Admin,
    /// `orderpay seed`.
    Seed,
    /// The payment system's callback.
    Callback,
    /// The reconciliation sweep.
    Reconcile,
    /// A Stripe event, by its id (`evt_...`).
    Webhook(String),
    /// One of orderpay's refunds, by its row id.
    Refund(String),
    /// The automatic refund of money a PaymentIntent (`pi_...`) took that
    /// cannot pay the order.
    AutoRefund(String),
}

/// The sources without an id, by name.
const PLAIN: [(Source, &str); 6] = [
    (Source::Api, "api"),
    (Source::Confirm, "api:confirm"),
    (Source::Admin, "admin"),
    (Source::Seed, "seed"),
    (Source::Callback, "callback"),
    (Source::Reconcile, "reconcile"),
];

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Webhook(event_id) => write!(f, "webhook:{event_id}"),
            Source::Refund(refund_id) => write!(f, "refund:{refund_id}"),
            Source::AutoRefund(payment_intent_id) => write!(f, "auto_refund:{payment_intent_id}"),
            plain => {
                let (_, name) = PLAIN
                    .iter()
                    .find(|(source, _)| source == plain)
                    .expect("every source without an id is in PLAIN");
                f.write_str(name)
            }
        }
    }
}

/// The stored text back: a plain name, or `<kind>:<id>` for the three
/// kinds that carry one. Anything else is an error.
impl FromStr for Source {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        if let Some((source, _)) = PLAIN.iter().find(|(_, name)| *name == s) {
            return Ok(source.clone());
        }
        let with_id = match s.split_once(':') {
            Some(("webhook", id)) => Source::Webhook(id.to_string()),
            Some(("refund", id)) => Source::Refund(id.to_string()),
            Some(("auto_refund", id)) => Source::AutoRefund(id.to_string()),
            _ => return Err(UnknownName::new("source", s)),
        };
        Ok(with_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_round_trips_its_text() {
        let all = [
            (Source::Api, "api"),
            (Source::Confirm, "api:confirm"),
            (Source::Admin, "admin"),
            (Source::Seed, "seed"),
            (Source::Callback, "callback"),
            (Source::Reconcile, "reconcile"),
            (Source::Webhook("evt_1".into()), "webhook:evt_1"),
            (Source::Refund("r1".into()), "refund:r1"),
            (Source::AutoRefund("pi_1".into()), "auto_refund:pi_1"),
        ];
        for (source, text) in all {
            assert_eq!(source.to_string(), text);
            assert_eq!(text.parse(), Ok(source));
        }
    }

    #[test]
    fn an_id_keeps_its_colons() {
        let source = Source::Webhook("evt:odd".into());
        assert_eq!(source.to_string().parse(), Ok(source));
    }

    #[test]
    fn unknown_text_is_an_error() {
        for text in ["sweep", "API", "webhooks:evt_1", "", "test"] {
            assert_eq!(
                text.parse::<Source>(),
                Err(UnknownName::new("source", text))
            );
        }
    }
}
