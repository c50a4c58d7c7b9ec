//! Column decoders that work around two gaps of sqlx 0.7's `Any` driver:
//! it reports SQL NULL as a type `Option<String>` refuses, and it has no
//! portable boolean (flags are stored as 0/1 BIGINT). Rows use them through
//! `#[sqlx(try_from = "...")]`, so the row structs keep plain Rust types.
//!
//! (The mirror problem on the way in is handled by `store::nullable`.)

use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::decode::Decode;
use sqlx::error::BoxDynError;
use sqlx::{Any, Type, TypeInfo};

// `AnyTypeInfoKind` is not re-exported by sqlx 0.7, so kinds are told apart by name.
const NULL: &str = "NULL";
const TEXT: &str = "TEXT";
const BOOLEAN: &str = "BOOLEAN";

/// A nullable TEXT column.
pub struct NullableText(Option<String>);

impl Type<Any> for NullableText {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        matches!(ty.name(), TEXT | NULL)
    }
}

impl<'r> Decode<'r, Any> for NullableText {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        if kind_name(&value) == NULL {
            return Ok(NullableText(None));
        }
        <String as Decode<Any>>::decode(value).map(|s| NullableText(Some(s)))
    }
}

impl From<NullableText> for Option<String> {
    fn from(value: NullableText) -> Self {
        value.0
    }
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
