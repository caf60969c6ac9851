//! `why403 explain`: reads a pasted AWS error (an argument, a file, or standard input), says
//! what it proves, which rules it rules in or out, and the next step. Exit 0 when something
//! was recognised, 1 when nothing was.

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use why403_core::render::json_text;
use why403_errors::{explain, html, human, json, parse};

use crate::input::read_error_text;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The error as pasted, in quotes; `-` reads standard input, as does nothing when
    /// standard input is not a terminal.
    #[arg(value_name = "TEXT", conflicts_with = "error_file")]
    text: Vec<String>,
    /// Read the error from a file (a CLI transcript, an S3 XML body, a CloudTrail event...);
    /// the first 16 MiB are read.
    #[arg(long, value_name = "FILE")]
    error_file: Option<PathBuf>,
    /// `human` for people, `json` for programs (schema `why403.explanation/v1`), `html` for a
    /// browser (one self-contained page).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Html,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let text = input(args)?;
    let parsed = parse(&text);
    let x = explain(&parsed, &why403_rules::registry());
    let out = match args.format {
        Format::Human => human(&parsed, &x),
        Format::Json => json_text(&json(&parsed, &x)),
        Format::Html => html(&parsed, &x),
    };
    crate::output::print(&out)?;
    Ok(if parsed.is_recognised() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn input(args: &Args) -> anyhow::Result<String> {
    if let Some(path) = &args.error_file {
        let f = std::fs::File::open(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        let what = format!("`{}`", path.display());
        return read_error_text(f, &what).with_context(|| format!("cannot read {what}"));
    }
    let stdin = || {
        read_error_text(io::stdin().lock(), "standard input").context("cannot read standard input")
    };
    match args.text.as_slice() {
        [dash] if dash == "-" => stdin(),
        [] if !io::stdin().is_terminal() => stdin(),
        [] => bail!(
            "no error to explain: paste it in quotes, give `--error-file FILE`, or pipe it in"
        ),
        words => Ok(words.join(" ")),
    }
}
