//! Orders, their line items and their append-only history.

use sqlx::{Connection, FromRow};

use super::{nullable, placeholders, Conn};
use crate::db::{new_id, now_text};
use crate::domain::order_number::new_order_number;
use crate::domain::pricing::PricedOrder;
use crate::domain::{Currency, OrderStatus, Source};

#[derive(Debug, Clone, FromRow)]
pub struct OrderRow {
    pub id: String,
    pub number: String,
    #[sqlx(try_from = "super::types::NullableText")]
    pub user_id: Option<String>,
    #[sqlx(try_from = "super::types::NullableText")]
    pub email: Option<String>,
    pub status: OrderStatus,
    pub currency: Currency,
    pub amount: i64,
    pub amount_refunded: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The PaymentIntent that paid the order: refunds go against it, and no
    /// other may keep money for this order.
    #[sqlx(try_from = "super::types::NullableText")]
    pub paid_payment_intent_id: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct ItemRow {
    pub order_id: String,
    pub position: i64,
    pub sku: String,
    pub name: String,
    pub unit_amount: i64,
    pub quantity: i64,
    pub amount: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct HistoryRow {
    pub seq: i64,
    /// `None` for the order's creation.
    #[sqlx(try_from = "super::types::Nullable<OrderStatus>")]
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    pub source: Source,
    pub at: String,
}

const COLUMNS: &str = "id, number, user_id, email, status, currency, amount, amount_refunded, created_at, updated_at, paid_payment_intent_id";

pub struct NewOrder<'a> {
    pub priced: &'a PricedOrder,
    pub user_id: Option<&'a str>,
    pub email: Option<&'a str>,
    /// A fixed number (seeded orders); `None` generates one.
    pub number: Option<&'a str>,
    pub source: &'a Source,
}

/// A new order as its inserts wrote it: what its view shows, without
/// reading any of it back.
pub struct Inserted {
    pub order: OrderRow,
    pub items: Vec<ItemRow>,
    pub history: Vec<HistoryRow>,
}

/// Inserts the order, its items and its first history entry, and returns
/// them as written (`RETURNING`, and the items from `new`). Returns `None`
/// only when a fixed `number` already exists (seeding twice).
pub async fn insert(conn: &mut Conn, new: NewOrder<'_>) -> sqlx::Result<Option<Inserted>> {
    let id = new_id();
    let now = now_text();
    let initial = OrderStatus::PendingPayment.as_str();
    let mut attempts = 0;
    let order = loop {
        attempts += 1;
        let number = match new.number {
            Some(fixed) => fixed.to_string(),
            None => new_order_number(chrono::Utc::now()),
        };
        // ON CONFLICT DO NOTHING instead of catching a unique violation: on
        // PostgreSQL a failed statement would poison the whole transaction.
        // No row back means the number was taken.
        let inserted: Option<OrderRow> = sqlx::query_as(&format!(
            "INSERT INTO orders (id, number, user_id, email, status, currency, amount, created_at, updated_at) \
             VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), $5, $6, $7, $8, $8) \
             ON CONFLICT (number) DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(&id)
        .bind(&number)
        .bind(nullable(new.user_id))
        .bind(nullable(new.email))
        .bind(initial)
        .bind(new.priced.currency.code())
        .bind(new.priced.amount)
        .bind(&now)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = inserted {
            break row;
        }
        if new.number.is_some() {
            return Ok(None);
        }
        if attempts >= 8 {
            return Err(sqlx::Error::Protocol(
                "could not find a free order number".into(),
            ));
        }
    };
    let mut items = Vec::with_capacity(new.priced.lines.len());
    for (position, line) in new.priced.lines.iter().enumerate() {
        let item = ItemRow {
            order_id: id.clone(),
            position: position as i64,
            sku: line.sku.clone(),
            name: line.name.clone(),
            unit_amount: line.unit_amount,
            quantity: line.quantity,
            amount: line.amount,
        };
        sqlx::query(
            "INSERT INTO order_items (order_id, position, sku, name, unit_amount, quantity, amount) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&item.order_id)
        .bind(item.position)
        .bind(&item.sku)
        .bind(&item.name)
        .bind(item.unit_amount)
        .bind(item.quantity)
        .bind(item.amount)
        .execute(&mut *conn)
        .await?;
        items.push(item);
    }
    let created = append_history(conn, &id, OrderStatus::PendingPayment, new.source).await?;
    Ok(Some(Inserted {
        order,
        items,
        history: vec![created],
    }))
}

pub async fn get(conn: &mut Conn, id: &str) -> sqlx::Result<Option<OrderRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM orders WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The order and the number of its latest payment attempt (0 when it has
/// none), in one statement: what a PaymentIntent's events need to know
/// whether it is the order's current attempt.
pub async fn get_with_latest_attempt(
    conn: &mut Conn,
    id: &str,
) -> sqlx::Result<Option<(OrderRow, i64)>> {
    #[derive(FromRow)]
    struct Joined {
        #[sqlx(flatten)]
        order: OrderRow,
        latest_attempt: i64,
    }
    let joined: Option<Joined> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, \
             (SELECT COALESCE(MAX(a.attempt), 0) FROM payment_attempts a WHERE a.order_id = orders.id) \
             AS latest_attempt \
         FROM orders WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(joined.map(|j| (j.order, j.latest_attempt)))
}

pub async fn items(conn: &mut Conn, order_ids: &[String]) -> sqlx::Result<Vec<ItemRow>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT order_id, position, sku, name, unit_amount, quantity, amount FROM order_items \
         WHERE order_id IN ({}) ORDER BY order_id, position",
        placeholders(1, order_ids.len())
    );
    let mut query = sqlx::query_as::<_, ItemRow>(&sql);
    for id in order_ids {
        query = query.bind(id);
    }
    query.fetch_all(conn).await
}

pub async fn history(conn: &mut Conn, order_id: &str) -> sqlx::Result<Vec<HistoryRow>> {
    sqlx::query_as(
        "SELECT seq, from_status, to_status, source, at FROM order_history \
         WHERE order_id = $1 ORDER BY seq",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await
}

/// Moves the order to `to` only if its current status may move there, and
/// records the step. Returns false (and writes nothing) when another request
/// got there first or the move is not allowed: the conditional UPDATE is what
/// makes duplicate and concurrent messages harmless. It is the first statement
/// so a transaction starting here takes the write lock at once (SQLite) or the
/// row lock (PostgreSQL) before anything is read.
pub async fn transition(
    conn: &mut Conn,
    order_id: &str,
    to: OrderStatus,
    source: &Source,
) -> sqlx::Result<bool> {
    transition_from(conn, order_id, &OrderStatus::predecessors(to), to, source).await
}

/// `transition`, from only some of the states the machine allows.
async fn transition_from(
    conn: &mut Conn,
    order_id: &str,
    from_states: &[OrderStatus],
    to: OrderStatus,
    source: &Source,
) -> sqlx::Result<bool> {
    if from_states.is_empty() {
        return Ok(false);
    }
    let sql = format!(
        "UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status IN ({})",
        placeholders(4, from_states.len())
    );
    let mut update = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(now_text())
        .bind(order_id);
    for from in from_states {
        update = update.bind(from.as_str());
    }
    // The status and its history entry commit together (a savepoint when the
    // caller already holds a transaction): a reader never sees a status
    // without the step that led to it, and two transitions of one order
    // cannot both number their entry from the same count.
    let mut tx = conn.begin().await?;
    if update.execute(&mut *tx).await?.rows_affected() != 1 {
        return Ok(false);
    }
    append_history(&mut tx, order_id, to, source).await?;
    tx.commit().await?;
    Ok(true)
}

/// Takes the order's write lock for the rest of the caller's transaction (a
/// row lock on PostgreSQL, the database write lock on SQLite) before anything
/// is read, so work that reads and then writes the order's money (refunds)
/// runs one at a time per order. False when there is no such order.
pub async fn lock(conn: &mut Conn, order_id: &str) -> sqlx::Result<bool> {
    let locked = sqlx::query("UPDATE orders SET updated_at = updated_at WHERE id = $1")
        .bind(order_id)
        .execute(conn)
        .await?;
    Ok(locked.rows_affected() == 1)
}

/// `lock`, returning the order as it is under the lock: one statement
/// instead of the lock and a read after it. `None` when there is no such order.
pub async fn lock_read(conn: &mut Conn, order_id: &str) -> sqlx::Result<Option<OrderRow>> {
    sqlx::query_as(&format!(
        "UPDATE orders SET updated_at = updated_at WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(order_id)
    .fetch_optional(conn)
    .await
}

/// Moves the order to paid, remembering which PaymentIntent paid it (what a
/// refund is later made against): status and PaymentIntent in one
/// conditional UPDATE, and its history entry. Run it in the caller's
/// transaction (`settle::mark_paid` commits it with the attempt's status):
/// the status and its entry must commit together. Returns the order as the
/// UPDATE left it, or `None` when it did not move (not payable).
pub async fn set_paid(
    conn: &mut Conn,
    order_id: &str,
    payment_intent_id: &str,
    source: &Source,
) -> sqlx::Result<Option<OrderRow>> {
    // Only a payable order: a late payment message for a refunded one
    // changes nothing (a refund state reaches paid only through `set_refunded`).
    let payable = OrderStatus::paid_from_payment();
    let sql = format!(
        "UPDATE orders SET status = $1, paid_payment_intent_id = $2, updated_at = $3 \
         WHERE id = $4 AND status IN ({}) RETURNING {COLUMNS}",
        placeholders(5, payable.len())
    );
    let mut update = sqlx::query_as::<_, OrderRow>(&sql)
        .bind(OrderStatus::Paid.as_str())
        .bind(payment_intent_id)
        .bind(now_text())
        .bind(order_id);
    for from in &payable {
        update = update.bind(from.as_str());
    }
    let Some(paid) = update.fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    append_history(conn, order_id, OrderStatus::Paid, source).await?;
    Ok(Some(paid))
}

/// Notes an event that leaves the status as it is (money refunded
/// automatically) in the order's history: an entry whose `from` and `to` are
/// both the current status, so the history still reads as a chain.
pub async fn note(conn: &mut Conn, order_id: &str, source: &Source) -> sqlx::Result<()> {
    let mut tx = conn.begin().await?;
    if !lock(&mut tx, order_id).await? {
        return Ok(());
    }
    let (status,): (OrderStatus,) = sqlx::query_as("SELECT status FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(&mut *tx)
        .await?;
    append_history(&mut tx, order_id, status, source).await?;
    tx.commit().await
}

/// The step's `from` is the previous entry's `to`: every status change goes
/// through here, so the history is the status's complete record. Returns
/// the entry as written.
async fn append_history(
    conn: &mut Conn,
    order_id: &str,
    to: OrderStatus,
    source: &Source,
) -> sqlx::Result<HistoryRow> {
    sqlx::query_as(
        "INSERT INTO order_history (order_id, seq, from_status, to_status, source, at) \
         SELECT $1, COUNT(*) + 1, \
                (SELECT h.to_status FROM order_history h WHERE h.order_id = $1 ORDER BY h.seq DESC LIMIT 1), \
                $2, $3, $4 \
         FROM order_history WHERE order_id = $1 \
         RETURNING seq, from_status, to_status, source, at",
    )
    .bind(order_id)
    .bind(to.as_str())
    .bind(source.to_string())
    .bind(now_text())
    .fetch_one(conn)
    .await
}

/// Sets a paid order's refunded total to `total` (minor units), Stripe's
/// refunded total on the charge that paid it as Stripe answers it now, and
/// moves the order to the status that total implies: up when a refund is
/// made, down when one fails (see `domain::order_status`). The total and the
/// status change in one conditional UPDATE, with its history entry. Returns
/// false when nothing changed (the total was already that, or the order is
/// not in a refund state).
pub async fn set_refunded(
    conn: &mut Conn,
    order_id: &str,
    total: i64,
    source: &Source,
) -> sqlx::Result<bool> {
    let mut tx = conn.begin().await?;
    // The amount never changes once the order exists.
    let Some((amount,)): Option<(i64,)> = sqlx::query_as("SELECT amount FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(false);
    };
    let to = OrderStatus::for_refunded_total(total, amount);
    let from_states: Vec<OrderStatus> = OrderStatus::predecessors(to)
        .into_iter()
        .filter(|from| from.is_refund_state())
        .collect();
    if from_states.is_empty() {
        return Ok(false);
    }
    let sql = format!(
        "UPDATE orders SET amount_refunded = $1, status = $2, updated_at = $3 \
         WHERE id = $4 AND amount_refunded <> $1 AND status IN ({})",
        placeholders(5, from_states.len())
    );
    let mut update = sqlx::query(&sql)
        .bind(total)
        .bind(to.as_str())
        .bind(now_text())
        .bind(order_id);
    for from in &from_states {
        update = update.bind(from.as_str());
    }
    if update.execute(&mut *tx).await?.rows_affected() != 1 {
        return Ok(false);
    }
    append_history(&mut tx, order_id, to, source).await?;
    tx.commit().await?;
    Ok(true)
}

#[derive(Debug, Default)]
pub struct ListFilter {
    pub status: Option<OrderStatus>,
    pub currency: Option<Currency>,
    pub user_id: Option<String>,
    /// Position after which the page starts: (created_at, id) of the last row seen.
    pub after: Option<(String, String)>,
    pub limit: i64,
}

/// Newest first, keyset-paginated on (created_at, id): stable while orders are
/// being added, unlike OFFSET. Fetches one extra row to know if more exist.
pub async fn list(conn: &mut Conn, filter: &ListFilter) -> sqlx::Result<(Vec<OrderRow>, bool)> {
    let (sql, binds) = list_query(filter);
    super::fetch_page(conn, &sql, &binds, filter.limit).await
}

/// The statement `list` runs and its binds (all text, in order); public so
/// the benchmark can show the plan of exactly this text. The keyset position
/// is a row-value comparison: both backends turn it into one index range
/// on (created_at, id), where the spelled-out `created_at < $1 OR
/// (created_at = $1 AND id < $2)` is only a filter on PostgreSQL, so a deep
/// page read every row before it.
pub fn list_query(filter: &ListFilter) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let next = |value: String, binds: &mut Vec<String>| {
        binds.push(value);
        format!("${}", binds.len())
    };
    if let Some(status) = filter.status {
        let p = next(status.as_str().to_string(), &mut binds);
        conditions.push(format!("status = {p}"));
    }
    if let Some(currency) = filter.currency {
        let p = next(currency.code().to_string(), &mut binds);
        conditions.push(format!("currency = {p}"));
    }
    if let Some(user_id) = &filter.user_id {
        let p = next(user_id.clone(), &mut binds);
        conditions.push(format!("user_id = {p}"));
    }
    if let Some((created_at, id)) = &filter.after {
        let c = next(created_at.clone(), &mut binds);
        let i = next(id.clone(), &mut binds);
        conditions.push(format!("(created_at, id) < ({c}, {i})"));
    }
    let filter_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM orders {filter_sql} ORDER BY created_at DESC, id DESC LIMIT {}",
        filter.limit + 1
    );
    (sql, binds)
}

pub async fn count(conn: &mut Conn) -> sqlx::Result<i64> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders")
        .fetch_one(conn)
        .await?;
    Ok(count)
}
