//! The `why403` command line as a library: parses arguments and dispatches to one module per
//! subcommand. The `why403` binary is [`main`]; an organization's binary links its own rule
//! crates and calls [`App::run`] with its name and version:
//!
//! ```no_run
//! // use acme_why403_rules as _;   // links the organization's rules into the registry
//! fn main() -> std::process::ExitCode {
//!     why403::App::new("acme-why403", "1.0.0 (acme rules)").run()
//! }
//! ```
//!
//! Every subcommand (`diagnose`, `explain`, `rules`, `capture`, `eval`) then sees the built-in
//! rules and the organization's, each under its scope.
//!
//! The cargo feature `live` (on by default) links the live source, which reads from AWS through
//! the AWS SDK: `diagnose s3://BUCKET/KEY` and `capture`. Without it no AWS SDK is built, and
//! those commands say that the build has no live source (exit code 1, as for usage errors).

#![warn(missing_docs, unreachable_pub)]

mod capture;
mod diagnose;
mod eval;
mod explain;
mod input;
mod live;
mod mcp;
mod output;
mod rules;
mod serve;
mod triage;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use why403_core::render::escape;

/// `why403 --version`: the version and the commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("WHY403_COMMIT"), ")");

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
    #[command(hide = !live::ENABLED)]
    Capture(capture::Args),
    /// Explain a pasted AWS error: what it proves, which rules it points to, the next step.
    Explain(explain::Args),
    /// Triage many refusals at once: read CloudTrail events or S3 server access logs, group
    /// the refused uploads by caller, bucket, prefix and cause, and diagnose each group.
    Triage(triage::Args),
    /// List the rules, or print one rule's documentation.
    Rules(rules::Args),
    /// A local web app: paste an error, drop a scenario, edit it and see the diagnosis
    /// change. Listens on 127.0.0.1 and prints the URL with its secret token.
    #[command(hide = !serve::ENABLED)]
    Serve(serve::Args),
    /// A Model Context Protocol server on standard input and output, for AI assistants: tools
    /// to explain an error, diagnose a scenario (or, with `--allow-live`, an upload read from
    /// AWS), evaluate a request and read the rules (see docs/mcp.md).
    #[command(hide = !mcp::ENABLED)]
    Mcp(mcp::Args),
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `why403 man > why403.1`.
    Man,
}

/// The `why403` binary.
pub fn main() -> ExitCode {
    App::new("why403", VERSION).run()
}

/// A `why403` command line under another name and version, with every rule linked into the
/// program (the built-in rules and those of the crates the binary links).
#[derive(Debug, Clone, Copy)]
pub struct App {
    name: &'static str,
    version: &'static str,
}

impl App {
    /// The command line named `name` (in usage, completions and the manual) whose
    /// `--version` prints `version`.
    pub fn new(name: &'static str, version: &'static str) -> App {
        App { name, version }
    }

    /// Parses the process's arguments and runs the subcommand; the exit code follows
    /// `why403`'s (0 allowed, 1 error, 2 denied, 3 indeterminate).
    pub fn run(self) -> ExitCode {
        // Usage errors exit with 1, like every other error: clap's own 2 means "denied" here.
        let cli = match self
            .command()
            .try_get_matches()
            .and_then(|m| Cli::from_arg_matches(&m))
        {
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
        if let Err(e) = why403_core::rule::Registry::linked() {
            eprintln!("{}: error: {e}", self.name);
            return ExitCode::from(1);
        }
        let result = match cli.command {
            Command::Eval(args) => eval::run(&args),
            Command::Diagnose(args) => diagnose::run(&args),
            Command::Capture(args) => capture::run(&args),
            Command::Explain(args) => explain::run(&args),
            Command::Triage(args) => triage::run(&args),
            Command::Rules(args) => rules::run(&args),
            Command::Serve(args) => serve::run(&args),
            Command::Mcp(args) => mcp::run(&args, self.name, self.version),
            Command::Completions { shell } => {
                let mut text = Vec::new();
                clap_complete::generate(shell, &mut self.command(), self.name, &mut text);
                output::print_bytes(&text).map(|()| ExitCode::SUCCESS)
            }
            Command::Man => {
                let mut text = Vec::new();
                clap_mangen::Man::new(self.command())
                    .render(&mut text)
                    .map_err(anyhow::Error::from)
                    .and_then(|()| output::print_bytes(&text))
                    .map(|()| ExitCode::SUCCESS)
            }
        };
        result.unwrap_or_else(|e| {
            // File names, header values and the like in the message come from the input.
            eprintln!("{}: error: {}", self.name, escape(&message(&e)));
            ExitCode::from(1)
        })
    }

    /// The clap command under this name and version.
    fn command(self) -> clap::Command {
        Cli::command()
            .name(self.name)
            .bin_name(self.name)
            .version(self.version)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_binary_has_its_own_name_and_version() {
        let app = App::new("acme-why403", "9.9.9 (acme rules)");
        let mut cmd = app.command();
        assert_eq!(cmd.get_name(), "acme-why403");
        assert_eq!(
            cmd.render_version().trim(),
            "acme-why403 9.9.9 (acme rules)"
        );
        let mut completions = Vec::new();
        clap_complete::generate(
            clap_complete::Shell::Bash,
            &mut cmd,
            "acme-why403",
            &mut completions,
        );
        assert!(String::from_utf8_lossy(&completions).contains("acme-why403"));
        // The subcommands are the same.
        let cmd = app.command();
        let subs: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        for s in [
            "eval",
            "diagnose",
            "capture",
            "explain",
            "triage",
            "rules",
            "serve",
            "mcp",
            "completions",
            "man",
        ] {
            assert!(subs.contains(&s), "{subs:?}");
        }
    }
}
