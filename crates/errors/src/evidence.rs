//! The evidence that confirms what an access denied message points to: for each policy type,
//! the AWS CLI command that reads it and the IAM actions that command needs
//! (docs/aws-model.md#read-apis-and-iam-actions), filled in with the names the message gives.

use super::explain::{EvidenceStep, shell_quote};
use super::{Parsed, PolicyType, Special};
use why403_core::policy::AwsPrincipal;

fn step(
    what: impl Into<String>,
    command: impl Into<String>,
    needs: &[&'static str],
    note: Option<&str>,
) -> EvidenceStep {
    EvidenceStep {
        what: what.into(),
        command: Some(command.into()),
        needs: needs.to_vec(),
        note: note.map(str::to_owned),
    }
}

/// The caller as a user or a role name, and its account.
enum Caller {
    User(String),
    Role(String),
    Unknown,
}

fn caller(p: &Parsed) -> (Caller, Option<String>) {
    let Some(arn) = &p.principal else {
        return (Caller::Unknown, None);
    };
    match AwsPrincipal::parse(arn) {
        AwsPrincipal::User { arn, account } => (
            Caller::User(arn.rsplit('/').next().unwrap_or_default().to_owned()),
            Some(account),
        ),
        AwsPrincipal::Role { name, account, .. } => (Caller::Role(name), Some(account)),
        AwsPrincipal::AssumedRole {
            role_name, account, ..
        } => (Caller::Role(role_name), Some(account)),
        AwsPrincipal::FederatedUser { account, .. } | AwsPrincipal::Account { account } => {
            (Caller::Unknown, Some(account))
        }
        AwsPrincipal::Other { .. } => (Caller::Unknown, None),
    }
}

/// What to read to confirm the cause the message points to.
pub(super) fn evidence(p: &Parsed) -> Vec<EvidenceStep> {
    let (who, account) = caller(p);
    let account = account.unwrap_or_else(|| "<account-id>".to_owned());
    let bucket = shell_quote(p.bucket.as_deref().unwrap_or("<bucket>"));
    let kms = p
        .action
        .as_deref()
        .is_some_and(|a| a.to_ascii_lowercase().starts_with("kms:"));
    let mut out = Vec::new();
    if p.principal.is_none() {
        out.push(step(
            "who the credentials belong to",
            "aws sts get-caller-identity",
            &[],
            Some("needs no permission and works even under an explicit deny"),
        ));
    }
    if let Some(id) = &p.authorization_id {
        out.push(EvidenceStep {
            what: format!("the evaluation AWS recorded under authorization id `{id}`"),
            command: None,
            needs: vec!["iam:GetRequestAuthorizationDetails"],
            note: Some("call `GetRequestAuthorizationDetails` (IAM Access Troubleshooter) within 24 hours, from the recorded account or organization".to_owned()),
        });
    }
    if let Some(arn) = &p.policy_arn {
        out.extend(policy_by_arn(arn));
    }
    match p.special {
        Some(Special::BlockPublicAcls | Special::BlockPublicPolicy) => {
            out.push(step(
                "the bucket's Block Public Access settings",
                format!("aws s3api get-public-access-block --bucket {bucket}"),
                &["s3:GetBucketPublicAccessBlock"],
                None,
            ));
            out.push(step(
                "the account's Block Public Access settings",
                format!("aws s3control get-public-access-block --account-id {account}"),
                &["s3:GetAccountPublicAccessBlock"],
                None,
            ));
            out.push(step(
                "the organization's S3 policy in effect for the account (an S3 policy that applies sets the account's Block Public Access, which the account cannot change)",
                "aws organizations describe-effective-policy --policy-type S3_POLICY",
                &["organizations:DescribeEffectivePolicy"],
                Some("with credentials of the bucket owner's account, which may read its own; from the management account add `--target-id <account-id>`; `EffectivePolicyNotFoundException` means none applies"),
            ));
            return out;
        }
        Some(Special::SseCBlocked) => {
            out.push(step(
                "the bucket's encryption settings (`BlockedEncryptionTypes`)",
                format!("aws s3api get-bucket-encryption --bucket {bucket}"),
                &["s3:GetEncryptionConfiguration"],
                None,
            ));
            return out;
        }
        _ => {}
    }
    if kms {
        out.extend(kms_key(p, &bucket));
    }
    match p.policy_type {
        Some(PolicyType::IdentityBased) => out.extend(identity(&who)),
        Some(PolicyType::PermissionsBoundary) => out.push(match &who {
            Caller::User(u) => step(format!("the permissions boundary of user `{u}`"), format!("aws iam get-user --user-name {} --query User.PermissionsBoundary", shell_quote(u)), &["iam:GetUser"], None),
            Caller::Role(r) => step(format!("the permissions boundary of role `{r}`"), format!("aws iam get-role --role-name {} --query Role.PermissionsBoundary", shell_quote(r)), &["iam:GetRole"], None),
            Caller::Unknown => step("the caller's permissions boundary", "aws iam get-role --role-name <role> --query Role.PermissionsBoundary", &["iam:GetRole"], None),
        }),
        Some(PolicyType::SessionPolicy) => out.push(EvidenceStep {
            what: "the session policy passed when the credentials were issued".to_owned(),
            command: None,
            needs: Vec::new(),
            note: Some("never returned by AWS: ask whoever called `AssumeRole` or `GetFederationToken` for its `Policy` and `PolicyArns`".to_owned()),
        }),
        Some(PolicyType::Scp) if p.policy_arn.is_none() => {
            out.push(step("the SCPs attached to the caller's account", format!("aws organizations list-policies-for-target --target-id {account} --filter SERVICE_CONTROL_POLICY"), &["organizations:ListPoliciesForTarget"], Some(ORG_NOTE)));
            out.push(step("the OUs above the account (repeat up to the root)", format!("aws organizations list-parents --child-id {account}"), &["organizations:ListParents"], Some(ORG_NOTE)));
        }
        Some(PolicyType::Rcp) if p.policy_arn.is_none() => {
            let owner = if kms { "the KMS key owner's account" } else { "the bucket owner's account" };
            out.push(step(format!("the RCPs attached to {owner}"), "aws organizations list-policies-for-target --target-id <owner-account-id> --filter RESOURCE_CONTROL_POLICY", &["organizations:ListPoliciesForTarget"], Some(ORG_NOTE)));
        }
        Some(PolicyType::VpcEndpoint) => {
            let cmd = match &p.details.vpc_endpoint_id {
                Some(v) => format!("aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {}", shell_quote(v)),
                None => "aws ec2 describe-vpc-endpoints --filters Name=service-name,Values=com.amazonaws.<region>.s3".to_owned(),
            };
            out.push(step("the VPC endpoint policy", cmd, &["ec2:DescribeVpcEndpoints"], Some("in the account that owns the endpoint")));
        }
        Some(PolicyType::ResourceBased) if !kms => out.extend(bucket_side(p, &bucket)),
        Some(PolicyType::RoleTrust) => {
            let role = p.resource.as_deref().and_then(|r| r.rsplit('/').next()).unwrap_or("<role>");
            out.push(step(format!("the trust policy of role `{role}`"), format!("aws iam get-role --role-name {} --query Role.AssumeRolePolicyDocument", shell_quote(role)), &["iam:GetRole"], None));
        }
        None if !kms => {
            if p.bucket.is_some() {
                out.extend(bucket_side(p, &bucket));
            }
            out.extend(identity(&who));
        }
        _ => {}
    }
    out
}

const ORG_NOTE: &str = "from the organization's management account or a delegated administrator";

fn identity(who: &Caller) -> Vec<EvidenceStep> {
    match who {
        Caller::User(u) => {
            let u = shell_quote(u);
            vec![
                step(
                    "the managed policies attached to the user",
                    format!("aws iam list-attached-user-policies --user-name {u}"),
                    &["iam:ListAttachedUserPolicies"],
                    None,
                ),
                step(
                    "the user's inline policies",
                    format!("aws iam list-user-policies --user-name {u}"),
                    &["iam:ListUserPolicies", "iam:GetUserPolicy"],
                    None,
                ),
                step(
                    "the user's groups (their policies apply too)",
                    format!("aws iam list-groups-for-user --user-name {u}"),
                    &["iam:ListGroupsForUser"],
                    None,
                ),
            ]
        }
        Caller::Role(r) => {
            let r = shell_quote(r);
            vec![
                step(
                    "the managed policies attached to the role",
                    format!("aws iam list-attached-role-policies --role-name {r}"),
                    &["iam:ListAttachedRolePolicies"],
                    None,
                ),
                step(
                    "the role's inline policies",
                    format!("aws iam list-role-policies --role-name {r}"),
                    &["iam:ListRolePolicies", "iam:GetRolePolicy"],
                    None,
                ),
            ]
        }
        Caller::Unknown => Vec::new(),
    }
}

fn bucket_side(p: &Parsed, bucket: &str) -> Vec<EvidenceStep> {
    let owner = Some("from the bucket owner's account: other accounts cannot read it");
    let mut v = Vec::new();
    if let Some(r) = &p.resource
        && r.contains(":accesspoint/")
    {
        let name = r
            .split(":accesspoint/")
            .nth(1)
            .and_then(|x| x.split('/').next())
            .unwrap_or("<name>");
        v.push(step(
            "the access point policy",
            format!(
                "aws s3control get-access-point-policy --account-id <owner-account-id> --name {}",
                shell_quote(name)
            ),
            &["s3:GetAccessPointPolicy"],
            None,
        ));
    }
    v.push(step(
        "the bucket policy",
        format!("aws s3api get-bucket-policy --bucket {bucket}"),
        &["s3:GetBucketPolicy"],
        owner,
    ));
    if p.explicit != Some(true) {
        v.push(step(
            "the bucket ACL",
            format!("aws s3api get-bucket-acl --bucket {bucket}"),
            &["s3:GetBucketAcl"],
            None,
        ));
        v.push(step(
            "the bucket's Object Ownership",
            format!("aws s3api get-bucket-ownership-controls --bucket {bucket}"),
            &["s3:GetBucketOwnershipControls"],
            None,
        ));
    }
    v
}

fn kms_key(p: &Parsed, bucket: &str) -> Vec<EvidenceStep> {
    let known = p
        .details
        .kms_key
        .clone()
        .or_else(|| p.resource.clone().filter(|r| r.contains(":kms:")));
    let mut v = Vec::new();
    if known.is_none() {
        v.push(step(
            "which KMS key encrypts the bucket's objects",
            format!("aws s3api get-bucket-encryption --bucket {bucket}"),
            &["s3:GetEncryptionConfiguration"],
            Some("or the key in the upload's `x-amz-server-side-encryption-aws-kms-key-id` header"),
        ));
    }
    let key = shell_quote(known.as_deref().unwrap_or("<key-arn>"));
    v.push(step(
        "the KMS key's state, Region and account",
        format!("aws kms describe-key --key-id {key}"),
        &["kms:DescribeKey"],
        None,
    ));
    v.push(step(
        "the key policy",
        format!("aws kms get-key-policy --key-id {key} --policy-name default"),
        &["kms:GetKeyPolicy"],
        Some("from the key owner's account"),
    ));
    v.push(step(
        "the key's grants",
        format!("aws kms list-grants --key-id {key}"),
        &["kms:ListGrants"],
        None,
    ));
    v
}

fn policy_by_arn(arn: &str) -> Vec<EvidenceStep> {
    if arn.contains(":organizations::") {
        let id = arn.rsplit('/').next().unwrap_or(arn);
        return vec![step(
            format!("policy `{id}`"),
            format!(
                "aws organizations describe-policy --policy-id {}",
                shell_quote(id)
            ),
            &["organizations:DescribePolicy"],
            Some(ORG_NOTE),
        )];
    }
    if arn.contains(":iam::") && arn.contains(":policy/") {
        let a = shell_quote(arn);
        return vec![
            step(
                "the policy's default version",
                format!("aws iam get-policy --policy-arn {a} --query Policy.DefaultVersionId"),
                &["iam:GetPolicy"],
                None,
            ),
            step(
                "the policy document",
                format!(
                    "aws iam get-policy-version --policy-arn {a} --version-id <default-version-id>"
                ),
                &["iam:GetPolicyVersion"],
                None,
            ),
        ];
    }
    Vec::new()
}
