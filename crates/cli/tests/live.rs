//! `why403 diagnose s3://...` and `why403 capture` without AWS: argument errors, and a clear
//! "no credentials" error (exit 1, no hang) when none are configured. Reading from a moto server
//! is tested in live_moto.rs and crates/aws-source/tests/moto.rs. Needs the `live` feature (on
//! by default); offline.rs tests the build without it.

#![cfg(feature = "live")]

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

/// The command with no AWS configuration at all: no credentials, no config files, no instance
/// metadata.
fn bare() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("why403");
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_ENDPOINT_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/why403-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/why403-test/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

#[test]
fn diagnose_needs_an_upload_or_a_scenario() {
    bare()
        .arg("diagnose")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("s3://BUCKET/KEY"));
}

#[test]
fn an_upload_and_a_scenario_together_are_refused() {
    bare()
        .args(["diagnose", "s3://b/k", "--scenario", "x.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn live_options_need_an_upload() {
    bare()
        .args(["diagnose", "--scenario", "x.json", "--profile", "p"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`--profile` is for reading from AWS (`diagnose s3://<bucket>/<key>`)",
        ));
}

#[test]
fn a_target_that_is_not_an_s3_url_is_refused() {
    bare()
        .args(["diagnose", "amzn-s3-demo-bucket/report.csv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "expected `s3://<bucket>/<key>`, found `amzn-s3-demo-bucket/report.csv`",
        ));
    bare()
        .args(["diagnose", "s3://amzn-s3-demo-bucket/"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("with a bucket and an object key"));
}

#[test]
fn access_point_aliases_mraps_and_directory_buckets_are_read_live() {
    // Each is taken as a target and goes on to reading, which needs credentials (their reads:
    // crates/aws-source/tests/mocked/).
    for (target, extra) in [
        (
            "s3://finance-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias/reports/q3.csv",
            None,
        ),
        (
            "s3://arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap/reports/q3.csv",
            Some("amzn-s3-demo-bucket"),
        ),
        (
            "s3://amzn-s3-demo-bucket--usw2-az1--x-s3/reports/q3.csv",
            None,
        ),
    ] {
        let mut cmd = bare();
        cmd.args(["diagnose", target, "--region", "us-east-1"]);
        if let Some(b) = extra {
            cmd.args(["--mrap-bucket", b]);
        }
        cmd.timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "cannot read `{target}` from AWS: no AWS credentials found"
            )));
    }
    bare()
        .args([
            "diagnose",
            "s3://arn:aws:s3:us-east-1:1111:accesspoint/finance-ap/k",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the account of an access point ARN is 12 digits",
        ));
}

#[test]
fn mrap_bucket_is_only_for_a_multi_region_access_point() {
    bare()
        .args([
            "diagnose",
            "s3://amzn-s3-demo-bucket/report.csv",
            "--mrap-bucket",
            "amzn-s3-demo-bucket",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`--mrap-bucket` names the bucket behind a Multi-Region Access Point",
        ));
}

#[test]
fn session_mode_is_only_for_a_directory_bucket() {
    bare()
        .args([
            "diagnose",
            "s3://amzn-s3-demo-bucket/report.csv",
            "--session-mode",
            "ReadOnly",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`--session-mode` is the session of an upload to a directory bucket",
        ));
    bare()
        .args([
            "diagnose",
            "s3://b--usw2-az1--x-s3/k",
            "--session-mode",
            "readonly",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "[possible values: ReadWrite, ReadOnly]",
        ));
    bare()
        .args([
            "diagnose",
            "s3://b--usw2-az1--x-s3/k",
            "--session-mode",
            "ReadOnly",
            "--region",
            "us-west-2",
        ])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no AWS credentials found"));
}

#[test]
fn a_header_without_a_colon_is_refused() {
    bare()
        .args(["diagnose", "s3://b/k", "--header", "x-amz-acl"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "expected `--header NAME:VALUE`, found `x-amz-acl`",
        ));
}

#[test]
fn without_credentials_diagnose_says_how_to_configure_them() {
    bare()
        .args(["diagnose", "s3://amzn-s3-demo-bucket/report.csv", "--region", "us-east-1"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "why403: error: cannot read `s3://amzn-s3-demo-bucket/report.csv` from AWS: no AWS credentials found: set AWS_PROFILE",
        ));
}

#[test]
fn an_unknown_profile_is_named() {
    bare()
        .args(["capture", "s3://b/k", "-o"])
        .arg(std::env::temp_dir().join("why403-never-written.json"))
        .args(["--profile", "no-such-profile", "--region", "us-east-1"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot load AWS credentials for profile `no-such-profile`",
        ));
}

/// `why403 diagnose s3://amzn-s3-demo-bucket/report.csv --timeout SECONDS` reading from
/// `endpoint`, with dummy keys in the environment.
fn against(endpoint: &str, timeout: &str) -> assert_cmd::Command {
    let mut cmd = bare();
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .args(["diagnose", "s3://amzn-s3-demo-bucket/report.csv"])
        .args(["--endpoint-url", endpoint, "--region", "us-east-1"])
        .args(["--timeout", timeout])
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

/// A local endpoint: every connection is handed to `answer` on a thread of its own.
fn serve(answer: fn(std::net::TcpStream)) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn timeout_bounds_a_call_to_an_endpoint_that_never_answers() {
    // Accepts, reads, never answers.
    let endpoint = serve(|mut s| {
        let _ = std::io::copy(&mut s, &mut std::io::sink());
    });
    let start = std::time::Instant::now();
    let out = against(&endpoint, "2")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("sts:GetCallerIdentity timed out"));
    let took = start.elapsed();
    // Two seconds for the call, retries included; not one more call's worth after it.
    assert!(
        took < std::time::Duration::from_millis(3500),
        "--timeout 2 took {took:?}: {:?}",
        String::from_utf8_lossy(&out.get_output().stderr)
    );
}

#[test]
fn an_endless_answer_is_cut_at_the_response_limit() {
    // A well-formed HTTP answer whose body never ends.
    let endpoint = serve(|mut s| {
        use std::io::{Read, Write};
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n";
        if s.write_all(head.as_bytes()).is_err() {
            return;
        }
        while s.write_all(chunk.as_bytes()).is_ok() {}
    });
    // Without the limit, the body is read until the call's timeout.
    against(&endpoint, "3")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the endpoint's answer cannot be used: sts:GetCallerIdentity answered with more than 4 MiB",
        ));
}

/// A request's head and body, as text.
fn request_text(s: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let head_end = got.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|n| n.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return String::from_utf8_lossy(&got).into_owned();
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&got).into_owned(),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn an_endless_bucket_policy_is_unavailable_naming_the_call() {
    use std::io::Write;
    // The caller and the bucket answer as AWS does, the bucket policy never ends, every other
    // read is refused.
    let endpoint = serve(|mut s| {
        let request = request_text(&mut s);
        let ok = |body: &str| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        let answer = if request.contains("Action=GetCallerIdentity") {
            ok("<GetCallerIdentityResponse><GetCallerIdentityResult>\
                <Arn>arn:aws:iam::111122223333:user/alice</Arn><UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>\
                <Account>111122223333</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")
        } else if request.starts_with("HEAD ") {
            "HTTP/1.1 200 OK\r\nx-amz-bucket-region: us-east-1\r\nContent-Length: 0\r\n\r\n"
                .to_owned()
        } else if request
            .lines()
            .next()
            .is_some_and(|l| l.contains("?policy"))
        {
            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
            if s.write_all(head.as_bytes()).is_ok() {
                while s.write_all(chunk.as_bytes()).is_ok() {}
            }
            return;
        } else {
            "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_owned()
        };
        let _ = s.write_all(answer.as_bytes());
    });
    let out = against(&endpoint, "10")
        .args(["--format", "json"])
        .assert()
        .code(3);
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout)
        .unwrap_or_else(|e| panic!("{e}: {:?}", out.get_output()));
    let reasons: Vec<&str> = report["missing"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["reason"].as_str())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("s3:GetBucketPolicy answered with more than 4 MiB")),
        "{report:#}"
    );
}

#[test]
fn an_unreadable_credentials_file_is_named_with_the_os_error() {
    // A directory where the credentials file should be: it exists, and reading it fails.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for profile in [Some("uploader"), None] {
        let mut cmd = bare();
        cmd.env("AWS_SHARED_CREDENTIALS_FILE", dir.path())
            .args(["diagnose", "s3://b/k", "--region", "us-east-1"])
            .timeout(std::time::Duration::from_secs(60));
        if let Some(p) = profile {
            cmd.args(["--profile", p]);
        }
        let out = cmd.assert().code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains(&format!(
                "cannot read the AWS credentials file `{}`: ",
                dir.path().display()
            )) && stderr.contains("(os error "),
            "{profile:?}: {stderr}"
        );
        assert!(!stderr.contains("not defined"), "{profile:?}: {stderr}");
    }
}

#[test]
fn a_failing_credential_process_shows_its_status_and_first_line_only() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile helper]\ncredential_process = printf 'token expired \\033[31mred\\nAKIASECRETLINE2\\nsecret3\\n' >&2 && exit 3\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = bare()
        .env("AWS_CONFIG_FILE", &config)
        .args([
            "diagnose",
            "s3://b/k",
            "--region",
            "us-east-1",
            "--profile",
            "helper",
        ])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("exit status: 3"), "{stderr}");
    // The first line, its terminal escape escaped; nothing of the others.
    assert!(stderr.contains("token expired \\u{1b}[31mred"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    assert!(
        !stderr.contains("AKIASECRETLINE2") && !stderr.contains("secret3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the rest of its standard error is not shown"),
        "{stderr}"
    );
}
