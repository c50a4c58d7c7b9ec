//! The webhook inbox.

use super::Conn;
use crate::domain::InboxStatus;

/// An inbox entry as an operator sees it (without the payload).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    #[sqlx(try_from = "super::types::NullableText")]
    pub payment_intent_id: Option<String>,
    #[sqlx(try_from = "super::types::NullableText")]
    pub order_id: Option<String>,
    pub received_at: String,
    #[sqlx(try_from = "super::types::NullableText")]
    pub processed_at: Option<String>,
    #[sqlx(try_from = "super::types::NullableText")]
    pub outcome: Option<String>,
    pub status: InboxStatus,
    pub attempts: i64,
    #[sqlx(try_from = "super::types::NullableText")]
    pub last_error: Option<String>,
}

/// Newest first, keyset-paginated on (received_at, id).
pub async fn list(
    conn: &mut Conn,
    kind: Option<&str>,
    order_id: Option<&str>,
    status: Option<InboxStatus>,
    after: Option<&(String, String)>,
    limit: i64,
) -> sqlx::Result<(Vec<EventRow>, bool)> {
    let mut conditions = vec!["1 = 1".to_string()];
    let mut binds = Vec::new();
    let mut next = |value: &str| {
        binds.push(value.to_string());
        format!("${}", binds.len())
    };
    if let Some(kind) = kind {
        conditions.push(format!("type = {}", next(kind)));
    }
    if let Some(order_id) = order_id {
        conditions.push(format!("order_id = {}", next(order_id)));
    }
    if let Some(status) = status {
        conditions.push(format!("status = {}", next(status.as_str())));
    }
    if let Some((at, id)) = after {
        let (a, i) = (next(at), next(id));
        conditions.push(format!("(received_at, id) < ({a}, {i})"));
    }
    let sql = format!(
        "SELECT id, type, payment_intent_id, order_id, received_at, processed_at, outcome, \
         status, attempts, last_error \
         FROM webhook_events WHERE {} ORDER BY received_at DESC, id DESC LIMIT {}",
        conditions.join(" AND "),
        limit + 1
    );
    super::fetch_page(conn, &sql, &binds, limit).await
}
