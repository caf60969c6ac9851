//! A plain, stable rendering of findings for snapshot tests: no colour, no file paths, one
//! fact per line. Rule crates snapshot it, so it changes only when a finding does, never
//! when the human rendering is restyled.

use super::{Out, outln};

use super::snippet::{Source, excerpt};
use crate::finding::howto::{command_line, howto};
use crate::finding::{Diagnosis, Finding, Verification};

/// Lines of source text shown under a label, at most.
const EXCERPT_LINES: usize = 6;

/// The findings of one rule (`id` or `scope/id`), or of every rule with `None`, as plain text.
pub fn plain_findings(d: &Diagnosis, rule_id: Option<&str>) -> String {
    let selected: Vec<&Finding> = d
        .findings
        .iter()
        .filter(|f| rule_id.is_none_or(|id| f.rule.id == id || f.rule.to_string() == id))
        .collect();
    let mut out = Out::new(false);
    if selected.is_empty() {
        outln!(
            out,
            "no findings{}",
            rule_id.map(|r| format!(" from `{r}`")).unwrap_or_default()
        );
    }
    for (i, f) in selected.iter().enumerate() {
        if i > 0 {
            out.newline();
        }
        finding(&mut out, f, d);
    }
    out.finish()
}

fn finding(out: &mut Out, f: &Finding, d: &Diagnosis) {
    outln!(out, "rule: {}", f.rule);
    outln!(out, "role: {}", super::role_word(f.role));
    outln!(out, "confidence: {}", super::confidence_word(f.confidence));
    outln!(out, "message: {}", f.message);
    if let Some(c) = &f.check {
        outln!(out, "check: {c}");
    }
    for l in &f.labels {
        let (line, col) = l.line_col();
        let kind = if l.primary { "primary" } else { "secondary" };
        outln!(
            out,
            "label ({kind}): {}#{} ({line}:{col}): {}",
            l.document,
            l.pointer,
            l.message
        );
        let src = Source::shared(&l.text, l.origin.as_ref());
        for text in excerpt(&src, l.span, EXCERPT_LINES) {
            outln!(out, "  | {}", text.trim_end());
        }
    }
    if let Some(fix) = &f.fix {
        outln!(out, "fix: {}", fix.description);
        for c in &fix.changes {
            outln!(out, "change: {}", canonical(&super::json::change(c)));
        }
        let verified = match &fix.verified {
            Verification::Resolves => "resolves".to_owned(),
            Verification::StillDenied { by } => format!("still denied by: {}", by.join("; ")),
            Verification::Indeterminate { missing } => {
                format!("indeterminate: depends on {}", missing.join(", "))
            }
            Verification::NotChecked { why } => format!("not checked: {why}"),
        };
        outln!(out, "verified: {verified}");
        for w in &fix.widens {
            outln!(out, "widens: {w}");
        }
        for step in howto(&d.analysis, fix, d.client).steps {
            outln!(out, "apply: {} {}", step.actor.sentence(), step.summary);
            for c in &step.client {
                outln!(out, "  {}: {}", c.client, c.text);
            }
            if let Some(doc) = &step.document {
                for line in doc.diff.lines() {
                    outln!(out, "  |{line}");
                }
            }
            for c in &step.commands {
                outln!(out, "  run: {}", command_line(c));
            }
            for n in &step.notes {
                outln!(out, "  note: {n}");
            }
        }
    }
    for m in &f.missing {
        outln!(out, "missing: {}", super::missing_text(m));
    }
    for n in &f.notes {
        outln!(out, "note: {n}");
    }
}

/// JSON with object keys sorted, whatever serde_json's `preserve_order` feature (which other
/// crates in a build may turn on) does to map order: snapshots must not depend on it.
fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::Value::String((*k).clone()),
                        canonical(&m[k.as_str()])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}
