//! Lookups more than one route file needs, kept here so that route files
//! never import each other.

use crate::http::error::{ApiError, ApiResult};
use crate::http::views::{OrderView, RefundView};
use crate::store::{self, orders::Inserted, orders::OrderRow, Conn};

/// The order, if it exists and `owner` (when given) owns it: another
/// customer's order is a 404, exactly like a missing one.
pub async fn find_order(conn: &mut Conn, id: &str, owner: Option<&str>) -> ApiResult<OrderRow> {
    store::orders::get(conn, id)
        .await?
        .filter(|order| owner.is_none() || order.user_id.as_deref() == owner)
        .ok_or_else(|| ApiError::not_found("order"))
}

/// The single-order view, history included; `None` if there is no such order.
pub async fn order_view(conn: &mut Conn, id: &str) -> ApiResult<Option<OrderView>> {
    let Some(row) = store::orders::get(conn, id).await? else {
        return Ok(None);
    };
    Ok(Some(order_view_of(conn, row).await?))
}

/// The single-order view of a row the request already read or wrote (a use
/// case returned it): its items, history and refunds read after it.
pub async fn order_view_of(conn: &mut Conn, row: OrderRow) -> ApiResult<OrderView> {
    let items = store::orders::items(conn, std::slice::from_ref(&row.id)).await?;
    let history = store::orders::history(conn, &row.id).await?;
    let refunds = store::refunds::for_order(conn, &row.id).await?;
    let mut view = OrderView::new(row, items, Some(history));
    view.refunds = Some(refunds.into_iter().map(RefundView::from).collect());
    Ok(view)
}

/// The view of an order inserted in this transaction, from what the inserts
/// wrote: nothing to read again, and no refunds to look for.
pub fn created_order_view(inserted: Inserted) -> OrderView {
    let mut view = OrderView::new(inserted.order, inserted.items, Some(inserted.history));
    view.refunds = Some(Vec::new());
    view
}
