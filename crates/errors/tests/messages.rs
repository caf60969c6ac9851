//! The message corpus: every file under crates/errors/tests/messages/ is a pasted error, and its
//! `<name>.expect.json` sidecar lists the fields `message::parse` must give (a `null` means the
//! field must be absent) and, under `explain`, what `message::explain` must say. Also checks
//! that every explanation follows the message conventions, and that no input makes the parser
//! panic.

use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;
use why403_errors::{Explanation, Kind, RuleStatus, explain, human, json, parse};

fn corpus() -> Vec<(PathBuf, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/messages");
    let mut out: Vec<(PathBuf, PathBuf)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| !p.to_string_lossy().ends_with(".expect.json"))
        .map(|p| {
            let stem = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let sidecar = p.with_file_name(format!("{stem}.expect.json"));
            (p, sidecar)
        })
        .collect();
    out.sort();
    out
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Checks that `got` has every field of `want` with the same value.
fn check_fields(name: &str, got: &Value, want: &Value, errors: &mut Vec<String>) {
    let Some(want) = want.as_object() else { return };
    for (k, w) in want {
        if k == "explain" {
            continue;
        }
        let g = got.get(k).unwrap_or(&Value::Null);
        if k == "details" {
            check_fields(name, g, w, errors);
        } else if g != w {
            errors.push(format!("{name}: `{k}` is {g}, expected {w}"));
        }
    }
}

fn rule_ids(x: &Explanation, status: RuleStatus) -> Vec<&'static str> {
    x.rules
        .iter()
        .filter(|r| r.status == status)
        .map(|r| r.id)
        .collect()
}

fn strs(v: &Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn check_explanation(
    name: &str,
    text: &str,
    x: &Explanation,
    want: &Value,
    errors: &mut Vec<String>,
) {
    let kind = serde_json::to_value(x.kind).unwrap_or_default();
    if let Some(k) = want.get("kind")
        && *k != kind
    {
        errors.push(format!("{name}: kind is {kind}, expected {k}"));
    }
    if let Some(s) = want.get("status")
        && serde_json::to_value(x.status).unwrap_or_default() != *s
    {
        errors.push(format!("{name}: status is {:?}, expected {s}", x.status));
    }
    for (key, status) in [
        ("in", RuleStatus::RuledIn),
        ("out", RuleStatus::RuledOut),
        ("possible", RuleStatus::Possible),
    ] {
        let have = rule_ids(x, status);
        for id in strs(want, key) {
            if !have.contains(&id.as_str()) {
                errors.push(format!(
                    "{name}: rule `{id}` should be {status:?}; {status:?} are {have:?}"
                ));
            }
        }
    }
    if want.get("command").and_then(Value::as_bool) == Some(true) && x.command.is_none() {
        errors.push(format!("{name}: no `why403 diagnose` command"));
    }
    for c in strs(want, "contains") {
        if !text.contains(&c) {
            errors.push(format!(
                "{name}: the explanation does not contain `{c}`:\n{text}"
            ));
        }
    }
}

/// Lower-case first word, no final period, one line.
fn check_style(name: &str, x: &Explanation, errors: &mut Vec<String>) {
    let mut sentences: Vec<&str> = vec![x.headline.as_str()];
    sentences.extend(x.proves.iter().map(String::as_str));
    sentences.extend(x.cause.as_deref());
    sentences.extend(x.fix.as_deref());
    sentences.extend(x.notes.iter().map(String::as_str));
    sentences.extend(x.rules.iter().map(|r| r.why.as_str()));
    sentences.extend(x.evidence.iter().map(|e| e.what.as_str()));
    sentences.extend(x.evidence.iter().filter_map(|e| e.note.as_deref()));
    for s in sentences {
        if s.is_empty() || s.starts_with(char::is_uppercase) || s.ends_with('.') || s.contains('\n')
        {
            errors.push(format!("{name}: breaks the message conventions: {s:?}"));
        }
    }
}

#[test]
fn the_corpus_parses_as_expected() {
    let files = corpus();
    assert!(
        files.len() >= 40,
        "the corpus has {} messages, expected at least 40",
        files.len()
    );
    let mut errors = Vec::new();
    for (msg, sidecar) in &files {
        let name = msg
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Ok(want) = serde_json::from_str::<Value>(&read(sidecar)) else {
            errors.push(format!("{name}: no valid `{}`", sidecar.display()));
            continue;
        };
        let p = parse(&read(msg));
        let got = serde_json::to_value(&p).unwrap_or_default();
        let mut want_fields = want.clone();
        // `recognised` in a sidecar is whether anything was, not the list.
        if let Some(r) = want.get("recognised").and_then(Value::as_bool) {
            if r != p.is_recognised() {
                errors.push(format!(
                    "{name}: recognised is {}, expected {r}",
                    p.is_recognised()
                ));
            }
            if let Some(o) = want_fields.as_object_mut() {
                o.remove("recognised");
            }
        } else if !p.is_recognised() {
            errors.push(format!("{name}: nothing recognised"));
        }
        check_fields(&name, &got, &want_fields, &mut errors);
        let x = explain(&p, &why403_rules::registry());
        let text = human(&p, &x);
        if let Some(w) = want.get("explain") {
            check_explanation(&name, &text, &x, w, &mut errors);
        }
        check_style(&name, &x, &mut errors);
        let j = json(&p, &x);
        if j["schema"] != "why403.explanation/v1" {
            errors.push(format!("{name}: JSON schema is {}", j["schema"]));
        }
    }
    assert!(
        errors.is_empty(),
        "{} problems:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// Every form in the issue has a message: the parsed corpus covers each envelope, policy type,
/// special and non-authorization code at least once.
#[test]
fn the_corpus_covers_every_form() {
    let parsed: Vec<Value> = corpus()
        .iter()
        .map(|(m, _)| serde_json::to_value(parse(&read(m))).unwrap_or_default())
        .collect();
    let has = |k: &str, v: &str| parsed.iter().any(|p| p[k] == v);
    let mut missing = Vec::new();
    for e in [
        "aws-cli",
        "s3-transfer",
        "go-v2",
        "go-v1",
        "java-v1",
        "java-v2",
        "s3-xml",
        "cloudtrail",
        "bare",
    ] {
        if !has("envelope", e) {
            missing.push(format!("envelope {e}"));
        }
    }
    for t in [
        "identity-based",
        "resource-based",
        "permissions-boundary",
        "session-policy",
        "scp",
        "rcp",
        "vpc-endpoint",
        "role-trust",
    ] {
        for explicit in [true, false] {
            let found = parsed
                .iter()
                .any(|p| p["policy_type"] == t && p["explicit"] == explicit);
            // AWS documents no implicit RCP message, and the implicit role trust one is about
            // `AssumeRole`, not uploads.
            let documented = explicit || !matches!(t, "rcp" | "role-trust");
            if documented && !found {
                missing.push(format!("{t} explicit={explicit}"));
            }
        }
    }
    for s in [
        "block-public-acls",
        "block-public-policy",
        "sse-c-blocked",
        "kms-not-found-or-denied",
    ] {
        if !has("special", s) {
            missing.push(format!("special {s}"));
        }
    }
    for c in [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "RequestTimeTooSkewed",
        "ExpiredToken",
        "InvalidToken",
        "AccessControlListNotSupported",
        "KMS.DisabledException",
        "KMS.KMSInvalidStateException",
        "KMS.NotFoundException",
        "AccountProblem",
        "AllAccessDisabled",
        "PermanentRedirect",
        "AuthorizationHeaderMalformed",
    ] {
        if !has("code", c) {
            missing.push(format!("code {c}"));
        }
    }
    if !parsed.iter().any(|p| p["policy_arn"].is_string()) {
        missing.push("policy ARN suffix".to_owned());
    }
    if !parsed.iter().any(|p| p["authorization_id"].is_string()) {
        missing.push("authorization id".to_owned());
    }
    if !parsed
        .iter()
        .any(|p| p["details"]["request_expired"] == true)
    {
        missing.push("Request has expired".to_owned());
    }
    assert!(missing.is_empty(), "no corpus message for: {missing:?}");
}

/// Each non-authorization error is explained with a cause and a fix.
#[test]
fn non_authorization_errors_name_cause_and_fix() {
    for (m, _) in corpus() {
        let p = parse(&read(&m));
        let x = explain(&p, &why403_rules::registry());
        if x.kind == Kind::NotAuthorization {
            assert!(
                x.cause.as_deref().is_some_and(|c| !c.is_empty()),
                "{}: no cause",
                m.display()
            );
            assert!(
                x.fix.as_deref().is_some_and(|f| !f.is_empty()),
                "{}: no fix",
                m.display()
            );
            assert!(
                x.command.is_none(),
                "{}: a policy diagnosis cannot help",
                m.display()
            );
        }
    }
}

/// The corpus messages that are text (not JSON, where a line break inside a string is invalid).
fn text_corpus() -> Vec<(String, String)> {
    corpus()
        .into_iter()
        .filter(|(m, _)| m.extension().is_some_and(|e| e != "json"))
        .map(|(m, _)| {
            (
                m.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                read(&m),
            )
        })
        .collect()
}

/// The facts a line break must not change.
fn facts(text: &str) -> Value {
    let v = serde_json::to_value(parse(text)).unwrap_or_default();
    let keep = [
        "envelope",
        "code",
        "operation",
        "principal",
        "action",
        "resource",
        "explicit",
        "policy_type",
        "policy_arn",
        "special",
        "authorization_id",
        "bucket",
        "key",
    ];
    keep.iter()
        .map(|k| ((*k).to_owned(), v[*k].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn config() -> Config {
    Config {
        cases: std::env::var("WHY403_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(512),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary text never makes the parser or the explanation panic, and the answer is never
    /// empty.
    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let p = parse(&s);
        let x = explain(&p, &why403_rules::registry());
        prop_assert!(!x.headline.is_empty());
        let _ = human(&p, &x);
    }

    /// Line breaks put anywhere inside words and ARNs (a terminal wrapping a pasted error) change
    /// none of the facts.
    #[test]
    fn line_breaks_anywhere_keep_the_facts(
        (name, text) in proptest::sample::select(text_corpus()),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 1..5),
    ) {
        let mut wrapped = text.clone();
        for cut in cuts {
            let at = cut.index(wrapped.len().max(1));
            let b = wrapped.as_bytes();
            let inside_word = at > 0
                && at < b.len()
                && wrapped.is_char_boundary(at)
                && !b[at - 1].is_ascii_whitespace()
                && !b[at].is_ascii_whitespace();
            if inside_word {
                wrapped.insert(at, '\n');
            }
        }
        prop_assert_eq!(facts(&wrapped), facts(&text), "{} wrapped as:\n{}", name, wrapped);
    }

    /// Text built from the grammar's own words, shuffled and wrapped, never panics either.
    #[test]
    fn grammar_soup_never_panics(words in proptest::collection::vec(prop_oneof![
        Just("User:"), Just("is not authorized to perform:"), Just("s3:PutObject"), Just("on resource:"),
        Just("\""), Just("arn:aws:s3:::b/k"), Just("with an explicit deny in a"), Just("because no"),
        Just("service control policy"), Just(":"), Just("An error occurred ("), Just(")"), Just("<Code>"),
        Just("</Code>"), Just("<Message>"), Just("(Service:"), Just("api error"), Just("\n"), Just("é"),
        Just("authorization id:"), Just("status code: 403, request id:"), Just("{\"errorCode\":"),
        Just("upload failed:"), Just(" to s3://"), Just("&quot;"), Just("\\"), Just("KMS.DisabledException:"),
    ], 0..40)) {
        let s: String = words.concat();
        let p = parse(&s);
        let _ = explain(&p, &why403_rules::registry());
    }
}
