//! Renderings of an explained error: [`human`] for a person (headline first, then what the
//! message proves, the cause and fix or the rules, and the next step), [`html`], the same as
//! one self-contained HTML page, and [`json`] for programs (schema `why403.explanation/v1`,
//! described in docs/errors.md).

use std::fmt::Write as _;

use serde_json::{Value, json as j};

use super::explain::{Explanation, Kind};
use super::rules::RuleStatus;
use super::{Envelope, Parsed};
use why403_core::render::{Out, Page, outln};

/// The `schema` field of the JSON rendering.
pub const SCHEMA_ID: &str = "why403.explanation/v1";

/// Renders for a person.
pub fn human(p: &Parsed, x: &Explanation) -> String {
    // Everything goes through `Out`, which escapes what came from the pasted text.
    let mut out = Out::new(false);
    let label = kind_label(x.kind);
    outln!(out, "{label}: {}", x.headline);
    let from = sources(p);
    if !from.is_empty() {
        outln!(out, "  from: {}", from.join(", "));
    }
    if !x.proves.is_empty() {
        out.newline().line("the message proves:");
        for f in &x.proves {
            outln!(out, "  - {f}");
        }
    }
    if let Some(c) = &x.cause {
        out.newline();
        outln!(out, "cause: {c}");
    }
    if let Some(f) = &x.fix {
        outln!(out, "fix: {f}");
    }
    if !x.rules.is_empty() {
        out.newline().line("rules:");
        rules(&mut out, x);
    }
    if x.command.is_some() || !x.evidence.is_empty() {
        out.newline().line("next step:");
    }
    if let Some(c) = &x.command {
        outln!(out, "  {c}");
    }
    if !x.evidence.is_empty() {
        out.line(if x.command.is_some() {
            "  or read the evidence yourself:"
        } else {
            "  read the evidence:"
        });
        for e in &x.evidence {
            let _ = write!(out, "    - {}", e.what);
            if let Some(c) = &e.command {
                let _ = write!(out, ": `{c}`");
            }
            if !e.needs.is_empty() {
                let needs: Vec<String> = e.needs.iter().map(|n| format!("`{n}`")).collect();
                let _ = write!(out, " (needs {})", needs.join(", "));
            }
            if let Some(n) = &e.note {
                let _ = write!(out, "; {n}");
            }
            out.newline();
        }
    }
    if !x.notes.is_empty() {
        out.newline();
        for n in &x.notes {
            outln!(out, "note: {n}");
        }
    }
    out.finish()
}

/// The rules grouped by what the message says about them and why: status, why, `scope/id`s.
fn rule_groups(x: &Explanation) -> Vec<(&'static str, &str, Vec<String>)> {
    let mut groups: Vec<(RuleStatus, &str, Vec<String>)> = Vec::new();
    for r in &x.rules {
        let at = match groups.iter().position(|g| g.0 == r.status && g.1 == r.why) {
            Some(i) => i,
            None => {
                groups.push((r.status, &r.why, Vec::new()));
                groups.len() - 1
            }
        };
        groups[at].2.push(format!("{}/{}", r.scope, r.id));
    }
    groups
        .into_iter()
        .map(|(status, why, ids)| {
            let status = match status {
                RuleStatus::RuledIn => "ruled in",
                RuleStatus::Possible => "possible",
                RuleStatus::RuledOut => "ruled out",
            };
            (status, why, ids)
        })
        .collect()
}

/// The rules grouped by what the message says about them and why.
fn rules(out: &mut Out, x: &Explanation) {
    for (status, why, ids) in rule_groups(x) {
        outln!(out, "  {status}: {why}");
        for id in ids {
            outln!(out, "    {id}");
        }
    }
}

fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::AccessDenied => "access denied",
        Kind::NotAuthorization => "not authorization",
        Kind::Unexplained => "unexplained",
        Kind::Unrecognised => "not recognised",
    }
}

/// Where the message came from: envelope, code, HTTP status, request id.
fn sources(p: &Parsed) -> Vec<String> {
    let mut from = Vec::new();
    if p.envelope != Envelope::Unknown {
        from.push(p.envelope.describe().to_owned());
    }
    if let Some(c) = &p.code {
        from.push(format!("code `{c}`"));
    }
    if let Some(s) = p.http_status {
        from.push(format!("HTTP {s}"));
    }
    if let Some(r) = &p.request_id {
        from.push(format!("request id `{r}`"));
    }
    from
}

/// Renders as one self-contained HTML page (inline CSS, no script, no external reference),
/// every value from the pasted text escaped.
pub fn html(p: &Parsed, x: &Explanation) -> String {
    let label = kind_label(x.kind);
    let mut page = Page::new(&format!("why403 explain: {label}"));
    let class = match x.kind {
        Kind::AccessDenied => "verdict denied",
        Kind::NotAuthorization | Kind::Unexplained => "verdict indeterminate",
        Kind::Unrecognised => "verdict",
    };
    page.open("header", class)
        .open("p", "badge")
        .text(label)
        .close("p")
        .el("h1", "", &x.headline);
    let from = sources(p);
    if !from.is_empty() {
        page.el("p", "", &format!("from: {}", from.join(", ")));
    }
    page.close("header");
    page.list_section("proves", "What the message proves", &x.proves);
    if x.cause.is_some() || x.fix.is_some() {
        page.open_id("section", "cause")
            .el("h2", "", "Cause")
            .open("dl", "facts");
        if let Some(c) = &x.cause {
            page.kv("cause", c);
        }
        if let Some(f) = &x.fix {
            page.kv("fix", f);
        }
        page.close("dl").close("section");
    }
    if !x.rules.is_empty() {
        page.open_id("section", "rules").el("h2", "", "Rules");
        for (status, why, ids) in rule_groups(x) {
            page.el("h3", "", &format!("{status}: {why}"))
                .open("ul", "");
            for id in ids {
                page.el("li", "", &format!("`{id}`"));
            }
            page.close("ul");
        }
        page.close("section");
    }
    if x.command.is_some() || !x.evidence.is_empty() {
        page.open_id("section", "next").el("h2", "", "Next step");
        if let Some(c) = &x.command {
            page.open("pre", "").text(c).close("pre");
        }
        if !x.evidence.is_empty() {
            page.el(
                "p",
                "",
                if x.command.is_some() {
                    "or read the evidence yourself:"
                } else {
                    "read the evidence:"
                },
            )
            .open("table", "")
            .raw("<tr><th>evidence</th><th>command</th><th>IAM actions it needs</th><th>note</th></tr>\n");
            for e in &x.evidence {
                let needs: Vec<String> = e.needs.iter().map(|n| format!("`{n}`")).collect();
                page.raw("<tr><td>").prose(&e.what).raw("</td><td>");
                if let Some(c) = &e.command {
                    page.raw("<code>").text(c).raw("</code>");
                }
                page.raw("</td><td>")
                    .prose(&needs.join(", "))
                    .raw("</td><td>")
                    .prose(e.note.as_deref().unwrap_or(""))
                    .raw("</td></tr>\n");
            }
            page.close("table");
        }
        page.close("section");
    }
    page.list_section("notes", "Notes", &x.notes);
    page.finish()
}

/// Renders for programs: the parsed fields and the explanation (each rule with its scope and
/// id).
pub fn json(p: &Parsed, x: &Explanation) -> Value {
    let explanation = serde_json::to_value(x).unwrap_or(Value::Null);
    j!({
        "schema": SCHEMA_ID,
        "recognised": p.is_recognised(),
        "parsed": serde_json::to_value(p).unwrap_or(Value::Null),
        "explanation": explanation,
    })
}
