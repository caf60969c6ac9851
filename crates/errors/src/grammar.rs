//! The message inside the envelope (docs/aws-model.md#message-text): `User: <arn> is not authorized to
//! perform: <action>[ on resource: "<arn>"| on this resource] <reason>[: <policy ARN>][. Go to
//! ... authorization id: <id>]`, the generic `Access Denied`, the S3 and KMS specials, and the
//! fixed messages of non-authorization errors (which imply their code).

use super::errors::code_for_message;
use super::text::Text;
use super::{Parsed, PolicyType, Special, excerpt};

/// Policy type phrases, longest first where one starts another.
const POLICY_TYPES: &[(&str, PolicyType)] = &[
    ("identity-based policies", PolicyType::IdentityBased),
    ("identity-based policy", PolicyType::IdentityBased),
    ("identity based policy", PolicyType::IdentityBased),
    ("resource-based policies", PolicyType::ResourceBased),
    ("resource-based policy", PolicyType::ResourceBased),
    ("resource based policy", PolicyType::ResourceBased),
    ("permissions boundary", PolicyType::PermissionsBoundary),
    ("permission boundary", PolicyType::PermissionsBoundary),
    ("permissions boundaries", PolicyType::PermissionsBoundary),
    ("sessions policy", PolicyType::SessionPolicy),
    ("session policy", PolicyType::SessionPolicy),
    ("service control policy", PolicyType::Scp),
    ("resource control policy", PolicyType::Rcp),
    ("vpc endpoint policy", PolicyType::VpcEndpoint),
    ("role trust policy", PolicyType::RoleTrust),
    ("trust policy", PolicyType::RoleTrust),
];

/// Phrases of the special reasons, searched anywhere in the message.
const SPECIALS: &[(&str, Special)] = &[
    ("by the BlockPublicAcls setting", Special::BlockPublicAcls),
    (
        "by the BlockPublicPolicy setting",
        Special::BlockPublicPolicy,
    ),
    (
        "Server Side Encryption with Customer provided keys",
        Special::SseCBlocked,
    ),
    (
        "the resource does not exist in this Region",
        Special::KmsNotFoundOrDenied,
    ),
];

/// Reads the message into `p`. An empty message does nothing; a message that matches no
/// known form is recorded as unrecognised unless its code explains it.
pub(super) fn message(m: &Text, p: &mut Parsed) {
    if m.is_empty() {
        return;
    }
    let before = p.recognised.len();
    let typed = typed(m, p);
    let mut known = typed;
    for (phrase, special) in SPECIALS {
        if m.contains(phrase) {
            p.special = Some(*special);
            p.note("special");
            if *special == Special::KmsNotFoundOrDenied {
                // Not found, no key policy allows, or the key policy denies: the key's policy
                // either way, explicit or not.
                p.policy_type.get_or_insert(PolicyType::ResourceBased);
            }
            known = true;
            break;
        }
    }
    if let Some((_, after)) = m.find(0, m.len(), "authorization id:") {
        let (id, _) = m.token(m.skip_spaces(after), b"\"'<>(),;");
        let id = id.trim_end_matches('.');
        if Parsed::set(&mut p.authorization_id, id) {
            p.note("authorization-id");
        }
    }
    let plain = m.plain(0, m.len());
    if !typed && is_generic(m) {
        p.details.generic = true;
        p.note("generic-message");
        known = true;
    } else if !typed && m.match_at(0, "forbidden") == Some(m.len()) {
        // The reason phrase of a `HEAD` response, which has no body to carry a message.
        p.note("status-only");
        known = true;
    }
    if let Some(code) = code_for_message(m) {
        if Parsed::set(&mut p.code, code) {
            p.note("code");
        }
        p.note("known-message");
        known = true;
        fixed_message_facts(m, p);
    }
    if SIGV4A_UNAVAILABLE.iter().any(|phrase| m.contains(phrase)) {
        p.details.sigv4a_unavailable = true;
        p.note("known-message");
        known = true;
    }
    if p.code
        .as_deref()
        .is_some_and(|c| c.get(..4).is_some_and(|k| k.eq_ignore_ascii_case("KMS.")))
        && p.details.kms_key.is_none()
    {
        p.details.kms_key = kms_key(m);
    }
    let envelope_known = p.envelope != super::Envelope::Unknown;
    if envelope_known || p.recognised.len() > before {
        Parsed::set(&mut p.message, plain.clone());
    }
    let code_explains = p.code.as_deref().is_some_and(super::errors::explains_code);
    if !known && !code_explains && envelope_known {
        p.unrecognised = Some(excerpt(&plain));
    }
}

/// What SDKs say when they cannot sign a Multi-Region Access Point request with SigV4A, before
/// sending it: botocore (boto3, AWS CLI v1; its `MissingDependencyException`), the JavaScript
/// SDK v3, the Java SDK v2 and the Ruby SDK.
const SIGV4A_UNAVAILABLE: &[&str] = &[
    "Using S3 with an MRAP arn requires an additional dependency",
    "Neither CRT nor JS SigV4a implementation is available",
    "'aws.auth#sigv4a' signer could not be retrieved",
    "attempting to sign a request with sigv4a which requires aws-crt",
];

/// The generic `Access Denied` (with whatever a log put before it).
fn is_generic(m: &Text) -> bool {
    let mut from = 0;
    while let Some((start, end)) = m.find(from, m.len(), "access denied") {
        let end = m.skip_spaces(m.match_at(end, ".").unwrap_or(end));
        let before = m.as_str().get(..start).unwrap_or_default().trim_end();
        if end >= m.len() && (before.is_empty() || before.ends_with(':')) {
            return true;
        }
        from = start + 1;
    }
    false
}

/// `User: <arn> is not authorized to perform: <action> ...`. Returns whether it matched.
fn typed(m: &Text, p: &mut Parsed) -> bool {
    let Some((na, na_end)) = m.find(0, m.len(), "is not authorized to perform") else {
        return false;
    };
    p.note("typed-message");
    if let Some((_, user_end)) = m.rfind(0, na, "User:") {
        let principal = m.compact(user_end, na);
        let principal = principal.trim_matches(['"', '\'']);
        if !principal.is_empty()
            && principal.len() <= 2048
            && Parsed::set(&mut p.principal, principal)
        {
            p.note("principal");
        }
    }
    let action_start = m.skip_spaces(m.match_at(na_end, ":").unwrap_or(na_end));
    let terminators = [
        " on resource:",
        " on this resource",
        " with an explicit deny",
        " because ",
    ];
    let next = |from: usize, pats: &[&str]| -> (usize, usize, usize) {
        pats.iter()
            .enumerate()
            .filter_map(|(k, pat)| m.find(from, m.len(), pat).map(|(s, e)| (s, e, k)))
            .min()
            .unwrap_or((m.len(), m.len(), usize::MAX))
    };
    let (act_end, term_end, which) = next(action_start, &terminators);
    let action = m.compact(action_start, act_end);
    let action = action.trim_end_matches(['.', ',']);
    if !action.is_empty() && action.len() <= 256 && Parsed::set(&mut p.action, action) {
        p.note("action");
    }
    let mut reason_from = act_end;
    match which {
        0 => {
            let rs = m.skip_spaces(term_end);
            let resource;
            if m.match_at(rs, "\"").is_some() {
                let close = m.find(rs + 1, m.len(), "\"").map_or(m.len(), |x| x.0);
                resource = m.unwrap(rs + 1, close);
                reason_from = close + 1;
            } else {
                let (end, _, _) = next(rs, &terminators[2..]);
                resource = m.compact(rs, end).trim_end_matches('.').to_owned();
                reason_from = end;
            }
            if !resource.is_empty() && Parsed::set(&mut p.resource, resource) {
                p.note("resource");
            }
        }
        1 => {
            p.details.on_this_resource = true;
            p.note("resource");
            reason_from = term_end;
        }
        _ => {}
    }
    reason(m, reason_from, p);
    true
}

/// `with an explicit deny in <article> <type>[ transitively through a service control
/// policy][: <policy ARN>]` or `because no <type> allows the <action> action`.
fn reason(m: &Text, from: usize, p: &mut Parsed) {
    if let Some((_, e)) = m.find(from, m.len(), "with an explicit deny") {
        p.explicit = Some(true);
        p.note("reason");
        let mut i = m.skip_spaces(e);
        if let Some(after_in) = m.match_at(i, "in ") {
            i = after_in;
            for article in ["an ", "the ", "a "] {
                if let Some(a) = m.match_at(i, article)
                    && policy_type_at(m, a).is_some()
                {
                    i = a;
                    break;
                }
            }
            if let Some((t, end)) = policy_type_at(m, i) {
                p.policy_type = Some(t);
                p.note("policy-type");
                i = end;
                if let Some(end) = m.match_at(i, " transitively through a service control policy") {
                    p.details.via_scp = true;
                    i = end;
                }
                policy_arn(m, i, p);
            }
        }
        return;
    }
    if let Some((_, e)) = m.find(from, m.len(), "because no ") {
        p.explicit = Some(false);
        p.note("reason");
        if let Some((t, end)) = policy_type_at(m, e) {
            p.policy_type = Some(t);
            p.note("policy-type");
            // `allows the <action> action` repeats the action (AWS has typos in it: ignored).
            if p.action.is_none()
                && let Some(a) = m.match_at(end, " allows the ")
                && let Some((ae, _)) = m.find(a, m.len(), " action")
            {
                Parsed::set(&mut p.action, m.compact(a, ae));
                p.note("action");
            }
        }
    }
}

fn policy_type_at(m: &Text, i: usize) -> Option<(PolicyType, usize)> {
    POLICY_TYPES
        .iter()
        .find_map(|(words, t)| m.match_at(i, words).map(|end| (*t, end)))
}

/// `: <policy ARN>` after the policy type (2026 messages).
fn policy_arn(m: &Text, i: usize, p: &mut Parsed) {
    let Some(after) = m.match_at(i, " :") else {
        return;
    };
    let start = m.skip_spaces(after);
    let (arn, _) = m.token(start, b"\"'<>();");
    let arn = arn.trim_end_matches('.');
    if arn.get(..4).is_some_and(|a| a.eq_ignore_ascii_case("arn:"))
        && Parsed::set(&mut p.policy_arn, arn)
    {
        p.note("policy-arn");
    }
}

/// Facts in the fixed messages of non-authorization errors: Regions, and an expired
/// presigned URL.
fn fixed_message_facts(m: &Text, p: &mut Parsed) {
    if m.contains("Request has expired") {
        p.details.request_expired = true;
        p.details.presigned = true;
    }
    let quoted = |pat: &str| -> Option<String> {
        let (_, s) = m.find(0, m.len(), pat)?;
        let e = m.find(s, m.len(), "'")?.0;
        Some(m.compact(s, e)).filter(|v| !v.is_empty())
    };
    if let Some(r) = quoted("the region '") {
        p.details.region_used.get_or_insert(r);
    }
    if let Some(r) = quoted("expecting '") {
        p.details.region_expected = Some(r);
    }
}

/// The KMS key a `KMS.*` message names: `Key 'arn:...' does not exist`, `arn:... is disabled`.
fn kms_key(m: &Text) -> Option<String> {
    let mut from = 0;
    while let Some((s, _)) = m.find(from, m.len(), "arn:") {
        let (tok, end) = m.token(s, b"\"'<>();");
        if tok.contains(":kms:") {
            return Some(tok.trim_end_matches('.').to_owned());
        }
        from = end.max(s + 1);
    }
    None
}
