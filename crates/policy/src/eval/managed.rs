//! Service-side facts that no policy changes: resources AWS owns, and resources whose own
//! policy must grant explicitly even within the account.

use super::Request;

/// IAM actions that change a managed policy; AWS managed policies (`arn:aws:iam::aws:policy/...`)
/// are owned by AWS and refuse them for every customer principal.
const POLICY_WRITES: &[&str] = &[
    "iam:createpolicy",
    "iam:createpolicyversion",
    "iam:deletepolicy",
    "iam:deletepolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:tagpolicy",
    "iam:untagpolicy",
];

/// IAM actions that change or pass a role; roles under `/aws-reserved/` (created by IAM
/// Identity Center) are managed by the service and refuse them.
const ROLE_WRITES: &[&str] = &[
    "iam:attachrolepolicy",
    "iam:createrole",
    "iam:createservicelinkedrole",
    "iam:deleterole",
    "iam:deleterolepermissionsboundary",
    "iam:deleterolepolicy",
    "iam:deleteservicelinkedrole",
    "iam:detachrolepolicy",
    "iam:passrole",
    "iam:putrolepermissionsboundary",
    "iam:putrolepolicy",
    "iam:tagrole",
    "iam:untagrole",
    "iam:updateassumerolepolicy",
    "iam:updaterole",
    "iam:updateroledescription",
];

/// KMS alias changes; aliases under `alias/aws/` belong to AWS managed keys.
const ALIAS_WRITES: &[&str] = &["kms:createalias", "kms:deletealias", "kms:updatealias"];

/// True when the request changes a resource that AWS owns.
pub(crate) fn aws_managed_write(req: &Request) -> bool {
    let action = req.action_lower();
    if !(action.starts_with("iam:") || action.starts_with("kms:")) {
        return false;
    }
    let Some([_, _, service, _, account, resource]) = req.resource_parts() else {
        return false;
    };
    match service {
        "iam" if account == "aws" && resource.starts_with("policy/") => {
            POLICY_WRITES.contains(&action)
        }
        "iam" if resource.starts_with("role/aws-reserved/") => ROLE_WRITES.contains(&action),
        "kms" if resource.starts_with("alias/aws/") => ALIAS_WRITES.contains(&action),
        _ => false,
    }
}

/// KMS key policies and role trust policies are the exception to same-account delegation:
/// the resource's own policy must allow (at least the account) for any principal to use it.
pub(crate) fn needs_explicit_resource_grant(req: &Request) -> bool {
    if req.action_lower().starts_with("sts:assumerole") {
        return true;
    }
    req.resource.contains(":kms:")
        && matches!(req.resource_parts(), Some([_, _, "kms", _, _, r]) if r.starts_with("key/"))
}
