//! Storage behaviour that only shows on one backend.

use rocket::http::{Header, Method, Status};
use serde_json::json;

use crate::db_test;

db_test!(null_and_text_parameters_mix_in_one_statement, |app| {
    // PostgreSQL fixes a parameter's type when a statement is first prepared
    // on a connection, and sqlx's Any driver binds None as an int4 NULL: an
    // inbox row without a PaymentIntent followed by one with must both store.
    let secret = app.sim.webhooks.settings().secrets[0].clone();
    let now = chrono::Utc::now().timestamp();
    for n in 0..6 {
        let object = if n % 2 == 0 {
            json!({"id": format!("cus_{n}"), "object": "customer"})
        } else {
            json!({"id": format!("pi_unknown_{n}"), "object": "payment_intent", "metadata": {}})
        };
        let kind = if n % 2 == 0 {
            "customer.created"
        } else {
            "payment_intent.canceled"
        };
        let body =
            json!({"id": format!("evt_mix_{n}"), "object": "event", "type": kind, "created": now,
            "livemode": false, "data": {"object": object}})
            .to_string();
        let signature = orderpay::stripe::webhook::header(body.as_bytes(), now, &[&secret]);
        let reply = app
            .send_raw(
                Method::Post,
                "/api/v1/webhooks/stripe",
                &[Header::new("Stripe-Signature", signature)],
                Some(body.into_bytes()),
                Some("application/json"),
            )
            .await;
        assert_eq!(reply.status, Status::Ok, "event {n}: {:?}", reply.body);
    }
    let (stored,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE payment_intent_id IS NOT NULL")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(stored, 3);
});

db_test!(a_status_and_its_history_entry_commit_together, |app| {
    // A reader must never see a status without the history entry that led to
    // it (a CI run once saw a paid order with no "paid" step). If writing the
    // entry fails, the status must not move either.
    app.seed().await;
    let (order_id,): (String,) = sqlx::query_as(
        "SELECT id FROM orders WHERE status = 'pending_payment' ORDER BY id LIMIT 1",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    sqlx::query("DROP TABLE order_history")
        .execute(app.pool())
        .await
        .unwrap();
    let mut conn = app.pool().acquire().await.unwrap();
    let moved = orderpay::store::orders::transition(
        &mut conn,
        &order_id,
        orderpay::domain::OrderStatus::Paid,
        &orderpay::domain::Source::Admin,
    )
    .await;
    assert!(moved.is_err(), "the history entry cannot be written");
    let (status,): (String,) = sqlx::query_as("SELECT status FROM orders WHERE id = $1")
        .bind(&order_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(status, "pending_payment", "the status did not move alone");
});

/// The id of a seeded order in `status`.
async fn seeded_order(app: &crate::helpers::TestApp, status: &str) -> String {
    let (id,): (String,) =
        sqlx::query_as("SELECT id FROM orders WHERE status = $1 ORDER BY id LIMIT 1")
            .bind(status)
            .fetch_one(app.pool())
            .await
            .unwrap();
    id
}

db_test!(
    an_unknown_stored_status_or_currency_is_an_error_not_a_default,
    |app| {
        // Rows decode their statuses and currencies into domain types: a value
        // this version does not know (written by hand, or by a newer version)
        // must fail loudly, never be shown as pending_payment or as raw minor units.
        app.seed().await;
        let shipped = seeded_order(&app, "paid").await;
        sqlx::query("UPDATE orders SET status = 'shipped' WHERE id = $1")
            .bind(&shipped)
            .execute(app.pool())
            .await
            .unwrap();
        let mut conn = app.pool().acquire().await.unwrap();
        let read = orderpay::store::orders::get(&mut conn, &shipped).await;
        let error = read.expect_err("an unknown status is not read").to_string();
        assert!(
            error.contains("status") && error.contains(r#"unknown order status "shipped""#),
            "the error names the column and the value: {error}"
        );
        drop(conn);

        let one = app
            .get(
                &format!("/api/v1/shop/orders/{shipped}"),
                Some(&app.admin_key),
            )
            .await;
        assert_eq!(one.status, Status::InternalServerError, "{:?}", one.body);
        assert_eq!(one.code(), "internal_error");
        assert!(
            !one.body.to_string().contains("pending_payment"),
            "{:?}",
            one.body
        );
        let listed = app.get("/api/v1/shop/orders", Some(&app.admin_key)).await;
        assert_eq!(
            listed.status,
            Status::InternalServerError,
            "{:?}",
            listed.body
        );

        // Put right, the order reads again; then a currency nobody charges in.
        sqlx::query("UPDATE orders SET status = 'paid' WHERE id = $1")
            .bind(&shipped)
            .execute(app.pool())
            .await
            .unwrap();
        let fixed = app
            .get(
                &format!("/api/v1/shop/orders/{shipped}"),
                Some(&app.admin_key),
            )
            .await;
        assert_eq!(fixed.status, Status::Ok, "{:?}", fixed.body);
        assert_eq!(fixed.body["data"]["status"], "paid");
        sqlx::query("UPDATE orders SET currency = 'xyz' WHERE id = $1")
            .bind(&shipped)
            .execute(app.pool())
            .await
            .unwrap();
        let odd = app
            .get(
                &format!("/api/v1/shop/orders/{shipped}"),
                Some(&app.admin_key),
            )
            .await;
        assert_eq!(odd.status, Status::InternalServerError, "{:?}", odd.body);
        assert_eq!(odd.code(), "internal_error");
    }
);

/// Stores `text` (NULL for `None`) in a one-column table and reads it back
/// as `T`, through the same `Any` driver and decoders the rows use.
async fn read_back<T>(pool: &sqlx::AnyPool, text: Option<&str>) -> sqlx::Result<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + Unpin,
{
    sqlx::query("CREATE TABLE IF NOT EXISTS stored_names (value TEXT)")
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM stored_names")
        .execute(pool)
        .await?;
    sqlx::query("INSERT INTO stored_names (value) VALUES (NULLIF($1, ''))")
        .bind(text.unwrap_or(""))
        .execute(pool)
        .await?;
    let (value,): (T,) = sqlx::query_as("SELECT value FROM stored_names")
        .fetch_one(pool)
        .await?;
    Ok(value)
}

/// The decode error for `text` read as `T`: it names the stored value.
async fn refusal<T>(pool: &sqlx::AnyPool, text: &str) -> String
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + Unpin + std::fmt::Debug,
{
    match read_back::<T>(pool, Some(text)).await {
        Ok(value) => panic!("{text:?} was read as {value:?}"),
        Err(error @ sqlx::Error::ColumnDecode { .. }) => error.to_string(),
        Err(other) => panic!("not a decode error: {other}"),
    }
}

db_test!(every_stored_name_reads_back_as_its_domain_value, |app| {
    use orderpay::domain::*;
    let pool = app.pool();
    for status in OrderStatus::ALL {
        assert_eq!(
            read_back(pool, Some(status.as_str())).await.ok(),
            Some(status)
        );
    }
    for status in PaymentIntentStatus::ALL {
        assert_eq!(
            read_back(pool, Some(status.as_str())).await.ok(),
            Some(status)
        );
    }
    for status in RefundStatus::ALL {
        assert_eq!(
            read_back(pool, Some(status.as_str())).await.ok(),
            Some(status)
        );
    }
    for reason in MismatchReason::ALL {
        assert_eq!(
            read_back(pool, Some(reason.as_str())).await.ok(),
            Some(reason)
        );
    }
    for status in StrayRefundStatus::ALL {
        assert_eq!(
            read_back(pool, Some(status.as_str())).await.ok(),
            Some(status)
        );
    }
    for status in InboxStatus::ALL {
        assert_eq!(
            read_back(pool, Some(status.as_str())).await.ok(),
            Some(status)
        );
    }
    for source in [Source::Reconcile, Source::Webhook("evt_1".into())] {
        let text = source.to_string();
        assert_eq!(read_back(pool, Some(&text)).await.ok(), Some(source));
    }
    for code in ["usd", "jpy", "kwd"] {
        let currency: Currency = read_back(pool, Some(code)).await.unwrap();
        assert_eq!(currency.code(), code);
    }
});

db_test!(an_unknown_stored_name_is_a_decode_error, |app| {
    use orderpay::domain::*;
    use orderpay::store::types::{Nullable, NullableText};
    let pool = app.pool();
    let order = refusal::<OrderStatus>(pool, "shipped").await;
    assert!(
        order.contains(r#"unknown order status "shipped""#),
        "{order}"
    );
    let currency = refusal::<Currency>(pool, "USD").await;
    assert!(currency.contains(r#"unknown currency "USD""#), "{currency}");
    let reason = refusal::<MismatchReason>(pool, "lost").await;
    assert!(
        reason.contains(r#"unknown mismatch reason "lost""#),
        "{reason}"
    );
    let source = refusal::<Source>(pool, "sweep").await;
    assert!(source.contains(r#"unknown source "sweep""#), "{source}");
    refusal::<PaymentIntentStatus>(pool, "paid").await;
    refusal::<RefundStatus>(pool, "refunded").await;
    refusal::<StrayRefundStatus>(pool, "succeeded").await;
    refusal::<InboxStatus>(pool, "done").await;
    // A nullable column: only NULL is `None`; an unknown value is still an error.
    refusal::<Nullable<OrderStatus>>(pool, "shipped").await;
    let null: Nullable<OrderStatus> = read_back(pool, None).await.unwrap();
    assert_eq!(Option::<OrderStatus>::from(null), None);
    let paid: Nullable<OrderStatus> = read_back(pool, Some("paid")).await.unwrap();
    assert_eq!(Option::from(paid), Some(OrderStatus::Paid));
    let text: NullableText = read_back(pool, None).await.unwrap();
    assert_eq!(Option::<String>::from(text), None);
});

db_test!(a_mismatch_found_by_many_at_once_is_recorded_once, |app| {
    use orderpay::domain::mismatch::MismatchReason;
    use orderpay::domain::source::Source;
    // Sixteen messages about one PaymentIntent find the same mismatch at the
    // same moment, each on its own connection.
    let attempts = (0..16).map(|_| async {
        let mut conn = app.pool().acquire().await.unwrap();
        orderpay::store::payments::record_mismatch(
            &mut conn,
            "order-1",
            "pi_same",
            &Source::Reconcile,
            MismatchReason::OrderNotPayable,
            "succeeded but the order is canceled",
        )
        .await
    });
    for result in rocket::futures::future::join_all(attempts).await {
        result.expect("a repeat is not an error");
    }
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payment_mismatches")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
});

db_test!(on_sqlite_only_the_writer_connection_writes, |app| {
    // SQLite lets one connection write at a time: orderpay's writes queue for
    // its one writer connection in the process. Its readers refuse to write,
    // so a write sent to a reader by mistake fails (here and in every test
    // that takes that path) instead of sleeping on the file lock beside the
    // writer. On PostgreSQL there is one pool for both.
    let write = sqlx::query("UPDATE products SET name = name")
        .execute(app.app_pool())
        .await;
    match app.backend {
        crate::helpers::Backend::Sqlite => {
            let error = write.expect_err("a reader wrote").to_string();
            assert!(error.contains("readonly"), "{error}");
        }
        crate::helpers::Backend::Postgres => {
            write.expect("one pool reads and writes");
        }
    }
});

db_test!(taking_a_lease_changes_no_indexed_column, |app| {
    // A worker's lease writes these columns; an index naming one (as a key
    // or in its condition) would make every lease rewrite it. With none,
    // SQLite rewrites no index and PostgreSQL, with room left on the row's
    // page, writes a HOT update (no index entries).
    const LEASE: [&str; 4] = ["status", "claim_token", "claimed_until", "attempts"];
    let sql = match app.backend {
        crate::helpers::Backend::Sqlite => {
            "SELECT sql FROM sqlite_master WHERE type = 'index' \
             AND tbl_name = 'webhook_events' AND sql IS NOT NULL"
        }
        crate::helpers::Backend::Postgres => {
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'webhook_events'"
        }
    };
    let definitions: Vec<(String,)> = sqlx::query_as(sql).fetch_all(app.pool()).await.unwrap();
    assert!(definitions.len() >= 2, "{definitions:?}");
    for (definition,) in &definitions {
        for column in LEASE {
            assert!(!definition.contains(column), "{definition} names {column}");
        }
    }
    if app.backend == crate::helpers::Backend::Postgres {
        let (room,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_class \
             WHERE oid = 'webhook_events'::regclass AND 'fillfactor=60' = ANY(reloptions)",
        )
        .fetch_one(app.pool())
        .await
        .unwrap();
        assert_eq!(room, 1, "no room left on the inbox's pages for a HOT lease");
    }
});
