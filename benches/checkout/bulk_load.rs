//! A million orders written by SQL in three statements (a recursive CTE on
//! SQLite, generate_series on PostgreSQL): five large customers share them,
//! one small customer has 12. One order in a hundred is payment_failed, six
//! are pending_payment (half of them never asked for a PaymentIntent), three
//! canceled, two refunded, the rest paid; one in ten is in EUR. Two orders
//! share each creation second, so pages break ties on the id.

use sqlx::{AnyPool, Executor};

pub const ORDERS: i64 = 1_000_000;
/// Every 83,333rd order is the small customer's: 12 of them.
const SMALL_EVERY: i64 = 83_333;

/// The five large customers' ids; the first one is `big` (registered, so
/// the bench can log in as it), the others are written here.
pub async fn load(pool: &AnyPool, postgres: bool, big: &str, small: &str) {
    let mut large = vec![big.to_string()];
    for n in 1..5 {
        let id = format!("00000000-0000-4000-9000-{n:012}");
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) \
             VALUES ($1, $2, 'Bulk', 'not-a-hash', '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z')",
        )
        .bind(&id)
        .bind(format!("bulk{n}@example.com"))
        .execute(pool)
        .await
        .expect("bulk user");
        large.push(id);
    }
    let series = if postgres {
        format!("SELECT i FROM generate_series(1, {ORDERS}) AS s(i)")
    } else {
        format!("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {ORDERS}) SELECT i FROM s")
    };
    let (id, created) = if postgres {
        (
            "'00000000-0000-4000-8000-' || lpad(i::text, 12, '0')",
            "to_char(timestamp '2025-01-01' + (i / 2) * interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
        )
    } else {
        (
            "printf('00000000-0000-4000-8000-%012d', i)",
            "strftime('%Y-%m-%dT%H:%M:%S', '2025-01-01', '+' || (i / 2) || ' seconds') || '.000000Z'",
        )
    };
    let number = if postgres {
        "'ORD-BULK-' || lpad(i::text, 7, '0')"
    } else {
        "printf('ORD-BULK-%07d', i)"
    };
    let orders = format!(
        "INSERT INTO orders (id, number, user_id, email, status, currency, amount, created_at, updated_at, paid_payment_intent_id) \
         SELECT {id}, {number}, \
           CASE WHEN i % {SMALL_EVERY} = 0 THEN $1 WHEN i % 5 = 0 THEN $2 WHEN i % 5 = 1 THEN $3 \
                WHEN i % 5 = 2 THEN $4 WHEN i % 5 = 3 THEN $5 ELSE $6 END, \
           NULL, \
           CASE WHEN i % 100 < 88 THEN 'paid' WHEN i % 100 < 90 THEN 'refunded' WHEN i % 100 < 93 THEN 'canceled' \
                WHEN i % 100 < 99 THEN 'pending_payment' ELSE 'payment_failed' END, \
           CASE WHEN i % 10 = 0 THEN 'eur' ELSE 'usd' END, 1000 + i % 5000, {created}, {created}, \
           CASE WHEN i % 100 < 90 THEN 'pi_bulk_' || i END \
         FROM ({series}) AS n"
    );
    let mut insert = sqlx::query(&orders).bind(small);
    for customer in &large {
        insert = insert.bind(customer);
    }
    insert.execute(pool).await.expect("bulk orders");
    sqlx::query(
        "INSERT INTO order_items (order_id, position, sku, name, unit_amount, quantity, amount) \
         SELECT id, 1, 'MAIN-2', 'Bulk item', amount, 1, amount FROM orders WHERE number LIKE 'ORD-BULK-%'",
    )
    .execute(pool)
    .await
    .expect("bulk items");
    // One attempt per order that asked for a PaymentIntent; its last-seen
    // status follows the order's.
    sqlx::query(
        "INSERT INTO payment_attempts (id, order_id, attempt, idempotency_key, payment_intent_id, amount, currency, created_at, updated_at, status) \
         SELECT 'a' || substr(id, 2), id, 1, 'orderpay:pi:' || id || ':1', \
           'pi_bulk_' || CAST(substr(number, 10) AS BIGINT), amount, currency, created_at, created_at, \
           CASE status WHEN 'paid' THEN 'succeeded' WHEN 'refunded' THEN 'succeeded' \
             WHEN 'canceled' THEN 'canceled' ELSE 'requires_payment_method' END \
         FROM orders WHERE number LIKE 'ORD-BULK-%' \
           AND NOT (status = 'pending_payment' AND CAST(substr(number, 10) AS BIGINT) % 2 = 0)",
    )
    .execute(pool)
    .await
    .expect("bulk attempts");
    // What an operator runs after a bulk load, and what autovacuum would do
    // on its own moments later: on PostgreSQL, without the VACUUM, the
    // autovacuum of a million new rows ran during the first listings
    // measured, and each page's first reader wrote its hint bits. A table
    // that grew to a million orders in service has been vacuumed all along.
    let statement = if postgres {
        "VACUUM ANALYZE"
    } else {
        "ANALYZE"
    };
    pool.execute(statement).await.expect("vacuum and analyze");
}
