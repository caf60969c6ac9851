//! `--format html`: every shipped example scenario renders as a well-formed, self-contained page
//! (no script, no external reference) that leads with the verdict and frames the deciding
//! layer of each check's evaluation path; hostile values in a policy and the request are
//! shown as text, never as markup; the command line selects the format for `diagnose` and
//! `explain`.

#[path = "../../core/tests/html_check/mod.rs"]
mod html_check;

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use html_check::{check_page, deciding_layers, path_picture, text_of};
use serde_json::Value;
use why403_core::Diagnoser;
use why403_core::analysis::CheckOutcome;
use why403_core::finding::Diagnosis;
use why403_core::render::html;
use why403_core::render::path_svg::evaluation_path;

/// The largest page an example may give (the target of the report's size).
const MAX_PAGE: usize = 150 * 1024;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scenario diagnosed with every built-in rule; `name` is how the page names the file.
fn diagnose_text(name: &str, text: &str) -> Diagnosis {
    let scenario =
        why403_fixtures_source::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let registry = why403_rules::registry();
    Diagnoser::new(&registry).diagnose(scenario.request, scenario.evidence)
}

fn examples() -> Vec<String> {
    let dir = repo().join("examples/scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn example(name: &str) -> (String, Diagnosis) {
    let rel = format!("examples/scenarios/{name}");
    let text = std::fs::read_to_string(repo().join(&rel))
        .unwrap_or_else(|e| panic!("cannot read {rel}: {e}"));
    let d = diagnose_text(&rel, &text);
    (html(&d), d)
}

/// A check's action and the layers its picture must frame.
type Framed = (&'static str, &'static [&'static str]);

/// The layers each shipped example's pictures must frame, check by check.
const DECIDING: &[(&str, &[Framed])] = &[
    (
        "access-point-without-bucket-delegation.json",
        &[("s3:PutObject", &["bucket policy"])],
    ),
    (
        "allowed.json",
        &[
            ("s3:PutObject", &["identity policies"]),
            ("kms:GenerateDataKey", &["KMS key policy"]),
        ],
    ),
    (
        "bucket-acl-missing-write.json",
        &[("s3:PutObject", &["bucket ACL"])],
    ),
    (
        "bucket-policy-kms-deny.json",
        &[
            ("s3:PutObject", &["bucket policy"]),
            (
                "kms:GenerateDataKey",
                &["KMS key policy", "identity policies"],
            ),
        ],
    ),
    (
        "identity-missing-put-object.json",
        &[("s3:PutObject", &["identity policies"])],
    ),
    (
        "kms-key-policy-missing.json",
        &[
            ("s3:PutObject", &["identity policies"]),
            ("kms:GenerateDataKey", &["KMS key policy"]),
        ],
    ),
    (
        "scp-denies-s3.json",
        &[("s3:PutObject", &["SCPs at ou-a1b2-f6g7h8i9 (Workloads)"])],
    ),
    (
        "two-causes.json",
        &[
            ("s3:PutObject", &["bucket policy"]),
            (
                "kms:GenerateDataKey",
                &["KMS key policy", "identity policies"],
            ),
        ],
    ),
];

#[test]
fn every_example_renders_a_self_contained_page_with_its_verdict_and_deciding_layers() {
    let names = examples();
    assert!(!names.is_empty(), "no example scenarios");
    let mut largest = (0, String::new());
    for name in &names {
        let (page, d) = example(name);
        let doc = check_page(name, &page);
        assert!(page.len() <= MAX_PAGE, "{name}: {} bytes", page.len());
        if page.len() > largest.0 {
            largest = (page.len(), name.clone());
        }
        let verdict = why403_core::render::verdict_word(&d.verdict);
        let header = doc
            .descendants()
            .find(|n| n.has_tag_name("header"))
            .unwrap_or_else(|| panic!("{name}: no header"));
        assert_eq!(
            header.attribute("class"),
            Some(format!("verdict {verdict}").as_str()),
            "{name}"
        );
        let badge = text_of(header);
        assert!(badge.contains(verdict), "{name}: {badge}");
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .map(text_of);
        assert!(
            title.is_some_and(|t| t.starts_with(&format!("why403: {verdict}"))),
            "{name}"
        );

        let expected = DECIDING.iter().find(|(n, _)| n == name).map(|(_, e)| *e);
        assert!(
            expected.is_some(),
            "{name}: add the layers its pictures must frame to DECIDING"
        );
        let expected = expected.unwrap_or_default();
        assert_eq!(
            expected.len(),
            d.analysis.checks.len(),
            "{name}: one entry per check"
        );
        for (i, c) in d.analysis.checks.iter().enumerate() {
            let svg = path_picture(&doc, i).unwrap_or_else(|| panic!("{name}: no picture {i}"));
            let framed = deciding_layers(svg);
            let steps = evaluation_path(c, &d.analysis);
            let deciding: Vec<&str> = steps
                .iter()
                .filter(|s| s.deciding)
                .map(|s| s.name.as_str())
                .collect();
            assert_eq!(framed, deciding, "{name}: {}", c.action);
            if c.outcome == CheckOutcome::Denied {
                assert!(!framed.is_empty(), "{name}: {} frames nothing", c.action);
            }
            let (action, layers) = expected[i];
            assert_eq!(action, c.action, "{name}");
            assert_eq!(framed, layers, "{name}: {action}");
        }
    }
    eprintln!("largest page: {} ({} bytes)", largest.1, largest.0);
}

/// Markup, quotes and ampersands in a policy's Sid and condition value, the object key and a
/// header: shown as text, never as markup.
#[test]
fn hostile_values_are_text_not_markup() {
    const SID: &str = r#"<script>alert("sid&'")</script>"#;
    const KEY: &str = r#"reports/<img src=x onerror=alert(1)>"&'.csv"#;
    const VALUE: &str = r#"arn:aws:kms:us-east-1:111122223333:key/"><script>x</script>'&amp;"#;
    const HEADER: &str = "</style><script>alert(1)</script><!--";
    let rel = "examples/scenarios/bucket-policy-kms-deny.json";
    let text = std::fs::read_to_string(repo().join(rel)).unwrap_or_default();
    let mut v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let policy = v["evidence"]["bucket_policy"]["Policy"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut p: Value = serde_json::from_str(&policy).unwrap_or_else(|e| panic!("policy: {e}"));
    p["Statement"][0]["Sid"] = SID.into();
    p["Statement"][0]["Condition"]["StringNotLikeIfExists"]["s3:x-amz-server-side-encryption-aws-kms-key-id"] =
        VALUE.into();
    v["evidence"]["bucket_policy"]["Policy"] = p.to_string().into();
    v["request"]["key"] = KEY.into();
    v["request"]["headers"]["x-amz-meta-note"] = HEADER.into();
    let d = diagnose_text("hostile <b>&\".json", &v.to_string());
    let page = html(&d);
    let doc = check_page("hostile", &page);
    let lower = page.to_ascii_lowercase();
    for raw in ["<script", "<img", "<!--", "alert(1)</"] {
        assert!(
            !lower.contains(raw),
            "`{raw}` reached the page raw:\n{page}"
        );
    }
    // Each value is there, as text.
    let text = text_of(doc.root_element());
    for shown in [SID, KEY, VALUE, HEADER, "hostile <b>&\".json"] {
        assert!(text.contains(shown), "`{shown}` is not shown:\n{text}");
    }
    assert!(page.contains("&lt;script&gt;alert(&quot;sid&amp;&#39;&quot;)&lt;/script&gt;"));
    // The picture names the statement too, escaped.
    let svg = path_picture(&doc, 0).unwrap_or_else(|| panic!("no picture"));
    assert_eq!(deciding_layers(svg), ["bucket policy"]);
    assert!(text_of(svg).contains(SID));
}

#[test]
fn one_example_report_is_stable() {
    let (page, _) = example("bucket-policy-kms-deny.json");
    insta::assert_snapshot!("bucket-policy-kms-deny.html", page);
}

#[test]
fn the_command_line_selects_html_for_diagnose_and_explain() {
    let out = cargo_bin_cmd!("why403")
        .current_dir(repo())
        .args([
            "diagnose",
            "--scenario",
            "examples/scenarios/two-causes.json",
            "--format",
            "html",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run why403: {e}"));
    assert_eq!(out.status.code(), Some(2));
    let page = String::from_utf8(out.stdout).unwrap_or_default();
    let doc = check_page("diagnose --format html", &page);
    assert!(text_of(doc.root_element()).contains("(and 1 more cause)"));

    let out = cargo_bin_cmd!("why403")
        .args([
            "explain",
            "--format",
            "html",
            "An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket/a.csv\" with an explicit deny in a resource-based policy",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run why403: {e}"));
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap_or_default();
    let doc = check_page("explain --format html", &page);
    let text = text_of(doc.root_element());
    assert!(text.contains("access denied"), "{text}");
    assert!(text.contains("why403 diagnose"), "{text}");
}
