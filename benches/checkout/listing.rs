//! Listings at a million orders (`bulk_load.rs`): first pages, a page
//! 500,000 rows deep, filters, and a small customer's own orders, each
//! alone and with 8 in flight, with the plan of the statement behind it;
//! then the reconciliation sweep's query against the join it replaced.

use std::time::Instant;

use orderpay::domain::{Currency, OrderStatus, PaymentIntentStatus};
use orderpay::store::{orders::ListFilter, payments::PaymentFilter};
use sqlx::AnyPool;

use super::backend::Backend;
use super::bulk_load;
use super::harness::{launch, register, run, Server};
use super::plans;

struct Listing {
    name: &'static str,
    path: String,
    header: (&'static str, String),
    /// The statement orderpay runs for it, and its binds.
    query: (String, Vec<String>),
}

async fn customer(server: &Server, email: &str) -> (String, String) {
    let bearer = register(&server.http, &server.base, email, "Lister").await;
    let (id,): (String,) = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&server.pool)
        .await
        .expect("user id");
    (id, bearer)
}

/// (created_at, id) of the row `depth` rows from the newest.
async fn position(pool: &AnyPool, table: &str, depth: i64) -> (String, String) {
    sqlx::query_as(&format!(
        "SELECT created_at, id FROM {table} ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET {}",
        depth - 1
    ))
    .fetch_one(pool)
    .await
    .expect("position")
}

fn cursor(position: &(String, String)) -> String {
    hex::encode(format!("{}\n{}", position.0, position.1))
}

fn orders(
    name: &'static str,
    query: &str,
    header: (&'static str, &str),
    filter: ListFilter,
) -> Listing {
    Listing {
        name,
        path: format!("/api/v1/shop/orders?limit=20{query}"),
        header: (header.0, header.1.to_string()),
        query: orderpay::store::orders::list_query(&ListFilter {
            limit: 20,
            ..filter
        }),
    }
}

fn payments(name: &'static str, query: &str, key: &str, filter: PaymentFilter) -> Listing {
    Listing {
        name,
        path: format!("/api/v1/payments?limit=20{query}"),
        header: ("X-API-Key", key.to_string()),
        query: orderpay::store::payments::list_query(&PaymentFilter {
            limit: 20,
            ..filter
        }),
    }
}

pub async fn run_part(backend: &Backend) {
    let db = backend.fresh("listing").await;
    let server = launch(&db.url).await;
    let postgres = backend.is_postgres();
    let admin = server.key("admin").await;
    let reader = server.key("payments:read").await;
    let (big, big_bearer) = customer(&server, "big@example.com").await;
    let (small, small_bearer) = customer(&server, "small@example.com").await;
    let started = Instant::now();
    bulk_load::load(&server.pool, postgres, &big, &small).await;
    println!(
        "  listing: {} orders bulk-loaded by SQL in {:.1} s (5 large customers, 1 with 12 orders)",
        bulk_load::ORDERS,
        started.elapsed().as_secs_f64()
    );
    let deep_order = position(&server.pool, "orders", 500_000).await;
    let deep_payment = position(&server.pool, "payment_attempts", 500_000).await;
    let (order_c, payment_c) = (cursor(&deep_order), cursor(&deep_payment));
    let admin_h = ("X-API-Key", admin.as_str());
    let listings = vec![
        orders("orders: first page", "", admin_h, ListFilter::default()),
        orders(
            "orders: page 500,000 deep",
            &format!("&cursor={order_c}"),
            admin_h,
            ListFilter {
                after: Some(deep_order.clone()),
                ..ListFilter::default()
            },
        ),
        orders(
            "orders: status=payment_failed",
            "&status=payment_failed",
            admin_h,
            ListFilter {
                status: Some(OrderStatus::PaymentFailed),
                ..ListFilter::default()
            },
        ),
        orders(
            "orders: status=processing (none)",
            "&status=processing",
            admin_h,
            ListFilter {
                status: Some(OrderStatus::Processing),
                ..ListFilter::default()
            },
        ),
        orders(
            "orders: currency=eur",
            "&currency=eur",
            admin_h,
            ListFilter {
                currency: Currency::parse("eur"),
                ..ListFilter::default()
            },
        ),
        orders(
            "own orders: small customer (12)",
            "",
            ("Authorization", &small_bearer),
            ListFilter {
                user_id: Some(small.clone()),
                ..ListFilter::default()
            },
        ),
        orders(
            "own orders: large customer, deep",
            &format!("&cursor={order_c}"),
            ("Authorization", &big_bearer),
            ListFilter {
                user_id: Some(big.clone()),
                after: Some(deep_order.clone()),
                ..ListFilter::default()
            },
        ),
        payments(
            "payments: first page",
            "",
            &reader,
            PaymentFilter::default(),
        ),
        payments(
            "payments: page 500,000 deep",
            &format!("&cursor={payment_c}"),
            &reader,
            PaymentFilter {
                after: Some(deep_payment.clone()),
                ..PaymentFilter::default()
            },
        ),
        payments(
            "payments: status=requires_payment_method",
            "&status=requires_payment_method",
            &reader,
            PaymentFilter {
                status: Some(PaymentIntentStatus::RequiresPaymentMethod),
                ..PaymentFilter::default()
            },
        ),
        payments(
            "payments: currency=eur",
            "&currency=eur",
            &reader,
            PaymentFilter {
                currency: Currency::parse("eur"),
                ..PaymentFilter::default()
            },
        ),
        payments(
            "payments: one order",
            &format!("&order_id={}", deep_order.1),
            &reader,
            PaymentFilter {
                order_id: Some(deep_order.1.clone()),
                ..PaymentFilter::default()
            },
        ),
    ];
    let mut plan_conn = server.pool.acquire().await.expect("connection");
    for listing in &listings {
        let s = &server;
        let call = || async move {
            let header = [(listing.header.0, listing.header.1.as_str())];
            let (status, body) = s
                .call(reqwest::Method::GET, &listing.path, &header, None)
                .await;
            assert_eq!(status, 200, "{}: {body}", listing.name);
        };
        // Warm-up: the pages' rows into the cache, and (at 8 in flight) the
        // pool's connections opened, each with its statements prepared; the
        // first listing measured at 8 in flight otherwise paid for both.
        run(20, 1, |_| call()).await;
        run(40, 8, |_| call()).await;
        let alone = run(200, 1, |_| call()).await;
        let loaded = run(800, 8, |_| call()).await;
        println!(
            "  {:<42} p99 {:>7.2} ms alone ({:>6.0}/s)   p99 {:>7.2} ms at 8 in flight ({:>6.0}/s)",
            listing.name, alone.p99_ms, alone.per_sec, loaded.p99_ms, loaded.per_sec
        );
        let (sql, binds) = &listing.query;
        plans::print(&plans::explain(&mut plan_conn, postgres, sql, binds).await);
        if postgres && listing.name.starts_with("own orders: small") {
            println!("        generic plan, which a prepared statement would switch to:");
            plans::print(&plans::generic(&mut plan_conn, postgres, sql, binds).await);
        }
    }
    super::sweep_query::compare(&mut plan_conn, postgres).await;
    drop(plan_conn);
    server.stop();
    db.remove().await;
}
