//! `why403 capture`: reads the evidence about an upload live from AWS and writes it as a
//! scenario file (`--redact` replaces account ids, names and ARNs), to diagnose later, share,
//! or keep as a test. Credentials are never part of it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use why403_fixtures_source::{Scenario, write_scenario};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The upload to read, as `s3://<bucket>/<key>`.
    #[arg(value_name = "s3://BUCKET/KEY")]
    target: String,
    /// The scenario file to write.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Replace account ids, names, ARNs and other identifiers with stable placeholders.
    #[arg(long)]
    redact: bool,
    /// The scenario's description (default: what was captured).
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    #[command(flatten)]
    live: crate::live::LiveArgs,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let got = crate::live::collect(&args.target, &args.live, false)?;
    let description = args
        .description
        .clone()
        .unwrap_or_else(|| format!("captured from AWS by why403 capture ({} calls)", got.calls));
    let scenario = Scenario {
        description: Some(description),
        sources: Vec::new(),
        expect: None,
        request: got.request,
        evidence: got.evidence,
    };
    let text = write_scenario(&scenario, args.redact);
    std::fs::write(&args.output, text)
        .with_context(|| format!("cannot write `{}`", args.output.display()))?;
    eprintln!(
        "wrote `{}`",
        why403_core::render::escape(&args.output.display().to_string())
    );
    Ok(ExitCode::SUCCESS)
}
