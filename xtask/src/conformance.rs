//! `cargo xtask conformance`: replays corpora of authorization cases through `why403 eval` and
//! lists every case where our decision differs from the record's `expected`.
//!
//! Without a file it runs the repository's own corpus (`tests/conformance/cases.jsonl`,
//! written from AWS's documentation, every case agreeing), then, when it is present next to
//! the checkout (`<root>/../shared/conformance/peer-requests.jsonl`), the peer engine's
//! AGPL-licensed cases: those are streamed from there and never copied, or any part of them,
//! into the repository.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::util;

/// The fields of a peer record this command reads; the rest is skipped.
#[derive(Debug, Deserialize)]
struct PeerRecord {
    #[serde(default)]
    id: serde_json::Value,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    expected: Option<String>,
}

/// One output line of `why403 eval`.
#[derive(Debug, Deserialize)]
struct OurResult {
    #[serde(default)]
    id: serde_json::Value,
    #[serde(default)]
    decision: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// A case where we and the peer differ.
#[derive(Debug)]
struct Disagreement {
    id: String,
    ours: String,
    peer: String,
    name: String,
    error: Option<String>,
}

/// The repository's own corpus, relative to the workspace root.
pub const OWN_CORPUS: &str = "tests/conformance/cases.jsonl";

pub fn run(file: Option<PathBuf>, min: Option<u64>) -> anyhow::Result<ExitCode> {
    let root = util::workspace_root()?;
    let exe = util::build_why403(&root, util::Profile::Release)?;
    if let Some(f) = file {
        let report = replay(&exe, &f)?;
        return Ok(below_min(&report, min));
    }
    println!("== the repository's corpus ({OWN_CORPUS})");
    let own = replay(&exe, &root.join(OWN_CORPUS))?;
    let mut code = ExitCode::SUCCESS;
    if own.agree != own.compared {
        eprintln!("xtask: the repository's corpus must agree entirely");
        code = ExitCode::FAILURE;
    }
    let peer = root
        .join("..")
        .join("shared")
        .join("conformance")
        .join("peer-requests.jsonl");
    if !peer.is_file() {
        println!("(the peer engine's corpus is not next to the checkout; skipped)");
        return Ok(code);
    }
    println!();
    println!("== the peer engine's corpus");
    let report = replay(&exe, &peer)?;
    if below_min(&report, min) == ExitCode::FAILURE {
        code = ExitCode::FAILURE;
    }
    Ok(code)
}

/// `FAILURE` when `--min` is given and fewer records agree.
fn below_min(report: &Report, min: Option<u64>) -> ExitCode {
    match min {
        Some(min) if report.agree < min => {
            eprintln!("xtask: agreement {} is below --min {min}", report.agree);
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

/// Runs `why403 eval` on `file`, compares, prints the report and returns it.
fn replay(exe: &Path, file: &Path) -> anyhow::Result<Report> {
    let file = file
        .canonicalize()
        .with_context(|| format!("cannot find the cases file `{}`", file.display()))?;
    let input = File::open(&file).with_context(|| format!("cannot open `{}`", file.display()))?;
    eprintln!("xtask: {} eval {}", exe.display(), file.display());
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg("eval")
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run `{}`", exe.display()))?;
    let stdout = child
        .stdout
        .take()
        .context("why403's stdout was not captured")?;
    let compared = compare(&file, BufReader::new(input), BufReader::new(stdout));
    let status = child.wait().context("waiting for why403")?;
    let elapsed = started.elapsed();
    // why403 exits 1 when some line produced an error record: that is data, reported below.
    if !matches!(status.code(), Some(0 | 1)) {
        bail!("`why403 eval` failed ({status})");
    }
    let report = compared?;
    report.print();
    println!(
        "({} records evaluated in {:.0} ms)",
        report.records,
        elapsed.as_secs_f64() * 1e3
    );
    Ok(report)
}

#[derive(Debug, Default)]
struct Report {
    /// Non-blank input records.
    records: u64,
    /// Records that carry an `expected` decision.
    compared: u64,
    agree: u64,
    disagreements: Vec<Disagreement>,
    /// Records without `expected` (not counted in the agreement).
    no_expectation: u64,
}

impl Report {
    fn print(&self) {
        println!("agreement: {}/{}", self.agree, self.compared);
        if self.no_expectation > 0 {
            println!(
                "({} records without `expected` were evaluated but not compared)",
                self.no_expectation
            );
        }
        if self.disagreements.is_empty() {
            return;
        }
        let mut by_kind: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for d in &self.disagreements {
            *by_kind
                .entry((d.ours.as_str(), d.peer.as_str()))
                .or_default() += 1;
        }
        println!();
        println!("disagreements ({}):", self.disagreements.len());
        let width = self
            .disagreements
            .iter()
            .map(|d| d.id.len())
            .max()
            .unwrap_or(0);
        for d in &self.disagreements {
            let line = format!(
                "{:<width$}  ours={}  expected={}  {}",
                d.id, d.ours, d.peer, d.name
            );
            println!("{}", line.trim_end());
            if let Some(e) = &d.error {
                println!("{:<width$}    error: {e}", "");
            }
        }
        println!();
        println!("by kind:");
        for ((ours, peer), n) in by_kind {
            println!("  {n:>4}  ours={ours}  expected={peer}");
        }
    }
}

/// Walks the input records and the result lines together (`why403 eval` writes one result per
/// non-blank input line, in order) and compares decisions.
fn compare(
    file: &Path,
    mut input: impl BufRead,
    mut output: impl BufRead,
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let mut in_buf = Vec::new();
    let mut out_buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        in_buf.clear();
        let n = input
            .read_until(b'\n', &mut in_buf)
            .with_context(|| format!("reading `{}`", file.display()))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = String::from_utf8_lossy(&in_buf);
        if line.trim().is_empty() {
            continue;
        }
        report.records += 1;
        // A record we cannot read is still evaluated (as an error) by why403: keep in step.
        let peer: Option<PeerRecord> = serde_json::from_str(&line).ok();

        out_buf.clear();
        let n = output
            .read_until(b'\n', &mut out_buf)
            .context("reading the output of `why403 eval`")?;
        if n == 0 {
            bail!(
                "`why403 eval` stopped early: no result for line {line_no} of `{}`",
                file.display()
            );
        }
        let out_text = String::from_utf8_lossy(&out_buf);
        let ours: OurResult = serde_json::from_str(&out_text).with_context(|| {
            format!("`why403 eval` wrote an unreadable result for line {line_no}: {out_text}")
        })?;

        let Some(peer) = peer else {
            report.disagreements.push(Disagreement {
                id: display_id(&ours.id, line_no),
                ours: label(&ours),
                peer: "?".into(),
                name: format!("(line {line_no} is not a JSON record)"),
                error: ours.error,
            });
            report.compared += 1;
            continue;
        };
        if !ours.id.is_null() && !peer.id.is_null() && ours.id != peer.id {
            bail!(
                "results out of step at line {line_no}: the record's id is {} but why403 answered for {}",
                peer.id,
                ours.id
            );
        }
        let Some(expected) = peer.expected else {
            report.no_expectation += 1;
            continue;
        };
        report.compared += 1;
        if ours.error.is_none() && ours.decision.as_deref() == Some(expected.as_str()) {
            report.agree += 1;
            continue;
        }
        report.disagreements.push(Disagreement {
            id: display_id(&peer.id, line_no),
            ours: label(&ours),
            peer: expected,
            name: peer.name.unwrap_or_default(),
            error: ours.error,
        });
    }
    out_buf.clear();
    if output
        .read_until(b'\n', &mut out_buf)
        .context("reading the output of `why403 eval`")?
        > 0
    {
        bail!(
            "`why403 eval` wrote more results than `{}` has records (first extra: {})",
            file.display(),
            String::from_utf8_lossy(&out_buf).trim_end()
        );
    }
    Ok(report)
}

fn label(ours: &OurResult) -> String {
    match (&ours.error, &ours.decision) {
        (Some(_), _) => "error".into(),
        (None, Some(d)) => d.clone(),
        (None, None) => "?".into(),
    }
}

fn display_id(id: &serde_json::Value, line_no: u64) -> String {
    match id {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => format!("line:{line_no}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_results_with_records_and_skips_blank_lines() {
        let input = concat!(
            r#"{"id":"a","name":"first","expected":"Allowed","request":{}}"#,
            "\n\n",
            r#"{"id":"b","name":"second","expected":"ExplicitlyDenied"}"#,
            "\n",
            r#"{"id":"c","name":"third","expected":"ImplicitlyDenied"}"#,
            "\n",
            r#"{"id":"d","name":"no expectation"}"#,
            "\n",
        );
        let output = concat!(
            r#"{"id":"a","decision":"Allowed","deciding":[]}"#,
            "\n",
            r#"{"id":"b","decision":"ImplicitlyDenied","deciding":[],"blocked_by":[]}"#,
            "\n",
            r#"{"id":"c","line":4,"error":"line 4: bad policy"}"#,
            "\n",
            r#"{"id":"d","decision":"Allowed","deciding":[]}"#,
            "\n",
        );
        let r = compare(Path::new("t.jsonl"), input.as_bytes(), output.as_bytes())
            .expect("well-formed streams compare");
        assert_eq!(
            (r.records, r.compared, r.agree, r.no_expectation),
            (4, 3, 1, 1)
        );
        let d: Vec<_> = r
            .disagreements
            .iter()
            .map(|d| {
                (
                    d.id.as_str(),
                    d.ours.as_str(),
                    d.peer.as_str(),
                    d.error.is_some(),
                )
            })
            .collect();
        assert_eq!(
            d,
            [
                ("b", "ImplicitlyDenied", "ExplicitlyDenied", false),
                ("c", "error", "ImplicitlyDenied", true)
            ]
        );
    }

    #[test]
    fn out_of_step_results_are_an_error() {
        let input = "{\"id\":\"a\",\"expected\":\"Allowed\"}\n";
        let output = "{\"id\":\"z\",\"decision\":\"Allowed\"}\n";
        assert!(compare(Path::new("t"), input.as_bytes(), output.as_bytes()).is_err());
        let short = "";
        assert!(compare(Path::new("t"), input.as_bytes(), short.as_bytes()).is_err());
    }
}
