//! Stripe's request encoding: `application/x-www-form-urlencoded` with
//! bracketed nested keys (`metadata[order_id]=...`, `payment_method_types[]=card`).
//! `Form` builds bodies and query strings for the client; `Params` reads
//! them back (the simulator).

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn new() -> Self {
        Form::default()
    }

    pub fn field(mut self, key: &str, value: impl ToString) -> Self {
        self.pairs.push((key.to_string(), value.to_string()));
        self
    }

    pub fn opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(value) => self.field(key, value),
            None => self,
        }
    }

    /// `name[key]=value` for each entry.
    pub fn map<'a>(
        mut self,
        name: &str,
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        for (key, value) in entries {
            self.pairs
                .push((format!("{name}[{key}]"), value.to_string()));
        }
        self
    }

    /// `name[]=value` for each value.
    pub fn list<'a>(mut self, name: &str, values: impl IntoIterator<Item = &'a str>) -> Self {
        for value in values {
            self.pairs.push((format!("{name}[]"), value.to_string()));
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn encode(&self) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.pairs {
            serializer.append_pair(key, value);
        }
        serializer.finish()
    }
}

/// Decoded form parameters, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(text: &str) -> Params {
        Params {
            pairs: form_urlencoded::parse(text.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// The last value sent for `key` (a repeated scalar: the last one wins).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `name[key]=value` entries as a map (the first `]` after the name opens
    /// the key, the final `]` closes it, so keys may themselves hold brackets).
    pub fn map(&self, name: &str) -> BTreeMap<String, String> {
        let prefix = format!("{name}[");
        self.pairs
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix(&prefix)?.strip_suffix(']')?;
                (!key.is_empty() && key.parse::<usize>().is_err())
                    .then(|| (key.to_string(), v.clone()))
            })
            .collect()
    }

    /// `name[]=a&name[]=b` or `name[0]=a&name[1]=b`.
    pub fn list(&self, name: &str) -> Vec<String> {
        let bare = format!("{name}[]");
        let prefix = format!("{name}[");
        self.pairs
            .iter()
            .filter(|(k, _)| {
                *k == bare
                    || k.strip_prefix(&prefix)
                        .and_then(|rest| rest.strip_suffix(']'))
                        .is_some_and(|index| index.parse::<usize>().is_ok())
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every key, for the idempotency fingerprint.
    pub fn canonical(&self) -> Vec<(String, String)> {
        let mut pairs = self.pairs.clone();
        pairs.sort();
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_keys_round_trip_with_unicode_and_brackets() {
        let form = Form::new()
            .field("amount", 11200)
            .field("currency", "usd")
            .map(
                "metadata",
                [
                    ("order_id", "ord_1"),
                    ("note", "café [x] & y=z ✓"),
                    ("a[b]", "nested"),
                ],
            )
            .list("payment_method_types", ["card"]);
        let encoded = form.encode();
        assert!(
            encoded.contains("metadata%5Border_id%5D=ord_1"),
            "{encoded}"
        );
        assert!(
            encoded.contains("payment_method_types%5B%5D=card"),
            "{encoded}"
        );
        let params = Params::parse(&encoded);
        assert_eq!(params.get("amount"), Some("11200"));
        let metadata = params.map("metadata");
        assert_eq!(metadata["order_id"], "ord_1");
        assert_eq!(metadata["note"], "café [x] & y=z ✓");
        assert_eq!(metadata["a[b]"], "nested");
        assert_eq!(params.list("payment_method_types"), vec!["card"]);
    }

    #[test]
    fn indexed_lists_are_read_too() {
        let params = Params::parse("expand%5B0%5D=a&expand%5B1%5D=b");
        assert_eq!(params.list("expand"), vec!["a", "b"]);
        assert!(params.map("expand").is_empty());
    }
}
