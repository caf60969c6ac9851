//! The `request` object of a scenario: the upload as the client sent it.

use std::collections::BTreeMap;

use why403_core::condition::parse_aws_date;
use why403_core::policy::AwsPrincipal;
use why403_core::upload::{
    ContextOverride, Credentials, Network, Operation, SessionMode, Target, UploadRequest,
    parse_destination,
};

use crate::read::{Obj, R, Reader, Val};

/// The members of `request`, in the order the documentation lists them.
pub const REQUEST_FIELDS: &[&str] = &[
    "principal",
    "credentials",
    "bucket",
    "access_point",
    "key",
    "operation",
    "headers",
    "network",
    "time",
    "region",
    "session_tags",
    "context",
    "session_mode",
];

/// The members of `request.network`.
pub const NETWORK_FIELDS: &[&str] = &["source_ip", "vpc_endpoint", "vpc", "vpc_source_ip", "tls"];

/// The caller as the request names it.
#[derive(Debug, Clone)]
pub(crate) enum Who {
    Anonymous,
    /// `arn:aws:iam::<account>:root`.
    Root {
        account: String,
    },
    User {
        account: String,
        arn: String,
    },
    /// An assumed-role session.
    Session {
        account: String,
        role_name: String,
    },
    FederatedUser {
        account: String,
    },
}

impl Who {
    pub(crate) fn account(&self) -> Option<&str> {
        match self {
            Who::Anonymous => None,
            Who::Root { account }
            | Who::User { account, .. }
            | Who::Session { account, .. }
            | Who::FederatedUser { account } => Some(account),
        }
    }

    /// Whether the credentials come from an STS session that may carry a session policy.
    pub(crate) fn has_session(&self) -> bool {
        matches!(self, Who::Session { .. } | Who::FederatedUser { .. })
    }
}

/// Reads `request`. `caller_arn` is `evidence.caller_identity.Arn` when given.
pub(crate) fn read(
    r: &Reader<'_>,
    o: &Obj<'_>,
    caller_arn: Option<&Val<'_>>,
) -> R<(UploadRequest, Who)> {
    o.only(r, REQUEST_FIELDS)?;
    let key = o.req(r, "key")?.nonempty(r)?.to_owned();
    let (target, bucket) = target(r, o)?;
    let mut req = UploadRequest::new(&bucket, &key);
    req.target = target;
    if let Some(v) = o.opt("session_mode") {
        if !req.target.is_directory_bucket() {
            return Err(v.err(
                r,
                "`session_mode` is for directory buckets (`<name>--<zone-id>--x-s3`) only",
            ));
        }
        req.session_mode = match v.str(r)? {
            "ReadWrite" => SessionMode::ReadWrite,
            "ReadOnly" => SessionMode::ReadOnly,
            other => {
                return Err(v.err(
                    r,
                    format!("unknown session mode `{other}`; expected `ReadWrite` or `ReadOnly`"),
                ));
            }
        };
    }

    let given = o.opt("principal");
    let principal = match (&given, caller_arn) {
        (Some(p), Some(c)) => {
            let (ps, cs) = (p.nonempty(r)?, c.str(r)?);
            if ps != cs {
                return Err(p.err(
                    r,
                    format!("`{ps}` differs from `/evidence/caller_identity/Arn` (`{cs}`); the caller identity must be the uploader's"),
                ));
            }
            Some(p.clone())
        }
        (Some(p), None) => Some(p.clone()),
        (None, Some(c)) => Some(c.clone()),
        (None, None) => None,
    };
    let who = match &principal {
        Some(p) => classify(r, p)?,
        None => Who::Anonymous,
    };
    req.principal = principal
        .as_ref()
        .map(|p| p.str(r).map(str::to_owned))
        .transpose()?;

    let creds_val = o.opt("credentials");
    req.credentials = match &creds_val {
        Some(v) => match v.str(r)? {
            "long-term" => Credentials::LongTerm,
            "temporary" => Credentials::Temporary,
            "temporary-mfa" => Credentials::TemporaryWithMfa,
            "anonymous" => Credentials::Anonymous,
            other => {
                return Err(v.err(
                    r,
                    format!("unknown credentials `{other}`; expected `long-term`, `temporary`, `temporary-mfa` or `anonymous`"),
                ));
            }
        },
        None => match who {
            Who::Anonymous => {
                return Err(o.err(
                    r,
                    "missing required field `principal` (or `/evidence/caller_identity`); \
                     for an unsigned request set `\"credentials\": \"anonymous\"`",
                ));
            }
            Who::Root { .. } | Who::User { .. } => Credentials::LongTerm,
            Who::Session { .. } | Who::FederatedUser { .. } => Credentials::Temporary,
        },
    };
    if let Some(v) = &creds_val {
        match (req.credentials, &who) {
            (Credentials::Anonymous, Who::Anonymous) => {}
            (Credentials::Anonymous, _) => {
                return Err(v.err(r, "an anonymous request has no principal: remove `principal` and `/evidence/caller_identity`"));
            }
            (_, Who::Anonymous) => {
                return Err(o.err(
                    r,
                    "missing required field `principal` (or `/evidence/caller_identity`)",
                ));
            }
            (Credentials::LongTerm, Who::Session { .. } | Who::FederatedUser { .. }) => {
                return Err(v.err(r, "a session always uses temporary credentials: use `temporary` or `temporary-mfa`"));
            }
            _ => {}
        }
    }

    if let Some(v) = o.opt("operation") {
        req.operation = match v.str(r)? {
            "PutObject" => Operation::PutObject,
            "Multipart" => Operation::Multipart,
            other => {
                return Err(v.err(
                    r,
                    format!("unknown operation `{other}`; expected `PutObject` or `Multipart`"),
                ));
            }
        };
    }
    if let Some(h) = o.opt_obj(r, "headers")? {
        req.headers = lowercase_map(r, &h, "header")?;
    }
    if let Some(n) = o.opt_obj(r, "network")? {
        req.network = network(r, &n)?;
    }
    if let Some(v) = o.opt("time") {
        let t = v.str(r)?;
        if parse_aws_date(t).is_none() {
            return Err(v.err(
                r,
                format!("expected an ISO 8601 time such as `2026-11-29T12:00:00Z`, found `{t}`"),
            ));
        }
        req.time = Some(t.to_owned());
    }
    req.region = o
        .opt("region")
        .map(|v| v.nonempty(r).map(str::to_owned))
        .transpose()?;
    if let Some(t) = o.opt_obj(r, "session_tags")? {
        if !who.has_session() {
            return Err(t.err(
                r,
                "session tags need a session (an assumed-role or federated-user principal)",
            ));
        }
        let mut tags = BTreeMap::new();
        for (k, v) in t.members() {
            if tags.keys().any(|e: &String| e.eq_ignore_ascii_case(k)) {
                return Err(v.err(
                    r,
                    format!("session tag `{k}` appears twice (tag keys are case-insensitive)"),
                ));
            }
            tags.insert(k.to_owned(), v.str(r)?.to_owned());
        }
        req.session_tags = tags;
    }
    if let Some(c) = o.opt_obj(r, "context")? {
        req.context = context(r, &c)?;
    }
    Ok((req, who))
}

/// What the request names (`bucket`, `access_point`) and the bucket name, empty when the
/// access point's evidence is to give it.
fn target(r: &Reader<'_>, o: &Obj<'_>) -> R<(Target, String)> {
    let bucket = o.opt("bucket");
    let ap = o.opt("access_point");
    let named = |v: &Val<'_>| -> R<(Target, String)> {
        let text = v.nonempty(r)?;
        parse_destination(&format!("{text}/key"))
            .map(|(t, b, _)| (t, b))
            .map_err(|e| v.err(r, e.replace("/key`", "`")))
    };
    match (bucket, ap) {
        (None, None) => Err(o.err(
            r,
            "missing required field `bucket` (or `access_point` for an upload through an access point)",
        )),
        (Some(b), None) => {
            if b.nonempty(r)?.starts_with("arn:") {
                return Err(b.err(
                    r,
                    "`bucket` is a bucket name: give an access point ARN as `access_point`",
                ));
            }
            named(&b)
        }
        (b, Some(a)) => {
            let (t, _) = named(&a)?;
            match t {
                Target::AccessPoint(_) => {}
                // The bucket the request was routed to must be named.
                Target::MultiRegionAccessPoint { .. } if b.is_none() => {
                    return Err(o.err(
                        r,
                        "missing required field `bucket`: the bucket of the Multi-Region Access Point that the request was routed to",
                    ));
                }
                Target::MultiRegionAccessPoint { .. } => {}
                Target::Bucket | Target::DirectoryBucket => {
                    return Err(a.err(
                        r,
                        "expected an access point ARN (`arn:aws:s3:<region>:<account>:accesspoint/<name>`) or alias (`...-s3alias`)",
                    ));
                }
            }
            let bucket = match b {
                Some(b) => {
                    let name = b.nonempty(r)?;
                    if !matches!(named(&b)?.0, Target::Bucket) {
                        return Err(b.err(
                            r,
                            "the bucket of an access point is a general purpose bucket name",
                        ));
                    }
                    name.to_owned()
                }
                None => String::new(),
            };
            Ok((t, bucket))
        }
    }
}

fn classify(r: &Reader<'_>, v: &Val<'_>) -> R<Who> {
    let s = v.nonempty(r)?;
    let looks_arn = s.starts_with("arn:");
    Ok(match AwsPrincipal::parse(s) {
        AwsPrincipal::Account { account } if looks_arn => Who::Root { account },
        AwsPrincipal::User { arn, account } => Who::User { account, arn },
        AwsPrincipal::AssumedRole {
            account, role_name, ..
        } => Who::Session { account, role_name },
        AwsPrincipal::FederatedUser { account, .. } => Who::FederatedUser { account },
        AwsPrincipal::Role { .. } => {
            return Err(v.err(
                r,
                "a role signs requests through a session: use the assumed-role ARN \
                 `arn:aws:sts::<account>:assumed-role/<role>/<session>`",
            ));
        }
        _ => {
            return Err(v.err(
                r,
                format!(
                    "expected the ARN of an IAM user, an assumed-role session, a federated user \
                     or an account root (`arn:aws:iam::<account>:root`), found `{s}`"
                ),
            ));
        }
    })
}

/// An object of strings whose names are case-insensitive (headers): names lower-cased.
fn lowercase_map(r: &Reader<'_>, o: &Obj<'_>, what: &str) -> R<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (k, v) in o.members() {
        let lower = k.to_ascii_lowercase();
        if out.contains_key(&lower) {
            return Err(v.err(
                r,
                format!("{what} `{k}` appears twice ({what} names are case-insensitive)"),
            ));
        }
        out.insert(lower, v.str(r)?.to_owned());
    }
    Ok(out)
}

fn network(r: &Reader<'_>, o: &Obj<'_>) -> R<Network> {
    o.only(r, NETWORK_FIELDS)?;
    let ip = |key: &str| -> R<Option<String>> {
        let Some(v) = o.opt(key) else { return Ok(None) };
        let s = v.str(r)?;
        if s.parse::<std::net::IpAddr>().is_err() {
            return Err(v.err(r, format!("expected an IPv4 or IPv6 address, found `{s}`")));
        }
        Ok(Some(s.to_owned()))
    };
    let prefixed = |key: &str, prefix: &str| -> R<Option<String>> {
        let Some(v) = o.opt(key) else { return Ok(None) };
        let s = v.str(r)?;
        if !s.starts_with(prefix) {
            return Err(v.err(
                r,
                format!("expected an id starting with `{prefix}`, found `{s}`"),
            ));
        }
        Ok(Some(s.to_owned()))
    };
    let n = Network {
        source_ip: ip("source_ip")?,
        vpc_endpoint: prefixed("vpc_endpoint", "vpce-")?,
        vpc: prefixed("vpc", "vpc-")?,
        vpc_source_ip: ip("vpc_source_ip")?,
        tls: o.opt_bool(r, "tls")?.unwrap_or(true),
    };
    if n.vpc_endpoint.is_none() {
        for key in ["vpc", "vpc_source_ip"] {
            if let Some(v) = o.opt(key) {
                return Err(v.err(r, format!("`{key}` needs `vpc_endpoint`: requests reach S3 from a VPC through an endpoint")));
            }
        }
    }
    Ok(n)
}

fn context(r: &Reader<'_>, o: &Obj<'_>) -> R<BTreeMap<String, ContextOverride>> {
    let mut out: BTreeMap<String, ContextOverride> = BTreeMap::new();
    for (k, v) in o.members() {
        if !k.contains(':') {
            return Err(v.err(
                r,
                format!(
                    "`{k}` is not a condition key (expected `prefix:Name`, e.g. `aws:SourceIp`)"
                ),
            ));
        }
        if out.keys().any(|e| e.eq_ignore_ascii_case(k)) {
            return Err(v.err(
                r,
                format!("condition key `{k}` appears twice (key names are case-insensitive)"),
            ));
        }
        let value = match v.node.value {
            why403_core::json::Json::Array(_) => {
                let values = v
                    .arr(r)?
                    .iter()
                    .map(|x| x.scalar(r))
                    .collect::<R<Vec<_>>>()?;
                ContextOverride {
                    values,
                    multi: true,
                }
            }
            _ => ContextOverride {
                values: vec![v.scalar(r)?],
                multi: false,
            },
        };
        out.insert(k.to_owned(), value);
    }
    Ok(out)
}
