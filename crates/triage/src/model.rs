//! From a group to a diagnosis: the upload its latest record describes, the error that record
//! carries, and the outcome in a line: the cause rule, its fix, whether the fix was verified.

use why403_core::Diagnoser;
use why403_core::analysis::Verdict;
use why403_core::client::Client;
use why403_core::evidence::Evidence;
use why403_core::finding::{Diagnosis, Role, Verification};
use why403_core::rule::Registry;
use why403_core::upload::{Credentials, Operation, Target, UploadRequest, parse_destination};
use why403_errors::{Envelope, Parsed, RuleStatus};

use crate::group::Group;
use crate::record::{Call, CallKind, ClientKind, Format, Record};

/// The upload a record describes, with every fact the record gives: caller, bucket, key,
/// single or multipart, headers, source address, VPC endpoint, TLS, time, Region and kind of
/// credentials. Also returns notes on what was assumed.
pub fn request_of(r: &Record) -> (UploadRequest, Vec<String>) {
    let mut notes = Vec::new();
    let (target, bucket) = target_of(r);
    let mut req = UploadRequest::new(&bucket, &r.key);
    req.target = target;
    req.principal = r.caller.arn.clone().filter(|a| a.starts_with("arn:"));
    if r.call.is_multipart() {
        req.operation = Operation::Multipart;
    } else {
        req.operation = Operation::PutObject;
    }
    if matches!(r.call, Call::CopyObject | Call::UploadPartCopy) {
        notes.push(
            "a copy also reads its source (`s3:GetObject` on the source object): only the destination is diagnosed"
                .to_owned(),
        );
    }
    req.headers = r.headers.clone();
    // A public address is `aws:SourceIp`; a private one is the address inside a VPC, which
    // reaches S3 through a VPC endpoint (`aws:VpcSourceIp`).
    match r
        .source_ip
        .as_deref()
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
    {
        Some(ip) if is_private(ip) => {
            req.network.vpc_source_ip = Some(ip.to_string());
            if r.vpc_endpoint.is_none() {
                notes.push(format!(
                    "the caller's address `{ip}` is private: the request came through a VPC endpoint the record does not name, so `aws:SourceVpce` is not known"
                ));
            }
        }
        Some(ip) => req.network.source_ip = Some(ip.to_string()),
        None => {}
    }
    req.network.vpc_endpoint = r.vpc_endpoint.clone();
    match r.tls {
        Some(tls) => req.network.tls = tls,
        None => notes.push(
            "the record does not say whether the request used TLS: HTTPS is assumed (`aws:SecureTransport` is `true`)"
                .to_owned(),
        ),
    }
    if r.format == Format::AccessLog {
        notes.push(
            "S3 server access logs do not record request headers, MFA or the VPC endpoint: the request is diagnosed without headers and, for a session, without MFA, so a cause or fix that depends on them is an assumption"
                .to_owned(),
        );
    }
    if !r.time.is_empty() {
        req.time = Some(r.time.clone());
    }
    req.region = r.region.clone();
    req.credentials = credentials(r);
    (req, notes)
}

/// What the record's request named, and its bucket: the access point the record says it went
/// through (its ARN: a single-Region or a Multi-Region Access Point), else an access point
/// alias or a directory bucket given as the bucket, else the bucket. The bucket is the
/// record's unless it is the access point's alias or ARN: only the access point can then name
/// it (the evidence gives it, or `--mrap-bucket` for a Multi-Region Access Point).
fn target_of(r: &Record) -> (Target, String) {
    // `parse_destination` reads `<destination>/<key>`; the key is not what is read here.
    let parse = |named: &str| parse_destination(&format!("{named}/k")).ok();
    let through = r
        .access_point
        .as_deref()
        .and_then(parse)
        .filter(|(t, _, _)| t.is_access_point());
    match through.or_else(|| parse(&r.bucket)) {
        Some((target, bucket, _)) if target.is_access_point() => {
            let names_the_access_point = r.bucket.starts_with("arn:")
                || why403_core::upload::is_access_point_alias(&r.bucket);
            let bucket = if names_the_access_point || r.bucket.is_empty() {
                bucket
            } else {
                r.bucket.clone()
            };
            (target, bucket)
        }
        Some((target, bucket, _)) => (target, bucket),
        None => (Target::Bucket, r.bucket.clone()),
    }
}

/// RFC 1918, shared (RFC 6598), link-local and unique-local addresses.
fn is_private(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private() || v4.is_link_local() || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments()[0];
            (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80
        }
    }
}

fn credentials(r: &Record) -> Credentials {
    let c = &r.caller;
    if c.is_anonymous() {
        return Credentials::Anonymous;
    }
    let temporary = c.kind.as_deref().is_some_and(|k| {
        matches!(
            k,
            "AssumedRole" | "FederatedUser" | "WebIdentityUser" | "SAMLUser"
        )
    }) || c
        .access_key_id
        .as_deref()
        .is_some_and(|k| k.starts_with("ASIA"))
        || c.arn
            .as_deref()
            .is_some_and(|a| a.contains(":assumed-role/") || a.contains(":federated-user/"));
    match (temporary, c.mfa) {
        (true, Some(true)) => Credentials::TemporaryWithMfa,
        (true, _) => Credentials::Temporary,
        (false, _) => Credentials::LongTerm,
    }
}

/// The error a record carries, as `why403 explain` reads it: the message (CloudTrail) and the
/// record's own fields (code, call, caller, bucket, key, request id, VPC endpoint...).
pub fn parsed_of(r: &Record) -> Parsed {
    let mut p = match &r.message {
        Some(m) => why403_errors::parse(m),
        None => Parsed::default(),
    };
    p.envelope = match r.format {
        Format::AccessLog => Envelope::AccessLog,
        _ => Envelope::CloudTrail,
    };
    p.unrecognised = None;
    let note = |p: &mut Parsed, what: &'static str| {
        if !p.recognised.contains(&what) {
            p.recognised.push(what);
        }
    };
    note(&mut p, "envelope");
    if let Some(c) = &r.code {
        p.code = Some(c.clone());
        note(&mut p, "code");
    }
    p.http_status = r.http_status.or(p.http_status);
    p.operation = Some(r.call.as_str().to_owned());
    note(&mut p, "operation");
    if p.principal.is_none()
        && let Some(a) = &r.caller.arn
    {
        p.principal = Some(a.clone());
        note(&mut p, "principal");
    }
    p.bucket = Some(r.bucket.clone());
    p.key = Some(r.key.clone());
    note(&mut p, "bucket");
    note(&mut p, "key");
    p.request_id = r.request_id.clone();
    p.details.vpc_endpoint_id = r.vpc_endpoint.clone();
    p.details.aws_region = r.region.clone();
    p.details.source_ip = r.source_ip.clone();
    p.details.event_source = (r.format != Format::AccessLog).then(|| "s3.amazonaws.com".into());
    p.details.presigned = r.presigned;
    p
}

/// Whether a group can be diagnosed from evidence: uploads can (`PutObject`, multipart, a
/// copy's destination); `PutObjectAcl`, tagging, retention and legal hold calls are
/// explained from their records, since the diagnosis models uploads only.
pub fn diagnosable(g: &Group) -> bool {
    g.key.kind == CallKind::Upload
        && (g.latest.caller.arn.is_some() || g.latest.caller.is_anonymous())
}

/// The client a user agent names, as the diagnosis models it.
pub fn client_of(c: ClientKind) -> Option<Client> {
    match c {
        ClientKind::Console => Some(Client::Console),
        ClientKind::Cli => Some(Client::Cli),
        ClientKind::Sdk => Some(Client::Sdk),
        _ => None,
    }
}

/// Where a group's diagnosis came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// Evidence read live from AWS.
    Live,
    /// A scenario file (its name).
    Scenario(String),
    /// The records alone: what their messages prove.
    Records,
}

impl Basis {
    /// In JSON output.
    pub fn as_str(&self) -> &str {
        match self {
            Basis::Live => "live",
            Basis::Scenario(_) => "scenario",
            Basis::Records => "records",
        }
    }
}

/// A group's outcome in a line.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Where it came from.
    pub basis: Basis,
    /// `denied`, `allowed`, `indeterminate`, or `explained` (records alone).
    pub verdict: String,
    /// The causes' rule ids (`scope/id` for rules outside `builtin`), most specific first.
    pub causes: Vec<String>,
    /// The cause in one sentence.
    pub message: Option<String>,
    /// The fix in one sentence.
    pub fix: Option<String>,
    /// Whether the fix was verified by re-evaluation: `yes`, `no`, `indeterminate`, or
    /// `not checked`; `assumed` when it was, but on facts the records do not give (access
    /// logs record no headers); `-` without evidence.
    pub verified: String,
    /// Unreadable evidence that decides, with the IAM action that would read it.
    pub missing: Vec<String>,
    /// What else to know (assumptions, disagreements).
    pub notes: Vec<String>,
    /// The whole diagnosis, when there was evidence.
    pub diagnosis: Option<Box<Diagnosis>>,
}

/// Diagnoses a group's latest record from `evidence`.
pub fn diagnose(g: &Group, evidence: Evidence, basis: Basis, registry: &Registry) -> Outcome {
    let (request, notes) = request_of(&g.latest);
    diagnose_request(g, request, evidence, basis, notes, registry)
}

/// Diagnoses `request` (a group's, with its principal possibly set by the source) from
/// `evidence`.
pub fn diagnose_request(
    g: &Group,
    request: UploadRequest,
    evidence: Evidence,
    basis: Basis,
    mut notes: Vec<String>,
    registry: &Registry,
) -> Outcome {
    notes.push(format!(
        "diagnosed as the latest record of the group ({}, `s3://{}/{}`, {})",
        g.latest.id, g.latest.bucket, g.latest.key, g.latest.time
    ));
    let mut d = Diagnoser::new(registry).notes(notes.clone());
    if let Some(c) = client_of(g.latest.client()) {
        d = d.client(c, None);
    }
    let d = d.error(parsed_of(&g.latest)).diagnose(request, evidence);
    let causes: Vec<_> = d
        .findings
        .iter()
        .filter(|f| matches!(f.role, Role::Cause | Role::Contributing))
        .collect();
    let first = causes.first();
    let verified = match first.and_then(|f| f.fix.as_ref()).map(|f| &f.verified) {
        Some(Verification::Resolves) => "yes",
        Some(Verification::StillDenied { .. }) => "no",
        Some(Verification::Indeterminate { .. }) => "indeterminate",
        Some(Verification::NotChecked { .. }) => "not checked",
        None => "-",
    };
    let (verdict, missing) = match &d.verdict {
        Verdict::Allowed => ("allowed", Vec::new()),
        Verdict::Denied => ("denied", Vec::new()),
        Verdict::Indeterminate { missing } => (
            "indeterminate",
            missing
                .iter()
                .map(|m| {
                    let needs = m.unavailable.needs.join(", ");
                    if needs.is_empty() {
                        m.what.clone()
                    } else {
                        format!("{} (needs {needs})", m.what)
                    }
                })
                .collect(),
        ),
    };
    let access_log = g.latest.format == Format::AccessLog;
    let mut out_notes = notes;
    if verdict == "allowed" {
        out_notes.push(
            "the evidence allows this upload now: the cause was fixed after the records, or the request differed in something the records do not show"
                .to_owned(),
        );
    }
    // What access logs do not record was assumed: the fix is verified under that assumption.
    let verified = if access_log && verified == "yes" {
        "assumed"
    } else {
        verified
    };
    Outcome {
        basis,
        verdict: verdict.to_owned(),
        causes: causes
            .iter()
            .map(|f| rule_name(&f.rule.scope, &f.rule.id))
            .collect(),
        message: first.map(|f| f.message.clone()),
        fix: first
            .and_then(|f| f.fix.as_ref())
            .map(|f| f.description.clone()),
        verified: verified.to_owned(),
        missing,
        notes: out_notes,
        diagnosis: Some(Box::new(d)),
    }
}

fn rule_name(scope: &str, id: &str) -> String {
    if scope == "builtin" {
        id.to_owned()
    } else {
        format!("{scope}/{id}")
    }
}

/// A group's outcome from its records alone: what the latest message proves, the rules it
/// rules in, and the next step.
/// `no_evidence` says why no evidence was read for an upload group that could have been
/// diagnosed from it (no scenario of its caller, a live read that failed); without it, the
/// outcome says how to give evidence when the message does not state the cause.
pub fn explain(g: &Group, registry: &Registry, no_evidence: Option<String>) -> Outcome {
    let p = parsed_of(&g.latest);
    let x = why403_errors::explain(&p, registry);
    let ruled_in: Vec<String> = x
        .rules
        .iter()
        .filter(|r| r.status == RuleStatus::RuledIn)
        .map(|r| rule_name(r.scope, r.id))
        .collect();
    let mut notes = Vec::new();
    if g.key.kind != CallKind::Upload {
        notes.push(format!(
            "{} calls are explained from their records: why403 diagnoses uploads (PutObject, multipart uploads, copies) from evidence, not object settings",
            g.latest.call.as_str()
        ));
    } else if !diagnosable(g) {
        notes.push(format!(
            "the record names the caller only as `{}` (CloudTrail does not give the bucket owner the ARN of another account's caller): there is no principal to diagnose, so it is explained from its records",
            g.key.caller
        ));
    } else if let Some(why) = no_evidence {
        notes.push(why);
    } else if x.cause.is_none() {
        notes.push(
            "no evidence was read: give `--live` or `--scenarios DIR` to diagnose from the configuration and verify a fix"
                .to_owned(),
        );
    }
    let message = match (&x.cause, &g.latest.message) {
        (Some(c), _) => c.clone(),
        (None, Some(_)) => x.headline.clone(),
        (None, None) => format!(
            "`{}`{}: {} carry no error message, so they do not show which policy or setting refused",
            g.key.code,
            g.latest
                .http_status
                .map(|s| format!(" (HTTP {s})"))
                .unwrap_or_default(),
            g.latest.format.describe()
        ),
    };
    Outcome {
        basis: Basis::Records,
        verdict: "explained".to_owned(),
        causes: ruled_in,
        message: Some(message),
        fix: x.fix.clone(),
        verified: "-".to_owned(),
        missing: Vec::new(),
        notes,
        diagnosis: None,
    }
}
