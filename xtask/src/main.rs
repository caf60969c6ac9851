//! `cargo xtask`: project automation (peer conformance replay, end-to-end throughput bench).

mod bench;
mod benchgen;
mod conformance;
mod util;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  conformance [FILE] [--min N]
      Build why403 (release), replay FILE (default: <root>/../shared/conformance/
      peer-requests.jsonl) through `why403 eval`, compare every decision with the record's
      `expected`, print `agreement: N/M` and each disagreement. Exits 1 only if it cannot run,
      or if --min N is given and fewer than N records agree.

  bench [--lines N] [--keep]
      Generate N (default 200000) request lines of about 5 KB into
      target/bench/eval-bench.jsonl (reused if it exists with the same N), build why403
      (release), time `why403 eval FILE --stats` three times with all cores and three times with
      --threads 1, and print requests/s and MB/s. The file is deleted afterwards unless --keep.
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
