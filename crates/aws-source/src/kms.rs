//! The KMS key the upload would use, chosen as S3 chooses it (the request's headers, else the
//! bucket's default encryption, else the AWS managed key `aws/s3`), and its `DescribeKey`, key
//! policy (`GetKeyPolicy`, policy name `default`) and grants (`ListGrants`, every page). With a
//! key id or key ARN the three reads go out together; an alias needs `DescribeKey` first.

use why403_core::evidence::{Encryption, KmsGrant, KmsKey, Slot, Unavailable};
use why403_core::pattern::split_arn;
use why403_core::upload::UploadRequest;
use why403_core::{Policy, PolicyKind};

use crate::call::{Api, Failure, Read, Tracker, slot};
use crate::config::Clients;

const DESCRIBE_KEY: Api = Api::new("kms", "DescribeKey", "kms:DescribeKey");
const GET_KEY_POLICY: Api = Api::new("kms", "GetKeyPolicy", "kms:GetKeyPolicy");
const LIST_GRANTS: Api = Api::new("kms", "ListGrants", "kms:ListGrants");

/// The AWS managed key S3 uses for SSE-KMS without a key id.
const AWS_S3_ALIAS: &str = "alias/aws/s3";

/// Whether and which KMS key the upload uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyUse {
    /// No KMS key.
    None,
    /// A KMS key: the configured id, ARN or alias, or `None` for `aws/s3`.
    Kms(Option<String>),
    /// Depends on default encryption, which could not be read.
    Unknown(Unavailable),
}

/// The key as the request's headers decide it, or `None` when the bucket's default encryption
/// decides.
pub(crate) fn from_headers(req: &UploadRequest) -> Option<KeyUse> {
    if req
        .header("x-amz-server-side-encryption-customer-algorithm")
        .is_some()
    {
        return Some(KeyUse::None);
    }
    match req.header("x-amz-server-side-encryption") {
        Some("aws:kms" | "aws:kms:dsse") => Some(KeyUse::Kms(
            req.header("x-amz-server-side-encryption-aws-kms-key-id")
                .map(str::to_owned),
        )),
        Some(_) => Some(KeyUse::None),
        None => None,
    }
}

/// The key as the bucket's default encryption decides it.
pub(crate) fn from_default(enc: &Slot<Encryption>) -> KeyUse {
    match enc {
        Slot::Collected(e) if e.algorithm.starts_with("aws:kms") => {
            KeyUse::Kms(e.kms_key_id.clone())
        }
        Slot::Collected(_) | Slot::Absent | Slot::NotApplicable => KeyUse::None,
        Slot::Unavailable(u) => KeyUse::Unknown(Unavailable {
            reason: format!(
                "whether the upload uses a KMS key depends on the bucket's default encryption: {}",
                u.reason
            ),
            needs: {
                let mut n = u.needs.clone();
                n.push(DESCRIBE_KEY.action.to_owned());
                n
            },
        }),
    }
}

/// Whether KMS accepts the value in `GetKeyPolicy` and `ListGrants` (a key id or key ARN, not
/// an alias).
fn is_key_id(key: &str) -> bool {
    if key.starts_with("arn:") {
        return key.contains(":key/");
    }
    !key.starts_with("alias/")
}

/// The Region the key is read in: the one its ARN names, else the bucket's.
pub(crate) fn region<'a>(
    configured: Option<&'a str>,
    bucket_region: Option<&'a str>,
) -> Option<&'a str> {
    let key = configured.unwrap_or(AWS_S3_ALIAS);
    split_arn(key).map(|p| p[3]).or(bucket_region)
}

/// Reads the key. `bucket_region` is where S3 looks the key up unless its ARN names another.
pub(crate) async fn read(
    tr: &Tracker<'_>,
    c: &Clients,
    used: KeyUse,
    bucket_region: Option<&str>,
    round: u32,
) -> Slot<KmsKey> {
    let configured = match used {
        KeyUse::None => return Slot::NotApplicable,
        KeyUse::Unknown(u) => return Slot::Unavailable(u),
        KeyUse::Kms(k) => k,
    };
    let key = configured.as_deref().unwrap_or(AWS_S3_ALIAS);
    let kms = match region(configured.as_deref(), bucket_region) {
        Some(r) => c.kms_in(r),
        None => c.kms.clone(),
    };
    let kms = &kms;
    let describe = async {
        let out = tr
            .call(
                round,
                DESCRIBE_KEY,
                &["NotFoundException"],
                kms.describe_key().key_id(key).send(),
            )
            .await?;
        describe_key(out.key_metadata())
    };
    let (described, policy, grants) = if is_key_id(key) {
        tokio::join!(
            describe,
            key_policy(tr, kms, key, round),
            grants(tr, kms, key, round)
        )
    } else {
        let d = describe.await;
        match &d {
            Ok(k) => {
                let arn = k.arn.clone();
                let (p, g) = tokio::join!(
                    key_policy(tr, kms, &arn, round + 1),
                    grants(tr, kms, &arn, round + 1)
                );
                (d, p, g)
            }
            Err(_) => (d, Err(not_read()), Err(not_read())),
        }
    };
    match described {
        Ok(mut k) => {
            let name = format!("key policy of {}", k.arn);
            k.policy = slot(policy.and_then(|text| {
                Policy::parse(&name, PolicyKind::KeyPolicy, &text).map_err(|e| {
                    Failure::invalid(
                        GET_KEY_POLICY,
                        format!("a key policy that does not parse: {e}"),
                    )
                })
            }));
            k.grants = slot(grants);
            Slot::Collected(k)
        }
        Err(f) if configured.is_none() && f.code.as_deref() == Some("NotFoundException") => {
            Slot::Unavailable(Unavailable {
                reason: "the AWS managed key `aws/s3` does not exist yet in this Region; S3 \
                         creates it on the first SSE-KMS upload"
                    .to_owned(),
                needs: vec![DESCRIBE_KEY.action.to_owned()],
            })
        }
        Err(f) => f.slot(),
    }
}

/// A placeholder failure for reads skipped because `DescribeKey` failed (never shown: the
/// key itself is then unavailable).
fn not_read() -> Failure {
    Failure::invalid(DESCRIBE_KEY, "no key")
}

fn describe_key(m: Option<&aws_sdk_kms::types::KeyMetadata>) -> Read<KmsKey> {
    let Some(m) = m else {
        return Err(Failure::invalid(DESCRIBE_KEY, "no `KeyMetadata`"));
    };
    let Some(arn) = m.arn() else {
        return Err(Failure::invalid(DESCRIBE_KEY, "a key without `Arn`"));
    };
    let Some([_, _, "kms", region, arn_account, _]) = split_arn(arn) else {
        return Err(Failure::invalid(
            DESCRIBE_KEY,
            format!("`{arn}`, which is not a KMS key ARN"),
        ));
    };
    let spec = m
        .key_spec()
        .map(|s| s.as_str())
        .or_else(|| {
            #[expect(deprecated, reason = "older keys report only the deprecated field")]
            m.customer_master_key_spec().map(|s| s.as_str())
        })
        .unwrap_or("SYMMETRIC_DEFAULT");
    Ok(KmsKey {
        arn: arn.to_owned(),
        key_id: m.key_id().to_owned(),
        account: m.aws_account_id().unwrap_or(arn_account).to_owned(),
        region: region.to_owned(),
        state: m.key_state().map_or("Enabled", |s| s.as_str()).to_owned(),
        manager: m
            .key_manager()
            .map_or("CUSTOMER", |s| s.as_str())
            .to_owned(),
        spec: spec.to_owned(),
        usage: m
            .key_usage()
            .map_or("ENCRYPT_DECRYPT", |s| s.as_str())
            .to_owned(),
        policy: Slot::missing("not read", &[GET_KEY_POLICY.action]),
        grants: Slot::missing("not read", &[LIST_GRANTS.action]),
    })
}

async fn key_policy(
    tr: &Tracker<'_>,
    kms: &aws_sdk_kms::Client,
    key: &str,
    round: u32,
) -> Read<String> {
    let out = tr
        .call(
            round,
            GET_KEY_POLICY,
            &[],
            // Without the policy name moto answers NotFoundException; AWS defaults it.
            kms.get_key_policy()
                .key_id(key)
                .policy_name("default")
                .send(),
        )
        .await?;
    out.policy()
        .map(str::to_owned)
        .ok_or_else(|| Failure::invalid(GET_KEY_POLICY, "no `Policy`"))
}

/// Every page of the key's grants.
async fn grants(
    tr: &Tracker<'_>,
    kms: &aws_sdk_kms::Client,
    key: &str,
    round: u32,
) -> Read<Vec<KmsGrant>> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    let mut r = round;
    loop {
        let page = tr
            .call(
                r,
                LIST_GRANTS,
                &[],
                kms.list_grants()
                    .key_id(key)
                    .set_marker(marker.take())
                    .send(),
            )
            .await?;
        for g in page.grants() {
            out.push(grant(g)?);
        }
        match page.next_marker().filter(|_| page.truncated()) {
            Some(m) => {
                marker = Some(m.to_owned());
                r += 1;
            }
            None => return Ok(out),
        }
    }
}

fn grant(g: &aws_sdk_kms::types::GrantListEntry) -> Read<KmsGrant> {
    let (Some(id), Some(grantee)) = (g.grant_id(), g.grantee_principal()) else {
        return Err(Failure::invalid(
            LIST_GRANTS,
            "a grant without `GrantId` or `GranteePrincipal`",
        ));
    };
    let map = |m: Option<&std::collections::HashMap<String, String>>| {
        m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let c = g.constraints();
    Ok(KmsGrant {
        grant_id: id.to_owned(),
        name: g.name().filter(|n| !n.is_empty()).map(str::to_owned),
        grantee_principal: grantee.to_owned(),
        operations: g
            .operations()
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect(),
        context_equals: map(c.and_then(|c| c.encryption_context_equals())),
        context_subset: map(c.and_then(|c| c.encryption_context_subset())),
    })
}
