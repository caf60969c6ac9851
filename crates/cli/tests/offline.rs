//! The build without the `live` feature (`cargo build -p why403 --no-default-features`): it
//! links no AWS SDK, still diagnoses scenario files, explains, evaluates, lists rules and prints
//! completions and the manual, and refuses `diagnose s3://...` and `capture` with what to do
//! instead (exit 1, as for usage errors; no panic).
//!
//! In the default build, which `cargo test --workspace` tests, that binary is built by a nested
//! `cargo build --offline --locked` in `target/offline` (once per test run, incrementally); in
//! a build without the feature (`cargo test -p why403 --no-default-features`) it is the binary
//! under test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use predicates::prelude::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

/// The `why403` binary built without the `live` feature.
fn offline_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_offline)
}

#[cfg(feature = "live")]
fn build_offline() -> PathBuf {
    let target = root().join("target/offline");
    let out = cargo()
        .args(["build", "--offline", "--locked", "-p", "why403"])
        .arg("--no-default-features")
        .arg("--manifest-path")
        .arg(root().join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "`cargo build -p why403 --no-default-features` failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target
        .join("debug")
        .join(format!("why403{}", std::env::consts::EXE_SUFFIX))
}

#[cfg(not(feature = "live"))]
fn build_offline() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_why403"))
}

fn why403() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(offline_binary());
    cmd.current_dir(root());
    cmd
}

#[test]
fn the_build_without_live_has_no_aws_sdk() {
    let out = cargo()
        .args(["tree", "--offline", "--locked", "-p", "why403"])
        // What the binary links: the test suite's own dependencies (an MCP client on tokio)
        // are not part of it.
        .args(["-e", "normal,build"])
        .args([
            "--no-default-features",
            "--prefix",
            "none",
            "--manifest-path",
        ])
        .arg(root().join("Cargo.toml"))
        .output()
        .expect("cargo runs");
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tree.contains("why403-core"), "{tree}");
    let live: Vec<&str> = tree
        .lines()
        .filter(|l| {
            l.starts_with("aws-") || l.starts_with("why403-aws-source") || l.starts_with("tokio ")
        })
        .collect();
    assert!(live.is_empty(), "the offline build links {live:?}");
}

#[test]
fn the_build_without_live_does_everything_but_reading_aws() {
    why403()
        .args(["diagnose", "--scenario"])
        .arg("examples/scenarios/bucket-policy-kms-deny.json")
        .args(["--color", "never"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("bucket-policy-explicit-deny"));
    why403()
        .args(["diagnose", "--scenario", "examples/scenarios/allowed.json"])
        .assert()
        .code(0);
    why403()
        .args([
            "explain",
            "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied",
        ])
        .assert()
        .success();
    why403()
        .args(["eval", "examples/eval/requests.jsonl"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"decision\""));
    why403()
        .args(["rules", "bucket-policy-explicit-deny"])
        .assert()
        .success();
    why403().args(["completions", "bash"]).assert().success();
    why403().arg("man").assert().success();
    // Help does not offer what this build cannot do.
    why403()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("capture").not());
    why403()
        .args(["diagnose", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--profile").not());
}

#[test]
fn live_commands_say_that_the_build_has_no_live_source() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let captured = dir.path().join("q3.json");
    let error = "An error occurred (AccessDenied) when calling the PutObject operation: User: \
                 arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject \
                 on resource: \"arn:aws:s3:::amzn-s3-demo-bucket/q3.csv\" because no \
                 identity-based policy allows the s3:PutObject action";
    let runs: [Vec<&std::ffi::OsStr>; 4] = [
        ["diagnose", "s3://amzn-s3-demo-bucket/q3.csv"]
            .map(AsRef::as_ref)
            .to_vec(),
        [
            "diagnose",
            "s3://amzn-s3-demo-bucket/q3.csv",
            "--profile",
            "uploader",
            "--region",
            "eu-west-1",
        ]
        .map(AsRef::as_ref)
        .to_vec(),
        // The upload named by the error is read live.
        ["diagnose", "--error", error].map(AsRef::as_ref).to_vec(),
        vec![
            "capture".as_ref(),
            "s3://amzn-s3-demo-bucket/q3.csv".as_ref(),
            "-o".as_ref(),
            captured.as_os_str(),
        ],
    ];
    for args in runs {
        why403().args(&args).assert().code(1).stdout("").stderr(
            predicate::str::contains("this build of why403 has no live source")
                .and(predicate::str::contains(
                    "`cargo install --path crates/cli --locked`",
                ))
                .and(predicate::str::contains("panicked").not()),
        );
    }
    assert!(!captured.exists(), "capture wrote a file");
}
