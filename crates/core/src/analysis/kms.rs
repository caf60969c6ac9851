//! The KMS side of an SSE-KMS upload: S3 asks KMS for a data key (`kms:GenerateDataKey`), and
//! for multipart uploads also decrypts it (`kms:Decrypt`), with the caller's credentials. The
//! key policy must allow (IAM policies count only when it delegates to the account), grants
//! can allow, and the key must be usable (AWS KMS Developer Guide: Key policies, Grants, Key
//! states; S3 User Guide: Using server-side encryption with AWS KMS keys).

use super::BlockCode;
use super::s3::{CallerLayers, caller_layers, rcp_levels};
use super::{
    Block, Check, CheckKind, CheckOutcome, Missing, Stance, note_missing, settle, stand_in,
};
use crate::context::RequestContext;
use crate::eval::{Decision, Evaluation, Layer, PolicySet, Request, RequestPrincipal};
use crate::evidence::EvidenceKind;
use crate::evidence::{Evidence, KmsKey, Slot, Unavailable};
use crate::policy::{Policy, PolicyKind};
use crate::upload::{Operation, UploadRequest};

/// Which key an upload uses, and where that was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChoice {
    /// Not SSE-KMS.
    None,
    /// SSE-KMS with this key id, ARN or alias (`None`: the AWS managed key `aws/s3`).
    Kms {
        /// The key id, ARN or alias as given; `None`: the AWS managed key `aws/s3`.
        key: Option<String>,
        /// `true` when the request headers chose it, `false` when the bucket's default
        /// encryption did.
        from_header: bool,
        /// Dual-layer SSE-KMS (`aws:kms:dsse`).
        dsse: bool,
    },
    /// Unknown: no encryption header and the bucket's default encryption is unreadable.
    Unknown,
}

/// Decides the key from the headers and the bucket's default encryption.
pub fn key_choice(req: &UploadRequest, ev: &Evidence) -> KeyChoice {
    // SSE-C: the caller's own key encrypts the object; KMS and the bucket's default
    // encryption play no part.
    if req
        .header("x-amz-server-side-encryption-customer-algorithm")
        .is_some()
    {
        return KeyChoice::None;
    }
    if let Some(alg) = req.header("x-amz-server-side-encryption") {
        return match alg {
            "aws:kms" | "aws:kms:dsse" => KeyChoice::Kms {
                key: req
                    .header("x-amz-server-side-encryption-aws-kms-key-id")
                    .map(str::to_owned),
                from_header: true,
                dsse: alg == "aws:kms:dsse",
            },
            _ => KeyChoice::None,
        };
    }
    match &ev.bucket.encryption {
        Slot::Collected(e) if e.algorithm.starts_with("aws:kms") => KeyChoice::Kms {
            key: e.kms_key_id.clone(),
            from_header: false,
            dsse: e.algorithm == "aws:kms:dsse",
        },
        Slot::Unavailable(_) => KeyChoice::Unknown,
        // No default encryption configuration means SSE-S3 since January 2023.
        _ => KeyChoice::None,
    }
}

/// The key policy AWS documents for AWS managed keys: usable by every principal of the owning
/// account through the service, by nobody else; it cannot be changed.
fn aws_managed_key_policy(account: &str, region: &str) -> Policy {
    let text = format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "Allow access through S3 for all principals in the account that are authorized to use S3",
      "Effect": "Allow",
      "Principal": {{"AWS": "*"}},
      "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      "Resource": "*",
      "Condition": {{
        "StringEquals": {{
          "kms:CallerAccount": "{account}",
          "kms:ViaService": "s3.{region}.amazonaws.com"
        }}
      }}
    }}
  ]
}}"#
    );
    Policy::parse(
        "key policy of the AWS managed key aws/s3 (documented, not editable)",
        PolicyKind::KeyPolicy,
        &text,
    )
    .unwrap_or_else(|e| unreachable!("documented policy is valid: {e}"))
}

/// The KMS checks of the upload (empty when it does not use SSE-KMS).
pub(crate) fn checks(
    req: &UploadRequest,
    ev: &Evidence,
    principal: &RequestPrincipal,
    ctx: &RequestContext,
) -> Vec<Check> {
    let choice = key_choice(req, ev);
    let mut actions = vec![(
        "kms:GenerateDataKey",
        "S3 asks KMS for a data key to encrypt the object".to_owned(),
    )];
    if req.operation == Operation::Multipart {
        actions.push((
            "kms:Decrypt",
            "each UploadPart decrypts the upload's data key".to_owned(),
        ));
    }
    match choice {
        KeyChoice::None => Vec::new(),
        KeyChoice::Unknown => actions
            .into_iter()
            .map(|(a, r)| {
                unknown_check(
                    req,
                    principal,
                    ctx,
                    a,
                    r,
                    &ev.bucket.encryption,
                    "bucket default encryption",
                )
            })
            .collect(),
        KeyChoice::Kms {
            key, from_header, ..
        } => {
            // A key that does not exist; not the AWS managed key `aws/s3`, which S3 creates on
            // its first SSE-KMS upload in the Region (S3 User Guide, Using server-side
            // encryption with AWS KMS keys), nor a key ARN of another Region (below).
            if matches!(ev.kms_key, Slot::Absent)
                && let Some(what) = key.clone()
                && other_region_by_arn(req, ev, Some(&what)).is_none()
            {
                return actions
                    .into_iter()
                    .map(|(a, r)| not_found_check(req, principal, ctx, a, r, &what))
                    .collect();
            }
            let what = format!("KMS key {}", key.as_deref().unwrap_or("aws/s3"));
            let managed;
            let mut described = ev.kms_key.get().filter(|k| key_matches(key.as_deref(), k));
            if described.is_none() && key.is_none() {
                // The AWS managed key `aws/s3` is documented: it belongs to the bucket owner,
                // lives in the bucket's Region, and its policy cannot be changed.
                managed = aws_managed_key(req, ev);
                described = managed.as_ref();
            }
            // A key or alias ARN names its Region: in another Region than the bucket's, S3
            // cannot use it, whatever describe-key would say.
            if described.is_none()
                && let Some(block) = other_region_by_arn(req, ev, key.as_deref())
            {
                return actions
                    .into_iter()
                    .map(|(a, r)| blocked_check(principal, ctx, a, r, key.as_deref(), &block))
                    .collect();
            }
            let Some(k) = described else {
                // The evidence describes no key, or another key than the one the upload uses
                // (a fix that switches keys): what this key allows is unknown.
                let slot: Slot<()> = match &ev.kms_key {
                    Slot::Collected(_) => Slot::missing(
                        format!(
                            "the evidence describes another key than `{}`",
                            key.as_deref().unwrap_or("aws/s3")
                        ),
                        &["kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListGrants"],
                    ),
                    Slot::Unavailable(u) => Slot::Unavailable(u.clone()),
                    _ => Slot::missing("not provided", &["kms:DescribeKey"]),
                };
                return actions
                    .into_iter()
                    .map(|(a, r)| unknown_check(req, principal, ctx, a, r, &slot, &what))
                    .collect();
            };
            let _ = from_header;
            actions
                .into_iter()
                .map(|(a, r)| key_check(req, ev, principal, ctx, k, key.as_deref(), a, r))
                .collect()
        }
    }
}

fn unknown_check<T>(
    req: &UploadRequest,
    principal: &RequestPrincipal,
    ctx: &RequestContext,
    action: &str,
    reason: String,
    slot: &Slot<T>,
    what: &str,
) -> Check {
    let mut missing = Vec::new();
    if !note_missing(&mut missing, EvidenceKind::KmsKey, what, slot) {
        missing.push(Missing {
            kind: EvidenceKind::KmsKey,
            what: what.to_owned(),
            unavailable: Unavailable {
                reason: "not provided".into(),
                needs: vec!["kms:DescribeKey".into()],
            },
        });
    }
    let request = Request::new(principal.clone(), action, "*", ctx.clone());
    let set = PolicySet::default();
    let eval = set.evaluate(&request);
    Check {
        kind: CheckKind::Kms,
        action: action.to_owned(),
        reason: format!("{reason}, if the upload uses SSE-KMS ({})", req.bucket),
        set,
        request,
        eval,
        worst: Some(Decision::ImplicitlyDenied),
        synthetic: Vec::new(),
        missing,
        blocks: Vec::new(),
        kms_grant: None,
        outcome: CheckOutcome::Indeterminate,
        resource_policy: super::ResourcePolicy::KeyPolicy,
        bucket_side: None,
    }
}

/// The AWS managed key `aws/s3` of the bucket owner in the bucket's Region, as AWS documents it.
fn aws_managed_key(req: &UploadRequest, ev: &Evidence) -> Option<KmsKey> {
    let account = ev.bucket.owner_account.get()?.clone();
    let region = super::derive::region_of(req, ev)?;
    Some(KmsKey {
        arn: format!("arn:aws:kms:{region}:{account}:alias/aws/s3"),
        key_id: "alias/aws/s3".into(),
        account,
        region,
        state: "Enabled".into(),
        manager: "AWS".into(),
        spec: "SYMMETRIC_DEFAULT".into(),
        usage: "ENCRYPT_DECRYPT".into(),
        policy: Slot::NotApplicable,
        grants: Slot::Collected(Vec::new()),
    })
}

/// Whether the described key is the one configured (by id, ARN, or the AWS managed key). An
/// alias name cannot be resolved from the evidence and is taken to name the described key; an
/// alias ARN names a key of its own account and Region.
fn key_matches(configured: Option<&str>, k: &KmsKey) -> bool {
    match configured {
        None => k.manager == "AWS",
        Some(id) => {
            if id == k.arn || id == k.key_id {
                return true;
            }
            if k.manager == "AWS" && (id == "alias/aws/s3" || id.ends_with(":alias/aws/s3")) {
                return true;
            }
            if id.starts_with("alias/") {
                return true;
            }
            match crate::pattern::split_arn(id) {
                Some([_, _, "kms", region, account, resource])
                    if resource.starts_with("alias/") =>
                {
                    region == k.region && account == k.account
                }
                _ => false,
            }
        }
    }
}

/// Whether a configured key reference is resolved in the caller's account: a key id or an
/// alias name (`alias/...`), as opposed to a key ARN or alias ARN (AWS KMS resolves key ids and
/// alias names in the account of the principal that calls KMS; S3 calls KMS as the uploader).
pub fn resolved_in_caller_account(configured: &str) -> bool {
    !configured.starts_with("arn:")
}

/// The Region a key or alias ARN names, when it is not the bucket's.
fn other_region_by_arn(
    req: &UploadRequest,
    ev: &Evidence,
    configured: Option<&str>,
) -> Option<Block> {
    let [_, _, "kms", key_region, _, _] = crate::pattern::split_arn(configured?)? else {
        return None;
    };
    let region = super::derive::region_of(req, ev)?;
    (region != key_region).then(|| other_region_block(key_region, &region))
}

fn other_region_block(key_region: &str, bucket_region: &str) -> Block {
    Block {
        code: BlockCode::KmsKeyOtherRegion,
        status: 400,
        aws_code: "KMS.NotFoundException",
        message: format!("the KMS key is in `{key_region}` but the bucket is in `{bucket_region}`"),
    }
}

/// A check refused by a block that does not depend on the key's description.
fn blocked_check(
    principal: &RequestPrincipal,
    ctx: &RequestContext,
    action: &str,
    reason: String,
    key: Option<&str>,
    block: &Block,
) -> Check {
    let request = Request::new(principal.clone(), action, key.unwrap_or("*"), ctx.clone());
    let set = PolicySet::default();
    let eval = set.evaluate(&request);
    Check {
        kind: CheckKind::Kms,
        action: action.to_owned(),
        reason,
        set,
        request,
        eval,
        worst: None,
        synthetic: Vec::new(),
        missing: Vec::new(),
        blocks: vec![block.clone()],
        kms_grant: None,
        outcome: CheckOutcome::Denied,
        resource_policy: super::ResourcePolicy::KeyPolicy,
        bucket_side: None,
    }
}

/// A check for a key that does not exist (in the bucket's Region and account).
fn not_found_check(
    req: &UploadRequest,
    principal: &RequestPrincipal,
    ctx: &RequestContext,
    action: &str,
    reason: String,
    key: &str,
) -> Check {
    let request = Request::new(principal.clone(), action, key, ctx.clone());
    let set = PolicySet::default();
    let eval = set.evaluate(&request);
    let _ = req;
    Check {
        kind: CheckKind::Kms,
        action: action.to_owned(),
        reason,
        set,
        request,
        eval,
        worst: None,
        synthetic: Vec::new(),
        missing: Vec::new(),
        blocks: vec![Block {
            code: BlockCode::KmsKeyNotFound,
            status: 400,
            aws_code: "KMS.NotFoundException",
            message: format!("the KMS key `{key}` does not exist in the bucket's Region"),
        }],
        kms_grant: None,
        outcome: CheckOutcome::Denied,
        resource_policy: super::ResourcePolicy::KeyPolicy,
        bucket_side: None,
    }
}

/// Whether S3 uses an S3 Bucket Key for the upload: the request's
/// `x-amz-server-side-encryption-bucket-key-enabled` header when sent, else the bucket's
/// default encryption setting (S3 User Guide, "Configuring an S3 Bucket Key at the object
/// level"); never for DSSE-KMS, which has no Bucket Keys.
pub fn uses_bucket_key(req: &UploadRequest, ev: &Evidence) -> bool {
    let dsse = match req.header("x-amz-server-side-encryption") {
        Some(alg) => alg == "aws:kms:dsse",
        None => ev
            .bucket
            .encryption
            .get()
            .is_some_and(|e| e.algorithm == "aws:kms:dsse"),
    };
    if dsse {
        return false;
    }
    match req.header("x-amz-server-side-encryption-bucket-key-enabled") {
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        _ => ev
            .bucket
            .encryption
            .get()
            .is_some_and(|e| e.bucket_key_enabled),
    }
}

/// Whether S3's use of a Bucket Key is unknown: an SSE-KMS request that does not send
/// `x-amz-server-side-encryption-bucket-key-enabled` to a bucket whose default encryption could
/// not be read.
pub fn bucket_key_unknown(req: &UploadRequest, ev: &Evidence) -> bool {
    req.header("x-amz-server-side-encryption") == Some("aws:kms")
        && req
            .header("x-amz-server-side-encryption-bucket-key-enabled")
            .is_none()
        && matches!(ev.bucket.encryption, Slot::Unavailable(_))
}

/// The encryption context pairs of `x-amz-server-side-encryption-context`, when it is base64
/// of a JSON object of strings.
fn request_encryption_context(req: &UploadRequest) -> Vec<(String, String)> {
    use base64::Engine as _;
    let Some(h) = req.header("x-amz-server-side-encryption-context") else {
        return Vec::new();
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(h.trim()) else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(&bytes)
    else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
        .collect()
}

/// The request context of S3's call to KMS, which S3 makes with the caller's credentials in a
/// forward access session: the caller's keys, S3's own network and service keys, the key as
/// the resource, and the encryption context S3 sends (the object ARN, or the bucket ARN with
/// an S3 Bucket Key, and the request's own pairs). docs/condition-keys.md lists each key.
fn kms_context(
    req: &UploadRequest,
    ev: &Evidence,
    ctx: &RequestContext,
    principal: &RequestPrincipal,
    key: &KmsKey,
    configured: Option<&str>,
) -> RequestContext {
    let mut c = ctx.clone();
    // S3 calls KMS from its own network: the caller's address and endpoint do not reach KMS.
    for k in [
        "aws:SourceIp",
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:VpcSourceIp",
    ] {
        c.remove(k);
    }
    for k in ctx
        .iter()
        .map(|v| v.name.clone())
        .filter(|k| k.to_ascii_lowercase().starts_with("s3:"))
        .collect::<Vec<_>>()
    {
        c.remove(&k);
    }
    // S3 calls KMS with a forward access session: `aws:ViaAWSService` is true and the
    // `aws:CalledVia*` keys name S3.
    c.set("aws:ViaAWSService", "true");
    c.insert("aws:CalledVia", vec!["s3.amazonaws.com".into()], true);
    c.set("aws:CalledViaFirst", "s3.amazonaws.com");
    c.set("aws:CalledViaLast", "s3.amazonaws.com");
    // A service re-using long-term credentials calls with temporary ones, which carry
    // `aws:MultiFactorAuthPresent` = false.
    if matches!(principal, RequestPrincipal::Aws(_))
        && c.get("aws:MultiFactorAuthPresent").is_none()
    {
        c.set("aws:MultiFactorAuthPresent", "false");
    }
    // The resource is the key: its account and organization, not the bucket's.
    c.set("aws:ResourceAccount", key.account.clone());
    c.remove("aws:ResourceOrgID");
    c.remove("aws:ResourceOrgPaths");
    if let Some(Slot::Collected(org)) =
        super::derive::resource_org(ev, Some(&key.account), principal)
    {
        c.set("aws:ResourceOrgID", org.id.clone());
        if let Some(path) = super::derive::org_path(org) {
            c.insert("aws:ResourceOrgPaths", vec![path], true);
        }
    }
    // Properties of the key the operation uses.
    c.set("kms:KeySpec", key.spec.clone());
    c.set("kms:KeyUsage", key.usage.clone());
    if let Some(region) = super::derive::region_of(req, ev) {
        c.set("kms:ViaService", format!("s3.{region}.amazonaws.com"));
    }
    if let Some(acct) = principal.account() {
        c.set("kms:CallerAccount", acct);
    }
    // `kms:RequestAlias`: the alias the request named, when it named the key by alias.
    match configured {
        Some(a) if a.starts_with("alias/") => c.set("kms:RequestAlias", a),
        Some(a) => match crate::pattern::split_arn(a) {
            Some([_, _, "kms", _, _, res]) if res.starts_with("alias/") => {
                c.set("kms:RequestAlias", res)
            }
            _ => {}
        },
        None => {}
    }
    let arn = if uses_bucket_key(req, ev) {
        req.bucket_arn()
    } else {
        req.object_arn()
    };
    c.set("kms:EncryptionContext:aws:s3:arn", arn);
    // Pairs the request adds with `x-amz-server-side-encryption-context` (base64 of a JSON
    // object); S3 sets `aws:s3:arn` itself.
    let mut keys = vec!["aws:s3:arn".to_owned()];
    for (k, v) in request_encryption_context(req) {
        if k != "aws:s3:arn" {
            c.set(&format!("kms:EncryptionContext:{k}"), v);
            keys.push(k);
        }
    }
    c.insert("kms:EncryptionContextKeys", keys, true);
    c.set("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
    c
}

#[expect(
    clippy::too_many_arguments,
    reason = "one check needs the request, evidence, caller, context, key, its reference and the action"
)]
fn key_check(
    req: &UploadRequest,
    ev: &Evidence,
    principal: &RequestPrincipal,
    ctx: &RequestContext,
    key: &KmsKey,
    configured: Option<&str>,
    action: &str,
    reason: String,
) -> Check {
    let CallerLayers {
        mut best,
        mut worst,
        mut synthetic,
        mut missing,
    } = caller_layers(ev, principal);
    let aws_managed = key.manager == "AWS";
    match &key.policy {
        Slot::Collected(p) => {
            best.resource = Some(p.clone());
            worst.resource = Some(p.clone());
        }
        _ if aws_managed => {
            let p = aws_managed_key_policy(&key.account, &key.region);
            best.resource = Some(p.clone());
            worst.resource = Some(p);
        }
        slot => {
            note_missing(
                &mut missing,
                EvidenceKind::KmsKeyPolicy,
                "KMS key policy",
                slot,
            );
            let who = principal.arn().unwrap_or_default();
            best.resource = Some(stand_in(
                PolicyKind::KeyPolicy,
                Stance::Best,
                who,
                "KMS key policy",
            ));
            worst.resource = Some(stand_in(
                PolicyKind::KeyPolicy,
                Stance::Worst,
                "",
                "KMS key policy",
            ));
            synthetic.push((Layer::Resource, 0));
        }
    }
    // RCPs do not apply to AWS managed keys.
    if !aws_managed {
        rcp_levels(
            ev,
            Some(&key.account),
            principal.account(),
            &mut best,
            &mut worst,
            &mut synthetic,
            &mut missing,
        );
    }
    let kctx = kms_context(req, ev, ctx, principal, key, configured);
    let mut request = Request::new(principal.clone(), action, &key.arn, kctx);
    request.resource_account = Some(key.account.clone());
    let blocks = key_blocks(req, ev, principal, key, configured);
    let worst = (!synthetic.is_empty()).then_some(worst);
    let grant_rescue = |e: &Evaluation| grant_allows(ev, principal, key, action, &request, e);
    let (eval, worst_decision, kms_grant, outcome) =
        settle(best.clone(), worst.clone(), &request, &blocks, grant_rescue);
    // Whether S3 sends the object or the bucket ARN as encryption context is unknown when the
    // Bucket Key setting is: a verdict that depends on it is open.
    let outcome = if outcome != CheckOutcome::Indeterminate
        && blocks.is_empty()
        && bucket_key_unknown(req, ev)
    {
        let mut alt = request.clone();
        let other = if uses_bucket_key(req, ev) {
            req.object_arn()
        } else {
            req.bucket_arn()
        };
        alt.context.set("kms:EncryptionContext:aws:s3:arn", other);
        let alt_rescue = |e: &Evaluation| grant_allows(ev, principal, key, action, &alt, e);
        let (_, _, _, alt_outcome) = settle(best.clone(), worst.clone(), &alt, &blocks, alt_rescue);
        if alt_outcome == outcome {
            outcome
        } else {
            note_missing(
                &mut missing,
                EvidenceKind::BucketEncryption,
                "bucket default encryption (whether S3 uses a Bucket Key)",
                &ev.bucket.encryption,
            );
            CheckOutcome::Indeterminate
        }
    } else {
        outcome
    };
    // Condition keys whose value the evidence leaves open (an unread organization...).
    let open = super::unknown::unknowns(
        req,
        ev,
        principal,
        Some(&key.account),
        &ev.bucket.owner_account,
        false,
    );
    let rescue = |r: &Request, e: &Evaluation| grant_allows(ev, principal, key, action, r, e);
    let outcome = super::unknown::settle_unknown(
        &open,
        &best,
        worst.as_ref(),
        &request,
        &blocks,
        &rescue,
        outcome,
        &mut missing,
    );
    if !key.grants.is_known() && outcome != CheckOutcome::Allowed {
        note_missing(
            &mut missing,
            EvidenceKind::KmsGrants,
            "KMS grants",
            &key.grants,
        );
    }
    let outcome = if outcome == CheckOutcome::Denied
        && blocks.is_empty()
        && !key.grants.is_known()
        && kms_grant.is_none()
        && eval.decision == Decision::ImplicitlyDenied
    {
        // An unread grant could still allow it.
        CheckOutcome::Indeterminate
    } else {
        outcome
    };
    Check {
        kind: CheckKind::Kms,
        action: action.to_owned(),
        reason,
        set: best,
        request,
        eval,
        worst: worst_decision,
        synthetic,
        missing,
        blocks,
        kms_grant,
        outcome,
        resource_policy: super::ResourcePolicy::KeyPolicy,
        bucket_side: None,
    }
}

/// A grant for the caller that covers the operation (grants never override a deny, an SCP or
/// an RCP).
fn grant_allows(
    ev: &Evidence,
    principal: &RequestPrincipal,
    key: &KmsKey,
    action: &str,
    request: &Request,
    e: &Evaluation,
) -> Option<String> {
    if e.blocked_by
        .iter()
        .any(|b| !matches!(b.layer, Layer::Resource | Layer::Identity))
    {
        return None;
    }
    let op = action.strip_prefix("kms:")?;
    let arn = principal.arn();
    let role_arn = super::derive::principal_arn(principal, ev);
    let context_arn = request
        .context
        .get("kms:EncryptionContext:aws:s3:arn")
        .map(|v| v.values[0].clone());
    key.grants.get()?.iter().find_map(|g| {
        let names_caller = Some(g.grantee_principal.as_str()) == arn
            || Some(&g.grantee_principal) == role_arn.as_ref()
            || principal
                .account()
                .is_some_and(|a| g.grantee_principal == format!("arn:aws:iam::{a}:root"));
        let covers = g.operations.iter().any(|o| o == op);
        let ctx_ok = g
            .context_equals
            .iter()
            .all(|(k, v)| k == "aws:s3:arn" && Some(v) == context_arn.as_ref())
            && g.context_subset
                .iter()
                .all(|(k, v)| k == "aws:s3:arn" && Some(v) == context_arn.as_ref());
        (names_caller && covers && ctx_ok).then(|| {
            format!(
                "grant `{}`",
                g.name.clone().unwrap_or_else(|| g.grant_id.clone())
            )
        })
    })
}

/// KMS refusals outside policies: key state, key type, Region, AWS managed key across accounts.
fn key_blocks(
    req: &UploadRequest,
    ev: &Evidence,
    principal: &RequestPrincipal,
    key: &KmsKey,
    configured: Option<&str>,
) -> Vec<Block> {
    let mut out = Vec::new();
    // A key id or alias name is looked up in the caller's account: a key of another account
    // is not found that way (or another key of the caller's account, with the same alias, is
    // used instead).
    if let (Some(reference), Some(caller)) = (configured, principal.account())
        && key.manager != "AWS"
        && resolved_in_caller_account(reference)
        && caller != key.account
    {
        out.push(Block {
            code: BlockCode::KmsKeyOtherAccountByReference,
            status: 400,
            aws_code: "KMS.NotFoundException",
            message: format!(
                "`{reference}` is looked up in the caller's account `{caller}`, but the key is in `{}`",
                key.account
            ),
        });
    }
    match key.state.as_str() {
        "Enabled" => {}
        "Disabled" => out.push(Block {
            code: BlockCode::KmsKeyDisabled,
            status: 400,
            aws_code: "KMS.DisabledException",
            message: format!("the KMS key `{}` is disabled", key.arn),
        }),
        "PendingDeletion" | "PendingReplicaDeletion" => out.push(Block {
            code: BlockCode::KmsKeyPendingDeletion,
            status: 400,
            aws_code: "KMS.KMSInvalidStateException",
            message: format!("the KMS key `{}` is pending deletion", key.arn),
        }),
        other => out.push(Block {
            code: BlockCode::KmsKeyInvalidState,
            status: 400,
            aws_code: "KMS.KMSInvalidStateException",
            message: format!("the KMS key `{}` is in state `{other}`", key.arn),
        }),
    }
    if key.spec != "SYMMETRIC_DEFAULT" || key.usage != "ENCRYPT_DECRYPT" {
        out.push(Block {
            code: BlockCode::KmsKeyNotSymmetric,
            status: 400,
            aws_code: "KMS.InvalidKeyUsageException",
            message: format!(
                "the KMS key `{}` is `{}` for `{}`; S3 supports only symmetric encryption keys",
                key.arn, key.spec, key.usage
            ),
        });
    }
    if let Some(region) = super::derive::region_of(req, ev)
        && region != key.region
    {
        out.push(other_region_block(&key.region, &region));
    }
    if key.manager == "AWS" && principal.account().is_some_and(|a| a != key.account) {
        out.push(Block {
            code: BlockCode::KmsAwsManagedKeyCrossAccount,
            status: 403,
            aws_code: "AccessDenied",
            message:
                "the AWS managed key `aws/s3` can only be used by principals of its own account"
                    .into(),
        });
    }
    out
}
