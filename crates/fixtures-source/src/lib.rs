//! Scenario files: one JSON file holding an upload request and the evidence about it (AWS CLI
//! outputs pasted verbatim), read into [`UploadRequest`] and [`Evidence`].
//!
//! The format is described in `docs/scenario-format.md` and `schema/scenario.schema.json`.
//! Every error names the file, the line and column, the JSON pointer and what was expected;
//! the reader never panics. A section that is not in the file is
//! [`Slot::Unavailable`](why403_core::evidence::Slot::Unavailable) with the IAM action that
//! would read it, never "none".
//!
//! ```
//! let text = r#"{
//!   "scenario": 1,
//!   "request": {"principal": "arn:aws:iam::111122223333:user/alice",
//!               "bucket": "amzn-s3-demo-bucket", "key": "report.csv"},
//!   "evidence": {"bucket_policy": {"$absent": "NoSuchBucketPolicy"}}
//! }"#;
//! let s = why403_fixtures_source::parse("scenario.json", text).unwrap();
//! assert_eq!(s.request.bucket, "amzn-s3-demo-bucket");
//! assert!(s.evidence.bucket.policy.is_known());
//! assert!(!s.evidence.bucket.acl.is_known());
//! ```
//!
//! A scenario given as text, diagnosed with the built-in rules (`why403_rules::registry()`):
//! the bucket policy refuses every upload without TLS, and the upload is sent without it.
//!
//! ```
//! use why403_core::{Diagnoser, Verdict};
//!
//! let text = r#"{
//!   "scenario": 1,
//!   "request": {"principal": "arn:aws:iam::111122223333:user/alice",
//!               "bucket": "amzn-s3-demo-bucket", "key": "report.csv",
//!               "network": {"tls": false}},
//!   "evidence": {
//!     "bucket_policy": {"Policy": "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"TLSOnly\", \"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::amzn-s3-demo-bucket/*\", \"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"false\"}}}]}"}
//!   }
//! }"#;
//! let s = why403_fixtures_source::parse("tls.json", text)?;
//! let registry = why403_rules::registry();
//! let d = Diagnoser::new(&registry).diagnose(s.request, s.evidence);
//! // The rest of the evidence is unread, but an explicit deny it can see decides.
//! assert_eq!(d.verdict, Verdict::Denied);
//! assert_eq!(d.findings[0].rule.id, "bucket-policy-explicit-deny");
//!
//! // Bad input is a located error, never a panic.
//! let e = why403_fixtures_source::parse("bad.json", r#"{"scenario": 1, "request": 3}"#);
//! assert!(e.unwrap_err().to_string().starts_with("bad.json:1:"));
//! # Ok::<(), why403_fixtures_source::ScenarioError>(())
//! ```

#![warn(missing_docs, unreachable_pub)]

mod access_point;
mod bucket;
mod error;
mod evidence;
mod identity;
mod kms;
mod org;
mod read;
mod redact;
mod request;
#[cfg(feature = "testkit")]
pub mod testkit;
mod write;

use std::path::{Path, PathBuf};

use why403_core::Source;
use why403_core::evidence::Evidence;
use why403_core::json;
use why403_core::upload::UploadRequest;

pub use error::{Location, ScenarioError};
pub use evidence::EVIDENCE_SECTIONS;
pub use request::{NETWORK_FIELDS, REQUEST_FIELDS};
pub use write::write_scenario;

use read::{Reader, Val};

/// The format version this reader understands (`"scenario": 1`).
pub const FORMAT_VERSION: u32 = 1;

/// The top-level members of a scenario file.
pub const TOP_LEVEL_FIELDS: &[&str] = &[
    "$schema",
    "scenario",
    "description",
    "sources",
    "expect",
    "request",
    "evidence",
];

/// A scenario: the upload and everything known about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file's `description`: the situation in a sentence or two, when it has one.
    pub description: Option<String>,
    /// Where the situation comes from (AWS documentation pages, articles), as written.
    pub sources: Vec<String>,
    /// What the diagnosis is expected to say, for scenario files kept as tests.
    pub expect: Option<Expectation>,
    /// The refused upload (`request` in the file).
    pub request: UploadRequest,
    /// What is known about it (`evidence` in the file): every section not given is absent,
    /// or unavailable where the file says so.
    pub evidence: Evidence,
}

/// The expected diagnosis a scenario file may state (`"expect"`), for files kept as tests: the
/// verdict and the rule ids of the causes in the order the diagnosis reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// `allowed`, `denied` or `indeterminate`.
    pub verdict: String,
    /// Rule ids (`id` or `scope/id`) of the findings whose role is cause, in order.
    pub causes: Vec<String>,
}

/// The largest scenario file read, in bytes. A scenario holds one upload and the AWS outputs
/// about it: policies AWS caps (a bucket policy at 20 KB, a key policy at 32 KB, an SCP at
/// 5 KB, a managed policy at 6 KB), and `get-account-authorization-details`, pasted whole, which
/// is the large one (every user, group, role and policy version of the account: a few MB in a
/// large account). A larger file is a mistake (or `/dev/zero`), refused before it is read
/// whole. The parsed tree costs up to about 20 times the text (an array of small numbers or
/// short strings), so the limit also bounds memory (about 350 MB at worst, `cargo xtask
/// bench-limits`).
pub const MAX_SCENARIO_BYTES: u64 = 16 << 20;

/// Reads a scenario file. Policies' origins name the file as `path` displays.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    use std::io::Read as _;
    let file = path.display().to_string();
    let read_error = |source| ScenarioError::Read {
        file: file.clone(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SCENARIO_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(ScenarioError::TooLarge { file });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ScenarioError::Encoding {
            file,
            message:
                "the file is UTF-16 (as Windows PowerShell 5 writes with `>`); save it as UTF-8, \
                      e.g. `aws ... | Out-File -Encoding utf8 file.json`"
                    .to_owned(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        // The bytes before are UTF-8; a byte order mark is not a column (as in `parse`).
        let before = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
        let text = before.strip_prefix('\u{feff}').unwrap_or(before);
        ScenarioError::NotUtf8 {
            at: Reader { file: &file, text }.loc(text.len(), ""),
            byte: bytes[offset],
        }
    })?;
    parse(&file, &text)
}

/// Reads a scenario from text; `name` is the file name used in messages and policy origins.
pub fn parse(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    // A UTF-8 byte order mark is not JSON; editors do not count it as a column.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let r = Reader { file: name, text };
    let root = json::parse(text).map_err(|e| ScenarioError::Syntax {
        at: r.loc(e.offset, &e.pointer),
        message: e.message,
    })?;
    let top = Val::root(&root).obj(&r)?;
    top.only(&r, TOP_LEVEL_FIELDS)?;
    if let Some(s) = top.opt("$schema") {
        s.str(&r)?;
    }
    let version = top.req(&r, "scenario")?;
    match &version.node.value {
        json::Json::Number(n) if n == "1" => {}
        json::Json::Number(n) => {
            return Err(version.err(&r, format!("unsupported scenario format version {n}; this why403 reads version {FORMAT_VERSION}")));
        }
        _ => {
            return Err(version.err(
                &r,
                format!("expected the format version number {FORMAT_VERSION}"),
            ));
        }
    }
    let description = top.opt_str(&r, "description")?.map(str::to_owned);
    let sources = top
        .opt_arr(&r, "sources")?
        .iter()
        .map(|v| v.str(&r).map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()?;
    let expect = match top.opt_obj(&r, "expect")? {
        None => None,
        Some(e) => {
            e.only(&r, &["verdict", "causes"])?;
            let verdict = e.req(&r, "verdict")?;
            let v = verdict.str(&r)?;
            if !matches!(v, "allowed" | "denied" | "indeterminate") {
                return Err(verdict.err(
                    &r,
                    format!(
                        "unknown verdict `{v}`; expected `allowed`, `denied` or `indeterminate`"
                    ),
                ));
            }
            let causes = e
                .opt_arr(&r, "causes")?
                .iter()
                .map(|v| v.str(&r).map(str::to_owned))
                .collect::<Result<Vec<_>, _>>()?;
            Some(Expectation {
                verdict: v.to_owned(),
                causes,
            })
        }
    };
    let request = top.req(&r, "request")?.obj(&r)?;
    let ev = top.opt_obj(&r, "evidence")?;
    let (request, evidence) = evidence::read(&r, &request, ev.as_ref())?;
    Ok(Scenario {
        description,
        sources,
        expect,
        request,
        evidence,
    })
}

/// A scenario file as a [`Source`]: each [`read`](Source::read) reads the file as [`load`] does
/// and gives its upload and evidence.
///
/// ```
/// use why403_core::{Diagnoser, Source, Verdict};
/// use why403_fixtures_source::ScenarioFile;
///
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/scenarios/two-causes.json");
/// let (request, evidence) = ScenarioFile::new(path).read()?;
/// let registry = why403_rules::registry();
/// let d = Diagnoser::new(&registry).diagnose(request, evidence);
/// assert_eq!(d.verdict, Verdict::Denied);
///
/// // A file that is not there is an error, not a panic.
/// assert!(ScenarioFile::new("no-such-scenario.json").read().is_err());
/// # Ok::<(), why403_fixtures_source::ScenarioError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioFile {
    path: PathBuf,
}

impl ScenarioFile {
    /// The scenario file at `path` (read by [`Source::read`], not here).
    pub fn new(path: impl Into<PathBuf>) -> ScenarioFile {
        ScenarioFile { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Source for ScenarioFile {
    type Error = ScenarioError;

    fn read(&mut self) -> Result<(UploadRequest, Evidence), ScenarioError> {
        let scenario = load(&self.path)?;
        Ok((scenario.request, scenario.evidence))
    }
}
