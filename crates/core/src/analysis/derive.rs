//! Derives the request context AWS would see for an upload: principal keys from the caller,
//! its IAM identity and its organization, network and time keys, the resource owner's keys,
//! and the `s3:` keys from the headers. Explicit overrides from the request win.
//! docs/condition-keys.md lists every key, when AWS supplies it and where its value comes
//! from.

use crate::context::RequestContext;
use crate::eval::RequestPrincipal;
use crate::evidence::{Evidence, IdentityKind, Organization, Slot};
use crate::policy::AwsPrincipal;
use crate::upload::{AccessPointRef, Credentials, Target, UploadRequest};

/// The keys of an access point request (S3 User Guide, Configuring IAM policies for using
/// access points: `s3:DataAccessPointArn`, `s3:DataAccessPointAccount`,
/// `s3:AccessPointNetworkOrigin`) and of a directory bucket session
/// (`s3express:SessionMode`).
fn target_keys(c: &mut RequestContext, req: &UploadRequest, ev: &Evidence) {
    match &req.target {
        Target::AccessPoint(_) | Target::MultiRegionAccessPoint { .. } => {
            if let Some(arn) = access_point_arn(req, ev) {
                c.set("s3:DataAccessPointArn", arn);
            }
            if let Some(account) = access_point_account(req, ev) {
                c.set("s3:DataAccessPointAccount", account);
            }
            if let Some(ap) = ev.access_point.get() {
                c.set("s3:AccessPointNetworkOrigin", ap.network_origin.as_str());
            }
        }
        Target::DirectoryBucket => c.set("s3express:SessionMode", req.session_mode.as_str()),
        Target::Bucket => {}
    }
}

/// The caller of the upload, as the request and the evidence say.
pub fn principal_of(req: &UploadRequest, ev: &Evidence) -> Option<RequestPrincipal> {
    if req.credentials == Credentials::Anonymous {
        return Some(RequestPrincipal::Anonymous);
    }
    let arn = req
        .principal
        .clone()
        .or_else(|| ev.caller.get().map(|c| c.arn.clone()))?;
    Some(RequestPrincipal::parse(Some(&arn)))
}

/// The ARN that `aws:PrincipalArn` carries: the role ARN (with its path, when the identity was
/// read) for a role session, the principal's own ARN otherwise.
pub fn principal_arn(p: &RequestPrincipal, ev: &Evidence) -> Option<String> {
    match p {
        RequestPrincipal::Aws(AwsPrincipal::AssumedRole {
            account, role_name, ..
        }) => Some(
            ev.identity
                .get()
                .filter(|i| i.kind == IdentityKind::Role && i.name == *role_name)
                .map_or_else(
                    || format!("arn:aws:iam::{account}:role/{role_name}"),
                    |i| i.arn.clone(),
                ),
        ),
        RequestPrincipal::Aws(AwsPrincipal::Account { account }) => {
            Some(format!("arn:aws:iam::{account}:root"))
        }
        other => other.arn().map(str::to_owned),
    }
}

/// The bucket's Region, or the request's.
pub fn region_of(req: &UploadRequest, ev: &Evidence) -> Option<String> {
    req.region
        .clone()
        .or_else(|| ev.bucket.region.get().cloned())
}

/// The ARN of the access point the request goes through: from the evidence when read, else
/// from the ARN the request names. `None` for a request that names no access point, or only
/// its alias when the access point could not be read.
pub fn access_point_arn(req: &UploadRequest, ev: &Evidence) -> Option<String> {
    if !req.target.is_access_point() {
        return None;
    }
    if let Some(ap) = ev.access_point.get() {
        return Some(ap.arn.clone());
    }
    match &req.target {
        Target::AccessPoint(AccessPointRef::Arn { arn, .. }) => Some(arn.clone()),
        Target::MultiRegionAccessPoint { .. } => req.target.access_point_name(),
        _ => None,
    }
}

/// The account that owns the access point the request goes through (see
/// [`access_point_arn`]).
pub fn access_point_account(req: &UploadRequest, ev: &Evidence) -> Option<String> {
    if let Some(ap) = ev
        .access_point
        .get()
        .filter(|_| req.target.is_access_point())
    {
        return Some(ap.account.clone());
    }
    match &req.target {
        Target::AccessPoint(AccessPointRef::Arn { account, .. })
        | Target::MultiRegionAccessPoint { account, .. } => Some(account.clone()),
        _ => None,
    }
}

/// The ARN of a directory bucket: `arn:aws:s3express:<region>:<account>:bucket/<name>`, with
/// the bucket's Region and owner (`*` for what the evidence does not give).
pub fn directory_bucket_arn(req: &UploadRequest, ev: &Evidence) -> String {
    let region = region_of(req, ev).unwrap_or_else(|| "*".to_owned());
    let account = ev
        .bucket
        .owner_account
        .get()
        .cloned()
        .unwrap_or_else(|| "*".to_owned());
    format!("arn:aws:s3express:{region}:{account}:bucket/{}", req.bucket)
}

/// The resource ARN S3 authorizes the upload's S3 actions against: the bucket's object ARN,
/// the access point's object ARN (`<access point ARN>/object/<key>`) for a request through an
/// access point, the directory bucket's ARN for `s3express:CreateSession`.
pub fn authorized_resource(req: &UploadRequest, ev: &Evidence) -> String {
    match &req.target {
        Target::AccessPoint(_) | Target::MultiRegionAccessPoint { .. } => {
            match access_point_arn(req, ev) {
                Some(arn) => format!("{arn}/object/{}", req.key),
                // An alias whose access point could not be read: the ARN is unknown; this
                // stands in (the access point policy is unreadable too, so nothing is decided
                // on it).
                None => format!(
                    "arn:aws:s3:*:*:accesspoint/{}/object/{}",
                    req.target.access_point_name().unwrap_or_default(),
                    req.key
                ),
            }
        }
        Target::DirectoryBucket => directory_bucket_arn(req, ev),
        Target::Bucket => req.object_arn(),
    }
}

/// The narrowest resource a grant can name that covers the upload and the other objects of
/// its folder, in the form the request is authorized against (see [`authorized_resource`]):
/// `.../dir/*`, or the object's own ARN at the top; the directory bucket's ARN.
pub fn authorized_folder(req: &UploadRequest, ev: &Evidence) -> String {
    let object = authorized_resource(req, ev);
    match (&req.target, req.folder()) {
        (Target::DirectoryBucket, _) | (_, None) => object,
        (_, Some(dir)) => {
            let base = object
                .strip_suffix(req.key.as_str())
                .unwrap_or(object.as_str());
            format!("{base}{dir}/*")
        }
    }
}

/// Builds the condition keys of the S3 request.
pub fn s3_context(
    req: &UploadRequest,
    ev: &Evidence,
    p: &RequestPrincipal,
    now: &str,
) -> RequestContext {
    let mut c = RequestContext::new();
    principal_keys(&mut c, req, ev, p);
    let n = &req.network;
    c.set("aws:SecureTransport", if n.tls { "true" } else { "false" });
    if let Some(vpce) = &n.vpc_endpoint {
        c.set("aws:SourceVpce", vpce.clone());
        if let Some(vpc) = &n.vpc {
            c.set("aws:SourceVpc", vpc.clone());
        }
        if let Some(ip) = &n.vpc_source_ip {
            c.set("aws:VpcSourceIp", ip.clone());
        }
    } else if let Some(ip) = &n.source_ip {
        c.set("aws:SourceIp", ip.clone());
    }
    let time = req.time.clone().unwrap_or_else(|| now.to_owned());
    if let Some(t) = crate::condition::parse_aws_date(&time) {
        c.set("aws:EpochTime", t.as_second().to_string());
    }
    c.set("aws:CurrentTime", time);
    if let Some(r) = region_of(req, ev) {
        c.set("aws:RequestedRegion", r);
    }
    if let Some(owner) = ev.bucket.owner_account.get() {
        c.set("aws:ResourceAccount", owner.clone());
        c.set("s3:ResourceAccount", owner.clone());
    }
    if let Some(org) = resource_org(ev, ev.bucket.owner_account.get().map(String::as_str), p) {
        org_keys(&mut c, org, "aws:ResourceOrgID", "aws:ResourceOrgPaths");
    }
    c.set("aws:ViaAWSService", "false");
    header_keys(&mut c, req, p);
    target_keys(&mut c, req, ev);
    for (k, v) in &req.context {
        c.insert(k, v.values.clone(), v.multi);
    }
    c
}

/// The organization path AWS gives as `aws:PrincipalOrgPaths` / `aws:ResourceOrgPaths` for an
/// account: the organization id, the root and the OUs down to the account's parent, each
/// followed by `/` (`o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/`; the account id is not part of
/// it). `None` when the evidence does not hold the levels (they are kept with the SCPs or the
/// RCPs that were read along them).
pub fn org_path(org: &Organization) -> Option<String> {
    let levels = org.scps.get().or_else(|| org.rcps.get())?;
    let (_account, parents) = levels.split_last()?;
    if parents.is_empty() {
        return None;
    }
    let mut path = format!("{}/", org.id);
    for l in parents {
        path.push_str(&l.target_id);
        path.push('/');
    }
    Some(path)
}

/// The organization of the account that owns a resource (`owner`): the caller's when the
/// caller owns it, the bucket owner's otherwise (as for RCPs). `None` when it is a third
/// account's, whose organization the evidence does not hold.
pub fn resource_org<'e>(
    ev: &'e Evidence,
    owner: Option<&str>,
    p: &RequestPrincipal,
) -> Option<&'e Slot<Organization>> {
    owner?;
    super::s3::rcp_organization(ev, owner, p.account())
}

/// Sets the organization id and, when known, the organization path of an organization that
/// was read; an account in no organization (or an unread one) gets neither.
fn org_keys(c: &mut RequestContext, org: &Slot<Organization>, id_key: &str, paths_key: &str) {
    if let Some(o) = org.get() {
        c.set(id_key, o.id.clone());
        if let Some(path) = org_path(o) {
            c.insert(paths_key, vec![path], true);
        }
    }
}

fn principal_keys(
    c: &mut RequestContext,
    req: &UploadRequest,
    ev: &Evidence,
    p: &RequestPrincipal,
) {
    let a = match p {
        RequestPrincipal::Aws(a) => a,
        RequestPrincipal::Anonymous => {
            c.set("aws:PrincipalAccount", "anonymous");
            c.set("aws:PrincipalType", "Anonymous");
            c.set("aws:userid", "anonymous");
            return;
        }
        RequestPrincipal::Service(name) => {
            // A service principal calling with its own identity (CloudTrail writing logs).
            c.set("aws:PrincipalIsAWSService", "true");
            c.set("aws:PrincipalServiceName", name.clone());
            c.insert("aws:PrincipalServiceNamesList", vec![name.clone()], true);
            return;
        }
    };
    // Every request signed with the credentials of an IAM principal (user, role session,
    // federated user, root) has it, false.
    c.set("aws:PrincipalIsAWSService", "false");
    if let Some(arn) = principal_arn(p, ev) {
        c.set("aws:PrincipalArn", arn);
    }
    if let Some(acct) = a.account() {
        c.set("aws:PrincipalAccount", acct);
    }
    let identity = ev.identity.get();
    // `sts get-caller-identity` gives the same `UserId` when the identity was not read.
    let caller_id = ev
        .caller
        .get()
        .filter(|cl| Some(cl.arn.as_str()) == p.arn())
        .map(|cl| cl.user_id.clone());
    match a {
        AwsPrincipal::User { arn, .. } => {
            c.set("aws:PrincipalType", "User");
            c.set("aws:username", arn.rsplit('/').next().unwrap_or(arn));
            if let Some(id) = identity.map(|i| i.id.clone()).or(caller_id) {
                c.set("aws:userid", id);
            }
        }
        AwsPrincipal::AssumedRole { session, .. } => {
            c.set("aws:PrincipalType", "AssumedRole");
            if let Some(id) = identity
                .filter(|i| i.kind == IdentityKind::Role)
                .map(|i| format!("{}:{session}", i.id))
                .or(caller_id)
            {
                c.set("aws:userid", id);
            }
        }
        AwsPrincipal::FederatedUser { account, name, .. } => {
            c.set("aws:PrincipalType", "FederatedUser");
            c.set("aws:userid", format!("{account}:{name}"));
        }
        AwsPrincipal::Account { account } => {
            c.set("aws:PrincipalType", "Account");
            c.set("aws:userid", account.clone());
        }
        _ => {}
    }
    org_keys(
        c,
        &ev.caller_org,
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
    );
    let mut tags = identity.map(|i| i.tags.clone()).unwrap_or_default();
    tags.extend(req.session_tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    for (k, v) in tags {
        c.set(&format!("aws:PrincipalTag/{k}"), v);
    }
    match req.credentials {
        Credentials::Temporary => c.set("aws:MultiFactorAuthPresent", "false"),
        Credentials::TemporaryWithMfa => c.set("aws:MultiFactorAuthPresent", "true"),
        Credentials::LongTerm | Credentials::Anonymous => {}
    }
}

/// Request headers that S3 exposes as condition keys on `PutObject`.
const HEADER_KEYS: &[(&str, &str)] = &[
    ("x-amz-acl", "s3:x-amz-acl"),
    ("x-amz-grant-read", "s3:x-amz-grant-read"),
    ("x-amz-grant-write", "s3:x-amz-grant-write"),
    ("x-amz-grant-read-acp", "s3:x-amz-grant-read-acp"),
    ("x-amz-grant-write-acp", "s3:x-amz-grant-write-acp"),
    ("x-amz-grant-full-control", "s3:x-amz-grant-full-control"),
    (
        "x-amz-server-side-encryption",
        "s3:x-amz-server-side-encryption",
    ),
    (
        "x-amz-server-side-encryption-aws-kms-key-id",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    ),
    (
        "x-amz-server-side-encryption-customer-algorithm",
        "s3:x-amz-server-side-encryption-customer-algorithm",
    ),
    ("x-amz-storage-class", "s3:x-amz-storage-class"),
    ("x-amz-object-lock-mode", "s3:object-lock-mode"),
    (
        "x-amz-object-lock-retain-until-date",
        "s3:object-lock-retain-until-date",
    ),
    ("x-amz-object-lock-legal-hold", "s3:object-lock-legal-hold"),
    (
        "x-amz-website-redirect-location",
        "s3:x-amz-website-redirect-location",
    ),
    ("x-amz-content-sha256", "s3:x-amz-content-sha256"),
    ("if-none-match", "s3:if-none-match"),
    ("if-match", "s3:if-match"),
];

fn header_keys(c: &mut RequestContext, req: &UploadRequest, p: &RequestPrincipal) {
    for (h, k) in HEADER_KEYS {
        if let Some(v) = req.header(h) {
            c.set(k, v);
        }
    }
    // Global keys AWS takes from HTTP headers: `aws:referer` only when the client sends a
    // `Referer` (a browser following a link), `aws:UserAgent` from `User-Agent`.
    if let Some(v) = req.header("referer") {
        c.set("aws:referer", v);
    }
    if let Some(v) = req.header("user-agent") {
        c.set("aws:UserAgent", v);
    }
    // An unsigned request has no signature, so no signature version or authentication type.
    if !matches!(p, RequestPrincipal::Anonymous) {
        c.set("s3:signatureversion", "AWS4-HMAC-SHA256");
        c.set("s3:authType", "REST-HEADER");
    }
    if req.network.tls {
        c.set("s3:TlsVersion", "1.2");
    }
    if let Some(tagging) = req.header("x-amz-tagging") {
        let mut keys = Vec::new();
        for pair in tagging.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (percent_decode(k), percent_decode(v));
            c.set(&format!("s3:RequestObjectTag/{k}"), v);
            keys.push(k);
        }
        c.insert("s3:RequestObjectTagKeys", keys, true);
    }
}

fn percent_decode(s: &str) -> String {
    let s = s.replace('+', " ");
    crate::policy::url_decode(&s).unwrap_or(s)
}
