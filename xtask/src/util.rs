//! Shared helpers: locating the workspace and the rule crates, building the `why403` binary,
//! and reading how busy the machine is.

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

/// The cargo profile to build `why403` with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Release,
    Debug,
}

impl Profile {
    /// The directory under the target directory that holds the profile's binaries.
    fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

/// Runs this xtask command again in a release build of xtask (`cargo xtask` builds the dev
/// profile, and a measurement there would time unoptimised code).
pub fn rerun_release(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("xtask: cargo run --release -p xtask -- {}", args.join(" "));
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(["run", "--quiet", "--release", "-p", "xtask", "--"])
        .args(args)
        .status()
        .with_context(|| format!("cannot run `{}`", cargo.to_string_lossy()))?;
    if !status.success() {
        bail!("the release run failed ({status})");
    }
    Ok(())
}

/// Runs `cargo build [--release] -p why403` and returns the path of the binary it produced
/// (read from cargo's JSON messages, so a custom target directory works too).
pub fn build_why403(root: &Path, profile: Profile) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let release: &[&str] = match profile {
        Profile::Release => &["--release"],
        Profile::Debug => &[],
    };
    let shown = if release.is_empty() { "" } else { " --release" };
    eprintln!("xtask: cargo build{shown} -p why403");
    let mut child = Command::new(&cargo)
        .current_dir(root)
        .arg("build")
        .args(release)
        .args([
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
        bail!("`cargo build{shown} -p why403` failed ({status})");
    }
    let exe = exe.unwrap_or_else(|| target_dir(root).join(profile.dir()).join("why403"));
    if !exe.is_file() {
        bail!("the build succeeded but `{}` does not exist", exe.display());
    }
    Ok(exe)
}

/// `crates/rules` under the workspace root.
pub fn rules_dir(root: &Path) -> PathBuf {
    root.join("crates").join("rules")
}

/// The bundle crate (`why403-rules`), which links every rule crate: `crates/bundle`.
pub fn bundle_dir(root: &Path) -> PathBuf {
    root.join("crates").join("bundle")
}

/// The bundle's manifest and library source, which name every rule crate.
pub fn bundle_files(root: &Path) -> (PathBuf, PathBuf) {
    let dir = bundle_dir(root);
    (dir.join("Cargo.toml"), dir.join("src").join("lib.rs"))
}

/// The rule crates: the directories under `crates/rules` that hold a `Cargo.toml`, sorted.
/// Their names are the rule ids.
pub fn rule_crates(root: &Path) -> anyhow::Result<Vec<String>> {
    let dir = rules_dir(root);
    let mut out = Vec::new();
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot list `{}`", dir.display()))?
    {
        let entry = entry.with_context(|| format!("cannot list `{}`", dir.display()))?;
        if entry.path().join("Cargo.toml").is_file() {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// The library name of a rule crate: `why403_rule_<id with underscores>`.
pub fn rule_lib_name(id: &str) -> String {
    format!("why403_rule_{}", id.replace('-', "_"))
}

/// The line of `crates/bundle/src/lib.rs` that links a rule crate.
pub fn bundle_use_line(id: &str) -> String {
    format!("use {} as _;", rule_lib_name(id))
}

/// The line of `crates/bundle/Cargo.toml` that depends on a rule crate.
pub fn bundle_dep_line(id: &str) -> String {
    format!("why403-rule-{id} = {{ path = \"../rules/{id}\" }}")
}

/// The lines of the `[dependencies]` table of `crates/bundle/Cargo.toml` that name a rule crate,
/// with their line numbers (0-based).
pub fn bundle_dep_lines(manifest: &str) -> Vec<(usize, &str)> {
    let mut in_deps = false;
    let mut out = Vec::new();
    for (i, line) in manifest.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_deps = t == "[dependencies]";
        } else if in_deps && t.starts_with("why403-rule-") {
            out.push((i, line));
        }
    }
    out
}

/// The `use why403_rule_...` lines of `crates/bundle/src/lib.rs` with their line numbers (0-based).
pub fn bundle_use_lines(lib: &str) -> Vec<(usize, &str)> {
    lib.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("use why403_rule_"))
        .collect()
}

/// The path of `path` relative to `root`, with `/` separators, for messages.
pub fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
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

/// Reads `path` (a file, or every file under a folder) once, so every timed run starts from
/// the page cache.
pub fn warm_page_cache(path: &Path) -> anyhow::Result<()> {
    use std::io::Read as _;
    let mut buf = vec![0u8; 1 << 20];
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for entry in
                std::fs::read_dir(&p).with_context(|| format!("cannot list `{}`", p.display()))?
            {
                stack.push(
                    entry
                        .with_context(|| format!("cannot list `{}`", p.display()))?
                        .path(),
                );
            }
            continue;
        }
        let mut f =
            std::fs::File::open(&p).with_context(|| format!("cannot open `{}`", p.display()))?;
        while f
            .read(&mut buf)
            .with_context(|| format!("reading `{}`", p.display()))?
            > 0
        {}
    }
    Ok(())
}

/// The `VmHWM` (peak resident set, kB) of a `/proc/PID/status` text.
pub fn vm_hwm_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
