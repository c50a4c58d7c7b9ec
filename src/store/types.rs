//! Column decoders. Two work around gaps of sqlx 0.7's `Any` driver: it
//! reports SQL NULL as a type `Option<String>` refuses (`Nullable`), and it
//! has no portable boolean (flags are stored as 0/1 BIGINT: `Flag`). Rows use
//! them through `#[sqlx(try_from = "...")]`, so the row structs keep plain
//! Rust types.
//!
//! The domain's names (statuses, currencies, mismatch reasons, sources) are
//! TEXT columns decoded straight into their domain types: rows never carry
//! them as free strings, and a text the domain does not know is a decode
//! error naming the column and the value, never a default.
//!
//! (The mirror problem on the way in is handled by `store::nullable`.)

use std::str::FromStr;

use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::decode::Decode;
use sqlx::error::BoxDynError;
use sqlx::{Any, Type, TypeInfo};

use crate::domain::{
    Currency, MismatchReason, OrderStatus, PaymentIntentStatus, RefundStatus, Source,
    StrayRefundStatus, UnknownName,
};

// `AnyTypeInfoKind` is not re-exported by sqlx 0.7, so kinds are told apart by name.
const NULL: &str = "NULL";
const TEXT: &str = "TEXT";
const BOOLEAN: &str = "BOOLEAN";

/// A nullable column of `T`.
#[derive(Debug)]
pub struct Nullable<T>(Option<T>);

/// A nullable TEXT column.
pub type NullableText = Nullable<String>;

impl<T: Type<Any>> Type<Any> for Nullable<T> {
    fn type_info() -> AnyTypeInfo {
        T::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        ty.name() == NULL || T::compatible(ty)
    }
}

impl<'r, T: Decode<'r, Any>> Decode<'r, Any> for Nullable<T> {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        if kind_name(&value) == NULL {
            return Ok(Nullable(None));
        }
        T::decode(value).map(|decoded| Nullable(Some(decoded)))
    }
}

impl<T> From<Nullable<T>> for Option<T> {
    fn from(value: Nullable<T>) -> Self {
        value.0
    }
}

/// Decodes TEXT by parsing it as the domain type's name.
fn parse_text<T: FromStr<Err = UnknownName>>(value: AnyValueRef<'_>) -> Result<T, BoxDynError> {
    let text = <String as Decode<Any>>::decode(value)?;
    Ok(text.parse::<T>()?)
}

/// Lets a domain type be read from a TEXT column (`row.try_get`, a
/// `FromRow` field, a `query_as` tuple), parsed by `$parse`.
macro_rules! text_column {
    ($domain:ty, $parse:expr) => {
        impl Type<Any> for $domain {
            fn type_info() -> AnyTypeInfo {
                <String as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <String as Type<Any>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Any> for $domain {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                $parse(value)
            }
        }
    };
}

text_column!(OrderStatus, parse_text);
text_column!(PaymentIntentStatus, parse_text);
text_column!(RefundStatus, parse_text);
text_column!(MismatchReason, parse_text);
text_column!(StrayRefundStatus, parse_text);
text_column!(Source, parse_text);
text_column!(Currency, parse_currency_code);

/// A currency is stored as its exact lowercase code.
fn parse_currency_code(value: AnyValueRef<'_>) -> Result<Currency, BoxDynError> {
    let code = <String as Decode<Any>>::decode(value)?;
    Ok(Currency::from_code(&code)?)
}

/// A 0/1 flag column (BIGINT: sqlx's Any driver cannot read SQLite BOOLEAN
/// columns at all); a real boolean is accepted too.
pub struct Flag(bool);

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        ty.name() == BOOLEAN || ty.kind().is_integer()
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        if kind_name(&value) == BOOLEAN {
            <bool as Decode<Any>>::decode(value).map(Flag)
        } else {
            <i64 as Decode<Any>>::decode(value).map(|n| Flag(n != 0))
        }
    }
}

impl From<Flag> for bool {
    fn from(value: Flag) -> Self {
        value.0
    }
}

fn kind_name(value: &AnyValueRef<'_>) -> &'static str {
    use sqlx::ValueRef;
    match value.type_info().name() {
        NULL => NULL,
        TEXT => TEXT,
        BOOLEAN => BOOLEAN,
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{AnyConnection, Connection};

    use super::*;

    /// A table with one nullable TEXT column, on an in-memory SQLite
    /// database reached through the `Any` driver, as the app reaches it.
    async fn column() -> AnyConnection {
        sqlx::any::install_default_drivers();
        let mut conn = AnyConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE stored (value TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn
    }

    /// Stores `text` (NULL for `None`) and reads it back as `T`.
    async fn read_back<T>(conn: &mut AnyConnection, text: Option<&str>) -> sqlx::Result<T>
    where
        T: for<'r> Decode<'r, Any> + Type<Any> + Send + Unpin,
    {
        sqlx::query("DELETE FROM stored")
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO stored (value) VALUES (NULLIF($1, ''))")
            .bind(text.unwrap_or(""))
            .execute(&mut *conn)
            .await?;
        let (value,): (T,) = sqlx::query_as("SELECT value FROM stored")
            .fetch_one(&mut *conn)
            .await?;
        Ok(value)
    }

    /// The decode error's text, which names the set and the stored value.
    async fn refusal<T>(conn: &mut AnyConnection, text: &str) -> String
    where
        T: for<'r> Decode<'r, Any> + Type<Any> + Send + Unpin + std::fmt::Debug,
    {
        match read_back::<T>(conn, Some(text)).await {
            Ok(value) => panic!("{text:?} was read as {value:?}"),
            Err(error @ sqlx::Error::ColumnDecode { .. }) => error.to_string(),
            Err(other) => panic!("not a decode error: {other}"),
        }
    }

    #[rocket::async_test]
    async fn every_name_reads_back_as_its_value() {
        let mut conn = column().await;
        for status in OrderStatus::ALL {
            assert_eq!(
                read_back(&mut conn, Some(status.as_str())).await.ok(),
                Some(status)
            );
        }
        for status in PaymentIntentStatus::ALL {
            assert_eq!(
                read_back(&mut conn, Some(status.as_str())).await.ok(),
                Some(status)
            );
        }
        for status in RefundStatus::ALL {
            assert_eq!(
                read_back(&mut conn, Some(status.as_str())).await.ok(),
                Some(status)
            );
        }
        for reason in MismatchReason::ALL {
            assert_eq!(
                read_back(&mut conn, Some(reason.as_str())).await.ok(),
                Some(reason)
            );
        }
        for status in StrayRefundStatus::ALL {
            assert_eq!(
                read_back(&mut conn, Some(status.as_str())).await.ok(),
                Some(status)
            );
        }
        for source in [Source::Reconcile, Source::Webhook("evt_1".into())] {
            let text = source.to_string();
            assert_eq!(read_back(&mut conn, Some(&text)).await.ok(), Some(source));
        }
        for code in ["usd", "jpy", "kwd"] {
            let currency: Currency = read_back(&mut conn, Some(code)).await.unwrap();
            assert_eq!(currency.code(), code);
        }
    }

    #[rocket::async_test]
    async fn an_unknown_name_is_a_decode_error_never_a_default() {
        let mut conn = column().await;
        let order = refusal::<OrderStatus>(&mut conn, "shipped").await;
        assert!(
            order.contains(r#"unknown order status "shipped""#),
            "{order}"
        );
        let currency = refusal::<Currency>(&mut conn, "USD").await;
        assert!(currency.contains(r#"unknown currency "USD""#), "{currency}");
        let reason = refusal::<MismatchReason>(&mut conn, "lost").await;
        assert!(
            reason.contains(r#"unknown mismatch reason "lost""#),
            "{reason}"
        );
        let source = refusal::<Source>(&mut conn, "sweep").await;
        assert!(source.contains(r#"unknown source "sweep""#), "{source}");
        refusal::<PaymentIntentStatus>(&mut conn, "paid").await;
        refusal::<RefundStatus>(&mut conn, "refunded").await;
        refusal::<StrayRefundStatus>(&mut conn, "succeeded").await;
        // Nullable: an unknown value is still an error, only NULL is `None`.
        refusal::<Nullable<OrderStatus>>(&mut conn, "shipped").await;
    }

    #[rocket::async_test]
    async fn null_reads_as_none() {
        let mut conn = column().await;
        let read: Nullable<OrderStatus> = read_back(&mut conn, None).await.unwrap();
        assert_eq!(Option::<OrderStatus>::from(read), None);
        let read: Nullable<OrderStatus> = read_back(&mut conn, Some("paid")).await.unwrap();
        assert_eq!(Option::from(read), Some(OrderStatus::Paid));
        let read: NullableText = read_back(&mut conn, None).await.unwrap();
        assert_eq!(Option::<String>::from(read), None);
    }
}
