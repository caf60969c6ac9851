//! The triage report: each group with its outcome and whether it is suppressed, and its three
//! renderings: a table for people, JSON Lines for programs (schema `why403.triage/v1`, one
//! line per group), and one self-contained HTML page.

use std::fmt::Write as _;

use serde_json::json;
use why403_core::render::Page;
use why403_core::render::escape;

use crate::group::{Counts, Group};
use crate::model::Outcome;
use crate::read::Problem;
use crate::suppress::Suppression;

/// The JSON Lines schema id.
pub const SCHEMA_ID: &str = "why403.triage/v1";

/// One group, diagnosed.
#[derive(Debug, Clone)]
pub struct Row {
    /// The group.
    pub group: Group,
    /// Its outcome.
    pub outcome: Outcome,
    /// The suppress rule that matches it, if any.
    pub suppressed: Option<Suppression>,
}

/// Everything a triage found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The groups, largest first.
    pub rows: Vec<Row>,
    /// What was read.
    pub counts: Counts,
    /// What was skipped (the first ones; `counts.skipped` counts all).
    pub problems: Vec<Problem>,
}

impl Report {
    /// Groups not suppressed.
    pub fn open(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.suppressed.is_none())
    }

    /// Records in suppressed groups.
    pub fn suppressed_records(&self) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.suppressed.is_some())
            .map(|r| r.group.count)
            .sum()
    }
}

/// The caller in a few words: `role Uploader (111122223333)`, `user alice (...)`.
pub fn caller_words(g: &Group) -> String {
    let c = &g.key.caller;
    let account = c.split(':').nth(4).unwrap_or_default();
    let resource = c.rsplit_once(':').map_or(c.as_str(), |(_, r)| r);
    if let Some(role) = resource.strip_prefix("role/") {
        return format!("role {role} ({account})");
    }
    if let Some(user) = resource.strip_prefix("user/") {
        return format!(
            "user {} ({account})",
            user.rsplit('/').next().unwrap_or(user)
        );
    }
    if resource == "root" {
        return format!("root ({account})");
    }
    if let Some(id) = c.strip_prefix("canonical-user:") {
        let short: String = id.chars().take(12).collect();
        return format!("canonical user {short}…");
    }
    c.clone()
}

fn short_time(t: &str) -> String {
    // 2026-12-05T10:00:00Z → 2026-12-05 10:00
    match (t.get(..10), t.get(10..11), t.get(11..16)) {
        (Some(day), Some("T"), Some(hm)) => format!("{day} {hm}"),
        _ => t.to_owned(),
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn cause_words(o: &Outcome) -> String {
    if o.causes.is_empty() {
        match o.verdict.as_str() {
            "allowed" => "(allowed now)".to_owned(),
            "indeterminate" => "(indeterminate)".to_owned(),
            _ => "-".to_owned(),
        }
    } else if o.basis == crate::model::Basis::Records && o.causes.len() > 1 {
        format!("one of: {}", o.causes.join(", "))
    } else {
        o.causes.join(", ")
    }
}

/// `1 call`, `2 calls`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The table for people, with a numbered list of each group's cause and fix under it.
pub fn table(r: &Report) -> String {
    let mut out = String::new();
    let open: Vec<&Row> = r.open().collect();
    let c = &r.counts;
    let _ = writeln!(
        out,
        "{} records read: {} refused upload calls in {} groups{}{}",
        c.records,
        c.selected,
        r.rows.len(),
        match r.rows.len() - open.len() {
            0 => String::new(),
            n => format!(", {n} suppressed ({} records)", r.suppressed_records()),
        },
        match c.skipped {
            0 => String::new(),
            n => format!(", {n} skipped (below)"),
        }
    );
    if let Some(w) = no_data_events(c) {
        let _ = writeln!(out, "warning: {w}");
    }
    if open.is_empty() {
        let _ = writeln!(out, "nothing left to look at");
    } else {
        let headers = [
            "#",
            "count",
            "first seen",
            "last seen",
            "caller",
            "bucket/prefix",
            "code",
            "cause",
            "verified",
        ];
        let rows: Vec<[String; 9]> = open
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let g = &row.group;
                [
                    (i + 1).to_string(),
                    g.count.to_string(),
                    short_time(&g.first_seen),
                    short_time(&g.last_seen),
                    cut(&caller_words(g), 40),
                    cut(&format!("{}/{}", g.key.bucket, g.key.prefix), 48),
                    g.key.code.clone(),
                    cut(&cause_words(&row.outcome), 44),
                    row.outcome.verified.clone(),
                ]
            })
            .collect();
        let mut widths = headers.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                let pad = w - cell.chars().count();
                if i <= 1 {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(&escape(cell));
                } else {
                    s.push_str(&escape(cell));
                    s.push_str(&" ".repeat(pad));
                }
            }
            s.trim_end().to_owned()
        };
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", line(&headers.map(str::to_owned)));
        for row in &rows {
            let _ = writeln!(out, "{}", line(row));
        }
        let _ = writeln!(out);
        for (i, row) in open.iter().enumerate() {
            details(&mut out, i + 1, row);
        }
    }
    if !r.problems.is_empty() {
        let _ = writeln!(out, "skipped input:");
        for p in &r.problems {
            let _ = writeln!(out, "  {}: {}", escape(&p.place), escape(&p.what));
        }
        if c.skipped > r.problems.len() as u64 {
            let _ = writeln!(
                out,
                "  ... and {} more",
                c.skipped - r.problems.len() as u64
            );
        }
    }
    out
}

/// A warning when CloudTrail records were read but none was an S3 object-level event: the
/// input cannot hold uploads.
pub fn no_data_events(c: &Counts) -> Option<String> {
    (c.cloudtrail_records > 0 && c.s3_data_events == 0).then(|| {
        format!(
            "none of the {} CloudTrail records is an S3 object-level (data) event: uploads are logged only by a trail or event data store that records S3 data events, and `aws cloudtrail lookup-events` returns management events only",
            c.cloudtrail_records
        )
    })
}

fn basis_words(b: &crate::model::Basis) -> String {
    match b {
        crate::model::Basis::Live => "read live".to_owned(),
        crate::model::Basis::Scenario(f) => format!("scenario {f}"),
        crate::model::Basis::Records => "the records alone".to_owned(),
    }
}

fn details(out: &mut String, n: usize, row: &Row) {
    let g = &row.group;
    let o = &row.outcome;
    let calls: Vec<String> = g
        .calls
        .iter()
        .map(|(c, k)| format!("{} {k}", c.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "#{n} {} → s3://{}/{}  ({}; {})",
        escape(&caller_words(g)),
        escape(&g.key.bucket),
        escape(&g.key.prefix),
        escape(&g.key.code),
        calls.join(", ")
    );
    if !g.sessions.is_empty() {
        let _ = writeln!(out, "   sessions: {}", escape(&g.sessions_text()));
    }
    if !g.key.proves.is_empty() {
        let _ = writeln!(out, "   the message proves: {}", escape(&g.key.proves));
    }
    let _ = writeln!(out, "   {} ({})", o.verdict, escape(&basis_words(&o.basis)));
    if let Some(m) = &o.message {
        let _ = writeln!(out, "   cause: {}", escape(m));
    }
    if let Some(f) = &o.fix {
        let _ = writeln!(out, "   fix: {} (verified: {})", escape(f), o.verified);
    }
    for m in &o.missing {
        let _ = writeln!(out, "   missing: {}", escape(m));
    }
    for note in disagreements(g).iter().chain(&o.notes) {
        let _ = writeln!(out, "   note: {}", escape(note));
    }
    let _ = writeln!(out);
}

/// What the other records say against the group: allowed calls, other errors.
pub fn disagreements(g: &Group) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((n, last)) = &g.allowed {
        if *last > g.last_seen {
            out.push(format!(
                "{} of the same caller to the same prefix {} allowed, the last at {last}, after the last refusal: it may be fixed, or it refuses only some requests",
                count(*n, "upload call", "upload calls"),
                if *n == 1 { "was" } else { "were" }
            ));
        } else {
            out.push(format!(
                "{} of the same caller to the same prefix {} allowed (the last at {last}): the refusal depends on something that differs between requests",
                count(*n, "upload call", "upload calls"),
                if *n == 1 { "was" } else { "were" }
            ));
        }
    }
    for (code, proves, n) in &g.siblings {
        let what = if proves.is_empty() {
            code.clone()
        } else {
            format!("{code} ({proves})")
        };
        out.push(format!(
            "{} of the same caller and prefix {} something else: {what}",
            count(*n, "other refusal", "other refusals"),
            if *n == 1 { "says" } else { "say" }
        ));
    }
    out
}

/// One JSON object per group.
pub fn json_row(row: &Row) -> serde_json::Value {
    let g = &row.group;
    let o = &row.outcome;
    let l = &g.latest;
    json!({
        "schema": SCHEMA_ID,
        "count": g.count,
        "first_seen": g.first_seen,
        "last_seen": g.last_seen,
        "caller": {
            "key": g.key.caller,
            "words": caller_words(g),
            "role_arn": l.caller.role_arn,
            "sessions": g.sessions,
            "more_sessions": g.more_sessions,
        },
        "bucket": g.key.bucket,
        "prefix": g.key.prefix,
        "kind": g.key.kind.as_str(),
        "code": g.key.code,
        "http_status": l.http_status,
        "proves": g.key.proves,
        "calls": g.calls.iter().map(|(c, n)| (c.as_str().to_owned(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "clients": g.clients.iter().map(|(c, n)| (c.as_str().to_owned(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "formats": g.formats.iter().map(|(f, n)| (f.as_str().to_owned(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "latest": {
            "id": l.id.to_string(),
            "time": l.time,
            "caller": l.caller.arn,
            "key": l.key,
            "call": l.call.as_str(),
            "message": l.message,
            "source_ip": l.source_ip,
            "vpc_endpoint": l.vpc_endpoint,
            "user_agent": l.user_agent,
        },
        "diagnosis": {
            "basis": o.basis.as_str(),
            "scenario": match &o.basis { crate::model::Basis::Scenario(f) => Some(f.as_str()), _ => None },
            "verdict": o.verdict,
            "causes": o.causes,
            "message": o.message,
            "fix": o.fix,
            "verified": o.verified,
            "missing": o.missing,
            "notes": o.notes,
        },
        "disagreements": disagreements(g),
        "suppressed": row.suppressed.as_ref().map(|s| json!({"line": s.line, "reason": s.reason})),
        "records": g.ids.iter().map(|(_, id)| id.to_string()).collect::<Vec<_>>(),
    })
}

/// JSON Lines: one line per group, suppressed ones included (with `suppressed` set).
pub fn jsonl(r: &Report) -> String {
    let mut out = String::new();
    for row in &r.rows {
        out.push_str(&json_row(row).to_string());
        out.push('\n');
    }
    out
}

/// One self-contained HTML page: the summary, the table, each group's details.
pub fn html(r: &Report) -> String {
    let mut p = Page::new("why403 triage");
    let c = &r.counts;
    p.el("h1", "", "why403 triage");
    p.el(
        "p",
        "",
        &format!(
            "{} records read: {} refused upload calls in {} groups, {} suppressed, {} skipped.",
            c.records,
            c.selected,
            r.rows.len(),
            r.rows.iter().filter(|x| x.suppressed.is_some()).count(),
            c.skipped
        ),
    );
    if let Some(w) = no_data_events(c) {
        p.el("p", "", &format!("Warning: {w}."));
    }
    p.open("table", "");
    p.raw("<thead><tr><th>#</th><th>count</th><th>first seen</th><th>last seen</th><th>caller</th><th>bucket/prefix</th><th>code</th><th>cause</th><th>fix</th><th>verified</th></tr></thead>\n<tbody>\n");
    for (i, row) in r.open().enumerate() {
        let g = &row.group;
        p.raw("<tr><td>")
            .text(&(i + 1).to_string())
            .raw("</td><td>")
            .text(&g.count.to_string())
            .raw("</td><td>")
            .text(&g.first_seen)
            .raw("</td><td>")
            .text(&g.last_seen)
            .raw("</td><td>")
            .text(&caller_words(g))
            .raw("</td><td><code>")
            .text(&format!("{}/{}", g.key.bucket, g.key.prefix))
            .raw("</code></td><td>")
            .text(&g.key.code)
            .raw("</td><td>")
            .text(&cause_words(&row.outcome))
            .raw("</td><td>")
            .prose(row.outcome.fix.as_deref().unwrap_or("-"))
            .raw("</td><td>")
            .text(&row.outcome.verified)
            .raw("</td></tr>\n");
    }
    p.raw("</tbody>\n").close("table");
    for (i, row) in r.open().enumerate() {
        let g = &row.group;
        let o = &row.outcome;
        p.open("article", "");
        p.el(
            "h2",
            "",
            &format!(
                "#{} {} → s3://{}/{} ({})",
                i + 1,
                caller_words(g),
                g.key.bucket,
                g.key.prefix,
                g.key.code
            ),
        );
        p.raw("<dl>\n");
        if !g.sessions.is_empty() {
            p.kv("sessions", &g.sessions_text());
        }
        if !g.key.proves.is_empty() {
            p.kv("the message proves", &g.key.proves);
        }
        p.kv(
            "verdict",
            &format!("{} ({})", o.verdict, basis_words(&o.basis)),
        );
        if let Some(m) = &o.message {
            p.kv("cause", m);
        }
        if let Some(f) = &o.fix {
            p.kv("fix", &format!("{f} (verified: {})", o.verified));
        }
        for m in &o.missing {
            p.kv("missing", m);
        }
        p.raw("</dl>\n");
        let notes: Vec<String> = disagreements(g)
            .into_iter()
            .chain(o.notes.clone())
            .collect();
        p.open("ul", "");
        for n in &notes {
            p.el("li", "", n);
        }
        p.close("ul");
        p.close("article");
    }
    let suppressed: Vec<String> = r
        .rows
        .iter()
        .filter_map(|row| {
            let s = row.suppressed.as_ref()?;
            Some(format!(
                "{} records of {} to `s3://{}/{}` ({}): suppressed by line {}{}",
                row.group.count,
                caller_words(&row.group),
                row.group.key.bucket,
                row.group.key.prefix,
                row.group.key.code,
                s.line,
                s.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ))
        })
        .collect();
    p.list_section("suppressed", "Suppressed", suppressed);
    p.list_section(
        "skipped",
        "Skipped input",
        r.problems
            .iter()
            .map(|x| format!("{}: {}", x.place, x.what)),
    );
    p.finish()
}
