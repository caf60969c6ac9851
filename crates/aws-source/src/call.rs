//! One read from AWS: counts it, reports progress, and sorts its failure into what it means
//! for the evidence (absent configuration, a denial, or another failure), never aborting the
//! whole collection.

use std::error::Error;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use why403_core::evidence::{Slot, Unavailable};

/// An AWS API operation and the IAM action that allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    /// The service prefix as in IAM (`s3`, `iam`, `kms`, `organizations`, `sts`).
    pub service: &'static str,
    /// The API operation (`GetBucketEncryption`).
    pub operation: &'static str,
    /// The IAM action that allows it (`s3:GetEncryptionConfiguration`).
    pub action: &'static str,
}

impl Api {
    pub(crate) const fn new(
        service: &'static str,
        operation: &'static str,
        action: &'static str,
    ) -> Api {
        Api {
            service,
            operation,
            action,
        }
    }

    /// `s3:GetBucketPolicy`: the service and operation, as messages name a call.
    pub fn name(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// How one call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallOutcome {
    /// The call answered with the configuration.
    Ok,
    /// AWS answered that the configuration does not exist (`NoSuchBucketPolicy`).
    Absent,
    /// AWS refused the read (HTTP 403, with or without an error code).
    Denied,
    /// Any other failure: timeout, connection, malformed response, unexpected error.
    Failed,
}

/// One call, for `--stats`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStat {
    /// `s3:GetBucketPolicy`.
    pub api: String,
    /// The sequential round the call belongs to: 1 for calls that depend on nothing, n + 1
    /// for calls that needed the answer of a call of round n.
    pub round: u32,
    /// How the call ended.
    pub outcome: CallOutcome,
    /// Wall time including the SDK's retries.
    pub elapsed: Duration,
}

/// Why a read gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub outcome: CallOutcome,
    /// The AWS error code, when there was one.
    pub code: Option<String>,
    /// For messages: `AccessDenied from s3:GetBucketPolicy (Access Denied)`.
    pub reason: String,
    /// The IAM action that would read it.
    pub action: &'static str,
}

impl Failure {
    /// A failure found after the call succeeded (a document that does not parse, ...).
    pub(crate) fn invalid(api: Api, what: impl std::fmt::Display) -> Failure {
        Failure {
            outcome: CallOutcome::Failed,
            code: None,
            reason: format!("{} returned {what}", api.name()),
            action: api.action,
        }
    }

    pub(crate) fn unavailable(&self) -> Unavailable {
        Unavailable {
            reason: self.reason.clone(),
            needs: vec![self.action.to_owned()],
        }
    }

    /// `Absent` for absent configuration, `Unavailable` otherwise.
    pub(crate) fn slot<T>(&self) -> Slot<T> {
        match self.outcome {
            CallOutcome::Absent => Slot::Absent,
            _ => Slot::Unavailable(self.unavailable()),
        }
    }
}

/// The result of one read.
pub(crate) type Read<T> = Result<T, Failure>;

/// Turns a read into a slot: the value, `Absent`, or `Unavailable`.
pub(crate) fn slot<T>(r: Read<T>) -> Slot<T> {
    match r {
        Ok(v) => Slot::Collected(v),
        Err(f) => f.slot(),
    }
}

/// A session's lists of calls and of notes, which a tracker adds to.
pub(crate) type SessionLists<'a> = (&'a Mutex<Vec<CallStat>>, &'a Mutex<Vec<String>>);

/// Counts calls and reports progress. Shared by every concurrent read of one collection; a
/// collection made through a [`Session`](crate::Session) also adds each call to the
/// session's list.
pub(crate) struct Tracker<'a> {
    calls: Mutex<Vec<CallStat>>,
    notes: Mutex<Vec<String>>,
    progress: &'a (dyn Fn(&str) + Sync),
    session: Option<&'a Mutex<Vec<CallStat>>>,
    session_notes: Option<&'a Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Tracker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker").finish_non_exhaustive()
    }
}

impl<'a> Tracker<'a> {
    /// A tracker whose calls and notes are also added to a session's lists as they come.
    pub(crate) fn new(
        progress: &'a (dyn Fn(&str) + Sync),
        session: Option<SessionLists<'a>>,
    ) -> Tracker<'a> {
        Tracker {
            calls: Mutex::new(Vec::new()),
            notes: Mutex::new(Vec::new()),
            progress,
            session: session.map(|s| s.0),
            session_notes: session.map(|s| s.1),
        }
    }

    /// Records why the reading took a costlier way (for `--stats`).
    pub(crate) fn note(&self, text: String) {
        if let Some(session) = self.session_notes {
            let mut all = session.lock().unwrap_or_else(|e| e.into_inner());
            all.push(text.clone());
        }
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        notes.push(text);
    }

    pub(crate) fn progress(&self, text: &str) {
        (self.progress)(text);
    }

    /// Records a call made without [`Tracker::call`].
    pub(crate) fn record_call(
        &self,
        api: Api,
        round: u32,
        outcome: CallOutcome,
        elapsed: Duration,
    ) {
        let stat = CallStat {
            api: api.name(),
            round,
            outcome,
            elapsed,
        };
        // A poisoned lock only means another read panicked; the list is still usable.
        if let Some(session) = self.session {
            let mut all = session.lock().unwrap_or_else(|e| e.into_inner());
            all.push(stat.clone());
        }
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.push(stat);
    }

    /// The calls, in the order they finished, and the notes.
    pub(crate) fn into_parts(self) -> (Vec<CallStat>, Vec<String>) {
        (
            self.calls.into_inner().unwrap_or_else(|e| e.into_inner()),
            self.notes.into_inner().unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// Runs one SDK call in `round`. `absent` lists the error codes that mean "not
    /// configured".
    pub(crate) async fn call<T, E, F>(
        &self,
        round: u32,
        api: Api,
        absent: &[&str],
        fut: F,
    ) -> Read<T>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    {
        self.progress(&api.name());
        let start = Instant::now();
        let result = fut.await.map_err(|e| classify(api, absent, &e));
        let outcome = match &result {
            Ok(_) => CallOutcome::Ok,
            Err(f) => f.outcome,
        };
        self.record_call(api, round, outcome, start.elapsed());
        result
    }
}

/// The HTTP status of a failed call, when a response came back.
pub(crate) fn status_of<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// A response header of a failed call.
pub(crate) fn header_of<'e, E>(e: &'e SdkError<E, HttpResponse>, name: &str) -> Option<&'e str> {
    e.raw_response().and_then(|r| r.headers().get(name))
}

/// The error and its causes on one line, without the raw response the SDK's `Debug` adds
/// (headers and bodies make unreadable messages), cut at a readable length.
pub(crate) fn error_text(e: &(dyn Error + 'static)) -> String {
    cut(chain_text(e), 300)
}

/// The error and its causes, `: `-separated, each once.
pub(crate) fn chain_text(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `text` cut at `max` bytes (at a character boundary), with `…` when something was cut.
pub(crate) fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// Whether the error, or one of its causes, is a response body over the limit.
pub(crate) fn too_large(e: &(dyn Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Error codes that mean the caller may not read (besides any HTTP 403).
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AllAccessDisabled",
];

/// Sorts a failed call. A 403 is a denial even without an error code (moto's auth layer and
/// some proxies send none).
pub(crate) fn classify<E>(api: Api, absent: &[&str], e: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    let code = e.code().map(str::to_owned);
    let message = e.message().map(str::to_owned);
    let status = status_of(e);
    let name = api.name();
    let fail = |outcome, reason: String| Failure {
        outcome,
        code: code.clone(),
        reason,
        action: api.action,
    };
    if let Some(c) = code.as_deref()
        && absent.contains(&c)
    {
        return fail(CallOutcome::Absent, format!("{c} from {name}"));
    }
    let detail = |fallback: String| match (&message, status) {
        (Some(m), _) if !m.is_empty() => format!(" ({m})"),
        _ => fallback,
    };
    if status == Some(403) || code.as_deref().is_some_and(|c| DENIED_CODES.contains(&c)) {
        let what = code.clone().unwrap_or_else(|| "AccessDenied".to_owned());
        let no_code = if code.is_none() {
            " (HTTP 403 without an error code)".to_owned()
        } else {
            String::new()
        };
        return fail(
            CallOutcome::Denied,
            format!("{what} from {name}{}", detail(no_code)),
        );
    }
    let reason = match e {
        _ if too_large(e) => format!(
            "{name} answered with more than {} MiB, the most why403 reads from one answer \
             (a policy is at most tens of KB): the endpoint is not answering as AWS does",
            crate::config::response_limit(api.operation) >> 20
        ),
        SdkError::TimeoutError(_) => format!("{name} timed out"),
        SdkError::DispatchFailure(d) if d.is_timeout() => format!("{name} timed out"),
        SdkError::DispatchFailure(_) => {
            format!("{name} failed: {}", error_text(e))
        }
        SdkError::ResponseError(_) => {
            let st = status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
            format!(
                "{name} returned a malformed response{st}: {}",
                error_text(e)
            )
        }
        _ => match (&code, status) {
            (Some(c), Some(s)) => format!("{c} from {name} (HTTP {s}){}", detail(String::new())),
            (Some(c), None) => format!("{c} from {name}{}", detail(String::new())),
            (None, _) => format!("{name} failed: {}", error_text(e)),
        },
    };
    fail(CallOutcome::Failed, reason)
}
