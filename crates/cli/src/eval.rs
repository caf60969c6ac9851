//! `why403 eval`: evaluates authorization requests given as JSON Lines, one decision per line.

use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The input file; `-` or nothing reads standard input.
    file: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Print counts (lines, errors, distinct policy sets) to standard error at the end.
    #[arg(long)]
    stats: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let input: Box<dyn Read + Send> = match &args.file {
        None => Box::new(io::stdin()),
        Some(p) if p.as_os_str() == "-" => Box::new(io::stdin()),
        Some(p) => {
            Box::new(File::open(p).with_context(|| format!("cannot open `{}`", p.display()))?)
        }
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let out = BufWriter::with_capacity(1 << 20, io::stdout());
    let s = why403_core::batch::eval_stream(input, out, threads).context("while evaluating")?;
    if args.stats {
        eprintln!(
            "why403 eval: {} requests, {} errors, {} distinct policy sets compiled",
            s.lines, s.errors, s.cache_misses
        );
    }
    Ok(if s.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
