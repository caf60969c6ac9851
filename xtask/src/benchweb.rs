//! `cargo xtask bench-web`: the what-if round trip of `why403 serve` (a release build): the
//! time from sending an edited scenario to having the whole answer (diagnosis, human text,
//! HTML report), over a loopback connection, for each `examples/scenarios/*.json`, against the
//! 20 ms target; and the bytes the page and each answer weigh, against the 150 KB target for
//! the page. The browser's own work (drawing the report) is not included.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::util;

// The client of the web tests.
#[path = "../../crates/cli/tests/serve_support/http.rs"]
mod http;

/// The round-trip target of issue 14, in milliseconds.
const TARGET_MS: f64 = 20.0;
/// The page's weight target, in bytes.
const PAGE_TARGET: usize = 150 * 1024;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(runs: usize) -> anyhow::Result<ExitCode> {
    let root = util::workspace_root()?;
    let exe = util::build_why403(&root, util::Profile::Release)?;
    let mut child = Command::new(&exe)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run `{} serve`", exe.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .context("reading the server's URL")?;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .with_context(|| format!("no URL in `{}`", line.trim()))?;
    let (host, token) = url
        .trim_start_matches("http://")
        .split_once("/?token=")
        .context("no token in the URL")?;
    let addr: SocketAddr = host.parse().context("the server's address")?;

    let (status, page) = request(addr, "GET", &format!("/?token={token}"), token, b"")?;
    if status != 200 {
        bail!("the page answered {status}");
    }
    println!(
        "page: {} bytes (target under {} KB): {}",
        page.len(),
        PAGE_TARGET / 1024,
        if page.len() < PAGE_TARGET {
            "met"
        } else {
            "NOT met"
        }
    );

    let dir = root.join("examples").join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list `{}`", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    println!("what-if round trip, {runs} runs per example (release build, loopback):");
    println!(
        "  {:<34} {:>8} {:>8} {:>8} {:>9}",
        "example", "min ms", "median", "max ms", "answer"
    );
    let mut worst = 0f64;
    for f in &files {
        let text = std::fs::read(f).with_context(|| format!("cannot read `{}`", f.display()))?;
        // One unmeasured run warms the server's caches and the connection path.
        request(addr, "POST", "/api/diagnose", token, &text)?;
        let mut times = Vec::with_capacity(runs);
        let mut size = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let (status, body) = request(addr, "POST", "/api/diagnose", token, &text)?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            if status != 200 || !body.starts_with(b"{") {
                bail!("{} answered {status}", f.display());
            }
            size = body.len();
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        worst = worst.max(median);
        println!(
            "  {:<34} {:>8.2} {:>8.2} {:>8.2} {:>7} B",
            f.file_name().unwrap_or_default().to_string_lossy(),
            times[0],
            median,
            times[times.len() - 1],
            size
        );
    }
    drop(server);
    let met = worst < TARGET_MS;
    println!(
        "worst median {worst:.2} ms, target under {TARGET_MS} ms: {}",
        if met { "met" } else { "NOT met" }
    );
    Ok(if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One request with the token; the status and the body.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &[u8],
) -> anyhow::Result<(u16, Vec<u8>)> {
    http::request(addr, method, path, &[("X-Why403-Token", token)], body)
        .with_context(|| format!("{method} {path} on {addr}"))
}
