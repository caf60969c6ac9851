//! The request context: condition keys and their values, looked up case-insensitively as AWS
//! does for key names.

use hashbrown::HashTable;

/// The hash of a lower-cased key name; compiled conditions store it so a lookup hashes
/// nothing.
pub(crate) fn key_hash(lower: &str) -> u64 {
    crate::policy::key_hash(lower)
}

/// The values of one condition key in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextValue {
    /// The key as it was given (for messages).
    pub name: String,
    /// The values, in the order given; empty when the key was set without values (conditions
    /// then treat it as absent).
    pub values: Vec<String>,
    /// True for multivalued keys (`ArrayOf...`, given as a JSON array), even with one value.
    pub multi: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    hash: u64,
    lower: Lower,
    value: ContextValue,
    /// The context's generation the entry belongs to; older entries are stale (kept only for
    /// their buffers, see [`RequestContext::recycle`]).
    generation: u32,
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
///
/// Entries sit in a vector in the order they were first set, indexed by a hash table on the
/// lower-cased name. [`RequestContext::recycle`] empties the context by starting a new
/// generation: the old entries stay, stale, so that a similar request (a batch's next line,
/// usually with the same keys in the same order) overwrites them in place without allocating
/// or hashing.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    entries: Vec<Entry>,
    /// Indexes into `entries`, by `Entry::hash`.
    table: HashTable<u32>,
    generation: u32,
    live: usize,
    /// Where the next key of a recycled context is expected.
    cursor: usize,
}

/// Stale entries kept at most; beyond, recycling starts afresh (memory stays bounded whatever
/// keys a stream of requests uses).
const STALE_LIMIT: usize = 64;

impl PartialEq for RequestContext {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .live_entries()
                .all(|e| other.find(e.hash, e.lower.bytes()) == Some(&e.value))
    }
}

impl Eq for RequestContext {}

impl RequestContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty context with room for `n` keys.
    pub fn with_capacity(n: usize) -> Self {
        RequestContext {
            entries: Vec::with_capacity(n),
            table: HashTable::with_capacity(n),
            ..RequestContext::default()
        }
    }

    fn live_entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(move |e| e.generation == self.generation)
    }

    /// The index of the entry (live or stale) for a lower-cased name.
    fn index(&self, hash: u64, lower: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.table
            .find(hash, |&i| {
                let e = &entries[i as usize];
                e.hash == hash && crate::pattern::eq_bytes(e.lower.bytes(), lower)
            })
            .map(|&i| i as usize)
    }

    /// The entry for a name, made live (created when there is none); returns its index.
    fn slot(&mut self, name: &str) -> usize {
        // A recycled context usually sees the same keys in the same order.
        if let Some(e) = self.entries.get(self.cursor)
            && e.lower.bytes().eq_ignore_ascii_case(name.as_bytes())
        {
            let i = self.cursor;
            self.revive(i);
            return i;
        }
        let lower = Lower::new(name);
        let hash = lower.hash();
        let i = match self.index(hash, lower.bytes()) {
            Some(i) => i,
            None => {
                let i = self.entries.len();
                self.entries.push(Entry {
                    hash,
                    lower,
                    value: ContextValue {
                        name: String::new(),
                        values: Vec::new(),
                        multi: false,
                    },
                    generation: self.generation.wrapping_sub(1),
                });
                let entries = &self.entries;
                self.table
                    .insert_unique(hash, i as u32, |&j| entries[j as usize].hash);
                i
            }
        };
        self.revive(i);
        i
    }

    fn revive(&mut self, i: usize) {
        let e = &mut self.entries[i];
        if e.generation != self.generation {
            e.generation = self.generation;
            self.live += 1;
        }
        self.cursor = i + 1;
    }

    /// Empties the context but keeps its buffers: the next request's keys, set with
    /// [`RequestContext::insert_strs`], mostly allocate nothing (a batch reads many similar
    /// requests).
    pub fn recycle(&mut self) {
        if self.entries.len() > STALE_LIMIT {
            self.entries.clear();
            self.table.clear();
        }
        self.generation = self.generation.wrapping_add(1);
        self.live = 0;
        self.cursor = 0;
        // A generation that old entries could still carry after wrapping: start afresh.
        if self.entries.iter().any(|e| e.generation == self.generation) {
            self.entries.clear();
            self.table.clear();
        }
    }

    /// Sets a key from borrowed text, like [`RequestContext::insert`], reusing the buffers of
    /// a recycled entry for the same name.
    pub fn insert_strs(&mut self, name: &str, values: &[&str], multi: bool) {
        let i = self.slot(name);
        let v = &mut self.entries[i].value;
        if v.name != name {
            v.name.clear();
            v.name.push_str(name);
        }
        v.values.truncate(values.len());
        for (k, text) in values.iter().enumerate() {
            match v.values.get_mut(k) {
                Some(s) => {
                    s.clear();
                    s.push_str(text);
                }
                None => v.values.push((*text).to_owned()),
            }
        }
        v.multi = multi;
    }

    /// Sets a key; a later value for the same key (in any case) replaces the earlier one.
    pub fn insert(&mut self, name: &str, values: Vec<String>, multi: bool) {
        let i = self.slot(name);
        self.entries[i].value = ContextValue {
            name: name.to_owned(),
            values,
            multi,
        };
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.insert(name, vec![value.into()], false);
    }

    /// Removes a key (matched in any case) and returns its values, if it was set.
    pub fn remove(&mut self, name: &str) -> Option<ContextValue> {
        let lower = Lower::new(name);
        let i = self.index(lower.hash(), lower.bytes())?;
        let e = &mut self.entries[i];
        if e.generation != self.generation {
            return None;
        }
        // Stale now; the entry stays for its place in the table.
        e.generation = self.generation.wrapping_sub(1);
        self.live -= 1;
        let name = e.value.name.clone();
        Some(std::mem::replace(
            &mut e.value,
            ContextValue {
                name,
                values: Vec::new(),
                multi: false,
            },
        ))
    }

    /// The values of a key, matched in any case; `None` when the key is not set.
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
    pub(crate) fn get_hashed(&self, hash: u64, lower: &str) -> Option<&ContextValue> {
        self.find(hash, lower.as_bytes())
    }

    fn find(&self, hash: u64, lower: &[u8]) -> Option<&ContextValue> {
        let e = &self.entries[self.index(hash, lower)?];
        (e.generation == self.generation).then_some(&e.value)
    }

    /// The keys, in the order they were first set.
    pub fn iter(&self) -> impl Iterator<Item = &ContextValue> {
        self.live_entries().map(|e| &e.value)
    }

    /// The number of keys set.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no key is set.
    pub fn is_empty(&self) -> bool {
        self.live == 0
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

    #[test]
    fn recycling_through_many_requests_matches_fresh_contexts() {
        // Requests with overlapping, reordered, repeated and removed keys, in the varying case
        // a batch could send: after every recycle the context equals one built afresh, and its
        // stale entries stay bounded.
        let names = [
            "aws:SourceIp",
            "aws:userid",
            "s3:TlsVersion",
            "aws:PrincipalTag/team",
        ];
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut c = RequestContext::new();
        for round in 0..500 {
            c.recycle();
            let mut fresh = RequestContext::new();
            for _ in 0..next(8) {
                let k = next(12) as usize;
                let name = match names.get(k) {
                    Some(n) if next(2) == 0 => n.to_uppercase(),
                    Some(n) => (*n).to_owned(),
                    None => format!("aws:RequestTag/k{}", next(200)),
                };
                let vals: Vec<String> = (0..=next(3)).map(|i| format!("v{round}-{i}")).collect();
                let refs: Vec<&str> = vals.iter().map(String::as_str).collect();
                c.insert_strs(&name, &refs, vals.len() > 1);
                fresh.insert(&name, vals.clone(), vals.len() > 1);
                if next(10) == 0 {
                    assert_eq!(c.remove(&name).map(|v| v.values), Some(vals));
                    fresh.remove(&name);
                }
            }
            assert_eq!(c, fresh, "round {round}");
            assert_eq!(c.len(), fresh.len());
            assert!(
                c.entries.len() <= STALE_LIMIT + 8,
                "{} entries",
                c.entries.len()
            );
            for v in fresh.iter() {
                assert_eq!(c.get(&v.name.to_lowercase()), Some(v));
            }
        }
    }
}
