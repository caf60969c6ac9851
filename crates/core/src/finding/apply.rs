//! Applies a structured [`Change`] to a copy of the request and evidence: policy documents are
//! edited as JSON and parsed again, so a fix is checked by the same evaluator as the problem.

use super::{Change, PolicyTarget};
use crate::evidence::{AclGrant, Evidence, Grantee, IdentityKind, PublicAccessLevel, Slot};
use crate::policy::{Policy, PolicyKind};
use crate::upload::UploadRequest;

/// A change that cannot be applied to this evidence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    #[error("the {0} is not known, so the change cannot be applied")]
    Unknown(&'static str),
    #[error("statement {0} does not exist")]
    NoStatement(usize),
    #[error("the changed policy is invalid: {0}")]
    Invalid(String),
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
    let policy = target_policy(ev, t)?;
    let mut doc: serde_json::Value =
        serde_json::from_str(&policy.text).map_err(|e| ApplyError::Invalid(e.to_string()))?;
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| ApplyError::Invalid("not an object".into()))?;
    let stmts = obj
        .entry("Statement")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
    if stmts.is_object() {
        *stmts = serde_json::Value::Array(vec![stmts.take()]);
    }
    let arr = stmts
        .as_array_mut()
        .ok_or_else(|| ApplyError::Invalid("`Statement` is not an array".into()))?;
    f(arr)?;
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
