//! What a rule explains, in the words of AWS's error messages: the vocabulary `explain` uses
//! to say which rules an error message rules in, leaves possible or rules out. A rule declares
//! it in [`declare_rule!`](crate::declare_rule) (`service`, `actions`, `messages`), so the
//! table is the registry itself and a rule crate outside this repository takes part like a
//! built-in one. The parser of error messages maps what it reads onto these types.

use serde::Serialize;

/// The kind of policy a typed message names (AWS IAM User Guide, "Access denied error messages").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyType {
    /// `identity-based policy`: the caller's IAM policies.
    IdentityBased,
    /// `resource-based policy`: the bucket policy, or the KMS key policy.
    ResourceBased,
    /// `permissions boundary`.
    PermissionsBoundary,
    /// `session policy`: the policy passed when the session was created.
    SessionPolicy,
    /// `service control policy`.
    Scp,
    /// `resource control policy`.
    Rcp,
    /// `VPC endpoint policy`.
    VpcEndpoint,
    /// `role trust policy`: a refused `sts:AssumeRole`, not the upload itself.
    RoleTrust,
}

impl PolicyType {
    /// The policy type as AWS words it, e.g. `service control policy`.
    pub fn words(self) -> &'static str {
        match self {
            PolicyType::IdentityBased => "identity-based policy",
            PolicyType::ResourceBased => "resource-based policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::SessionPolicy => "session policy",
            PolicyType::Scp => "service control policy",
            PolicyType::Rcp => "resource control policy",
            PolicyType::VpcEndpoint => "VPC endpoint policy",
            PolicyType::RoleTrust => "role trust policy",
        }
    }
}

/// A refusal with its own wording rather than a policy type (AWS IAM User Guide, "Access denied error messages").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Special {
    /// `... because public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access`.
    BlockPublicAcls,
    /// `... because public policies are prevented by the BlockPublicPolicy setting ...`.
    BlockPublicPolicy,
    /// `... because this bucket has blocked upload requests that specify Server Side Encryption
    /// with Customer provided keys (SSE-C) ...`.
    SseCBlocked,
    /// `... because the resource does not exist in this Region, no resource-based policies allow
    /// access, or a resource-based policy explicitly denies access` (a KMS key, via S3).
    KmsNotFoundOrDenied,
}

impl Special {
    /// The special reason in a few words, e.g. `blocked SSE-C`.
    pub fn words(self) -> &'static str {
        match self {
            Special::BlockPublicAcls => "`BlockPublicAcls`",
            Special::BlockPublicPolicy => "`BlockPublicPolicy`",
            Special::SseCBlocked => "blocked SSE-C",
            Special::KmsNotFoundOrDenied => "KMS key not found or not allowed",
        }
    }
}

/// Which service's actions a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    /// S3 actions (`s3:...`).
    S3,
    /// KMS actions (`kms:...`), which S3 performs with the caller's credentials.
    Kms,
    /// Any service's actions (identity, boundary, session, VPC endpoint and SCP rules).
    Any,
}

/// A message form that points to a rule's cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// A typed message with this policy type; `explicit: None` matches both reasons.
    Deny {
        /// The policy type the message names.
        policy: PolicyType,
        /// `Some(true)`: `with an explicit deny`; `Some(false)`: `because no ... allows`.
        explicit: Option<bool>,
    },
    /// A special reason.
    Special(Special),
    /// An error code (e.g. `KMS.DisabledException`).
    Code(&'static str),
    /// The generic `Access Denied`: the cause is possible, not shown.
    Generic,
}

impl Trigger {
    /// The message form in words, e.g. `an explicit deny in a resource-based policy`.
    pub fn words(self) -> String {
        match self {
            Trigger::Deny {
                policy,
                explicit: Some(true),
            } => format!("an explicit deny in a {}", policy.words()),
            Trigger::Deny {
                policy,
                explicit: Some(false),
            } => format!("no {} allows the action", policy.words()),
            Trigger::Deny {
                policy,
                explicit: None,
            } => format!("a refusal by a {}", policy.words()),
            Trigger::Special(s) => format!("the {} reason", s.words()),
            Trigger::Code(c) => format!("the error code `{c}`"),
            Trigger::Generic => "the generic `Access Denied`".to_owned(),
        }
    }
}

/// `... with an explicit deny in a <policy>`.
pub const fn explicit(policy: PolicyType) -> Trigger {
    Trigger::Deny {
        policy,
        explicit: Some(true),
    }
}

/// `... because no <policy> allows the <action> action`.
pub const fn implicit(policy: PolicyType) -> Trigger {
    Trigger::Deny {
        policy,
        explicit: Some(false),
    }
}

/// Either reason with this policy type.
pub const fn either(policy: PolicyType) -> Trigger {
    Trigger::Deny {
        policy,
        explicit: None,
    }
}

/// A special reason, e.g. `special(SseCBlocked)`.
pub const fn special(s: Special) -> Trigger {
    Trigger::Special(s)
}

/// An error code, e.g. `code("KMS.DisabledException")`.
pub const fn code(c: &'static str) -> Trigger {
    Trigger::Code(c)
}

/// The generic `Access Denied` (typical of cross-account callers, where AWS names no policy).
pub const GENERIC: Trigger = Trigger::Generic;

/// What `declare_rule!`'s `messages: [...]` and `service: ...` are written with.
pub mod prelude {
    pub use super::PolicyType::*;
    pub use super::Service::*;
    pub use super::Special::*;
    pub use super::{GENERIC, code, either, explicit, implicit, special};
}
