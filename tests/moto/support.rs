//! What the moto tests of every crate share (included with `#[path]`): whether they run, and
//! building their world with `tests/moto/world.py`.
//!
//! The tests run when `MOTO_ENDPOINT` names a running moto server (`.ci/run` starts one);
//! without it they pass with a notice. `MOTO_PYTHON` is the Python that has moto and boto3
//! (default `python3`). Notices are written to standard error directly, not with `eprintln!`,
//! so that `cargo test` shows them without `--nocapture`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

/// The moto server's endpoint, or `None` (after a notice) when the moto tests are off.
pub fn endpoint(test: &str) -> Option<String> {
    match std::env::var("MOTO_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e.trim_end_matches('/').to_owned()),
        _ => {
            say(&format!(
                "moto: skipped `{test}`: MOTO_ENDPOINT is not set (.ci/run starts a moto server)"
            ));
            None
        }
    }
}

/// A line on standard error that the test harness does not capture.
pub fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// The Python interpreter with moto and boto3.
pub fn python() -> String {
    std::env::var("MOTO_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_owned())
}

/// A tag for this test process's names: lower-case letters and digits, different for every
/// run, so that runs can share one server.
pub fn tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}{:x}", std::process::id(), nanos % 0xfffff)
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/moto/world.py")
}

/// Builds `worlds` (world.py's names) in the server at `endpoint`; `auth` turns moto's
/// enforcement on afterwards. Returns world.py's JSON.
pub fn seed(endpoint: &str, tag: &str, worlds: &[&str], auth: bool) -> serde_json::Value {
    let mut cmd = Command::new(python());
    cmd.arg(script())
        .args(["--endpoint", endpoint, "--tag", tag, "--wait", "30"])
        .arg("--worlds")
        .arg(worlds.join(","));
    if auth {
        cmd.arg("--auth");
    }
    // Seeding runs as moto's default account, whatever the environment says.
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE");
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{} {}` (set MOTO_PYTHON to a Python with moto and boto3): {e}",
            python(),
            script().display()
        )
    });
    assert!(
        out.status.success(),
        "world.py failed ({}; MOTO_PYTHON must be a Python with moto and boto3):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "world.py printed no JSON: {e}\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A string member at a `/`-separated path of world.py's JSON.
pub fn text<'a>(v: &'a serde_json::Value, path: &str) -> &'a str {
    v.pointer(path)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_else(|| panic!("world.py's JSON has no string at `{path}`"))
}

/// Whether `redacted` is `live` with identifiers replaced by placeholders: the same words in
/// the same places, except that each word of `live` that is (or holds) one of `identifiers`
/// may differ.
pub fn same_modulo_redaction(live: &str, redacted: &str, identifiers: &[String]) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.@".contains(c)))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (a, b) = (words(live), words(redacted));
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            x == y
                || identifiers
                    .iter()
                    .any(|id| !id.is_empty() && x.contains(id.as_str()))
        })
}
