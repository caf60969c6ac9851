//! `why403 diagnose --scenario`: exit code per verdict (0 allowed, 2 denied, 3 indeterminate),
//! the cause first, JSON in the documented schema, and located errors (exit 1) for a scenario
//! that does not exist or is not JSON.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn stdout_of(args: &[&str], scenario: &Path, code: i32) -> String {
    let out = cargo_bin_cmd!("why403")
        .args(args)
        .arg("--scenario")
        .arg(scenario)
        .assert()
        .code(code)
        .get_output()
        .clone();
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("stdout is not UTF-8: {e}"))
}

#[test]
fn a_denied_upload_exits_2_and_leads_with_the_cause() {
    let out = stdout_of(&["diagnose"], &data("denied-bucket-policy.json"), 2);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("denied: ") && first.contains("`DenyUnencryptedUploads`"),
        "{out}"
    );
    assert!(
        out.contains("cause[builtin/bucket-policy-explicit-deny] (confirmed): "),
        "{out}"
    );
    // The snippet points into the scenario file with its own line numbers.
    assert!(
        out.contains("denied-bucket-policy.json:53:15 (bucket policy of amzn-s3-demo-bucket)"),
        "{out}"
    );
    assert!(
        out.contains("53 |               \"s3:x-amz-server-side-encryption\": \"aws:kms\"\n"),
        "{out}"
    );
    assert!(out.contains("   = fix: "), "{out}");
    // Not a terminal: no colour.
    assert!(!out.contains('\x1b'));
}

#[test]
fn colour_can_be_forced() {
    let out = stdout_of(
        &["diagnose", "--color", "always"],
        &data("denied-bucket-policy.json"),
        2,
    );
    assert!(out.starts_with("\x1b[1;31mdenied\x1b[0m: "), "{out}");
}

#[test]
fn the_json_format_follows_the_schema() {
    let out = stdout_of(
        &["diagnose", "--format", "json"],
        &data("denied-bucket-policy.json"),
        2,
    );
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["schema"], "why403.diagnosis/v1");
    assert_eq!(v["verdict"], "denied");
    assert_eq!(
        v["findings"][0]["rule"],
        "builtin/bucket-policy-explicit-deny"
    );
    let labels = v["findings"][0]["labels"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let label = labels
        .iter()
        .find(|l| l["primary"] == true)
        .unwrap_or_else(|| panic!("no primary label: {out}"));
    assert_eq!((&label["line"], &label["column"]), (&53.into(), &15.into()));
    assert_eq!(v["checks"][0]["action"], "s3:PutObject");
    assert_eq!(v["checks"][0]["outcome"], "denied");
}

#[test]
fn an_allowed_upload_exits_0() {
    let out = stdout_of(&["diagnose"], &data("allowed.json"), 0);
    assert!(out.starts_with("allowed: "), "{out}");
}

#[test]
fn an_indeterminate_upload_exits_3_and_names_what_would_read_the_evidence() {
    let out = stdout_of(&["diagnose"], &data("indeterminate.json"), 3);
    assert!(out.starts_with("indeterminate: "), "{out}");
    assert!(out.contains("cannot see: bucket policy (AccessDenied when calling GetBucketPolicy); reading it needs `s3:GetBucketPolicy`"), "{out}");
}

#[test]
fn a_missing_scenario_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let path = dir.path().join("no-such-scenario.json");
    cargo_bin_cmd!("why403")
        .arg("diagnose")
        .arg("--scenario")
        .arg(&path)
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            predicate::str::starts_with("why403: error: ")
                .and(predicate::str::contains("no-such-scenario.json")),
        );
}

#[test]
fn an_invalid_json_scenario_is_an_error_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\n  \"scenario\": 1,\n  \"request\": {,\n}\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let out = cargo_bin_cmd!("why403")
        .arg("diagnose")
        .arg("--scenario")
        .arg(&path)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:", path.display())), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_usage_error_exits_1_not_2() {
    cargo_bin_cmd!("why403")
        .arg("diagnose")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--scenario"));
    cargo_bin_cmd!("why403")
        .args(["diagnose", "--help"])
        .assert()
        .success();
}

/// Every shipped example scenario gives a verdict (allowed or denied) with a cause line.
#[test]
fn example_scenarios_give_a_verdict_and_a_cause() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    if files.is_empty() {
        eprintln!("note: no scenarios in {}; nothing to check", dir.display());
    }
    for f in files {
        let out = cargo_bin_cmd!("why403")
            .arg("diagnose")
            .arg("--scenario")
            .arg(&f)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let first = stdout.lines().next().unwrap_or_default();
        match out.status.code() {
            Some(0) => assert!(first.starts_with("allowed: "), "{}: {stdout}", f.display()),
            Some(2) => assert!(
                first.starts_with("denied: ") && first.len() > "denied: ".len(),
                "{}: {stdout}",
                f.display()
            ),
            code => panic!(
                "{}: exit code {code:?}\n{stdout}{}",
                f.display(),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

/// The seed example (a bucket policy that denies uploads without the right KMS key) told to a
/// console user: what to choose in the upload dialog, not headers or CLI options.
#[test]
fn the_seed_example_tells_a_console_user_what_to_choose_in_the_upload_dialog() {
    let out = cargo_bin_cmd!("why403")
        .current_dir(root())
        .args([
            "diagnose",
            "--scenario",
            "examples/scenarios/bucket-policy-kms-deny.json",
            "--client",
            "console",
            "--color",
            "never",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "console: in the upload dialog, Properties → Server-side encryption → \"Specify an encryption key\" → \"Override bucket settings for default encryption\" → Encryption type: \"Server-side encryption with AWS Key Management Service keys (SSE-KMS)\" → AWS KMS key: \"Enter AWS KMS key ARN\" → `arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`"
        ),
        "{text}"
    );
    assert!(!text.contains("aws s3 cp"), "{text}");
}

/// Without `--client`, a pasted AWS CLI error says the fixes in the AWS CLI's terms; a
/// configuration fix says who runs which command, with the document's diff.
#[test]
fn the_errors_wording_chooses_the_clients_terms_and_config_fixes_say_who_runs_what() {
    let out = cargo_bin_cmd!("why403")
        .current_dir(root())
        .args([
            "diagnose",
            "--scenario",
            "examples/scenarios/two-causes.json",
            "--format",
            "json",
            "--error",
            "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["client"], "cli");
    let steps: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["fix"]["howto"].as_array())
        .flatten()
        .collect();
    let request = steps
        .iter()
        .find(|s| s["who"]["kind"] == "uploader")
        .expect("a request step");
    assert_eq!(request["client"][0]["client"], "aws s3 cp");
    let policy = steps
        .iter()
        .find(|s| s["who"]["kind"] == "iam_administrator")
        .expect("a policy step");
    assert_eq!(policy["who"]["account"], "111122223333");
    assert_eq!(policy["who"]["callers_account"], true);
    assert_eq!(
        policy["apply"][0],
        serde_json::json!([
            "aws",
            "iam",
            "put-user-policy",
            "--user-name",
            "alice",
            "--policy-name",
            "ReportUploads",
            "--policy-document",
            "file://ReportUploads.json"
        ])
    );
    let diff = policy["diff"].as_str().unwrap();
    assert!(
        diff.contains("+        \"arn:aws:s3:::amzn-s3-demo-bucket/*\""),
        "{diff}"
    );
    let after: Value = serde_json::from_str(policy["document_after"].as_str().unwrap()).unwrap();
    assert_eq!(after["Statement"][0]["Sid"], "UploadReports");
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
