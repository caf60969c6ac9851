//! `why403 eval`: evaluates authorization requests given as JSON Lines, one decision per line.

use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use why403_policy::batch::{MAX_LINE_BYTES, MAX_THREADS, StreamError, eval_stream};

#[derive(Debug, clap::Args)]
#[command(after_help = format!(
    "Limits: a line is at most {} MiB (one request and its policies; a longer line stops the run \
     after the lines before it); at most {MAX_THREADS} threads. See docs/eval-format.md.",
    MAX_LINE_BYTES >> 20
))]
pub(crate) struct Args {
    /// The input file; `-` or nothing reads standard input.
    file: Option<PathBuf>,
    /// Worker threads, 1 to 64 (default: all cores, at most 64).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=MAX_THREADS as i64))]
    threads: Option<u16>,
    /// Print counts (lines, errors, distinct policy sets) to standard error at the end.
    #[arg(long)]
    stats: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (input, name): (Box<dyn Read + Send>, String) = match &args.file {
        Some(p) if p.as_os_str() != "-" => (
            Box::new(File::open(p).with_context(|| format!("cannot open `{}`", p.display()))?),
            format!("`{}`", p.display()),
        ),
        _ => (Box::new(io::stdin()), "standard input".to_owned()),
    };
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let out = BufWriter::with_capacity(1 << 20, io::stdout());
    let s = match eval_stream(input, out, threads) {
        Ok(s) => s,
        Err(StreamError::Write(e)) => {
            // The reader went away (`| head`): done; a full disk is an error.
            crate::output::written(Err(e))?;
            return Ok(ExitCode::SUCCESS);
        }
        Err(StreamError::Read(e)) => return Err(e).context(format!("cannot read {name}")),
        Err(e @ StreamError::LineTooLong { .. }) => return Err(e).context(format!("in {name}")),
        Err(e) => return Err(e).context("while evaluating"),
    };
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
