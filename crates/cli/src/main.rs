//! The `why403` command line: parses arguments, picks a source and a renderer, nothing more.

use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// Tells you exactly why an upload to Amazon S3 was refused, and what to change.
#[derive(Debug, Parser)]
#[command(name = "why403", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate authorization requests given as JSON Lines (one request with its policies per
    /// line) and print one decision per line, in input order.
    Eval {
        /// The input file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Print counts (lines, errors, distinct policy sets) to standard error at the end.
        #[arg(long)]
        stats: bool,
    },
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("why403: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Eval { file, threads, stats } => {
            let input: Box<dyn Read> = match &file {
                None => Box::new(io::stdin().lock()),
                Some(p) if p.as_os_str() == "-" => Box::new(io::stdin().lock()),
                Some(p) => Box::new(File::open(p).with_context(|| format!("cannot open `{}`", p.display()))?),
            };
            let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
            let s = why403_core::batch::eval_stream(input, out, threads).context("while evaluating")?;
            if stats {
                eprintln!(
                    "why403 eval: {} requests, {} errors, {} distinct policy sets compiled",
                    s.lines, s.errors, s.cache_misses
                );
            }
            Ok(if s.errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}
