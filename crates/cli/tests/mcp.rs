//! `why403 mcp` over the real protocol: the test starts the binary as a child process and talks
//! to it with the official SDK's client (rmcp), as an MCP host would. Every tool is called on
//! the shipped examples and its result compared with the command it stands for; malformed calls
//! get errors that say where, and the server keeps answering. `diagnose_live` runs against moto
//! when `MOTO_ENDPOINT` is set (and is refused without `--allow-live`).

#![cfg(feature = "mcp")]

#[path = "../../../tests/moto/support.rs"]
#[expect(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use rmcp::model::{CallToolRequestParams, CallToolResult, ReadResourceRequestParams};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt as _, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_why403")
}

type Client = RunningService<RoleClient, ()>;

/// `why403 mcp ARGS` as a child process, with the client connected (initialized).
async fn start(args: &[&str], env: &[(&str, &str)]) -> Client {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let command = tokio::process::Command::new(bin()).configure(|cmd| {
        cmd.arg("mcp").args(&args).current_dir(root());
        for (k, v) in &env {
            cmd.env(k, v);
        }
    });
    let (transport, _) = TokioChildProcess::builder(command)
        .stderr(Stdio::null())
        .spawn()
        .expect("why403 mcp starts");
    ().serve(transport).await.expect("the MCP session starts")
}

async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The command's standard output as JSON.
fn command_json(args: &[&str]) -> Value {
    let out = std::process::Command::new(bin())
        .args(args)
        .current_dir(root())
        .output()
        .expect("why403 runs");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", String::from_utf8_lossy(&out.stderr)))
}

fn command_text(args: &[&str]) -> String {
    let out = std::process::Command::new(bin())
        .args(args)
        .current_dir(root())
        .output()
        .expect("why403 runs");
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn scenarios() -> Vec<String> {
    let mut all: Vec<String> = std::fs::read_dir(root().join("examples/scenarios"))
        .expect("examples/scenarios")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            format!(
                "examples/scenarios/{}",
                p.file_name().unwrap().to_string_lossy()
            )
        })
        .collect();
    all.sort();
    assert!(all.len() >= 5, "{all:?}");
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_says_who_it_is_and_lists_its_tools_and_resources() {
    let client = start(&[], &[]).await;
    let info = client
        .peer_info()
        .expect("the server's answer to initialize");
    let server = info.server_info.as_ref().expect("the server names itself");
    assert_eq!(server.name, "why403");
    assert!(server.version.starts_with(env!("CARGO_PKG_VERSION")));
    assert!(info.capabilities.tools.is_some() && info.capabilities.resources.is_some());

    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "diagnose_scenario",
            "evaluate_request",
            "explain_error",
            "list_rules",
            "rule_doc"
        ],
        "without --allow-live, no tool reads from AWS"
    );
    for t in &tools {
        assert_eq!(t.input_schema["type"], "object", "{}", t.name);
        assert!(
            t.description.as_ref().is_some_and(|d| d.len() > 40),
            "{}",
            t.name
        );
        let a = t.annotations.as_ref().expect("annotations");
        assert_eq!(a.read_only_hint, Some(true), "{}", t.name);
    }

    let resources = client.list_all_resources().await.expect("resources/list");
    let rules = command_text(&["rules"]);
    // One resource per rule (the table has a header row).
    assert_eq!(resources.len(), rules.lines().count() - 1);
    let r = &resources[0];
    let read = client
        .read_resource(ReadResourceRequestParams::new(r.uri.clone()))
        .await
        .expect("resources/read");
    let doc = match &read.contents[0] {
        rmcp::model::ResourceContents::TextResourceContents { text, .. } => text.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(doc, command_text(&["rules", &r.name]));
    let missing = client
        .read_resource(ReadResourceRequestParams::new(
            "why403://rules/builtin/no-such-rule",
        ))
        .await;
    assert!(missing.is_err());
    client.cancel().await.expect("the session closes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnose_scenario_equals_diagnose_json_on_every_example() {
    let client = start(&[], &[]).await;
    for path in scenarios() {
        let expected = command_json(&["diagnose", "--scenario", &path, "--format", "json"]);
        // By path: the same file name in the sources.
        let r = call(&client, "diagnose_scenario", json!({ "path": path })).await;
        assert_ne!(r.is_error, Some(true), "{path}: {}", text(&r));
        assert_eq!(r.structured_content.as_ref(), Some(&expected), "{path}");
        let verdict = expected["verdict"].as_str().unwrap();
        assert!(text(&r).starts_with(verdict), "{path}: {}", text(&r));
        // Inline, as an object: the same diagnosis, the sources named `scenario`.
        let scenario: Value =
            serde_json::from_str(&std::fs::read_to_string(root().join(&path)).unwrap()).unwrap();
        let r = call(
            &client,
            "diagnose_scenario",
            json!({ "scenario": scenario }),
        )
        .await;
        let got = r.structured_content.expect("structured");
        assert_eq!(got["verdict"], expected["verdict"], "{path}");
        assert_eq!(got["cause"], expected["cause"], "{path}");
        assert_eq!(got["checks"], expected["checks"], "{path}");
    }
    // The options of `diagnose` are the tool's arguments.
    let path = "examples/scenarios/kms-key-policy-missing.json";
    let expected = command_json(&[
        "diagnose",
        "--scenario",
        path,
        "--client",
        "cli",
        "--size",
        "104857600",
        "--format",
        "json",
    ]);
    let r = call(
        &client,
        "diagnose_scenario",
        json!({ "path": path, "client": "cli", "size": 104857600 }),
    )
    .await;
    assert_eq!(r.structured_content.as_ref(), Some(&expected));
    client.cancel().await.expect("the session closes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_evaluate_and_the_rules_equal_their_commands() {
    let client = start(&[], &[]).await;
    let error = "An error occurred (AccessDenied) when calling the PutObject operation: User: \
                 arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject \
                 on resource: \"arn:aws:s3:::reports/q1.csv\" because no identity-based policy \
                 allows the s3:PutObject action";
    let r = call(&client, "explain_error", json!({ "text": error })).await;
    assert_eq!(
        r.structured_content,
        Some(command_json(&["explain", "--format", "json", error]))
    );
    assert_eq!(text(&r), command_text(&["explain", error]));

    let lines = std::fs::read_to_string(root().join("examples/eval/requests.jsonl")).unwrap();
    let expected: Vec<Value> = command_text(&["eval", "examples/eval/requests.jsonl"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records: Vec<&str> = lines.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(records.len(), expected.len());
    for (line, expected) in records.iter().zip(&expected) {
        let as_object: Value = serde_json::from_str(line).unwrap();
        for request in [json!(line), as_object] {
            let r = call(&client, "evaluate_request", json!({ "request": request })).await;
            assert_eq!(r.structured_content.as_ref(), Some(expected), "{line}");
        }
    }

    let r = call(&client, "list_rules", json!({})).await;
    let listed = r.structured_content.unwrap();
    let ids: Vec<&str> = listed["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let table = command_text(&["rules"]);
    let table_ids: Vec<&str> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(ids, table_ids);
    let r = call(
        &client,
        "rule_doc",
        json!({ "id": "bucket-policy-explicit-deny" }),
    )
    .await;
    assert_eq!(
        text(&r),
        command_text(&["rules", "bucket-policy-explicit-deny"])
    );
    client.cancel().await.expect("the session closes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_calls_get_errors_that_say_where_and_the_server_goes_on() {
    let client = start(&[], &[]).await;
    // No such tool: a protocol error.
    let e = client
        .call_tool(CallToolRequestParams::new("rm_rf"))
        .await
        .expect_err("no such tool");
    assert!(e.to_string().contains("rm_rf"), "{e}");
    // Tool errors, each naming the argument by its JSON pointer, or the file and line.
    for (tool, args, says) in [
        ("explain_error", json!({}), "argument /text: missing"),
        (
            "explain_error",
            json!({ "text": ["a"] }),
            "argument /text: expected a string",
        ),
        (
            "diagnose_scenario",
            json!({ "path": "a", "scenario": {} }),
            "not both",
        ),
        (
            "diagnose_scenario",
            json!({ "path": "no/such/file.json" }),
            "no/such/file.json",
        ),
        (
            "diagnose_scenario",
            json!({ "scenario": "{\n  \"scenario\": 1,\n  \"request\": [}" }),
            "scenario:3:",
        ),
        (
            "diagnose_scenario",
            json!({ "scenario": { "scenario": 1, "request": { "bucket": true } } }),
            "argument /scenario/request",
        ),
        (
            "diagnose_scenario",
            json!({ "path": "examples/scenarios/allowed.json", "client": "curl" }),
            "argument /client",
        ),
        (
            "evaluate_request",
            json!({ "request": "{\"id\": 1" }),
            "argument /request",
        ),
        (
            "rule_doc",
            json!({ "id": "no-such-rule" }),
            "no rule `no-such-rule`",
        ),
        (
            "diagnose_live",
            json!({ "target": "s3://b/k" }),
            "--allow-live",
        ),
    ] {
        let r = call(&client, tool, args.clone()).await;
        assert_eq!(r.is_error, Some(true), "{tool} {args}: {}", text(&r));
        assert!(text(&r).contains(says), "{tool} {args}: {}", text(&r));
    }
    // A scenario file with an error gives its file, line and column.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\n  \"scenario\": 1,\n  \"request\": {\n    \"bucket\": 3,\n    \"key\": \"k\"\n  }\n}\n",
    )
    .unwrap();
    let r = call(&client, "diagnose_scenario", json!({ "path": bad })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("bad.json:4:"), "{}", text(&r));
    // Still serving.
    let r = call(
        &client,
        "diagnose_scenario",
        json!({ "path": "examples/scenarios/allowed.json" }),
    )
    .await;
    assert_eq!(r.structured_content.unwrap()["verdict"], "allowed");
    client.cancel().await.expect("the session closes");
}

#[test]
fn live_options_need_allow_live_and_per_upload_options_are_refused() {
    let out = std::process::Command::new(bin())
        .args(["mcp", "--profile", "x"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-live"));
    let out = std::process::Command::new(bin())
        .args([
            "mcp",
            "--allow-live",
            "--principal",
            "arn:aws:iam::111122223333:user/a",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("each `diagnose_live` call"));
    // The reuse window is an option of the live mode too; `serve` refuses it the same way, and
    // refuses a routed bucket, which describes one upload and not every upload of the page.
    for (args, says) in [
        (&["mcp", "--reuse-seconds", "0"][..], "add `--allow-live`"),
        (&["serve", "--reuse-seconds", "0"][..], "add `--live`"),
        (
            &["serve", "--live", "--mrap-bucket", "b"][..],
            "`--mrap-bucket` describes one upload",
        ),
    ] {
        let out = std::process::Command::new(bin())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// `diagnose_live` against moto: listed only with `--allow-live`, and its result is
/// `diagnose s3://... --format json` with the same options.
#[cfg(feature = "live")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnose_live_against_moto_equals_diagnose_json() {
    let Some(endpoint) = support::endpoint("mcp diagnose_live") else {
        return;
    };
    let tag = support::tag();
    let worlds = support::seed(&endpoint, &tag, &["bucket-policy"], false);
    let w = &worlds["worlds"]["bucket-policy"];
    let u = &w["uploader"];
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::write(
        &creds,
        format!(
            "[uploader]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            support::text(u, "/access_key_id"),
            support::text(u, "/secret_access_key")
        ),
    )
    .unwrap();
    let creds = creds.to_string_lossy().into_owned();
    let no_config = dir.path().join("no-config").to_string_lossy().into_owned();
    let env = [
        ("AWS_SHARED_CREDENTIALS_FILE", creds.as_str()),
        ("AWS_CONFIG_FILE", no_config.as_str()),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    let target = format!(
        "s3://{}/{}",
        support::text(w, "/bucket"),
        support::text(w, "/key")
    );
    let live = ["--region", "us-east-1", "--endpoint-url", endpoint.as_str()];

    let client = start(&[&["--allow-live"][..], &live[..]].concat(), &env).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "diagnose_live"));
    let r = call(
        &client,
        "diagnose_live",
        json!({ "target": target, "profile": "uploader" }),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let got = r.structured_content.expect("structured");

    let mut cmd = std::process::Command::new(bin());
    cmd.args([
        "diagnose",
        &target,
        "--profile",
        "uploader",
        "--format",
        "json",
    ])
    .args(live)
    .env_remove("AWS_PROFILE")
    .env_remove("AWS_ENDPOINT_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let mut expected: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mut got = got;
    // The time of the request is when each read it.
    for v in [&mut got, &mut expected] {
        v["request"]["time"] = Value::Null;
    }
    assert_eq!(got, expected);
    assert_eq!(got["verdict"], "denied");
    // The note of the `input-notes` finding.
    let reused = |d: &Value| d.to_string().contains("were reused, not read again");
    assert!(!reused(&got), "the first diagnosis reads everything: {got}");

    // Another upload to the same bucket shares the first one's reads, and says so.
    let bucket = support::text(w, "/bucket");
    let other = format!("s3://{bucket}/other/{}", support::text(w, "/key"));
    let ask = |target: String| {
        let client = &client;
        async move {
            let r = call(
                client,
                "diagnose_live",
                json!({ "target": target, "profile": "uploader" }),
            )
            .await;
            assert_ne!(r.is_error, Some(true), "{}", text(&r));
            r.structured_content.expect("structured")
        }
    };
    let second = ask(other.clone()).await;
    assert_eq!(second["verdict"], "denied");
    assert!(reused(&second), "{second}");
    // The fix, made in AWS: the bucket policy is deleted.
    let out = std::process::Command::new(support::python())
        .args([
            "-c",
            "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], \
             region_name='us-east-1', aws_access_key_id='testing', \
             aws_secret_access_key='testing').delete_bucket_policy(Bucket=sys.argv[2])",
            &endpoint,
            bucket,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Asked again, the same upload is read afresh: the policy is gone.
    let again = ask(other.clone()).await;
    assert!(!reused(&again), "{again}");
    assert_ne!(again["verdict"], "denied", "{again}");
    // `fresh` reads afresh even for an upload not asked about yet.
    let fresh = call(
        &client,
        "diagnose_live",
        json!({ "target": format!("s3://{bucket}/third"), "profile": "uploader", "fresh": true }),
    )
    .await;
    let fresh = fresh.structured_content.expect("structured");
    assert!(!reused(&fresh), "{fresh}");
    // A target that is not one is an error that says so; the server goes on.
    let r = call(
        &client,
        "diagnose_live",
        json!({ "target": "reports/q1.csv" }),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("s3://<bucket>/<key>"), "{}", text(&r));
    let none = dir.path().join("nothing");
    assert!(!none.exists());
    client.cancel().await.expect("the session closes");
}
