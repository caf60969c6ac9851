//! Hostile and careless input at the command line: limits that fail with a message, a closed
//! or full standard output handled by every subcommand, bounded threads, located errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn why403(args: &[&str]) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin!("why403"));
    c.args(args).stdin(Stdio::null());
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Each subcommand that prints to standard output, with an input that makes it print.
fn printing_commands() -> Vec<Vec<String>> {
    let scenario = repo("examples/scenarios/allowed.json");
    let eval = repo("examples/eval/requests.jsonl");
    let s = |p: &Path| p.display().to_string();
    vec![
        vec!["rules".into()],
        vec!["rules".into(), "scp-denies-s3".into()],
        vec![
            "explain".into(),
            "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
                .into(),
        ],
        vec!["diagnose".into(), "--scenario".into(), s(&scenario)],
        vec!["eval".into(), s(&eval)],
    ]
}

/// A closed standard output (`| head -c0`) ends the output quietly; `rules` panicked (exit
/// 101).
#[test]
fn a_closed_standard_output_is_not_a_panic() {
    for args in printing_commands() {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = why403(&args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_ne!(
            out.status.code(),
            Some(101),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), "", "{args:?}");
    }
}

/// A full standard output (`> /dev/full`) is an error message and exit code 1.
#[test]
fn a_full_standard_output_is_an_error_message() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    for args in printing_commands() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = why403(&args).stdout(full).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).starts_with(
                "why403: error: cannot write to standard output: No space left on device"
            ),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

/// `--threads` is bounded (100000 aborted after a failed thread spawn), and says so in
/// `--help`, with the line limit.
#[test]
fn threads_are_bounded_and_limits_documented() {
    let max = why403_policy::batch::MAX_THREADS;
    let out = why403(&["eval", "--threads", "100000", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("100000") && err.contains(&format!("1..={max}")),
        "{err}"
    );
    let eval = repo("examples/eval/requests.jsonl");
    cargo_bin_cmd!("why403")
        .args(["eval", "--threads", &max.to_string()])
        .arg(&eval)
        .assert()
        .success();
    let help = text(&why403(&["eval", "--help"]).output().unwrap().stdout);
    let mib = why403_policy::batch::MAX_LINE_BYTES >> 20;
    assert!(
        help.contains(&format!("1 to {max}"))
            && help.contains(&format!("at most {max} threads"))
            && help.contains(&format!("a line is at most {mib} MiB")),
        "{help}"
    );
    let help = text(&why403(&["diagnose", "--help"]).output().unwrap().stdout);
    let mib = why403_fixtures_source::MAX_SCENARIO_BYTES >> 20;
    assert!(help.contains(&format!("at most {mib} MiB")), "{help}");
}

fn run(args: &[&str]) -> Output {
    why403(args).output().unwrap()
}

/// `eval /dev/zero` ran forever and `diagnose --scenario /dev/zero` grew past 6 GB: both stop
/// at their limit with a message naming the input.
#[test]
fn endless_input_stops_at_the_limit() {
    if !Path::new("/dev/zero").exists() {
        return;
    }
    let out = run(&["eval", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "why403: error: in `/dev/zero`: line 1 is longer than 4 MiB, the limit of an eval line \
         (one request and its policies); the lines before it were evaluated, none from it on\n"
    );
    let out = run(&["diagnose", "--scenario", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("/dev/zero: the file is larger than 16 MiB, the limit of a scenario file"),
        "{}",
        text(&out.stderr)
    );
}

/// `eval DIR` names the path it cannot read.
#[test]
fn eval_names_what_it_cannot_read() {
    let dir = repo("examples");
    let out = run(&["eval", &dir.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!("why403: error: cannot read `{}`: ", dir.display())),
        "{err}"
    );
}

/// `explain` reads the first 16 MiB of its input and says so when there is more (it cut it
/// silently).
#[test]
fn explain_says_when_it_cuts_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    let mut big =
        "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied\n"
            .to_owned();
    big.push_str(&" ".repeat(16 << 20));
    std::fs::write(&path, &big).unwrap();
    let p = path.display().to_string();
    let out = run(&["explain", "--error-file", &p]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!("why403: warning: `{p}` is longer than 16 MiB: only its first 16 MiB are read\n")
    );
    // Under the limit, nothing is said.
    std::fs::write(&path, &big[..16 << 20]).unwrap();
    let out = run(&["explain", "--error-file", &p]);
    assert_eq!(text(&out.stderr), "");
}
