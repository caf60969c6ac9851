//! Shared helpers: locating the workspace and building the release `why403` binary.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .with_context(|| format!("`{}` has no parent directory", manifest.display()))
}

/// The directory cargo builds into (honours `CARGO_TARGET_DIR`).
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => root.join(d),
        _ => root.join("target"),
    }
}

/// Runs `cargo build --release -p why403` and returns the path of the binary it produced
/// (read from cargo's JSON messages, so a custom target directory works too).
pub fn build_why403(root: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("xtask: cargo build --release -p why403");
    let mut child = Command::new(&cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "-p",
            "why403",
            "--bin",
            "why403",
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run `{}`", cargo.to_string_lossy()))?;
    let stdout = child
        .stdout
        .take()
        .context("cargo's stdout was not captured")?;
    let mut exe = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if msg["reason"] == "compiler-artifact"
            && msg["target"]["name"] == "why403"
            && let Some(path) = msg["executable"].as_str()
        {
            exe = Some(PathBuf::from(path));
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("`cargo build --release -p why403` failed ({status})");
    }
    let exe = exe.unwrap_or_else(|| target_dir(root).join("release").join("why403"));
    if !exe.is_file() {
        bail!("the build succeeded but `{}` does not exist", exe.display());
    }
    Ok(exe)
}

/// How many compiler processes (rustc, C compilers, linkers) are running, so noisy timings
/// can be flagged. Cargo itself is not counted: it is our parent.
pub fn busy_compilers() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .filter(|comm| {
            matches!(
                comm.trim(),
                "rustc" | "cc1" | "cc1plus" | "ld" | "ld.lld" | "mold"
            )
        })
        .count()
}

/// The 1-minute load average, if the system reports it.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Aggregate CPU time counters from `/proc/stat` (clock ticks): all, and stolen by the
/// hypervisor for other guests.
#[derive(Debug, Clone, Copy)]
pub struct CpuTicks {
    pub total: u64,
    pub steal: u64,
}

impl CpuTicks {
    pub fn now() -> Option<CpuTicks> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        Some(CpuTicks {
            // user nice system idle iowait irq softirq steal (guest time is inside user).
            total: fields.iter().take(8).sum(),
            steal: *fields.get(7)?,
        })
    }

    /// Percentage of CPU time stolen between `self` and `later`.
    pub fn steal_percent(self, later: CpuTicks) -> f64 {
        let total = later.total.saturating_sub(self.total);
        100.0 * later.steal.saturating_sub(self.steal) as f64 / total.max(1) as f64
    }
}
