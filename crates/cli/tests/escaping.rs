//! Hostile input reaches no terminal raw: every string of a scenario (object keys, and the
//! strings of policies given as JSON text, included), in turn, and pasted errors carry escape
//! sequences, line breaks, bidirectional overrides and C1 controls; every rendering (human with
//! colour on and off, plain, JSON, HTML) and every error message on standard error shows them
//! escaped. Only the renderer's own line breaks and colour codes are raw, JSON stays valid and
//! the HTML page well-formed.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use why403_core::finding::{Diagnosis, diagnose};
use why403_core::render::{HumanOptions, html, human, json, json_text, plain_findings};
use why403_errors::{explain, parse};

/// Sets the window title, rings, clears the screen, forges a line, reverses the rest of the line,
/// and a C1 CSI, DEL, a line separator.
const HOSTILE: &str = "\x1b]0;owned\x07\x1b[2J\x1b[0m\r\nallowed: FORGED\u{202e}\u{2066}\u{9b}31m\t\x7f\u{2028}\u{85}\u{200f}";
/// The part of [`HOSTILE`] that shows it went through, escaped.
const ESCAPED_MARK: &str = "\\x1b]0;owned\\x07";

/// The colour codes the human renderer writes itself.
const OWN_STYLES: [&str; 7] = [
    "\x1b[1;31m",
    "\x1b[1;33m",
    "\x1b[1;36m",
    "\x1b[1;32m",
    "\x1b[1;34m",
    "\x1b[1m",
    "\x1b[0m",
];

/// Characters no output may hold raw (besides line breaks): the test's own list, not the
/// renderer's.
fn forbidden(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn assert_clean(what: &str, out: &str, styled: bool) {
    let mut text = out.to_owned();
    if styled {
        for s in OWN_STYLES {
            text = text.replace(s, "");
        }
    }
    if let Some(c) = text.chars().find(|&c| forbidden(c)) {
        panic!("{what}: raw {c:?} in the output:\n{out}");
    }
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("allowed: FORGED")),
        "{what}: a forged line:\n{out}"
    );
}

/// Every rendering of a diagnosis is clean; true when the hostile text showed (escaped).
fn check_renderings(what: &str, d: &Diagnosis) -> bool {
    let colored = human(d, &HumanOptions::new(true));
    assert_clean(&format!("{what} (human, colour)"), &colored, true);
    let plain_human = human(d, &HumanOptions::new(false));
    assert_clean(&format!("{what} (human)"), &plain_human, false);
    assert_clean(&format!("{what} (plain)"), &plain_findings(d, None), false);
    let value = json(d);
    let text = json_text(&value);
    assert_clean(&format!("{what} (json)"), &text, false);
    let back: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{what}: the JSON output does not parse: {e}\n{text}"));
    assert_eq!(back, value, "{what}: the JSON output changed a value");
    let page = html(d);
    assert_clean(&format!("{what} (html)"), &page, false);
    if let Err(e) = roxmltree::Document::parse(&page) {
        panic!("{what}: the HTML output is not well-formed: {e}\n{page}");
    }
    plain_human.contains(ESCAPED_MARK)
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every copy of `v` with one string (a value or an object key) made hostile. A string that
/// holds a JSON document (a policy) is also mutated inside, one string at a time.
fn mutants(v: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    walk(
        v,
        "",
        &mut |pointer, replace| out.push((pointer, replace)),
        &|x| x,
    );
    out
}

type Rebuild<'a> = dyn Fn(Value) -> Value + 'a;

/// Calls `found` with the pointer and the whole rebuilt document for each mutation of `v`;
/// `rebuild` puts a new `v` back into the whole document.
fn walk(v: &Value, at: &str, found: &mut dyn FnMut(String, Value), rebuild: &Rebuild<'_>) {
    match v {
        Value::String(s) => {
            found(
                at.to_owned(),
                rebuild(Value::String(format!("{s}{HOSTILE}"))),
            );
            if let Ok(inner @ (Value::Object(_) | Value::Array(_))) =
                serde_json::from_str::<Value>(s)
            {
                walk(&inner, &format!("{at}(json)"), found, &|x: Value| {
                    rebuild(Value::String(x.to_string()))
                });
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{at}/{i}"), found, &|x: Value| {
                    let mut a = items.clone();
                    a[i] = x;
                    rebuild(Value::Array(a))
                });
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                if k == "$schema" {
                    continue;
                }
                let mut renamed = serde_json::Map::new();
                for (k2, v2) in map {
                    let name = if k2 == k {
                        format!("{k}{HOSTILE}")
                    } else {
                        k2.clone()
                    };
                    renamed.insert(name, v2.clone());
                }
                found(format!("{at}/{k}(key)"), rebuild(Value::Object(renamed)));
                walk(item, &format!("{at}/{k}"), found, &|x: Value| {
                    let mut m = map.clone();
                    m.insert(k.clone(), x);
                    rebuild(Value::Object(m))
                });
            }
        }
        _ => {}
    }
}

#[test]
fn every_string_of_a_scenario_is_escaped_in_every_rendering() {
    let registry = why403_rules::registry();
    let file = format!("scenario{HOSTILE}.json");
    let mut shown = Vec::new();
    let mut refused = 0;
    for name in [
        "examples/scenarios/bucket-policy-kms-deny.json",
        "examples/scenarios/two-causes.json",
        "examples/scenarios/allowed.json",
        "crates/fixtures-source/tests/data/partial.json",
    ] {
        let base = read_json(&example(name));
        for (pointer, doc) in mutants(&base) {
            let what = format!("{name} {pointer}");
            match why403_fixtures_source::parse(&file, &doc.to_string()) {
                Ok(s) => {
                    let d = diagnose(s.request, s.evidence, &registry);
                    if check_renderings(&what, &d) {
                        shown.push(pointer);
                    }
                }
                // What the command line prints of it is checked below.
                Err(_) => refused += 1,
            }
        }
    }
    // The test means something only if hostile text reached the output.
    for must in [
        "/request/key",
        "/request/bucket",
        "/evidence/bucket_policy/Policy(json)/Statement/0/Sid",
        "/Statement/0/Condition/StringNotLikeIfExists/s3:x-amz-server-side-encryption-aws-kms-key-id",
        "/evidence/account_authorization_details/UserDetailList/0/UserPolicyList/0/PolicyName",
        "/evidence/bucket_policy/$unavailable",
        "/evidence/account_authorization_details/$unavailable/reason",
    ] {
        assert!(
            shown.iter().any(|p| p.ends_with(must)),
            "{must} did not show: {shown:?}"
        );
    }
    assert!(refused > 0);
}

/// Error texts of the corpus with hostile text after each word, and alone.
fn hostile_errors() -> Vec<String> {
    let dir = example("crates/errors/tests/messages");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    names.sort();
    let mut out = vec![HOSTILE.to_owned()];
    for p in names {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let words: Vec<&str> = text.split(' ').collect();
        for i in 0..words.len() {
            let mut w = words.clone();
            let hostile = format!("{}{HOSTILE}", w[i]);
            w[i] = &hostile;
            out.push(w.join(" "));
        }
    }
    out
}

#[test]
fn pasted_errors_are_escaped_when_explained() {
    let registry = why403_rules::registry();
    let mut shown = 0;
    for e in hostile_errors() {
        let p = parse(&e);
        let x = explain(&p, &registry);
        let text = why403_errors::human(&p, &x);
        assert_clean(&format!("explain {e:?}"), &text, false);
        shown += usize::from(text.contains(ESCAPED_MARK));
        let value = why403_errors::json(&p, &x);
        let j = json_text(&value);
        assert_clean(&format!("explain --format json {e:?}"), &j, false);
        assert_eq!(serde_json::from_str::<Value>(&j).ok(), Some(value));
        let page = why403_errors::html(&p, &x);
        assert_clean(&format!("explain --format html {e:?}"), &page, false);
        if let Err(err) = roxmltree::Document::parse(&page) {
            panic!("explain --format html {e:?}: not well-formed: {err}\n{page}");
        }
    }
    assert!(shown > 100, "{shown}");
}

fn output_of(cmd: &mut assert_cmd::Command) -> (String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run why403: {e}"));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const ERROR: &str = "An error occurred (AccessDenied) when calling the PutObject operation: User: \
    arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: \
    \"arn:aws:s3:::amzn-s3-demo-bucket/reports/2026/q3.csv\" with an explicit deny in a \
    resource-based policy";

#[test]
fn the_command_line_escapes_its_output_and_its_errors() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = dir.path().join(format!("no{HOSTILE}.json"));
    let base = read_json(&example("examples/scenarios/bucket-policy-kms-deny.json"));
    // Scenarios the reader refuses, naming what it refused; one it reads, with a hostile key.
    let mut refused = Vec::new();
    let mut read = None;
    for (pointer, doc) in mutants(&base) {
        let ok = why403_fixtures_source::parse("s.json", &doc.to_string()).is_ok();
        if ok && pointer == "/request/key" {
            read = Some(doc);
        } else if !ok && refused.len() < 12 {
            let path = dir.path().join(format!("refused{}.json", refused.len()));
            std::fs::write(&path, doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
            refused.push(path);
        }
    }
    let Some(read) = read else {
        panic!("the hostile key was refused")
    };
    let hostile_scenario = dir.path().join("hostile.json");
    std::fs::write(&hostile_scenario, read.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let hostile_error = ERROR.replace("alice", &format!("alice{HOSTILE}"));

    let mut runs: Vec<(String, Vec<std::ffi::OsString>)> = vec![
        (
            "missing scenario".into(),
            vec![
                "diagnose".into(),
                "--scenario".into(),
                missing.clone().into(),
            ],
        ),
        (
            "bad target".into(),
            vec!["diagnose".into(), format!("s3://bucket{HOSTILE}").into()],
        ),
        (
            "missing error file".into(),
            vec!["explain".into(), "--error-file".into(), missing.into()],
        ),
        (
            "explain".into(),
            vec!["explain".into(), hostile_error.clone().into()],
        ),
        (
            "unrecognised error".into(),
            vec!["diagnose".into(), "--error".into(), HOSTILE.into()],
        ),
    ];
    for color in ["always", "never"] {
        for format in ["human", "json"] {
            runs.push((
                format!("diagnose --color {color} --format {format}"),
                vec![
                    "diagnose".into(),
                    "--scenario".into(),
                    hostile_scenario.clone().into(),
                    "--error".into(),
                    hostile_error.clone().into(),
                    "--color".into(),
                    color.into(),
                    "--format".into(),
                    format.into(),
                ],
            ));
        }
    }
    for p in &refused {
        runs.push((
            format!("refused {}", p.display()),
            vec!["diagnose".into(), "--scenario".into(), p.clone().into()],
        ));
    }
    let mut errors_shown = 0;
    for (what, args) in runs {
        let (stdout, stderr) = output_of(cargo_bin_cmd!("why403").args(&args));
        assert_clean(&format!("{what}: stdout"), &stdout, true);
        assert_clean(&format!("{what}: stderr"), &stderr, false);
        errors_shown += usize::from(stderr.contains(ESCAPED_MARK));
        if what.contains("--format json") {
            assert!(
                serde_json::from_str::<Value>(&stdout).is_ok(),
                "{what}: {stdout}"
            );
        }
    }
    assert!(!refused.is_empty());
    assert!(errors_shown >= 3, "{errors_shown}");
}
