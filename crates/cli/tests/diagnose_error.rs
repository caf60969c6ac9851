//! `why403 diagnose --error` and `--client`: a pasted error that contradicts the evidence is
//! flagged as a `builtin/error-contradiction` finding, one that agrees is only noted, and
//! `--client cli --size` models a multipart upload that also needs `kms:Decrypt`.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios")
        .join(name)
}

const SCP_DENY: &str = "An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket/reports/2026/q3.csv\" with an explicit deny in a service control policy";
const BUCKET_POLICY_DENY: &str = "An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket/reports/2026/q3.csv\" with an explicit deny in a resource-based policy";

fn diagnose_json(args: &[&str]) -> Value {
    let out = cargo_bin_cmd!("why403")
        .arg("diagnose")
        .arg("--scenario")
        .arg(example("bucket-policy-kms-deny.json"))
        .args(["--format", "json"])
        .args(args)
        .assert()
        .code(2)
        .get_output()
        .clone();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON: {e}"))
}

fn findings<'a>(d: &'a Value, rule: &str) -> Vec<&'a Value> {
    d["findings"]
        .as_array()
        .map(|a| a.iter().filter(|f| f["rule"] == rule).collect())
        .unwrap_or_default()
}

#[test]
fn a_contradicting_error_is_flagged() {
    let d = diagnose_json(&["--error", SCP_DENY]);
    let c = findings(&d, "builtin/error-contradiction");
    assert_eq!(c.len(), 1, "{d:#}");
    let msg = c[0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("the error says `explicit deny in a service control policy` but the evidence shows no SCP denies `s3:PutObject`"),
        "{msg}"
    );
    assert!(
        msg.ends_with("the evidence may be stale or incomplete"),
        "{msg}"
    );
    assert_eq!(c[0]["role"], "observation", "{d:#}");
    assert_eq!(c[0]["confidence"], "confirmed", "{d:#}");
    // The cause is still the one the evidence shows.
    assert_eq!(
        findings(&d, "builtin/bucket-policy-explicit-deny").len(),
        1,
        "{d:#}"
    );
}

#[test]
fn a_contradiction_shows_in_the_human_output() {
    let out = cargo_bin_cmd!("why403")
        .arg("diagnose")
        .arg("--scenario")
        .arg(example("bucket-policy-kms-deny.json"))
        .args(["--error", SCP_DENY])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.contains("observation[builtin/error-contradiction] (confirmed): the error says"),
        "{out}"
    );
}

#[test]
fn a_consistent_error_is_noted_not_flagged() {
    let d = diagnose_json(&["--error", BUCKET_POLICY_DENY]);
    assert!(
        findings(&d, "builtin/error-contradiction").is_empty(),
        "{d:#}"
    );
    let notes = findings(&d, "builtin/input-notes");
    assert_eq!(notes.len(), 1, "{d:#}");
    let text = notes[0]["notes"].to_string();
    assert!(
        text.contains("the error agrees with the evidence: `explicit deny in a resource-based policy` for `s3:PutObject`"),
        "{text}"
    );
}

#[test]
fn the_error_can_come_from_a_file() {
    let dir = tempfile_dir();
    let path = dir.join("error.txt");
    std::fs::write(&path, SCP_DENY).unwrap_or_else(|e| panic!("cannot write: {e}"));
    let d = diagnose_json(&["--error-file", path.to_str().unwrap_or_default()]);
    assert_eq!(
        findings(&d, "builtin/error-contradiction").len(),
        1,
        "{d:#}"
    );
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("why403-diagnose-error-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {dir:?}: {e}"));
    dir
}

#[test]
fn the_cli_uploads_20_mb_in_parts_and_needs_kms_decrypt() {
    let d = diagnose_json(&["--client", "cli", "--size", "20000000"]);
    assert_eq!(d["request"]["operation"], "multipart", "{d:#}");
    let actions: Vec<&str> = d["checks"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["action"].as_str()).collect())
        .unwrap_or_default();
    assert!(actions.contains(&"kms:Decrypt"), "{actions:?}");
    // A small file is one PutObject: no `kms:Decrypt`.
    let d = diagnose_json(&["--client", "cli", "--size", "1000"]);
    assert_eq!(d["request"]["operation"], "put_object", "{d:#}");
    assert!(!d["checks"].to_string().contains("kms:Decrypt"), "{d:#}");
}

/// The causes of a diagnosis, in order.
fn cause_ids(d: &Value) -> Vec<String> {
    d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["role"] == "cause")
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn explicit_deny_first_with_and_without_error_and_client() {
    // An SCP explicitly denies and no identity policy allows: two causes, the explicit deny
    // first, whatever else is given. The rule ids would sort the other way.
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/situations/scp-region-deny-and-no-identity-allow.json");
    let text = std::fs::read_to_string(&scenario).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let principal = doc["request"]["principal"].as_str().unwrap();
    let bucket = doc["request"]["bucket"].as_str().unwrap();
    let key = doc["request"]["key"].as_str().unwrap();
    let error = format!(
        "An error occurred (AccessDenied) when calling the PutObject operation: User: {principal} is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::{bucket}/{key}\" with an explicit deny in a service control policy"
    );
    let want = [
        "builtin/scp-denies-s3",
        "builtin/identity-policy-missing-put-object",
    ];
    for extra in [
        vec![],
        vec!["--error", error.as_str()],
        vec!["--client", "cli"],
        vec!["--error", error.as_str(), "--client", "sdk"],
    ] {
        let out = cargo_bin_cmd!("why403")
            .arg("diagnose")
            .arg("--scenario")
            .arg(&scenario)
            .args(["--format", "json"])
            .args(&extra)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let d: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(cause_ids(&d), want, "with {extra:?}");
    }
}
