//! `why403 mcp`: a Model Context Protocol server over standard input and output, so that an AI
//! assistant (in an editor or a terminal) can ask why403 instead of guessing from the message
//! text. It is a front-end like the command line and the web app: each tool gives what the
//! matching command gives (`diagnose --format json`, `explain --format json`, `eval`,
//! `rules`), plus a short summary for people.
//!
//! Standard output is the protocol; the server writes its log to standard error only. Reading
//! live from AWS (`diagnose_live`) is offered only when the server was started with
//! `--allow-live`, with the credentials of its environment, read-only as everywhere; no tool
//! returns a credential. Inputs are bounded, and a bad one is answered with a tool error saying
//! what is wrong and where (the file, line and column, or the JSON pointer); the server keeps
//! running.

use std::process::ExitCode;

#[cfg(feature = "mcp")]
mod server;
#[cfg(feature = "mcp")]
mod tools;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Register it with an MCP host as the command `why403` with the arguments \
                        `mcp` (see docs/mcp.md). It serves one host over standard input and \
                        output until the host closes them."
)]
pub(crate) struct Args {
    /// Offer the tool `diagnose_live`, which reads an upload's evidence from AWS with the
    /// credentials in this server's environment and the options below (read-only calls, as
    /// `diagnose s3://...`). Off by default: an assistant cannot read from AWS unless you say so.
    #[arg(long)]
    allow_live: bool,
    #[command(flatten)]
    live: crate::live::LiveArgs,
    #[command(flatten)]
    reuse: crate::live::ReuseArgs,
}

/// Serves until the host closes standard input; without the MCP server, says so.
pub(crate) fn run(
    args: &Args,
    name: &'static str,
    version: &'static str,
) -> anyhow::Result<ExitCode> {
    if let Some(flag) = args.live.first_given_per_upload() {
        anyhow::bail!(
            "`{flag}` describes one upload: the assistant gives it with each `diagnose_live` call"
        );
    }
    if !args.allow_live
        && let Some(flag) = args.live.first_given().or(args.reuse.given())
    {
        anyhow::bail!("`{flag}` is for the live mode: add `--allow-live`");
    }
    #[cfg(feature = "mcp")]
    {
        let live = match args.allow_live {
            true => Some((
                args.live.clone(),
                crate::live::Shared::new(args.reuse.window())?,
            )),
            false => None,
        };
        server::run(name, version, live)
    }
    #[cfg(not(feature = "mcp"))]
    {
        let _ = (name, version);
        anyhow::bail!(
            "this build of why403 has no MCP server (it was built without the cargo feature `mcp`); \
             install one from a checkout of why403: `cargo install --path crates/cli --locked` \
             (default features)"
        )
    }
}

/// Whether this build has the MCP server.
pub(crate) const ENABLED: bool = cfg!(feature = "mcp");
