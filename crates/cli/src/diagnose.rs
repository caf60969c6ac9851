//! `why403 diagnose`: reads the evidence about an upload, live from AWS (`s3://bucket/key`) or
//! from a scenario file, diagnoses it with every built-in rule and prints the diagnosis for a
//! person or as JSON. The exit code is the verdict.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use why403_core::analysis::Verdict;
use why403_core::finding::diagnose;
use why403_core::render::{HumanOptions, human, json};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["target", "scenario"])))]
pub struct Args {
    /// The upload to diagnose, read live from AWS with the credentials in the environment
    /// (read-only calls).
    #[arg(value_name = "s3://BUCKET/KEY")]
    target: Option<String>,
    /// A scenario file instead: the upload and the evidence about it (see
    /// docs/scenario-format.md).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    #[command(flatten)]
    live: crate::live::LiveArgs,
    /// `human` for people, `json` for programs (schema `why403.diagnosis/v1`).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// When to colour the human output; `auto` colours a terminal unless `NO_COLOR` is set.
    #[arg(long, value_enum, default_value_t = When::Auto)]
    color: When,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum When {
    Auto,
    Always,
    Never,
}

/// Exit codes of a diagnosis (1 is any error).
const DENIED: u8 = 2;
const INDETERMINATE: u8 = 3;

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (request, evidence) = match (&args.target, &args.scenario) {
        (Some(target), _) => {
            let got = crate::live::collect(target, &args.live, args.format == Format::Json)?;
            (got.request, got.evidence)
        }
        (None, Some(path)) => {
            if let Some(flag) = args.live.first_given() {
                anyhow::bail!(
                    "`{flag}` is for reading from AWS (`diagnose s3://<bucket>/<key>`); a scenario file already holds the upload and its evidence"
                );
            }
            let scenario = why403_fixtures_source::load(path)
                .with_context(|| format!("cannot diagnose `{}`", path.display()))?;
            (scenario.request, scenario.evidence)
        }
        (None, None) => {
            anyhow::bail!("give an upload `s3://<bucket>/<key>` or `--scenario <FILE>`")
        }
    };
    let d = diagnose(request, evidence, &why403_rules::registry());
    let stdout = io::stdout();
    let choice = match args.color {
        When::Auto => anstream::AutoStream::choice(&stdout),
        When::Always => anstream::ColorChoice::Always,
        When::Never => anstream::ColorChoice::Never,
    };
    let text = match args.format {
        Format::Human => human(
            &d,
            &HumanOptions::new(choice != anstream::ColorChoice::Never),
        ),
        Format::Json => format!("{:#}\n", json(&d)),
    };
    let mut out = anstream::AutoStream::new(stdout.lock(), choice);
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // The reader went away (`| head`): nothing left to tell it.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => r.context("cannot write to standard output")?,
    }
    Ok(match d.verdict {
        Verdict::Allowed => ExitCode::SUCCESS,
        Verdict::Denied => ExitCode::from(DENIED),
        Verdict::Indeterminate { .. } => ExitCode::from(INDETERMINATE),
    })
}
