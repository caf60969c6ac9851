//! The HTML rendering: one self-contained HTML5 page (inline CSS and inline SVG, no script, no
//! external reference of any kind) with the verdict, the upload, each finding with the
//! statements it points at shown in their source with line numbers and the deciding span
//! marked, its fix and verification, the evaluation path of every check as a picture
//! ([`path_svg`](super::path_svg)), the checks, the evidence that could not be read with the
//! IAM actions that would read it, and the superseded findings folded away.
//!
//! The page is also well-formed XML (every element closed, attributes quoted, only the five
//! XML character references), so XML tools can read it. Every value from the input goes
//! through [`Page`], which escapes `&`, `<`, `>`, `"` and `'`, and shows the characters a
//! terminal would act on (controls, bidirectional and invisible format characters) in their
//! visible escaped form, as the human rendering does. Markup is only ever `&'static str`.

use std::borrow::Cow;

use super::human::{Block, Row, groups};
use super::path_svg::{StepState, evaluation_path, legend_svg, path_svg};
use crate::analysis::{Check, CheckOutcome, Missing, Verdict};
use crate::finding::howto::{Step, command_line, howto};
use crate::finding::{Diagnosis, Finding, Role, Verification};
use crate::upload::Credentials;

/// Whether a character is written as a character reference or in its visible escaped form.
fn needs_html_escape(c: char) -> bool {
    matches!(c, '&' | '<' | '>' | '"' | '\'' | '\u{fffe}' | '\u{ffff}') || super::needs_escape(c)
}

/// Appends `s` escaped for HTML text and attribute values.
fn push_html(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(at) = rest.find(needs_html_escape) {
        out.push_str(&rest[..at]);
        let c = rest[at..].chars().next().unwrap_or_default();
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Controls, bidirectional and invisible characters, and the two non-characters XML
            // forbids: shown as `\x1b`, `\u{202e}`...
            c => super::out::push_escape(out, c),
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
}

/// `s` escaped for HTML text and attribute values: `&`, `<`, `>`, `"` and `'` as character
/// references, and the characters of [`needs_escape`](super::needs_escape) in their visible
/// escaped form.
pub fn escape(s: &str) -> Cow<'_, str> {
    if s.contains(needs_html_escape) {
        let mut out = String::with_capacity(s.len() + 16);
        push_html(&mut out, s);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// The style of the page: plain, readable in print, states told by symbols and words as well as
/// colours.
const STYLE: &str = "\
body{font:15px/1.45 system-ui,sans-serif;color:#1f2328;background:#fff;max-width:1100px;margin:0 auto;padding:1em 1.5em}\
h1{font-size:1.25em;margin:.2em 0}h2{font-size:1.1em;border-bottom:1px solid #d0d7de;margin-top:1.6em}h3{font-size:1em;margin:.2em 0}\
code,pre{font:13px/1.4 ui-monospace,monospace}code{background:#f6f8fa;padding:0 .2em;border-radius:3px}\
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;margin:.3em 0}\
.verdict{border:3px solid;border-radius:8px;padding:.6em 1em}.badge{font-weight:bold;font-size:1.2em;margin:0;text-transform:uppercase}\
.allowed{border-color:#1a7f37}.allowed .badge{color:#1a7f37}.denied{border-color:#cf222e}.denied .badge{color:#cf222e}\
.indeterminate{border-color:#8250df}.indeterminate .badge{color:#8250df}\
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em}dl.kv dt{font-weight:bold}dl.kv dd{margin:0}\
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #d0d7de;padding:.25em .5em;text-align:left;vertical-align:top}\
article{border:1px solid #d0d7de;border-left-width:6px;border-radius:6px;padding:.5em 1em;margin:1em 0}\
.cause{border-left-color:#cf222e}.contributing{border-left-color:#9a6700}.observation{border-left-color:#0969da}\
.loc{font:13px ui-monospace,monospace;color:#57606a;margin-top:.6em}.ln{color:#57606a}\
mark.p{background:#ffd8d3;outline:1px solid #cf222e;font-weight:bold}mark.s{background:#fff1c2;text-decoration:underline dotted}\
.mp{color:#cf222e;font-weight:bold}.ms{color:#57606a}\
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.5em 0}dl.facts dt{font-weight:bold}dl.facts dd{margin:0}\
.resolves{color:#1a7f37;font-weight:bold}.diff .da{color:#1a7f37}.diff .dd{color:#cf222e}.diff .dn{color:#0969da}.diff .dh{font-weight:bold}.still{color:#cf222e;font-weight:bold}.unverified{color:#9a6700;font-weight:bold}\
figure{margin:1em 0}svg.path,svg.legend{max-width:100%;height:auto}\
details{margin:.5em 0}summary{cursor:pointer;font-weight:bold}footer{margin-top:2em;color:#57606a;font-size:.9em}\
@media print{body{max-width:none;font-size:11pt}pre{white-space:pre-wrap}article,figure{break-inside:avoid}}";

/// An HTML page being written. Text goes in only escaped ([`Page::text`], [`Page::prose`] and
/// attribute values); markup is `&'static str`, and the one exception, `Page::svg`, takes
/// what [`path_svg`] built, which escapes every value itself.
#[derive(Debug)]
pub struct Page {
    buf: String,
    /// How many fixes have shown the whole new document of each document (see
    /// [`apply_step`]).
    afters: std::collections::BTreeMap<String, usize>,
}

impl Page {
    /// A page with this title, its head written and its body open.
    pub fn new(title: &str) -> Page {
        let mut p = Page {
            afters: std::collections::BTreeMap::new(),
            buf: String::with_capacity(32 * 1024),
        };
        p.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
            .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
            .raw("<title>")
            .text(title)
            .raw("</title>\n<style>")
            .raw(STYLE)
            .raw("</style>\n</head>\n<body>\n");
        p
    }

    /// Writes markup.
    pub fn raw(&mut self, s: &'static str) -> &mut Page {
        self.buf.push_str(s);
        self
    }

    /// Writes text, escaped.
    pub fn text(&mut self, s: &str) -> &mut Page {
        push_html(&mut self.buf, s);
        self
    }

    /// Writes a sentence, escaped, with the parts between backticks as `<code>`.
    pub fn prose(&mut self, s: &str) -> &mut Page {
        let parts: Vec<&str> = s.split('`').collect();
        if parts.len().is_multiple_of(2) {
            // Unbalanced backticks: the text as it is.
            return self.text(s);
        }
        for (i, part) in parts.iter().enumerate() {
            if i % 2 == 1 {
                self.raw("<code>").text(part).raw("</code>");
            } else {
                self.text(part);
            }
        }
        self
    }

    /// Opens an element, with a class when `class` is not empty.
    pub fn open(&mut self, tag: &'static str, class: &str) -> &mut Page {
        self.buf.push('<');
        self.buf.push_str(tag);
        if !class.is_empty() {
            self.buf.push_str(" class=\"");
            push_html(&mut self.buf, class);
            self.buf.push('"');
        }
        self.buf.push('>');
        self
    }

    /// Opens an element with an id.
    pub fn open_id(&mut self, tag: &'static str, id: &str) -> &mut Page {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push_str(" id=\"");
        push_html(&mut self.buf, id);
        self.buf.push_str("\">");
        self
    }

    /// Closes the element `tag` and ends the line.
    pub fn close(&mut self, tag: &'static str) -> &mut Page {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push_str(">\n");
        self
    }

    /// An element holding a sentence (see [`Page::prose`]).
    pub fn el(&mut self, tag: &'static str, class: &str, s: &str) -> &mut Page {
        self.open(tag, class).prose(s);
        self.buf.truncate(self.buf.trim_end_matches('\n').len());
        self.close(tag)
    }

    /// A `<section>` with this id and heading and a list of sentences, one `<li>` each;
    /// nothing when there are none.
    pub fn list_section<S: AsRef<str>>(
        &mut self,
        id: &str,
        title: &str,
        items: impl IntoIterator<Item = S>,
    ) -> &mut Page {
        let mut items = items.into_iter().peekable();
        if items.peek().is_none() {
            return self;
        }
        self.open_id("section", id)
            .el("h2", "", title)
            .open("ul", "");
        for item in items {
            self.el("li", "", item.as_ref());
        }
        self.close("ul").close("section")
    }

    /// A `<dt>`/`<dd>` pair; the value is a sentence.
    pub fn kv(&mut self, key: &'static str, value: &str) -> &mut Page {
        self.raw("<dt>")
            .raw(key)
            .raw("</dt><dd>")
            .prose(value)
            .raw("</dd>\n")
    }

    /// An SVG element built by [`path_svg`] or [`legend_svg`], which escape every value.
    fn svg(&mut self, svg: &str) -> &mut Page {
        self.buf.push_str(svg);
        self.buf.push('\n');
        self
    }

    /// Closes the body and the page.
    pub fn finish(mut self) -> String {
        self.raw("<footer>Written by why403 from the evidence it was given. This page is self-contained: it loads nothing and runs no script.</footer>\n</body>\n</html>\n");
        self.buf
    }
}

fn verdict_symbol(v: &Verdict) -> &'static str {
    match v {
        Verdict::Allowed => StepState::Allows.symbol(),
        Verdict::Denied => StepState::ExplicitDeny.symbol(),
        Verdict::Indeterminate { .. } => StepState::Unknown.symbol(),
    }
}

/// Renders a diagnosis as one self-contained HTML page.
pub fn html(d: &Diagnosis) -> String {
    let r = &d.analysis.request;
    let verdict = super::verdict_word(&d.verdict);
    let mut p = Page::new(&format!(
        "why403: {verdict} \u{2014} s3://{}/{}",
        r.bucket, r.key
    ));
    p.open("header", &format!("verdict {verdict}"))
        .open("p", "badge")
        .text(verdict_symbol(&d.verdict))
        .raw(" ")
        .text(verdict)
        .close("p")
        .el("h1", "", &super::cause_sentence(d))
        .close("header");
    upload(&mut p, d);
    let missing = super::all_missing(d);
    if !missing.is_empty() {
        p.open_id("section", "missing")
            .el("h2", "", "Evidence that could not be read");
        missing_table(&mut p, &missing);
        p.close("section");
    }
    if !d.findings.is_empty() {
        p.open_id("section", "findings").el("h2", "", "Findings");
        for f in &d.findings {
            finding(&mut p, f, d);
        }
        p.close("section");
    }
    if !d.analysis.checks.is_empty() {
        paths(&mut p, d);
        checks(&mut p, d);
    }
    if !d.superseded.is_empty() {
        p.open_id("section", "superseded")
            .open("details", "")
            .open("summary", "")
            .text(&format!(
                "Superseded findings ({}): another finding explains the same refusal",
                d.superseded.len()
            ))
            .close("summary");
        for s in &d.superseded {
            p.open("p", "").raw("<strong>");
            p.text(&s.finding.rule.to_string())
                .raw("</strong>: ")
                .prose(&s.why)
                .close("p");
            finding(&mut p, &s.finding, d);
        }
        p.close("details").close("section");
    }
    p.list_section(
        "skipped",
        "Rules not run (evidence missing)",
        d.skipped
            .iter()
            .map(|s| format!("`{}`: needs {}", s.rule, s.missing.join(", "))),
    );
    p.finish()
}

fn upload(p: &mut Page, d: &Diagnosis) {
    let r = &d.analysis.request;
    p.open_id("section", "upload")
        .el("h2", "", "Upload")
        .open("dl", "kv");
    p.kv("operation", r.operation.as_str())
        .kv("bucket", &format!("`{}`", r.bucket))
        .kv("key", &format!("`{}`", r.key));
    if let Some(a) = r.target.access_point_name() {
        p.kv("access point", &format!("`{a}`"));
    }
    p.kv("object ARN", &format!("`{}`", r.object_arn()))
        .kv(
            "caller",
            &super::caller_text(d).map_or_else(|| "unknown".to_owned(), |c| format!("`{c}`")),
        )
        .kv(
            "credentials",
            match r.credentials {
                Credentials::LongTerm => "long-term",
                Credentials::Temporary => "temporary",
                Credentials::TemporaryWithMfa => "temporary, with MFA",
                Credentials::Anonymous => "anonymous",
            },
        );
    if let Some(region) = &r.region {
        p.kv("Region", &format!("`{region}`"));
    }
    let n = &r.network;
    let mut net = vec![if n.tls { "HTTPS" } else { "HTTP (no TLS)" }.to_owned()];
    if let Some(ip) = &n.source_ip {
        net.push(format!("from `{ip}`"));
    }
    if let Some(v) = &n.vpc_endpoint {
        net.push(format!("through VPC endpoint `{v}`"));
    }
    if let Some(v) = &n.vpc {
        net.push(format!("in `{v}`"));
    }
    if let Some(ip) = &n.vpc_source_ip {
        net.push(format!("from `{ip}` inside the VPC"));
    }
    p.kv("network", &net.join(", "));
    if let Some(t) = &r.time {
        p.kv("time", &format!("`{t}`"));
    }
    if !r.session_tags.is_empty() {
        let tags: Vec<String> = r
            .session_tags
            .iter()
            .map(|(k, v)| format!("`{k}={v}`"))
            .collect();
        p.kv("session tags", &tags.join(", "));
    }
    p.close("dl");
    if r.headers.is_empty() {
        p.el("p", "", "headers: none");
    } else {
        p.open("table", "")
            .raw("<caption>headers</caption><tr><th>name</th><th>value</th></tr>\n");
        for (k, v) in &r.headers {
            p.raw("<tr><td><code>")
                .text(k)
                .raw("</code></td><td><code>")
                .text(v)
                .raw("</code></td></tr>\n");
        }
        p.close("table");
    }
    p.close("section");
}

fn missing_table(p: &mut Page, missing: &[&Missing]) {
    p.open("table", "")
        .raw("<tr><th>evidence</th><th>why it could not be read</th><th>IAM actions that would read it</th></tr>\n");
    for m in missing {
        let needs: Vec<String> = m
            .unavailable
            .needs
            .iter()
            .map(|n| format!("`{n}`"))
            .collect();
        let needs = if needs.is_empty() {
            "none can".to_owned()
        } else {
            needs.join(", ")
        };
        p.raw("<tr><td>")
            .prose(&m.what)
            .raw("</td><td>")
            .prose(&m.unavailable.reason)
            .raw("</td><td>")
            .prose(&needs)
            .raw("</td></tr>\n");
    }
    p.close("table");
}

fn finding(p: &mut Page, f: &Finding, d: &Diagnosis) {
    let role = super::role_word(f.role);
    p.open("article", role)
        .open("h3", "")
        .text(match f.role {
            Role::Cause => "\u{2717} ",
            Role::Contributing => "\u{25b2} ",
            Role::Observation => "\u{2139} ",
        })
        .text(role)
        .raw(" <code>")
        .text(&f.rule.to_string())
        .raw("</code> (")
        .text(super::confidence_word(f.confidence))
        .raw(")")
        .close("h3")
        .el("p", "", &f.message);
    for g in groups(&f.labels) {
        snippet(p, &Block::new(&g));
    }
    p.open("dl", "facts");
    if let Some(c) = &f.check {
        p.kv("check", &format!("`{c}`"));
    }
    if let Some(fix) = &f.fix {
        p.kv("fix", &fix.description);
        let (label, status, detail) = super::verification_parts(&fix.verified);
        let class = match fix.verified {
            Verification::Resolves => "resolves",
            Verification::StillDenied { .. } => "still",
            _ => "unverified",
        };
        let symbol = match fix.verified {
            Verification::Resolves => "\u{2713} ",
            Verification::StillDenied { .. } => "\u{2717} ",
            _ => "? ",
        };
        p.raw("<dt>")
            .text(label)
            .raw("</dt><dd><span class=\"")
            .text(class)
            .raw("\">")
            .text(symbol)
            .text(&status)
            .raw("</span>")
            .prose(&detail)
            .raw("</dd>\n");
        for w in &fix.widens {
            p.kv("widens", w);
        }
        if !fix.changes.is_empty() {
            p.raw("<dt>changes</dt><dd><details><summary>")
                .text(&format!(
                    "{} structured change{}",
                    fix.changes.len(),
                    if fix.changes.len() == 1 { "" } else { "s" }
                ))
                .raw("</summary><pre>");
            for c in &fix.changes {
                p.text(&sorted_keys(super::json::change(c)).to_string())
                    .raw("\n");
            }
            p.raw("</pre></details></dd>\n");
        }
        for step in howto(&d.analysis, fix, d.client).steps {
            apply_step(p, &step);
        }
    }
    for n in &f.notes {
        p.kv("note", n);
    }
    for m in &f.missing {
        p.kv("cannot see", &super::missing_text(m));
    }
    p.close("dl").close("article");
}

/// One step of applying a fix: who does what, the client's terms, the document's diff (with
/// the after-document to copy), the commands.
fn apply_step(p: &mut Page, step: &Step) {
    p.raw("<dt>apply</dt><dd>")
        .text(&format!("{} {}", step.actor.sentence(), step.summary));
    if !step.client.is_empty() {
        p.raw("<ul class=\"howto\">");
        for c in &step.client {
            p.raw("<li><b>")
                .text(&c.client)
                .raw("</b>: ")
                .text(&c.text)
                .raw("</li>");
        }
        p.raw("</ul>");
    }
    if let Some(doc) = &step.document {
        p.raw("<pre class=\"diff\">");
        for line in doc.diff.lines() {
            let class = match line.as_bytes().first() {
                _ if line.starts_with("---") || line.starts_with("+++") => "dh",
                Some(b'@') => "dn",
                Some(b'-') => "dd",
                Some(b'+') => "da",
                _ => "dc",
            };
            p.raw("<span class=\"")
                .raw(class)
                .raw("\">")
                .text(line)
                .raw("</span>\n");
        }
        p.raw("</pre>");
        // Past the first fixes of one document (a policy of many deny statements, each a
        // cause), the diff alone: the page grows with the statements, not their square.
        let shown = p.afters.entry(doc.name.clone()).or_default();
        *shown += 1;
        let show = *shown <= crate::finding::MAX_LISTED;
        if let Some(after) = doc.after.as_ref().filter(|_| show) {
            p.raw("<details><summary>")
                .text(&format!("the new document ({})", doc.file))
                .raw("</summary><pre>")
                .text(after)
                .raw("</pre></details>");
        }
    }
    for c in &step.commands {
        p.raw("<pre class=\"cmd\">")
            .text(&command_line(c))
            .raw("</pre>");
    }
    for n in &step.notes {
        p.raw("<p class=\"note\">").text(n).raw("</p>");
    }
    p.raw("</dd>\n");
}

/// A snippet of one document: the location, then its lines with their numbers, the labels'
/// spans marked (`<mark>`, and `^^^` / `---` under them with the label's message, as in the
/// human rendering, so that the marks read without colour).
fn snippet(p: &mut Page, b: &Block) {
    p.el("div", "loc", &format!("--> {}", b.location));
    let width = b
        .rows
        .iter()
        .filter_map(|r| match r {
            Row::Line { number, .. } => Some(number.to_string().len()),
            _ => None,
        })
        .max()
        .unwrap_or(1);
    p.raw("<pre>");
    let mut i = 0;
    while i < b.rows.len() {
        match &b.rows[i] {
            Row::Line { number, text } => {
                // The marks on this line follow it.
                let marks: Vec<(usize, usize, bool, &str)> = b.rows[i + 1..]
                    .iter()
                    .map_while(|r| match r {
                        Row::Mark {
                            column,
                            width,
                            primary,
                            message,
                        } => Some((*column, *width, *primary, message.as_str())),
                        _ => None,
                    })
                    .collect();
                p.raw("<span class=\"ln\">")
                    .text(&format!("{number:>width$} |"))
                    .raw("</span>");
                let text = text.trim_end();
                if !text.is_empty() {
                    p.raw(" ");
                    marked_line(p, text, &marks);
                }
                p.raw("\n");
                for (column, w, primary, message) in &marks {
                    let ch = if *primary { "^" } else { "-" };
                    p.raw("<span class=\"ln\">")
                        .text(&format!("{:width$} |", ""))
                        .raw("</span> ")
                        .text(&" ".repeat(*column))
                        .raw(if *primary {
                            "<span class=\"mp\">"
                        } else {
                            "<span class=\"ms\">"
                        })
                        .text(&ch.repeat(*w));
                    if !message.is_empty() {
                        p.raw(" ").text(message);
                    }
                    p.raw("</span>\n");
                }
                i += 1 + marks.len();
            }
            Row::Mark { .. } => i += 1,
            Row::Gap => {
                p.raw("<span class=\"ln\">...</span>\n");
                i += 1;
            }
        }
    }
    p.raw("</pre>\n");
    if let Some(n) = &b.note {
        p.el("p", "loc", &format!("note: {n}"));
    }
}

/// A line of a snippet with the marked columns in `<mark>`: the primary label's span as
/// `mark.p`, the others as `mark.s` (the primary one wins where they overlap).
fn marked_line(p: &mut Page, text: &str, marks: &[(usize, usize, bool, &str)]) {
    let chars: Vec<char> = text.chars().collect();
    // 0: not marked, 1: secondary, 2: primary.
    let mut kind = vec![0u8; chars.len()];
    for (column, w, primary, _) in marks {
        let level = if *primary { 2 } else { 1 };
        for k in kind.iter_mut().skip(*column).take(*w) {
            *k = (*k).max(level);
        }
    }
    let mut at = 0;
    while at < chars.len() {
        let k = kind[at];
        let end = (at..chars.len())
            .find(|&j| kind[j] != k)
            .unwrap_or(chars.len());
        let part: String = chars[at..end].iter().collect();
        match k {
            2 => p.raw("<mark class=\"p\">").text(&part).raw("</mark>"),
            1 => p.raw("<mark class=\"s\">").text(&part).raw("</mark>"),
            _ => p.text(&part),
        };
        at = end;
    }
}

/// The evaluation path of every check, as pictures, with a legend and the same as text.
fn paths(p: &mut Page, d: &Diagnosis) {
    p.open_id("section", "path")
        .el("h2", "", "Evaluation path")
        .el(
            "p",
            "",
            "For each authorization the upload needs, the layers AWS evaluates, in its order, and what each did. The deciding layers are framed and marked \u{25c0} decides.",
        );
    p.svg(&legend_svg());
    for (i, c) in d.analysis.checks.iter().enumerate() {
        let steps = evaluation_path(c, &d.analysis);
        p.open("figure", "");
        p.svg(&path_svg(c, &steps, &format!("path-{i}")));
        p.open("figcaption", "")
            .open("details", "")
            .open("summary", "")
            .text(&format!("{} as text", c.action))
            .close("summary")
            .open("table", "")
            .raw("<tr><th>layer</th><th>state</th><th>why</th></tr>\n");
        for s in &steps {
            p.raw("<tr><td>")
                .text(&s.name)
                .raw("</td><td>")
                .text(s.state.symbol())
                .raw(" ")
                .text(s.state.label());
            if s.deciding {
                p.raw(" <strong>(deciding)</strong>");
            }
            p.raw("</td><td>").prose(&s.detail).raw("</td></tr>\n");
        }
        p.close("table")
            .close("details")
            .close("figcaption")
            .close("figure");
    }
    p.close("section");
}

fn checks(p: &mut Page, d: &Diagnosis) {
    p.open_id("section", "checks")
        .el("h2", "", "Checks")
        .open("table", "")
        .raw("<tr><th>action</th><th>outcome</th><th>why</th><th>needed because</th></tr>\n");
    for c in &d.analysis.checks {
        let (word, detail) = super::check_parts(c);
        p.raw("<tr><td><code>")
            .text(&c.action)
            .raw("</code></td><td>")
            .text(outcome_symbol(c))
            .raw(" ")
            .text(word)
            .raw("</td><td>")
            .prose(detail.trim_start_matches([':', ' ']))
            .raw("</td><td>")
            .prose(&c.reason)
            .raw("</td></tr>\n");
    }
    p.close("table").close("section");
}

fn outcome_symbol(c: &Check) -> &'static str {
    match c.outcome {
        CheckOutcome::Allowed => StepState::Allows.symbol(),
        CheckOutcome::Denied => StepState::ExplicitDeny.symbol(),
        CheckOutcome::Indeterminate => StepState::Unknown.symbol(),
    }
}

/// `v` with the members of every object in key order, whichever order serde_json's maps keep
/// (its `preserve_order` feature, which another crate of a build may turn on, keeps insertion
/// order): the page is the same in every build.
fn sorted_keys(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut members: Vec<(String, Value)> = m.into_iter().collect();
            members.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k, sorted_keys(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted_keys).collect()),
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_and_controls_are_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(
            escape("a\u{202e}b\x1b\u{ffff}"),
            "a\\u{202e}b\\x1b\\u{ffff}"
        );
        assert!(matches!(escape("plain é"), Cow::Borrowed(_)));
    }

    #[test]
    fn prose_puts_backticked_parts_in_code() {
        let mut p = Page {
            buf: String::new(),
            afters: Default::default(),
        };
        p.prose("allow `s3:PutObject` on `<b>`");
        assert_eq!(
            p.buf,
            "allow <code>s3:PutObject</code> on <code>&lt;b&gt;</code>"
        );
        let mut p = Page {
            buf: String::new(),
            afters: Default::default(),
        };
        p.prose("one ` alone");
        assert_eq!(p.buf, "one ` alone");
    }

    #[test]
    fn structured_changes_are_written_in_key_order_in_every_build() {
        let v = sorted_keys(
            serde_json::json!({"type": "set_header", "name": "n", "value": {"b": 1, "a": 2}}),
        );
        assert_eq!(
            v.to_string(),
            r#"{"name":"n","type":"set_header","value":{"a":2,"b":1}}"#
        );
    }
}
