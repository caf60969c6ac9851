//! The request context: condition keys and their values, looked up case-insensitively as AWS
//! does for key names.

use rustc_hash::FxHashMap;

/// The values of one condition key in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextValue {
    /// The key as it was given (for messages).
    pub name: String,
    pub values: Vec<String>,
    /// True for multivalued keys (`ArrayOf...`, given as a JSON array), even with one value.
    pub multi: bool,
}

/// Condition keys of one request. Key names are matched case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    keys: FxHashMap<String, ContextValue>,
}

impl RequestContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty context with room for `n` keys.
    pub fn with_capacity(n: usize) -> Self {
        RequestContext {
            keys: FxHashMap::with_capacity_and_hasher(n, Default::default()),
        }
    }

    /// Sets a key; a later value for the same key (in any case) replaces the earlier one.
    pub fn insert(&mut self, name: &str, values: Vec<String>, multi: bool) {
        self.keys.insert(
            name.to_ascii_lowercase(),
            ContextValue {
                name: name.to_owned(),
                values,
                multi,
            },
        );
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.insert(name, vec![value.into()], false);
    }

    pub fn remove(&mut self, name: &str) -> Option<ContextValue> {
        self.keys.remove(&name.to_ascii_lowercase())
    }

    pub fn get(&self, name: &str) -> Option<&ContextValue> {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.keys.get(&name.to_ascii_lowercase())
        } else {
            self.keys.get(name)
        }
    }

    /// Lookup with a key that is already lower-case (compiled policies store them so).
    pub fn get_lower(&self, lower: &str) -> Option<&ContextValue> {
        self.keys.get(lower)
    }

    pub fn iter(&self) -> impl Iterator<Item = &ContextValue> {
        self.keys.values()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_case_insensitive() {
        // AWS: condition key names are not case-sensitive.
        let mut c = RequestContext::new();
        c.set("aws:SourceIp", "10.0.0.1");
        assert_eq!(c.get("AWS:SOURCEIP").unwrap().values, ["10.0.0.1"]);
        assert_eq!(c.get_lower("aws:sourceip").unwrap().name, "aws:SourceIp");
        c.set("AWS:sourceip", "10.0.0.2");
        assert_eq!(c.len(), 1);
    }
}
