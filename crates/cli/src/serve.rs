//! `why403 serve`: a local web app. One page (embedded in the binary, no external resource) to
//! paste an error and see it explained, to drop or paste a scenario file and see its
//! diagnosis, and to edit the scenario in place and see the diagnosis change (what-if).
//!
//! The server binds to 127.0.0.1 unless `--listen` names another address, and every request
//! must carry the secret token printed in the URL (a new one per start). The Host header must
//! name the server (no DNS rebinding), a browser request must come from the page's own origin,
//! bodies are bounded, and nothing the server holds (credentials, the token of another start)
//! is ever sent to the page. Bad input is answered with what is wrong and where; the server
//! keeps running.

use std::net::IpAddr;
use std::process::ExitCode;

#[cfg(feature = "web")]
mod server;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The address to listen on. Without it the server listens on 127.0.0.1 only; another
    /// address (one other machines can reach) must be given here explicitly.
    #[arg(long, value_name = "ADDR")]
    listen: Option<IpAddr>,
    /// The port [default: one the system picks].
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    port: u16,
    /// Let the page diagnose `s3://bucket/key` read live from AWS, with the credentials in the
    /// environment and the options below (read-only calls, as `diagnose`).
    #[arg(long)]
    live: bool,
    #[command(flatten)]
    live_args: crate::live::LiveArgs,
    #[command(flatten)]
    reuse: crate::live::ReuseArgs,
}

/// Serves until Ctrl-C; without the web app, says so.
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    #[cfg(feature = "web")]
    {
        if !args.live
            && let Some(flag) = args.live_args.first_given().or(args.reuse.given())
        {
            anyhow::bail!("`{flag}` is for the live mode: add `--live`");
        }
        if let Some(flag) = args.live_args.target_option_given() {
            anyhow::bail!(
                "`{flag}` describes one upload, and the page's live mode diagnoses any: \
                 diagnose that upload with `why403 diagnose s3://... {flag} ...`"
            );
        }
        let live = match args.live {
            true => Some((
                args.live_args.clone(),
                crate::live::Shared::new(args.reuse.window())?,
            )),
            false => None,
        };
        server::run(args.listen, args.port, live)
    }
    #[cfg(not(feature = "web"))]
    {
        let _ = (
            args.listen,
            args.port,
            args.live,
            &args.live_args,
            &args.reuse,
        );
        anyhow::bail!(
            "this build of why403 has no web app (it was built without the cargo feature `web`); \
             install one from a checkout of why403: `cargo install --path crates/cli --locked` \
             (default features)"
        )
    }
}

/// Whether this build has the web app.
pub(crate) const ENABLED: bool = cfg!(feature = "web");
