//! The `acme-why403` binary: it lists Acme's rules next to the built-in ones, and its SCP rule
//! supersedes the built-in `scp-denies-s3` on Acme's data-lake guardrail.

use assert_cmd::cargo::cargo_bin_cmd;

#[test]
fn the_binary_links_acmes_rules() {
    let out = cargo_bin_cmd!("acme-why403")
        .arg("rules")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("acme/scp-data-lake-tag-required")
            && text.contains("acme/data-lake-bucket-outside-vpc-endpoint"),
        "Acme's rules are missing from `acme-why403 rules`: keep `use acme_why403 as _;` in src/main.rs\n{text}"
    );
    let rules = text
        .lines()
        .filter(|l| l.starts_with("builtin/") || l.starts_with("acme/"))
        .count();
    assert!(rules >= 41, "{rules} rules:\n{text}");
    let version = cargo_bin_cmd!("acme-why403")
        .arg("--version")
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("acme-why403 0.1.0 (Acme rules)"));
}

#[test]
fn the_guardrail_rule_supersedes_the_built_in_scp_rule() {
    let case = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scp-data-lake-tag-required/cases/fires/untagged-upload-to-data-lake.json"
    );
    let out = cargo_bin_cmd!("acme-why403")
        .args(["diagnose", "--scenario", case, "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "denied");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let causes: Vec<String> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["role"] == "cause")
        .filter_map(|f| f["rule"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(causes, ["acme/scp-data-lake-tag-required"], "{v:#}");
    let superseded: Vec<&str> = v["superseded"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["finding"]["rule"].as_str())
        .collect();
    assert!(superseded.contains(&"builtin/scp-denies-s3"), "{v:#}");
}
