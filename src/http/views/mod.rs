//! What the API returns: stored rows turned into the public resource shapes,
//! with money as decimal strings in major units.

mod admin;
mod service;

pub use admin::{MismatchView, SweepReportView, WebhookEventView};
pub use service::{Health, WebhookReceipt};

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::domain::money::format_major;
use crate::domain::{Currency, OrderStatus, UnknownName};
use crate::store::cards::CardRow;
use crate::store::orders::{HistoryRow, ItemRow, OrderRow};
use crate::store::payments::PaymentRow;
use crate::store::products::ProductRow;
use crate::store::refunds::RefundRow;

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProductView {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub currency: String,
    /// Decimal string in major units, e.g. "25.00".
    pub unit_amount: String,
    pub active: bool,
}

impl From<ProductRow> for ProductView {
    fn from(row: ProductRow) -> Self {
        ProductView {
            unit_amount: format_major(row.unit_amount, row.currency),
            sku: row.sku,
            name: row.name,
            description: row.description,
            currency: row.currency.code().to_string(),
            active: row.active,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LineItemView {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    /// The price of one unit: a decimal string in major units ("56.00").
    pub unit_amount: String,
    /// The line's total, `unit_amount` × `quantity`: a decimal string in major units ("112.00").
    pub amount: String,
}

/// One meaning per field in every view that lists an order's items (the
/// order and its PaymentIntent); Stripe's metadata keeps its own shape.
fn line_item_views(items: Vec<ItemRow>, currency: Currency) -> Vec<LineItemView> {
    items
        .into_iter()
        .map(|item| LineItemView {
            unit_amount: format_major(item.unit_amount, currency),
            amount: format_major(item.amount, currency),
            sku: item.sku,
            name: item.name,
            quantity: item.quantity,
        })
        .collect()
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryView {
    /// null for the order's creation.
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    /// What caused it: "api", "seed", "callback", "webhook:evt_...".
    pub source: String,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub at: String,
}

/// A saved card: Stripe's display fields, never the number.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CardView {
    /// orderpay's id: what `card_id` in a confirmation refers to.
    pub id: String,
    /// The Stripe PaymentMethod attached to the customer.
    pub payment_method: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub created_at: String,
}

impl From<CardRow> for CardView {
    fn from(row: CardRow) -> Self {
        CardView {
            id: row.id,
            payment_method: row.stripe_payment_method_id,
            brand: row.brand,
            last4: row.last4,
            exp_month: row.exp_month,
            exp_year: row.exp_year,
            created_at: row.created_at,
        }
    }
}

/// A payment: one PaymentIntent orderpay created for an order.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PaymentView {
    /// orderpay's id for the payment attempt.
    pub id: String,
    pub payment_intent_id: String,
    pub order_id: String,
    pub order_number: String,
    /// Decimal string in major units.
    pub amount: String,
    pub currency: String,
    /// The PaymentIntent's status as orderpay last saw it (`requires_payment_method`,
    /// `requires_action`, `processing`, `succeeded`, `canceled`, ...).
    pub status: Option<String>,
    /// Refunded so far, when this is the payment that paid the order; "0" otherwise.
    pub amount_refunded: String,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub created_at: String,
}

impl From<PaymentRow> for PaymentView {
    fn from(row: PaymentRow) -> Self {
        let paid_the_order = row.paid_payment_intent_id.as_deref() == Some(&row.payment_intent_id);
        let refunded = if paid_the_order {
            row.order_amount_refunded
        } else {
            0
        };
        PaymentView {
            amount: format_major(row.amount, row.currency),
            amount_refunded: format_major(refunded, row.currency),
            id: row.id,
            payment_intent_id: row.payment_intent_id,
            order_id: row.order_id,
            order_number: row.order_number,
            currency: row.currency.code().to_string(),
            status: row.status.map(|status| status.as_str().to_string()),
            created_at: row.created_at,
        }
    }
}

/// A refund of an order, as orderpay recorded it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RefundView {
    pub id: String,
    pub order_id: String,
    /// The PaymentIntent refunded (the one that paid the order).
    pub payment_intent_id: String,
    /// Stripe's `re_...` id, once Stripe has answered.
    pub stripe_refund_id: Option<String>,
    /// Decimal string in major units.
    pub amount: String,
    pub currency: String,
    /// `pending`, `succeeded`, `failed` or `canceled` (Stripe's refund statuses).
    pub status: String,
    pub reason: Option<String>,
    /// Stripe's error code when the refund failed.
    pub failure_code: Option<String>,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub created_at: String,
}

impl From<RefundRow> for RefundView {
    fn from(row: RefundRow) -> Self {
        RefundView {
            amount: format_major(row.amount, row.currency),
            id: row.id,
            order_id: row.order_id,
            payment_intent_id: row.payment_intent_id,
            stripe_refund_id: row.stripe_refund_id,
            currency: row.currency.code().to_string(),
            status: row.status.as_str().to_string(),
            reason: row.reason,
            failure_code: row.failure_code,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderView {
    pub id: String,
    pub number: String,
    pub status: OrderStatus,
    pub currency: String,
    /// The total, decimal string in major units.
    pub amount: String,
    /// Refunded so far, decimal string in major units.
    pub amount_refunded: String,
    pub line_items: Vec<LineItemView>,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub created_at: String,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub updated_at: String,
    /// Present in the single-order view only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryView>>,
    /// Refunds asked for through orderpay; in the single-order view only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refunds: Option<Vec<RefundView>>,
}

impl OrderView {
    pub fn new(row: OrderRow, items: Vec<ItemRow>, history: Option<Vec<HistoryRow>>) -> Self {
        let currency = row.currency;
        OrderView {
            line_items: line_item_views(items, currency),
            history: history.map(|rows| {
                rows.into_iter()
                    .map(|h| HistoryView {
                        from: h.from_status,
                        to: h.to_status,
                        source: h.source.to_string(),
                        at: h.at,
                    })
                    .collect()
            }),
            refunds: None,
            amount: format_major(row.amount, currency),
            amount_refunded: format_major(row.amount_refunded, currency),
            status: row.status,
            id: row.id,
            number: row.number,
            currency: currency.code().to_string(),
            customer_id: row.user_id,
            email: row.email,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    /// Views for a page of orders, their items fetched in one query.
    pub fn many(rows: Vec<OrderRow>, items: Vec<ItemRow>) -> Vec<Self> {
        let mut by_order: HashMap<String, Vec<ItemRow>> = HashMap::new();
        for item in items {
            by_order
                .entry(item.order_id.clone())
                .or_default()
                .push(item);
        }
        rows.into_iter()
            .map(|row| {
                let items = by_order.remove(&row.id).unwrap_or_default();
                OrderView::new(row, items, None)
            })
            .collect()
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    /// Set by orderpay when the user first pays; never by the user.
    pub stripe_customer_id: Option<String>,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub created_at: String,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub updated_at: String,
}

impl From<crate::store::users::UserRow> for UserView {
    fn from(row: crate::store::users::UserRow) -> Self {
        UserView {
            id: row.id,
            email: row.email,
            name: row.name,
            stripe_customer_id: row.stripe_customer_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AuthGrant {
    pub access_token: String,
    /// Always "Bearer".
    pub token_type: &'static str,
    #[schemars(schema_with = "crate::http::openapi::formats::date_time")]
    pub expires_at: String,
    pub user: UserView,
}

/// An order's PaymentIntent, as the shop frontend needs it for Stripe.js.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PaymentIntentView {
    /// `pi_...`
    pub id: String,
    /// For Stripe.js `confirmCardPayment`; give it only to the paying customer.
    pub client_secret: Option<String>,
    /// Decimal string in major units ("112.00").
    pub amount: String,
    pub currency: String,
    /// Stripe's PaymentIntent status.
    pub status: String,
    /// The order's items, as in the order view.
    pub line_items: Vec<LineItemView>,
    /// What the customer must do next (3-D Secure), when status is requires_action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_action: Option<serde_json::Value>,
    /// The order's status after this call.
    pub order_status: OrderStatus,
}

impl PaymentIntentView {
    /// Fails only if Stripe answered a currency it does not charge in.
    pub fn new(
        pi: crate::stripe::types::PaymentIntent,
        items: Vec<ItemRow>,
        order_status: OrderStatus,
    ) -> Result<Self, UnknownName> {
        let currency = Currency::parse(&pi.currency)
            .ok_or_else(|| UnknownName::new("currency", &pi.currency))?;
        Ok(PaymentIntentView {
            line_items: line_item_views(items, currency),
            amount: format_major(pi.amount, currency),
            id: pi.id,
            client_secret: pi.client_secret,
            currency: pi.currency,
            status: pi.status.as_str().to_string(),
            next_action: pi.next_action,
            order_status,
        })
    }
}
