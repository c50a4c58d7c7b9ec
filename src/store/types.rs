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
    Currency, InboxStatus, MismatchReason, OrderStatus, PaymentIntentStatus, RefundStatus, Source,
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
text_column!(InboxStatus, parse_text);
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
