//! Writes a [`Scenario`] back to a scenario file that [`parse`](crate::parse) reads into the same
//! request and evidence: the inverse of the reader, for capturing what the live AWS source read.
//!
//! Every section is written in the shape the AWS CLI prints (`--output json`), with
//! `{"$absent": "<error code>"}` and `{"$unavailable": {"reason", "needs"}}` markers. A section
//! whose slot is what the reader gives when the section is left out is left out; so is every
//! section that does not apply to the request. Policies keep their documents: statements,
//! `Sid`s, conditions and member order; a policy read from a JSON string is written as a
//! (minified) JSON string, one read from an object as an object.
//!
//! The file is built as a small tree first ([`J`]) so that [`crate::redact`] can replace
//! identifiers in it before it is printed.

use std::collections::BTreeMap;

use why403_core::Policy;
use why403_core::evidence::{
    AccessPoint, Acl, Caller, Encryption, Evidence, Grantee, KmsGrant, NetworkOrigin,
    PublicAccessBlock, Slot, Unavailable,
};
use why403_core::json::{self, Json, Node};
use why403_core::policy::AwsPrincipal;
use why403_core::upload::{Credentials, Network, Operation, SessionMode, Target, UploadRequest};

use crate::Scenario;
use crate::kms::{self, KeyUse};
use crate::redact::Kind;

/// What a string of the file is, for redaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// Format or AWS vocabulary (`FULL_CONTROL`, `aws:kms`, `Allow`): never redacted.
    Fixed,
    /// The bucket and object key: kept, except the identifiers of the file they contain (see
    /// `docs/scenario-format.md`).
    Verbatim,
    /// Identifiers and free text: ARNs, accounts, ids, reasons; redacted token by token.
    Data,
    /// A label chosen by a person (`Sid`, inline policy, SCP and grant names): kept, except
    /// the identifiers and names it embeds.
    Label,
    /// A name of this kind, redacted as a whole.
    Name(NameKind),
    /// A value in an identifier position (`UserId`, `AWSAccountId`, an ACL owner's `ID`...),
    /// redacted as a whole whatever its shape.
    Id(Kind),
}

/// The kinds of names that redaction replaces as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum NameKind {
    User,
    Role,
    Group,
    Policy,
    Session,
    FederatedUser,
    /// An ACL owner's or grantee's display name.
    Owner,
    /// The name of an organization level (an OU or account name).
    Level,
}

/// A JSON value of the file being written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum J {
    Null,
    Bool(bool),
    /// A number as written.
    Num(String),
    Str(String, Text),
    Arr(Vec<J>),
    /// Members in order; keys are [`Text::Fixed`] or [`Text::Data`] (ids used as keys).
    Obj(Vec<(String, Text, J)>),
    /// A JSON document written as a minified JSON string, as AWS returns policies.
    Doc(Box<J>),
}

/// An object of the file, written like JSON: `obj! {"Key": value, ...}`.
macro_rules! obj {
    ($($key:literal: $value:expr),* $(,)?) => {
        J::Obj(vec![$(($key.to_owned(), Text::Fixed, $value)),*])
    };
}

mod identity;
mod org;

impl J {
    /// Adds a member when `value` is given.
    fn with(mut self, key: &str, value: Option<J>) -> J {
        if let (J::Obj(members), Some(v)) = (&mut self, value) {
            members.push((key.to_owned(), Text::Fixed, v));
        }
        self
    }
}

fn data(s: &str) -> J {
    J::Str(s.to_owned(), Text::Data)
}

fn fixed(s: &str) -> J {
    J::Str(s.to_owned(), Text::Fixed)
}

fn label(s: &str) -> J {
    J::Str(s.to_owned(), Text::Label)
}

fn name(s: &str, kind: NameKind) -> J {
    J::Str(s.to_owned(), Text::Name(kind))
}

fn id(s: &str, kind: Kind) -> J {
    J::Str(s.to_owned(), Text::Id(kind))
}

/// A KMS key as S3 and KMS requests name it: an ARN or an alias (data), else a key id.
fn key_ref(s: &str) -> J {
    if s.starts_with("arn:") || s.starts_with("alias/") {
        data(s)
    } else {
        id(s, Kind::KmsKey)
    }
}

fn list<T>(items: impl IntoIterator<Item = T>, f: impl Fn(T) -> J) -> J {
    J::Arr(items.into_iter().map(f).collect())
}

/// An object of strings: names kept, values redactable.
fn string_map(m: &BTreeMap<String, String>) -> J {
    J::Obj(
        m.iter()
            .map(|(k, v)| (k.clone(), Text::Fixed, data(v)))
            .collect(),
    )
}

/// The request's headers: values redactable, the ones that name a KMS key or an account as
/// identifiers.
fn headers(m: &BTreeMap<String, String>) -> J {
    let value = |k: &str, v: &str| match k {
        "x-amz-server-side-encryption-aws-kms-key-id" => key_ref(v),
        "x-amz-expected-bucket-owner" => id(v, Kind::Account),
        _ => data(v),
    };
    J::Obj(
        m.iter()
            .map(|(k, v)| (k.clone(), Text::Fixed, value(k, v)))
            .collect(),
    )
}

fn absent(code: &str) -> J {
    obj! {"$absent": data(code)}
}

fn unavailable(u: &Unavailable) -> J {
    // The reader requires a non-empty reason.
    let reason = if u.reason.trim().is_empty() {
        "no reason recorded"
    } else {
        &u.reason
    };
    obj! {"$unavailable": obj! {"reason": data(reason), "needs": list(&u.needs, |n| fixed(n))}}
}

/// Writes a scenario as a scenario file: pretty JSON with two-space indentation, members in a
/// fixed order, ending with a newline. With `redact`, account ids, canonical ids, unique ids,
/// organization ids, VPC (endpoint) ids, KMS key ids and IAM/STS names are replaced by
/// placeholders, consistently across the whole file (see `docs/scenario-format.md`,
/// "Capturing and redacting"). Never panics; a scenario the reader could not have produced
/// may give a file that the reader rejects with a message naming the contradiction.
pub fn write_scenario(s: &Scenario, redact: bool) -> String {
    let mut tree = obj! {"scenario": J::Num("1".to_owned())}
        .with("description", s.description.as_deref().map(data))
        .with(
            "sources",
            (!s.sources.is_empty()).then(|| list(&s.sources, |u| data(u))),
        )
        .with(
            "expect",
            s.expect.as_ref().map(|e| {
                obj! {"verdict": data(&e.verdict), "causes": list(&e.causes, |c| data(c))}
            }),
        )
        .with("request", Some(request(&s.request)))
        .with("evidence", Some(evidence(s)));
    if redact {
        crate::redact::redact(&mut tree);
    }
    let mut out = String::new();
    pretty(&tree, 0, &mut out);
    out.push('\n');
    out
}

/// What the reader gives for every section left out, for this request: a slot equal to it is
/// left out. `None` when the request alone does not read.
fn defaults(s: &Scenario) -> Option<Evidence> {
    let caller_identity = s.evidence.caller.get().map(caller);
    let tree = obj! {"scenario": J::Num("1".to_owned()), "request": request(&s.request)}.with(
        "evidence",
        Some(obj! {}.with("caller_identity", caller_identity)),
    );
    let mut text = String::new();
    compact(&tree, &mut text);
    crate::parse("defaults", &text).ok().map(|d| d.evidence)
}

fn request(r: &UploadRequest) -> J {
    let credentials = match r.credentials {
        Credentials::LongTerm => "long-term",
        Credentials::Temporary => "temporary",
        Credentials::TemporaryWithMfa => "temporary-mfa",
        Credentials::Anonymous => "anonymous",
    };
    let operation = match r.operation {
        Operation::PutObject => "PutObject",
        Operation::Multipart => "Multipart",
    };
    let context = r.context.iter().map(|(k, v)| {
        let value = match v.values.as_slice() {
            [one] if !v.multi => data(one),
            values => list(values, |x| data(x)),
        };
        (k.clone(), Text::Fixed, value)
    });
    let n = &r.network;
    let network = obj! {}
        .with("source_ip", n.source_ip.as_deref().map(data))
        .with(
            "vpc_endpoint",
            n.vpc_endpoint.as_deref().map(|v| id(v, Kind::Vpce)),
        )
        .with("vpc", n.vpc.as_deref().map(|v| id(v, Kind::Vpc)))
        .with("vpc_source_ip", n.vpc_source_ip.as_deref().map(data))
        .with("tls", Some(J::Bool(n.tls)));
    obj! {}
        .with("principal", r.principal.as_deref().map(data))
        .with("credentials", Some(fixed(credentials)))
        .with("bucket", Some(J::Str(r.bucket.clone(), Text::Verbatim)))
        .with(
            "access_point",
            r.target.access_point_name().as_deref().map(data),
        )
        .with("key", Some(J::Str(r.key.clone(), Text::Verbatim)))
        .with("operation", Some(fixed(operation)))
        .with(
            "headers",
            (!r.headers.is_empty()).then(|| headers(&r.headers)),
        )
        .with("network", (*n != Network::default()).then_some(network))
        .with("time", r.time.as_deref().map(fixed))
        .with("region", r.region.as_deref().map(fixed))
        .with(
            "session_tags",
            (!r.session_tags.is_empty()).then(|| string_map(&r.session_tags)),
        )
        .with(
            "context",
            (!r.context.is_empty()).then(|| J::Obj(context.collect())),
        )
        .with(
            "session_mode",
            (r.session_mode != SessionMode::default()).then(|| fixed(r.session_mode.as_str())),
        )
}

/// `aws s3control get-access-point`.
fn access_point(a: &AccessPoint) -> J {
    let (origin, vpc) = match &a.network_origin {
        NetworkOrigin::Internet => ("Internet", None),
        NetworkOrigin::Vpc(v) => ("VPC", Some(obj! {"VpcId": id(v, Kind::Vpc)})),
    };
    obj! {}
        .with("Name", Some(J::Str(a.name.clone(), Text::Verbatim)))
        .with("Bucket", Some(J::Str(a.bucket.clone(), Text::Verbatim)))
        .with("NetworkOrigin", Some(fixed(origin)))
        .with("VpcConfiguration", vpc)
        .with(
            "PublicAccessBlockConfiguration",
            Some(pab(&a.public_access_block)),
        )
        .with("Alias", a.alias.as_deref().map(data))
        .with("AccessPointArn", Some(data(&a.arn)))
        .with(
            "BucketAccountId",
            a.bucket_account.as_deref().map(|b| id(b, Kind::Account)),
        )
}

/// `aws s3control get-multi-region-access-point`: the bucket the request was routed to is the
/// only one of its `Regions` the evidence keeps.
fn multi_region_access_point(a: &AccessPoint) -> J {
    let region = obj! {}
        .with("Bucket", Some(J::Str(a.bucket.clone(), Text::Verbatim)))
        .with(
            "BucketAccountId",
            a.bucket_account.as_deref().map(|b| id(b, Kind::Account)),
        );
    obj! {"AccessPoint": obj! {}
        .with("Name", Some(J::Str(a.name.clone(), Text::Verbatim)))
        .with("Alias", a.alias.as_deref().map(data))
        .with("PublicAccessBlock", Some(pab(&a.public_access_block)))
        .with("Regions", Some(J::Arr(vec![region])))
    }
}

/// `aws s3control get-multi-region-access-point-policy`: the policy in force (`Established`).
fn multi_region_access_point_policy(a: &AccessPoint) -> Option<J> {
    Some(match &a.policy {
        Slot::Collected(p) => {
            obj! {"Policy": obj! {"Established": obj! {"Policy": policy(p, true)}}}
        }
        Slot::Absent => absent("NoSuchMultiRegionAccessPointPolicy"),
        Slot::Unavailable(u) => unavailable(u),
        Slot::NotApplicable => return None,
    })
}

/// `aws s3control get-access-point-policy`, written when the access point was read.
fn access_point_policy(a: &AccessPoint) -> Option<J> {
    Some(match &a.policy {
        Slot::Collected(p) => wrapped(p, None),
        Slot::Absent => absent("NoSuchAccessPointPolicy"),
        Slot::Unavailable(u) => unavailable(u),
        Slot::NotApplicable => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// evidence

/// How a section writes [`Slot::Absent`].
#[derive(Debug, Clone, Copy)]
enum Absence {
    /// `{"$absent": code}`.
    Code(&'static str),
    /// The reader rejects `$absent` here: written as `$unavailable`, the closest it reads.
    Rejected,
}

const REJECTED: Absence = Absence::Rejected;
const NO_PAB: Absence = Absence::Code("NoSuchPublicAccessBlockConfiguration");
const NO_ORG: Absence = Absence::Code("AWSOrganizationsNotInUseException");
const NO_S3_POLICY: Absence = Absence::Code("EffectivePolicyNotFoundException");
const NO_SSE: Absence = Absence::Code("ServerSideEncryptionConfigurationNotFoundError");
const NO_OWNERSHIP: Absence = Absence::Code("OwnershipControlsNotFoundError");

/// The members of `evidence` being written, from the scenario's evidence, and what the reader
/// gives for the sections left out.
struct Sections<'e> {
    out: J,
    evidence: &'e Evidence,
    defaults: Option<Evidence>,
}

impl<'e> Sections<'e> {
    /// Writes the slot that `get` picks unless it is not applicable or what the reader gives
    /// for the section left out.
    fn slot<T: PartialEq + 'e>(
        &mut self,
        key: &'static str,
        get: impl Fn(&Evidence) -> &Slot<T>,
        absence: Absence,
        f: impl FnOnce(&'e T) -> J,
    ) {
        let default = self.defaults.as_ref().map(&get);
        let value = section(key, get(self.evidence), default, absence, f);
        self.add(key, value);
    }

    fn add(&mut self, key: &str, value: Option<J>) {
        let out = std::mem::replace(&mut self.out, J::Null);
        self.out = out.with(key, value);
    }
}

/// A section for `slot`, or `None` to leave it out: not applicable, or `default` (what the
/// reader gives for the section left out).
fn section<'e, T: PartialEq>(
    key: &str,
    slot: &'e Slot<T>,
    default: Option<&Slot<T>>,
    absence: Absence,
    f: impl FnOnce(&'e T) -> J,
) -> Option<J> {
    Some(match (slot, absence) {
        (Slot::Collected(v), _) => f(v),
        (Slot::Absent, Absence::Code(code)) => absent(code),
        (Slot::Absent, Absence::Rejected) => unavailable(&Unavailable {
            reason: format!("recorded as absent, which `{key}` cannot be in a scenario file"),
            needs: default
                .and_then(Slot::unavailable)
                .map(|u| u.needs.clone())
                .unwrap_or_default(),
        }),
        (Slot::Unavailable(_), _) if default == Some(slot) => return None,
        (Slot::Unavailable(u), _) => unavailable(u),
        (Slot::NotApplicable, _) => return None,
    })
}

fn evidence(s: &Scenario) -> J {
    let (e, b, req) = (&s.evidence, &s.evidence.bucket, &s.request);
    let who = req
        .principal
        .clone()
        .or_else(|| e.caller.get().map(|c| c.arn.clone()));
    let who = who.map(|arn| AwsPrincipal::parse(&arn));
    let (user, session, federated) = match &who {
        Some(AwsPrincipal::User { .. }) => (true, false, false),
        Some(AwsPrincipal::AssumedRole { .. }) => (false, true, false),
        Some(AwsPrincipal::FederatedUser { .. }) => (false, false, true),
        _ => (false, false, false),
    };
    let mut o = Sections {
        out: obj! {},
        evidence: e,
        defaults: defaults(s),
    };
    o.slot("caller_identity", |e| &e.caller, REJECTED, caller);
    if user || session {
        let key = "account_authorization_details";
        o.slot(key, |e| &e.identity, REJECTED, identity::identity);
    }
    if session || federated {
        let absent = Absence::Code("none passed");
        o.slot(
            "session_policy",
            |e| &e.session_policy,
            absent,
            |p| policy(p, false),
        );
    }
    let absent = Absence::Code("NoSuchBucketPolicy");
    o.slot(
        "bucket_policy",
        |e| &e.bucket.policy,
        absent,
        |p| wrapped(p, None),
    );
    o.slot("bucket_acl", |e| &e.bucket.acl, REJECTED, acl);
    o.slot(
        "bucket_encryption",
        |e| &e.bucket.encryption,
        NO_SSE,
        encryption,
    );
    let key = "bucket_ownership_controls";
    o.slot(
        key,
        |e| &e.bucket.ownership,
        NO_OWNERSHIP,
        |x| {
            let rule = obj! {"ObjectOwnership": fixed(x.as_str())};
            obj! {"OwnershipControls": obj! {"Rules": J::Arr(vec![rule])}}
        },
    );
    let key = "bucket_public_access_block";
    o.slot(key, |e| &e.bucket.public_access_block, NO_PAB, blocks);
    let key = "account_public_access_block";
    o.slot(key, |e| &e.account_public_access_block, NO_PAB, blocks);
    o.slot(
        "bucket_location",
        |e| &e.bucket.region,
        REJECTED,
        |r| {
            obj! {"LocationConstraint": if r == "us-east-1" { J::Null } else { fixed(r) }}
        },
    );
    // Only an account id can be written: other states are what the reader derives.
    o.add(
        "bucket_owner",
        b.owner_account.get().map(|a| id(a, Kind::Account)),
    );
    let key = "bucket_request_payment";
    o.slot(
        key,
        |e| &e.bucket.request_payer,
        REJECTED,
        |p| obj! {"Payer": fixed(p)},
    );
    match &req.target {
        Target::AccessPoint(_) => {
            o.slot("access_point", |e| &e.access_point, REJECTED, access_point);
            o.add(
                "access_point_policy",
                e.access_point.get().and_then(access_point_policy),
            );
        }
        Target::MultiRegionAccessPoint { .. } => {
            let key = "multi_region_access_point";
            o.slot(
                key,
                |e| &e.access_point,
                REJECTED,
                multi_region_access_point,
            );
            o.add(
                "multi_region_access_point_policy",
                e.access_point
                    .get()
                    .and_then(multi_region_access_point_policy),
            );
        }
        Target::Bucket | Target::DirectoryBucket => {}
    }
    if !matches!(kms::key_use(req, &b.encryption), KeyUse::None(_)) {
        kms_sections(&mut o);
    }
    if who.is_some() {
        o.slot("organization", |e| &e.caller_org, NO_ORG, org::organization);
    }
    let caller_account = who.as_ref().and_then(AwsPrincipal::account);
    if caller_account.is_none() || b.owner_account.get().map(String::as_str) != caller_account {
        let key = "bucket_organization";
        o.slot(key, |e| &e.bucket_org, NO_ORG, org::organization);
    }
    let key = "organization_s3_policy";
    o.slot(key, |e| &e.org_s3_policy, NO_S3_POLICY, |v| {
        let effective = obj! {"PolicyType": fixed(crate::org::S3_POLICY), "PolicyContent": fixed(&v.policy_content())};
        obj! {"EffectivePolicy": effective}
    });
    if let Some(vpce) = &req.network.vpc_endpoint {
        let absent = Absence::Code("no endpoint policy");
        o.slot(
            "vpc_endpoint",
            |e| &e.vpc_endpoint_policy,
            absent,
            |p| {
                let endpoint = obj! {"VpcEndpointId": id(vpce, Kind::Vpce)}
                    .with(
                        "VpcId",
                        req.network.vpc.as_deref().map(|v| id(v, Kind::Vpc)),
                    )
                    .with("PolicyDocument", Some(policy(p, true)));
                obj! {"VpcEndpoints": J::Arr(vec![endpoint])}
            },
        );
    }
    let ids = e
        .canonical_ids
        .iter()
        .map(|(c, a)| (c.clone(), Text::Id(Kind::Canonical), id(a, Kind::Account)));
    o.add(
        "canonical_ids",
        (!e.canonical_ids.is_empty()).then(|| J::Obj(ids.collect())),
    );
    o.out
}

fn caller(c: &Caller) -> J {
    // A root's user id is its account id; a session's is `<role id>:<session name>`.
    let user_id = if c.user_id == c.account {
        Kind::Account
    } else {
        Kind::UniqueId
    };
    obj! {
        "UserId": id(&c.user_id, user_id),
        "Account": id(&c.account, Kind::Account),
        "Arn": data(&c.arn),
    }
}

fn blocks(p: &PublicAccessBlock) -> J {
    obj! {"PublicAccessBlockConfiguration": pab(p)}
}

fn pab(p: &PublicAccessBlock) -> J {
    obj! {
        "BlockPublicAcls": J::Bool(p.block_public_acls),
        "IgnorePublicAcls": J::Bool(p.ignore_public_acls),
        "BlockPublicPolicy": J::Bool(p.block_public_policy),
        "RestrictPublicBuckets": J::Bool(p.restrict_public_buckets),
    }
}

fn acl(a: &Acl) -> J {
    let display = |n: &Option<String>| n.as_deref().map(|n| name(n, NameKind::Owner));
    let owner = obj! {}.with("DisplayName", display(&a.owner_display_name));
    let grants = list(&a.grants, |g| {
        let grantee = match &g.grantee {
            Grantee::CanonicalUser { id, display_name } => obj! {}
                .with("DisplayName", display(display_name))
                .with("ID", Some(self::id(id, Kind::Canonical)))
                .with("Type", Some(fixed("CanonicalUser"))),
            Grantee::Group { uri } => obj! {"Type": fixed("Group"), "URI": fixed(uri)},
            Grantee::Email { address } => {
                obj! {"EmailAddress": id(address, Kind::Email), "Type": fixed("AmazonCustomerByEmail")}
            }
        };
        obj! {"Grantee": grantee, "Permission": fixed(g.permission.as_str())}
    });
    obj! {"Owner": owner.with("ID", Some(id(&a.owner_id, Kind::Canonical))), "Grants": grants}
}

fn encryption(e: &Encryption) -> J {
    let key = e.kms_key_id.as_deref().filter(|k| !k.is_empty());
    let blocked = &e.blocked_encryption_types;
    let rule = obj! {
        "ApplyServerSideEncryptionByDefault": obj! {"SSEAlgorithm": fixed(&e.algorithm)}
            .with("KMSMasterKeyID", key.map(key_ref)),
        "BucketKeyEnabled": J::Bool(e.bucket_key_enabled),
    }
    .with(
        "BlockedEncryptionTypes",
        (!blocked.is_empty()).then(|| obj! {"EncryptionType": list(blocked, |t| fixed(t))}),
    );
    obj! {"ServerSideEncryptionConfiguration": obj! {"Rules": J::Arr(vec![rule])}}
}

// ---------------------------------------------------------------------------------------------
// policies

/// A policy document as it was given: a JSON string when it was read from one (or, without an
/// origin, when `string` says AWS returns it as one), else an object.
fn policy(p: &Policy, string: bool) -> J {
    let Ok(node) = json::parse(&p.text) else {
        // Not JSON, which a parsed policy always is: written as it is for the reader to report.
        return data(&p.text);
    };
    let tree = document(&node, false);
    if p.origin.as_ref().map_or(string, |o| o.from_string) {
        J::Doc(Box::new(tree))
    } else {
        tree
    }
}

/// `bucket_policy` / `kms_key_policy`: the document itself when it was an object, else the
/// `{"Policy": "<JSON string>"}` the CLI prints (with `PolicyName` for key policies).
fn wrapped(p: &Policy, policy_name: Option<&str>) -> J {
    match policy(p, true) {
        doc @ J::Obj(_) => doc,
        doc => obj! {"Policy": doc}.with("PolicyName", policy_name.map(fixed)),
    }
}

/// A policy document as a tree: the values of `Principal`, `NotPrincipal`, `Resource`,
/// `NotResource` and `Condition` are data, `Sid` is a label, the rest is policy grammar.
fn document(node: &Node, in_statement: bool) -> J {
    let Json::Object(members) = &node.value else {
        return tree(node, Text::Fixed);
    };
    let member = |key: &str, value: &Node| match (in_statement, key) {
        (false, "Statement") => match &value.value {
            Json::Array(items) => list(items, |s| document(s, true)),
            _ => document(value, true),
        },
        (true, "Principal" | "NotPrincipal" | "Resource" | "NotResource" | "Condition") => {
            tree(value, Text::Data)
        }
        (true, "Sid") => tree(value, Text::Label),
        _ => tree(value, Text::Fixed),
    };
    J::Obj(
        members
            .iter()
            .map(|m| (m.key.clone(), Text::Fixed, member(&m.key, &m.value)))
            .collect(),
    )
}

/// A JSON value with every string marked `text` (object keys stay fixed).
fn tree(node: &Node, text: Text) -> J {
    match &node.value {
        Json::Null => J::Null,
        Json::Bool(b) => J::Bool(*b),
        Json::Number(n) => J::Num(n.to_string()),
        Json::String(s) => J::Str(s.clone(), text),
        Json::Array(items) => list(items, |i| tree(i, text)),
        Json::Object(members) => J::Obj(
            members
                .iter()
                .map(|m| (m.key.clone(), Text::Fixed, tree(&m.value, text)))
                .collect(),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// KMS

fn kms_sections(o: &mut Sections<'_>) {
    let absent = Absence::Code("NotFoundException");
    o.slot(
        "kms_key",
        |e| &e.kms_key,
        absent,
        |k| {
            obj! {"KeyMetadata": obj! {
                "AWSAccountId": id(&k.account, Kind::Account),
                "KeyId": id(&k.key_id, Kind::KmsKey),
                "Arn": data(&k.arn),
                "KeyUsage": fixed(&k.usage),
                "KeyState": fixed(&k.state),
                "KeyManager": fixed(&k.manager),
                "KeySpec": fixed(&k.spec),
            }}
        },
    );
    let Slot::Collected(k) = &o.evidence.kms_key else {
        return;
    };
    // What the reader gives a described key whose policy or grants are left out.
    let policy_default = Slot::Unavailable(crate::read::missing(kms::POLICY_NEEDS));
    let grants_default = Slot::Unavailable(crate::read::missing(kms::GRANTS_NEEDS));
    let key_policy = section(
        "kms_key_policy",
        &k.policy,
        Some(&policy_default),
        REJECTED,
        |p| wrapped(p, Some("default")),
    );
    o.add("kms_key_policy", key_policy);
    let grants = section(
        "kms_grants",
        &k.grants,
        Some(&grants_default),
        REJECTED,
        |g| {
            obj! {"Grants": list(g, |g| grant(g, &k.arn)), "Truncated": J::Bool(false)}
        },
    );
    o.add("kms_grants", grants);
}

fn grant(g: &KmsGrant, key_arn: &str) -> J {
    let (equals, subset) = (&g.context_equals, &g.context_subset);
    let constraints = obj! {}
        .with(
            "EncryptionContextEquals",
            (!equals.is_empty()).then(|| string_map(equals)),
        )
        .with(
            "EncryptionContextSubset",
            (!subset.is_empty()).then(|| string_map(subset)),
        );
    obj! {"KeyId": data(key_arn), "GrantId": data(&g.grant_id)}
        .with("Name", g.name.as_deref().map(label))
        .with("GranteePrincipal", Some(data(&g.grantee_principal)))
        .with("Operations", Some(list(&g.operations, |o| fixed(o))))
        .with(
            "Constraints",
            (constraints != obj! {}).then_some(constraints),
        )
}

// ---------------------------------------------------------------------------------------------
// printing

/// Two-space indented JSON, one member or element per line.
fn pretty(j: &J, depth: usize, out: &mut String) {
    let pad = |out: &mut String, d: usize| out.extend(std::iter::repeat_n("  ", d));
    match j {
        J::Arr(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(out, depth + 1);
                pretty(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            pad(out, depth);
            out.push(']');
        }
        J::Obj(members) if !members.is_empty() => {
            out.push_str("{\n");
            for (i, (k, _, v)) in members.iter().enumerate() {
                pad(out, depth + 1);
                string(k, out);
                out.push_str(": ");
                pretty(v, depth + 1, out);
                out.push_str(if i + 1 < members.len() { ",\n" } else { "\n" });
            }
            pad(out, depth);
            out.push('}');
        }
        other => compact(other, out),
    }
}

/// Minified JSON, as AWS returns policy documents.
fn compact(j: &J, out: &mut String) {
    match j {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(n) => out.push_str(n),
        J::Str(s, _) => string(s, out),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact(item, out);
            }
            out.push(']');
        }
        J::Obj(members) => {
            out.push('{');
            for (i, (k, _, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(k, out);
                out.push(':');
                compact(v, out);
            }
            out.push('}');
        }
        J::Doc(inner) => {
            let mut text = String::new();
            compact(inner, &mut text);
            string(&text, out);
        }
    }
}

fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}
