//! Test helpers for rule crates (feature `testkit`): run a scenario file through the rules
//! linked into the test binary, assert that a rule fires (and render its findings for an insta
//! snapshot) or stays silent, and check the message conventions of every finding.
//! [`run_cases`] runs all of a rule's cases, so that one test binary can run every rule's
//! (the built-in bundle does; an organization's crate can do the same for its rules).

use std::path::{Path, PathBuf};

use why403_core::finding::{Diagnosis, Finding, Verification, diagnose};
use why403_core::rule::Registry;

/// Loads a scenario and diagnoses it with every rule linked into the program.
///
/// # Panics
///
/// When the scenario does not load or the registry is inconsistent: these are test failures.
pub fn diagnose_file(path: &Path) -> Diagnosis {
    let scenario = crate::load(path).unwrap_or_else(|e| panic!("{e}"));
    let registry = Registry::linked().unwrap_or_else(|e| panic!("{e}"));
    diagnose(scenario.request, scenario.evidence, &registry)
}

fn assert_registered(rule: &str) {
    let registry = Registry::linked().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        registry.get(rule).is_some(),
        "rule `{rule}` is not registered in this test binary: add `use why403_rule_{} as _;` at the top of the test file",
        rule.replace('-', "_")
    );
}

/// Asserts that `rule` emits at least one finding for the scenario, that every finding follows
/// the message conventions and every fix was verified, and returns the stable plain rendering
/// of the rule's findings for a snapshot.
///
/// # Panics
///
/// When any of that does not hold.
pub fn fires(rule: &str, path: &Path) -> String {
    assert_registered(rule);
    let d = diagnose_file(path);
    let mine: Vec<&Finding> = d.findings.iter().filter(|f| f.rule.id == rule).collect();
    assert!(
        !mine.is_empty(),
        "rule `{rule}` did not fire on {}; verdict {}; findings: {:?}",
        path.display(),
        d.verdict,
        d.findings
            .iter()
            .map(|f| format!("{}: {}", f.rule, f.message))
            .collect::<Vec<_>>()
    );
    for f in &d.findings {
        check_message_style(f);
    }
    for f in &mine {
        if let Some(fix) = &f.fix {
            assert!(
                !matches!(fix.verified, Verification::NotChecked { .. }),
                "the fix of `{rule}` on {} could not be applied: {:?}",
                path.display(),
                fix.verified
            );
        }
    }
    why403_core::render::plain_findings(&d, Some(rule))
}

/// Asserts that `rule` emits nothing for the scenario.
///
/// # Panics
///
/// When it does.
pub fn clear(rule: &str, path: &Path) {
    assert_registered(rule);
    let d = diagnose_file(path);
    let mine: Vec<String> = d
        .findings
        .iter()
        .filter(|f| f.rule.id == rule)
        .map(|f| f.message.clone())
        .collect();
    assert!(
        mine.is_empty(),
        "rule `{rule}` fired on the clear case {}: {mine:?}",
        path.display()
    );
    for f in &d.findings {
        check_message_style(f);
    }
}

/// The message conventions: lower-case first word, no final period, one line; a fix is one
/// imperative sentence (lower-case, no final period).
///
/// # Panics
///
/// When a finding breaks them.
pub fn check_message_style(f: &Finding) {
    let m = &f.message;
    assert!(!m.is_empty(), "{}: empty message", f.rule);
    assert!(
        !m.starts_with(|c: char| c.is_uppercase()),
        "{}: message must start lower-case: {m}",
        f.rule
    );
    assert!(
        !m.ends_with('.'),
        "{}: message must not end with a period: {m}",
        f.rule
    );
    assert!(
        !m.contains('\n'),
        "{}: message must be one line: {m}",
        f.rule
    );
    if let Some(fix) = &f.fix {
        let d = &fix.description;
        assert!(
            d.starts_with(|c: char| c.is_lowercase()) && !d.ends_with('.') && !d.contains('\n'),
            "{}: a fix is one imperative sentence, lower-case, no final period: {d}",
            f.rule
        );
    }
}

/// Runs every case of `rule` under `tests` (a rule crate's `tests/` folder): each
/// `cases/fires/*.json` must make the rule fire ([`fires`]), its rendering matching the
/// reviewed snapshot `snapshots/rule__fires@<case>.snap`, and each `cases/clear/*.json` must
/// leave it silent ([`clear`]). Returns one line per failing case (empty when all pass), so
/// that a harness can report every rule's failures at once.
pub fn run_cases(rule: &str, tests: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for (kind, fires_case) in [("fires", true), ("clear", false)] {
        let dir = tests.join("cases").join(kind);
        let mut cases: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect(),
            Err(e) => {
                failures.push(format!("{rule}: cannot read {}: {e}", dir.display()));
                continue;
            }
        };
        cases.sort();
        for case in cases {
            let name = case
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let run = std::panic::catch_unwind(|| {
                if fires_case {
                    let out = fires(rule, &case);
                    let mut settings = insta::Settings::clone_current();
                    settings.set_snapshot_path(tests.join("snapshots"));
                    settings.set_prepend_module_to_snapshot(false);
                    settings.set_input_file(&case);
                    settings.set_omit_expression(true);
                    settings.bind(|| insta::assert_snapshot!(format!("rule__fires@{name}"), out));
                } else {
                    clear(rule, &case);
                }
            });
            if let Err(panic) = run {
                let why = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("panicked");
                failures.push(format!("{rule} {kind}/{name}: {why}"));
            }
        }
    }
    failures
}

/// The documentation sections every rule has, in this order.
pub const DOC_SECTIONS: [&str; 5] = [
    "## Cause",
    "## How AWS evaluates it",
    "## Example",
    "## Fix",
    "## References",
];

/// The registry invariants for the rules of `scope` linked into the program: `expected` ids
/// are all there (a missing one is a crate whose `use <crate> as _;` line is missing); ids are
/// kebab-case of at most 48 characters and match the layer their prefix names; summaries are
/// one lower-case line of at most 80 characters without a final period; the docs have every
/// section of [`DOC_SECTIONS`] in order and no `FIXME`; every rule declares the error messages
/// that point to it. Returns one line per problem (empty when all hold).
pub fn registry_problems(scope: &str, expected: &[&str]) -> Vec<String> {
    let registry = match Registry::linked() {
        Ok(r) => r,
        Err(e) => return vec![e.to_string()],
    };
    let mut out = Vec::new();
    let mine: Vec<&why403_core::rule::RuleMeta> = registry
        .rules()
        .iter()
        .map(|r| r.meta())
        .filter(|m| m.scope == scope)
        .collect();
    for id in expected {
        if !mine.iter().any(|m| m.id == *id) {
            out.push(format!(
                "rule `{scope}/{id}` is not linked: add `use <its crate> as _;` to the program (and to this test)"
            ));
        }
    }
    for m in mine {
        let id = m.id;
        let kebab = !id.is_empty()
            && id.len() <= 48
            && id.split('-').all(|w| {
                !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if !kebab {
            out.push(format!(
                "id `{id}` must be kebab-case ASCII, at most 48 characters"
            ));
        }
        if let Some(l) = why403_core::rule::RuleLayer::of_id(id)
            && l != m.layer
        {
            out.push(format!(
                "rule `{id}` starts with the prefix of layer `{l}` but declares `{}`",
                m.layer
            ));
        }
        let s = m.summary;
        if s.contains('\n')
            || s.len() > 80
            || !s.starts_with(|c: char| c.is_lowercase())
            || s.ends_with('.')
        {
            out.push(format!(
                "summary of `{id}` must be one lower-case line of at most 80 characters without a final period"
            ));
        }
        let docs = m.docs_markdown();
        let mut at = 0;
        for sec in DOC_SECTIONS {
            match docs[at..].find(sec) {
                Some(i) => at += i + sec.len(),
                None => {
                    out.push(format!(
                        "docs of `{id}` lack `{sec}` (in order: {DOC_SECTIONS:?})"
                    ));
                    break;
                }
            }
        }
        if docs.contains("FIXME") {
            out.push(format!("docs of `{id}` still contain FIXME"));
        }
        if m.messages.is_empty() {
            out.push(format!(
                "rule `{id}` declares no `messages` in declare_rule!, so `explain` never names it"
            ));
        }
    }
    out
}
