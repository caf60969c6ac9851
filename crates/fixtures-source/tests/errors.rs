//! Bad scenario files: every error names the file, line:column and JSON pointer, and says
//! what was expected. Positions are asserted exactly.

use std::path::Path;

use why403_fixtures_source::{ScenarioError, load, parse};

fn err(text: &str) -> ScenarioError {
    match parse("scenario.json", text) {
        Ok(_) => panic!("expected an error for\n{text}"),
        Err(e) => e,
    }
}

/// Asserts the message and that `location()` agrees with it.
fn check(text: &str, line: usize, column: usize, pointer: &str, expected: &str) {
    let e = err(text);
    assert_eq!(e.to_string(), expected);
    let at = e.location().expect("located");
    assert_eq!(
        (at.file.as_str(), at.line, at.column, at.pointer.as_str()),
        ("scenario.json", line, column, pointer)
    );
}

#[test]
fn not_json() {
    let text = r#"{
  "scenario": 1,
  "request": {"bucket": 'b', "key": "k"}
}
"#;
    check(
        text,
        3,
        25,
        "/request/bucket",
        "scenario.json:3:25: /request/bucket: not valid JSON: expected a JSON value, found a single quote (JSON strings use double quotes)",
    );
    assert!(matches!(err(text), ScenarioError::Syntax { .. }));
    let e = err("");
    assert_eq!(
        e.to_string(),
        "scenario.json:1:1: not valid JSON: expected a JSON value, found the end of the text"
    );
}

#[test]
fn a_policy_string_that_is_not_json() {
    let text = r#"{
  "scenario": 1,
  "request": {"principal": "arn:aws:iam::111122223333:user/alice", "bucket": "b", "key": "k"},
  "evidence": {
    "bucket_policy": {"Policy": "{\"Version\": \"2012-10-17\", \"Statement\": [}"}
  }
}
"#;
    check(
        text,
        5,
        33,
        "/evidence/bucket_policy/Policy",
        "scenario.json:5:33: /evidence/bucket_policy/Policy: invalid policy: 1:41: at /Statement/0: expected a JSON value, found `}`",
    );
}

#[test]
fn an_invalid_effect_in_a_policy_string() {
    let text = r#"{
  "scenario": 1,
  "request": {"principal": "arn:aws:iam::111122223333:user/alice", "bucket": "b", "key": "k"},
  "evidence": {
    "bucket_policy": {
      "Policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"allow\",\"Principal\":\"*\",\"Action\":\"s3:PutObject\"}]}"
    }
  }
}
"#;
    check(
        text,
        6,
        17,
        "/evidence/bucket_policy/Policy",
        "scenario.json:6:17: /evidence/bucket_policy/Policy: invalid policy: 1:48: at /Statement/0/Effect: `Effect` must be \"Allow\" or \"Deny\", found \"allow\"",
    );
    let ScenarioError::Policy {
        in_string, error, ..
    } = err(text)
    else {
        panic!("policy error")
    };
    assert!(in_string);
    assert_eq!(
        (error.line, error.column, error.pointer.as_str()),
        (1, 48, "/Statement/0/Effect")
    );
    assert_eq!(error.name, "bucket policy of b");
}

#[test]
fn an_invalid_effect_in_a_policy_object() {
    let text = r#"{
  "scenario": 1,
  "request": {"principal": "arn:aws:sts::111122223333:assumed-role/Uploader/alice", "bucket": "b", "key": "k"},
  "evidence": {
    "session_policy": {
      "Version": "2012-10-17",
      "Statement": [
        {"Effect": "allow", "Action": "s3:PutObject", "Resource": "*"}
      ]
    }
  }
}
"#;
    // The file's own line and column of the bad value.
    check(
        text,
        8,
        20,
        "/evidence/session_policy/Statement/0/Effect",
        "scenario.json:8:20: /evidence/session_policy/Statement/0/Effect: invalid policy: `Effect` must be \"Allow\" or \"Deny\", found \"allow\"",
    );
}

#[test]
fn an_invalid_url_encoded_policy_in_the_authorization_details() {
    let text = r#"{
  "scenario": 1,
  "request": {"principal": "arn:aws:iam::111122223333:user/alice", "bucket": "b", "key": "k"},
  "evidence": {
    "account_authorization_details": {
      "UserDetailList": [{"UserName": "alice", "UserId": "AIDAEXAMPLE", "Arn": "arn:aws:iam::111122223333:user/alice",
        "UserPolicyList": [{"PolicyName": "P", "PolicyDocument": "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Permit%22%7D%5D%7D"}]}]
    }
  }
}
"#;
    check(
        text,
        7,
        66,
        "/evidence/account_authorization_details/UserDetailList/0/UserPolicyList/0/PolicyDocument",
        "scenario.json:7:66: /evidence/account_authorization_details/UserDetailList/0/UserPolicyList/0/PolicyDocument: \
         invalid policy: 1:25: at /Statement/0/Effect: `Effect` must be \"Allow\" or \"Deny\", found \"Permit\"",
    );
}

#[test]
fn a_missing_request_field_is_located_at_the_request_object() {
    let text = r#"{
  "scenario": 1,
  "request": {
    "principal": "arn:aws:iam::111122223333:user/alice",
    "key": "k"
  }
}
"#;
    check(
        text,
        3,
        14,
        "/request",
        "scenario.json:3:14: /request: missing required field `bucket` (or `access_point` for an upload through an access point)",
    );
    check(
        "{\"request\": {}}",
        1,
        1,
        "",
        "scenario.json:1:1: missing required field `scenario`",
    );
}

#[test]
fn unknown_keys_are_errors_with_a_suggestion() {
    let text = r#"{
  "scenario": 1,
  "request": {
    "principal": "arn:aws:iam::111122223333:user/alice",
    "bukcet": "b",
    "key": "k"
  }
}
"#;
    check(
        text,
        5,
        5,
        "/request/bukcet",
        "scenario.json:5:5: /request/bukcet: unknown field `bukcet`; did you mean `bucket`?",
    );
    let text = r#"{
  "scenario": 1,
  "request": {"principal": "arn:aws:iam::111122223333:user/alice", "bucket": "b", "key": "k"},
  "evidence": {
    "bucket_polcy": {"Policy": "{}"}
  }
}
"#;
    check(
        text,
        5,
        5,
        "/evidence/bucket_polcy",
        "scenario.json:5:5: /evidence/bucket_polcy: unknown field `bucket_polcy`; did you mean `bucket_policy`?",
    );
    // The top level of an AWS output section is checked too.
    let text = r#"{
  "scenario": 1,
  "request": {"principal": "arn:aws:iam::111122223333:user/alice", "bucket": "b", "key": "k"},
  "evidence": {
    "bucket_policy": {"Polciy": "{}"}
  }
}
"#;
    check(
        text,
        5,
        23,
        "/evidence/bucket_policy/Polciy",
        "scenario.json:5:23: /evidence/bucket_policy/Polciy: unknown field `Polciy`; did you mean `Policy`?",
    );
    let e = err(r#"{"scenario": 1, "requests": {}}"#);
    assert_eq!(
        e.to_string(),
        "scenario.json:1:17: /requests: unknown field `requests`; did you mean `request`?"
    );
    let e = err(r#"{"scenario": 1, "zzz": {}}"#);
    assert!(
        e.to_string().ends_with(
            "unknown field `zzz`; expected one of `$schema`, `scenario`, `description`, `sources`, `expect`, `request`, `evidence`"
        ),
        "{e}"
    );
}

#[test]
fn wrong_types_and_values() {
    let text = r#"{
  "scenario": 1,
  "request": {"principal": "arn:aws:iam::111122223333:user/alice", "bucket": "b", "key": 5}
}
"#;
    check(
        text,
        3,
        90,
        "/request/key",
        "scenario.json:3:90: /request/key: expected a string, found a number",
    );
    let e = err(r#"{"scenario": 2, "request": {}}"#);
    assert_eq!(
        e.to_string(),
        "scenario.json:1:14: /scenario: unsupported scenario format version 2; this why403 reads version 1"
    );
    let e = err("[]");
    assert_eq!(
        e.to_string(),
        "scenario.json:1:1: expected an object, found an array"
    );
    let e = err(
        r#"{"scenario": 1, "request": {"bucket": "b", "key": "k", "principal": "arn:aws:iam::111122223333:role/R"}}"#,
    );
    assert!(
        e.to_string()
            .contains("/request/principal: a role signs requests through a session"),
        "{e}"
    );
    let e = err(
        r#"{"scenario": 1, "request": {"bucket": "b", "key": "k", "credentials": "anonymous", "time": "soon"}}"#,
    );
    assert!(
        e.to_string()
            .contains("/request/time: expected an ISO 8601 time"),
        "{e}"
    );
    let e = err(
        r#"{"scenario": 1, "request": {"bucket": "b", "key": "k", "principal": "arn:aws:sts::111122223333:assumed-role/R/s", "credentials": "long-term"}}"#,
    );
    assert!(
        e.to_string()
            .contains("/request/credentials: a session always uses temporary credentials"),
        "{e}"
    );
    let e = err(
        r#"{"scenario": 1, "request": {"bucket": "b", "key": "k", "credentials": "anonymous", "headers": {"x-amz-acl": "a", "X-Amz-Acl": "b"}}}"#,
    );
    assert!(
        e.to_string()
            .contains("/request/headers/X-Amz-Acl: header `X-Amz-Acl` appears twice"),
        "{e}"
    );
    let e = err(
        r#"{"scenario": 1, "request": {"bucket": "b", "key": "k", "credentials": "anonymous"}, "evidence": {"bucket_policy": null}}"#,
    );
    assert!(
        e.to_string()
            .contains("/evidence/bucket_policy: `null` is ambiguous"),
        "{e}"
    );
    let e = err(
        r#"{"scenario": 1, "request": {"bucket": "b", "key": "k", "credentials": "anonymous"}, "evidence": {"bucket_policy": {"$absent": "NoSuchBucketPolicy", "Policy": "{}"}}}"#,
    );
    assert!(
        e.to_string().contains(
            "/evidence/bucket_policy/$absent: `$absent` cannot be combined with other fields"
        ),
        "{e}"
    );
    let e = err(
        r#"{"scenario": 1, "request": {"bucket": "b", "key": "k", "credentials": "anonymous"}, "evidence": {"bucket_acl": {"Owner": {"ID": "ab"}, "Grants": [{"Grantee": {"ID": "ab"}, "Permission": "WRITE_ALL"}]}}}"#,
    );
    assert!(
        e.to_string()
            .contains("/evidence/bucket_acl/Grants/0/Permission: unknown permission `WRITE_ALL`"),
        "{e}"
    );
}

#[test]
fn files_that_cannot_be_read() {
    let e = load(Path::new("/nonexistent/scenario.json")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/scenario.json: cannot read the scenario file"),
        "{e}"
    );
    assert!(e.location().is_none());
}

#[test]
fn no_input_makes_the_reader_panic() {
    // Every prefix and every one-character deletion of the full example: an error or a
    // scenario, never a panic.
    let full =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/full.json"))
            .unwrap();
    let cuts: Vec<usize> = (0..full.len())
        .filter(|i| full.is_char_boundary(*i))
        .collect();
    for &i in cuts.iter().step_by(29) {
        let _ = parse("p.json", &full[..i]);
        let mut t = full.clone();
        t.remove(i);
        let _ = parse("d.json", &t);
    }
    for junk in [
        "\u{feff}",
        "{\"scenario\": 1e999}",
        "{\"scenario\": 1, \"request\": {\"bucket\": \"b\", \"key\": \"k\", \"context\": {\"a:b\": [[]]}}}",
    ] {
        let _ = parse("j.json", junk);
    }
}

#[test]
fn expectations_are_read_and_checked() {
    let s = why403_fixtures_source::parse(
        "scenario.json",
        r#"{"scenario": 1, "sources": ["https://docs.aws.amazon.com/x"], "expect": {"verdict": "denied", "causes": ["scp-denies-s3"]}, "request": {"principal": "arn:aws:iam::111122223333:user/alice", "bucket": "b", "key": "k"}}"#,
    )
    .unwrap();
    assert_eq!(s.sources, ["https://docs.aws.amazon.com/x"]);
    let e = s.expect.unwrap();
    assert_eq!(e.verdict, "denied");
    assert_eq!(e.causes, ["scp-denies-s3"]);
    let e = err(
        r#"{"scenario": 1, "expect": {"verdict": "refused"}, "request": {"bucket": "b", "key": "k"}}"#,
    );
    assert_eq!(
        e.to_string(),
        "scenario.json:1:39: /expect/verdict: unknown verdict `refused`; expected `allowed`, `denied` or `indeterminate`"
    );
    let e = err(
        r#"{"scenario": 1, "expect": {"verdict": "denied", "cause": []}, "request": {"bucket": "b", "key": "k"}}"#,
    );
    assert!(
        e.to_string()
            .contains("/expect/cause: unknown field `cause`; did you mean `causes`?"),
        "{e}"
    );
}

/// A file of its own in the temporary directory, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("why403-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const MINIMAL: &str = r#"{"scenario": 1, "request": {"principal": "arn:aws:iam::111122223333:user/alice", "bucket": "b", "key": "k"}}"#;

/// A file past the size limit is refused without being read whole: `/dev/zero` grew the
/// reader past 6 GB. A file at the limit is read.
#[test]
fn a_file_past_the_size_limit_is_refused() {
    let limit = why403_fixtures_source::MAX_SCENARIO_BYTES as usize;
    let at_limit = format!("{MINIMAL}{}", " ".repeat(limit - MINIMAL.len()));
    let f = TempFile::new("at-limit.json", at_limit.as_bytes());
    assert!(load(&f.0).is_ok());
    let f = TempFile::new("over-limit.json", format!("{at_limit} ").as_bytes());
    let e = load(&f.0).unwrap_err();
    assert!(matches!(e, ScenarioError::TooLarge { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the file is larger than 16 MiB, the limit of a scenario file (of `account_authorization_details`, the caller's entries are enough)",
            f.0.display()
        )
    );
    if cfg!(target_os = "linux") {
        let e = load(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(e, ScenarioError::TooLarge { .. }), "{e}");
    }
}

/// A file that is not UTF-8 is located by line:column, not by a byte offset (a byte order
/// mark is not a column).
#[test]
fn a_file_that_is_not_utf8_is_located_by_line_and_column() {
    let mut bytes = b"\xEF\xBB\xBF{\n  \"scenario\": 1,\n  \"description\": \"caf".to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b"\"\n}\n");
    let f = TempFile::new("latin1.json", &bytes);
    let e = load(&f.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:3:22: the file is not UTF-8 text (byte 0xE9); save it as UTF-8",
            f.0.display()
        )
    );
    let at = e.location().expect("located");
    assert_eq!((at.line, at.column), (3, 22));
}

/// A field twice among very many is found in linear time (the check compared every pair).
#[test]
fn a_field_twice_among_many_is_found() {
    let mut text = String::from("{");
    for i in 0..200_000 {
        text.push_str(&format!("\"k{i}\": 0, "));
    }
    text.push_str("\"k7\": 1}");
    let e = err(&text);
    assert!(
        e.to_string().ends_with(": /k7: field `k7` appears twice"),
        "{e}"
    );
}

/// A long value quoted in a message, and in its pointer, is cut with its length.
#[test]
fn long_values_are_cut_in_messages() {
    let key = "x".repeat(10 << 20);
    let text = format!(r#"{{"scenario": 1, "{key}": 1}}"#);
    let e = err(&text).to_string();
    assert!(e.len() < 1000, "{} bytes", e.len());
    assert!(
        e.contains(&format!(
            "unknown field `{}… ({} bytes)`",
            "x".repeat(80),
            10 << 20
        )),
        "{e}"
    );
}

#[test]
fn an_organization_s3_policy_of_another_type_account_or_value() {
    let scenario = |effective: &str| {
        format!(
            r#"{{
  "scenario": 1,
  "request": {{"principal": "arn:aws:iam::111122223333:user/alice", "bucket": "b", "key": "k"}},
  "evidence": {{
    "bucket_owner": "111122223333",
    "organization_s3_policy": {{"EffectivePolicy": {effective}}}
  }}
}}
"#
        )
    };
    check(
        &scenario(r#"{"PolicyType": "TAG_POLICY", "PolicyContent": "{}"}"#),
        6,
        66,
        "/evidence/organization_s3_policy/EffectivePolicy/PolicyType",
        "scenario.json:6:66: /evidence/organization_s3_policy/EffectivePolicy/PolicyType: expected `S3_POLICY`, found `TAG_POLICY`",
    );
    check(
        &scenario(r#"{"TargetId": "444455556666", "PolicyContent": "{}"}"#),
        6,
        64,
        "/evidence/organization_s3_policy/EffectivePolicy/TargetId",
        "scenario.json:6:64: /evidence/organization_s3_policy/EffectivePolicy/TargetId: the effective policy is the bucket owner's (`111122223333`), not `444455556666`'s",
    );
    check(
        &scenario(
            r#"{"PolicyContent": {"s3_attributes": {"public_access_block_configuration": "some"}}}"#,
        ),
        6,
        69,
        "/evidence/organization_s3_policy/EffectivePolicy/PolicyContent",
        "scenario.json:6:69: /evidence/organization_s3_policy/EffectivePolicy/PolicyContent: `public_access_block_configuration` is neither `all` nor `none`",
    );
}
