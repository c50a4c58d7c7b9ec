use rocket::http::Method;
use rocket::Route;

use super::paging::{
    decode_cursor, pagination, parse_limit, CursorPart, CURSOR_PARAM, LIMIT_PARAM,
};
use crate::db::Db;
use crate::http::error::ApiResult;
use crate::http::openapi::{schema, Access, Body, Endpoint};
use crate::http::response::{ListEnvelope, Success};
use crate::http::views::ProductView;
use crate::store;

/// The public catalog: what is for sale and at what price.
#[rocket::get("/api/v1/shop/products?<limit>&<cursor>")]
async fn list_products(
    db: &Db,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> ApiResult<Success<Vec<ProductView>>> {
    let limit = parse_limit(limit)?;
    let after = cursor
        .map(|c| decode_cursor(c, &[CursorPart::Sku]))
        .transpose()?;
    let mut conn = db.acquire().await?;
    let (rows, has_more) =
        store::products::list_active(&mut conn, after.as_ref().map(|a| a[0].as_str()), limit)
            .await?;
    let page = pagination(limit, has_more, rows.last(), |p| vec![&p.sku]);
    let products: Vec<ProductView> = rows.into_iter().map(ProductView::from).collect();
    Ok(Success::paginated("products", products, page))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![list_products]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint {
        method: Method::Get,
        path: "/api/v1/shop/products",
        summary: "List the products for sale (by sku)",
        access: Access::Public,
        query: &[LIMIT_PARAM, CURSOR_PARAM],
        body: Body::None,
        response: Some(schema::<ListEnvelope<ProductView>>),
        success: &[200],
        headers: &[],
        errors: &[422, 503],
    }]
}
