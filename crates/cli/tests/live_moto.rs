//! `why403 diagnose s3://...` and `why403 capture` against a moto server, worlds built by
//! `tests/moto/world.py`: the exit code and the cause of each documented case read live,
//! `capture` then `diagnose --scenario` (plain and `--redact`) giving the same result, and
//! `--stats`. Credentials come from profiles in a credentials file of the test's own, while
//! the environment holds other (moto default account) keys: `--profile` must win, as in the
//! AWS CLI. Skipped, with a notice, when `MOTO_ENDPOINT` is not set. Needs the `live` feature
//! (on by default).

#![cfg(feature = "live")]

#[path = "../../../tests/moto/support.rs"]
mod support;
// The live test uses the server and the client, not the page.
#[cfg(feature = "web")]
#[expect(dead_code)]
mod serve_support;

use std::path::PathBuf;
use std::sync::OnceLock;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use support::{endpoint, same_modulo_redaction, say, seed, tag, text};

const WORLDS: &[&str] = &["identity", "kms", "bucket-policy", "acl", "scp", "allowed"];
/// The worlds seeded: the documented causes and `triage`'s twenty buckets.
const SEEDED: &[&str] = &[
    "identity",
    "kms",
    "bucket-policy",
    "acl",
    "scp",
    "allowed",
    "triage",
];

struct Shared {
    endpoint: String,
    worlds: Value,
    dir: PathBuf,
}

fn shared(test: &str) -> Option<&'static Shared> {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    let endpoint = endpoint(test)?;
    Some(SHARED.get_or_init(|| {
        let tag = tag();
        let worlds = seed(&endpoint, &tag, SEEDED, false);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("live-moto-{tag}"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        // One profile per world's uploader, and `mgmt` for the organization's management
        // account (moto's default account takes any key while enforcement is off).
        let mut creds =
            String::from("[mgmt]\naws_access_key_id = testing\naws_secret_access_key = testing\n");
        for name in SEEDED {
            let u = &worlds["worlds"][*name]["uploader"];
            creds.push_str(&format!(
                "\n[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                text(u, "/access_key_id"),
                text(u, "/secret_access_key")
            ));
        }
        let file = dir.join("credentials");
        std::fs::write(&file, creds).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        Shared {
            endpoint,
            worlds,
            dir,
        }
    }))
}

/// `why403` with the test's credentials file, no config file, no instance metadata, and
/// moto default-account keys in the environment.
fn why403(s: &Shared) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("why403");
    for var in [
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", s.dir.join("credentials"))
        .env("AWS_CONFIG_FILE", s.dir.join("no-config"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

fn world<'a>(s: &'a Shared, name: &str) -> &'a Value {
    &s.worlds["worlds"][name]
}

fn target(w: &Value) -> String {
    format!("s3://{}/{}", text(w, "/bucket"), text(w, "/key"))
}

/// `--profile NAME [--org-profile mgmt] --region us-east-1 --endpoint-url URL`.
fn live_args(s: &Shared, name: &str) -> Vec<String> {
    let mut args = vec![
        "--profile".to_owned(),
        name.to_owned(),
        "--region".to_owned(),
        "us-east-1".to_owned(),
        "--endpoint-url".to_owned(),
        s.endpoint.clone(),
    ];
    if world(s, name).get("org_reader").is_some() {
        args.extend(["--org-profile".to_owned(), "mgmt".to_owned()]);
    }
    args
}

fn expected_code(w: &Value) -> i32 {
    match text(w, "/expect/verdict") {
        "allowed" => 0,
        "denied" => 2,
        _ => 3,
    }
}

/// Runs `why403 ARGS` and returns the exit code, the JSON report and standard error.
fn run(s: &Shared, args: &[String]) -> (i32, Value, String) {
    let out = why403(s)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "`why403 {}` printed no JSON ({e}); stderr:\n{stderr}",
            args.join(" ")
        )
    });
    (out.status.code().unwrap_or(-1), report, stderr)
}

fn diagnose_live(s: &Shared, name: &str, extra: &[&str]) -> (i32, Value, String) {
    let w = world(s, name);
    let mut args = vec!["diagnose".to_owned(), target(w)];
    args.extend(live_args(s, name));
    args.extend(["--format".to_owned(), "json".to_owned()]);
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    run(s, &args)
}

/// The verdict and, per finding, what must not change between a live diagnosis and one of
/// its capture.
fn summary(report: &Value) -> (String, Vec<String>) {
    let verdict = format!("{} {}", report["verdict"], report["missing"]);
    let findings = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let labels: Vec<String> = f["labels"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| format!("{} {} {}", l["document"], l["pointer"], l["message"]))
                .collect();
            format!(
                "{} {} {}: {} | check {} | fix {} [{}] | labels {labels:?} | missing {} | notes {}",
                f["rule"],
                f["role"],
                f["confidence"],
                f["message"],
                f["check"],
                f["fix"]["description"],
                f["fix"]["verified"],
                f["missing"],
                f["notes"]
            )
        })
        .collect();
    (verdict, findings)
}

#[test]
fn diagnose_reads_each_documented_cause_live() {
    let Some(s) = shared("diagnose_reads_each_documented_cause_live") else {
        return;
    };
    for name in WORLDS {
        let w = world(s, name);
        let (code, report, stderr) = diagnose_live(s, name, &[]);
        assert_eq!(code, expected_code(w), "{name}: {report:#}\n{stderr}");
        assert_eq!(report["verdict"], w["expect"]["verdict"], "{name}");
        // The profile's user, not the environment's keys.
        assert_eq!(
            report["request"]["principal"], w["uploader"]["arn"],
            "{name}: {report:#}"
        );
        match w["expect"]["cause"].as_str() {
            Some(cause) => {
                let first = &report["findings"][0];
                assert_eq!(
                    first["rule"],
                    format!("builtin/{cause}"),
                    "{name}: {report:#}"
                );
                assert_eq!(
                    (&first["role"], &first["confidence"]),
                    (&Value::from("cause"), &Value::from("confirmed")),
                    "{name}"
                );
                assert_eq!(report["cause"], first["message"], "{name}");
            }
            None => assert_eq!(report["findings"], Value::Array(Vec::new()), "{name}"),
        }
        // --format json: no progress line, nothing but the report.
        assert_eq!(stderr, "", "{name}");
    }
    say(&format!(
        "moto: `why403 diagnose s3://...` gave the documented cause and exit code for {} live uploads",
        WORLDS.len()
    ));
}

#[test]
fn capture_then_diagnose_scenario_gives_the_live_result() {
    let Some(s) = shared("capture_then_diagnose_scenario_gives_the_live_result") else {
        return;
    };
    for name in WORLDS {
        let w = world(s, name);
        let (live_code, live, _) = diagnose_live(s, name, &[]);
        let live = summary(&live);
        let identifiers: Vec<String> = w["identifiers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        for redact in [false, true] {
            let file = s.dir.join(format!("{name}-{redact}.json"));
            let mut args = vec![
                "capture".to_owned(),
                target(w),
                "-o".to_owned(),
                file.display().to_string(),
            ];
            args.extend(live_args(s, name));
            if redact {
                args.push("--redact".to_owned());
            }
            why403(s)
                .args(&args)
                .assert()
                .success()
                .stderr(format!("wrote `{}`\n", file.display()));
            let text_of = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
            for secret in ["/uploader/access_key_id", "/uploader/secret_access_key"] {
                assert!(
                    !text_of.contains(text(w, secret)),
                    "{name}: credentials written"
                );
            }
            let (code, report, _) = run(
                s,
                &[
                    "diagnose".to_owned(),
                    "--scenario".to_owned(),
                    file.display().to_string(),
                    "--format".to_owned(),
                    "json".to_owned(),
                ],
            );
            assert_eq!(code, live_code, "{name} (redact: {redact})");
            let again = summary(&report);
            if redact {
                for id in &identifiers {
                    assert!(
                        !text_of.contains(id.as_str()),
                        "{name}: `{id}` not redacted"
                    );
                }
                assert!(same_modulo_redaction(&live.0, &again.0, &identifiers));
                assert_eq!(again.1.len(), live.1.len(), "{name}: {:#?}", again.1);
                for (a, b) in live.1.iter().zip(&again.1) {
                    assert!(
                        same_modulo_redaction(a, b, &identifiers),
                        "{name}: redacted finding differs:\n  live:     {a}\n  redacted: {b}"
                    );
                }
            } else {
                assert_eq!(again, live, "{name}");
            }
        }
    }
    say(&format!(
        "moto: `why403 capture` (plain and --redact) then `diagnose --scenario` matched the live diagnosis for {} uploads",
        WORLDS.len()
    ));
}

/// `read N calls in R rounds` from `--stats`.
fn calls_and_rounds(stderr: &str) -> (usize, u32) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("read "))
        .unwrap_or_else(|| panic!("no stats line in:\n{stderr}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["read", n, "calls", "in", r, "rounds,", ..] => (
            n.parse().unwrap_or_else(|e| panic!("{line}: {e}")),
            r.parse().unwrap_or_else(|e| panic!("{line}: {e}")),
        ),
        _ => panic!("unexpected stats line `{line}`"),
    }
}

#[test]
fn stats_report_the_calls_and_at_most_four_rounds() {
    let Some(s) = shared("stats_report_the_calls_and_at_most_four_rounds") else {
        return;
    };
    for name in ["allowed", "kms", "scp"] {
        let (_, _, stderr) = diagnose_live(s, name, &["--stats"]);
        let (calls, rounds) = calls_and_rounds(&stderr);
        let listed = stderr.lines().filter(|l| l.starts_with("  round ")).count();
        assert_eq!(calls, listed, "{name}:\n{stderr}");
        assert!(
            calls >= 10 && (1..=4).contains(&rounds),
            "{name}:\n{stderr}"
        );
        say(&format!(
            "moto: `diagnose --stats` on `{name}`: {calls} calls in {rounds} rounds"
        ));
    }
}

/// The calls of a `--stats` listing, by API: `s3:GetBucketPolicy` → how many.
fn calls_by_api(stderr: &str) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for l in stderr.lines().filter(|l| l.starts_with("  round ")) {
        let api = l.split_whitespace().nth(2).unwrap_or_default();
        *out.entry(api.to_owned()).or_default() += 1;
    }
    out
}

#[test]
fn triage_live_reads_each_bucket_and_principal_once_for_a_hundred_groups() {
    let Some(s) = shared("triage_live_reads_each_bucket_and_principal_once_for_a_hundred_groups")
    else {
        return;
    };
    let w = world(s, "triage");
    let buckets: Vec<&str> = w["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    let users = w["users"].as_object().unwrap();
    // A day of CloudTrail records: each uploader refused twice in each bucket, 100 groups.
    let mut records = Vec::new();
    for (bi, b) in buckets.iter().enumerate() {
        for (ui, (_, u)) in users.iter().enumerate() {
            for n in 0..2 {
                records.push(serde_json::json!({
                    "eventVersion": "1.10", "eventSource": "s3.amazonaws.com",
                    "eventName": "PutObject", "awsRegion": "us-east-1",
                    "eventTime": format!("2026-12-05T{:02}:{:02}:{n:02}Z", bi, ui),
                    "errorCode": "AccessDenied", "errorMessage": "Access Denied",
                    "eventID": format!("{bi:08x}-{ui:04x}-4000-8000-{n:012x}"),
                    "sourceIPAddress": "203.0.113.7", "userAgent": "[aws-cli/2.22.0]",
                    "userIdentity": {"type": "IAMUser", "arn": text(u, "/arn"),
                        "accountId": text(w, "/account"), "accessKeyId": text(u, "/access_key_id")},
                    "requestParameters": {"bucketName": b, "key": format!("uploads/r{n}.csv")},
                }));
            }
        }
    }
    // Runs `triage --live --stats` on `records`: the groups and standard error.
    let triage = |records: &[Value], name: &str| -> (Vec<Value>, String) {
        let file = s.dir.join(name);
        std::fs::write(&file, serde_json::json!({ "Records": records }).to_string()).unwrap();
        let mut args = vec![
            "triage".to_owned(),
            file.display().to_string(),
            "--live".to_owned(),
            "--stats".to_owned(),
            "--format".to_owned(),
            "jsonl".to_owned(),
        ];
        args.extend(live_args(s, "triage"));
        let out = why403(s).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let groups = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (groups, stderr)
    };
    // One group first: the reads of one (bucket, caller).
    let (_, one) = triage(&records[..2], "triage-one.json");
    let one = calls_by_api(&one);
    let (groups, stderr) = triage(&records, "triage-day.json");
    assert_eq!(groups.len(), 100, "{stderr}");
    // Each group diagnosed live, with the uploader's own fate.
    for g in &groups {
        let d = &g["diagnosis"];
        assert_eq!(d["basis"], "live", "{g}");
        let user = users
            .iter()
            .find(|(_, u)| g["caller"]["key"] == text(u, "/arn"))
            .map(|(name, _)| name.as_str())
            .unwrap();
        let expect = match user {
            "allowed" => ("allowed", None),
            "bucket-arn-only" => ("denied", Some("identity-policy-missing-put-object")),
            "explicit-deny" => ("denied", Some("identity-policy-explicit-deny")),
            _ => ("denied", None),
        };
        assert_eq!(d["verdict"], expect.0, "{user}: {g}");
        if let Some(rule) = expect.1 {
            assert_eq!(d["causes"][0], rule, "{user}: {g}");
            assert_eq!(d["verified"], "yes", "{user}: {g}");
        }
    }
    // Each distinct read once: a bucket's reads once per bucket, a caller's once per caller,
    // the caller's identity, organization and account reads once in all.
    let (calls, rounds) = calls_and_rounds(&stderr);
    let by_api = calls_by_api(&stderr);
    assert_eq!(
        by_api.keys().collect::<Vec<_>>(),
        one.keys().collect::<Vec<_>>(),
        "{stderr}"
    );
    for (api, n) in &by_api {
        let per = if api.starts_with("s3:") && api != "s3:ListBuckets" {
            buckets.len()
        } else if api == "iam:GetUserPolicy" {
            // One per inline policy: each uploader has one, except `no-policy`.
            users.len() - 1
        } else if api.starts_with("iam:") {
            users.len()
        } else {
            1
        };
        assert_eq!(
            *n,
            one[api] * per,
            "{api} (one group: {}):\n{stderr}",
            one[api]
        );
    }
    assert!(rounds <= 4, "{stderr}");
    say(&format!(
        "moto: `triage --live` of {} groups over {} buckets and {} callers: {calls} calls in {rounds} rounds",
        groups.len(),
        buckets.len(),
        users.len()
    ));
}

#[test]
fn principal_diagnoses_someone_else_with_the_environment_credentials() {
    let Some(s) = shared("principal_diagnoses_someone_else_with_the_environment_credentials")
    else {
        return;
    };
    let w = world(s, "identity");
    let uploader = text(w, "/uploader/arn");
    // No --profile: the environment's keys (moto's default account) read.
    let mut base = vec![
        "diagnose".to_owned(),
        target(w),
        "--endpoint-url".to_owned(),
        s.endpoint.clone(),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    why403(s)
        .args(&base)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "name the uploader with --principal",
        ));
    base.extend(["--principal".to_owned(), uploader.to_owned()]);
    let (code, report, _) = run(s, &base);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["request"]["principal"], uploader);
    assert_eq!(
        report["findings"][0]["rule"],
        "builtin/identity-policy-missing-put-object"
    );
}

/// `why403 serve --live`: the page's live mode reads a world from moto and diagnoses it as
/// `diagnose` does.
#[cfg(feature = "web")]
#[test]
fn serve_live_reads_and_diagnoses_from_the_page() {
    let Some(s) = shared("serve_live_reads_and_diagnoses_from_the_page") else {
        return;
    };
    let name = "bucket-policy";
    let w = world(s, name);
    let cmd = why403(s);
    let mut cmd = std::process::Command::new(cmd.get_program());
    for (k, v) in why403(s).get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.arg("serve").arg("--live").args(live_args(s, name));
    let server = serve_support::Server::start_with(cmd);
    let (status, body) = serve_support::http(
        server.addr,
        "POST",
        "/api/live",
        &[("X-Why403-Token", server.token.as_str())],
        target(w).as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["verdict"], w["expect"]["verdict"], "{v}");
    let reused = |v: &Value| {
        v["diagnosis"]
            .to_string()
            .contains("were reused, not read again")
    };
    assert!(!reused(&v), "the first diagnosis reads everything: {v}");
    // Another upload shares the first one's reads and says so; the same upload asked again
    // is read afresh.
    let ask = |target: &str| {
        let (status, body) = serve_support::http(
            server.addr,
            "POST",
            "/api/live",
            &[("X-Why403-Token", server.token.as_str())],
            target.as_bytes(),
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let other = format!("{}-other", target(w));
    let second = ask(&other);
    assert_eq!(second["verdict"], w["expect"]["verdict"], "{second}");
    assert!(reused(&second), "{second}");
    assert!(!reused(&ask(&target(w))), "asked again: read afresh");
    // Without the token, nothing is read.
    let (status, _) =
        serve_support::http(server.addr, "POST", "/api/live", &[], target(w).as_bytes());
    assert_eq!(status, 403);
}
