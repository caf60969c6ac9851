//! The human rendering: the verdict and its cause in one sentence, then each finding with
//! compiler-style snippets of the policies it points at, its fix and whether the fix was
//! verified, what could not be read, and a summary of every check.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use super::snippet::{MAX_WIDTH, Source, Window};
use super::style::Style;
use super::{Out, outln};
use crate::analysis::{CheckOutcome, Verdict};
use crate::finding::howto::{Step, command_line, howto};
use crate::finding::{Diagnosis, Finding, Label, Role, Verification};

/// Options of the human rendering.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct HumanOptions {
    /// Colour with ANSI escape codes. The caller decides (a terminal, `NO_COLOR` unset).
    pub color: bool,
    /// Leave out the summary of checks at the end.
    pub no_checks: bool,
}

impl HumanOptions {
    /// Options with colour on or off and everything else by default.
    pub fn new(color: bool) -> HumanOptions {
        HumanOptions {
            color,
            ..HumanOptions::default()
        }
    }
}

/// Lines of a primary label's span shown in full; a longer span shows its first lines, the
/// marked lines and its last line.
const MAX_SPAN_LINES: usize = 12;
const HEAD_LINES: usize = 6;

/// Renders a diagnosis for a person. Everything is written through [`Out`], which escapes every
/// value from the input.
pub fn human(d: &Diagnosis, opts: &HumanOptions) -> String {
    let mut out = Out::new(opts.color);
    let verdict_style = match d.verdict {
        Verdict::Allowed => Style::Good,
        Verdict::Denied => Style::Error,
        Verdict::Indeterminate { .. } => Style::Warning,
    };
    out.styled(verdict_style, super::verdict_word(&d.verdict))
        .text(": ")
        .styled(Style::Bold, &super::cause_sentence(d))
        .newline();
    let r = &d.analysis.request;
    let who = super::caller_text(d)
        .map(|c| format!(" by `{c}`"))
        .unwrap_or_default();
    let through = r
        .target
        .access_point_name()
        .map(|a| format!(" through the access point `{a}`"))
        .unwrap_or_default();
    outln!(
        out,
        "  upload: {} of `s3://{}/{}`{through}{who}",
        r.operation.as_str(),
        r.bucket,
        r.key
    );
    if let Verdict::Indeterminate { missing } = &d.verdict {
        for m in missing {
            out.text("  ")
                .styled(Style::Warning, "cannot see:")
                .text(" ")
                .line(&super::missing_text(m));
        }
    }
    for f in &d.findings {
        out.newline();
        finding(&mut out, f, d);
    }
    if !d.superseded.is_empty() {
        out.newline();
        for s in &d.superseded {
            out.styled(Style::Note, "superseded:");
            outln!(
                out,
                " [{}] {} ({})",
                s.finding.rule,
                s.finding.message,
                s.why
            );
        }
    }
    if !opts.no_checks && !d.analysis.checks.is_empty() {
        out.newline();
        out.styled(Style::Bold, "checks:").newline();
        for c in &d.analysis.checks {
            let (word, detail) = super::check_parts(c);
            let style = match c.outcome {
                CheckOutcome::Allowed => Style::Good,
                CheckOutcome::Denied => Style::Error,
                CheckOutcome::Indeterminate => Style::Warning,
            };
            let _ = write!(out, "  {}: ", c.action);
            out.styled(style, word).line(&detail);
            outln!(out, "    reason: {}", c.reason);
        }
    }
    if !d.skipped.is_empty() {
        out.newline();
        out.styled(Style::Bold, "rules not run (evidence missing):")
            .newline();
        for s in &d.skipped {
            outln!(out, "  {}: needs {}", s.rule, s.missing.join(", "));
        }
    }
    out.finish()
}

fn finding(out: &mut Out, f: &Finding, d: &Diagnosis) {
    let style = match f.role {
        Role::Cause => Style::Error,
        Role::Contributing => Style::Warning,
        Role::Observation => Style::Note,
    };
    let head = format!("{}[{}]", super::role_word(f.role), f.rule);
    out.styled(style, &head);
    let _ = write!(out, " ({}): ", super::confidence_word(f.confidence));
    out.styled(Style::Bold, &f.message).newline();
    let blocks: Vec<Block> = groups(&f.labels).iter().map(|g| Block::new(g)).collect();
    let width = blocks.iter().map(Block::gutter_width).max().unwrap_or(1);
    let pad = " ".repeat(width);
    for b in &blocks {
        b.write(out, width, style);
    }
    // A block that ends with a note has already closed the gutter.
    if blocks.last().is_some_and(|b| b.note.is_none()) {
        out.text(&pad)
            .text(" ")
            .styled(Style::Gutter, "|")
            .newline();
    }
    if let Some(c) = &f.check {
        note(out, &pad, "check:", Style::Bold).line(&format!("`{c}`"));
    }
    if let Some(fix) = &f.fix {
        note(out, &pad, "fix:", Style::Good).line(&fix.description);
        let (label, status, detail) = super::verification_parts(&fix.verified);
        let vstyle = match fix.verified {
            Verification::Resolves => Style::Good,
            Verification::StillDenied { .. } => Style::Error,
            _ => Style::Warning,
        };
        note(out, &pad, &format!("{label}:"), vstyle)
            .styled(vstyle, &status)
            .line(&detail);
        for w in &fix.widens {
            note(out, &pad, "widens:", Style::Warning).line(w);
        }
        for step in howto(&d.analysis, fix, d.client).steps {
            apply_step(out, &pad, &step);
        }
    }
    for n in &f.notes {
        note(out, &pad, "note:", Style::Note).line(n);
    }
    for m in &f.missing {
        note(out, &pad, "cannot see:", Style::Warning).line(&super::missing_text(m));
    }
}

/// One step of applying a fix: who does what, in the client's terms or as a diff of the
/// document and the commands that apply it.
fn apply_step(out: &mut Out, pad: &str, step: &Step) {
    note(out, pad, "apply:", Style::Good).line(&format!(
        "{} {}",
        step.actor.sentence(),
        step.summary
    ));
    let indent = format!("{pad}     ");
    for c in &step.client {
        out.text(&indent)
            .styled(Style::Bold, &format!("{}:", c.client))
            .text(" ")
            .line(&c.text);
    }
    if let Some(doc) = &step.document {
        for line in doc.diff.lines() {
            let style = match line.as_bytes().first() {
                Some(b'@') => Some(Style::Note),
                _ if line.starts_with("---") || line.starts_with("+++") => Some(Style::Bold),
                Some(b'-') => Some(Style::Error),
                Some(b'+') => Some(Style::Good),
                _ => None,
            };
            out.text(&indent);
            match style {
                Some(s) => out.styled(s, line).newline(),
                None => out.line(line),
            };
        }
    }
    for (i, c) in step.commands.iter().enumerate() {
        let label = match (&step.document, i) {
            (Some(d), 0) if d.after.is_some() => {
                format!("save the new {} as `{}`, then run:", "document", d.file)
            }
            (_, 0) => "run:".to_owned(),
            _ => "then:".to_owned(),
        };
        out.text(&indent)
            .styled(Style::Bold, &label)
            .text(" ")
            .line(&command_line(c));
    }
    for n in &step.notes {
        out.text(&indent)
            .styled(Style::Note, "note:")
            .text(" ")
            .line(n);
    }
}

/// Starts a `  = label: ` line under a snippet.
fn note<'o>(out: &'o mut Out, pad: &str, label: &str, style: Style) -> &'o mut Out {
    out.text(pad)
        .text(" ")
        .styled(Style::Gutter, "=")
        .text(" ")
        .styled(style, label)
        .text(" ")
}

/// The labels of a finding grouped by document, the group with the primary label first.
pub(super) fn groups(labels: &[Label]) -> Vec<Vec<&Label>> {
    let mut groups: Vec<Vec<&Label>> = Vec::new();
    for l in labels {
        match groups.iter_mut().find(|g| same_document(g[0], l)) {
            Some(g) => g.push(l),
            None => groups.push(vec![l]),
        }
    }
    groups.sort_by_key(|g| !g.iter().any(|l| l.primary));
    groups
}

fn same_document(a: &Label, b: &Label) -> bool {
    a.document == b.document
        && (Arc::ptr_eq(&a.text, &b.text) || a.text == b.text)
        && a.origin == b.origin
}

/// One row of a snippet.
#[derive(Debug)]
pub(super) enum Row {
    Line {
        number: usize,
        text: String,
    },
    Mark {
        column: usize,
        width: usize,
        primary: bool,
        message: String,
    },
    Gap,
}

/// A snippet of one document: where it is, and its rows.
#[derive(Debug)]
pub(super) struct Block {
    pub(super) location: String,
    pub(super) rows: Vec<Row>,
    pub(super) note: Option<String>,
}

impl Block {
    pub(super) fn new(labels: &[&Label]) -> Block {
        let anchor = labels
            .iter()
            .copied()
            .find(|l| l.primary)
            .unwrap_or(labels[0]);
        let src = Source::shared(&anchor.text, anchor.origin.as_ref());
        let (location, note) = location(anchor);
        let (first, last) = src.lines_of(anchor.span);
        let mut shown = BTreeSet::new();
        if last - first < MAX_SPAN_LINES {
            shown.extend(first..=last);
        } else {
            shown.extend(first..first + HEAD_LINES);
            shown.insert(last);
        }
        for l in labels {
            shown.insert(src.lines_of(l.span).0);
        }
        // Fill the gaps between shown lines when the whole range is short, and small gaps
        // anyway: context reads better than `...`.
        if let (Some(&lo), Some(&hi)) = (shown.first(), shown.last()) {
            if hi - lo < MAX_SPAN_LINES {
                shown.extend(lo..=hi);
            } else {
                let lines: Vec<usize> = shown.iter().copied().collect();
                for w in lines.windows(2) {
                    if w[1] - w[0] <= 3 {
                        shown.extend(w[0]..w[1]);
                    }
                }
            }
        }
        let mut marks: Vec<(usize, &Label)> = labels
            .iter()
            .map(|l| (src.lines_of(l.span).0, *l))
            .collect();
        // On one line, the order of the offsets is that of the columns.
        marks.sort_by_key(|(line, l)| (*line, !l.primary, l.span.start));
        let mut rows = Vec::new();
        let mut prev: Option<usize> = None;
        for idx in shown {
            if prev.is_some_and(|p| idx > p + 1) {
                rows.push(Row::Gap);
            }
            prev = Some(idx);
            let here: Vec<&Label> = marks
                .iter()
                .filter(|(line, _)| *line == idx)
                .map(|(_, l)| *l)
                .collect();
            if src.is_long(idx) {
                let cut = src.cut(idx, here.first().map(|l| l.span.start as usize));
                rows.push(Row::Line {
                    number: src.number(idx),
                    text: cut.text.clone(),
                });
                for l in here {
                    let (column, width) = cut.place(&src, l.span);
                    rows.push(Row::Mark {
                        column,
                        width,
                        primary: l.primary,
                        message: l.message.clone(),
                    });
                }
                continue;
            }
            // Window a long line at the first mark, or at the primary one when the marks are
            // too far apart to show together.
            let cols: Vec<usize> = here.iter().map(|l| src.mark(l.span).0).collect();
            let focus = match (cols.iter().min(), cols.iter().max()) {
                (Some(&lo), Some(&hi)) if hi - lo < MAX_WIDTH / 2 => Some(lo),
                _ => cols.first().copied(),
            };
            let window = Window::new(&src.line(idx), focus);
            rows.push(Row::Line {
                number: src.number(idx),
                text: window.text.clone(),
            });
            for l in here {
                let (col, width) = src.mark(l.span);
                let (column, width) = window.place(col, width);
                rows.push(Row::Mark {
                    column,
                    width,
                    primary: l.primary,
                    message: l.message.clone(),
                });
            }
        }
        Block {
            location,
            rows,
            note,
        }
    }

    fn gutter_width(&self) -> usize {
        self.rows
            .iter()
            .filter_map(|r| match r {
                Row::Line { number, .. } => Some(number.to_string().len()),
                _ => None,
            })
            .max()
            .unwrap_or(1)
    }

    fn write(&self, out: &mut Out, width: usize, style: Style) {
        let pad = " ".repeat(width);
        let bar = |out: &mut Out| {
            out.text(&pad).text(" ").styled(Style::Gutter, "|");
        };
        out.text(&pad)
            .styled(Style::Gutter, "-->")
            .text(" ")
            .line(&self.location);
        bar(out);
        out.newline();
        for row in &self.rows {
            match row {
                Row::Line { number, text } => {
                    out.styled(Style::Gutter, &format!("{number:>width$}"))
                        .text(" ")
                        .styled(Style::Gutter, "|");
                    let text = text.trim_end();
                    if !text.is_empty() {
                        out.text(" ").text(text);
                    }
                    out.newline();
                }
                Row::Mark {
                    column,
                    width: w,
                    primary,
                    message,
                } => {
                    let (ch, s) = if *primary {
                        ('^', style)
                    } else {
                        ('-', Style::Gutter)
                    };
                    let marker: String = std::iter::repeat_n(ch, *w).collect();
                    let text = if message.is_empty() {
                        marker
                    } else {
                        format!("{marker} {message}")
                    };
                    bar(out);
                    out.text(" ")
                        .text(&" ".repeat(*column))
                        .styled(s, &text)
                        .newline();
                }
                Row::Gap => {
                    out.styled(Style::Gutter, "...").newline();
                }
            }
        }
        if let Some(n) = &self.note {
            bar(out);
            out.newline();
            note(out, &pad, "note:", Style::Note).line(n);
        }
    }
}

/// ` --> file:line:col (document)`, ` --> file:line:col /pointer (document)` for a policy that
/// was a JSON string in the file, or ` --> document /pointer` for a policy from no file.
fn location(l: &Label) -> (String, Option<String>) {
    match &l.origin {
        Some(o) if !o.from_string => {
            let (line, col) = l.line_col();
            (format!("{}:{line}:{col} ({})", o.file, l.document), None)
        }
        Some(o) => (
            format!(
                "{}:{}:{} {} ({})",
                o.file, o.line, o.column, o.pointer, l.document
            ),
            Some(
                "the policy is a JSON string in the file: it is shown decoded (re-indented if it \
                 was on one line), with its own line numbers"
                    .to_owned(),
            ),
        ),
        None => (
            format!("{} {}", l.document, display_pointer(&l.pointer)),
            None,
        ),
    }
}

fn display_pointer(p: &str) -> &str {
    if p.is_empty() { "/" } else { p }
}
