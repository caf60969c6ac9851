//! What a parsed error proves, which rules it rules in or out, and the next step: the exact
//! `why403 diagnose` command when the bucket and key are known, and the evidence to read
//! with the IAM action each read needs. Non-authorization errors get their cause and fix.

use serde::Serialize;

use super::errors::{Direct, direct, explains_code};
use super::evidence::evidence;
use super::rules::{RuleHint, hints};
use super::{Parsed, PolicyType, Special};
use why403_core::policy::AwsPrincipal;
use why403_core::rule::Registry;

/// What kind of error the text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Kind {
    /// An authorization failure: a policy, an ACL or an S3 setting refused the request.
    AccessDenied,
    /// Refused before or outside authorization (credentials, signature, clock, Region,
    /// account, ACLs disabled, KMS key state), explained with its fix.
    NotAuthorization,
    /// An error recognised but not one why403 explains.
    Unexplained,
    /// No AWS error recognised in the text.
    Unrecognised,
}

/// Something to read to confirm the cause, and the permission reading it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceStep {
    /// What to read, e.g. "the bucket policy".
    pub what: String,
    /// The AWS CLI command that reads it, when there is one.
    pub command: Option<String>,
    /// The IAM actions the command needs.
    pub needs: Vec<&'static str>,
    /// Where to run it from, or why it cannot be read.
    pub note: Option<String>,
}

/// The explanation of a parsed error. Every sentence follows the message conventions:
/// lower-case first word, no final period, AWS values in backticks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Explanation {
    /// Which kind of error this is, and so which of the fields below are filled.
    pub kind: Kind,
    /// The error in one sentence.
    pub headline: String,
    /// What the message proves, one fact per line.
    pub proves: Vec<String>,
    /// The cause, when the error states it by itself: every non-authorization error, and the
    /// special reasons (Block Public Access, SSE-C blocked, a KMS key not found or not allowed).
    pub cause: Option<String>,
    /// The fix that goes with `cause`, one imperative sentence.
    pub fix: Option<String>,
    /// The HTTP status AWS answers this error with.
    pub status: Option<u16>,
    /// Rules the message rules in, leaves possible, or rules out.
    pub rules: Vec<RuleHint>,
    /// The `why403 diagnose` command to run next, when the bucket and key are known.
    pub command: Option<String>,
    /// The evidence to read to confirm the cause.
    pub evidence: Vec<EvidenceStep>,
    /// Caveats on what the message can show (one policy type named when several refuse,
    /// older message wordings, directory buckets, `HEAD` requests) and any text not recognised.
    pub notes: Vec<String>,
}

/// Explains a parsed error, saying what it tells of each rule of `registry`. Never empty:
/// unrecognised text gets a headline saying what was and was not recognised.
pub fn explain(p: &Parsed, registry: &Registry) -> Explanation {
    let mut x = Explanation {
        kind: Kind::Unrecognised,
        headline: String::new(),
        proves: Vec::new(),
        cause: None,
        fix: None,
        status: p.http_status,
        rules: Vec::new(),
        command: None,
        evidence: Vec::new(),
        notes: Vec::new(),
    };
    if !p.is_recognised() {
        x.headline = "no AWS error recognised in the text".to_owned();
        if let Some(u) = &p.unrecognised {
            x.notes.push(format!("not recognised: `{u}`"));
        }
        x.notes.push(
            "why403 reads AWS CLI, SDK (Go, Java), S3 XML and CloudTrail errors, and the `Access Denied` and `User: ... is not authorized to perform: ...` messages inside them; see docs/errors.md".to_owned(),
        );
        return x;
    }
    if let Some(d) = direct(p) {
        not_authorization(p, d, &mut x);
        x.rules = hints(p, registry);
        return x;
    }
    facts(p, &mut x);
    if is_access_denied(p) {
        x.kind = Kind::AccessDenied;
        x.headline = headline(p);
        x.status = p.http_status.or(Some(403));
        reason_facts(p, &mut x);
        if let Some((cause, fix)) = special_cause(p) {
            x.cause = Some(cause.to_owned());
            x.fix = Some(fix.to_owned());
        }
        x.rules = hints(p, registry);
        x.command = command(p);
        x.evidence = evidence(p);
    } else {
        x.kind = Kind::Unexplained;
        let code = p.code.as_deref().unwrap_or("unknown");
        x.headline = format!("`{code}`: why403 has no explanation for this error");
        if p.code.as_deref().is_some_and(explains_code) {
            x.notes.push(
                "why403 explains refusals of uploads; this error is about something else"
                    .to_owned(),
            );
        }
    }
    if let Some(u) = &p.unrecognised {
        x.notes.push(format!("not recognised: `{u}`"));
    }
    x
}

/// An authorization failure: `AccessDenied` with a typed, generic or special message.
fn is_access_denied(p: &Parsed) -> bool {
    let denied_code = p.code.as_deref().is_none_or(|c| {
        ["AccessDenied", "AccessDeniedException", "Forbidden", "403"]
            .iter()
            .any(|d| d.eq_ignore_ascii_case(c))
    });
    denied_code
        && (p.code.is_some() || p.action.is_some() || p.details.generic || p.special.is_some())
}

fn not_authorization(p: &Parsed, d: Direct, x: &mut Explanation) {
    x.kind = Kind::NotAuthorization;
    let status = d.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
    x.headline = if p.details.request_expired {
        format!("not an authorization failure: `Request has expired`{status}")
    } else if p.details.sigv4a_unavailable {
        "not an authorization failure: the client cannot sign the request with SigV4A".to_owned()
    } else {
        format!("not an authorization failure: `{}`{status}", d.code)
    };
    x.status = d.status;
    facts(p, x);
    x.proves.push(if p.details.sigv4a_unavailable {
        "the client failed before sending the request, so changing policies will not help".to_owned()
    } else {
        "the request was refused before or outside policy evaluation, so changing policies will not help".to_owned()
    });
    x.cause = Some(d.cause);
    x.fix = Some(d.fix);
    x.evidence = d.evidence;
    x.notes = d.notes;
}

/// Facts every kind shares: the caller, the request, where the error came from.
fn facts(p: &Parsed, x: &mut Explanation) {
    if let Some(who) = &p.principal {
        x.proves
            .push(format!("the caller is `{who}`{}", principal_words(who)));
    }
    if let Some(op) = &p.operation {
        x.proves.push(format!("the operation was `{op}`"));
    }
    if let (Some(b), Some(k)) = (&p.bucket, &p.key) {
        x.proves.push(format!("the object is `s3://{b}/{k}`"));
    } else if let Some(b) = &p.bucket {
        x.proves.push(format!("the bucket is `{b}`"));
    }
    if let Some(v) = &p.details.vpc_endpoint_id {
        x.proves
            .push(format!("the request came through VPC endpoint `{v}`"));
    }
    if let Some(ip) = &p.details.source_ip {
        x.proves.push(format!("the request came from `{ip}`"));
    }
}

/// `, a session `s` of role `R` in account `A`` and the like.
fn principal_words(arn: &str) -> String {
    if arn.eq_ignore_ascii_case("anonymous") {
        return ", an anonymous (unsigned) request".to_owned();
    }
    match AwsPrincipal::parse(arn) {
        AwsPrincipal::AssumedRole {
            account,
            role_name,
            session,
            ..
        } => {
            let sso = if role_name.starts_with("AWSReservedSSO_") {
                ", an IAM Identity Center permission set"
            } else {
                ""
            };
            format!(": session `{session}` of role `{role_name}` in account `{account}`{sso}")
        }
        AwsPrincipal::User { account, arn } => {
            let name = arn.rsplit('/').next().unwrap_or_default();
            format!(": IAM user `{name}` in account `{account}`")
        }
        AwsPrincipal::Role { account, name, .. } => {
            format!(": role `{name}` in account `{account}`")
        }
        AwsPrincipal::FederatedUser { account, name, .. } => {
            format!(": federated user `{name}` in account `{account}`")
        }
        AwsPrincipal::Account { account } => format!(": the root user of account `{account}`"),
        AwsPrincipal::Other { .. } => String::new(),
    }
}

fn headline(p: &Parsed) -> String {
    let action = p
        .action
        .as_deref()
        .map_or_else(|| "the request".to_owned(), |a| format!("`{a}`"));
    let on = match (&p.resource, p.details.on_this_resource) {
        (Some(r), _) => format!(" on `{r}`"),
        (None, true) => " on the KMS key".to_owned(),
        _ => String::new(),
    };
    match (p.special, p.policy_type, p.explicit) {
        (Some(Special::BlockPublicAcls), _, _) => {
            "the upload sets a public ACL, which Block Public Access (`BlockPublicAcls`) refuses"
                .to_owned()
        }
        (Some(Special::BlockPublicPolicy), _, _) => {
            "a public bucket policy was refused by Block Public Access (`BlockPublicPolicy`)"
                .to_owned()
        }
        (Some(Special::SseCBlocked), _, _) => {
            "the bucket blocks uploads encrypted with customer-provided keys (SSE-C)".to_owned()
        }
        (Some(Special::KmsNotFoundOrDenied), _, _) => format!(
            "{action}{on} refused: the KMS key is not in this Region, or its key policy does not allow the caller or denies it"
        ),
        (None, Some(t), Some(true)) => format!(
            "an explicit deny in {} {} refused {action}{on}",
            article(t),
            t.words()
        ),
        (None, Some(t), Some(false)) => {
            format!("no {} allows {action}{on} (an implicit deny)", t.words())
        }
        (None, None, Some(true)) => format!(
            "an explicit deny refused {action}{on}; the message does not say in which policy"
        ),
        _ if is_head(p) => {
            "refused with HTTP 403 and no message: a `HEAD` request has no response body".to_owned()
        }
        _ if p.details.generic => {
            "the generic `Access Denied`, which names no caller, action or policy".to_owned()
        }
        _ if p.action.is_none() => "access denied, with a message why403 does not know".to_owned(),
        _ => format!("{action}{on} was refused; the message does not say which policy refused it"),
    }
}

/// The cause and fix a special reason states by itself.
fn special_cause(p: &Parsed) -> Option<(&'static str, &'static str)> {
    Some(match p.special? {
        Special::BlockPublicAcls => (
            "the upload sets a public ACL (a grant to `AllUsers` or `AuthenticatedUsers`, such as `public-read`), and `BlockPublicAcls` is on for the bucket, its account, its organization or the access point",
            "stop sending the public ACL (`--acl`, `x-amz-acl`, `x-amz-grant-*`), or turn `BlockPublicAcls` off at every level where it is on (where the organization's S3 policy sets it for the account, only the organization's management account can change that)",
        ),
        Special::BlockPublicPolicy => (
            "the bucket policy being written is public, and `BlockPublicPolicy` is on for the bucket, its account or its organization",
            "name fixed principals or fixed-value conditions in the policy, or turn `BlockPublicPolicy` off",
        ),
        Special::SseCBlocked => (
            "the upload uses server-side encryption with customer-provided keys (SSE-C), which the bucket blocks (`BlockedEncryptionTypes`, the default for new buckets since April 2026)",
            "encrypt with SSE-S3 or SSE-KMS instead, or allow SSE-C on the bucket (`BlockedEncryptionTypes` without `SSE-C`)",
        ),
        Special::KmsNotFoundOrDenied => (
            "the KMS key S3 uses is not in this Region (or this account, for a key id or alias), or its key policy does not allow the caller, or denies it",
            "name a key in the bucket's Region by its full key ARN, and let its key policy allow the caller `kms:GenerateDataKey` and `kms:Decrypt`",
        ),
    })
}

/// A `HEAD` response: a status and no body, so no code or message from S3.
fn is_head(p: &Parsed) -> bool {
    p.code
        .as_deref()
        .is_some_and(|c| c == "403" || c.eq_ignore_ascii_case("Forbidden"))
}

fn article(t: PolicyType) -> &'static str {
    match t {
        PolicyType::IdentityBased => "an",
        PolicyType::RoleTrust => "the",
        _ => "a",
    }
}

/// The facts of the reason: the action, the resource, the policy type and how it refused.
fn reason_facts(p: &Parsed, x: &mut Explanation) {
    if let Some(a) = &p.action {
        let why = action_words(a);
        x.proves.push(format!("the refused action is `{a}`{why}"));
    }
    if let Some(r) = &p.resource {
        x.proves.push(format!("the resource is `{r}`"));
    } else if p.details.on_this_resource {
        x.proves.push("the resource is not named (`this resource`): for a `kms:` action it is the KMS key that encrypts the object".to_owned());
    }
    match (p.policy_type, p.explicit) {
        (Some(t), Some(true)) => {
            x.proves.push(format!(
                "a statement with `\"Effect\": \"Deny\"` in {} {}{} matches the request (an explicit deny)",
                article(t),
                t.words(),
                type_gloss(t, p)
            ));
        }
        (Some(t), Some(false)) => {
            x.proves.push(format!(
                "no {}{} has a statement that allows the request (an implicit deny), and no policy denies it explicitly",
                t.words(),
                type_gloss(t, p)
            ));
        }
        _ => {}
    }
    if p.details.via_scp {
        x.proves.push("the deny is reported in a VPC endpoint policy, reached transitively through a service control policy".to_owned());
    }
    if let Some(arn) = &p.policy_arn {
        x.proves.push(format!("the denying policy is `{arn}`"));
    }
    if let Some(id) = &p.authorization_id {
        x.proves.push(format!(
            "the evaluation is recorded under authorization id `{id}`"
        ));
    }
    if p.policy_type.is_some() {
        x.proves.push("the caller and the resource owner are in the same account or organization: AWS names the policy type only there".to_owned());
        x.notes.push("only one policy type is named even when several refuse: once this one is fixed, another may show".to_owned());
    }
    if p.policy_type == Some(PolicyType::Scp) && p.explicit == Some(true) && p.policy_arn.is_none()
    {
        x.notes.push(
            "older messages could call an SCP deny explicit when no SCP allowed the action"
                .to_owned(),
        );
    }
    if p.policy_type == Some(PolicyType::RoleTrust) {
        x.notes.push("this refusal is of `sts:AssumeRole`, not of the upload: the role's trust policy does not let the caller assume it".to_owned());
    }
    if p.details.generic {
        x.proves.push("the message carries no policy type: AWS gives the generic message to callers outside the bucket owner's organization, for directory buckets, and for VPC endpoint denials across accounts of one organization".to_owned());
        x.notes
            .push("errors from before August 2024 are generic for every caller".to_owned());
        if p.bucket.as_deref().is_some_and(|b| b.ends_with("--x-s3")) {
            x.notes.push("the bucket is a directory bucket (`--x-s3`): its errors are always generic and its access goes through `s3express:CreateSession`".to_owned());
        }
    }
    if is_head(p) {
        x.notes.push("a `HEAD` request (`HeadObject`, `HeadBucket`) gets no response body, so its error has no message: the upload's own error, or CloudTrail, says more".to_owned());
    }
}

fn type_gloss(t: PolicyType, p: &Parsed) -> &'static str {
    let kms = p
        .action
        .as_deref()
        .is_some_and(|a| a.to_ascii_lowercase().starts_with("kms:"));
    match t {
        PolicyType::ResourceBased if kms => " (the KMS key policy)",
        PolicyType::ResourceBased => " (the bucket policy, or an access point policy)",
        PolicyType::IdentityBased => {
            " (the policies of the caller's user, its groups, or its role)"
        }
        PolicyType::Scp => " (of the caller's organization)",
        PolicyType::Rcp => " (of the resource owner's organization)",
        PolicyType::SessionPolicy => " (passed when the credentials were issued)",
        _ => "",
    }
}

fn action_words(a: &str) -> &'static str {
    match a.to_ascii_lowercase().as_str() {
        "s3:putobjectacl" => ": the request sets an ACL (`x-amz-acl` or `x-amz-grant-*`)",
        "s3:putobjecttagging" => ": the request sends tags (`x-amz-tagging`)",
        "s3:putobjectretention" | "s3:putobjectlegalhold" => {
            ": the request sends Object Lock headers"
        }
        "kms:generatedatakey" => {
            ": S3 asks KMS for a data key with the caller's credentials to encrypt the object"
        }
        "kms:decrypt" => {
            ": S3 needs it with the caller's credentials for each part of a multipart upload"
        }
        _ => "",
    }
}

/// `why403 diagnose s3://b/k --principal P --error '...'` when the object is known.
fn command(p: &Parsed) -> Option<String> {
    let (b, k) = (p.bucket.as_deref()?, p.key.as_deref()?);
    let mut c = format!("why403 diagnose {}", shell_quote(&format!("s3://{b}/{k}")));
    if let Some(who) = &p.principal
        && who.starts_with("arn:")
    {
        c.push_str(&format!(" --principal {}", shell_quote(who)));
    }
    let error = p.message.clone().or_else(|| p.code.clone())?;
    c.push_str(&format!(" --error {}", shell_quote(&error)));
    Some(c)
}

/// A word for a POSIX shell: as is when safe, single-quoted otherwise.
pub(super) fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
