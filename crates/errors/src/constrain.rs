//! A pasted error held against a diagnosis: what the message states (caller, action,
//! resource, policy type, explicit or implicit deny, the registered rules it rules in or
//! out) either agrees with what the evidence shows, which is noted, or contradicts it, which
//! is flagged as a `builtin/error-contradiction` finding: the evidence is then usually stale
//! or incomplete.

use why403_core::analysis::{Check, CheckOutcome, Verdict};
use why403_core::eval::{Decision, Layer};
use why403_core::finding::{Confidence, Diagnosis, Finding, Role, RuleRef, layer_words};
use why403_core::upload::UploadRequest;

use super::rules::{RuleStatus, hints};
use super::{Parsed, PolicyType};
use why403_core::rule::Registry;

/// The id (scope `builtin`) of a finding that says the message contradicts the evidence.
pub const ERROR_CONTRADICTION: &str = "error-contradiction";

/// Fills what the request leaves empty (caller, bucket, key) from the message, and returns
/// one note per field filled.
pub fn fill_request(p: &Parsed, request: &mut UploadRequest) -> Vec<String> {
    let mut notes = Vec::new();
    if request.principal.is_none()
        && let Some(who) = &p.principal
        && who.starts_with("arn:")
    {
        request.principal = Some(who.clone());
        notes.push(format!("the caller `{who}` is taken from the error"));
    }
    if request.bucket.is_empty()
        && let Some(b) = &p.bucket
    {
        request.bucket = b.clone();
        notes.push(format!("the bucket `{b}` is taken from the error"));
    }
    if request.key.is_empty()
        && let Some(k) = &p.key
    {
        request.key = k.clone();
        notes.push(format!("the key `{k}` is taken from the error"));
    }
    notes
}

/// Holds the message against the diagnosis: adds one `builtin/error-contradiction` finding
/// (an observation, confirmed) per contradiction, keeps the findings sorted, and returns
/// notes saying what the message agrees with.
pub fn constrain(p: &Parsed, d: &mut Diagnosis, registry: &Registry) -> Vec<String> {
    let mut contradictions = Vec::new();
    let mut notes = Vec::new();
    caller(p, d, &mut contradictions, &mut notes);
    resource(p, d, &mut contradictions, &mut notes);
    refusal(p, d, &mut contradictions, &mut notes);
    rules(p, d, registry, &mut contradictions, &mut notes);
    for (message, check) in contradictions {
        d.push(contradiction(message, check));
    }
    notes
}

fn contradiction(message: String, check: Option<String>) -> Finding {
    Finding {
        rule: RuleRef {
            scope: "builtin".into(),
            id: ERROR_CONTRADICTION.into(),
        },
        role: Role::Observation,
        confidence: Confidence::Confirmed,
        message,
        check,
        labels: Vec::new(),
        fix: None,
        missing: Vec::new(),
        notes: vec![
            "refresh the evidence (or read the layer the error names) and diagnose again".into(),
        ],
        claims: Vec::new(),
    }
}

type Out = Vec<(String, Option<String>)>;

const STALE: &str = "the evidence may be stale or incomplete";

fn caller(p: &Parsed, d: &Diagnosis, out: &mut Out, notes: &mut Vec<String>) {
    let Some(said) = p.principal.as_deref().filter(|s| s.starts_with("arn:")) else {
        return;
    };
    let diagnosed = d
        .analysis
        .principal
        .as_ref()
        .and_then(|x| x.arn())
        .map(str::to_owned)
        .or_else(|| d.analysis.request.principal.clone());
    match diagnosed {
        Some(got) if got.eq_ignore_ascii_case(said) => {
            notes.push(format!("the error and the diagnosis agree on the caller `{said}`"));
        }
        Some(got) => out.push((
            format!(
                "the error names the caller `{said}` but the diagnosed request is from `{got}`: the diagnosis is about another caller"
            ),
            None,
        )),
        None => {}
    }
}

fn resource(p: &Parsed, d: &Diagnosis, out: &mut Out, notes: &mut Vec<String>) {
    let r = &d.analysis.request;
    if let (Some(b), false) = (&p.bucket, r.bucket.is_empty())
        && !b.eq_ignore_ascii_case(&r.bucket)
    {
        out.push((
            format!(
                "the error names the bucket `{b}` but the diagnosed upload goes to `{}`",
                r.bucket
            ),
            None,
        ));
        return;
    }
    if let (Some(k), false) = (&p.key, r.key.is_empty())
        && !k.is_empty()
        && *k != r.key
    {
        out.push((
            format!(
                "the error names the key `{k}` but the diagnosed upload writes `{}`",
                r.key
            ),
            None,
        ));
    } else if p.bucket.is_some() && p.key.is_some() {
        notes.push(format!(
            "the error and the diagnosis agree on the object `{}`",
            r.object_arn()
        ));
    }
}

/// The check the message speaks of: the one for its action, or else the denied checks.
fn checks_for<'a>(p: &Parsed, d: &'a Diagnosis) -> Vec<&'a Check> {
    match &p.action {
        Some(a) => d
            .analysis
            .checks
            .iter()
            .filter(|c| c.action.eq_ignore_ascii_case(a))
            .collect(),
        None => d.analysis.denied_checks().collect(),
    }
}

fn layer_of(t: PolicyType) -> Option<Layer> {
    Some(match t {
        PolicyType::IdentityBased => Layer::Identity,
        PolicyType::ResourceBased => Layer::Resource,
        PolicyType::PermissionsBoundary => Layer::Boundary,
        PolicyType::SessionPolicy => Layer::Session,
        PolicyType::Scp => Layer::Scp,
        PolicyType::Rcp => Layer::Rcp,
        PolicyType::VpcEndpoint => Layer::VpcEndpoint,
        PolicyType::RoleTrust => return None,
    })
}

/// What the evidence shows refused a check, in words.
fn shown(c: &Check) -> String {
    let mut layers: Vec<&str> = Vec::new();
    match c.eval.decision {
        Decision::ExplicitlyDenied => {
            for at in &c.eval.deciding {
                let w = layer_words(at.layer);
                if !layers.contains(&w) {
                    layers.push(w);
                }
            }
            if layers.is_empty() {
                return "an explicit deny".to_owned();
            }
            format!("an explicit deny in the {}", layers.join(" and the "))
        }
        Decision::ImplicitlyDenied => {
            for b in &c.eval.blocked_by {
                let w = layer_words(b.layer);
                if !layers.contains(&w) {
                    layers.push(w);
                }
            }
            if layers.is_empty() {
                return "an implicit deny".to_owned();
            }
            format!("that no {} allows it", layers.join(" or "))
        }
        Decision::Allowed if !c.blocks.is_empty() => c
            .blocks
            .iter()
            .map(|b| b.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        Decision::Allowed => "that the policies allow it".to_owned(),
    }
}

fn said(p: &Parsed, t: PolicyType) -> String {
    match p.explicit {
        Some(true) => format!("explicit deny in a {}", t.words()),
        Some(false) => format!("no {} allows", t.words()),
        None => format!("denied by a {}", t.words()),
    }
}

fn refusal(p: &Parsed, d: &Diagnosis, out: &mut Out, notes: &mut Vec<String>) {
    let denial = p.policy_type.is_some()
        || p.special.is_some()
        || p.details.generic
        || p.code.as_deref() == Some("AccessDenied");
    if !denial {
        return;
    }
    let checks = checks_for(p, d);
    if let Some(a) = &p.action
        && checks.is_empty()
    {
        if !d.analysis.checks.is_empty() {
            let needs = d
                .analysis
                .checks
                .iter()
                .map(|c| format!("`{}`", c.action))
                .collect::<Vec<_>>()
                .join(", ");
            out.push((
                format!(
                    "the error says `{a}` was refused but the diagnosed upload does not need it (it needs {needs}): the request may differ from the one that failed (a multipart upload, another client or encryption setting)"
                ),
                Some(a.clone()),
            ));
        }
        return;
    }
    if d.analysis.verdict == Verdict::Allowed
        || checks.iter().all(|c| c.outcome == CheckOutcome::Allowed)
    {
        if matches!(d.analysis.verdict, Verdict::Indeterminate { .. }) && checks.is_empty() {
            return;
        }
        let what = p
            .action
            .as_deref()
            .map_or_else(|| "the upload".to_owned(), |a| format!("`{a}`"));
        out.push((
            format!("the error says {what} was refused but the evidence allows it: {STALE}"),
            p.action.clone(),
        ));
        return;
    }
    let Some(t) = p.policy_type else {
        return;
    };
    let Some(layer) = layer_of(t) else {
        return;
    };
    for c in checks {
        let explicit_here = c.eval.decision == Decision::ExplicitlyDenied;
        let in_layer = if explicit_here {
            c.eval.deciding.iter().any(|at| at.layer == layer)
        } else {
            c.eval.blocked_by.iter().any(|b| b.layer == layer)
        };
        let unread = c.synthetic.iter().any(|(l, _)| *l == layer);
        let agrees = match p.explicit {
            Some(e) => e == explicit_here && in_layer,
            None => in_layer,
        } && c.outcome == CheckOutcome::Denied;
        let action = &c.action;
        if agrees {
            notes.push(format!(
                "the error agrees with the evidence: `{}` for `{action}`",
                said(p, t)
            ));
        } else if unread && c.outcome != CheckOutcome::Allowed {
            notes.push(format!(
                "the error says `{}` for `{action}`, which the evidence could not read: the error fills that gap",
                said(p, t)
            ));
        } else if c.outcome == CheckOutcome::Denied || c.outcome == CheckOutcome::Indeterminate {
            let short = match t {
                PolicyType::Scp => "SCP".to_owned(),
                PolicyType::Rcp => "RCP".to_owned(),
                other => other.words().to_owned(),
            };
            let none = if p.explicit == Some(false) {
                format!("the {short} allows `{action}`")
            } else {
                format!("no {short} denies `{action}`")
            };
            out.push((
                format!(
                    "the error says `{}` but the evidence shows {none} (it shows {}): {STALE}",
                    said(p, t),
                    shown(c)
                ),
                Some(action.clone()),
            ));
        }
    }
}

fn rules(p: &Parsed, d: &Diagnosis, registry: &Registry, out: &mut Out, notes: &mut Vec<String>) {
    let hints = hints(p, registry);
    for f in d.findings.iter().filter(|f| f.role == Role::Cause) {
        let Some(h) = hints
            .iter()
            .find(|h| h.id == f.rule.id && h.scope == f.rule.scope)
        else {
            continue;
        };
        match h.status {
            RuleStatus::RuledIn | RuleStatus::Possible => notes.push(format!(
                "the error points to the diagnosed cause `{}`: {}",
                f.rule, h.why
            )),
            RuleStatus::RuledOut => out.push((
                format!(
                    "the error rules out the diagnosed cause `{}` ({}): {STALE}",
                    f.rule, h.why
                ),
                f.check.clone(),
            )),
        }
    }
}

impl why403_core::Observed for Parsed {
    fn constrain(&self, diagnosis: &mut Diagnosis, registry: &Registry) -> Vec<String> {
        constrain(self, diagnosis, registry)
    }

    fn client(&self) -> Option<why403_core::client::Client> {
        use why403_core::client::Client;
        match self.envelope {
            // Also boto3's wording; the AWS CLI is the more common sender of a pasted message.
            crate::Envelope::AwsCli | crate::Envelope::S3Transfer => Some(Client::Cli),
            crate::Envelope::GoV2
            | crate::Envelope::GoV1
            | crate::Envelope::JavaV1
            | crate::Envelope::JavaV2 => Some(Client::Sdk),
            _ => None,
        }
    }
}
