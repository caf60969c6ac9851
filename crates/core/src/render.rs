//! Renderers of a [`Diagnosis`]: [`human`] for a person at a terminal (verdict and cause first,
//! then compiler-style snippets of the policies, fixes and what could not be read), [`json`]
//! for programs (the versioned schema in `schema/report.schema.json`, described in
//! `docs/output-format.md`), [`html`] for a browser (one self-contained page, with the
//! evaluation path of each check drawn by [`path_svg`]), and [`plain_findings`], a stable plain
//! text for snapshot tests.
//!
//! Renderers only read a diagnosis: no I/O, and no terminal detection (the caller decides
//! whether to colour). Every value in a diagnosis may come from hostile input: the human and
//! plain renderings write only through [`Out`], which escapes what a terminal would act on,
//! and [`json_text`] writes JSON with the same characters as `\u` escapes (see [`escape`]); the
//! HTML page escapes markup characters too ([`html_escape`]).

mod html;
mod human;
mod json;
mod out;
pub mod path_svg;
mod plain;
mod snippet;
mod style;

pub use crate::outln;
pub use html::{Page, escape as html_escape, html};
pub use human::{HumanOptions, human};
pub use json::{SCHEMA_ID, json};
pub use out::Out;
pub use out::{escape, json_text, needs_escape};
pub use plain::plain_findings;
pub use style::Style;

use crate::analysis::{Check, CheckOutcome, Missing, Verdict};
use crate::eval::{Decision, Layer, RequestPrincipal, StatementRef};
use crate::finding::{Confidence, Diagnosis, Role, Verification, layer_words, still_denied_by};
use crate::policy::AwsPrincipal;

/// The verdict in one lower-case word: `allowed`, `denied` or `indeterminate`.
pub fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Allowed => "allowed",
        Verdict::Denied => "denied",
        Verdict::Indeterminate { .. } => "indeterminate",
    }
}

/// The cause of the verdict in one sentence (without the verdict word): the first cause's
/// message when the upload is denied, what the outcome depends on when it is indeterminate.
pub fn cause_sentence(d: &Diagnosis) -> String {
    match &d.verdict {
        Verdict::Denied => {
            let mut causes = d.findings.iter().filter(|f| f.role == Role::Cause);
            match causes.next() {
                Some(first) => {
                    let more = causes.count();
                    match more {
                        0 => first.message.clone(),
                        1 => format!("{} (and 1 more cause)", first.message),
                        n => format!("{} (and {n} more causes)", first.message),
                    }
                }
                None => still_denied_by(&d.analysis)
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| "no check explains the refusal".to_owned()),
            }
        }
        Verdict::Allowed => {
            let actions: Vec<String> = d
                .analysis
                .checks
                .iter()
                .map(|c| format!("`{}`", c.action))
                .collect();
            if actions.is_empty() {
                "every authorization the upload needs is granted".to_owned()
            } else {
                format!(
                    "every authorization the upload needs is granted: {}",
                    actions.join(", ")
                )
            }
        }
        Verdict::Indeterminate { missing } => {
            if missing.is_empty() {
                "the outcome depends on evidence that could not be read".to_owned()
            } else {
                let what: Vec<&str> = missing.iter().map(|m| m.what.as_str()).collect();
                format!(
                    "the outcome depends on evidence that could not be read: {}",
                    what.join(", ")
                )
            }
        }
    }
}

pub(crate) fn role_word(r: Role) -> &'static str {
    match r {
        Role::Cause => "cause",
        Role::Contributing => "contributing",
        Role::Observation => "observation",
    }
}

pub(crate) fn confidence_word(c: Confidence) -> &'static str {
    match c {
        Confidence::Confirmed => "confirmed",
        Confidence::Likely => "likely",
        Confidence::Possible => "possible",
    }
}

pub(crate) fn outcome_word(o: &CheckOutcome) -> &'static str {
    match o {
        CheckOutcome::Allowed => "allowed",
        CheckOutcome::Denied => "denied",
        CheckOutcome::Indeterminate => "indeterminate",
    }
}

pub(crate) fn decision_word(d: Decision) -> &'static str {
    match d {
        Decision::Allowed => "allowed",
        Decision::ImplicitlyDenied => "implicitly_denied",
        Decision::ExplicitlyDenied => "explicitly_denied",
    }
}

/// `cannot see: <what> (<reason>); reading it needs <actions>`, without the `cannot see: `.
pub(crate) fn missing_text(m: &Missing) -> String {
    let u = &m.unavailable;
    let mut s = format!("{} ({})", m.what, u.reason);
    if !u.needs.is_empty() {
        let needs: Vec<String> = u.needs.iter().map(|n| format!("`{n}`")).collect();
        s.push_str("; reading it needs ");
        s.push_str(&needs.join(", "));
    }
    s
}

/// A fix's verification for people, in three parts: `verified` or `not verified`, the status
/// (`resolves`, `still denied`, why it was not verified) and details (` by: ...`).
pub(crate) fn verification_parts(v: &Verification) -> (&'static str, String, String) {
    match v {
        Verification::Resolves => ("verified", "resolves".to_owned(), String::new()),
        Verification::StillDenied { by } if by.is_empty() => {
            ("verified", "still denied".to_owned(), String::new())
        }
        Verification::StillDenied { by } => (
            "verified",
            "still denied".to_owned(),
            format!(" by: {}", by.join("; ")),
        ),
        Verification::Indeterminate { missing } => (
            "not verified",
            "the result then depends on evidence that could not be read".to_owned(),
            format!(": {}", missing.join(", ")),
        ),
        Verification::NotChecked { why } => ("not verified", why.clone(), String::new()),
    }
}

/// `statement `Sid` of <policy name>`, for a statement a check's evaluation points at.
pub(crate) fn statement_words(c: &Check, at: StatementRef) -> String {
    match c.set.policy(at) {
        Some(p) => {
            let st = p.statements.get(at.statement as usize).map(|s| s.label());
            format!(
                "statement `{}` of {}",
                st.unwrap_or_else(|| format!("#{}", at.statement)),
                p.name
            )
        }
        None => format!("the {}", layer_words(at.layer)),
    }
}

fn level_words(layer: Layer, level: u16) -> String {
    match layer {
        Layer::Scp | Layer::Rcp => format!("{} at organization level {level}", layer_words(layer)),
        _ => layer_words(layer).to_owned(),
    }
}

/// How a check came out, in words: `denied: explicit deny in statement ...`, `allowed via
/// grant ...`, `indeterminate: depends on ...`.
pub(crate) fn check_summary(c: &Check) -> String {
    let (word, detail) = check_parts(c);
    format!("{word}{detail}")
}

/// [`check_summary`] as the outcome word and the rest.
pub(crate) fn check_parts(c: &Check) -> (&'static str, String) {
    let mut why = Vec::new();
    match c.outcome {
        CheckOutcome::Denied => {
            why.extend(c.blocks.iter().map(|b| b.message.clone()));
            match c.eval.decision {
                Decision::ExplicitlyDenied => {
                    let real: Vec<_> = c
                        .eval
                        .deciding
                        .iter()
                        .filter(|at| !c.is_synthetic(at.layer, at.level))
                        .collect();
                    why.extend(
                        real.iter()
                            .map(|at| format!("explicit deny in {}", statement_words(c, **at))),
                    );
                    if c.eval.deciding.is_empty() {
                        why.extend(
                            c.eval.blocked_by.iter().map(|b| {
                                format!("refused by the {}", level_words(b.layer, b.level))
                            }),
                        );
                    }
                }
                Decision::ImplicitlyDenied => {
                    why.extend(
                        c.eval
                            .blocked_by
                            .iter()
                            .map(|b| format!("no {} allows it", level_words(b.layer, b.level))),
                    );
                }
                Decision::Allowed => {}
            }
        }
        CheckOutcome::Allowed => {
            if let Some(g) = &c.kms_grant {
                return ("allowed", format!(" via {g}"));
            }
            // The grant comes from identity and resource policies; the allows of SCPs, RCPs,
            // boundaries and session policies only let it through.
            let real: Vec<StatementRef> = c
                .eval
                .deciding
                .iter()
                .copied()
                .filter(|at| !c.is_synthetic(at.layer, at.level))
                .collect();
            let grants: Vec<StatementRef> = real
                .iter()
                .copied()
                .filter(|at| matches!(at.layer, Layer::Identity | Layer::Resource))
                .collect();
            let by: Vec<String> = if grants.is_empty() { &real } else { &grants }
                .iter()
                .map(|at| statement_words(c, *at))
                .collect();
            let mut s = String::new();
            if !by.is_empty() {
                s.push_str(" by ");
                s.push_str(&by.join(" and "));
            }
            if c.eval.grant_from_acl {
                s.push_str(if by.is_empty() {
                    " by the bucket ACL"
                } else {
                    " and the bucket ACL"
                });
            }
            return ("allowed", s);
        }
        CheckOutcome::Indeterminate => {
            let what: Vec<&str> = c.missing.iter().map(|m| m.what.as_str()).collect();
            let detail = if what.is_empty() {
                String::new()
            } else {
                format!(": depends on {}", what.join(", "))
            };
            return ("indeterminate", detail);
        }
    }
    (
        "denied",
        if why.is_empty() {
            String::new()
        } else {
            format!(": {}", why.join("; "))
        },
    )
}

/// The caller as an ARN (or `anonymous`), as the request names it or as derived from the
/// evidence.
pub(crate) fn caller_text(d: &Diagnosis) -> Option<String> {
    match &d.analysis.principal {
        Some(RequestPrincipal::Anonymous) => Some("anonymous".to_owned()),
        Some(RequestPrincipal::Service(s)) => Some(s.clone()),
        Some(RequestPrincipal::Aws(AwsPrincipal::Account { account })) => {
            Some(format!("arn:aws:iam::{account}:root"))
        }
        Some(p) => p
            .arn()
            .map(str::to_owned)
            .or_else(|| d.analysis.request.principal.clone()),
        None => d.analysis.request.principal.clone(),
    }
}

/// Every unreadable piece of evidence that matters to the verdict or a check, once each.
pub(crate) fn all_missing(d: &Diagnosis) -> Vec<&Missing> {
    let mut out: Vec<&Missing> = Vec::new();
    let verdict = match &d.verdict {
        Verdict::Indeterminate { missing } => missing.as_slice(),
        _ => &[],
    };
    let checks = d.analysis.checks.iter().flat_map(|c| c.missing.iter());
    for m in verdict.iter().chain(&d.analysis.missing).chain(checks) {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}
