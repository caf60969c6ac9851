//! Grouping: refused upload calls with the same caller (every session of a role together),
//! bucket, key prefix, kind of call, error code and message proof are one group. A triage
//! keeps per group its counts, first and last time, session names, calls, clients, every
//! record id and its most recent record; allowed calls are kept only as counts, to say when a
//! refusal was followed by success.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use crate::read::Problem;
use crate::record::{Call, CallKind, ClientKind, Format, Record, RecordId};

/// How to group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// How many folders of the key make its prefix (`reports/` at 1, `reports/2026/` at 2).
    pub prefix_depth: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { prefix_depth: 1 }
    }
}

/// What makes a group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    /// The caller: a role ARN for its sessions, a user's ARN, a canonical user, `anonymous`.
    pub caller: String,
    /// The bucket.
    pub bucket: String,
    /// The key prefix ([`Options::prefix_depth`] folders).
    pub prefix: String,
    /// What the calls write.
    pub kind: CallKind,
    /// The error code.
    pub code: String,
    /// What the message proves, in words (`s3:PutObject; an explicit deny; by a policy of type:
    /// resource-based policy`); empty when the record has no message, or a generic one.
    pub proves: String,
}

/// Session names kept per group; more are counted.
const MAX_SESSIONS: usize = 50;

/// One group of refusals.
#[derive(Debug, Clone)]
pub struct Group {
    /// What the records share.
    pub key: GroupKey,
    /// How many records.
    pub count: u64,
    /// The earliest record's time (ISO 8601 UTC).
    pub first_seen: String,
    /// The latest record's time.
    pub last_seen: String,
    /// Session names of the role's sessions, sorted (at most 50).
    pub sessions: BTreeSet<String>,
    /// How many more session names there were.
    pub more_sessions: u64,
    /// Hashes of the names past the first 50, to count them once (at most 100,000 kept).
    more_seen: rustc_hash::FxHashSet<u64>,
    /// Records per call.
    pub calls: BTreeMap<Call, u64>,
    /// Records per client (from the user agent).
    pub clients: BTreeMap<ClientKind, u64>,
    /// Records per format.
    pub formats: BTreeMap<Format, u64>,
    /// Every record's id, with the index of the input it came from.
    pub ids: Vec<(u32, RecordId)>,
    /// The latest record: the request diagnosed (of records at the same time, the one of the
    /// last input, then the greatest id: the same whatever the order threads read in).
    pub latest: Record,
    latest_input: u32,
    /// Allowed calls of the same caller, bucket, prefix and kind: how many, and the last time.
    pub allowed: Option<(u64, String)>,
    /// Other groups of the same caller, bucket, prefix and kind (other codes or proofs): the
    /// records disagree.
    pub siblings: Vec<(String, String, u64)>,
}

/// Counts of the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records read.
    pub records: u64,
    /// Bytes read, after decompression.
    pub bytes: u64,
    /// Refused upload calls selected.
    pub selected: u64,
    /// Allowed upload calls seen.
    pub allowed: u64,
    /// CloudTrail records of S3 object-level (data) events, selected or not: none in a
    /// CloudTrail input means the trail does not log them (uploads cannot be there).
    pub s3_data_events: u64,
    /// CloudTrail records read (of any service).
    pub cloudtrail_records: u64,
    /// Problems: records, lines or files skipped.
    pub skipped: u64,
}

/// Problems kept with their place; more are only counted.
pub const MAX_PROBLEMS: usize = 1000;

/// Success keys: caller, bucket, prefix, kind.
type Peer = (String, String, String, CallKind);

/// The refusals read so far, grouped.
#[derive(Debug, Clone)]
pub struct Triage {
    opts: Options,
    groups: FxHashMap<GroupKey, Group>,
    allowed: FxHashMap<Peer, (u64, String)>,
    /// What was read.
    pub counts: Counts,
    /// What was skipped (the first [`MAX_PROBLEMS`]; `counts.skipped` counts them all).
    pub problems: Vec<Problem>,
}

impl Triage {
    /// An empty triage.
    pub fn new(opts: Options) -> Triage {
        Triage {
            opts,
            groups: FxHashMap::default(),
            allowed: FxHashMap::default(),
            counts: Counts::default(),
            problems: Vec::new(),
        }
    }

    /// The options it groups with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// How many groups so far.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Records that `what` was skipped at `place`.
    pub fn problem(&mut self, place: String, what: String) {
        self.counts.skipped += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem { place, what });
        }
    }

    /// Adds an upload call read from input number `input`: a refusal joins its group, an
    /// allowed call is counted.
    pub fn add(&mut self, r: Record, input: u32) {
        let prefix = r.prefix(self.opts.prefix_depth).to_owned();
        let caller = r.caller.group_key();
        let kind = r.call.kind();
        let Some(code) = r.code.clone() else {
            self.counts.allowed += 1;
            let e = self
                .allowed
                .entry((caller, r.bucket, prefix, kind))
                .or_insert_with(|| (0, String::new()));
            e.0 += 1;
            if r.time > e.1 {
                e.1 = r.time;
            }
            return;
        };
        self.counts.selected += 1;
        let key = GroupKey {
            caller,
            bucket: r.bucket.clone(),
            prefix,
            kind,
            code,
            proves: proves(r.message.as_deref()),
        };
        match self.groups.get_mut(&key) {
            Some(g) => g.push(r, input),
            None => {
                let g = Group::new(key.clone(), r, input);
                self.groups.insert(key, g);
            }
        }
    }

    /// Adds what another triage read (of other inputs).
    pub fn merge(&mut self, other: Triage) {
        for (k, g) in other.groups {
            match self.groups.get_mut(&k) {
                Some(mine) => mine.absorb(g),
                None => {
                    self.groups.insert(k, g);
                }
            }
        }
        for (k, (n, t)) in other.allowed {
            let e = self.allowed.entry(k).or_insert_with(|| (0, String::new()));
            e.0 += n;
            if t > e.1 {
                e.1 = t;
            }
        }
        let c = other.counts;
        self.counts.records += c.records;
        self.counts.bytes += c.bytes;
        self.counts.selected += c.selected;
        self.counts.allowed += c.allowed;
        self.counts.s3_data_events += c.s3_data_events;
        self.counts.cloudtrail_records += c.cloudtrail_records;
        self.counts.skipped += c.skipped;
        for p in other.problems {
            if self.problems.len() < MAX_PROBLEMS {
                self.problems.push(p);
            }
        }
    }

    /// Puts each group's record ids in input order (threads read inputs out of order).
    pub fn sort_ids(&mut self) {
        for g in self.groups.values_mut() {
            g.ids.sort_by_key(|(input, _)| *input);
        }
        self.problems.sort_by_key(|p| natural(&p.place));
    }

    /// The groups, largest first, with what the other groups and the allowed calls say about
    /// each.
    pub fn finish(self) -> (Vec<Group>, Counts, Vec<Problem>) {
        let mut by_peer: BTreeMap<Peer, Vec<(String, String, u64)>> = BTreeMap::new();
        for g in self.groups.values() {
            let k = &g.key;
            by_peer
                .entry((k.caller.clone(), k.bucket.clone(), k.prefix.clone(), k.kind))
                .or_default()
                .push((k.code.clone(), k.proves.clone(), g.count));
        }
        let mut groups: Vec<Group> = self.groups.into_values().collect();
        for g in &mut groups {
            let k = &g.key;
            let peer = (k.caller.clone(), k.bucket.clone(), k.prefix.clone(), k.kind);
            g.allowed = self.allowed.get(&peer).cloned();
            g.siblings = by_peer
                .get(&peer)
                .map(|v| {
                    v.iter()
                        .filter(|(c, p, _)| !(*c == k.code && *p == k.proves))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
        }
        groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        (groups, self.counts, self.problems)
    }
}

/// `file:12:3` sorts by file, then line as a number.
fn natural(place: &str) -> (String, u64, u64) {
    let mut parts = place.rsplitn(3, ':');
    let a = parts.next().unwrap_or_default();
    let b = parts.next();
    let c = parts.next();
    match (c, b.and_then(|b| b.parse().ok()), a.parse::<u64>()) {
        (Some(file), Some(line), Ok(col)) => (file.to_owned(), line, col),
        _ => match (b, a.parse::<u64>()) {
            (Some(file), Ok(line)) => (
                c.map_or_else(|| file.to_owned(), |c| format!("{c}:{file}")),
                line,
                0,
            ),
            _ => (place.to_owned(), 0, 0),
        },
    }
}

impl Group {
    fn new(key: GroupKey, r: Record, input: u32) -> Group {
        let mut g = Group {
            key,
            count: 0,
            first_seen: r.time.clone(),
            last_seen: r.time.clone(),
            sessions: BTreeSet::new(),
            more_sessions: 0,
            more_seen: Default::default(),
            calls: BTreeMap::new(),
            clients: BTreeMap::new(),
            formats: BTreeMap::new(),
            ids: Vec::new(),
            latest: r.clone(),
            latest_input: input,
            allowed: None,
            siblings: Vec::new(),
        };
        g.push(r, input);
        g
    }

    fn push(&mut self, r: Record, input: u32) {
        self.count += 1;
        if let Some(s) = r.caller.session_name()
            && !self.sessions.contains(s)
        {
            if self.sessions.len() < MAX_SESSIONS {
                self.sessions.insert(s.to_owned());
            } else {
                self.count_more(s);
            }
        }
        *self.calls.entry(r.call).or_default() += 1;
        *self.clients.entry(r.client()).or_default() += 1;
        *self.formats.entry(r.format).or_default() += 1;
        if r.time < self.first_seen {
            self.first_seen.clone_from(&r.time);
        }
        self.ids.push((input, r.id.clone()));
        if r.time > self.last_seen
            || (r.time == self.last_seen && later(&r, input, &self.latest, self.latest_input))
        {
            self.last_seen.clone_from(&r.time);
            self.latest = r;
            self.latest_input = input;
        }
    }

    fn absorb(&mut self, other: Group) {
        self.count += other.count;
        for s in other.sessions {
            if self.sessions.len() < MAX_SESSIONS {
                self.sessions.insert(s);
            } else if !self.sessions.contains(&s) {
                self.count_more(&s);
            }
        }
        for h in other.more_seen {
            if self.more_seen.len() < 100_000 && self.more_seen.insert(h) {
                self.more_sessions += 1;
            }
        }
        for (k, n) in other.calls {
            *self.calls.entry(k).or_default() += n;
        }
        for (k, n) in other.clients {
            *self.clients.entry(k).or_default() += n;
        }
        for (k, n) in other.formats {
            *self.formats.entry(k).or_default() += n;
        }
        if other.first_seen < self.first_seen {
            self.first_seen = other.first_seen;
        }
        self.ids.extend(other.ids);
        if other.last_seen > self.last_seen
            || (other.last_seen == self.last_seen
                && later(
                    &other.latest,
                    other.latest_input,
                    &self.latest,
                    self.latest_input,
                ))
        {
            self.last_seen = other.last_seen;
            self.latest = other.latest;
            self.latest_input = other.latest_input;
        }
    }

    fn count_more(&mut self, s: &str) {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        s.hash(&mut h);
        if self.more_seen.len() < 100_000 && self.more_seen.insert(h.finish()) {
            self.more_sessions += 1;
        }
    }

    /// The session names in words: `alice, bob (+3 more)`.
    pub fn sessions_text(&self) -> String {
        let mut s = self
            .sessions
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        if self.more_sessions > 0 {
            s.push_str(&format!(" (+{} more)", self.more_sessions));
        }
        s
    }

    /// The client most records name.
    pub fn main_client(&self) -> ClientKind {
        self.clients
            .iter()
            .max_by_key(|(_, n)| **n)
            .map_or(ClientKind::Other, |(c, _)| *c)
    }
}

/// Whether record `a` (of input `ia`) comes after `b` (of `ib`) at the same time.
fn later(a: &Record, ia: u32, b: &Record, ib: u32) -> bool {
    (ia, &a.id) > (ib, &b.id)
}

/// What a message proves, in words, for grouping: the action, the kind of denial, the policy
/// type or special reason. Empty for no message or the generic `Access Denied`.
pub fn proves(message: Option<&str>) -> String {
    let Some(m) = message.filter(|m| !m.trim().is_empty()) else {
        return String::new();
    };
    let p = why403_errors::parse(m);
    let mut parts = Vec::new();
    if let Some(a) = &p.action {
        parts.push(a.clone());
    }
    match p.explicit {
        Some(true) => parts.push("an explicit deny".to_owned()),
        Some(false) => parts.push("no policy allows".to_owned()),
        None => {}
    }
    if let Some(t) = p.policy_type {
        parts.push(format!("by a policy of type: {}", t.words()));
    }
    if let Some(s) = p.special {
        parts.push(s.words().to_owned());
    }
    if let Some(arn) = &p.policy_arn {
        parts.push(format!("policy {arn}"));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Caller;

    fn rec(session: &str, key: &str, time: &str, code: Option<&str>, msg: Option<&str>) -> Record {
        Record {
            format: Format::CloudTrail,
            id: RecordId::new(&format!("{session}-{time}")),
            request_id: None,
            call: Call::PutObject,
            time: time.into(),
            caller: Caller {
                arn: Some(format!(
                    "arn:aws:sts::111122223333:assumed-role/Uploader/{session}"
                )),
                ..Caller::default()
            },
            bucket: "amzn-s3-demo-bucket".into(),
            key: key.into(),
            code: code.map(Into::into),
            http_status: Some(403),
            message: msg.map(Into::into),
            region: None,
            source_ip: None,
            vpc_endpoint: None,
            tls: None,
            user_agent: Some("aws-cli/2.22.0".into()),
            presigned: false,
            access_point: None,
            headers: BTreeMap::new(),
            recipient_account: None,
            acl_required: false,
        }
    }

    const DENY: &str = "User: arn:aws:sts::111122223333:assumed-role/Uploader/a is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket/reports/x\" with an explicit deny in a resource-based policy";

    #[test]
    fn sessions_of_a_role_and_keys_of_a_prefix_are_one_group() {
        let mut t = Triage::new(Options::default());
        t.add(
            rec(
                "alice",
                "reports/a.csv",
                "2026-12-05T10:00:00Z",
                Some("AccessDenied"),
                Some(DENY),
            ),
            0,
        );
        t.add(
            rec(
                "bob",
                "reports/2026/b.csv",
                "2026-12-05T11:00:00Z",
                Some("AccessDenied"),
                Some(&DENY.replace("/a ", "/b ")),
            ),
            0,
        );
        t.add(
            rec(
                "bob",
                "tmp/c.csv",
                "2026-12-05T09:00:00Z",
                Some("AccessDenied"),
                Some(DENY),
            ),
            1,
        );
        // Same caller and prefix, a generic message: another group, a sibling.
        t.add(
            rec(
                "carol",
                "reports/d.csv",
                "2026-12-05T12:00:00Z",
                Some("AccessDenied"),
                Some("Access Denied"),
            ),
            1,
        );
        // An allowed upload after the refusals.
        t.add(
            rec("dave", "reports/e.csv", "2026-12-05T13:00:00Z", None, None),
            1,
        );
        let (groups, counts, _) = t.finish();
        assert_eq!(counts.selected, 4);
        assert_eq!(counts.allowed, 1);
        assert_eq!(groups.len(), 3);
        let g = &groups[0];
        assert_eq!(g.count, 2);
        assert_eq!(g.key.caller, "arn:aws:iam::111122223333:role/Uploader");
        assert_eq!(g.key.prefix, "reports/");
        assert_eq!(
            g.key.proves,
            "s3:PutObject; an explicit deny; by a policy of type: resource-based policy"
        );
        assert_eq!(g.sessions_text(), "alice, bob");
        assert_eq!(g.first_seen, "2026-12-05T10:00:00Z");
        assert_eq!(g.last_seen, "2026-12-05T11:00:00Z");
        assert_eq!(g.latest.key, "reports/2026/b.csv");
        assert_eq!(g.allowed, Some((1, "2026-12-05T13:00:00Z".to_owned())));
        assert_eq!(
            g.siblings,
            vec![("AccessDenied".to_owned(), String::new(), 1)]
        );
        assert_eq!(g.ids.len(), 2);
    }

    #[test]
    fn merging_two_halves_equals_reading_all() {
        let records: Vec<Record> = (0..40)
            .map(|i| {
                rec(
                    &format!("s{}", i % 7),
                    &format!("p{}/k{i}", i % 3),
                    &format!("2026-12-05T10:{:02}:00Z", i),
                    (i % 5 != 0).then_some("AccessDenied"),
                    None,
                )
            })
            .collect();
        let mut all = Triage::new(Options::default());
        let (mut a, mut b) = (
            Triage::new(Options::default()),
            Triage::new(Options::default()),
        );
        for (i, r) in records.iter().enumerate() {
            all.add(r.clone(), 0);
            if i % 2 == 0 {
                a.add(r.clone(), 0)
            } else {
                b.add(r.clone(), 0)
            }
        }
        a.merge(b);
        let (ga, ca, _) = a.finish();
        let (gall, call, _) = all.finish();
        assert_eq!(ca, call);
        assert_eq!(ga.len(), gall.len());
        for (x, y) in ga.iter().zip(&gall) {
            assert_eq!(x.key, y.key);
            assert_eq!(x.count, y.count);
            assert_eq!((&x.first_seen, &x.last_seen), (&y.first_seen, &y.last_seen));
            assert_eq!(x.sessions, y.sessions);
            assert_eq!(x.latest, y.latest);
            assert_eq!(x.allowed, y.allowed);
        }
    }
}
