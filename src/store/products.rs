use sqlx::FromRow;

use super::{placeholders, Conn};
use crate::domain::pricing::CatalogEntry;
use crate::domain::Currency;

#[derive(Debug, Clone, FromRow)]
pub struct ProductRow {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub currency: Currency,
    pub unit_amount: i64,
    #[sqlx(try_from = "super::types::Flag")]
    pub active: bool,
    pub created_at: String,
}

impl ProductRow {
    /// What pricing needs to know.
    pub fn catalog_entry(self) -> CatalogEntry {
        CatalogEntry {
            currency: self.currency,
            sku: self.sku,
            name: self.name,
            unit_amount: self.unit_amount,
            active: self.active,
        }
    }
}

const COLUMNS: &str = "sku, name, description, currency, unit_amount, active, created_at";

/// Products for sale, by sku, keyset-paginated after `after_sku`.
pub async fn list_active(
    conn: &mut Conn,
    after_sku: Option<&str>,
    limit: i64,
) -> sqlx::Result<(Vec<ProductRow>, bool)> {
    let sql = format!(
        "SELECT {COLUMNS} FROM products WHERE active = $1 AND sku > $2 ORDER BY sku LIMIT {}",
        limit + 1
    );
    let mut rows = sqlx::query_as::<_, ProductRow>(&sql)
        .bind(1_i64)
        .bind(after_sku.unwrap_or(""))
        .fetch_all(conn)
        .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, has_more))
}

pub async fn find_many(conn: &mut Conn, skus: &[String]) -> sqlx::Result<Vec<ProductRow>> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM products WHERE sku IN ({})",
        placeholders(1, skus.len())
    );
    let mut query = sqlx::query_as::<_, ProductRow>(&sql);
    for sku in skus {
        query = query.bind(sku);
    }
    query.fetch_all(conn).await
}

/// Inserts unless the sku exists; returns whether a row was created.
pub async fn insert_if_absent(conn: &mut Conn, product: &ProductRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO products (sku, name, description, currency, unit_amount, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sku) DO NOTHING",
    )
    .bind(&product.sku)
    .bind(&product.name)
    .bind(&product.description)
    .bind(product.currency.code())
    .bind(product.unit_amount)
    .bind(i64::from(product.active))
    .bind(&product.created_at)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
