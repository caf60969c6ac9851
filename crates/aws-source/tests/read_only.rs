//! The live source only reads: every SDK call in the crate's source is a `Get*`, `List*`,
//! `Describe*` or `Head*` operation, and the published list of operations matches the source.
//!
//! The source calls every client through a variable named after its service (`s3.`, `iam.`,
//! ...); this test finds each `.send()` and the client call that starts its chain.

use std::collections::BTreeSet;
use std::path::Path;

/// Client variable name -> service prefix in `OPERATIONS`.
const CLIENTS: &[(&str, &str)] = &[
    ("sts", "sts"),
    ("iam", "iam"),
    ("s3", "s3"),
    ("s3c", "s3control"),
    ("kms", "kms"),
    ("org", "organizations"),
];

const READ_PREFIXES: &[&str] = &["get_", "list_", "describe_", "head_"];

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Every `<client>.<method>(` in `text`, with its byte offset.
fn client_calls(text: &str) -> Vec<(usize, &'static str, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (var, service) in CLIENTS {
        let needle = format!("{var}.");
        let mut from = 0;
        while let Some(pos) = text[from..].find(&needle) {
            let at = from + pos;
            from = at + needle.len();
            // A whole identifier: not `xs3.` or `foo_s3.`.
            if at > 0 {
                let b = bytes[at - 1];
                if b.is_ascii_alphanumeric() || b == b'_' {
                    continue;
                }
            }
            let rest = &text[at + needle.len()..];
            let method: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if method.is_empty() || !rest[method.len()..].starts_with('(') {
                continue;
            }
            out.push((at, *service, method));
        }
    }
    out.sort_by_key(|c| c.0);
    out
}

#[test]
fn every_sdk_call_is_a_read_and_is_listed() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let listed: BTreeSet<&str> = why403_aws_source::OPERATIONS.iter().copied().collect();
    let mut seen = BTreeSet::new();
    let mut sends = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", src.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let calls = client_calls(&text);
        for (_, service, method) in &calls {
            // Client accessors, not operations.
            if matches!(method.as_str(), "clone" | "config") {
                continue;
            }
            assert!(
                READ_PREFIXES.iter().any(|p| method.starts_with(p)),
                "{}: `{service}.{method}` is not a read (Get*, List*, Describe*, Head*)",
                path.display()
            );
            let op = format!("{service}:{}", pascal(method));
            assert!(
                listed.contains(op.as_str()),
                "{}: `{op}` is called but not in OPERATIONS",
                path.display()
            );
            seen.insert(op);
        }
        // Every `.send()` belongs to one of those calls: the nearest client call before it.
        let mut from = 0;
        while let Some(pos) = text[from..].find(".send()") {
            let at = from + pos;
            from = at + 1;
            sends += 1;
            let starts = calls.iter().rfind(|c| c.0 < at);
            let Some((start, _, _)) = starts else {
                panic!(
                    "{}: a `.send()` at byte {at} is not on a named client",
                    path.display()
                );
            };
            let between = &text[*start..at];
            assert!(
                !between.contains(';') && !between.contains(".send()"),
                "{}: the `.send()` at byte {at} is not on a named client call",
                path.display()
            );
        }
    }
    assert!(
        sends >= listed.len(),
        "{sends} sends for {} operations",
        listed.len()
    );
    for op in &listed {
        assert!(
            seen.contains(*op),
            "`{op}` is in OPERATIONS but never called"
        );
    }
    for op in &listed {
        let name = op.split(':').nth(1).unwrap_or_default();
        assert!(
            ["Get", "List", "Describe", "Head"]
                .iter()
                .any(|p| name.starts_with(p)),
            "`{op}` is not a read"
        );
    }
}
