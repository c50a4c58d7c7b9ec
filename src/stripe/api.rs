//! The Stripe calls orderpay makes, one function each. Every POST takes the
//! caller's Idempotency-Key.

use super::client::{IdempotencyKey, StripeClient};
use super::error::StripeError;
use super::form::Form;
use super::types::{Charge, Customer, Event, List, PaymentIntent, PaymentMethod, Refund};

type Result<T> = std::result::Result<T, StripeError>;

/// Stripe ids go into URL paths: refuse anything that is not a plain id.
fn id(value: &str) -> Result<&str> {
    if !value.is_empty()
        && value.len() <= 255
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(value)
    } else {
        Err(StripeError::InvalidRequest {
            status: 400,
            code: Some("invalid_id".into()),
            param: Some("id".into()),
            message: "not a Stripe object id".into(),
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct CustomerParams<'a> {
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub metadata: Vec<(&'a str, &'a str)>,
}

#[derive(Debug, Clone, Default)]
pub struct PaymentIntentParams<'a> {
    /// Minor units.
    pub amount: i64,
    pub currency: &'a str,
    pub customer: Option<&'a str>,
    pub payment_method: Option<&'a str>,
    pub description: Option<&'a str>,
    pub receipt_email: Option<&'a str>,
    pub metadata: Vec<(&'a str, &'a str)>,
    /// `automatic` (default), `automatic_async` or `manual`.
    pub capture_method: Option<&'a str>,
    pub payment_method_types: Vec<&'a str>,
}

#[derive(Debug, Clone, Default)]
pub struct PaymentIntentUpdate<'a> {
    pub amount: Option<i64>,
    pub description: Option<&'a str>,
    pub receipt_email: Option<&'a str>,
    pub payment_method: Option<&'a str>,
    pub metadata: Vec<(&'a str, &'a str)>,
}

#[derive(Debug, Clone, Default)]
pub struct ConfirmParams<'a> {
    pub payment_method: Option<&'a str>,
    /// Where 3-D Secure sends the customer back to (redirect flows).
    pub return_url: Option<&'a str>,
}

#[derive(Debug, Clone, Default)]
pub struct RefundParams<'a> {
    pub payment_intent: &'a str,
    /// Minor units; `None` refunds what remains.
    pub amount: Option<i64>,
    pub reason: Option<&'a str>,
    pub metadata: Vec<(&'a str, &'a str)>,
}

#[derive(Debug, Clone, Default)]
pub struct EventQuery<'a> {
    pub kind: Option<&'a str>,
    pub created_gte: Option<i64>,
    pub starting_after: Option<&'a str>,
    pub limit: Option<u32>,
}

impl StripeClient {
    pub async fn create_customer(
        &self,
        params: &CustomerParams<'_>,
        key: &IdempotencyKey,
    ) -> Result<Customer> {
        let form = Form::new()
            .opt("email", params.email)
            .opt("name", params.name)
            .map("metadata", params.metadata.iter().copied());
        self.post("/v1/customers", form, key).await
    }

    pub async fn retrieve_customer(&self, customer: &str) -> Result<Customer> {
        self.get(&format!("/v1/customers/{}", id(customer)?), Form::new())
            .await
    }

    pub async fn retrieve_payment_method(&self, payment_method: &str) -> Result<PaymentMethod> {
        self.get(
            &format!("/v1/payment_methods/{}", id(payment_method)?),
            Form::new(),
        )
        .await
    }

    pub async fn attach_payment_method(
        &self,
        payment_method: &str,
        customer: &str,
        key: &IdempotencyKey,
    ) -> Result<PaymentMethod> {
        let form = Form::new().field("customer", customer);
        self.post(
            &format!("/v1/payment_methods/{}/attach", id(payment_method)?),
            form,
            key,
        )
        .await
    }

    pub async fn detach_payment_method(
        &self,
        payment_method: &str,
        key: &IdempotencyKey,
    ) -> Result<PaymentMethod> {
        self.post(
            &format!("/v1/payment_methods/{}/detach", id(payment_method)?),
            Form::new(),
            key,
        )
        .await
    }

    pub async fn list_payment_methods(&self, customer: &str) -> Result<List<PaymentMethod>> {
        let query = Form::new()
            .field("customer", customer)
            .field("type", "card")
            .field("limit", 100);
        self.get("/v1/payment_methods", query).await
    }

    pub async fn create_payment_intent(
        &self,
        params: &PaymentIntentParams<'_>,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent> {
        let form = Form::new()
            .field("amount", params.amount)
            .field("currency", params.currency)
            .opt("customer", params.customer)
            .opt("payment_method", params.payment_method)
            .opt("description", params.description)
            .opt("receipt_email", params.receipt_email)
            .opt("capture_method", params.capture_method)
            .map("metadata", params.metadata.iter().copied())
            .list(
                "payment_method_types",
                params.payment_method_types.iter().copied(),
            );
        self.post("/v1/payment_intents", form, key).await
    }

    pub async fn retrieve_payment_intent(&self, payment_intent: &str) -> Result<PaymentIntent> {
        self.get(
            &format!("/v1/payment_intents/{}", id(payment_intent)?),
            Form::new(),
        )
        .await
    }

    pub async fn update_payment_intent(
        &self,
        payment_intent: &str,
        update: &PaymentIntentUpdate<'_>,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent> {
        let form = Form::new()
            .opt("amount", update.amount)
            .opt("description", update.description)
            .opt("receipt_email", update.receipt_email)
            .opt("payment_method", update.payment_method)
            .map("metadata", update.metadata.iter().copied());
        self.post(
            &format!("/v1/payment_intents/{}", id(payment_intent)?),
            form,
            key,
        )
        .await
    }

    pub async fn confirm_payment_intent(
        &self,
        payment_intent: &str,
        params: &ConfirmParams<'_>,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent> {
        let form = Form::new()
            .opt("payment_method", params.payment_method)
            .opt("return_url", params.return_url);
        self.post(
            &format!("/v1/payment_intents/{}/confirm", id(payment_intent)?),
            form,
            key,
        )
        .await
    }

    pub async fn cancel_payment_intent(
        &self,
        payment_intent: &str,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent> {
        self.post(
            &format!("/v1/payment_intents/{}/cancel", id(payment_intent)?),
            Form::new(),
            key,
        )
        .await
    }

    /// `amount` (minor units) captures less than authorized; `None` captures all.
    pub async fn capture_payment_intent(
        &self,
        payment_intent: &str,
        amount: Option<i64>,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent> {
        let form = Form::new().opt("amount_to_capture", amount);
        self.post(
            &format!("/v1/payment_intents/{}/capture", id(payment_intent)?),
            form,
            key,
        )
        .await
    }

    pub async fn create_refund(
        &self,
        params: &RefundParams<'_>,
        key: &IdempotencyKey,
    ) -> Result<Refund> {
        let form = Form::new()
            .field("payment_intent", params.payment_intent)
            .opt("amount", params.amount)
            .opt("reason", params.reason)
            .map("metadata", params.metadata.iter().copied());
        self.post("/v1/refunds", form, key).await
    }

    pub async fn retrieve_refund(&self, refund: &str) -> Result<Refund> {
        self.get(&format!("/v1/refunds/{}", id(refund)?), Form::new())
            .await
    }

    pub async fn retrieve_charge(&self, charge: &str) -> Result<Charge> {
        self.get(&format!("/v1/charges/{}", id(charge)?), Form::new())
            .await
    }

    /// One page of a customer's PaymentIntents, newest first, created at or
    /// after `created_gte` (unix seconds). Stripe's list reads its own
    /// records at once (its search API lags by up to a minute), so a
    /// PaymentIntent missing here was not made.
    pub async fn list_payment_intents(
        &self,
        customer: &str,
        created_gte: i64,
        starting_after: Option<&str>,
    ) -> Result<List<PaymentIntent>> {
        let form = Form::new()
            .field("customer", id(customer)?)
            .field("created[gte]", created_gte)
            .opt("starting_after", starting_after)
            .field("limit", 100);
        self.get("/v1/payment_intents", form).await
    }

    /// Newest first, as Stripe lists them; events are kept 30 days.
    pub async fn list_events(&self, query: &EventQuery<'_>) -> Result<List<Event>> {
        let form = Form::new()
            .opt("type", query.kind)
            .opt("created[gte]", query.created_gte)
            .opt("starting_after", query.starting_after)
            .opt("limit", query.limit);
        self.get("/v1/events", form).await
    }
}
