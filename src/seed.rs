//! Admin seeding: a demo catalog, demo customers and test orders from a data
//! file. The whole file is validated before anything is written and applied in
//! one transaction, so a bad file changes nothing; every insert is "if absent",
//! so loading the same file twice creates nothing new.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use crate::auth::password::hash_password;
use crate::db::{new_id, now_text};
use crate::domain::email::is_valid_email;
use crate::domain::money::parse_major;
use crate::domain::order_number::is_order_number;
use crate::domain::pricing::{price_order, CatalogEntry, LineRequest, PricedOrder};
use crate::domain::{Currency, OrderStatus, Source};
use crate::http::input::AmountInput;
use crate::store::{self, orders::NewOrder, products::ProductRow, users::UserRow};

/// The demo data shipped with orderpay (`seeds/demo.json`), built in so
/// `orderpay seed` works from any directory.
pub const DEMO_SEED: &str = include_str!("../seeds/demo.json");
pub const DEMO_SEED_NAME: &str = "seeds/demo.json";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedDocument {
    #[serde(default)]
    pub products: Vec<SeedProduct>,
    #[serde(default)]
    pub customers: Vec<SeedCustomer>,
    #[serde(default)]
    pub orders: Vec<SeedOrder>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedProduct {
    #[schemars(regex(pattern = r"^[A-Z0-9_-]{1,64}$"))]
    pub sku: String,
    #[schemars(
        length(min = 1, max = 200),
        regex = "crate::http::openapi::formats::DISPLAY_NAME_PATTERN"
    )]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[schemars(schema_with = "crate::http::openapi::formats::currency_code")]
    pub currency: String,
    pub unit_amount: AmountInput,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedCustomer {
    #[schemars(email, length(max = 254))]
    pub email: String,
    pub name: String,
    /// Demo credentials only: seeding is refused where `demo_seed` is off.
    #[schemars(length(min = 8))]
    pub password: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedOrder {
    /// Fixed order number: how a second load recognises the order.
    #[schemars(regex(pattern = r"^ORD-[0-9]{8}-[A-Z0-9]{4,8}$"))]
    pub number: String,
    /// Email of a customer in this file or already in the database.
    #[serde(default)]
    pub customer: Option<String>,
    pub status: OrderStatus,
    pub items: Vec<SeedItem>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedItem {
    #[schemars(regex(pattern = r"^[A-Z0-9_-]{1,64}$"))]
    pub sku: String,
    #[schemars(range(min = 1, max = 999))]
    pub quantity: i64,
}

#[derive(Debug, Default, Clone, Serialize, JsonSchema, PartialEq, Eq)]
pub struct SeedReport {
    pub products_created: u32,
    pub customers_created: u32,
    pub orders_created: u32,
    pub products_in_file: u32,
    pub customers_in_file: u32,
    pub orders_in_file: u32,
}

/// A seed refused before anything was written: which file, which entry, why.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{origin}: {entry}: {message}")]
    Invalid {
        origin: String,
        entry: String,
        message: String,
    },
    #[error("{origin}: {0}", origin = .1)]
    Database(#[source] sqlx::Error, String),
}

fn invalid(origin: &str, entry: String, message: impl Into<String>) -> SeedError {
    SeedError::Invalid {
        origin: origin.to_string(),
        entry,
        message: message.into(),
    }
}

/// Parses a seed file's text; `origin` names it in errors.
pub fn parse(origin: &str, text: &str) -> Result<SeedDocument, SeedError> {
    crate::http::body::parse::<SeedDocument>(text)
        .map_err(|e| invalid(origin, "document".into(), e.message))
}

struct Plan {
    products: Vec<ProductRow>,
    customers: Vec<(UserRow, String)>,
    orders: Vec<(String, Option<String>, OrderStatus, PricedOrder)>,
}

/// Validates `doc` against itself and the database, then applies it atomically.
pub async fn load(
    pool: &AnyPool,
    origin: &str,
    doc: &SeedDocument,
) -> Result<SeedReport, SeedError> {
    let db_err = |e: sqlx::Error| SeedError::Database(e, origin.to_string());
    let plan = plan(pool, origin, doc).await?;
    let mut report = SeedReport {
        products_in_file: doc.products.len() as u32,
        customers_in_file: doc.customers.len() as u32,
        orders_in_file: doc.orders.len() as u32,
        ..SeedReport::default()
    };
    let mut tx = pool.begin().await.map_err(db_err)?;
    for product in &plan.products {
        if store::products::insert_if_absent(&mut tx, product)
            .await
            .map_err(db_err)?
        {
            report.products_created += 1;
        }
    }
    for (user, _) in &plan.customers {
        if store::users::insert_if_absent(&mut tx, user)
            .await
            .map_err(db_err)?
        {
            report.customers_created += 1;
        }
    }
    for (number, customer, status, priced) in &plan.orders {
        let user = match customer {
            Some(email) => store::users::find_by_email(&mut tx, email)
                .await
                .map_err(db_err)?,
            None => None,
        };
        let new = NewOrder {
            priced,
            user_id: user.as_ref().map(|u| u.id.as_str()),
            email: user.as_ref().map(|u| u.email.as_str()),
            number: Some(number),
            source: &Source::Seed,
        };
        let Some(order) = store::orders::insert(&mut tx, new).await.map_err(db_err)? else {
            continue;
        };
        for step in OrderStatus::path_from_new(*status).into_iter().skip(1) {
            store::orders::transition(&mut tx, &order.order.id, step, &Source::Seed)
                .await
                .map_err(db_err)?;
        }
        report.orders_created += 1;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(report)
}

/// Everything that can be wrong with the file is found here, before the
/// transaction, so the database is only ever written with a whole valid file.
async fn plan(pool: &AnyPool, origin: &str, doc: &SeedDocument) -> Result<Plan, SeedError> {
    let db_err = |e: sqlx::Error| SeedError::Database(e, origin.to_string());
    let now = now_text();
    let mut catalog: HashMap<String, CatalogEntry> = HashMap::new();
    let mut products = Vec::new();
    for (index, product) in doc.products.iter().enumerate() {
        let entry = format!("products[{index}] (sku '{}')", product.sku);
        if !is_valid_sku(&product.sku) {
            return Err(invalid(
                origin,
                entry,
                "sku must be 1-64 of A-Z, 0-9, '-', '_'",
            ));
        }
        if product.name.trim().is_empty() || product.name.len() > 200 {
            return Err(invalid(origin, entry, "name must be 1-200 characters"));
        }
        if catalog.contains_key(&product.sku) {
            return Err(invalid(origin, entry, "duplicate sku"));
        }
        let currency = Currency::parse(&product.currency).ok_or_else(|| {
            invalid(
                origin,
                entry.clone(),
                format!("unknown currency '{}'", product.currency),
            )
        })?;
        let unit_amount = parse_major(&product.unit_amount.0, currency)
            .map_err(|e| invalid(origin, entry.clone(), format!("unit_amount: {e}")))?;
        catalog.insert(
            product.sku.clone(),
            CatalogEntry {
                sku: product.sku.clone(),
                name: product.name.clone(),
                currency,
                unit_amount,
                active: product.active,
            },
        );
        products.push(ProductRow {
            sku: product.sku.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            currency,
            unit_amount,
            active: product.active,
            created_at: now.clone(),
        });
    }
    // What is already in the database wins: an existing sku is not replaced,
    // so orders must be priced as the database has it.
    let mut conn = pool.acquire().await.map_err(db_err)?;
    let skus: Vec<String> = doc
        .orders
        .iter()
        .flat_map(|o| o.items.iter().map(|i| i.sku.clone()))
        .collect();
    for row in store::products::find_many(&mut conn, &skus)
        .await
        .map_err(db_err)?
    {
        let entry = row.catalog_entry();
        catalog.insert(entry.sku.clone(), entry);
    }

    let mut customers = Vec::new();
    let mut known_emails: Vec<String> = Vec::new();
    for (index, customer) in doc.customers.iter().enumerate() {
        let entry = format!("customers[{index}] ({})", customer.email);
        if !is_valid_email(&customer.email) {
            return Err(invalid(origin, entry, "invalid email"));
        }
        if customer.password.chars().count() < 8 {
            return Err(invalid(
                origin,
                entry,
                "password must be at least 8 characters",
            ));
        }
        let email = store::users::normalize_email(&customer.email);
        known_emails.push(email.clone());
        // Hash only for customers not yet there: Argon2 is slow on purpose.
        if store::users::find_by_email(&mut conn, &email)
            .await
            .map_err(db_err)?
            .is_some()
        {
            continue;
        }
        let password_hash = hash_password(&customer.password)
            .map_err(|e| invalid(origin, entry.clone(), format!("cannot hash password: {e}")))?;
        customers.push((
            UserRow {
                id: new_id(),
                email: email.clone(),
                name: customer.name.clone(),
                password_hash,
                stripe_customer_id: None,
                created_at: now.clone(),
                updated_at: now.clone(),
            },
            email,
        ));
    }

    let mut orders = Vec::new();
    let mut numbers: Vec<&str> = Vec::new();
    for (index, order) in doc.orders.iter().enumerate() {
        let entry = format!("orders[{index}] ({})", order.number);
        if !is_order_number(&order.number) {
            return Err(invalid(
                origin,
                entry,
                "number must look like ORD-YYYYMMDD-XXXX",
            ));
        }
        if numbers.contains(&order.number.as_str()) {
            return Err(invalid(origin, entry, "duplicate order number"));
        }
        numbers.push(&order.number);
        let customer = match &order.customer {
            Some(email) => {
                let email = store::users::normalize_email(email);
                let exists = known_emails.contains(&email)
                    || store::users::find_by_email(&mut conn, &email)
                        .await
                        .map_err(db_err)?
                        .is_some();
                if !exists {
                    return Err(invalid(
                        origin,
                        entry,
                        format!("unknown customer '{email}'"),
                    ));
                }
                Some(email)
            }
            None => None,
        };
        let lines: Vec<LineRequest> = order
            .items
            .iter()
            .map(|item| LineRequest {
                sku: item.sku.clone(),
                quantity: item.quantity,
                unit_amount: None,
            })
            .collect();
        let priced = price_order("items", &lines, None, |sku| catalog.get(sku).cloned())
            .map_err(|e| invalid(origin, entry.clone(), format!("{}: {}", e.field, e.message)))?;
        orders.push((order.number.clone(), customer, order.status, priced));
    }
    Ok(Plan {
        products,
        customers,
        orders,
    })
}

pub fn is_valid_sku(sku: &str) -> bool {
    (1..=64).contains(&sku.len())
        && sku
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_demo_seed_parses() {
        let doc = parse(DEMO_SEED_NAME, DEMO_SEED).unwrap();
        assert!(doc.products.len() >= 6);
        assert!(doc.orders.len() >= 5);
        let currencies: std::collections::HashSet<_> =
            doc.products.iter().map(|p| p.currency.as_str()).collect();
        for code in ["usd", "eur", "jpy", "kwd"] {
            assert!(currencies.contains(code), "{code}");
        }
    }

    #[test]
    fn unknown_fields_are_reported_with_the_origin() {
        let err = parse("x.json", r#"{"products": [{"sku": "A", "price": 1}]}"#).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("x.json: "), "{text}");
        assert!(text.contains("products[0]"), "{text}");
    }

    #[test]
    fn control_characters_are_refused_with_the_entry() {
        let text = r#"{"products": [{"sku": "A", "name": "Mug\u0000", "currency": "usd", "unit_amount": "1.00"}]}"#;
        let err = parse("x.json", text).unwrap_err().to_string();
        assert!(err.contains("products[0].name"), "{err}");
        assert!(err.contains("control characters"), "{err}");
    }
}
