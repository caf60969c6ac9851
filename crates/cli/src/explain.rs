//! `why403 explain`: reads a pasted AWS error (an argument, a file, or standard input), says
//! what it proves, which rules it rules in or out, and the next step. Exit 0 when something
//! was recognised, 1 when nothing was.

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use why403_core::message::{explain, human, json, parse};
use why403_core::render::json_text;

/// Input larger than this is cut (error messages are short; CloudTrail files can be large).
const MAX_INPUT: u64 = 16 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The error as pasted, in quotes; `-` reads standard input, as does nothing when
    /// standard input is not a terminal.
    #[arg(value_name = "TEXT", conflicts_with = "error_file")]
    text: Vec<String>,
    /// Read the error from a file (a CLI transcript, an S3 XML body, a CloudTrail event...).
    #[arg(long, value_name = "FILE")]
    error_file: Option<PathBuf>,
    /// `human` for people, `json` for programs (schema `why403.explanation/v1`).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let text = input(args)?;
    let parsed = parse(&text);
    let x = explain(&parsed);
    let registry = why403_rules::registry();
    let registered = |id: &str| registry.get(id).is_some();
    let out = match args.format {
        Format::Human => human(&parsed, &x, &registered),
        Format::Json => json_text(&json(&parsed, &x, &registered)),
    };
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // The reader went away (`| head`): nothing left to tell it.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => r.context("cannot write to standard output")?,
    }
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
        return read_all(f).with_context(|| format!("cannot read `{}`", path.display()));
    }
    match args.text.as_slice() {
        [dash] if dash == "-" => read_all(io::stdin().lock()).context("cannot read standard input"),
        [] if !io::stdin().is_terminal() => {
            read_all(io::stdin().lock()).context("cannot read standard input")
        }
        [] => bail!(
            "no error to explain: paste it in quotes, give `--error-file FILE`, or pipe it in"
        ),
        words => Ok(words.join(" ")),
    }
}

/// Reads up to `MAX_INPUT` bytes; invalid UTF-8 is replaced, not refused.
fn read_all(r: impl Read) -> io::Result<String> {
    let mut bytes = Vec::new();
    r.take(MAX_INPUT).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
