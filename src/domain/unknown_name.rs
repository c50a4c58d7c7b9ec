//! The error for text that names none of a closed set's values (an order
//! status, a mismatch reason, ...): what the store answers when a column
//! holds a value this version of orderpay does not know, instead of
//! guessing one.

/// `kind` says which set was asked ("order status"); `name` is the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {name:?}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
}

impl UnknownName {
    pub fn new(kind: &'static str, name: &str) -> Self {
        UnknownName {
            kind,
            name: name.to_string(),
        }
    }
}

/// The value of `all` whose name is `text`, or an `UnknownName` error.
pub fn find_named<T: Copy>(
    kind: &'static str,
    all: &[T],
    name_of: impl Fn(T) -> &'static str,
    text: &str,
) -> Result<T, UnknownName> {
    all.iter()
        .copied()
        .find(|value| name_of(*value) == text)
        .ok_or_else(|| UnknownName::new(kind, text))
}
