//! `cargo xtask bench-live`: what a live diagnosis costs as the account grows (issue 20).
//!
//! Two parts, neither a test:
//!
//! - moto: a server of its own (`tests/moto/scale.py`, with moto's enforcement on) with an
//!   account per size, 10, 1,000 and 10,000 roles and 3,000 customer managed policies by
//!   default. A role's upload is diagnosed with the release `why403 diagnose --stats` by a
//!   reader allowed the targeted IAM reads and by one refused them (which falls back to
//!   `GetAccountAuthorizationDetails`): calls, rounds and the collection's wall time, the
//!   median of `--runs` runs. moto answers the authorization details in one page whatever the
//!   account's size.
//! - mocked AWS (`crates/aws-source/examples/live_growth.rs`, release): SDK clients that answer
//!   after a delay and page the authorization details at 1,000 entities, as AWS does, to state
//!   how the fallback grows where each page is a sequential round.
//!
//! The target: the targeted reads make the same calls in the same rounds (at most 4) at every
//! size. Exits 1 when it is missed.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::util::{self, Profile};

/// What `cargo xtask bench-live` was asked.
#[derive(Debug)]
pub struct Options {
    /// The Python with moto and boto3 (default: `MOTO_PYTHON`, then `.venv/bin/python`, then
    /// `python3`).
    pub python: Option<PathBuf>,
    /// Role counts of the accounts.
    pub roles: Vec<usize>,
    /// Customer managed policies of each account.
    pub policies: usize,
    /// Runs per size and reader (the median is reported).
    pub runs: usize,
    /// Skip the moto part (no Python needed).
    pub no_moto: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            python: None,
            roles: vec![10, 1000, 10_000],
            policies: 3000,
            runs: 5,
            no_moto: false,
        }
    }
}

/// One reading's figures.
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    calls: usize,
    rounds: u32,
    gaad: usize,
    wall_ms: f64,
}

pub fn run(o: &Options) -> anyhow::Result<ExitCode> {
    let root = util::workspace_root()?;
    if o.runs == 0 || o.roles.is_empty() || o.roles.contains(&0) || o.policies < 2 {
        bail!(
            "bench-live needs --runs of at least 1, --roles of at least 1 and --policies of at least 2"
        );
    }
    let mut met = true;
    let load = util::load_average();
    let compilers = util::busy_compilers();
    println!(
        "machine: {} cores, load average {} before, {compilers} compiler processes before",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.map_or("unknown".to_owned(), |l| format!("{l:.2}")),
    );
    if !o.no_moto {
        met &= moto_part(&root, o)?;
    }
    met &= mocked_part(&root, o)?;
    println!(
        "machine: load average {} after, {} compiler processes after",
        util::load_average().map_or("unknown".to_owned(), |l| format!("{l:.2}")),
        util::busy_compilers()
    );
    if met {
        println!("target met: the targeted reads cost the same at every size, in at most 4 rounds");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("target MISSED (see above)");
        Ok(ExitCode::FAILURE)
    }
}

fn python(root: &Path, o: &Options) -> PathBuf {
    if let Some(p) = &o.python {
        return p.clone();
    }
    if let Some(p) = std::env::var_os("MOTO_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let venv = root.join(".venv").join("bin").join("python");
    if venv.is_file() {
        return venv;
    }
    PathBuf::from("python3")
}

/// `tests/moto/scale.py`, serving until dropped.
struct Scale {
    child: Child,
}

impl Drop for Scale {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_part(root: &Path, o: &Options) -> anyhow::Result<bool> {
    let exe = util::build_why403(root, Profile::Release)?;
    let python = python(root, o);
    let script = root.join("tests").join("moto").join("scale.py");
    let sizes: Vec<String> = o
        .roles
        .iter()
        .map(|r| format!("{r}:{}", o.policies))
        .collect();
    eprintln!(
        "bench-live: building moto accounts of {} roles and {} policies each",
        o.roles
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        o.policies
    );
    let start = std::time::Instant::now();
    let mut child = Command::new(&python)
        .arg(&script)
        .args(["--tag", "bench", "--auth", "--sizes", &sizes.join(",")])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| {
            format!(
                "cannot run `{} {}` (give --python, or set MOTO_PYTHON, to a Python with moto and boto3)",
                python.display(),
                script.display()
            )
        })?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out)
            .read_line(&mut line)
            .context("reading scale.py's output")?;
    }
    let server = Scale { child };
    let all: Value = serde_json::from_str(&line).with_context(|| {
        format!(
            "scale.py printed no JSON (is moto installed for `{}`?)",
            python.display()
        )
    })?;
    let endpoint = text(&all, "/endpoint")?.to_owned();
    println!(
        "\nmoto {} (one page of authorization details per call, whatever the size); worlds built in {:.1} s; \
         median of {} runs; wall = the collection's time as --stats reports it",
        moto_version(&python),
        start.elapsed().as_secs_f64(),
        o.runs
    );
    println!(
        "{:>7} {:>9}  {:<9} {:>6} {:>7} {:>5} {:>9}",
        "roles", "policies", "reader", "calls", "rounds", "GAAD", "wall ms"
    );
    let dir = util::target_dir(root).join("bench").join("live");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut targeted: Vec<Figures> = Vec::new();
    let worlds = all["worlds"]
        .as_array()
        .context("scale.py gave no worlds")?;
    for w in worlds {
        for reader in ["reader", "fallback_reader"] {
            let mut runs = Vec::new();
            for _ in 0..o.runs {
                runs.push(diagnose(&exe, &endpoint, w, reader, &dir)?);
            }
            let f = median(&runs);
            println!(
                "{:>7} {:>9}  {:<9} {:>6} {:>7} {:>5} {:>9.0}",
                w["roles"].as_u64().unwrap_or(0),
                w["policies"].as_u64().unwrap_or(0),
                if reader == "reader" {
                    "targeted"
                } else {
                    "fallback"
                },
                f.calls,
                f.rounds,
                f.gaad,
                f.wall_ms
            );
            if reader == "reader" {
                targeted.push(f);
            }
        }
    }
    drop(server);
    Ok(check_targeted("moto", &targeted))
}

fn moto_version(python: &Path) -> String {
    Command::new(python)
        .args(["-c", "import moto; print(moto.__version__)"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "(version unknown)".to_owned())
}

/// The targeted readings' calls and rounds are the same at every size, in at most 4 rounds.
fn check_targeted(part: &str, figures: &[Figures]) -> bool {
    let Some(first) = figures.first() else {
        return true;
    };
    let same = figures
        .iter()
        .all(|f| (f.calls, f.rounds, f.gaad) == (first.calls, first.rounds, 0));
    if !same || first.rounds > 4 {
        println!(
            "{part}: the targeted reads do not cost the same at every size in at most 4 rounds"
        );
        return false;
    }
    true
}

fn text<'a>(v: &'a Value, pointer: &str) -> anyhow::Result<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .with_context(|| format!("scale.py's JSON has no string at `{pointer}`"))
}

/// One `why403 diagnose --stats` of world `w`'s upload by `reader`.
fn diagnose(
    exe: &Path,
    endpoint: &str,
    w: &Value,
    reader: &str,
    dir: &Path,
) -> anyhow::Result<Figures> {
    let target = format!("s3://{}/{}", text(w, "/bucket")?, text(w, "/key")?);
    let mut cmd = Command::new(exe);
    cmd.args(["diagnose", &target, "--principal", text(w, "/uploader")?])
        .args(["--region", "us-east-1", "--endpoint-url", endpoint])
        .args(["--stats", "--format", "json"]);
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
    // The reader's moto keys (never printed), and nothing of the machine's AWS configuration.
    cmd.env(
        "AWS_ACCESS_KEY_ID",
        text(w, &format!("/{reader}/access_key_id"))?,
    )
    .env(
        "AWS_SECRET_ACCESS_KEY",
        text(w, &format!("/{reader}/secret_access_key"))?,
    )
    .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
    .env("AWS_CONFIG_FILE", dir.join("no-config"))
    .env("AWS_EC2_METADATA_DISABLED", "true");
    let out = cmd
        .output()
        .with_context(|| format!("cannot run `{}`", exe.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    parse_stats(&stderr).with_context(|| {
        format!(
            "`why403 diagnose --stats` ({}) printed no stats:\n{stderr}",
            out.status
        )
    })
}

/// `read N calls in R rounds, S s` and the calls listed under it.
fn parse_stats(stderr: &str) -> anyhow::Result<Figures> {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("read "))
        .context("no `read N calls in R rounds` line")?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let ["read", calls, "calls", "in", rounds, "rounds,", secs, "s"] = words.as_slice() else {
        bail!("unexpected stats line `{line}`");
    };
    let gaad = stderr
        .lines()
        .filter(|l| l.starts_with("  round ") && l.contains("iam:GetAccountAuthorizationDetails"))
        .count();
    Ok(Figures {
        calls: calls.parse().with_context(|| format!("in `{line}`"))?,
        rounds: rounds.parse().with_context(|| format!("in `{line}`"))?,
        gaad,
        wall_ms: secs
            .parse::<f64>()
            .with_context(|| format!("in `{line}`"))?
            * 1000.0,
    })
}

/// The run of median wall time (calls and rounds are the same in every run of a reader).
fn median(runs: &[Figures]) -> Figures {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| a.wall_ms.total_cmp(&b.wall_ms));
    sorted[sorted.len() / 2].clone()
}

fn mocked_part(root: &Path, o: &Options) -> anyhow::Result<bool> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let roles: Vec<String> = o.roles.iter().map(usize::to_string).collect();
    eprintln!("xtask: cargo run --release -p why403-aws-source --example live_growth");
    let out = Command::new(&cargo)
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "--release",
            "-p",
            "why403-aws-source",
            "--example",
            "live_growth",
            "--",
            "--roles",
            &roles.join(","),
            "--policies",
            &o.policies.to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run `{}`", cargo.to_string_lossy()))?;
    if !out.status.success() {
        bail!("the live_growth example failed ({})", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!(
        "\nmocked AWS SDK clients: every call answers in 40 ms, each page of \
         GetAccountAuthorizationDetails (1,000 entities) in 1,000 ms; one run each"
    );
    println!(
        "{:>7} {:>9}  {:<9} {:>6} {:>7} {:>5} {:>9}",
        "roles", "policies", "path", "calls", "rounds", "GAAD", "wall ms"
    );
    let mut targeted = Vec::new();
    for line in stdout.lines() {
        let fields: BTreeMap<&str, &str> = line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let get = |k: &str| {
            fields
                .get(k)
                .copied()
                .with_context(|| format!("no `{k}=` in the example's line `{line}`"))
        };
        let f = Figures {
            calls: get("calls")?.parse()?,
            rounds: get("rounds")?.parse()?,
            gaad: get("gaad_pages")?.parse()?,
            wall_ms: get("wall_ms")?.parse()?,
        };
        println!(
            "{:>7} {:>9}  {:<9} {:>6} {:>7} {:>5} {:>9.0}",
            get("roles")?,
            get("policies")?,
            get("path")?,
            f.calls,
            f.rounds,
            f.gaad,
            f.wall_ms
        );
        if get("path")? == "targeted" {
            targeted.push(f);
        }
    }
    if targeted.len() != o.roles.len() {
        bail!(
            "the live_growth example reported {} targeted readings for {} sizes:\n{stdout}",
            targeted.len(),
            o.roles.len()
        );
    }
    Ok(check_targeted("mocked", &targeted))
}
