//! The customer's Stripe customer is created once, retry-safely: a lost
//! answer followed by a profile change must not wedge checkout or card saving.

use rocket::http::{Method, Status};
use serde_json::json;

use super::*;
use crate::db_test;
use crate::helpers::bearer;

/// Stripe creates the next customer but its answer never arrives in time.
fn lose_next_customer_answer(app: &TestApp) {
    app.sim.inject(FaultPlan {
        drop_next: 1,
        delay_ms: Some(2_000),
        path_prefix: Some("customers".into()),
        ..Default::default()
    });
}

async fn rename(app: &TestApp, token: &str, name: &str, email: &str) {
    let body = json!({"name": name, "email": email}).to_string();
    let reply = app
        .send(
            Method::Patch,
            "/api/v1/users/me",
            &[bearer(token)],
            Some(&body),
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
}

/// The user id and the Stripe customer orderpay stored for the token's user.
async fn me(app: &TestApp, token: &str) -> (String, String) {
    let me = app
        .send(Method::Get, "/api/v1/users/me", &[bearer(token)], None)
        .await;
    let data = &me.body["data"];
    (
        data["id"].as_str().unwrap().to_string(),
        data["stripe_customer_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn customers_at_stripe(app: &TestApp) -> u64 {
    app.sim.data.lock().unwrap().counts()["customers"]
        .as_u64()
        .unwrap()
}

db_test!(
    a_lost_customer_answer_then_a_profile_change_still_pays,
    |app| {
        let app = app_with_stripe(app, 1, 0).await;
        let shop = Shop::new(&app).await;
        lose_next_customer_answer(&app);
        let lost = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(
            (lost.status, lost.code()),
            (Status::ServiceUnavailable, "payment_provider_unavailable"),
            "{:?}",
            lost.body
        );
        rename(&app, &shop.token, "Renamed Payer", "renamed@example.com").await;

        let retried = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(retried.status, Status::Created, "{:?}", retried.body);
        assert_eq!(customers_at_stripe(&app), 1, "the first try's customer");
        let (user_id, customer) = me(&app, &shop.token).await;
        let at_stripe = stripe_side(&app)
            .retrieve_customer(&customer)
            .await
            .unwrap();
        assert_eq!(at_stripe.metadata["orderpay_user_id"], user_id);
    }
);

db_test!(
    a_lost_customer_answer_then_a_profile_change_still_saves_a_card,
    |app| {
        let app = app_with_stripe(app, 1, 0).await;
        let (_, token) = app.register("saver@example.com", "saver-password").await;
        lose_next_customer_answer(&app);
        let body = json!({"payment_method": "pm_card_visa"}).to_string();
        let headers = [bearer(&token)];
        let save = || {
            app.send(
                Method::Post,
                "/api/v1/users/me/cards",
                &headers,
                Some(&body),
            )
        };
        let lost = save().await;
        assert_eq!(lost.status, Status::ServiceUnavailable, "{:?}", lost.body);
        rename(&app, &token, "Renamed Saver", "saver2@example.com").await;
        let saved = save().await;
        assert_eq!(saved.status, Status::Created, "{:?}", saved.body);
        assert_eq!(customers_at_stripe(&app), 1);
    }
);
