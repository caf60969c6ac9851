//! `cargo xtask bench`: end-to-end throughput of `why403 eval` on a generated file of realistic
//! records, with all cores and with one thread.

use std::fs::{self, File};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::{benchgen, util};

/// Timed runs per configuration.
const RUNS: usize = 3;
/// The throughput `why403 eval` must reach with all cores.
const TARGET_REQ_PER_S: f64 = 200_000.0;

pub fn run(lines: u64, keep: bool) -> anyhow::Result<ExitCode> {
    let root = util::workspace_root()?;
    let dir = util::target_dir(&root).join("bench");
    fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let data = dir.join("eval-bench.jsonl");
    let meta = dir.join("eval-bench.meta");

    let file = prepare(&data, &meta, lines)?;
    let exe = util::build_why403(&root, util::Profile::Release)?;
    util::warm_page_cache(&data)?;

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let compilers = util::busy_compilers();
    let load = util::load_average();
    if compilers > 0 {
        eprintln!(
            "xtask: warning: {compilers} compiler process(es) running; the timings will be noisy"
        );
    }

    let mix = decision_mix(&exe, &data)?;
    let ticks = util::CpuTicks::now();
    let all = measure(&exe, &data, None, file.lines)?;
    let one = measure(&exe, &data, Some(1), file.lines)?;
    let steal = ticks
        .zip(util::CpuTicks::now())
        .map(|(a, b)| a.steal_percent(b));
    let compilers_after = util::busy_compilers();

    println!();
    println!("why403 eval throughput");
    println!(
        "  input      {}  ({} lines, {:.1} MB, average line {} bytes, {} distinct policy sets of up to {} bytes)",
        data.display(),
        file.lines,
        file.bytes as f64 / 1e6,
        file.bytes / file.lines.max(1),
        file.policy_sets,
        file.max_policies_bytes,
    );
    println!(
        "  decisions  Allowed {:.1}%, ImplicitlyDenied {:.1}%, ExplicitlyDenied {:.1}%, errors {}",
        mix.percent(mix.allowed),
        mix.percent(mix.implicit),
        mix.percent(mix.explicit),
        mix.errors,
    );
    println!(
        "  machine    {cores} cores, load average {} before; compiler processes {compilers} before, \
         {compilers_after} after; CPU time stolen by the hypervisor during the runs {}",
        load.map_or_else(|| "?".to_owned(), |l| format!("{l:.2}")),
        steal.map_or_else(|| "?".to_owned(), |s| format!("{s:.1}%")),
    );
    if let Some(stats) = &all.stats_line {
        println!("  --stats    {stats}");
    }
    println!();
    println!(
        "  {:<18} {:>26} {:>14} {:>14} {:>10}",
        "threads", "wall time per run (s)", "best req/s", "median req/s", "best MB/s"
    );
    for (label, m) in [(format!("default ({cores})"), &all), ("1".to_owned(), &one)] {
        let times = m
            .runs
            .iter()
            .map(|d| format!("{:.3}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "  {:<18} {:>26} {:>14.0} {:>14.0} {:>10.1}",
            label,
            times,
            m.req_per_s(m.best(), file.lines),
            m.req_per_s(m.median(), file.lines),
            file.bytes as f64 / 1e6 / m.best().as_secs_f64(),
        );
    }
    let best = all.req_per_s(all.best(), file.lines);
    println!();
    println!(
        "  target     >= {TARGET_REQ_PER_S:.0} req/s with all cores: {} (best {best:.0} req/s, {:.2} us per request per core)",
        if best >= TARGET_REQ_PER_S {
            "met"
        } else {
            "NOT met"
        },
        all.best().as_secs_f64() * 1e6 * cores as f64 / file.lines.max(1) as f64,
    );

    if !keep {
        fs::remove_file(&data).with_context(|| format!("cannot remove `{}`", data.display()))?;
        // The metadata is meaningless without the data; a missing file is fine.
        let _ = fs::remove_file(&meta);
        println!("  (removed the input; pass --keep to reuse it next time)");
    }
    Ok(ExitCode::SUCCESS)
}

/// Generates the input unless a file of the same size and format is already there.
fn prepare(data: &Path, meta: &Path, lines: u64) -> anyhow::Result<benchgen::Generated> {
    if let Some(g) = reusable(data, meta, lines) {
        eprintln!("xtask: reusing {} ({lines} lines)", data.display());
        return Ok(g);
    }
    eprintln!("xtask: generating {lines} lines into {}", data.display());
    let started = Instant::now();
    let tmp = data.with_extension("jsonl.tmp");
    let g = benchgen::generate(&tmp, lines)?;
    fs::rename(&tmp, data).with_context(|| format!("cannot rename `{}`", tmp.display()))?;
    fs::write(
        meta,
        format!(
            "format={} lines={} bytes={} max_policies_bytes={}\n",
            benchgen::FORMAT_VERSION,
            g.lines,
            g.bytes,
            g.max_policies_bytes
        ),
    )
    .with_context(|| format!("cannot write `{}`", meta.display()))?;
    eprintln!(
        "xtask: generated {:.1} MB in {:.1} s",
        g.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(g)
}

/// The existing input, if its metadata matches the requested line count and the file size.
fn reusable(data: &Path, meta: &Path, lines: u64) -> Option<benchgen::Generated> {
    let text = fs::read_to_string(meta).ok()?;
    let field = |name: &str| -> Option<u64> {
        text.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
            .parse()
            .ok()
    };
    let g = benchgen::Generated {
        lines: field("lines")?,
        bytes: field("bytes")?,
        policy_sets: benchgen::POLICY_SETS,
        max_policies_bytes: usize::try_from(field("max_policies_bytes")?).ok()?,
    };
    let same = field("format")? == u64::from(benchgen::FORMAT_VERSION)
        && g.lines == lines
        && fs::metadata(data).ok()?.len() == g.bytes;
    same.then_some(g)
}

#[derive(Debug, Default)]
struct Mix {
    allowed: u64,
    implicit: u64,
    explicit: u64,
    errors: u64,
}

impl Mix {
    fn percent(&self, n: u64) -> f64 {
        let total = self.allowed + self.implicit + self.explicit + self.errors;
        100.0 * n as f64 / total.max(1) as f64
    }
}

/// One untimed run that reads the results, to show what the input exercises.
fn decision_mix(exe: &Path, data: &Path) -> anyhow::Result<Mix> {
    let mut child = Command::new(exe)
        .arg("eval")
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run `{}`", exe.display()))?;
    let stdout = child
        .stdout
        .take()
        .context("why403's stdout was not captured")?;
    let mut mix = Mix::default();
    let mut first_error = None;
    for line in BufReader::with_capacity(1 << 20, stdout).lines() {
        let line = line.context("reading the output of `why403 eval`")?;
        if line.contains("\"decision\":\"Allowed\"") {
            mix.allowed += 1;
        } else if line.contains("\"decision\":\"ImplicitlyDenied\"") {
            mix.implicit += 1;
        } else if line.contains("\"decision\":\"ExplicitlyDenied\"") {
            mix.explicit += 1;
        } else {
            mix.errors += 1;
            first_error.get_or_insert(line);
        }
    }
    let status = child.wait().context("waiting for why403")?;
    if let Some(e) = first_error {
        bail!("the generated input does not evaluate cleanly ({status}); first failure: {e}");
    }
    if !status.success() {
        bail!("`why403 eval` failed ({status})");
    }
    Ok(mix)
}

#[derive(Debug)]
struct Measurement {
    runs: Vec<Duration>,
    stats_line: Option<String>,
}

impl Measurement {
    fn best(&self) -> Duration {
        self.runs.iter().copied().min().unwrap_or_default()
    }

    fn median(&self) -> Duration {
        let mut v = self.runs.clone();
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    }

    fn req_per_s(&self, d: Duration, lines: u64) -> f64 {
        lines as f64 / d.as_secs_f64().max(1e-9)
    }
}

/// Times `why403 eval FILE --stats [--threads N] > /dev/null` [`RUNS`] times.
fn measure(
    exe: &Path,
    data: &Path,
    threads: Option<usize>,
    lines: u64,
) -> anyhow::Result<Measurement> {
    let mut runs = Vec::with_capacity(RUNS);
    let mut stats_line = None;
    for run in 1..=RUNS {
        let mut cmd = Command::new(exe);
        cmd.arg("eval").arg(data).arg("--stats");
        if let Some(t) = threads {
            cmd.arg("--threads").arg(t.to_string());
        }
        let devnull = File::create("/dev/null").context("cannot open /dev/null")?;
        cmd.stdin(Stdio::null())
            .stdout(devnull)
            .stderr(Stdio::piped());
        let started = Instant::now();
        let out = cmd
            .output()
            .with_context(|| format!("cannot run `{}`", exe.display()))?;
        let elapsed = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            bail!("`why403 eval` failed ({}): {}", out.status, stderr.trim());
        }
        let label = threads.map_or_else(|| "default".to_owned(), |t| t.to_string());
        eprintln!(
            "xtask: threads {label} run {run}/{RUNS}: {:.3} s, {:.0} req/s",
            elapsed.as_secs_f64(),
            lines as f64 / elapsed.as_secs_f64()
        );
        stats_line = stderr
            .lines()
            .find(|l| l.contains("requests"))
            .map(str::to_owned);
        runs.push(elapsed);
    }
    Ok(Measurement { runs, stats_line })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_needs_matching_metadata_and_size() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-test-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let data = dir.join("eval-bench.jsonl");
        let meta = dir.join("eval-bench.meta");
        fs::write(&data, "0123456789").expect("write data");
        let v = benchgen::FORMAT_VERSION;
        fs::write(
            &meta,
            format!("format={v} lines=2 bytes=10 max_policies_bytes=5\n"),
        )
        .expect("write meta");
        assert!(reusable(&data, &meta, 2).is_some());
        assert!(reusable(&data, &meta, 3).is_none());
        fs::write(&data, "012345678").expect("write data");
        assert!(reusable(&data, &meta, 2).is_none());
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
