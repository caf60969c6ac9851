//! `cargo xtask`: project automation: scaffolding and documenting rules, the filesystem
//! conventions check, peer conformance replay and benchmarks.

mod bench;
mod benchdiag;
mod benchgen;
mod benchlimits;
mod benchlive;
mod benchtriage;
mod benchweb;
mod check;
mod conformance;
mod differential;
mod diffgen;
mod docs;
mod newrule;
mod util;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  new-rule ID [--layer LAYER] [--summary TEXT] [--scope SCOPE --into DIR]
      Scaffold the rule crate crates/rules/ID (docs with a FIXME in every required section,
      an empty check(), one fires and one clear case stub) and link it into the bundle
      (crates/bundle/Cargo.toml and src/lib.rs, kept sorted). ID is kebab-case, at most 48
      characters, and names the cause as found, not the fix. LAYER defaults from the id's
      prefix (`bucket-policy-...` -> bucket-policy, `scp-...` -> organizations, ...).
      With --scope SCOPE --into DIR: a rule of your own in scope SCOPE, as a crate in the new
      folder DIR outside this repository (path dependencies on this checkout, its cases run
      by why403's test kit); nothing here is changed.

  docs [--check]
      Generate docs/rules/<id>.md and docs/rules/README.md from the rules' doc comments.
      With --check, write nothing; list stale, missing and extra files and exit 1 if any.

  check
      Filesystem conventions: every rule crate has >= 3 fires and >= 2 clear cases, one
      snapshot per fires case and no orphan or unreviewed snapshot (the cases run in
      crates/bundle/tests/cases.rs); the bundle links every rule crate, sorted; every .rs file under
      crates/ and xtask/ starts with `//!`. Prints each problem with its path; exits 1 if any.

  bench-diagnose [--runs N] [--iterations M] [--debug]
      Build why403 (release; --debug for the dev profile) and report the mean CPU time
      (user+sys) of `why403 diagnose --scenario FILE` over N (default 50) runs for each
      examples/scenarios/*.json, against the 10 ms target; then time load + diagnose in
      process (a release build of xtask) over M (default 500) iterations.

  conformance [FILE] [--min N]
      Build why403 (release), replay FILE through `why403 eval`, compare every decision with
      the record's `expected`, print `agreement: N/M` and each disagreement. Without FILE:
      the repository's corpus (tests/conformance/cases.jsonl), which must agree entirely, then
      the peer engine's corpus when it is next to the checkout. Exits 1 if it cannot run, if
      the repository's corpus disagrees, or if --min N is given and fewer than N records of
      the last corpus agree.

  differential [--cases N] [--seed S] [--start I] [--debug] [--strict] [--replay FILE]
      Differential testing of the policy evaluator: generate N (default 10000) random
      authorization requests with their policies (seed S, default 1; case indices from I,
      default 0, so a long run can go in batches), run them through `why403 eval` (release;
      --debug for the dev profile) and through the peer engine @cloud-copilot/iam-simulate
      (installed with npm into target/peer/, run by node), minimise a sample of the
      disagreements and group them into classes. Writes target/differential/report.md,
      minimised.jsonl (one minimised case per class) and disagreements.jsonl. With --strict,
      exits 1 when a class is not triaged in docs/conformance.md. With --replay FILE, the
      cases of FILE (a run's disagreements.jsonl) instead of generated ones.

  bench-web [--runs N]
      Build why403 (release), start `why403 serve`, and report the page's size (target under
      150 KB) and the what-if round trip (an edited scenario sent, the diagnosis, text and
      HTML report received) over N (default 50) runs for each examples/scenarios/*.json,
      against the 20 ms target. Exits 1 if a target is missed.

  bench-limits
      Hostile input at the limits (docs/eval-format.md, docs/scenario-format.md): time and
      peak memory, each case in a process of its own (a release build of xtask), of `eval` on
      a 256 MB line, on /dev/zero, on 8 lines just under the line limit and on one holding an
      array in a policy, and of loading /dev/zero, a 200 MB file and an array just under the
      file limit as a scenario. Writes and deletes files under
      target/bench/limits.

  bench-live [--roles N,N,...] [--policies N] [--runs R] [--python PATH] [--no-moto]
      What a live diagnosis costs as the account grows. Builds why403 (release), starts a moto
      server of its own (tests/moto/scale.py; Python from --python, MOTO_PYTHON, .venv, then
      python3) with an account per size (default 10, 1000 and 10000 roles, and 3000 customer
      managed policies each) and moto's enforcement on, and reports the calls, rounds, calls of
      iam:GetAccountAuthorizationDetails and wall time of `why403 diagnose --stats` of a role's
      upload (median of R runs, default 5) by a reader allowed the targeted IAM reads and by one
      refused them (the fallback). Then the same against mocked SDK clients that answer every
      call in 40 ms and page the authorization details at 1000 entities, 1000 ms a page
      (crates/aws-source/examples/live_growth.rs, release). Exits 1 unless the targeted reads
      make the same calls in the same rounds (at most 4) at every size. --no-moto: the mocked
      part only.

  bench [--lines N] [--keep]
      Generate N (default 200000) request lines of about 5 KB into
      target/bench/eval-bench.jsonl (reused if it exists with the same N), build why403
      (release), time `why403 eval FILE --stats` three times with all cores and three times with
      --threads 1, and print requests/s and MB/s. The file is deleted afterwards unless --keep.

  bench-triage [--records N] [--gzip] [--keep] [--runs R] [--strict]
      Generate a day of N (default 1000000, about 1.9 GB) CloudTrail records into
      target/bench/triage as CloudTrail delivers them to S3 (AWSLogs/ACCOUNT/CloudTrail/REGION/
      2026/12/05/*.json, *.json.gz with --gzip; at most 1000 records a file; reused if there
      with the same N and mode): about 75% S3 data events that succeeded, 5% management events
      of other services, 20% refused uploads from 40 callers over 20 buckets, in a few hundred
      (caller, bucket, prefix, code) groups. Build why403 (release), run `why403 triage DIR
      --format jsonl --stats` R (default 3) times (output in target/bench/triage-out), and
      report the wall time, records/s, MB/s and peak memory (min, median, max) against the
      targets of issue 15 (15 s per 1000000 records, 300 MB), PASS or FAIL. Exits 1 on a FAIL
      only with --strict. The input and outputs are deleted afterwards unless --keep.
";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    let Some(cmd) = args.next() else {
        eprint!("{USAGE}");
        return Ok(ExitCode::from(2));
    };
    let rest: Vec<OsString> = args.collect();
    match cmd.to_str() {
        Some("conformance") => {
            let mut file = None;
            let mut min = None;
            let mut it = rest.into_iter();
            while let Some(a) = it.next() {
                match a.to_str() {
                    Some("--min") => min = Some(parse_number(it.next(), "--min")?),
                    Some("-h" | "--help") => return help(),
                    Some(s) if s.starts_with("--") => bail!("unknown option `{s}` for conformance"),
                    _ if file.is_none() => file = Some(PathBuf::from(a)),
                    _ => bail!(
                        "conformance takes one FILE, got a second: `{}`",
                        a.to_string_lossy()
                    ),
                }
            }
            conformance::run(file, min)
        }
        Some("differential") => {
            let mut opts = differential::Options {
                cases: 10_000,
                seed: 1,
                start: 0,
                debug: false,
                strict: false,
                replay: None,
            };
            let mut it = rest.into_iter();
            while let Some(a) = it.next() {
                match a.to_str() {
                    Some("--cases") => opts.cases = parse_number(it.next(), "--cases")?,
                    Some("--seed") => opts.seed = parse_number(it.next(), "--seed")?,
                    Some("--start") => opts.start = parse_number(it.next(), "--start")?,
                    Some("--debug") => opts.debug = true,
                    Some("--strict") => opts.strict = true,
                    Some("--replay") => {
                        opts.replay = Some(PathBuf::from(string(it.next(), "--replay FILE")?));
                    }
                    Some("-h" | "--help") => return help(),
                    _ => bail!(
                        "unknown argument `{}` for differential",
                        a.to_string_lossy()
                    ),
                }
            }
            differential::run(opts)
        }
        Some("bench") => {
            let mut lines = benchgen::DEFAULT_LINES;
            let mut keep = false;
            let mut it = rest.into_iter();
            while let Some(a) = it.next() {
                match a.to_str() {
                    Some("--lines") => lines = parse_number(it.next(), "--lines")?,
                    Some("--keep") => keep = true,
                    Some("-h" | "--help") => return help(),
                    _ => bail!("unknown argument `{}` for bench", a.to_string_lossy()),
                }
            }
            if lines == 0 {
                bail!("--lines must be at least 1");
            }
            bench::run(lines, keep)
        }
        Some("new-rule") => {
            let mut id = None;
            let mut layer = None;
            let mut summary = None;
            let mut scope = None;
            let mut into = None;
            let mut it = rest.into_iter();
            while let Some(a) = it.next() {
                match a.to_str() {
                    Some("--layer") => layer = Some(string(it.next(), "--layer")?),
                    Some("--summary") => summary = Some(string(it.next(), "--summary")?),
                    Some("--scope") => scope = Some(string(it.next(), "--scope")?),
                    Some("--into") => into = Some(PathBuf::from(string(it.next(), "--into")?)),
                    Some("-h" | "--help") => return help(),
                    Some(s) if s.starts_with('-') => bail!("unknown option `{s}` for new-rule"),
                    _ if id.is_none() => id = Some(string(Some(a), "ID")?),
                    _ => bail!(
                        "new-rule takes one ID, got a second: `{}`",
                        a.to_string_lossy()
                    ),
                }
            }
            let id = id.context(
                "new-rule needs an ID, e.g. `cargo xtask new-rule bucket-policy-explicit-deny`",
            )?;
            newrule::run(&newrule::Options {
                id,
                layer,
                summary,
                scope,
                into,
            })
        }
        Some("docs") => {
            let mut check = false;
            for a in rest {
                match a.to_str() {
                    Some("--check") => check = true,
                    Some("-h" | "--help") => return help(),
                    _ => bail!("unknown argument `{}` for docs", a.to_string_lossy()),
                }
            }
            docs::run(check)
        }
        Some("check") => {
            if let Some(a) = rest.first() {
                if a == "-h" || a == "--help" {
                    return help();
                }
                bail!("check takes no arguments, got `{}`", a.to_string_lossy());
            }
            check::run()
        }
        Some("bench-diagnose") => {
            let mut opts = benchdiag::Options {
                runs: 50,
                iterations: 500,
                debug: false,
                in_process_only: false,
            };
            let mut it = rest.into_iter();
            while let Some(a) = it.next() {
                match a.to_str() {
                    Some("--runs") => opts.runs = parse_number(it.next(), "--runs")?,
                    Some("--iterations") => {
                        opts.iterations = parse_number(it.next(), "--iterations")?;
                    }
                    Some("--debug") => opts.debug = true,
                    // Used by bench-diagnose itself to re-run in a release build of xtask.
                    Some("--in-process-only") => opts.in_process_only = true,
                    Some("-h" | "--help") => return help(),
                    _ => bail!(
                        "unknown argument `{}` for bench-diagnose",
                        a.to_string_lossy()
                    ),
                }
            }
            if opts.runs == 0 || opts.iterations == 0 {
                bail!("--runs and --iterations must be at least 1");
            }
            benchdiag::run(&opts)
        }
        Some("bench-web") => {
            let mut runs = 50;
            let mut it = rest.into_iter();
            while let Some(a) = it.next() {
                match a.to_str() {
                    Some("--runs") => runs = parse_number(it.next(), "--runs")?.max(1) as usize,
                    Some("-h" | "--help") => return help(),
                    _ => bail!("unknown argument `{}` for bench-web", a.to_string_lossy()),
                }
            }
            benchweb::run(runs)
        }
        Some("bench-limits") => {
            let mut case = None;
            let mut it = rest.into_iter();
            while let Some(a) = it.next() {
                match a.to_str() {
                    // Used by bench-limits itself to run each case in a process of its own.
                    Some("--case") => case = Some(string(it.next(), "--case")?),
                    Some("-h" | "--help") => return help(),
                    _ => bail!(
                        "unknown argument `{}` for bench-limits",
                        a.to_string_lossy()
                    ),
                }
            }
            benchlimits::run(case.as_deref())
        }
        Some("bench-live") => {
            let mut opts = benchlive::Options::default();
            let mut it = rest.into_iter();
            while let Some(a) = it.next() {
                match a.to_str() {
                    Some("--roles") => {
                        opts.roles = string(it.next(), "--roles")?
                            .split(',')
                            .map(|n| {
                                n.replace('_', "").parse().with_context(|| {
                                    format!("--roles: `{n}` is not a non-negative integer")
                                })
                            })
                            .collect::<anyhow::Result<_>>()?;
                    }
                    Some("--policies") => {
                        opts.policies = usize::try_from(parse_number(it.next(), "--policies")?)?;
                    }
                    Some("--runs") => {
                        opts.runs = usize::try_from(parse_number(it.next(), "--runs")?)?;
                    }
                    Some("--python") => {
                        opts.python = Some(PathBuf::from(string(it.next(), "--python")?));
                    }
                    Some("--no-moto") => opts.no_moto = true,
                    Some("-h" | "--help") => return help(),
                    _ => bail!("unknown argument `{}` for bench-live", a.to_string_lossy()),
                }
            }
            benchlive::run(&opts)
        }
        Some("bench-triage") => {
            let mut opts = benchtriage::Options {
                records: benchtriage::DEFAULT_RECORDS,
                gzip: false,
                keep: false,
                runs: benchtriage::DEFAULT_RUNS,
                strict: false,
            };
            let mut it = rest.into_iter();
            while let Some(a) = it.next() {
                match a.to_str() {
                    Some("--records") => opts.records = parse_number(it.next(), "--records")?,
                    Some("--runs") => {
                        opts.runs = usize::try_from(parse_number(it.next(), "--runs")?)
                            .context("--runs is too large")?;
                    }
                    Some("--gzip") => opts.gzip = true,
                    Some("--keep") => opts.keep = true,
                    Some("--strict") => opts.strict = true,
                    Some("-h" | "--help") => return help(),
                    _ => bail!(
                        "unknown argument `{}` for bench-triage",
                        a.to_string_lossy()
                    ),
                }
            }
            if opts.records == 0 || opts.runs == 0 {
                bail!("--records and --runs must be at least 1");
            }
            benchtriage::run(&opts)
        }
        Some("-h" | "--help" | "help") => help(),
        _ => {
            eprint!("{USAGE}");
            bail!("unknown command `{}`", cmd.to_string_lossy())
        }
    }
}

fn help() -> anyhow::Result<ExitCode> {
    print!("{USAGE}");
    Ok(ExitCode::SUCCESS)
}

fn parse_number(v: Option<OsString>, flag: &str) -> anyhow::Result<u64> {
    let v = v.with_context(|| format!("{flag} needs a number"))?;
    let s = v.to_string_lossy();
    s.replace('_', "")
        .parse()
        .with_context(|| format!("{flag}: `{s}` is not a non-negative integer"))
}

fn string(v: Option<OsString>, what: &str) -> anyhow::Result<String> {
    let v = v.with_context(|| format!("{what} needs a value"))?;
    v.into_string()
        .map_err(|v| anyhow::anyhow!("{what}: `{}` is not UTF-8", v.to_string_lossy()))
}
