//! The KMS key the upload would use: which key (request header, else the bucket's default
//! encryption, else the AWS managed key `aws/s3`), and its `describe-key`, key policy and
//! grants.

use std::collections::BTreeMap;

use why403_core::evidence::{Encryption, KmsGrant, KmsKey, Slot, Unavailable};
use why403_core::pattern::split_arn;
use why403_core::upload::UploadRequest;
use why403_core::{Policy, PolicyKind};

use crate::bucket::is_document;
use crate::read::{Absence, Obj, R, Reader, Section, Val};

pub(crate) const KEY_NEEDS: &[&str] = &["kms:DescribeKey"];
pub(crate) const POLICY_NEEDS: &[&str] = &["kms:GetKeyPolicy"];
pub(crate) const GRANTS_NEEDS: &[&str] = &["kms:ListGrants"];

/// Whether and which KMS key the upload uses.
#[derive(Debug)]
pub(crate) enum KeyUse {
    /// No KMS key; the text says why.
    None(String),
    /// A KMS key: the configured id, ARN or alias, or `None` for the AWS managed key
    /// `aws/s3`; `from` names where it was configured.
    Kms {
        key: Option<String>,
        from: &'static str,
    },
    /// Depends on default encryption, which is unknown.
    Unknown,
}

/// Decides the key as S3 does: the request's `x-amz-server-side-encryption` wins over the
/// bucket's default; SSE-KMS without a key id uses `aws/s3` (not the bucket's default key).
pub(crate) fn key_use(req: &UploadRequest, default: &Slot<Encryption>) -> KeyUse {
    if req
        .header("x-amz-server-side-encryption-customer-algorithm")
        .is_some()
    {
        return KeyUse::None("the request uses SSE-C".to_owned());
    }
    match req.header("x-amz-server-side-encryption") {
        Some("aws:kms" | "aws:kms:dsse") => KeyUse::Kms {
            key: req
                .header("x-amz-server-side-encryption-aws-kms-key-id")
                .map(str::to_owned),
            from: "the `x-amz-server-side-encryption-aws-kms-key-id` header",
        },
        Some(other) => KeyUse::None(format!(
            "the request sends `x-amz-server-side-encryption: {other}`"
        )),
        None => match default {
            Slot::Collected(e) if e.algorithm.starts_with("aws:kms") => KeyUse::Kms {
                key: e.kms_key_id.clone(),
                from: "the bucket's default encryption",
            },
            Slot::Collected(e) => KeyUse::None(format!(
                "the bucket's default encryption is `{}`",
                e.algorithm
            )),
            Slot::Absent | Slot::NotApplicable => {
                KeyUse::None("the bucket has no default encryption".to_owned())
            }
            Slot::Unavailable(_) => KeyUse::Unknown,
        },
    }
}

/// The three KMS sections.
#[derive(Debug)]
pub(crate) struct KmsSections<'a> {
    pub key: Section<'a>,
    pub policy: Section<'a>,
    pub grants: Section<'a>,
}

pub(crate) fn read(r: &Reader<'_>, s: KmsSections<'_>, used: &KeyUse) -> R<Slot<KmsKey>> {
    if let KeyUse::None(why) = used {
        for (name, sec) in [
            ("kms_key", &s.key),
            ("kms_key_policy", &s.policy),
            ("kms_grants", &s.grants),
        ] {
            if let Some(v) = sec.val() {
                return Err(v.err(
                    r,
                    format!("`{name}` is given, but the upload uses no KMS key: {why}"),
                ));
            }
        }
        return Ok(Slot::NotApplicable);
    }
    let key_val = s.key.val().cloned();
    let mut slot = s.key.slot(r, "kms_key", KEY_NEEDS, Absence::Allowed, |v| {
        describe_key(r, &v)
    })?;
    if let (Slot::Collected(k), KeyUse::Kms { key, from }, Some(v)) = (&slot, used, &key_val) {
        check_same_key(r, v, k, key.as_deref(), from)?;
    }
    let Some(key) = slot.get_mut() else {
        for (name, sec) in [("kms_key_policy", &s.policy), ("kms_grants", &s.grants)] {
            if let Some(v) = sec.val() {
                return Err(v.err(
                    r,
                    format!("`{name}` needs `kms_key` (`aws kms describe-key`) to name its key"),
                ));
            }
        }
        return Ok(slot);
    };
    let name = format!("key policy of {}", key.arn);
    key.policy = s.policy.slot(
        r,
        "kms_key_policy",
        POLICY_NEEDS,
        Absence::Rejected("every KMS key has exactly one key policy"),
        |v| key_policy(r, v, &name),
    )?;
    key.grants = s
        .grants
        .slot(
            r,
            "kms_grants",
            GRANTS_NEEDS,
            Absence::Rejected(
                "`aws kms list-grants` returns `{\"Grants\": []}` for a key without grants",
            ),
            |v| grants(r, &v),
        )?
        .and_then_unavailable();
    Ok(slot)
}

/// `Collected(Err(u))` (a truncated grant list) becomes `Unavailable(u)`.
trait Flatten<T> {
    fn and_then_unavailable(self) -> Slot<T>;
}

impl<T> Flatten<T> for Slot<Result<T, Unavailable>> {
    fn and_then_unavailable(self) -> Slot<T> {
        match self {
            Slot::Collected(Ok(v)) => Slot::Collected(v),
            Slot::Collected(Err(u)) | Slot::Unavailable(u) => Slot::Unavailable(u),
            Slot::Absent => Slot::Absent,
            Slot::NotApplicable => Slot::NotApplicable,
        }
    }
}

/// `aws kms describe-key`. `KeySpec` defaults to `SYMMETRIC_DEFAULT` and `KeyUsage` to
/// `ENCRYPT_DECRYPT` (what S3 can use); the account and Region come from the ARN.
fn describe_key(r: &Reader<'_>, v: &Val<'_>) -> R<KmsKey> {
    let o = v.obj(r)?;
    o.only(r, &["KeyMetadata"])?;
    let m = o.req(r, "KeyMetadata")?.obj(r)?;
    let arn_v = m.req(r, "Arn")?;
    let arn = arn_v.str(r)?;
    let Some([_, _, "kms", region, arn_account, resource]) = split_arn(arn) else {
        return Err(arn_v.err(
            r,
            format!(
                "expected a KMS key ARN `arn:aws:kms:<region>:<account>:key/<id>`, found `{arn}`"
            ),
        ));
    };
    let Some(id_in_arn) = resource.strip_prefix("key/") else {
        return Err(arn_v.err(
            r,
            format!("expected a KMS key ARN (`...:key/<id>`), found `{arn}`"),
        ));
    };
    let key_id_v = m.req(r, "KeyId")?;
    let key_id = key_id_v.nonempty(r)?;
    if key_id != id_in_arn {
        return Err(key_id_v.err(r, format!("`{key_id}` is not the key id in `{arn}`")));
    }
    let account = match m.opt("AWSAccountId") {
        Some(a) => {
            let a_s = a.account(r)?;
            if a_s != arn_account {
                return Err(a.err(r, format!("`{a_s}` is not the account in `{arn}`")));
            }
            a_s.to_owned()
        }
        None => arn_account.to_owned(),
    };
    let manager_v = m.req(r, "KeyManager")?;
    let manager = manager_v.str(r)?;
    if !matches!(manager, "AWS" | "CUSTOMER") {
        return Err(manager_v.err(
            r,
            format!("unknown key manager `{manager}`; expected `AWS` or `CUSTOMER`"),
        ));
    }
    let spec = match m.opt_str(r, "KeySpec")? {
        Some(s) => s,
        None => m
            .opt_str(r, "CustomerMasterKeySpec")?
            .unwrap_or("SYMMETRIC_DEFAULT"),
    };
    Ok(KmsKey {
        arn: arn.to_owned(),
        key_id: key_id.to_owned(),
        account,
        region: region.to_owned(),
        state: m.req(r, "KeyState")?.nonempty(r)?.to_owned(),
        manager: manager.to_owned(),
        spec: spec.to_owned(),
        usage: m
            .opt_str(r, "KeyUsage")?
            .unwrap_or("ENCRYPT_DECRYPT")
            .to_owned(),
        policy: Slot::missing(crate::read::NOT_IN_SCENARIO, POLICY_NEEDS),
        grants: Slot::missing(crate::read::NOT_IN_SCENARIO, GRANTS_NEEDS),
    })
}

/// Rejects a `kms_key` that describes another key than the upload uses, where that can be
/// told without resolving aliases.
fn check_same_key(
    r: &Reader<'_>,
    v: &Val<'_>,
    k: &KmsKey,
    configured: Option<&str>,
    from: &str,
) -> R<()> {
    let mismatch = match configured {
        None | Some("alias/aws/s3") => (k.manager != "AWS")
            .then(|| "the AWS managed key `aws/s3` (SSE-KMS without a key id)".to_owned()),
        Some(c) if c.starts_with("alias/") || c.contains(":alias/") => None,
        Some(c) if c.starts_with("arn:") => (c != k.arn).then(|| format!("`{c}` ({from})")),
        Some(c) => (c != k.key_id).then(|| format!("`{c}` ({from})")),
    };
    match mismatch {
        Some(expected) => Err(v.err(
            r,
            format!(
                "`kms_key` describes `{}`, but the upload uses {expected}",
                k.arn
            ),
        )),
        None => Ok(()),
    }
}

/// `aws kms get-key-policy --policy-name default` (`{"Policy": "<JSON string>"}`), or the
/// document itself.
fn key_policy(r: &Reader<'_>, v: Val<'_>, name: &str) -> R<Policy> {
    if matches!(v.node.value, why403_core::json::Json::String(_)) || is_document(&v, r)? {
        return v.policy(r, name, PolicyKind::KeyPolicy);
    }
    let o = v.obj(r)?;
    o.only(r, &["Policy", "PolicyName"])?;
    o.req(r, "Policy")?.policy(r, name, PolicyKind::KeyPolicy)
}

/// `aws kms list-grants`. A truncated list is unavailable: a missing grant could be the one
/// that allows.
fn grants(r: &Reader<'_>, v: &Val<'_>) -> R<Result<Vec<KmsGrant>, Unavailable>> {
    let o = v.obj(r)?;
    o.only(r, &["Grants", "Truncated", "NextMarker"])?;
    let mut out = Vec::new();
    for g in o.req(r, "Grants")?.arr(r)? {
        out.push(grant(r, &g.obj(r)?)?);
    }
    if o.opt_bool(r, "Truncated")? == Some(true) {
        return Ok(Err(Unavailable {
            reason: "the grant list is truncated (`Truncated: true`); list every page".to_owned(),
            needs: GRANTS_NEEDS.iter().map(|s| (*s).to_owned()).collect(),
        }));
    }
    Ok(Ok(out))
}

fn grant(r: &Reader<'_>, g: &Obj<'_>) -> R<KmsGrant> {
    let map = |c: &Obj<'_>, key: &str| -> R<BTreeMap<String, String>> {
        let mut m = BTreeMap::new();
        if let Some(o) = c.opt_obj(r, key)? {
            for (k, v) in o.members() {
                m.insert(k.to_owned(), v.str(r)?.to_owned());
            }
        }
        Ok(m)
    };
    let (equals, subset) = match g.opt_obj(r, "Constraints")? {
        Some(c) => (
            map(&c, "EncryptionContextEquals")?,
            map(&c, "EncryptionContextSubset")?,
        ),
        None => Default::default(),
    };
    Ok(KmsGrant {
        grant_id: g.req(r, "GrantId")?.nonempty(r)?.to_owned(),
        name: g
            .opt_str(r, "Name")?
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        grantee_principal: g.req(r, "GranteePrincipal")?.nonempty(r)?.to_owned(),
        operations: g.req(r, "Operations")?.strings(r)?,
        context_equals: equals,
        context_subset: subset,
    })
}
