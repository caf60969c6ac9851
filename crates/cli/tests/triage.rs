//! `why403 triage` over realistic records of each input format (crates/triage/tests/data, written
//! from AWS's documented examples; SOURCES.md there gives the pages): what is selected and
//! how it is grouped, gzip and standard input, bad input reported with its place and the rest
//! read, the suppress file, the three outputs, diagnosis from scenario files, and the exit
//! codes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../triage/tests/data")
        .join(rel)
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Runs `why403 triage ARGS --format jsonl`: the exit code, the groups, standard error.
fn jsonl(args: &[&std::ffi::OsStr]) -> (i32, Vec<Value>, String) {
    let out = cargo_bin_cmd!("why403")
        .arg("triage")
        .args(args)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let groups = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (
        out.status.code().unwrap(),
        groups,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `why403 triage ARGS` with the table output.
fn table(args: &[&std::ffi::OsStr]) -> std::process::Output {
    cargo_bin_cmd!("why403")
        .arg("triage")
        .args(args)
        .output()
        .unwrap()
}

fn os(p: &Path) -> &std::ffi::OsStr {
    p.as_os_str()
}

fn find<'a>(groups: &'a [Value], caller: &str, prefix: &str, proves: &str) -> &'a Value {
    groups
        .iter()
        .find(|g| {
            g["caller"]["key"] == caller
                && g["prefix"] == prefix
                && g["proves"].as_str().unwrap().contains(proves)
        })
        .unwrap_or_else(|| panic!("no group {caller} {prefix} {proves} in {groups:#?}"))
}

const UPLOADER: &str = "arn:aws:iam::111122223333:role/ReportUploader";

#[test]
fn cloudtrail_records_are_selected_and_grouped() {
    let (code, groups, err) = jsonl(&[os(&data("cloudtrail/records.json"))]);
    assert_eq!(code, 2, "{err}");
    // 9 records: 6 refused uploads; AssumeRole, the allowed PutObject and GetObject are not.
    let total: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 6);
    for g in &groups {
        assert_eq!(g["schema"], "why403.triage/v1");
        assert_eq!(
            g["records"].as_array().unwrap().len() as u64,
            g["count"].as_u64().unwrap()
        );
        assert_eq!(g["diagnosis"]["basis"], "records");
    }
    // Two sessions of one role, the same explicit deny: one group, both session names kept.
    let c1 = find(&groups, UPLOADER, "uploads/", "explicit deny");
    assert_eq!(c1["count"], 2);
    assert_eq!(
        c1["caller"]["sessions"],
        serde_json::json!(["alice", "i-0123456789abcdef0"])
    );
    assert!(c1["diagnosis"]["causes"].as_array().unwrap().len() > 1);
    assert!(
        c1["diagnosis"]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "bucket-policy-explicit-deny")
    );
    // The same caller and prefix refused for another reason: a separate group, and each says
    // the records disagree; an allowed upload of the same prefix is counted.
    let c3 = find(&groups, UPLOADER, "uploads/", "no policy allows");
    assert_eq!(c3["calls"]["CreateMultipartUpload"], 1);
    assert!(
        c3["disagreements"].to_string().contains("explicit deny"),
        "{c3}"
    );
    assert!(c1["disagreements"].to_string().contains("allowed"), "{c1}");
    // A 400 with its own cause and fix, from the message alone.
    let c5 = groups
        .iter()
        .find(|g| g["code"] == "AccessControlListNotSupported")
        .unwrap();
    assert_eq!(c5["http_status"], 400);
    assert_eq!(
        c5["diagnosis"]["causes"],
        serde_json::json!(["object-ownership-enforced-acl-header"])
    );
    assert!(
        c5["diagnosis"]["fix"]
            .as_str()
            .unwrap()
            .contains("bucket-owner-full-control")
    );
    assert_eq!(c5["clients"]["console"], 1);
    // The copy's destination.
    assert!(groups.iter().any(|g| g["calls"]["CopyObject"] == 1));
}

#[test]
fn every_wrapping_gives_the_same_records() {
    // lookup-events holds management events only: nothing to select, and nothing skipped.
    let (code, groups, err) = jsonl(&[os(&data("cloudtrail/lookup-events.json"))]);
    assert_eq!((code, groups.len()), (0, 0), "{err}");
    // CloudTrail Lake rows (struct columns in map notation) and EventBridge events.
    let (code, groups, err) = jsonl(&[os(&data("cloudtrail/lake-results.json"))]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["count"], 2);
    assert_eq!(groups[0]["caller"]["key"], UPLOADER);
    assert_eq!(groups[0]["formats"]["cloudtrail-lake"], 2);
    assert!(groups[0]["first_seen"].as_str().unwrap().ends_with('Z'));
    let (code, groups, err) = jsonl(&[
        os(&data("cloudtrail/eventbridge.json")),
        os(&data("cloudtrail/eventbridge.jsonl")),
    ]);
    assert_eq!(code, 2, "{err}");
    let total: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 3);
    assert!(groups.iter().all(|g| g["formats"]["eventbridge"].is_u64()));
}

#[test]
fn access_logs_old_and_new_are_read() {
    let (code, groups, err) = jsonl(&[os(&data("access-logs/new-format.log"))]);
    assert_eq!(code, 2, "{err}");
    let total: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 8);
    assert!(groups.iter().any(|g| g["caller"]["key"] == "anonymous"));
    let acl = groups
        .iter()
        .find(|g| g["code"] == "AccessControlListNotSupported")
        .unwrap();
    assert_eq!(acl["clients"]["console"], 1);
    // No message in access logs: the code is all they prove, and the outcome says so.
    let denied = groups.iter().find(|g| g["code"] == "AccessDenied").unwrap();
    assert!(
        denied["diagnosis"]["message"]
            .as_str()
            .unwrap()
            .contains("carry no error message")
    );
    let (code, groups, err) = jsonl(&[os(&data("access-logs/old-format.log"))]);
    assert_eq!(code, 2, "{err}");
    let total: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 2);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_folders_and_standard_input_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02");
    std::fs::create_dir_all(&nested).unwrap();
    let plain = std::fs::read(data("cloudtrail/records.json")).unwrap();
    std::fs::write(nested.join("a.json.gz"), gzip(&plain)).unwrap();
    let (code, from_gz, err) = jsonl(&[os(dir.path())]);
    assert_eq!(code, 2, "{err}");
    let (_, from_plain, _) = jsonl(&[os(&data("cloudtrail/records.json"))]);
    assert_eq!(from_gz, from_plain);
    // Standard input, gzip too.
    let out = cargo_bin_cmd!("why403")
        .args(["triage", "-", "--format", "jsonl"])
        .write_stdin(gzip(&plain))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let n = String::from_utf8(out.stdout).unwrap().lines().count();
    assert_eq!(n, from_plain.len());
}

#[test]
fn bad_input_is_reported_with_its_place_and_the_rest_is_read() {
    let (code, groups, err) = jsonl(&[os(&data("bad"))]);
    // Refusals remain (2) and input was skipped (4).
    assert_eq!(code, 6, "{err}");
    assert!(!groups.is_empty());
    for (file, what) in [
        ("broken.json:", "ends inside"),
        ("malformed-record.json:", "record 2 is skipped"),
        ("mixed.log:3", "not an access log line"),
        ("unknown.txt:1", "not a format triage reads"),
    ] {
        assert!(
            err.lines().any(|l| l.contains(file) && l.contains(what)),
            "no `{file}` `{what}` in:\n{err}"
        );
    }
    // A truncated gzip: the records before the cut are kept.
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<Value> = (0..400)
        .map(|i| {
            serde_json::json!({"eventSource": "s3.amazonaws.com", "eventName": "PutObject",
                "eventTime": format!("2026-12-05T10:00:{:02}Z", i % 60), "errorCode": "AccessDenied",
                "errorMessage": "Access Denied", "eventID": format!("id-{i}"),
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
                "requestParameters": {"bucketName": "amzn-s3-demo-bucket", "key": format!("k/{i}.csv")}})
        })
        .collect();
    let file = serde_json::json!({ "Records": big }).to_string();
    let gz = gzip(file.as_bytes());
    let cut = dir.path().join("cut.json.gz");
    std::fs::write(&cut, &gz[..gz.len() * 2 / 3]).unwrap();
    let (code, groups, err) = jsonl(&[os(&cut)]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("cut.json.gz") && err.contains("gzip"), "{err}");
    let n = groups[0]["count"].as_u64().unwrap();
    assert!(n > 0 && n < 400, "{n}");
    // A file that cannot be read, and a path that does not exist.
    let (code, _, err) = jsonl(&[os(&dir.path().join("missing.json"))]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("missing.json") && err.contains("cannot be read"),
        "{err}"
    );
}

#[test]
fn suppressed_groups_are_counted_and_the_exit_code_follows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("expected.txt");
    std::fs::write(
        &file,
        "# the console editors may not set ACLs: expected\ncode=AccessControlListNotSupported # acl\n",
    )
    .unwrap();
    let log = data("cloudtrail/records.json");
    let (code, groups, _) = jsonl(&[os(&log), "--suppress".as_ref(), os(&file)]);
    assert_eq!(code, 2);
    let acl = groups
        .iter()
        .find(|g| g["code"] == "AccessControlListNotSupported")
        .unwrap();
    assert_eq!(acl["suppressed"]["line"], 2);
    assert_eq!(acl["suppressed"]["reason"], "acl");
    assert!(groups.iter().filter(|g| g["suppressed"].is_null()).count() >= 4);
    // Everything expected: exit 0, and the table says what was suppressed.
    std::fs::write(&file, "bucket=amzn-s3-demo-* # all of it\n").unwrap();
    let out = table(&[os(&log), "--suppress".as_ref(), os(&file)]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("suppressed") && text.contains("nothing left to look at"),
        "{text}"
    );
    // A bad line: the file, line and column, exit 1.
    std::fs::write(&file, "bucket=b\nbucket=b colour=red\n").unwrap();
    let out = table(&[os(&log), "--suppress".as_ref(), os(&file)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("expected.txt:2:10") && err.contains("colour"),
        "{err}"
    );
}

#[test]
fn scenario_files_give_verified_fixes_per_group() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo("examples/scenarios/identity-missing-put-object.json"),
        dir.path().join("alice.json"),
    )
    .unwrap();
    let (code, groups, err) = jsonl(&[
        os(&repo("examples/triage/cloudtrail.json")),
        "--scenarios".as_ref(),
        os(dir.path()),
    ]);
    assert_eq!(code, 2, "{err}");
    let alice = groups
        .iter()
        .find(|g| g["caller"]["key"] == "arn:aws:iam::111122223333:user/alice")
        .unwrap();
    let d = &alice["diagnosis"];
    assert_eq!(d["basis"], "scenario");
    assert_eq!(d["scenario"], "alice.json");
    assert_eq!(d["verdict"], "denied");
    assert_eq!(
        d["causes"],
        serde_json::json!(["identity-policy-missing-put-object"])
    );
    assert_eq!(d["verified"], "yes");
    // A group with no scenario of its caller is explained from its records, and says why.
    let other = groups
        .iter()
        .find(|g| g["caller"]["key"] != alice["caller"]["key"])
        .unwrap();
    assert_eq!(other["diagnosis"]["basis"], "records");
    assert!(
        other["diagnosis"]["notes"]
            .to_string()
            .contains("no scenario")
    );
}

#[test]
fn the_table_and_the_html_page() {
    let out = cargo_bin_cmd!("why403")
        .args(["triage", "--format", "html"])
        .arg(repo("examples/triage/cloudtrail.json"))
        .output()
        .unwrap();
    let page = String::from_utf8(out.stdout).unwrap();
    let doc = roxmltree::Document::parse(page.trim_start_matches("<!DOCTYPE html>\n"))
        .expect("the page is well-formed XML");
    assert_eq!(
        doc.descendants().filter(|n| n.has_tag_name("tr")).count(),
        3
    );
    assert!(!page.contains("<script"));
    let out = cargo_bin_cmd!("why403")
        .arg("triage")
        .arg(repo("examples/triage/cloudtrail.json"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().find(|l| l.starts_with("#  count")).unwrap();
    for col in [
        "first seen",
        "last seen",
        "caller",
        "bucket/prefix",
        "code",
        "cause",
        "verified",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert!(text.contains("user alice (111122223333)"));
}

#[test]
fn options_for_one_upload_are_refused() {
    let out = cargo_bin_cmd!("why403")
        .args([
            "triage",
            "--principal",
            "arn:aws:iam::111122223333:user/alice",
        ])
        .arg(repo("examples/triage/cloudtrail.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("describes one upload"));
    let out = cargo_bin_cmd!("why403")
        .args(["triage", "--profile", "x"])
        .arg(repo("examples/triage/cloudtrail.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add `--live`"));
}

/// One CloudTrail record of a refused upload, with `patch` merged into it.
fn refused(patch: Value) -> Value {
    let mut r = serde_json::json!({
        "eventVersion": "1.10", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
        "eventTime": "2026-12-05T10:00:00Z", "awsRegion": "us-east-1",
        "errorCode": "AccessDenied", "errorMessage": "Access Denied",
        "eventID": "3038ebd2-c98a-4c65-9b6e-e22506292313", "requestID": "EXAMPLE8B9C0D1E2F",
        "sourceIPAddress": "203.0.113.7", "userAgent": "[aws-cli/2.22.0]",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333"},
        "requestParameters": {"bucketName": "amzn-s3-demo-bucket", "key": "reports/q3.csv"},
        "tlsDetails": {"tlsVersion": "TLSv1.3"}
    });
    if let (Some(m), Some(p)) = (r.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            m.insert(k.clone(), v.clone());
        }
    }
    r
}

fn triage_records(records: &[Value], extra: &[&str]) -> (i32, Vec<Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("records.json");
    std::fs::write(&file, serde_json::json!({ "Records": records }).to_string()).unwrap();
    let mut args: Vec<&std::ffi::OsStr> = vec![os(&file)];
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    jsonl(&args)
}

#[test]
fn callers_without_an_arn_are_not_anonymous() {
    // Another account's caller, as the bucket owner's trail records it: no ARN.
    let other = refused(serde_json::json!({"userIdentity": {"type": "AWSAccount",
        "principalId": "AIDACKCEVSQ6C2EXAMPLE", "accountId": "444455556666"}}));
    let anon = refused(serde_json::json!({"userIdentity": {"type": "AWSAccount",
        "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}, "eventID": "4038ebd2-c98a-4c65-9b6e-e22506292313"}));
    let (_, groups, err) = triage_records(&[other, anon], &[]);
    let keys: Vec<&str> = groups
        .iter()
        .map(|g| g["caller"]["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"account:444455556666") && keys.contains(&"anonymous"),
        "{keys:?} {err}"
    );
    let acct = groups
        .iter()
        .find(|g| g["caller"]["key"] == "account:444455556666")
        .unwrap();
    assert!(
        acct["diagnosis"]["notes"]
            .to_string()
            .contains("no principal to diagnose"),
        "{acct}"
    );
}

#[test]
fn what_a_record_does_not_say_is_not_assumed_silently() {
    // tlsDetails without a version: TLS unknown, said so. The request ID is CloudTrail's
    // requestID, not its eventID.
    let r = refused(
        serde_json::json!({"tlsDetails": {"cipherSuite": "TLS_AES_128_GCM_SHA256"},
        "eventName": "CopyObject"}),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo("examples/scenarios/identity-missing-put-object.json"),
        dir.path().join("alice.json"),
    )
    .unwrap();
    let (_, groups, err) = triage_records(&[r], &["--scenarios", dir.path().to_str().unwrap()]);
    let notes = groups[0]["diagnosis"]["notes"].to_string();
    assert!(
        notes.contains("does not say whether the request used TLS"),
        "{notes} {err}"
    );
    assert!(notes.contains("a copy also reads its source"), "{notes}");
    // An EventBridge event from another partition's wording is still read.
    let eb = serde_json::json!({"version": "0", "detail-type": "Amazon API Call via CloudTrail",
        "source": "aws.s3", "detail": refused(serde_json::json!({}))});
    let file = dir.path().join("eb.json");
    std::fs::write(&file, eb.to_string()).unwrap();
    let (code, groups, err) = jsonl(&[os(&file)]);
    assert_eq!((code, groups.len()), (2, 1), "{err}");
    // CloudTrail records that are all management events: a warning that uploads cannot be
    // there.
    let (code, groups, err) = jsonl(&[os(&data("cloudtrail/lookup-events.json"))]);
    assert_eq!((code, groups.len()), (0, 0));
    assert!(err.contains("management events only"), "{err}");
}

#[test]
fn a_rule_suppresses_only_a_settled_cause() {
    // From the message alone the explicit deny has several candidate rules: `rule=` names
    // one of them, and does not suppress the group.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("expected.txt");
    std::fs::write(&file, "rule=bucket-policy-explicit-deny\n").unwrap();
    let (_, groups, _) = jsonl(&[
        os(&data("cloudtrail/records.json")),
        "--suppress".as_ref(),
        os(&file),
    ]);
    let c1 = find(&groups, UPLOADER, "uploads/", "explicit deny");
    assert!(c1["suppressed"].is_null(), "{c1}");
    // One session of a role is refused with the role to use instead.
    std::fs::write(
        &file,
        "caller=arn:aws:sts::111122223333:assumed-role/ReportUploader/alice\n",
    )
    .unwrap();
    let out = table(&[
        os(&data("cloudtrail/records.json")),
        "--suppress".as_ref(),
        os(&file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("role/ReportUploader"));
}

#[test]
fn lake_keys_with_commas_and_brackets_are_kept() {
    let row = |key: &str, time: &str| {
        serde_json::json!([{"eventTime": time}, {"eventName": "PutObject"},
            {"userIdentity": "{type=IAMUser, arn=arn:aws:iam::111122223333:user/alice, accountid=111122223333}"},
            {"requestParameters": format!("{{bucketName=amzn-s3-demo-bucket, Host=amzn-s3-demo-bucket.s3.amazonaws.com, key={key}}}")},
            {"errorCode": "AccessDenied"}, {"eventID": "5d1f8a7e-0c3b-4d5e-9f6a-1b2c3d4e5f60"}])
    };
    let out = serde_json::json!({"QueryStatus": "FINISHED", "QueryResultRows": [
        row("reports/Q1, final.csv", "2026-03-02 09:15:27.000"),
        row("reports/[draft].csv", "2026-03-02 09:16:27.000")]});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lake.json");
    std::fs::write(&file, out.to_string()).unwrap();
    let (code, groups, err) = jsonl(&[os(&file)]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(groups.len(), 1, "{err}");
    assert_eq!(groups[0]["count"], 2);
    assert_eq!(groups[0]["latest"]["key"], "reports/[draft].csv");
    assert_eq!(groups[0]["first_seen"], "2026-03-02T09:15:27Z");
}
