//! Whole situations and the diagnosis's invariants.
//!
//! `tests/situations/*.json` are scenario files a user could bring, written from AWS's
//! documentation, Knowledge Center articles and re:Post answers (each names its sources), where
//! several rules could speak. Each states the verdict and the causes, in order, that AWS's
//! documented behaviour calls for; this test diagnoses every one with all built-in rules.
//!
//! The invariants hold over every situation, every rule case and every example scenario:
//! - one refusal, one cause: no two cause findings on one check both have a fix that resolves
//!   the upload on its own;
//! - an indeterminate verdict names what is missing and the IAM action that would read it,
//!   and so do the findings that depend on it;
//! - every cause finding claims what it explains.

use std::path::{Path, PathBuf};

use why403_core::analysis::Verdict;
use why403_core::finding::{Diagnosis, Role, Verification, diagnose};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn situations() -> Vec<PathBuf> {
    let mut files = Vec::new();
    json_files(&workspace().join("tests/situations"), &mut files);
    files
}

/// Every scenario file the project keeps: situations, rule cases, examples.
fn all_scenarios() -> Vec<PathBuf> {
    let mut files = situations();
    let rules = workspace().join("crates/rules");
    for e in std::fs::read_dir(rules)
        .expect("crates/rules is readable")
        .flatten()
    {
        json_files(&e.path().join("tests/cases"), &mut files);
    }
    json_files(&workspace().join("examples/scenarios"), &mut files);
    files
}

fn run(path: &Path) -> (why403_fixtures_source::Scenario, Diagnosis) {
    let s = why403_fixtures_source::load(path).unwrap_or_else(|e| panic!("{e}"));
    let d = diagnose(
        s.request.clone(),
        s.evidence.clone(),
        &why403_rules::registry(),
    );
    (s, d)
}

fn cause_ids(d: &Diagnosis) -> Vec<String> {
    d.findings
        .iter()
        .filter(|f| f.role == Role::Cause)
        .map(|f| f.rule.id.clone())
        .collect()
}

#[test]
fn every_situation_gets_the_documented_diagnosis() {
    let files = situations();
    assert!(
        files.len() >= 40,
        "tests/situations holds {} files; the corpus should have at least 40",
        files.len()
    );
    let mut wrong = Vec::new();
    let (mut allowed, mut two_causes) = (0, 0);
    for path in &files {
        let (s, d) = run(path);
        let name = path.file_name().unwrap().to_string_lossy();
        let expect = s
            .expect
            .unwrap_or_else(|| panic!("{name}: a situation states `expect`"));
        assert!(
            !s.sources.is_empty() && s.description.is_some(),
            "{name}: a situation has a description and its sources"
        );
        let want: Vec<String> = expect
            .causes
            .iter()
            .map(|c| c.rsplit('/').next().unwrap_or(c).to_owned())
            .collect();
        let got = cause_ids(&d);
        let verdict = d.verdict.to_string();
        if verdict != expect.verdict || got != want {
            wrong.push(format!(
                "{name}: expected {} {:?}, got {verdict} {:?}",
                expect.verdict, want, got
            ));
        }
        allowed += usize::from(expect.verdict == "allowed");
        two_causes += usize::from(expect.verdict == "denied" && want.len() >= 2);
    }
    assert!(
        wrong.is_empty(),
        "{} of {} situations are diagnosed otherwise than documented:\n{}",
        wrong.len(),
        files.len(),
        wrong.join("\n")
    );
    assert!(allowed >= 10, "at least 10 allowed situations ({allowed})");
    assert!(
        two_causes >= 5,
        "at least 5 situations with two causes ({two_causes})"
    );
}

#[test]
fn one_refusal_one_cause_and_nothing_indeterminate_unnamed() {
    let files = all_scenarios();
    assert!(
        files.len() > 100,
        "found only {} scenario files",
        files.len()
    );
    let mut broken = Vec::new();
    for path in &files {
        let (_, d) = run(path);
        let name = path
            .strip_prefix(workspace())
            .unwrap_or(path)
            .display()
            .to_string();
        let causes: Vec<_> = d
            .findings
            .iter()
            .filter(|f| f.role == Role::Cause)
            .collect();
        for (i, a) in causes.iter().enumerate() {
            if a.claims.is_empty() && a.rule.id != why403_core::finding::UNEXPLAINED_DENY {
                broken.push(format!("{name}: `{}` claims nothing", a.rule));
            }
            for b in &causes[i + 1..] {
                let resolves = |f: &why403_core::finding::Finding| {
                    f.fix
                        .as_ref()
                        .is_some_and(|x| x.verified == Verification::Resolves)
                };
                if a.shares_check(b) && resolves(a) && resolves(b) {
                    broken.push(format!(
                        "{name}: `{}` and `{}` explain the same check and each fix alone resolves it",
                        a.rule, b.rule
                    ));
                }
            }
        }
        if let Verdict::Indeterminate { missing } = &d.verdict {
            if missing.is_empty() {
                broken.push(format!(
                    "{name}: indeterminate without naming what is missing"
                ));
            }
            for m in missing {
                // No AWS API returns a session policy: there is no action to name, only why.
                let unreadable_by_any_action = m.kind
                    == why403_core::rule::EvidenceKind::SessionPolicy
                    && !m.unavailable.reason.is_empty();
                if m.unavailable.needs.is_empty() && !unreadable_by_any_action {
                    broken.push(format!(
                        "{name}: `{}` is missing but no IAM action that reads it is named",
                        m.what
                    ));
                }
            }
            let human =
                why403_core::render::human(&d, &why403_core::render::HumanOptions::new(false));
            let json = why403_core::render::json(&d).to_string();
            for m in missing {
                for needs in &m.unavailable.needs {
                    if !human.contains(needs.as_str()) || !json.contains(needs.as_str()) {
                        broken.push(format!(
                            "{name}: the output does not name `{needs}`, which would read the missing `{}`",
                            m.what
                        ));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// Fix safety over every scenario the project keeps: each fix was evaluated on probes around
/// the upload (other objects, prefixes and buckets, the buckets the policies name, other S3
/// actions, other principals, other accounts, anonymous callers); what it allows beyond the
/// refused upload is in `widens`, in one of three forms. Settings that open a bucket (Block
/// Public Access off, an ACL grant) always say so. Prints the figures.
#[test]
fn every_fix_says_what_it_allows_beyond_the_upload() {
    use std::collections::BTreeMap;
    use why403_core::finding::Change;
    let (mut fixes, mut widened) = (0usize, 0usize);
    let mut by_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for path in all_scenarios() {
        let (_, d) = run(&path);
        for f in &d.findings {
            let Some(fix) = &f.fix else { continue };
            fixes += 1;
            let e = by_rule.entry(f.rule.id.clone()).or_default();
            e.0 += 1;
            if !fix.widens.is_empty() {
                widened += 1;
                e.1 += 1;
            }
            for w in &fix.widens {
                assert!(
                    w.starts_with("also allows ")
                        || w.starts_with("turns off ")
                        || w.starts_with("grants "),
                    "{}: {}: `{w}`",
                    path.display(),
                    f.rule
                );
            }
            let opens = fix.changes.iter().any(|c| {
                matches!(
                    c,
                    Change::SetPublicAccessBlock { enabled: false, .. }
                        | Change::AddAclGrant { .. }
                )
            });
            assert!(
                !opens || !fix.widens.is_empty(),
                "{}: {}",
                path.display(),
                f.rule
            );
        }
    }
    assert!(fixes > 100, "{fixes} fixes");
    let list: Vec<String> = by_rule
        .iter()
        .filter(|(_, (_, w))| *w > 0)
        .map(|(r, (n, w))| format!("{r} {w}/{n}"))
        .collect();
    let mut err = std::io::stderr().lock();
    let _ = std::io::Write::write_all(
        &mut err,
        format!(
            "fix safety: {widened} of {fixes} fixes widen (say what they allow beyond the upload): {}\n",
            list.join(", ")
        )
        .as_bytes(),
    );
}
