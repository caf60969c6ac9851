//! The one entry point for programs: a [`Diagnoser`] holds the rules and the options of a
//! diagnosis (the client that sent the upload, a pasted error, notes on how the input was
//! read) and turns an upload and its evidence into a [`Diagnosis`]. Every front-end goes
//! through it, so none re-sorts or patches findings.

use crate::client::{Client, apply as apply_client};
use crate::evidence::Evidence;
use crate::finding::{Diagnosis, diagnose};
use std::sync::Arc;

use crate::finding::{Confidence, Finding, Role, RuleRef};
use crate::rule::Registry;
use crate::upload::UploadRequest;

/// Diagnoses uploads with a registry's rules and the options set on it.
///
/// ```
/// use why403_core::{Diagnoser, Evidence, Registry, UploadRequest, Verdict};
/// use why403_core::evidence::{Caller, Identity};
/// use why403_core::policy::{Policy, PolicyKind};
///
/// let request = UploadRequest::from_s3_url("s3://amzn-s3-demo-bucket/reports/q3.csv").unwrap();
/// let allow = Policy::parse(
///     "inline policy Uploads of user alice",
///     PolicyKind::Identity,
///     r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject",
///         "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/reports/*"}]}"#,
/// )
/// .unwrap();
/// let alice = "arn:aws:iam::111122223333:user/alice";
/// let evidence = Evidence::builder("amzn-s3-demo-bucket")
///     .caller(Caller::new(alice, "AIDACKCEVSQ6C2EXAMPLE"))
///     .identity(Identity::from_arn(alice, "AIDACKCEVSQ6C2EXAMPLE").with_policy(allow))
///     .bucket_owner("111122223333")
///     .region("us-east-1")
///     .rest_absent();
/// // The built-in rules are in the `why403-rules` crate (`why403_rules::registry()`).
/// let registry = Registry::default();
/// let d = Diagnoser::new(&registry).diagnose(request, evidence);
/// assert_eq!(d.verdict, Verdict::Allowed);
/// ```
#[derive(Debug, Clone)]
pub struct Diagnoser<'r> {
    registry: &'r Registry,
    client: Option<(Client, Option<u64>)>,
    error: Option<Arc<dyn Observed>>,
    notes: Vec<String>,
}

impl<'r> Diagnoser<'r> {
    /// A diagnoser with the rules of `registry` and no options.
    pub fn new(registry: &'r Registry) -> Self {
        Diagnoser {
            registry,
            client: None,
            error: None,
            notes: Vec::new(),
        }
    }

    /// The upload was sent by `client` (with the file's size when known): the request takes
    /// the client's headers and operation (multipart above its threshold), and the diagnosis
    /// notes what was assumed.
    pub fn client(mut self, client: Client, size: Option<u64>) -> Self {
        self.client = Some((client, size));
        self
    }

    /// The error AWS answered (in the `why403-errors` crate, `why403_errors::parse`'s result
    /// is one): the diagnosis is held against it (a contradiction with the evidence is an
    /// observation; agreement is noted).
    pub fn error(mut self, observed: impl Observed + 'static) -> Self {
        self.error = Some(Arc::new(observed));
        self
    }

    /// A note on how the input was read (e.g. "the key is taken from the error"); the notes
    /// are one observation of the diagnosis.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Notes on how the input was read, in order.
    pub fn notes(mut self, notes: impl IntoIterator<Item = String>) -> Self {
        self.notes.extend(notes);
        self
    }

    /// Diagnoses the upload `request` from `evidence`.
    pub fn diagnose(&self, mut request: UploadRequest, evidence: Evidence) -> Diagnosis {
        let mut notes = self.notes.clone();
        if let Some((client, size)) = self.client {
            notes.extend(apply_client(&mut request, client, size));
        }
        let mut d = diagnose(request, evidence, self.registry);
        d.client = self
            .client
            .map(|(c, _)| c)
            .or_else(|| self.error.as_ref().and_then(|e| e.client()));
        if let Some(p) = &self.error {
            notes.extend(p.constrain(&mut d, self.registry));
        }
        if let Some(f) = notes_finding(notes) {
            d.push(f);
        }
        d
    }
}

/// Something observed about the refusal besides the evidence, such as the error message AWS
/// answered, that a diagnosis is held against. Core knows no error format: the
/// `why403-errors` crate implements this for a parsed message.
pub trait Observed: std::fmt::Debug + Send + Sync {
    /// Adds a finding to `diagnosis` for each contradiction between the observation and what
    /// the evidence shows, and returns notes saying what the observation agrees with.
    fn constrain(&self, diagnosis: &mut Diagnosis, registry: &Registry) -> Vec<String>;

    /// The client the observation shows the upload was sent by, if it shows one (the wording
    /// of an error message names the AWS CLI or an SDK); fixes are then said in its terms.
    fn client(&self) -> Option<Client> {
        None
    }
}

/// The id (scope `builtin`) of the finding that carries notes about how the input was read
/// (what the message agrees with, what was taken from it, client assumptions).
pub const INPUT_NOTES: &str = "input-notes";

/// A finding that carries notes, or `None` when there are none.
pub fn notes_finding(notes: Vec<String>) -> Option<Finding> {
    if notes.is_empty() {
        return None;
    }
    Some(Finding {
        rule: RuleRef {
            scope: "builtin".into(),
            id: INPUT_NOTES.into(),
        },
        role: Role::Observation,
        confidence: Confidence::Confirmed,
        message: "how the input was read: the notes below".to_owned(),
        check: None,
        labels: Vec::new(),
        fix: None,
        missing: Vec::new(),
        notes,
        claims: Vec::new(),
    })
}
