//! The conditions of the partial indexes in the `listing_indexes` migration,
//! built from the domain's own values. A query uses a partial index only
//! when its WHERE repeats the index's condition with the same literals
//! (SQLite compares the expressions; PostgreSQL cannot prove that a bound
//! parameter matches), so the store writes these into its statements instead
//! of binding them, and the test below keeps them and the migration in step.

use crate::domain::{
    MismatchReason, OrderStatus, PaymentIntentStatus, RefundStatus, StrayRefundStatus,
};

/// `'a', 'b'`: values written into a statement, in the order given.
fn literals(values: impl IntoIterator<Item = &'static str>) -> String {
    values
        .into_iter()
        .map(|value| format!("'{value}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An attempt whose PaymentIntent was not last seen in a final status
/// (`payment_attempts_unsettled`); `table` is the attempts' alias with its dot.
pub fn attempt_still_changing(table: &str) -> String {
    let finals = PaymentIntentStatus::ALL
        .into_iter()
        .filter(|status| status.is_final())
        .map(PaymentIntentStatus::as_str);
    format!(
        "{table}payment_intent_id IS NOT NULL AND COALESCE({table}status, '') NOT IN ({})",
        literals(finals)
    )
}

/// An order that can still be paid (`orders_payable`).
pub fn order_payable(table: &str) -> String {
    let payable = OrderStatus::ALL
        .into_iter()
        .filter(|status| status.is_payable())
        .map(OrderStatus::as_str);
    format!("{table}status IN ({})", literals(payable))
}

/// A mismatch whose money is to be refunded and is not yet
/// (`payment_mismatches_unrefunded`).
pub fn mismatch_unrefunded() -> String {
    let reasons = MismatchReason::stray_money()
        .into_iter()
        .map(MismatchReason::as_str);
    format!(
        "reason IN ({}) AND (refund_status IS NULL OR refund_status = '{}')",
        literals(reasons),
        StrayRefundStatus::Pending.as_str()
    )
}

/// A refund still pending (`refunds_pending`).
pub fn refund_pending() -> String {
    format!("status = '{}'", RefundStatus::Pending.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATION: &str = include_str!("../../migrations/20261123000500_listing_indexes.sql");

    #[test]
    fn each_partial_index_has_the_condition_the_store_writes() {
        for condition in [
            attempt_still_changing(""),
            order_payable(""),
            mismatch_unrefunded(),
            refund_pending(),
        ] {
            assert!(
                MIGRATION.contains(&format!("WHERE {condition};")),
                "no partial index WHERE {condition}"
            );
        }
    }
}
