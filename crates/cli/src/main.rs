//! The `why403` command line: parses arguments and dispatches to one module per subcommand.

mod capture;
mod diagnose;
mod eval;
mod explain;
mod input;
mod live;
mod output;
mod rules;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

// `why403 eval` allocates many small strings per line; mimalloc makes that markedly cheaper
// than the system allocator (see `cargo xtask bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `why403 --version`: the version and the commit it was built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("WHY403_COMMIT"), ")");

/// Tells you exactly why an upload to Amazon S3 was refused, and what to change.
#[derive(Debug, Parser)]
#[command(
    name = "why403",
    version = VERSION,
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
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `why403 man > why403.1`.
    Man,
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
        Command::Completions { shell } => {
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "why403", &mut text);
            output::print_bytes(&text).map(|()| ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut text = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut text)
                .map_err(anyhow::Error::from)
                .and_then(|()| output::print_bytes(&text))
                .map(|()| ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("why403: error: {}", message(&e));
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
