//! The case generator of `cargo xtask differential`: random authorization requests with every
//! policy that applies to them, in `why403 eval`'s input format (docs/eval-format.md).
//!
//! Case `i` of seed `s` depends on `(s, i)` only, so a case is reproduced from its id whatever
//! the batch it was generated in. The cases stay inside AWS's policy grammar (a principal only
//! where one is required, RCPs that deny with `"Principal": "*"`, no wildcard in a request's
//! resource), so that a disagreement is about evaluation, not about which invalid documents an
//! engine accepts; within the grammar they reach for the corners: `NotAction`, `NotResource`,
//! `NotPrincipal`, wildcards and policy variables (with defaults and the `${*}` `${?}` `${$}`
//! escapes) in both policy versions, every condition operator with `IfExists`,
//! `ForAllValues:` / `ForAnyValue:` and `Null`, multivalued and missing keys, every policy
//! layer, and callers of every kind in the resource's account and in another.

use serde_json::{Map, Value, json};

/// The resource's owner.
pub const OWNER: &str = "111122223333";
/// Another account.
pub const OTHER: &str = "444455556666";
const BUCKET: &str = "amzn-s3-demo-bucket";
const CANONICAL: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

/// SplitMix64: small, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The generator of case `index` of `seed`.
    pub fn for_case(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
}

/// Who makes the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    User,
    Role,
    Session,
    FederatedUser,
    Root,
    Service,
    Anonymous,
}

/// The value type of a condition key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    Str,
    Multi,
    Ip,
    Date,
    Bool,
    Num,
    Arn,
}

/// The global condition keys the cases use, with their type and the request values they take.
const KEYS: &[(&str, KeyType, &[&str])] = &[
    (
        "aws:SourceIp",
        KeyType::Ip,
        &["203.0.113.7", "10.1.2.3", "2001:db8::1", "198.51.100.20"],
    ),
    ("aws:username", KeyType::Str, &["alice", "bob", "Alice"]),
    (
        "aws:PrincipalTag/team",
        KeyType::Str,
        &["red", "blue", "Red"],
    ),
    ("aws:RequestTag/env", KeyType::Str, &["prod", "dev", "Prod"]),
    (
        "aws:PrincipalOrgID",
        KeyType::Str,
        &["o-a1b2c3d4e5", "o-zz9"],
    ),
    ("aws:TagKeys", KeyType::Multi, &["env", "team", "Team"]),
    (
        "aws:PrincipalOrgPaths",
        KeyType::Multi,
        &[
            "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/",
            "o-a1b2c3d4e5/r-ab12/",
        ],
    ),
    (
        "aws:CurrentTime",
        KeyType::Date,
        &[
            "2024-06-01T12:00:00Z",
            "2023-12-31T23:59:59Z",
            "2025-03-01T00:00:00Z",
        ],
    ),
    (
        "aws:EpochTime",
        KeyType::Date,
        &["1717243200", "1704067200"],
    ),
    (
        "aws:MultiFactorAuthPresent",
        KeyType::Bool,
        &["true", "false"],
    ),
    ("aws:SecureTransport", KeyType::Bool, &["true", "false"]),
    (
        "aws:MultiFactorAuthAge",
        KeyType::Num,
        &["300", "3600", "86400"],
    ),
    (
        "aws:SourceArn",
        KeyType::Arn,
        &[
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
            "arn:aws:lambda:us-east-1:444455556666:function:f",
        ],
    ),
    ("aws:PrincipalArn", KeyType::Arn, &[]),
    ("aws:PrincipalAccount", KeyType::Str, &[]),
];

/// Condition values a policy compares with, by key type.
fn policy_values(t: KeyType) -> &'static [&'static str] {
    match t {
        KeyType::Ip => &[
            "203.0.113.0/24",
            "10.0.0.0/8",
            "2001:db8::/32",
            "203.0.113.7",
            "198.51.100.0/22",
            "0.0.0.0/0",
        ],
        KeyType::Str => &[
            "alice",
            "red",
            "prod",
            "Red",
            "o-a1b2c3d4e5",
            "al*",
            "*",
            "?ed",
            "${aws:username}",
            "${aws:PrincipalTag/team, 'red'}",
            "${aws:nokey, 'prod'}",
            "111122223333",
            "r${?}d",
            "${*}",
        ],
        KeyType::Multi => &[
            "env",
            "team",
            "Team",
            "e*",
            "o-a1b2c3d4e5/*",
            "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/",
        ],
        KeyType::Date => &[
            "2024-01-01T00:00:00Z",
            "2024-06-01T12:00:00Z",
            "2025-01-01",
            "1717243200",
            "2024-06-01T14:00:00+02:00",
        ],
        KeyType::Bool => &["true", "false", "TRUE"],
        KeyType::Num => &["600", "3600", "300", "3600.0", "-1"],
        KeyType::Arn => &[
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::*:user/alice",
            "arn:aws:cloudtrail:*:111122223333:trail/*",
            "arn:aws:iam::111122223333:*",
            "arn:aws:lambda:us-east-1:444455556666:function:f",
            "arn:aws:iam::444455556666:role/uploader",
            "arn:aws:iam::111122223333:user/${aws:username}",
        ],
    }
}

const OPS_BY_TYPE: &[(KeyType, &[&str])] = &[
    (
        KeyType::Str,
        &[
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
        ],
    ),
    (
        KeyType::Multi,
        &[
            "StringEquals",
            "StringNotEquals",
            "StringLike",
            "StringNotLike",
            "StringEqualsIgnoreCase",
        ],
    ),
    (KeyType::Ip, &["IpAddress", "NotIpAddress"]),
    (
        KeyType::Date,
        &[
            "DateEquals",
            "DateNotEquals",
            "DateLessThan",
            "DateLessThanEquals",
            "DateGreaterThan",
            "DateGreaterThanEquals",
        ],
    ),
    (KeyType::Bool, &["Bool"]),
    (
        KeyType::Num,
        &[
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
        ],
    ),
    (
        KeyType::Arn,
        &["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"],
    ),
];

const ALL_OPS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
];

/// An action the cases request: its name, the resource it takes and whether it is one of the
/// actions that take no resource (`"Resource": "*"` only).
#[derive(Debug, Clone, Copy)]
struct ActionSpec {
    action: &'static str,
    resource: ResourceKind,
    wildcard_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResourceKind {
    Object,
    Bucket,
    Queue,
    Table,
    Key,
    Role,
    Star,
}

const ACTIONS: &[(u64, ActionSpec)] = &[
    (30, spec("s3:GetObject", ResourceKind::Object)),
    (25, spec("s3:PutObject", ResourceKind::Object)),
    (8, spec("s3:ListBucket", ResourceKind::Bucket)),
    (10, spec("sqs:SendMessage", ResourceKind::Queue)),
    (8, spec("dynamodb:GetItem", ResourceKind::Table)),
    (
        5,
        ActionSpec {
            action: "s3:ListAllMyBuckets",
            resource: ResourceKind::Star,
            wildcard_only: true,
        },
    ),
    (7, spec("kms:Decrypt", ResourceKind::Key)),
    (7, spec("sts:AssumeRole", ResourceKind::Role)),
];

const fn spec(action: &'static str, resource: ResourceKind) -> ActionSpec {
    ActionSpec {
        action,
        resource,
        wildcard_only: false,
    }
}

const OBJECT_KEYS: &[&str] = &[
    "home/alice/report.csv",
    "home/bob/notes.txt",
    "public/index.html",
    "a$b/c.txt",
    "red/plan.txt",
    "logs/2024/01/x.log",
];

/// Everything a case is built from.
struct Gen {
    rng: Rng,
    caller: Caller,
    caller_account: &'static str,
    principal: Option<String>,
    spec: ActionSpec,
    resource: String,
    resource_account: &'static str,
}

/// Generates case `index` of `seed`.
pub fn case(seed: u64, index: u64) -> Value {
    let mut rng = Rng::for_case(seed, index);
    let caller = *rng.pick(&[
        Caller::User,
        Caller::User,
        Caller::User,
        Caller::Role,
        Caller::Role,
        Caller::Session,
        Caller::Session,
        Caller::FederatedUser,
        Caller::Root,
        Caller::Service,
        Caller::Anonymous,
    ]);
    let caller_account = if rng.chance(60) { OWNER } else { OTHER };
    let principal = match caller {
        Caller::User => Some(format!(
            "arn:aws:iam::{caller_account}:user/{}",
            rng.pick(&["alice", "bob"])
        )),
        Caller::Role => Some(format!("arn:aws:iam::{caller_account}:role/uploader")),
        Caller::Session => Some(format!(
            "arn:aws:sts::{caller_account}:assumed-role/uploader/sess-1"
        )),
        Caller::FederatedUser => Some(format!("arn:aws:sts::{caller_account}:federated-user/bob")),
        Caller::Root => Some(format!("arn:aws:iam::{caller_account}:root")),
        Caller::Service => {
            Some((*rng.pick(&["lambda.amazonaws.com", "cloudtrail.amazonaws.com"])).to_owned())
        }
        Caller::Anonymous => None,
    };
    let total: u64 = ACTIONS.iter().map(|(w, _)| w).sum();
    let mut roll = rng.next() % total;
    let mut spec = ACTIONS[0].1;
    for (w, s) in ACTIONS {
        if roll < *w {
            spec = *s;
            break;
        }
        roll -= w;
    }
    let mut resource_account = OWNER;
    let resource = match spec.resource {
        ResourceKind::Object => format!("arn:aws:s3:::{BUCKET}/{}", rng.pick(OBJECT_KEYS)),
        ResourceKind::Bucket => format!("arn:aws:s3:::{BUCKET}"),
        ResourceKind::Queue => format!("arn:aws:sqs:us-east-1:{OWNER}:queue1"),
        ResourceKind::Table => format!("arn:aws:dynamodb:us-east-1:{OWNER}:table/Books"),
        ResourceKind::Key => {
            format!("arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        }
        ResourceKind::Role => format!("arn:aws:iam::{OWNER}:role/uploader"),
        ResourceKind::Star => {
            resource_account = if caller == Caller::Service || caller == Caller::Anonymous {
                OWNER
            } else {
                caller_account
            };
            "*".to_owned()
        }
    };
    let mut g = Gen {
        rng,
        caller,
        caller_account,
        principal,
        spec,
        resource,
        resource_account,
    };
    g.build(seed, index)
}

impl Gen {
    fn build(&mut self, seed: u64, index: u64) -> Value {
        let principal_side = !matches!(self.caller, Caller::Anonymous | Caller::Service);
        let identity: Vec<Value> = if principal_side {
            let n = *self.rng.pick(&[0, 1, 1, 1, 2, 2, 3]);
            (0..n).map(|_| self.policy(Layer::Identity)).collect()
        } else {
            Vec::new()
        };
        // A KMS key always has a key policy and a role always has a trust policy.
        let always = matches!(self.spec.resource, ResourceKind::Key | ResourceKind::Role);
        let resource = if always || self.rng.chance(if principal_side { 50 } else { 85 }) {
            self.policy(Layer::Resource)
        } else {
            Value::Null
        };
        let scp = if principal_side && self.rng.chance(30) {
            let levels = self.rng.range(1, 3);
            (0..levels)
                .map(|_| {
                    let mut level = Vec::new();
                    if self.rng.chance(85) {
                        level.push(full_access(false));
                    }
                    for _ in 0..self.rng.range(0, 1) {
                        level.push(self.policy(Layer::Scp));
                    }
                    Value::Array(level)
                })
                .collect()
        } else {
            Vec::new()
        };
        let rcp = if self.rng.chance(20) {
            let levels = self.rng.range(1, 2);
            (0..levels)
                .map(|_| {
                    let mut level = vec![full_access(true)];
                    for _ in 0..self.rng.range(0, 1) {
                        level.push(self.policy(Layer::Rcp));
                    }
                    Value::Array(level)
                })
                .collect()
        } else {
            Vec::new()
        };
        let boundary = if principal_side && self.caller != Caller::Root && self.rng.chance(20) {
            json!([self.policy(Layer::Boundary)])
        } else {
            Value::Null
        };
        let session = if matches!(self.caller, Caller::Session | Caller::FederatedUser)
            && (self.caller == Caller::FederatedUser || self.rng.chance(35))
        {
            self.policy(Layer::Session)
        } else {
            Value::Null
        };
        let vpce = if self.rng.chance(15) {
            json!([self.policy(Layer::Vpce)])
        } else {
            Value::Null
        };
        let context = self.context();
        let mut request = Map::new();
        request.insert(
            "principal".into(),
            self.principal.clone().map_or(Value::Null, Value::String),
        );
        request.insert(
            "anonymous".into(),
            Value::Bool(self.caller == Caller::Anonymous),
        );
        request.insert("action".into(), json!(self.spec.action));
        request.insert("resource".into(), json!(self.resource));
        request.insert("resource_account".into(), json!(self.resource_account));
        request.insert("context".into(), Value::Object(context));
        if self.spec.wildcard_only {
            request.insert("wildcard_only_action".into(), Value::Bool(true));
        }
        let mut case = Map::new();
        case.insert("id".into(), json!(format!("s{seed}-{index}")));
        case.insert("request".into(), Value::Object(request));
        case.insert(
            "policies".into(),
            json!({
                "identity": identity,
                "resource": resource,
                "scp": scp,
                "rcp": rcp,
                "boundary": boundary,
                "session": session,
                "vpc_endpoint": vpce,
            }),
        );
        if self.spec.action.starts_with("s3:") && self.rng.chance(15) {
            case.insert(
                "settings".into(),
                json!({"s3_block_public_access": self.rng.chance(70)}),
            );
        }
        Value::Object(case)
    }

    /// The request context: each key present or missing at random.
    fn context(&mut self) -> Map<String, Value> {
        let mut ctx = Map::new();
        for &(key, t, values) in KEYS {
            if !self.rng.chance(45) {
                continue;
            }
            let v = match (key, t) {
                ("aws:PrincipalArn", _) => match (self.caller, &self.principal) {
                    (Caller::Session, _) => json!(format!(
                        "arn:aws:iam::{}:role/uploader",
                        self.caller_account
                    )),
                    (Caller::Service | Caller::Anonymous, _) | (_, None) => continue,
                    (_, Some(p)) => json!(p),
                },
                ("aws:PrincipalAccount", _) => match self.caller {
                    Caller::Service | Caller::Anonymous => continue,
                    _ => json!(self.caller_account),
                },
                (_, KeyType::Multi) => {
                    let n = self.rng.range(0, values.len().min(2));
                    let mut vs: Vec<&str> = Vec::new();
                    for _ in 0..n {
                        let v = *self.rng.pick(values);
                        if !vs.contains(&v) {
                            vs.push(v);
                        }
                    }
                    json!(vs)
                }
                _ => json!(self.rng.pick(values)),
            };
            ctx.insert(key.to_owned(), v);
        }
        ctx
    }

    fn version(&mut self) -> Option<&'static str> {
        match self.rng.below(100) {
            0..=79 => Some("2012-10-17"),
            80..=96 => Some("2008-10-17"),
            _ => None,
        }
    }

    fn policy(&mut self, layer: Layer) -> Value {
        let mut p = Map::new();
        // RCPs must be written in the current language.
        let version = if layer == Layer::Rcp {
            Some("2012-10-17")
        } else {
            self.version()
        };
        if let Some(v) = version {
            p.insert("Version".into(), json!(v));
        }
        let n = *self.rng.pick(&[1, 1, 2, 2, 3]);
        let statements: Vec<Value> = (0..n).map(|i| self.statement(layer, i)).collect();
        p.insert("Statement".into(), Value::Array(statements));
        Value::Object(p)
    }

    fn statement(&mut self, layer: Layer, i: usize) -> Value {
        let mut s = Map::new();
        if self.rng.chance(30) {
            s.insert("Sid".into(), json!(format!("S{i}")));
        }
        let allow = match layer {
            Layer::Rcp => false,
            Layer::Identity | Layer::Resource | Layer::Session | Layer::Vpce => self.rng.chance(70),
            Layer::Boundary | Layer::Scp => self.rng.chance(60),
        };
        s.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
        match layer {
            Layer::Rcp => {
                s.insert("Principal".into(), json!("*"));
            }
            Layer::Resource | Layer::Vpce => {
                let (name, value) = self.principal_element(allow, layer == Layer::Vpce);
                s.insert(name.into(), value);
            }
            _ => {}
        }
        let (name, value) = self.action_element(layer == Layer::Rcp);
        s.insert(name.into(), value);
        let (name, value) = self.resource_element();
        s.insert(name.into(), value);
        if self.rng.chance(if layer == Layer::Rcp { 70 } else { 40 }) {
            s.insert("Condition".into(), self.condition());
        }
        Value::Object(s)
    }

    /// `Principal` or `NotPrincipal` in every form.
    fn principal_element(&mut self, allow: bool, vpce: bool) -> (&'static str, Value) {
        if vpce {
            // The peer accepts only `"*"` in an endpoint policy (AWS also takes principal
            // ARNs there): the other forms are tested in resource policies only.
            return ("Principal", json!("*"));
        }
        let not = !vpce && self.rng.chance(if allow { 3 } else { 20 });
        let n = *self.rng.pick(&[1, 1, 1, 2, 3]);
        let mut aws: Vec<String> = Vec::new();
        let mut others = Map::new();
        for _ in 0..n {
            let acct = if self.rng.chance(70) {
                self.caller_account
            } else if self.caller_account == OWNER {
                OTHER
            } else {
                OWNER
            };
            match self.rng.below(11) {
                0 => return (if not { "NotPrincipal" } else { "Principal" }, json!("*")),
                1 => aws.push("*".into()),
                2 => aws.push(acct.into()),
                3 => aws.push(format!("arn:aws:iam::{acct}:root")),
                4 => aws.push(format!("arn:aws:iam::{acct}:role/uploader")),
                5 => aws.push(format!("arn:aws:sts::{acct}:assumed-role/uploader/sess-1")),
                6 => aws.push(format!(
                    "arn:aws:iam::{acct}:user/{}",
                    self.rng.pick(&["alice", "bob"])
                )),
                7 => aws.push(format!("arn:aws:sts::{acct}:federated-user/bob")),
                8 => {
                    let svc = *self
                        .rng
                        .pick(&["lambda.amazonaws.com", "cloudtrail.amazonaws.com"]);
                    push_member(&mut others, "Service", svc);
                }
                9 => push_member(&mut others, "CanonicalUser", CANONICAL),
                _ => {
                    // The caller itself (a session's role for NotPrincipal, as AWS advises).
                    if let Some(p) = &self.principal {
                        if p.contains(":") {
                            aws.push(p.clone());
                        } else {
                            push_member(&mut others, "Service", p);
                        }
                    } else {
                        aws.push("*".into());
                    }
                }
            }
        }
        if not && self.rng.chance(50) {
            // AWS asks NotPrincipal with Deny to name the account too.
            aws.push(format!("arn:aws:iam::{}:root", self.caller_account));
        }
        let mut m = Map::new();
        if !aws.is_empty() {
            aws.dedup();
            m.insert(
                "AWS".into(),
                if aws.len() == 1 && self.rng.chance(60) {
                    json!(aws[0])
                } else {
                    json!(aws)
                },
            );
        }
        for (k, v) in others {
            m.insert(k, v);
        }
        (
            if not { "NotPrincipal" } else { "Principal" },
            Value::Object(m),
        )
    }

    fn action_element(&mut self, rcp: bool) -> (&'static str, Value) {
        // RCPs take no NotAction.
        let not = !rcp && self.rng.chance(12);
        let n = *self.rng.pick(&[1, 1, 1, 2, 3]);
        let action = self.spec.action;
        let (service, name) = action.split_once(':').unwrap_or(("s3", action));
        let mut out: Vec<String> = Vec::new();
        for _ in 0..n {
            let a = match self.rng.below(12) {
                0..=2 => action.to_owned(),
                3 => action.to_lowercase(),
                4 => format!("{}:{}", service.to_uppercase(), name),
                5 => format!("{service}:*"),
                6 if !rcp => "*".to_owned(),
                7 => format!("{service}:{}*", &name[..name.len().min(3)]),
                8 => format!("{service}:*{}", &name[name.len().saturating_sub(6)..]),
                9 => {
                    let k = self.rng.below(name.len());
                    let mut chars: Vec<char> = name.chars().collect();
                    chars[k] = '?';
                    format!("{service}:{}", chars.into_iter().collect::<String>())
                }
                10 => (*self.rng.pick(&[
                    "s3:DeleteObject",
                    "s3:GetObjectVersion",
                    "sqs:ReceiveMessage",
                    "ec2:RunInstances",
                    "kms:Encrypt",
                    "iam:PassRole",
                ]))
                .to_owned(),
                _ => (*self.rng.pick(&[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:ListBucket",
                    "sqs:SendMessage",
                    "kms:Decrypt",
                    "sts:AssumeRole",
                ]))
                .to_owned(),
            };
            out.push(a);
        }
        let v = if out.len() == 1 && self.rng.chance(60) {
            json!(out[0])
        } else {
            json!(out)
        };
        (if not { "NotAction" } else { "Action" }, v)
    }

    fn resource_element(&mut self) -> (&'static str, Value) {
        let not = self.rng.chance(12);
        let n = *self.rng.pick(&[1, 1, 1, 2, 3]);
        let out: Vec<String> = (0..n).map(|_| self.resource_pattern()).collect();
        let v = if out.len() == 1 && self.rng.chance(60) {
            json!(out[0])
        } else {
            json!(out)
        };
        (if not { "NotResource" } else { "Resource" }, v)
    }

    fn resource_pattern(&mut self) -> String {
        let r = self.resource.clone();
        if r == "*" || self.rng.chance(12) {
            return (*self
                .rng
                .pick(&["*", "*", "arn:aws:s3:::*", "arn:aws:*:*:*:*"]))
            .to_owned();
        }
        let arn_parts: Vec<&str> = r.splitn(6, ':').collect();
        match self.rng.below(12) {
            0 | 1 => r,
            2 => {
                let cut = self.rng.range(arn_parts[..5].join(":").len() + 1, r.len());
                format!("{}*", &r[..cut])
            }
            3 => {
                let k = self
                    .rng
                    .range(arn_parts[..5].join(":").len() + 1, r.len() - 1);
                let mut s = r.clone();
                s.replace_range(k..=k, "?");
                s
            }
            4 => {
                // A wildcard in one of the ARN's parts.
                let mut parts: Vec<String> = arn_parts.iter().map(|s| (*s).to_owned()).collect();
                let k = self.rng.range(1, 4);
                parts[k] = (*self.rng.pick(&["*", "?*", ""])).to_owned();
                parts.join(":")
            }
            5 => r.to_uppercase(),
            6 if self.spec.resource == ResourceKind::Object => {
                let home = *self.rng.pick(&[
                    "home/${aws:username}/*",
                    "home/${aws:username, 'alice'}/*",
                    "home/${aws:username, 'x'}*",
                    "${aws:PrincipalTag/team}/*",
                    "${aws:PrincipalTag/team, 'red'}/*",
                    "a${$}b/*",
                    "${*}",
                    "home/${?}lice/*",
                    "home/${aws:nokey}/*",
                    "${aws:RequestTag/env}*",
                    "home/${AWS:USERNAME}/*",
                    "home/${aws:TagKeys}/*",
                ]);
                format!("arn:aws:s3:::{BUCKET}/{home}")
            }
            7 if self.spec.resource == ResourceKind::Role => (*self.rng.pick(&[
                "arn:aws:iam::${aws:PrincipalAccount}:role/*",
                "arn:aws:iam::111122223333:role/${aws:username}",
                "arn:aws:iam::*:role/upload?r",
            ]))
            .to_owned(),
            8 => (*self.rng.pick(&[
                "arn:aws:s3:::other-bucket/*",
                "arn:aws:sqs:us-east-1:444455556666:queue1",
                "arn:aws:dynamodb:us-east-1:111122223333:table/*",
                "arn:aws:kms:*:111122223333:key/*",
                "arn:aws:iam::111122223333:role/*",
                "arn:aws:s3:::amzn-s3-demo-bucket*",
            ]))
            .to_owned(),
            _ => r,
        }
    }

    fn condition(&mut self) -> Value {
        let mut cond = Map::new();
        for _ in 0..self.rng.range(1, 2) {
            let &(key, t, _) = self.rng.pick(KEYS);
            let key_written = if self.rng.chance(10) {
                key.to_lowercase()
            } else {
                key.to_owned()
            };
            let (op, values) = if self.rng.chance(9) {
                let v = if self.rng.chance(30) {
                    json!(self.rng.chance(50))
                } else {
                    json!(if self.rng.chance(50) { "true" } else { "false" })
                };
                ("Null".to_owned(), v)
            } else {
                let base = if self.rng.chance(85) {
                    let ops = OPS_BY_TYPE
                        .iter()
                        .find(|(kt, _)| *kt == t)
                        .map_or(ALL_OPS, |(_, o)| *o);
                    *self.rng.pick(ops)
                } else {
                    *self.rng.pick(ALL_OPS)
                };
                let set = match self.rng.below(100) {
                    0..=11 => "ForAnyValue:",
                    12..=25 => "ForAllValues:",
                    _ => "",
                };
                let if_exists = if self.rng.chance(18) { "IfExists" } else { "" };
                let op = format!("{set}{base}{if_exists}");
                let pool: Vec<&str> = if base == "BinaryEquals" {
                    vec!["cHJvZA==", "ZGV2", "prod"]
                } else {
                    let fam = OPS_BY_TYPE
                        .iter()
                        .find(|(_, o)| o.contains(&base))
                        .map_or(t, |(kt, _)| *kt);
                    let mut p: Vec<&str> = policy_values(fam).to_vec();
                    if fam == t {
                        p.extend(KEYS.iter().find(|k| k.0 == key).map_or(&[][..], |k| k.2));
                    }
                    p
                };
                let n = *self.rng.pick(&[1, 1, 1, 2, 3]);
                let mut vs: Vec<Value> = (0..n).map(|_| json!(self.rng.pick(&pool))).collect();
                // JSON booleans and numbers where the operator takes them.
                if base == "Bool" && self.rng.chance(30) {
                    vs = vec![json!(self.rng.chance(50))];
                } else if base.starts_with("Numeric") && self.rng.chance(30) {
                    vs = vec![json!(*self.rng.pick(&[300, 600, 3600]))];
                }
                let v = if vs.len() == 1 && self.rng.chance(60) {
                    vs.remove(0)
                } else {
                    Value::Array(vs)
                };
                (op, v)
            };
            let block = cond.entry(op).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = block {
                m.insert(key_written, values);
            }
        }
        Value::Object(cond)
    }
}

fn push_member(m: &mut Map<String, Value>, key: &str, v: &str) {
    match m.get_mut(key) {
        Some(Value::Array(a)) => {
            if !a.iter().any(|x| x == v) {
                a.push(json!(v));
            }
        }
        Some(other) => {
            if other != v {
                let first = other.clone();
                *other = json!([first, v]);
            }
        }
        None => {
            m.insert(key.into(), json!(v));
        }
    }
}

/// `FullAWSAccess` (SCP) or `RCPFullAWSAccess` (RCP), the policies AWS attaches by default.
pub fn full_access(rcp: bool) -> Value {
    if rcp {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
    } else {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Identity,
    Resource,
    Scp,
    Rcp,
    Boundary,
    Session,
    Vpce,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_depends_on_its_seed_and_index_only() {
        assert_eq!(case(7, 42), case(7, 42));
        assert_ne!(case(7, 42), case(7, 43));
        assert_ne!(case(7, 42), case(8, 42));
        assert_eq!(case(7, 42)["id"], "s7-42");
    }

    #[test]
    fn principals_appear_only_where_the_grammar_wants_them() {
        for i in 0..2000 {
            let c = case(1, i);
            let p = &c["policies"];
            let statements = |v: &Value| -> Vec<Value> {
                v["Statement"].as_array().cloned().unwrap_or_default()
            };
            for pol in p["identity"].as_array().unwrap() {
                for s in statements(pol) {
                    assert!(s.get("Principal").is_none() && s.get("NotPrincipal").is_none());
                }
            }
            if !p["resource"].is_null() {
                for s in statements(&p["resource"]) {
                    assert!(s.get("Principal").is_some() || s.get("NotPrincipal").is_some());
                }
            }
            if c["request"]["anonymous"] == true {
                assert!(p["identity"].as_array().unwrap().is_empty());
                assert!(p["scp"].as_array().unwrap().is_empty());
            }
        }
    }
}
