//! The one table from error messages to rules: which message forms point to each rule's
//! cause. `explain` reads it to say which rules a message rules in, leaves possible, or rules
//! out. Ids of rules not built yet are listed too, so that the table is the single place to
//! keep in step with `crates/rules/`.

use serde::Serialize;

use super::{Parsed, PolicyType, Special};

/// Which service's action a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    S3,
    Kms,
    Any,
}

/// A message form that points to a rule's cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// A typed message with this policy type; `explicit: None` matches both reasons.
    Deny {
        policy: PolicyType,
        explicit: Option<bool>,
    },
    /// A special reason.
    Special(Special),
    /// An error code.
    Code(&'static str),
    /// The generic `Access Denied`: the cause is possible, not shown.
    Generic,
}

/// A rule and the message forms that point to it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleEntry {
    pub id: &'static str,
    pub service: Service,
    /// The actions the rule is about; empty for any action of the service.
    pub actions: &'static [&'static str],
    pub triggers: &'static [Trigger],
}

use PolicyType as P;
use Trigger::{Code, Deny, Generic};

const fn explicit(policy: PolicyType) -> Trigger {
    Deny {
        policy,
        explicit: Some(true),
    }
}
const fn implicit(policy: PolicyType) -> Trigger {
    Deny {
        policy,
        explicit: Some(false),
    }
}
const fn either(policy: PolicyType) -> Trigger {
    Deny {
        policy,
        explicit: None,
    }
}
const fn entry(
    id: &'static str,
    service: Service,
    actions: &'static [&'static str],
    triggers: &'static [Trigger],
) -> RuleEntry {
    RuleEntry {
        id,
        service,
        actions,
        triggers,
    }
}

/// Every rule id a message can speak to, sorted by id: one per built-in rule crate (the
/// registry tests in `crates/rules/registry.rs` keep the two in step).
pub const RULES: &[RuleEntry] = &[
    entry(
        "block-public-acls-rejects-public-acl",
        Service::S3,
        &[],
        &[Trigger::Special(Special::BlockPublicAcls)],
    ),
    entry(
        "bucket-acl-missing-write",
        Service::S3,
        &["s3:PutObject"],
        &[implicit(P::ResourceBased), Generic],
    ),
    entry(
        "bucket-owner-full-control-required",
        Service::S3,
        &["s3:PutObject"],
        &[either(P::ResourceBased), Generic],
    ),
    entry(
        "bucket-policy-explicit-deny",
        Service::S3,
        &[],
        &[explicit(P::ResourceBased)],
    ),
    entry(
        "bucket-policy-missing-cross-account-grant",
        Service::S3,
        &[],
        &[implicit(P::ResourceBased), Generic],
    ),
    entry(
        "bucket-policy-not-principal-deny",
        Service::S3,
        &[],
        &[explicit(P::ResourceBased)],
    ),
    entry(
        "bucket-policy-session-arn-form",
        Service::S3,
        &[],
        &[either(P::ResourceBased)],
    ),
    entry(
        "bucket-policy-stale-principal",
        Service::S3,
        &[],
        &[implicit(P::ResourceBased)],
    ),
    entry(
        "cross-account-aws-managed-key",
        Service::Kms,
        &[],
        &[Trigger::Special(Special::KmsNotFoundOrDenied), Generic],
    ),
    entry(
        "expected-bucket-owner-mismatch",
        Service::S3,
        &[],
        &[Generic],
    ),
    entry(
        "identity-policy-explicit-deny",
        Service::Any,
        &[],
        &[explicit(P::IdentityBased)],
    ),
    entry(
        "identity-policy-missing-object-lock",
        Service::S3,
        &["s3:PutObjectRetention", "s3:PutObjectLegalHold"],
        &[implicit(P::IdentityBased)],
    ),
    entry(
        "identity-policy-missing-put-object",
        Service::S3,
        &["s3:PutObject", "s3:PutObjectAcl"],
        &[implicit(P::IdentityBased)],
    ),
    entry(
        "identity-policy-missing-put-object-tagging",
        Service::S3,
        &["s3:PutObjectTagging"],
        &[implicit(P::IdentityBased)],
    ),
    entry(
        "ignore-public-acls-voids-grant",
        Service::S3,
        &[],
        &[implicit(P::ResourceBased)],
    ),
    entry(
        "kms-key-asymmetric",
        Service::Kms,
        &[],
        &[Code("KMS.InvalidKeyUsageException")],
    ),
    entry(
        "kms-key-disabled",
        Service::Kms,
        &[],
        &[Code("KMS.DisabledException")],
    ),
    entry(
        "kms-key-in-another-account-by-alias",
        Service::Kms,
        &[],
        &[
            Code("KMS.NotFoundException"),
            Trigger::Special(Special::KmsNotFoundOrDenied),
        ],
    ),
    entry(
        "kms-key-in-another-region",
        Service::Kms,
        &[],
        &[
            Code("KMS.NotFoundException"),
            Trigger::Special(Special::KmsNotFoundOrDenied),
        ],
    ),
    entry(
        "kms-key-pending-deletion",
        Service::Kms,
        &[],
        &[Code("KMS.KMSInvalidStateException")],
    ),
    entry(
        "kms-key-policy-condition-unmet",
        Service::Kms,
        &[],
        &[either(P::ResourceBased), implicit(P::IdentityBased)],
    ),
    entry(
        "kms-key-policy-missing-generate-data-key",
        Service::Kms,
        &[],
        &[
            either(P::ResourceBased),
            implicit(P::IdentityBased),
            Trigger::Special(Special::KmsNotFoundOrDenied),
        ],
    ),
    entry(
        "object-ownership-enforced-acl-header",
        Service::S3,
        &[],
        &[Code("AccessControlListNotSupported")],
    ),
    entry(
        "permissions-boundary-explicit-deny",
        Service::Any,
        &[],
        &[explicit(P::PermissionsBoundary)],
    ),
    entry(
        "permissions-boundary-missing-allow",
        Service::Any,
        &[],
        &[implicit(P::PermissionsBoundary)],
    ),
    entry(
        "policy-variable-in-old-version",
        Service::Any,
        &[],
        &[implicit(P::IdentityBased), implicit(P::ResourceBased)],
    ),
    entry("rcp-denies-kms", Service::Kms, &[], &[either(P::Rcp)]),
    entry("rcp-denies-s3", Service::S3, &[], &[either(P::Rcp)]),
    entry(
        "requester-pays-header-missing",
        Service::S3,
        &[],
        &[Generic],
    ),
    entry(
        "restrict-public-buckets-blocks-cross-account",
        Service::S3,
        &[],
        &[explicit(P::ResourceBased)],
    ),
    entry("scp-denies-s3", Service::Any, &[], &[either(P::Scp)]),
    entry(
        "session-policy-explicit-deny",
        Service::Any,
        &[],
        &[explicit(P::SessionPolicy)],
    ),
    entry(
        "session-policy-missing-allow",
        Service::Any,
        &[],
        &[implicit(P::SessionPolicy)],
    ),
    entry(
        "sse-c-blocked-on-bucket",
        Service::S3,
        &[],
        &[Trigger::Special(Special::SseCBlocked)],
    ),
    entry(
        "username-variable-for-role",
        Service::Any,
        &[],
        &[implicit(P::IdentityBased), implicit(P::ResourceBased)],
    ),
    entry(
        "vpc-endpoint-policy-explicit-deny",
        Service::Any,
        &[],
        &[explicit(P::VpcEndpoint)],
    ),
    entry(
        "vpc-endpoint-policy-missing-allow",
        Service::Any,
        &[],
        &[implicit(P::VpcEndpoint)],
    ),
];

/// What a message says about a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleStatus {
    /// The message names this cause (with others, when several rules share the form).
    RuledIn,
    /// The message fits this cause but does not show it (the generic message).
    Possible,
    /// The message shows this cause does not apply.
    RuledOut,
}

/// A rule and what the message says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleHint {
    pub id: &'static str,
    pub status: RuleStatus,
    /// Why, in one lower-case sentence.
    pub why: String,
}

fn service_of(action: Option<&str>) -> Option<Service> {
    let a = action?.to_ascii_lowercase();
    if a.starts_with("s3:") {
        Some(Service::S3)
    } else if a.starts_with("kms:") {
        Some(Service::Kms)
    } else {
        None
    }
}

impl RuleEntry {
    fn fits_action(&self, action: Option<&str>) -> bool {
        let service_ok = match (self.service, service_of(action)) {
            (Service::Any, _) | (_, None) => true,
            (s, Some(a)) => s == a,
        };
        let action_ok = match action {
            Some(a) if !self.actions.is_empty() => {
                self.actions.iter().any(|x| x.eq_ignore_ascii_case(a))
            }
            _ => true,
        };
        service_ok && action_ok
    }

    fn only_explicit(&self) -> bool {
        self.triggers.iter().all(|t| {
            matches!(
                t,
                Deny {
                    explicit: Some(true),
                    ..
                }
            )
        })
    }
}

/// What the message says about each rule in [`RULES`]; rules it says nothing about are left
/// out. Sorted by status, then id.
pub(super) fn hints(p: &Parsed) -> Vec<RuleHint> {
    let action = p.action.as_deref();
    let mut out = Vec::new();
    for e in RULES {
        if let Some(h) = hint(e, p, action) {
            out.push(h);
        }
    }
    out.sort_by(|a, b| (a.status, a.id).cmp(&(b.status, b.id)));
    out
}

fn hint(e: &RuleEntry, p: &Parsed, action: Option<&str>) -> Option<RuleHint> {
    let a = action
        .map(|a| format!("`{a}`"))
        .unwrap_or_else(|| "the action".to_owned());
    let ruled = |status, why: String| {
        Some(RuleHint {
            id: e.id,
            status,
            why,
        })
    };
    for t in e.triggers {
        match *t {
            Code(c) if p.code.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(c)) => {
                return ruled(RuleStatus::RuledIn, format!("the error code is `{c}`"));
            }
            Trigger::Special(s) if p.special == Some(s) && e.fits_action(action) => {
                return ruled(
                    RuleStatus::RuledIn,
                    format!("the message gives the {} reason", special_words(s)),
                );
            }
            Deny { policy, explicit } if p.policy_type == Some(policy) && e.fits_action(action) => {
                let matches = match (explicit, p.explicit) {
                    (None, _) => true,
                    (Some(want), Some(got)) => want == got,
                    (Some(_), None) => false,
                };
                if matches {
                    let how = match p.explicit {
                        Some(true) => format!("an explicit deny in a {}", policy.words()),
                        Some(false) => format!("that no {} allows {a}", policy.words()),
                        None => format!("a {}", policy.words()),
                    };
                    return ruled(RuleStatus::RuledIn, format!("the message reports {how}"));
                }
            }
            Generic if p.details.generic && e.fits_action(action) => {
                return ruled(
                    RuleStatus::Possible,
                    "the generic message fits this cause, typical of callers from another account"
                        .to_owned(),
                );
            }
            _ => {}
        }
    }
    if service_of(action) == Some(Service::Kms) && e.service == Service::S3 {
        return ruled(
            RuleStatus::RuledOut,
            format!(
                "the refused action is {a}: S3 had already authorized the upload and was calling KMS for it"
            ),
        );
    }
    if p.explicit == Some(false) && e.only_explicit() && e.fits_action(action) {
        return ruled(
            RuleStatus::RuledOut,
            format!("the message reports an implicit deny, so no policy explicitly denies {a}"),
        );
    }
    None
}

fn special_words(s: Special) -> &'static str {
    match s {
        Special::BlockPublicAcls => "`BlockPublicAcls`",
        Special::BlockPublicPolicy => "`BlockPublicPolicy`",
        Special::SseCBlocked => "blocked SSE-C",
        Special::KmsNotFoundOrDenied => "KMS key not found or not allowed",
    }
}
