//! What operators look at when money and orders disagree: the webhook inbox
//! and the recorded payment mismatches.

use schemars::JsonSchema;
use serde::Serialize;

use crate::checkout::sweep::SweepReport;
use crate::store::payments::MismatchRow;
use crate::store::webhook_events::EventRow;

#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookEventView {
    /// Stripe's event id (`evt_...`).
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub payment_intent_id: Option<String>,
    pub order_id: Option<String>,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub received_at: String,
    /// null until a worker has applied it.
    #[schemars(schema_with = "crate::http::openapi::formats::nullable_date_time")]
    pub processed_at: Option<String>,
    /// What applying it did: `paid`, `already_paid`, `foreign`, `ignored`,
    /// `mismatch:<reason>`, `refund_applied`, `provider_refused`, ...
    pub outcome: Option<String>,
    /// `pending` (stored, not tried), `processing` (a worker holds it),
    /// `failed` (the last try failed; tried again later), `processed`.
    #[schemars(schema_with = "crate::http::openapi::formats::inbox_status")]
    pub status: String,
    /// Tries so far.
    pub attempts: i64,
    /// Why the last try failed (`<code>: <message>`); null once processed.
    pub last_error: Option<String>,
}

impl From<EventRow> for WebhookEventView {
    fn from(row: EventRow) -> Self {
        WebhookEventView {
            id: row.id,
            kind: row.kind,
            payment_intent_id: row.payment_intent_id,
            order_id: row.order_id,
            received_at: row.received_at,
            processed_at: row.processed_at,
            outcome: row.outcome,
            status: row.status.to_string(),
            attempts: row.attempts,
            last_error: row.last_error,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MismatchView {
    pub id: String,
    pub order_id: String,
    pub payment_intent_id: String,
    /// Who found it: `callback`, `webhook:evt_...`, `reconcile`, `api`.
    pub source: String,
    /// `amount_mismatch`, `currency_mismatch`, `metadata_mismatch`,
    /// `order_not_payable` (money for a canceled order) or `duplicate_payment`
    /// (a second PaymentIntent paid an order that was already paid).
    pub reason: String,
    pub detail: String,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub at: String,
    /// For money taken that cannot pay the order: `refunded` or `pending`
    /// (refunded automatically), `not_refunded` (automatic refunds are off:
    /// an operator decides), absent while the refund is still to be made.
    pub refund_status: Option<String>,
    /// The Stripe refund (`re_...`) that gave the money back, when known.
    pub stripe_refund_id: Option<String>,
}

impl From<MismatchRow> for MismatchView {
    fn from(row: MismatchRow) -> Self {
        MismatchView {
            id: row.id,
            order_id: row.order_id,
            payment_intent_id: row.payment_intent_id,
            source: row.source.to_string(),
            reason: row.reason.as_str().to_string(),
            detail: row.detail,
            at: row.at,
            refund_status: row.refund_status.map(|status| status.as_str().to_string()),
            stripe_refund_id: row.stripe_refund_id,
        }
    }
}

/// What one sweep found.
// Keeps the schema name the document had when the use case's own type was shown.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "SweepReport")]
pub struct SweepReportView {
    /// PaymentIntents asked about.
    pub checked: u32,
    /// Orders this sweep marked paid.
    pub paid: u32,
    /// Orders moved to another status (processing, payment_failed, canceled).
    pub changed: u32,
    /// PaymentIntents that do not match their order (recorded once each).
    pub mismatched: u32,
    /// PaymentIntents or refunds Stripe could not be asked about; the next
    /// sweep tries again.
    pub failed: u32,
    /// Pending refunds (Stripe's answer was lost) sent again and settled.
    pub refunds_settled: u32,
}

impl From<SweepReport> for SweepReportView {
    fn from(report: SweepReport) -> Self {
        SweepReportView {
            checked: report.checked,
            paid: report.paid,
            changed: report.changed,
            mismatched: report.mismatched,
            failed: report.failed,
            refunds_settled: report.refunds_settled,
        }
    }
}
