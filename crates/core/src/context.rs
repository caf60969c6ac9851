//! The request context: condition keys and their values, looked up case-insensitively as AWS
//! does for key names.

use hashbrown::HashTable;

/// The hash of a lower-cased key name; compiled conditions store it so a lookup hashes
/// nothing.
pub fn key_hash(lower: &str) -> u64 {
    crate::policy::key_hash(lower)
}

/// The values of one condition key in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextValue {
    /// The key as it was given (for messages).
    pub name: String,
    pub values: Vec<String>,
    /// True for multivalued keys (`ArrayOf...`, given as a JSON array), even with one value.
    pub multi: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    hash: u64,
    lower: Lower,
    value: ContextValue,
}

/// A lower-cased key name, held inline when short (almost every condition key is), so that
/// setting a key allocates nothing for it.
#[derive(Debug, Clone)]
enum Lower {
    Inline(u8, [u8; INLINE]),
    Heap(Box<str>),
}

const INLINE: usize = 48;

impl Lower {
    fn new(name: &str) -> Lower {
        let b = name.as_bytes();
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            buf[..b.len()].make_ascii_lowercase();
            Lower::Inline(b.len() as u8, buf)
        } else {
            Lower::Heap(name.to_ascii_lowercase().into_boxed_str())
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Lower::Inline(n, buf) => &buf[..*n as usize],
            Lower::Heap(s) => s.as_bytes(),
        }
    }

    fn hash(&self) -> u64 {
        crate::policy::key_hash_bytes(self.bytes())
    }
}

/// Condition keys of one request. Key names are matched case-insensitively.
#[derive(Debug, Default)]
pub struct RequestContext {
    keys: HashTable<Entry>,
    /// Entries of an earlier request, kept for their buffers (see [`RequestContext::recycle`]).
    spare: Vec<Entry>,
}

impl Clone for RequestContext {
    fn clone(&self) -> Self {
        RequestContext {
            keys: self.keys.clone(),
            spare: Vec::new(),
        }
    }
}

impl PartialEq for RequestContext {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .keys
                .iter()
                .all(|e| other.find(e.hash, e.lower.bytes()) == Some(&e.value))
    }
}

impl Eq for RequestContext {}

impl RequestContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty context with room for `n` keys.
    pub fn with_capacity(n: usize) -> Self {
        RequestContext {
            keys: HashTable::with_capacity(n),
            spare: Vec::new(),
        }
    }

    /// Empties the context but keeps its buffers, so that the next request's keys, set with
    /// [`RequestContext::insert_strs`], allocate nothing (a batch reads many similar requests).
    pub fn recycle(&mut self) {
        self.spare.extend(self.keys.drain());
    }

    /// Sets a key from borrowed text, like [`RequestContext::insert`], reusing a recycled
    /// entry's buffers when there is one.
    pub fn insert_strs(&mut self, name: &str, values: &[&str], multi: bool) {
        let lower = Lower::new(name);
        let hash = lower.hash();
        let mut e = self.spare.pop().unwrap_or_else(|| Entry {
            hash,
            lower: Lower::Inline(0, [0; INLINE]),
            value: ContextValue {
                name: String::new(),
                values: Vec::with_capacity(values.len()),
                multi,
            },
        });
        e.value.name.clear();
        e.value.name.push_str(name);
        e.value.values.truncate(values.len());
        for (i, v) in values.iter().enumerate() {
            match e.value.values.get_mut(i) {
                Some(s) => {
                    s.clear();
                    s.push_str(v);
                }
                None => e.value.values.push((*v).to_owned()),
            }
        }
        e.value.multi = multi;
        e.hash = hash;
        let same = |x: &Entry| x.hash == hash && x.lower.bytes() == lower.bytes();
        match self.keys.find_mut(hash, same) {
            Some(x) => {
                e.lower = lower;
                let old = std::mem::replace(x, e);
                self.spare.push(old);
            }
            None => {
                e.lower = lower;
                self.keys.insert_unique(hash, e, |x| x.hash);
            }
        }
    }

    /// Sets a key; a later value for the same key (in any case) replaces the earlier one.
    pub fn insert(&mut self, name: &str, values: Vec<String>, multi: bool) {
        let lower = Lower::new(name);
        let hash = lower.hash();
        let value = ContextValue {
            name: name.to_owned(),
            values,
            multi,
        };
        let same = |e: &Entry| e.hash == hash && e.lower.bytes() == lower.bytes();
        match self.keys.find_mut(hash, same) {
            Some(e) => e.value = value,
            None => {
                self.keys
                    .insert_unique(hash, Entry { hash, lower, value }, |e| e.hash);
            }
        }
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.insert(name, vec![value.into()], false);
    }

    pub fn remove(&mut self, name: &str) -> Option<ContextValue> {
        let lower = Lower::new(name);
        let hash = lower.hash();
        self.keys
            .find_entry(hash, |e| e.hash == hash && e.lower.bytes() == lower.bytes())
            .ok()
            .map(|o| o.remove().0.value)
    }

    pub fn get(&self, name: &str) -> Option<&ContextValue> {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.get_lower(&name.to_ascii_lowercase())
        } else {
            self.get_lower(name)
        }
    }

    /// Lookup with a key that is already lower-case (compiled policies store them so).
    pub fn get_lower(&self, lower: &str) -> Option<&ContextValue> {
        self.get_hashed(key_hash(lower), lower)
    }

    /// Lookup with a lower-case key and its [`key_hash`].
    pub fn get_hashed(&self, hash: u64, lower: &str) -> Option<&ContextValue> {
        self.find(hash, lower.as_bytes())
    }

    fn find(&self, hash: u64, lower: &[u8]) -> Option<&ContextValue> {
        self.keys
            .find(hash, |e| {
                e.hash == hash && crate::pattern::eq_bytes(e.lower.bytes(), lower)
            })
            .map(|e| &e.value)
    }

    pub fn iter(&self) -> impl Iterator<Item = &ContextValue> {
        self.keys.iter().map(|e| &e.value)
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

    #[test]
    fn keys_are_replaced_removed_and_compared_whatever_their_order() {
        let mut a = RequestContext::new();
        for i in 0..100 {
            a.set(&format!("aws:PrincipalTag/Key{i}"), format!("v{i}"));
        }
        a.insert("aws:TagKeys", vec!["x".into(), "y".into()], true);
        // Names longer than the inline buffer work the same.
        let long = format!("aws:RequestTag/{}", "Ab".repeat(40));
        a.set(&long, "long");
        assert_eq!(a.get(&long.to_uppercase()).unwrap().values, ["long"]);
        assert_eq!(a.remove(&long.to_lowercase()).unwrap().name, long);
        assert_eq!(a.len(), 101);
        for i in 0..100 {
            let v = a.get(&format!("AWS:principaltag/key{i}")).unwrap();
            assert_eq!(v.values, [format!("v{i}")]);
        }
        // A later value replaces, whatever the case of the name.
        a.set("AWS:PRINCIPALTAG/KEY7", "new");
        assert_eq!(a.len(), 101);
        assert_eq!(a.get("aws:principaltag/key7").unwrap().values, ["new"]);
        assert_eq!(
            a.get("aws:principaltag/key7").unwrap().name,
            "AWS:PRINCIPALTAG/KEY7"
        );
        // Removal leaves the others reachable.
        assert_eq!(a.remove("aws:principaltag/KEY3").unwrap().values, ["v3"]);
        assert!(a.get("aws:principaltag/key3").is_none());
        assert_eq!(a.get("aws:principaltag/key4").unwrap().values, ["v4"]);
        assert_eq!(a.len(), 100);
        // Equality does not depend on insertion order.
        let mut b = RequestContext::new();
        for v in a.iter().collect::<Vec<_>>().iter().rev() {
            b.insert(&v.name, v.values.clone(), v.multi);
        }
        assert_eq!(a, b);
        b.set("aws:SourceIp", "10.0.0.1");
        assert_ne!(a, b);
    }

    #[test]
    fn a_recycled_context_keeps_nothing_of_the_last_request() {
        let mut c = RequestContext::new();
        c.insert_strs("aws:SourceIp", &["10.0.0.1"], false);
        c.insert_strs("aws:TagKeys", &["a", "b", "c"], true);
        c.insert_strs("aws:SecureTransport", &["true"], false);
        c.recycle();
        assert!(c.is_empty());
        assert!(c.get("aws:SourceIp").is_none());
        // Refilled (with buffers of other sizes and keys in another order), it equals a
        // context built from scratch.
        c.insert_strs("aws:TagKeys", &["x"], true);
        c.insert_strs(
            "aws:PrincipalTag/team",
            &["payments-and-a-longer-value"],
            false,
        );
        c.insert_strs("AWS:principaltag/TEAM", &["logs"], false);
        let mut fresh = RequestContext::new();
        fresh.insert("aws:TagKeys", vec!["x".into()], true);
        fresh.insert("AWS:principaltag/TEAM", vec!["logs".into()], false);
        assert_eq!(c, fresh);
        assert_eq!(c.get("aws:tagkeys").unwrap().values, ["x"]);
        assert_eq!(
            c.get("aws:principaltag/team").unwrap().name,
            "AWS:principaltag/TEAM"
        );
        assert_eq!(c.clone(), fresh);
    }
}
