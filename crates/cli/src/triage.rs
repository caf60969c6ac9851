//! `why403 triage`: reads CloudTrail events and S3 server access logs (files, folders, standard
//! input; gzip or not), groups the refused uploads, diagnoses each group (live, from scenario
//! files, or from the records alone) and prints a table, JSON Lines or an HTML page. Exit code:
//! 0 when nothing unsuppressed remains and nothing was skipped; 2 when refusals remain; 4 when
//! input was skipped; 6 for both.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use why403_core::Source as _;
use why403_core::evidence::Evidence;
use why403_core::rule::Registry;
use why403_core::upload::UploadRequest;
use why403_fixtures_source::ScenarioFile;
use why403_triage::{Basis, Caller, Group, Input, Options, Outcome, Progress, Report, Row};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Log files or folders (read recursively): CloudTrail log files (`.json`, `.json.gz`),
    /// `lookup-events` output, CloudTrail Lake results, EventBridge events, S3 server access
    /// logs; `-` (or nothing, when standard input is not a terminal) reads standard input.
    #[arg(value_name = "PATH")]
    inputs: Vec<PathBuf>,
    /// Diagnose each group from the scenario files (`why403 capture` output) in this folder,
    /// matched by bucket and caller.
    #[arg(long, value_name = "DIR", conflicts_with = "live")]
    scenarios: Option<PathBuf>,
    /// Diagnose each group from evidence read live from AWS (read-only calls; each bucket,
    /// principal, key and organization read once for all groups).
    #[arg(long)]
    live: bool,
    /// (`--stats` also prints what was read and how fast, and the peak memory.)
    #[command(flatten)]
    live_args: crate::live::LiveArgs,
    /// How many groups to read live at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    concurrency: usize,
    /// Refusals you expect (see docs/triage.md#suppress-file): matching groups are counted as
    /// suppressed, not shown.
    #[arg(long, value_name = "FILE")]
    suppress: Option<PathBuf>,
    /// How many folders of the key make a group's prefix.
    #[arg(long, value_name = "N", default_value_t = 1)]
    prefix_depth: usize,
    /// Threads reading input (one file per thread) [default: the number of cores].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// `table` for people, `jsonl` for programs (one line per group, schema
    /// `why403.triage/v1`), `html` for a browser.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Jsonl,
    Html,
}

/// Unsuppressed refusals remain.
const REFUSALS: u8 = 2;
/// Some input was skipped.
const SKIPPED: u8 = 4;

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(flag) = args.live_args.first_given_per_upload() {
        bail!(
            "`{flag}` describes one upload; triage takes each group's caller, headers and calls from its records"
        );
    }
    if !args.live
        && let Some(flag) = args.live_args.first_given()
        && flag != "--stats"
    {
        bail!("`{flag}` is for reading from AWS: add `--live`");
    }
    let suppressions = match &args.suppress {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read `{}`", p.display()))?;
            why403_triage::parse_suppress(&text)
                .map_err(|e| anyhow::anyhow!("{}:{e}", p.display()))?
        }
        None => Vec::new(),
    };
    let registry = why403_rules::registry();
    let scenarios = match &args.scenarios {
        Some(dir) => Some(Scenarios::read(dir)?),
        None => None,
    };
    let inputs = inputs(args)?;
    let (files, mut problems) = why403_triage::expand(&inputs);
    let opts = Options {
        prefix_depth: args.prefix_depth,
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let progress = Progress::default();
    let start = Instant::now();
    let triage = {
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            let show = io::stderr().is_terminal();
            if show {
                s.spawn(|| progress_line(&progress, &done));
            }
            let t = why403_triage::read_all(&files, &opts, threads, &progress);
            done.store(true, Ordering::Relaxed);
            t
        })
    };
    let read_time = start.elapsed();
    let (groups, mut counts, mut skipped) = triage.finish();
    // Paths that could not be listed are skipped input too.
    counts.skipped += problems.len() as u64;
    problems.append(&mut skipped);
    if args.live_args.stats() {
        print_read_stats(&counts, groups.len(), read_time);
    }

    let outcomes: Vec<Outcome> = if args.live {
        crate::live::triage(
            &groups,
            &args.live_args,
            args.concurrency,
            args.live_args.stats(),
            &registry,
        )?
    } else {
        groups
            .iter()
            .map(|g| match &scenarios {
                Some(sc) if why403_triage::diagnosable(g) => sc.diagnose(g, &registry),
                _ => why403_triage::explain(g, &registry, None),
            })
            .collect()
    };
    let rows: Vec<Row> = groups
        .into_iter()
        .zip(outcomes)
        .map(|(group, outcome)| {
            let suppressed = suppressions
                .iter()
                .find(|s| {
                    let settled = outcome.basis != Basis::Records || outcome.causes.len() == 1;
                    s.matches(&group, &outcome.causes, settled)
                })
                .cloned();
            Row {
                group,
                outcome,
                suppressed,
            }
        })
        .collect();
    let report = Report {
        rows,
        counts,
        problems,
    };
    let text = match args.format {
        Format::Table => why403_triage::table(&report),
        Format::Jsonl => why403_triage::jsonl(&report),
        Format::Html => why403_triage::html(&report),
    };
    if args.format != Format::Table
        && let Some(w) = why403_triage::no_data_events(&report.counts)
    {
        eprintln!("why403: warning: {w}");
    }
    if args.format != Format::Table && !report.problems.is_empty() {
        // The table lists them; other formats keep standard output for the program.
        let mut err = io::stderr().lock();
        for p in report.problems.iter().take(20) {
            let _ = writeln!(
                err,
                "why403: skipped {}: {}",
                why403_core::render::escape(&p.place),
                why403_core::render::escape(&p.what)
            );
        }
        if report.counts.skipped > 20 {
            let _ = writeln!(
                err,
                "why403: ... and {} more skipped",
                report.counts.skipped - 20
            );
        }
    }
    crate::output::print(&text)?;
    let mut code = 0;
    if report.open().next().is_some() {
        code |= REFUSALS;
    }
    if report.counts.skipped > 0 {
        code |= SKIPPED;
    }
    Ok(ExitCode::from(code))
}

fn inputs(args: &Args) -> anyhow::Result<Vec<Input>> {
    if args.inputs.is_empty() {
        if io::stdin().is_terminal() {
            bail!(
                "no logs to triage: give files or folders (CloudTrail logs, S3 server access logs), or pipe them in"
            );
        }
        return Ok(vec![Input::Stdin]);
    }
    Ok(args
        .inputs
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                Input::Stdin
            } else {
                Input::Path(p.clone())
            }
        })
        .collect())
}

fn progress_line(p: &Progress, done: &AtomicBool) {
    let mut shown = false;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        if done.load(Ordering::Relaxed) {
            break;
        }
        let mut err = io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2Kreading: {} records, {:.1} MB, {} files, {} groups",
            p.records.load(Ordering::Relaxed),
            p.bytes.load(Ordering::Relaxed) as f64 / 1e6,
            p.files.load(Ordering::Relaxed),
            p.groups.load(Ordering::Relaxed)
        );
        let _ = err.flush();
        shown = true;
    }
    if shown {
        let mut err = io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

fn print_read_stats(c: &why403_triage::Counts, groups: usize, t: Duration) {
    let secs = t.as_secs_f64().max(1e-9);
    let peak = peak_memory_mb().map_or_else(|| "unknown".to_owned(), |m| format!("{m:.1}"));
    eprintln!(
        "triage: read {} records ({} bytes) in {:.2} s: {:.0} records/s, {:.1} MB/s; {} selected in {} groups; {} skipped; peak memory {} MB",
        c.records,
        c.bytes,
        secs,
        c.records as f64 / secs,
        c.bytes as f64 / 1e6 / secs,
        c.selected,
        groups,
        c.skipped,
        peak
    );
}

/// The process's peak resident memory (Linux: `VmHWM` of /proc/self/status).
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Scenario files by bucket, with their caller.
struct Scenarios {
    by_bucket: BTreeMap<String, Vec<Scenario>>,
    dir: PathBuf,
}

struct Scenario {
    name: String,
    principal: Option<String>,
    evidence: Evidence,
}

impl Scenarios {
    fn read(dir: &Path) -> anyhow::Result<Scenarios> {
        let mut by_bucket: BTreeMap<String, Vec<Scenario>> = BTreeMap::new();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot list `{}`", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        entries.sort();
        for path in entries {
            let (request, evidence): (UploadRequest, Evidence) = ScenarioFile::new(&path)
                .read()
                .with_context(|| format!("cannot read scenario `{}`", path.display()))?;
            let principal = request
                .principal
                .clone()
                .or_else(|| evidence.caller.get().map(|c| c.arn.clone()));
            by_bucket
                .entry(request.bucket.clone())
                .or_default()
                .push(Scenario {
                    name: path
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                    principal,
                    evidence,
                });
        }
        if by_bucket.is_empty() {
            bail!("no scenario files (`*.json`) in `{}`", dir.display());
        }
        Ok(Scenarios {
            by_bucket,
            dir: dir.to_owned(),
        })
    }

    /// The scenario of the group's bucket and caller: the same session first, else another
    /// session of the same role (its policies are the role's).
    fn find(&self, g: &Group) -> Option<&Scenario> {
        let list = self.by_bucket.get(&g.key.bucket)?;
        let arn = g.latest.caller.arn.as_deref();
        list.iter()
            .find(|s| s.principal.is_some() && s.principal.as_deref() == arn)
            .or_else(|| {
                list.iter().find(|s| {
                    s.principal.as_ref().is_some_and(|p| {
                        Caller {
                            arn: Some(p.clone()),
                            ..Caller::default()
                        }
                        .group_key()
                            == g.key.caller
                    })
                })
            })
    }

    fn diagnose(&self, g: &Group, registry: &Registry) -> Outcome {
        match self.find(g) {
            Some(s) => why403_triage::diagnose(
                g,
                s.evidence.clone(),
                Basis::Scenario(s.name.clone()),
                registry,
            ),
            None => {
                let why = format!(
                    "no scenario in `{}` is of bucket `{}` and caller `{}`: explained from the records alone",
                    self.dir.display(),
                    g.key.bucket,
                    g.key.caller
                );
                why403_triage::explain(g, registry, Some(why))
            }
        }
    }
}
