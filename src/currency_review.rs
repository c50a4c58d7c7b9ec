//! `orderpay check-currencies`: the orders an operator must look at after
//! a currency's units changed under them. UGX was stored and sent to Stripe
//! as zero-decimal; Stripe reads it as two-decimal, so every UGX
//! PaymentIntent orderpay made before the fix asked for 1/100 of the price.
//! Migration 20261123000100 rewrote what Stripe never saw and recorded the
//! rest in `currency_unit_review`; this lists them with what to do.

use sqlx::AnyPool;

use crate::domain::money::format_major;
use crate::domain::{Currency, OrderStatus};

/// One line per order to review (oldest first), after a summary line.
pub async fn check_currencies(pool: &AnyPool) -> Result<Vec<String>, String> {
    let rows: Vec<(String, String, OrderStatus, i64, Currency)> = sqlx::query_as(
        "SELECT o.id, o.number, o.status, r.amount, r.currency \
         FROM currency_unit_review r JOIN orders o ON o.id = r.order_id \
         ORDER BY o.created_at, o.id",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| format!("cannot read the review list: {e}"))?;
    if rows.is_empty() {
        return Ok(vec![
            "nothing to review: no order was sent to Stripe in a currency's old units".into(),
        ]);
    }
    let mut lines = vec![format!(
        "{} order(s) were sent to Stripe before their currency's units were fixed; \
         Stripe was asked for 1/100 of the price:",
        rows.len()
    )];
    for (id, number, status, asked, currency) in rows {
        let show = |minor: i64| format!("{} {currency}", format_major(minor, currency));
        lines.push(format!(
            "{number} ({id}) {status}: asked {}, meant {}: {}",
            show(asked),
            show(asked.saturating_mul(100)),
            action(status)
        ));
    }
    Ok(lines)
}

/// What an operator does about one such order, by its status now.
fn action(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::Refunded => {
            "the customer paid 1/100 of the price; orderpay's records match Stripe's, so \
             collect the difference from the customer or write it off"
        }
        OrderStatus::Processing => "a payment is in progress; run this again once it has ended",
        OrderStatus::Canceled => "nothing was charged; nothing to do",
        _ => {
            "its PaymentIntent still asks for 1/100 of the price; cancel the order \
             (POST /api/v1/shop/orders/<id>/cancel) and have the customer order again"
        }
    }
}
