//! Error messages as people paste them: [`parse`] reads an S3 or KMS refusal in any of the
//! envelopes the AWS CLI, the SDKs, raw S3 responses and CloudTrail wrap it in, wrapped over
//! lines or not, and [`explain`] says what it proves, which rules it points to or rules out,
//! and what to do next. Non-authorization errors (bad keys, signatures, clocks, Regions, KMS
//! key states) are explained directly with their fix. A [`Parsed`] error given to
//! `why403_core::Diagnoser::error` holds a diagnosis against what AWS answered.
//!
//! The forms recognised are listed in `docs/errors.md`; the grammar is
//! docs/aws-model.md#error-messages.
//!
//! # Example: what a pasted error proves
//!
//! ```
//! use why403_errors::{Kind, PolicyType, explain, parse};
//!
//! let pasted = "upload failed: ./q3.csv to s3://amzn-s3-demo-bucket/reports/q3.csv \
//!     An error occurred (AccessDenied) when calling the PutObject operation: User: \
//!     arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on \
//!     resource: \"arn:aws:s3:::amzn-s3-demo-bucket/reports/q3.csv\" with an explicit deny \
//!     in a resource-based policy";
//! let p = parse(pasted);
//! assert_eq!(p.action.as_deref(), Some("s3:PutObject"));
//! assert_eq!(p.explicit, Some(true));
//! assert_eq!(p.policy_type, Some(PolicyType::ResourceBased));
//! assert_eq!(p.bucket.as_deref(), Some("amzn-s3-demo-bucket"));
//!
//! // With the built-in rules, the explanation names the rules this message points to.
//! let x = explain(&p, &why403_rules::registry());
//! assert_eq!(x.kind, Kind::AccessDenied);
//! assert!(x.rules.iter().any(|r| r.id == "bucket-policy-explicit-deny"));
//! ```

#![warn(missing_docs, unreachable_pub)]

mod constrain;
mod envelope;
mod errors;
mod evidence;
mod explain;
mod grammar;
mod render;
mod rules;
mod text;

#[cfg(test)]
mod tests;

use serde::Serialize;

pub use constrain::{ERROR_CONTRADICTION, constrain, fill_request};
pub use explain::{EvidenceStep, Explanation, Kind, explain};
pub use render::{SCHEMA_ID, html, human, json};
pub use rules::{RuleHint, RuleStatus};
pub use why403_core::rule::explains::{PolicyType, Special};
pub use why403_core::{INPUT_NOTES, notes_finding};

/// Input beyond this many bytes is not read as text (a CloudTrail file is still parsed as JSON
/// whole): error messages are short, and the matcher is linear in the text per keyword.
pub const MAX_TEXT: usize = 256 * 1024;

/// The wrapper around the message: which client or log printed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Envelope {
    /// AWS CLI or boto3/botocore: `An error occurred (Code) when calling the Op operation: Msg`.
    AwsCli,
    /// `aws s3 cp`/`mv`/`sync` (`upload failed: <file> to s3://b/k An error occurred ...`) or
    /// boto3's `upload_file` (`Failed to upload <file> to b/k: An error occurred ...`).
    S3Transfer,
    /// AWS SDK for Go v2: `operation error S3: PutObject, https response error StatusCode: 403,
    /// RequestID: ..., HostID: ..., api error AccessDenied: ...`.
    GoV2,
    /// AWS SDK for Go v1: `AccessDenied: ... status code: 403, request id: ..., host id: ...`.
    GoV1,
    /// AWS SDK for Java v1: `... (Service: Amazon S3; Status Code: 403; Error Code: ...; ...)`.
    JavaV1,
    /// AWS SDK for Java v2: `... (Service: S3, Status Code: 403, Request ID: ..., ...)`.
    JavaV2,
    /// The S3 response body: `<Error><Code>...</Code><Message>...</Message>...</Error>`.
    S3Xml,
    /// A CloudTrail event (`errorCode`, `errorMessage`, `userIdentity`...), alone, in a
    /// `Records` file, or in `aws cloudtrail lookup-events` output.
    #[serde(rename = "cloudtrail")]
    CloudTrail,
    /// The message alone (`User: ... is not authorized ...`, `Access Denied`), or `Code: Msg`.
    Bare,
    /// An S3 server access log line: the error code and HTTP status, without a message.
    AccessLog,
    /// Nothing recognised.
    #[default]
    Unknown,
}

impl Envelope {
    /// The envelope in a few words, e.g. `the AWS CLI`.
    pub fn describe(self) -> &'static str {
        match self {
            Envelope::AwsCli => "the AWS CLI or boto3",
            Envelope::S3Transfer => "an `aws s3` transfer (cp, mv, sync) or boto3 `upload_file`",
            Envelope::GoV2 => "the AWS SDK for Go v2",
            Envelope::GoV1 => "the AWS SDK for Go v1",
            Envelope::JavaV1 => "the AWS SDK for Java v1",
            Envelope::JavaV2 => "the AWS SDK for Java v2",
            Envelope::S3Xml => "an S3 XML error response",
            Envelope::CloudTrail => "a CloudTrail event",
            Envelope::Bare => "the message alone",
            Envelope::AccessLog => "an S3 server access log line",
            Envelope::Unknown => "nothing recognised",
        }
    }
}

/// Facts some errors carry beyond the common fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Details {
    /// The message says `on this resource` instead of naming it (KMS via S3).
    pub on_this_resource: bool,
    /// `... in a VPC endpoint policy transitively through a service control policy`.
    pub via_scp: bool,
    /// The message is exactly the generic `Access Denied`.
    pub generic: bool,
    /// `Request has expired`: a presigned URL used after its expiry.
    pub request_expired: bool,
    /// The client could not sign with SigV4A, which every request to a Multi-Region Access
    /// Point needs (an SDK without its SigV4A signer): the request was never sent.
    pub sigv4a_unavailable: bool,
    /// The request was a presigned URL (query-string authentication).
    pub presigned: bool,
    /// `<Expires>` (or `<X-Amz-Expires>`) of an expired presigned URL.
    pub expires: Option<String>,
    /// `<ServerTime>`: S3's clock when it refused the request.
    pub server_time: Option<String>,
    /// `<RequestTime>`: the client's clock, for `RequestTimeTooSkewed`.
    pub request_time: Option<String>,
    /// The Region the request was signed for, when S3 says it is wrong.
    pub region_used: Option<String>,
    /// The bucket's Region, when S3 says which one to use.
    pub region_expected: Option<String>,
    /// `<Endpoint>` of a `PermanentRedirect`.
    pub endpoint: Option<String>,
    /// `<AWSAccessKeyId>`: the access key the request was signed with.
    pub access_key_id: Option<String>,
    /// CloudTrail `vpcEndpointId`: the request came through this VPC endpoint.
    pub vpc_endpoint_id: Option<String>,
    /// The KMS key a `KMS.*` error or a KMS event names.
    pub kms_key: Option<String>,
    /// CloudTrail `eventSource`, e.g. `s3.amazonaws.com`.
    pub event_source: Option<String>,
    /// CloudTrail `awsRegion`.
    pub aws_region: Option<String>,
    /// CloudTrail `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// The local file of an `aws s3 cp` or `upload_file` failure.
    pub local_file: Option<String>,
}

/// What a pasted error says. Every field is what the text states (or, for `code`, what the
/// one known message implies); nothing is guessed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Parsed {
    /// The wrapper the message came in (`Unknown` when none was recognised).
    pub envelope: Envelope,
    /// The HTTP status code the envelope states (`StatusCode: 403`, `Status Code: 403`, an
    /// HTTP status line), or the code itself when it is three digits.
    pub http_status: Option<u16>,
    /// The AWS error code, e.g. `AccessDenied`; for an envelope without one, the code only
    /// one known message has (`The provided token has expired` is `ExpiredToken`).
    pub code: Option<String>,
    /// The API operation, e.g. `PutObject`.
    pub operation: Option<String>,
    /// The AWS message, whitespace-normalised.
    pub message: Option<String>,
    /// The caller as AWS saw it (`User: <arn>`, or CloudTrail `userIdentity.arn`).
    pub principal: Option<String>,
    /// The refused action, e.g. `s3:PutObject` or `kms:GenerateDataKey`.
    pub action: Option<String>,
    /// The resource ARN, unquoted.
    pub resource: Option<String>,
    /// `with an explicit deny` (true) or `because no ... allows` (false).
    pub explicit: Option<bool>,
    /// The policy type a typed message names (`... in a resource-based policy`).
    pub policy_type: Option<PolicyType>,
    /// The ARN that ends a 2026 message: the policy that denied.
    pub policy_arn: Option<String>,
    /// The special reason a message gives instead of a policy type (Block Public Access,
    /// blocked SSE-C, a KMS key not found or not allowed).
    pub special: Option<Special>,
    /// The ID AWS gave the request (`RequestID:`, `<RequestId>`, `Request ID:`, CloudTrail
    /// `requestID`).
    pub request_id: Option<String>,
    /// S3's extended request ID (`<HostId>`, `HostID:`, `host id:`, `S3 Extended Request ID:`,
    /// CloudTrail `x-amz-id-2`).
    pub host_id: Option<String>,
    /// IAM Access Troubleshooter authorization id (`... authorization id: <id>`).
    pub authorization_id: Option<String>,
    /// The bucket: from the envelope (`s3://bucket/key`, `<BucketName>`, CloudTrail
    /// `requestParameters`) or else from the S3 resource ARN of the message.
    pub bucket: Option<String>,
    /// The object key, from the same places as `bucket`; empty when the resource ARN names
    /// the bucket alone.
    pub key: Option<String>,
    /// Facts only some errors carry (presigned URL expiry, Regions, clocks, KMS key, CloudTrail
    /// fields).
    pub details: Details,
    /// What was recognised, in order: `envelope`, `code`, `principal`, `reason`...
    pub recognised: Vec<&'static str>,
    /// Text that was expected to say something but did not match any known form.
    pub unrecognised: Option<String>,
}

impl Parsed {
    /// Whether anything at all was recognised.
    pub fn is_recognised(&self) -> bool {
        !self.recognised.is_empty()
    }

    pub(crate) fn note(&mut self, what: &'static str) {
        if !self.recognised.contains(&what) {
            self.recognised.push(what);
        }
    }

    /// Sets a field when it is unset and the value is not empty.
    pub(crate) fn set(field: &mut Option<String>, value: impl Into<String>) -> bool {
        let v = value.into();
        let v = v.trim();
        if field.is_none() && !v.is_empty() {
            *field = Some(v.to_owned());
            return true;
        }
        false
    }
}

/// The HTTP status S3 answers `code` with, for the error codes why403 explains (and every
/// `KMS.` code); `None` for a code it does not know (`SlowDown`, `NoSuchUpload`...). Log
/// triage selects the refusals it can explain with this.
pub fn status_of_code(code: &str) -> Option<u16> {
    if errors::is_known_code(code) {
        errors::status_of(code)
    } else {
        None
    }
}

/// Parses a pasted error. Never panics, whatever the input; when nothing is recognised, the
/// result says so (`recognised` is empty and `unrecognised` holds the start of the text).
pub fn parse(text: &str) -> Parsed {
    let mut p = Parsed::default();
    // A CloudTrail file can be large: JSON is parsed whole, and the text is read only when
    // the JSON says nothing.
    if let Some(message) = envelope::cloudtrail_json(text, &mut p) {
        grammar::message(&message, &mut p);
        finish(&mut p);
        return p;
    }
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let t = text::Text::new(head);
    match envelope::detect(&t, &mut p) {
        Some(message) => grammar::message(&message, &mut p),
        None => {
            // No envelope: the message alone, or nothing.
            let before = p.recognised.len();
            grammar::message(&t, &mut p);
            if p.recognised.len() > before {
                p.envelope = Envelope::Bare;
                p.recognised.insert(0, "envelope");
            } else if p.unrecognised.is_none() && !t.is_empty() {
                p.unrecognised = Some(excerpt(t.as_str()));
            }
        }
    }
    envelope::http_status_line(&t, &mut p);
    envelope::presigned(&t, &mut p);
    finish(&mut p);
    p
}

/// Bucket and key from the resource ARN when nothing else gave them: `arn:aws:s3:::bucket/key`,
/// or the key of an access point's object ARN (`...:accesspoint/<name>/object/<key>`, which
/// names no bucket).
fn finish(p: &mut Parsed) {
    if let Some(r) = p.resource.clone()
        && r.starts_with("arn:")
        && let Some((_, rest)) = r.split_once(":accesspoint/")
        && let Some((_, key)) = rest.split_once("/object/")
        && Parsed::set(&mut p.key, key)
    {
        p.note("key");
    }
    if let Some(r) = p.resource.clone()
        && let Some(rest) = r.split_once(":s3:::").map(|(_, rest)| rest)
        && r.starts_with("arn:")
    {
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if Parsed::set(&mut p.bucket, bucket) {
            p.note("bucket");
        }
        if Parsed::set(&mut p.key, key) {
            p.note("key");
        }
    }
    if p.http_status.is_none()
        && let Some(c) = &p.code
        && c.len() == 3
        && let Ok(n) = c.parse::<u16>()
    {
        p.http_status = Some(n);
    }
}

/// The start of a text, for saying what was not recognised.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 160;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}
