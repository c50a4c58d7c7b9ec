//! Saved cards: Stripe PaymentMethods attached to the user's Stripe customer,
//! so a returning customer pays without entering the card again. orderpay
//! keeps only Stripe's display fields; the card itself stays at Stripe.

use sha2::{Digest, Sha256};

use crate::checkout::{intent, Error, Result};
use crate::db::DbPool;
use crate::store::cards::{self, CardRow, NewCard};
use crate::store::users::UserRow;
use crate::stripe::gateway::StripeGateway;
use crate::stripe::{IdempotencyKey, StripeError};

/// Attaches the PaymentMethod to the user's Stripe customer and stores the
/// card. Saving the same PaymentMethod again returns the saved card (false).
#[tracing::instrument(skip_all, fields(user_id = %user.id, payment_method = %payment_method))]
pub async fn save(
    db: &DbPool,
    gateway: &StripeGateway,
    user: &UserRow,
    payment_method: &str,
) -> Result<(CardRow, bool)> {
    let mut conn = db.acquire().await?;
    if let Some(saved) = cards::by_request(&mut conn, &user.id, payment_method).await? {
        return Ok((saved, false));
    }
    drop(conn);
    let customer = intent::ensure_customer(db, gateway, user).await?;
    // Derived from what is being saved, so a retry after a lost answer
    // replays the same attachment instead of making a second card.
    let digest = hex::encode(Sha256::digest(payment_method.as_bytes()));
    let key = IdempotencyKey::new(format!("orderpay:card:{}:{}", user.id, &digest[..32]))
        .map_err(Error::internal)?;
    let pm = gateway
        .client
        .attach_payment_method(payment_method, &customer, &key)
        .await
        .map_err(attach_error)?;
    let card = pm
        .card
        .ok_or_else(|| Error::invalid("not_a_card", "payment_method", "is not a card"))?;
    let mut conn = db.writer().acquire().await?;
    let saved = cards::save(
        &mut conn,
        &NewCard {
            user_id: &user.id,
            stripe_payment_method_id: &pm.id,
            requested_as: payment_method,
            brand: &card.brand,
            last4: &card.last4,
            exp_month: i64::from(card.exp_month),
            exp_year: i64::from(card.exp_year),
        },
    )
    .await?;
    Ok(saved)
}

fn attach_error(error: StripeError) -> Error {
    match &error {
        StripeError::InvalidRequest { code, .. } => match code.as_deref() {
            Some("resource_missing") => Error::invalid(
                "unknown_payment_method",
                "payment_method",
                "Stripe does not know this PaymentMethod",
            ),
            Some("payment_method_unexpected_state") => Error::PaymentMethodUnavailable,
            _ => Error::stripe(error),
        },
        _ => Error::stripe(error),
    }
}

/// Detaches the card at Stripe, then forgets it. A card Stripe already
/// detached (in the dashboard, say) is simply forgotten.
#[tracing::instrument(skip_all, fields(card_id = %card.id))]
pub async fn remove(db: &DbPool, gateway: &StripeGateway, card: &CardRow) -> Result<()> {
    let key =
        IdempotencyKey::new(format!("orderpay:detach:{}", card.id)).map_err(Error::internal)?;
    match gateway
        .client
        .detach_payment_method(&card.stripe_payment_method_id, &key)
        .await
    {
        Ok(_) => {}
        Err(StripeError::InvalidRequest { code, .. })
            if matches!(
                code.as_deref(),
                Some("payment_method_unexpected_state" | "resource_missing")
            ) => {}
        Err(error) => return Err(Error::stripe(error)),
    }
    let mut conn = db.writer().acquire().await?;
    cards::delete(&mut conn, &card.id).await?;
    Ok(())
}
