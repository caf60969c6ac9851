//! `why403 explain`: the error as an argument, from `--error-file` and from standard input;
//! human and JSON output; exit 0 when something was recognised and 1 when nothing was; every
//! non-authorization error named with its cause and fix.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;

const TYPED: &str = "An error occurred (AccessDenied) when calling the PutObject operation: User: \
    arn:aws:sts::111122223333:assumed-role/Uploader/alice is not authorized to perform: \
    s3:PutObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket/q1.csv\" with an explicit deny \
    in a resource-based policy";

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../errors/tests/messages")
        .join(name)
}

/// The rules of one group of the human output: the lines under the group's header.
fn group<'a>(text: &'a str, header: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| !l.starts_with(header))
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .map(str::trim)
        .collect()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap_or_else(|e| panic!("stdout is not UTF-8: {e}"))
}

#[test]
fn a_pasted_argument_is_explained() {
    let out = cargo_bin_cmd!("why403")
        .args(["explain", TYPED])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "access denied: an explicit deny in a resource-based policy refused `s3:PutObject` on `arn:aws:s3:::amzn-s3-demo-bucket/q1.csv`\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  from: the AWS CLI or boto3, code `AccessDenied`\n"),
        "{text}"
    );
    assert!(
        text.contains("session `alice` of role `Uploader` in account `111122223333`"),
        "{text}"
    );
    let ruled_in = group(
        &text,
        "  ruled in: the message reports an explicit deny in a resource-based policy",
    );
    assert!(
        ruled_in.contains(&"builtin/bucket-policy-explicit-deny"),
        "{text}"
    );
    assert!(
        text.contains(
            "  why403 diagnose s3://amzn-s3-demo-bucket/q1.csv --principal arn:aws:sts::111122223333:assumed-role/Uploader/alice --error 'User: "
        ),
        "{text}"
    );
    assert!(
        text.contains("aws s3api get-bucket-policy --bucket amzn-s3-demo-bucket"),
        "{text}"
    );
    assert!(text.contains("(needs `s3:GetBucketPolicy`)"), "{text}");
}

#[test]
fn unquoted_words_are_joined() {
    cargo_bin_cmd!("why403")
        .args(["explain", "The", "provided", "token", "has", "expired."])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "not authorization: not an authorization failure: `ExpiredToken` (HTTP 400)\n",
        ));
}

#[test]
fn standard_input_is_read_with_a_dash_or_no_argument() {
    let text = std::fs::read_to_string(corpus("gov2-generic.txt")).unwrap_or_default();
    for args in [&["explain", "-"][..], &["explain"][..]] {
        cargo_bin_cmd!("why403")
            .args(args)
            .write_stdin(text.clone())
            .assert()
            .success()
            .stdout(
                predicate::str::contains(
                    "access denied: the generic `Access Denied`, which names no caller, action or policy",
                )
                .and(predicate::str::contains(
                    "the AWS SDK for Go v2, code `AccessDenied`, HTTP 403",
                )),
            );
    }
}

#[test]
fn an_error_file_is_read() {
    cargo_bin_cmd!("why403")
        .args(["explain", "--error-file"])
        .arg(corpus("cloudtrail-s3-data-event.json"))
        .assert()
        .success()
        .stdout(
            predicate::str::contains("no VPC endpoint policy allows `s3:PutObject`")
                .and(predicate::str::contains(
                    "the request came through VPC endpoint `vpce-0a1b2c3d4e5f67890`",
                ))
                .and(predicate::str::contains(
                    "aws ec2 describe-vpc-endpoints --vpc-endpoint-ids vpce-0a1b2c3d4e5f67890",
                )),
        );
}

#[test]
fn a_missing_error_file_is_an_error() {
    cargo_bin_cmd!("why403")
        .args(["explain", "--error-file", "/nonexistent/why403-error.txt"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "cannot read `/nonexistent/why403-error.txt`",
        ));
}

#[test]
fn the_json_format_follows_the_schema() {
    let out = cargo_bin_cmd!("why403")
        .args(["explain", "--format", "json", TYPED])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["schema"], "why403.explanation/v1");
    assert_eq!(v["recognised"], true);
    assert_eq!(v["parsed"]["envelope"], "aws-cli");
    assert_eq!(v["parsed"]["policy_type"], "resource-based");
    assert_eq!(v["parsed"]["explicit"], true);
    assert_eq!(
        v["parsed"]["principal"],
        "arn:aws:sts::111122223333:assumed-role/Uploader/alice"
    );
    assert_eq!(v["explanation"]["kind"], "access-denied");
    let rules = v["explanation"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let built = rules
        .iter()
        .find(|r| r["id"] == "bucket-policy-explicit-deny");
    assert_eq!(
        built.map(|r| r["scope"].clone()),
        Some(Value::from("builtin")),
        "{text}"
    );
    assert_eq!(
        built.map(|r| r["status"].clone()),
        Some(Value::from("ruled-in")),
        "{text}"
    );
    // Every cause the message speaks to is a rule of the program.
    let registry = why403_rules::registry();
    assert!(
        rules.iter().all(|r| r["id"]
            .as_str()
            .is_some_and(|id| registry.get(id).is_some())),
        "{text}"
    );
}

#[test]
fn unrecognised_text_exits_1_and_says_what_was_not_recognised() {
    cargo_bin_cmd!("why403")
        .args(["explain", "Segmentation fault (core dumped)"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::starts_with("not recognised: no AWS error recognised in the text\n")
                .and(predicate::str::contains(
                    "not recognised: `Segmentation fault (core dumped)`",
                )),
        );
    let out = cargo_bin_cmd!("why403")
        .args(["explain", "--format", "json", "nothing to see"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap_or_default();
    assert_eq!(v["recognised"], false);
    assert_eq!(v["explanation"]["kind"], "unrecognised");
    assert_eq!(v["parsed"]["unrecognised"], "nothing to see");
}

#[test]
fn binary_input_is_not_an_error() {
    cargo_bin_cmd!("why403")
        .args(["explain", "-"])
        .write_stdin(vec![0xff, 0xfe, 0x00, b'<', b'E'])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("not recognised: "));
}

/// Each non-authorization error names its cause and its fix, and no policy diagnosis.
#[test]
fn non_authorization_errors_name_cause_and_fix() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "xml-invalid-access-key-id.xml",
            "does not exist in AWS's records",
            "aws configure list",
        ),
        (
            "cli-signature-does-not-match.txt",
            "the secret access key does not belong to the access key id",
            "sign with the secret access key",
        ),
        (
            "xml-signature-presigned.xml",
            "presigned URL was used with a request other than the one it was signed for",
            "send exactly the method and headers",
        ),
        (
            "xml-request-time-too-skewed.xml",
            "more than 15 minutes",
            "synchronise the machine's clock",
        ),
        (
            "xml-request-expired.xml",
            "the presigned URL was used after it expired (it expired at `2026-03-02T10:15:00Z`",
            "presign the URL again",
        ),
        (
            "cli-expired-token.txt",
            "the temporary credentials (the session token) have expired",
            "get fresh credentials",
        ),
        (
            "cli-invalid-token.txt",
            "the session token is missing, malformed",
            "`AWS_SESSION_TOKEN`",
        ),
        (
            "cli-acl-not-supported.txt",
            "`BucketOwnerEnforced`",
            "stop sending the ACL",
        ),
        (
            "gov2-kms-disabled.txt",
            "is disabled",
            "aws kms enable-key --key-id",
        ),
        (
            "cli-kms-pending-deletion.txt",
            "pending deletion",
            "aws kms cancel-key-deletion",
        ),
        (
            "cli-kms-not-found.txt",
            "cannot be found",
            "by its full key ARN",
        ),
        (
            "cli-account-problem.txt",
            "the account has a problem",
            "contact AWS Support",
        ),
        (
            "cli-all-access-disabled.txt",
            "disabled by AWS",
            "contact AWS Support",
        ),
        (
            "cli-permanent-redirect.txt",
            "another Region than the endpoint",
            "its own Region",
        ),
        (
            "xml-authorization-header-malformed.xml",
            "signed for Region `us-east-1`, but the bucket is in `eu-west-1`",
            "use Region `eu-west-1`",
        ),
    ];
    for (file, cause, fix) in cases {
        let out = cargo_bin_cmd!("why403")
            .args(["explain", "--error-file"])
            .arg(corpus(file))
            .assert()
            .success()
            .get_output()
            .clone();
        let text = stdout(&out);
        assert!(
            text.starts_with("not authorization: not an authorization failure: "),
            "{file}: {text}"
        );
        let cause_line = text
            .lines()
            .find(|l| l.starts_with("cause: "))
            .unwrap_or_default();
        let fix_line = text
            .lines()
            .find(|l| l.starts_with("fix: "))
            .unwrap_or_default();
        assert!(
            cause_line.contains(cause),
            "{file}: cause `{cause}` not in:\n{text}"
        );
        assert!(
            fix_line.contains(fix),
            "{file}: fix `{fix}` not in:\n{text}"
        );
        assert!(!text.contains("why403 diagnose"), "{file}: {text}");
    }
}

#[test]
fn a_kms_denial_rules_out_the_s3_rules() {
    let out = cargo_bin_cmd!("why403")
        .args(["explain", "--error-file"])
        .arg(corpus("s3cp-multipart-kms.txt"))
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    let ruled_in = group(
        &text,
        "  ruled in: the message reports that no identity-based policy allows `kms:GenerateDataKey`",
    );
    assert!(
        ruled_in.contains(&"builtin/kms-key-policy-missing-generate-data-key"),
        "{text}"
    );
    let ruled_out = group(
        &text,
        "  ruled out: the refused action is `kms:GenerateDataKey`: S3 had already authorized the upload",
    );
    assert!(
        ruled_out.contains(&"builtin/identity-policy-missing-put-object"),
        "{text}"
    );
    assert!(
        ruled_out.contains(&"builtin/bucket-policy-explicit-deny"),
        "{text}"
    );
    // Every cause is a rule now: none is named apart as not built.
    assert!(!text.contains("not rules yet: "), "{text}");
    assert!(
        text.contains("why403 diagnose 's3://amzn-s3-demo-bucket/isos/disk image.iso'"),
        "{text}"
    );
}

#[test]
fn text_and_error_file_conflict() {
    cargo_bin_cmd!("why403")
        .args(["explain", "Access Denied", "--error-file", "x.txt"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot be used with"));
}
