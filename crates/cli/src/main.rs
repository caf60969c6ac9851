//! The `why403` command line: parses arguments and dispatches to one module per subcommand.

mod capture;
mod diagnose;
mod eval;
mod explain;
mod live;
mod rules;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use why403_core::render::escape;

// `why403 eval` allocates many small strings per line; mimalloc makes that markedly cheaper
// than the system allocator (see `cargo xtask bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tells you exactly why an upload to Amazon S3 was refused, and what to change.
#[derive(Debug, Parser)]
#[command(
    name = "why403",
    version,
    about,
    after_help = "Exit codes: 0 allowed, 1 error in why403 or its input, 2 denied, 3 indeterminate \
                  (evidence that could not be read decides)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate authorization requests given as JSON Lines (one request with its policies per
    /// line) and print one decision per line, in input order.
    Eval(eval::Args),
    /// Diagnose an upload, read live from AWS (`s3://bucket/key`) or from a scenario file: the
    /// verdict, the cause in its source, and a verified fix.
    Diagnose(diagnose::Args),
    /// Read the evidence about an upload from AWS and write it as a scenario file.
    Capture(capture::Args),
    /// Explain a pasted AWS error: what it proves, which rules it points to, the next step.
    Explain(explain::Args),
    /// List the rules, or print one rule's documentation.
    Rules(rules::Args),
}

fn main() -> ExitCode {
    // Usage errors exit with 1, like every other error: clap's own 2 means "denied" here.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Eval(args) => eval::run(&args),
        Command::Diagnose(args) => diagnose::run(&args),
        Command::Capture(args) => capture::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Rules(args) => rules::run(&args),
    };
    result.unwrap_or_else(|e| {
        // File names, header values and the like in the message come from the input.
        eprintln!("why403: error: {}", escape(&message(&e)));
        ExitCode::from(1)
    })
}

/// The error and its causes on one line, leaving out a cause its parent already quotes.
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}
