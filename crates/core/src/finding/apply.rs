//! Applies a structured [`Change`] to a copy of the request and evidence: policy documents are
//! edited as JSON and parsed again, so a fix is checked by the same evaluator as the problem.

use super::{Change, PolicyTarget};
use crate::evidence::{AclGrant, Evidence, Grantee, IdentityKind, KmsKey, PublicAccessLevel, Slot};
use crate::policy::{Policy, PolicyKind};
use crate::upload::UploadRequest;

/// A change that cannot be applied to this evidence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    #[error("the {0} is not known, so the change cannot be applied")]
    /// The evidence the change edits (named) could not be read.
    Unknown(&'static str),
    #[error("statement {0} does not exist")]
    /// The policy has no statement at this 0-based index.
    NoStatement(usize),
    #[error("the changed policy is invalid: {0}")]
    /// The edited policy does not parse; the parser's message.
    Invalid(String),
    /// AWS would refuse the change in this state, e.g. enabling a key pending deletion.
    #[error("{0}")]
    Refused(String),
}

pub(super) fn apply(
    c: &Change,
    req: &mut UploadRequest,
    ev: &mut Evidence,
) -> Result<(), ApplyError> {
    match c {
        Change::SetHeader { name, value } => {
            req.headers.insert(name.to_ascii_lowercase(), value.clone());
        }
        Change::RemoveHeader { name } => {
            req.headers.remove(&name.to_ascii_lowercase());
        }
        Change::SendFromVpc { vpc } => {
            let n = &mut req.network;
            n.vpc_endpoint = Some(format!("vpce-in-{vpc}"));
            n.vpc = Some(vpc.clone());
            n.vpc_source_ip = n.vpc_source_ip.take().or_else(|| Some("10.0.0.10".into()));
            n.source_ip = None;
            // The default endpoint policy allows everything: no endpoint policy layer.
            ev.vpc_endpoint_policy = Slot::NotApplicable;
            req.context.retain(|k, _| {
                ![
                    "aws:SourceVpc",
                    "aws:SourceVpce",
                    "aws:SourceIp",
                    "aws:VpcSourceIp",
                ]
                .iter()
                .any(|x| k.eq_ignore_ascii_case(x))
            });
        }
        Change::UseSessionMode { mode } => {
            req.session_mode = *mode;
            req.context
                .retain(|k, _| !k.eq_ignore_ascii_case("s3express:SessionMode"));
        }
        Change::UseHttps => {
            req.network.tls = true;
            req.context
                .retain(|k, _| !k.eq_ignore_ascii_case("aws:SecureTransport"));
        }
        Change::AddIdentityPolicy { name, document } => {
            let identity = ev
                .identity
                .get_mut()
                .ok_or(ApplyError::Unknown("caller's IAM identity"))?;
            let who = match identity.kind {
                IdentityKind::User => "user",
                IdentityKind::Role => "role",
            };
            let text = serde_json::to_string_pretty(document)
                .map_err(|e| ApplyError::Invalid(e.to_string()))?;
            let p = Policy::parse(
                &format!(
                    "inline policy {name} of {who} {} (added by the fix)",
                    identity.name
                ),
                PolicyKind::Identity,
                &text,
            )
            .map_err(|e| ApplyError::Invalid(e.to_string()))?;
            identity.policies.push(p);
        }
        Change::AddAclGrant {
            canonical_id,
            permission,
        } => {
            let acl = ev
                .bucket
                .acl
                .get_mut()
                .ok_or(ApplyError::Unknown("bucket ACL"))?;
            acl.grants.push(AclGrant {
                grantee: Grantee::CanonicalUser {
                    id: canonical_id.clone(),
                    display_name: None,
                },
                permission: *permission,
            });
        }
        Change::AttachScp {
            level,
            name,
            document,
        } => {
            let levels = ev
                .caller_org
                .get_mut()
                .and_then(|o| o.scps.get_mut())
                .ok_or(ApplyError::Unknown("organization's SCPs"))?;
            let l = levels
                .get_mut(*level)
                .ok_or(ApplyError::Unknown("organization level"))?;
            let text = serde_json::to_string_pretty(document)
                .map_err(|e| ApplyError::Invalid(e.to_string()))?;
            let p = Policy::parse(
                &format!("SCP {name} attached to {} (added by the fix)", l.target_id),
                PolicyKind::Scp,
                &text,
            )
            .map_err(|e| ApplyError::Invalid(e.to_string()))?;
            l.policies.push(p);
        }
        Change::EnableKmsKey => {
            let key = ev.kms_key.get_mut().ok_or(ApplyError::Unknown("KMS key"))?;
            match key.state.as_str() {
                // `EnableKey` on a key pending deletion fails with KMSInvalidStateException.
                "PendingDeletion" | "PendingReplicaDeletion" => {
                    return Err(ApplyError::Refused(format!(
                        "the KMS key `{}` is pending deletion: cancel the deletion before enabling it",
                        key.arn
                    )));
                }
                _ => key.state = "Enabled".into(),
            }
        }
        Change::RestoreKmsKey => {
            let key = ev.kms_key.get_mut().ok_or(ApplyError::Unknown("KMS key"))?;
            match key.state.as_str() {
                "Disabled" | "PendingDeletion" | "PendingReplicaDeletion" | "Enabled" => {
                    return Err(ApplyError::Refused(format!(
                        "the KMS key `{}` is `{}`: restoring key material or a key store does not change that",
                        key.arn, key.state
                    )));
                }
                _ => key.state = "Enabled".into(),
            }
        }
        Change::CancelKmsKeyDeletion => {
            let key = ev.kms_key.get_mut().ok_or(ApplyError::Unknown("KMS key"))?;
            if !matches!(
                key.state.as_str(),
                "PendingDeletion" | "PendingReplicaDeletion"
            ) {
                return Err(ApplyError::Refused(format!(
                    "the KMS key `{}` is not pending deletion",
                    key.arn
                )));
            }
            // `CancelKeyDeletion` leaves the key Disabled.
            key.state = "Disabled".into();
        }
        Change::UseKmsKey { arn, key_policy } => use_kms_key(req, ev, arn, key_policy.as_ref())?,
        Change::AttachRcp {
            level,
            name,
            document,
        } => {
            // The organization `PolicyTarget::Rcp` edits: the bucket owner's when read, else
            // the caller's (same-account buckets).
            let levels = match &mut ev.bucket_org {
                Slot::Collected(o) => Some(o),
                _ => ev.caller_org.get_mut(),
            }
            .and_then(|o| o.rcps.get_mut())
            .ok_or(ApplyError::Unknown("organization's RCPs"))?;
            let l = levels
                .get_mut(*level)
                .ok_or(ApplyError::Unknown("organization level"))?;
            let text = serde_json::to_string_pretty(document)
                .map_err(|e| ApplyError::Invalid(e.to_string()))?;
            let p = Policy::parse(
                &format!("RCP {name} attached to {} (added by the fix)", l.target_id),
                PolicyKind::Rcp,
                &text,
            )
            .map_err(|e| ApplyError::Invalid(e.to_string()))?;
            l.policies.push(p);
        }
        Change::SetPublicAccessBlock {
            level,
            setting,
            enabled,
        } => {
            // While the organization's S3 policy applies, the account's settings are its and
            // `PutPublicAccessBlock` on the account answers 403 (S3 API Reference,
            // PutPublicAccessBlock).
            if *level == PublicAccessLevel::Account
                && let Some(org) = ev.org_s3_policy.get()
            {
                return Err(ApplyError::Refused(format!(
                    "the account's Block Public Access is set by the organization's S3 policy (`{}`) and cannot be changed in the account",
                    org.as_str()
                )));
            }
            let slot = match level {
                PublicAccessLevel::Bucket => &mut ev.bucket.public_access_block,
                PublicAccessLevel::Account => &mut ev.account_public_access_block,
            };
            match slot {
                Slot::Collected(p) => p.set(*setting, *enabled),
                // No configuration at this level: every setting is off.
                Slot::Absent => {
                    if *enabled {
                        let mut p = crate::evidence::PublicAccessBlock::default();
                        p.set(*setting, true);
                        *slot = Slot::Collected(p);
                    }
                }
                Slot::Unavailable(_) | Slot::NotApplicable => {
                    return Err(ApplyError::Unknown(match level {
                        PublicAccessLevel::Bucket => "bucket's Block Public Access setting",
                        PublicAccessLevel::Account => "account's Block Public Access setting",
                    }));
                }
            }
        }
        Change::AddStatement { target, statement } => edit(ev, *target, |stmts| {
            stmts.push(statement.clone());
            Ok(())
        })?,
        Change::RemoveStatement { target, statement } => edit(ev, *target, |stmts| {
            if *statement >= stmts.len() {
                return Err(ApplyError::NoStatement(*statement));
            }
            stmts.remove(*statement);
            Ok(())
        })?,
        Change::ReplaceStatement {
            target,
            statement,
            with,
        } => edit(ev, *target, |stmts| {
            let slot = stmts
                .get_mut(*statement)
                .ok_or(ApplyError::NoStatement(*statement))?;
            *slot = with.clone();
            Ok(())
        })?,
        Change::SetSessionTag { key, value } => {
            // Only role and federated-user sessions carry session tags.
            let arn = req
                .principal
                .clone()
                .or_else(|| ev.caller.get().map(|c| c.arn.clone()))
                .unwrap_or_default();
            if !(arn.contains(":assumed-role/") || arn.contains(":federated-user/")) {
                return Err(ApplyError::Invalid(
                    "session tags exist only for role and federated-user sessions".into(),
                ));
            }
            req.session_tags.retain(|k, _| !k.eq_ignore_ascii_case(key));
            req.session_tags.insert(key.clone(), value.clone());
        }
        Change::SetPolicyVersion { target, version } => {
            if version != "2012-10-17" && version != "2008-10-17" {
                return Err(ApplyError::Invalid(format!(
                    "`Version` must be \"2012-10-17\" or \"2008-10-17\", not `{version}`"
                )));
            }
            edit_document(ev, *target, |obj| {
                obj.insert("Version".into(), serde_json::Value::String(version.clone()));
                Ok(())
            })?
        }
    }
    Ok(())
}

/// Points the upload at another KMS key and describes that key in the evidence.
fn use_kms_key(
    req: &mut UploadRequest,
    ev: &mut Evidence,
    arn: &str,
    key_policy: Option<&serde_json::Value>,
) -> Result<(), ApplyError> {
    let Some([_, _, "kms", region, account, resource]) = crate::pattern::split_arn(arn) else {
        return Err(ApplyError::Invalid(format!("`{arn}` is not a KMS key ARN")));
    };
    let Some(key_id) = resource.strip_prefix("key/").filter(|id| !id.is_empty()) else {
        return Err(ApplyError::Invalid(format!("`{arn}` is not a KMS key ARN")));
    };
    // The same key named by its ARN (instead of a key id or alias): only the reference changes.
    let same_key = key_policy.is_none() && ev.kms_key.get().is_some_and(|k| k.arn == arn);
    let name = format!("key policy of {arn} (the key the fix uses)");
    let policy = match key_policy {
        Some(doc) => {
            let text = serde_json::to_string_pretty(doc)
                .map_err(|e| ApplyError::Invalid(e.to_string()))?;
            Slot::Collected(
                Policy::parse(&name, PolicyKind::KeyPolicy, &text)
                    .map_err(|e| ApplyError::Invalid(e.to_string()))?,
            )
        }
        None => match &ev.kms_key {
            Slot::Collected(k) => match &k.policy {
                Slot::Collected(p) => Slot::Collected(
                    Policy::parse(&name, PolicyKind::KeyPolicy, &p.text)
                        .map_err(|e| ApplyError::Invalid(e.to_string()))?,
                ),
                other => other.clone(),
            },
            // The current key is not described: the new key's policy is as unknown as its.
            _ => Slot::missing(
                "the current key's policy, which the new key copies, could not be read",
                &["kms:GetKeyPolicy"],
            ),
        },
    };
    let new_key = KmsKey {
        arn: arn.to_owned(),
        key_id: key_id.to_owned(),
        account: account.to_owned(),
        region: region.to_owned(),
        state: "Enabled".into(),
        manager: "CUSTOMER".into(),
        spec: "SYMMETRIC_DEFAULT".into(),
        usage: "ENCRYPT_DECRYPT".into(),
        policy,
        grants: Slot::Collected(Vec::new()),
    };
    // Configure it where the current key is chosen: the request header wins over the bucket's
    // default encryption.
    match req.header("x-amz-server-side-encryption") {
        Some("aws:kms" | "aws:kms:dsse") => {
            req.headers.insert(
                "x-amz-server-side-encryption-aws-kms-key-id".into(),
                arn.to_owned(),
            );
        }
        Some(_) => {
            return Err(ApplyError::Refused(
                "the upload does not use SSE-KMS".to_owned(),
            ));
        }
        None => {
            let enc = ev
                .bucket
                .encryption
                .get_mut()
                .filter(|e| e.algorithm.starts_with("aws:kms"))
                .ok_or(ApplyError::Unknown("bucket's SSE-KMS default encryption"))?;
            enc.kms_key_id = Some(arn.to_owned());
        }
    }
    if !same_key {
        ev.kms_key = Slot::Collected(new_key);
    }
    Ok(())
}

fn target_policy(ev: &mut Evidence, t: PolicyTarget) -> Result<&mut Policy, ApplyError> {
    let p = match t {
        PolicyTarget::Identity(i) => ev.identity.get_mut().and_then(|id| id.policies.get_mut(i)),
        PolicyTarget::Boundary => ev.identity.get_mut().and_then(|id| id.boundary.as_mut()),
        PolicyTarget::Session => ev.session_policy.get_mut(),
        PolicyTarget::BucketPolicy => ev.bucket.policy.get_mut(),
        PolicyTarget::KeyPolicy => ev.kms_key.get_mut().and_then(|k| k.policy.get_mut()),
        PolicyTarget::Scp { level, index } => ev
            .caller_org
            .get_mut()
            .and_then(|o| o.scps.get_mut())
            .and_then(|l| l.get_mut(level))
            .and_then(|l| l.policies.get_mut(index)),
        PolicyTarget::Rcp { level, index } => match &mut ev.bucket_org {
            crate::evidence::Slot::Collected(o) => Some(o),
            _ => ev.caller_org.get_mut(),
        }
        .and_then(|o| o.rcps.get_mut())
        .and_then(|l| l.get_mut(level))
        .and_then(|l| l.policies.get_mut(index)),
        PolicyTarget::VpcEndpoint => ev.vpc_endpoint_policy.get_mut(),
        PolicyTarget::AccessPointPolicy => {
            ev.access_point.get_mut().and_then(|ap| ap.policy.get_mut())
        }
    };
    p.ok_or(ApplyError::Unknown("policy"))
}

fn edit(
    ev: &mut Evidence,
    t: PolicyTarget,
    f: impl FnOnce(&mut Vec<serde_json::Value>) -> Result<(), ApplyError>,
) -> Result<(), ApplyError> {
    // A bucket policy that does not exist yet is created by adding a statement.
    if t == PolicyTarget::BucketPolicy && matches!(ev.bucket.policy, Slot::Absent) {
        let p = Policy::parse(
            &format!("bucket policy of {} (created by the fix)", ev.bucket.name),
            PolicyKind::Resource,
            r#"{"Version":"2012-10-17","Statement":[]}"#,
        )
        .map_err(|e| ApplyError::Invalid(e.to_string()))?;
        ev.bucket.policy = Slot::Collected(p);
    }
    // So is an access point policy.
    if t == PolicyTarget::AccessPointPolicy
        && let Some(ap) = ev.access_point.get_mut()
        && matches!(ap.policy, Slot::Absent)
    {
        let p = Policy::parse(
            &format!("access point policy of {} (created by the fix)", ap.name),
            PolicyKind::Resource,
            r#"{"Version":"2012-10-17","Statement":[]}"#,
        )
        .map_err(|e| ApplyError::Invalid(e.to_string()))?;
        ap.policy = Slot::Collected(p);
    }
    edit_document(ev, t, |obj| {
        let stmts = obj
            .entry("Statement")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if stmts.is_object() {
            *stmts = serde_json::Value::Array(vec![stmts.take()]);
        }
        let arr = stmts
            .as_array_mut()
            .ok_or_else(|| ApplyError::Invalid("`Statement` is not an array".into()))?;
        f(arr)
    })
}

/// Edits a policy document as a JSON object and parses it again.
fn edit_document(
    ev: &mut Evidence,
    t: PolicyTarget,
    f: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>) -> Result<(), ApplyError>,
) -> Result<(), ApplyError> {
    let policy = target_policy(ev, t)?;
    let mut doc: serde_json::Value =
        serde_json::from_str(&policy.text).map_err(|e| ApplyError::Invalid(e.to_string()))?;
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| ApplyError::Invalid("not an object".into()))?;
    f(obj)?;
    let text =
        serde_json::to_string_pretty(&doc).map_err(|e| ApplyError::Invalid(e.to_string()))?;
    let name = if policy.name.ends_with("(changed by the fix)") {
        policy.name.clone()
    } else {
        format!("{} (changed by the fix)", policy.name)
    };
    *policy =
        Policy::parse(&name, policy.kind, &text).map_err(|e| ApplyError::Invalid(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Version;

    fn evidence_with_bucket_policy(text: &str) -> Evidence {
        let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
        ev.bucket.policy = Slot::Collected(
            Policy::parse(
                "bucket policy of amzn-s3-demo-bucket",
                PolicyKind::Resource,
                text,
            )
            .unwrap(),
        );
        ev
    }

    #[test]
    fn set_policy_version_turns_variables_on() {
        // IAM: policy variables are replaced only under `"Version": "2012-10-17"`; without
        // the element (or with 2008-10-17) `${aws:username}` is literal text.
        let mut ev = evidence_with_bucket_policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"}]}"#,
        );
        let before = ev.bucket.policy.get().unwrap();
        assert_eq!(before.version, Version::Missing);
        assert!(!matches!(
            before.statements[0].resource.as_ref().unwrap().items[0].value,
            crate::policy::ResourcePattern::Template(_)
        ));
        let mut req = UploadRequest::new("amzn-s3-demo-bucket", "home/alice/a.txt");
        apply(
            &Change::SetPolicyVersion {
                target: PolicyTarget::BucketPolicy,
                version: "2012-10-17".into(),
            },
            &mut req,
            &mut ev,
        )
        .unwrap();
        let after = ev.bucket.policy.get().unwrap();
        assert_eq!(after.version, Version::V2012_10_17);
        assert!(after.name.ends_with("(changed by the fix)"));
        assert!(matches!(
            after.statements[0].resource.as_ref().unwrap().items[0].value,
            crate::policy::ResourcePattern::Template(_)
        ));
    }

    #[test]
    fn set_session_tag_tags_sessions_only() {
        // STS: session tags are passed to AssumeRole* / GetFederationToken and become
        // `aws:PrincipalTag/<key>`; IAM users have no sessions to tag. Tag keys are
        // case-insensitive, so a new value replaces the old one whatever its case.
        let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
        let mut req = UploadRequest::new("amzn-s3-demo-bucket", "home/alice/a.txt");
        req.principal = Some("arn:aws:sts::111122223333:assumed-role/Dev/alice".into());
        req.session_tags.insert("UserName".into(), "old".into());
        let tag = Change::SetSessionTag {
            key: "username".into(),
            value: "alice".into(),
        };
        apply(&tag, &mut req, &mut ev).unwrap();
        assert_eq!(req.session_tags.len(), 1);
        assert_eq!(
            req.session_tags.get("username").map(String::as_str),
            Some("alice")
        );
        req.principal = Some("arn:aws:iam::111122223333:user/alice".into());
        assert!(matches!(
            apply(&tag, &mut req, &mut ev),
            Err(ApplyError::Invalid(_))
        ));
    }

    #[test]
    fn set_policy_version_rejects_unknown_versions_and_unknown_policies() {
        // IAM accepts only the two published language versions.
        let mut ev = evidence_with_bucket_policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*"}]}"#,
        );
        let mut req = UploadRequest::new("amzn-s3-demo-bucket", "a.txt");
        let bad = Change::SetPolicyVersion {
            target: PolicyTarget::BucketPolicy,
            version: "2020-01-01".into(),
        };
        assert!(matches!(
            apply(&bad, &mut req, &mut ev),
            Err(ApplyError::Invalid(_))
        ));
        // The session policy is not known in this evidence: nothing to change.
        let unknown = Change::SetPolicyVersion {
            target: PolicyTarget::Session,
            version: "2012-10-17".into(),
        };
        assert_eq!(
            apply(&unknown, &mut req, &mut ev),
            Err(ApplyError::Unknown("policy"))
        );
    }
}
