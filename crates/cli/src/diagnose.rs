//! `why403 diagnose`: reads the evidence about an upload, live from AWS (`s3://bucket/key`) or
//! from a scenario file, diagnoses it with every built-in rule and prints the diagnosis for a
//! person or as JSON. The exit code is the verdict.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use why403_core::analysis::Verdict;
use why403_core::client::Client;
use why403_core::evidence::Evidence;
use why403_core::render::{HumanOptions, html, human, json, json_text};
use why403_core::upload::UploadRequest;
use why403_core::{Diagnoser, Diagnosis, Registry, Source as _};
use why403_errors::{fill_request, parse};
use why403_fixtures_source::ScenarioFile;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["target", "scenario", "error", "error_file"]).multiple(true)))]
pub(crate) struct Args {
    /// The upload to diagnose, read live from AWS with the credentials in the environment
    /// (read-only calls; in builds with the `live` feature, the default).
    #[arg(value_name = "s3://BUCKET/KEY")]
    target: Option<String>,
    /// A scenario file instead: the upload and the evidence about it (see
    /// docs/scenario-format.md; at most 16 MiB).
    #[arg(long, value_name = "FILE", conflicts_with = "target")]
    scenario: Option<PathBuf>,
    #[command(flatten)]
    live: crate::live::LiveArgs,
    /// The error the upload failed with, as pasted: it fills the caller, bucket and key the
    /// request leaves out, and a finding it contradicts is flagged (see docs/errors.md).
    #[arg(long, value_name = "TEXT", conflicts_with = "error_file")]
    error: Option<String>,
    /// Read that error from a file (a CLI transcript, an S3 XML body, a CloudTrail event...).
    #[arg(long, value_name = "FILE")]
    error_file: Option<PathBuf>,
    /// The client that sent the upload: what it sends is modelled (see docs/clients.md).
    #[arg(long, value_enum, value_name = "CLIENT")]
    client: Option<ClientArg>,
    /// The object's size in bytes: with `--client`, decides one PutObject or a multipart
    /// upload (which also needs `kms:Decrypt` on an SSE-KMS bucket).
    #[arg(long, value_name = "BYTES", requires = "client")]
    size: Option<u64>,
    /// `human` for people, `json` for programs (schema `why403.diagnosis/v1`), `html` for a
    /// browser (one self-contained page: no script, nothing loaded from the network).
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
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ClientArg {
    /// The S3 console.
    Console,
    /// `aws s3 cp` (and `mv`, `sync`).
    Cli,
    /// An AWS SDK calling PutObject.
    Sdk,
}

impl From<ClientArg> for Client {
    fn from(c: ClientArg) -> Client {
        match c {
            ClientArg::Console => Client::Console,
            ClientArg::Cli => Client::Cli,
            ClientArg::Sdk => Client::Sdk,
        }
    }
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

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let upload = match (&args.target, &args.scenario) {
        (Some(target), _) => Upload::Live(target.clone()),
        (None, Some(path)) => {
            if let Some(flag) = args.live.first_given() {
                anyhow::bail!(
                    "`{flag}` is for reading from AWS (`diagnose s3://<bucket>/<key>`); a scenario file already holds the upload and its evidence"
                );
            }
            let (request, evidence) = ScenarioFile::new(path)
                .read()
                .with_context(|| format!("cannot diagnose `{}`", path.display()))?;
            Upload::Read(Box::new((request, evidence)))
        }
        (None, None) => Upload::FromError,
    };
    let registry = why403_rules::registry();
    let d = diagnosis(
        Job {
            upload,
            live: &args.live,
            error: error_text(args)?,
            client: args.client.map(Client::from),
            size: args.size,
            quiet: args.format == Format::Json,
            shared: None,
            fresh: false,
        },
        &registry,
    )?;
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
        Format::Json => json_text(&json(&d)),
        Format::Html => html(&d),
    };
    let mut out = anstream::AutoStream::new(stdout.lock(), choice);
    crate::output::written(out.write_all(text.as_bytes()).and_then(|()| out.flush()))?;
    Ok(exit_code(&d.verdict))
}

/// The exit code of a verdict.
pub(crate) fn exit_code(verdict: &Verdict) -> ExitCode {
    match verdict {
        Verdict::Allowed => ExitCode::SUCCESS,
        Verdict::Denied => ExitCode::from(DENIED),
        Verdict::Indeterminate { .. } => ExitCode::from(INDETERMINATE),
    }
}

/// Where the upload and its evidence come from.
#[derive(Debug)]
pub(crate) enum Upload {
    /// `s3://bucket/key`, read live from AWS.
    Live(String),
    /// Already read (from a scenario).
    Read(Box<(UploadRequest, Evidence)>),
    /// The upload the error names, read live.
    FromError,
}

/// One diagnosis, as `diagnose` and the other front-ends (`mcp`) ask for it.
#[derive(Debug)]
pub(crate) struct Job<'a> {
    pub upload: Upload,
    /// How to read live (and the per-upload options `--principal`, `--header`, `--multipart`).
    pub live: &'a crate::live::LiveArgs,
    /// The error the upload failed with, as pasted.
    pub error: Option<String>,
    pub client: Option<Client>,
    pub size: Option<u64>,
    /// No progress line while reading live.
    pub quiet: bool,
    /// A server's live reading, shared with its other diagnoses (`None`: read for this one).
    pub shared: Option<&'a crate::live::Shared>,
    /// With `shared`: read everything afresh.
    pub fresh: bool,
}

/// The diagnosis of a job: what `diagnose` prints in every format.
pub(crate) fn diagnosis(job: Job<'_>, registry: &Registry) -> anyhow::Result<Diagnosis> {
    let parsed = job.error.as_deref().map(parse);
    if let Some(p) = &parsed
        && !p.is_recognised()
    {
        anyhow::bail!(
            "the error given with `--error` is not recognised (run `why403 explain` on it to see why)"
        );
    }
    let mut notes = Vec::new();
    let target = match job.upload {
        Upload::Live(target) => Some(target),
        // With only an error, the upload is the one the error names.
        Upload::FromError => match parsed.as_ref().map(|p| (&p.bucket, &p.key)) {
            Some((Some(b), Some(k))) if !k.is_empty() => {
                notes.push(format!("the upload `s3://{b}/{k}` is taken from the error"));
                Some(format!("s3://{b}/{k}"))
            }
            Some(_) => anyhow::bail!(
                "the error does not name the bucket and key: give an upload `s3://<bucket>/<key>` or `--scenario <FILE>`"
            ),
            None => {
                anyhow::bail!("give an upload `s3://<bucket>/<key>` or `--scenario <FILE>`")
            }
        },
        Upload::Read(read) => {
            let (mut request, evidence) = *read;
            if let Some(p) = &parsed {
                // Only this diagnosis: the scenario is not rewritten.
                notes.extend(fill_request(p, &mut request));
            }
            return Ok(diagnoser(registry, notes, job.client, job.size, parsed)
                .diagnose(request, evidence));
        }
    };
    let target = target.unwrap_or_default();
    let got = match job.shared {
        Some(shared) => shared.collect(&target, job.live, job.fresh)?,
        None => crate::live::collect(&target, job.live, job.quiet)?,
    };
    notes.extend(got.notes);
    let mut request = got.request;
    if let Some(p) = &parsed
        && let Some(who) = &p.principal
        && request.principal.is_none()
        && who.starts_with("arn:")
    {
        notes.push(format!(
            "the error names the caller `{who}`: give `--principal {who}` to read the evidence as that caller"
        ));
    }
    if let Some(p) = &parsed {
        // Fills only what is empty; the caller is left to `--principal` (above).
        let principal = request.principal.take();
        notes.extend(
            fill_request(p, &mut request)
                .into_iter()
                .filter(|n| !n.starts_with("the caller")),
        );
        request.principal = principal;
    }
    Ok(diagnoser(registry, notes, job.client, job.size, parsed).diagnose(request, got.evidence))
}

fn diagnoser<'r>(
    registry: &'r Registry,
    notes: Vec<String>,
    client: Option<Client>,
    size: Option<u64>,
    parsed: Option<why403_errors::Parsed>,
) -> Diagnoser<'r> {
    let mut d = Diagnoser::new(registry).notes(notes);
    if let Some(c) = client {
        d = d.client(c, size);
    }
    if let Some(p) = parsed {
        d = d.error(p);
    }
    d
}

/// The error given with `--error` or `--error-file`, if any.
fn error_text(args: &Args) -> anyhow::Result<Option<String>> {
    if let Some(t) = &args.error {
        return Ok(Some(t.clone()));
    }
    let Some(path) = &args.error_file else {
        return Ok(None);
    };
    let what = format!("`{}`", path.display());
    std::fs::File::open(path)
        .and_then(|f| crate::input::read_error_text(f, &what))
        .map(Some)
        .with_context(|| format!("cannot read {what}"))
}
