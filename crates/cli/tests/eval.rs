//! `why403 eval`: the shipped example file, and a file with a malformed line and an invalid
//! policy (error records with line numbers, the other lines still evaluated, exit code 1).

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/eval/requests.jsonl"
);

fn records(stdout: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(stdout).unwrap_or_else(|e| panic!("stdout is not UTF-8: {e}"));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn the_example_file_gives_one_decision_per_line() {
    let out = cargo_bin_cmd!("why403")
        .args(["eval", EXAMPLE])
        .assert()
        .success()
        .get_output()
        .clone();
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 9);
    let by_id = |id: &str| {
        recs.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no record `{id}`"))
    };
    assert_eq!(by_id("put-allowed")["decision"], "Allowed");
    assert_eq!(
        by_id("bucket-arn-instead-of-objects")["decision"],
        "ImplicitlyDenied"
    );
    let kms = by_id("kms-header-absent");
    assert_eq!(kms["decision"], "ExplicitlyDenied");
    assert_eq!(kms["deciding"][0]["sid"], "DenyUnlessBucketKey");
    assert_eq!(kms["deciding"][0]["layer"], "resource");
    assert_eq!(by_id("kms-header-right-key")["decision"], "Allowed");
    let scp = by_id("scp-denies-s3");
    assert_eq!(
        (&scp["decision"], &scp["deciding"][0]["sid"]),
        (&"ExplicitlyDenied".into(), &"DenyS3".into())
    );
    let level = by_id("scp-level-without-allow");
    assert_eq!(level["decision"], "ImplicitlyDenied");
    assert_eq!(
        level["blocked_by"][0],
        serde_json::json!({"layer": "scp", "level": 1})
    );
    assert_eq!(by_id("bucket-policy-names-user")["decision"], "Allowed");
    assert_eq!(by_id("cross-account-with-acl")["decision"], "Allowed");
    let cross = by_id("cross-account-without-acl");
    assert_eq!(
        (&cross["decision"], &cross["blocked_by"][0]["layer"]),
        (&"ImplicitlyDenied".into(), &"resource".into())
    );
    // Output order is input order.
    assert_eq!(recs[0]["id"], "put-allowed");
    assert_eq!(recs[8]["id"], "cross-account-without-acl");
}

#[test]
fn bad_lines_give_located_errors_and_the_others_are_still_evaluated() {
    let request = r#"{"principal":"arn:aws:iam::111122223333:user/alice","action":"s3:PutObject","resource":"arn:aws:s3:::b/k","resource_account":"111122223333","context":{}}"#;
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;
    let lowercase = r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"s3:PutObject","Resource":"*"}]}"#;
    let input = [
        format!(r#"{{"id":"first","request":{request},"policies":{{"identity":[{allow}]}}}}"#),
        r#"{"id":"broken", "request": "#.to_owned(),
        format!(
            r#"{{"id":"bad-policy","request":{request},"policies":{{"identity":[{lowercase}]}}}}"#
        ),
        format!(r#"{{"id":"last","request":{request},"policies":{{"identity":[]}}}}"#),
    ]
    .join("\n");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let path = dir.path().join("mixed.jsonl");
    std::fs::write(&path, input).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let out = cargo_bin_cmd!("why403")
        .arg("eval")
        .arg(&path)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 4);
    assert_eq!(
        (&recs[0]["id"], &recs[0]["decision"]),
        (&"first".into(), &"Allowed".into())
    );
    assert_eq!(recs[1]["line"], 2);
    assert!(
        recs[1]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("line 2: column ")),
        "{}",
        recs[1]
    );
    assert_eq!(
        (&recs[2]["id"], &recs[2]["line"]),
        (&"bad-policy".into(), &3.into())
    );
    let e = recs[2]["error"].as_str().unwrap_or_default();
    assert!(
        e.starts_with("line 3: column ") && e.contains("/policies/identity/0/Statement/0/Effect"),
        "{e}"
    );
    assert_eq!(
        (&recs[3]["id"], &recs[3]["decision"]),
        (&"last".into(), &"ImplicitlyDenied".into())
    );
}
