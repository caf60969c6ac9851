//! One log record as triage sees it: the facts of a refused (or allowed) upload call, whatever
//! the format it came in.

use std::collections::BTreeMap;
use std::fmt;

/// The log format a record came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Format {
    /// A CloudTrail record: from a log file as delivered to S3, one event, or JSON Lines.
    CloudTrail,
    /// A CloudTrail record inside `aws cloudtrail lookup-events` output.
    LookupEvents,
    /// A row of CloudTrail Lake query results (`aws cloudtrail get-query-results`).
    Lake,
    /// A CloudTrail record wrapped in an EventBridge event.
    EventBridge,
    /// An S3 server access log line.
    AccessLog,
}

impl Format {
    /// The format in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Format::CloudTrail => "CloudTrail records",
            Format::LookupEvents => "`aws cloudtrail lookup-events` output",
            Format::Lake => "CloudTrail Lake query results",
            Format::EventBridge => "EventBridge events of CloudTrail records",
            Format::AccessLog => "S3 server access logs",
        }
    }

    /// The format's name in JSON output (`cloudtrail`, `access-log`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::CloudTrail => "cloudtrail",
            Format::LookupEvents => "lookup-events",
            Format::Lake => "cloudtrail-lake",
            Format::EventBridge => "eventbridge",
            Format::AccessLog => "access-log",
        }
    }
}

/// Which upload call a record is, by what a fix must allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Call {
    /// `PutObject`.
    PutObject,
    /// `CreateMultipartUpload`.
    CreateMultipartUpload,
    /// `UploadPart`.
    UploadPart,
    /// `CompleteMultipartUpload`.
    CompleteMultipartUpload,
    /// `CopyObject`, as its destination.
    CopyObject,
    /// `UploadPartCopy`, as its destination.
    UploadPartCopy,
    /// `PutObjectAcl`.
    PutObjectAcl,
    /// `PutObjectTagging`.
    PutObjectTagging,
    /// `PutObjectRetention`.
    PutObjectRetention,
    /// `PutObjectLegalHold`.
    PutObjectLegalHold,
}

/// Every call triage selects, with its CloudTrail event name.
pub const CALLS: &[(Call, &str)] = &[
    (Call::PutObject, "PutObject"),
    (Call::CreateMultipartUpload, "CreateMultipartUpload"),
    (Call::UploadPart, "UploadPart"),
    (Call::CompleteMultipartUpload, "CompleteMultipartUpload"),
    (Call::CopyObject, "CopyObject"),
    (Call::UploadPartCopy, "UploadPartCopy"),
    (Call::PutObjectAcl, "PutObjectAcl"),
    (Call::PutObjectTagging, "PutObjectTagging"),
    (Call::PutObjectRetention, "PutObjectRetention"),
    (Call::PutObjectLegalHold, "PutObjectLegalHold"),
];

impl Call {
    /// The call for a CloudTrail event name.
    pub fn from_event_name(name: &str) -> Option<Call> {
        CALLS.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
    }

    /// The API operation's name.
    pub fn as_str(self) -> &'static str {
        CALLS
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("PutObject", |(_, n)| n)
    }

    /// The kind of request: the calls of one upload are one kind.
    pub fn kind(self) -> CallKind {
        match self {
            Call::PutObject
            | Call::CreateMultipartUpload
            | Call::UploadPart
            | Call::CompleteMultipartUpload
            | Call::CopyObject
            | Call::UploadPartCopy => CallKind::Upload,
            Call::PutObjectAcl => CallKind::Acl,
            Call::PutObjectTagging => CallKind::Tagging,
            Call::PutObjectRetention => CallKind::Retention,
            Call::PutObjectLegalHold => CallKind::LegalHold,
        }
    }

    /// Whether the call is part of a multipart upload.
    pub fn is_multipart(self) -> bool {
        matches!(
            self,
            Call::CreateMultipartUpload
                | Call::UploadPart
                | Call::CompleteMultipartUpload
                | Call::UploadPartCopy
        )
    }
}

/// What a group's calls write: an object's data, or one of its settings. Groups are kept
/// apart by kind, since each needs its own permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CallKind {
    /// The object's data: `PutObject`, a multipart upload, a copy's destination.
    Upload,
    /// The object's ACL (`PutObjectAcl`).
    Acl,
    /// The object's tags (`PutObjectTagging`).
    Tagging,
    /// The object's Object Lock retention (`PutObjectRetention`).
    Retention,
    /// The object's Object Lock legal hold (`PutObjectLegalHold`).
    LegalHold,
}

impl CallKind {
    /// The kind in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Upload => "upload",
            CallKind::Acl => "acl",
            CallKind::Tagging => "tagging",
            CallKind::Retention => "retention",
            CallKind::LegalHold => "legal-hold",
        }
    }
}

/// The client a user agent names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ClientKind {
    /// The S3 console (`S3Console/...`).
    Console,
    /// The AWS CLI (`aws-cli/...`).
    Cli,
    /// An AWS SDK (`Boto3/`, `aws-sdk-java/`, `aws-sdk-go-v2/`, `aws-sdk-js/`...).
    Sdk,
    /// Another AWS service on the caller's behalf (`AWS Internal`, `*.amazonaws.com`).
    Service,
    /// Anything else, or no user agent.
    Other,
}

impl ClientKind {
    /// The client a user agent string names. The console is checked first: it runs an SDK
    /// and its user agent names both.
    pub fn from_user_agent(ua: &str) -> ClientKind {
        let lower = ua.to_ascii_lowercase();
        if lower.contains("s3console/") {
            ClientKind::Console
        } else if lower.contains("aws-cli/") {
            ClientKind::Cli
        } else if [
            "boto3/",
            "botocore/",
            "aws-sdk-",
            "aws-sdk/",
            "aws_sdk",
            "sdk-",
        ]
        .iter()
        .any(|s| lower.contains(s))
        {
            ClientKind::Sdk
        } else if lower == "aws internal" || lower.ends_with(".amazonaws.com") {
            ClientKind::Service
        } else {
            ClientKind::Other
        }
    }

    /// The client in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Console => "console",
            ClientKind::Cli => "cli",
            ClientKind::Sdk => "sdk",
            ClientKind::Service => "aws-service",
            ClientKind::Other => "other",
        }
    }
}

/// A record's id: CloudTrail's `eventID` (or its `requestID` when it has none), an access
/// log's request ID, or where the record was (`file:line`) when it has neither. Stored compactly: a triage keeps every id of every group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordId {
    /// A UUID (`eventID`), as its 128 bits.
    Uuid(u128),
    /// Any other id.
    Text(Box<str>),
}

impl RecordId {
    /// Reads an id, compactly when it is a UUID in lower-case hexadecimal.
    pub fn new(s: &str) -> RecordId {
        parse_uuid(s).map_or_else(|| RecordId::Text(s.into()), RecordId::Uuid)
    }
}

fn parse_uuid(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let mut v: u128 = 0;
    for (i, &c) in b.iter().enumerate() {
        if [8, 13, 18, 23].contains(&i) {
            continue;
        }
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        v = (v << 4) | u128::from(d);
    }
    Some(v)
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordId::Uuid(v) => {
                let h = format!("{v:032x}");
                write!(
                    f,
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            }
            RecordId::Text(s) => f.write_str(s),
        }
    }
}

/// Who made the call, as the record names them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller {
    /// The caller's ARN as the record gives it (an assumed-role session, a user, a root); for
    /// an access log, the requester field when it is an ARN. `None` for an anonymous caller.
    pub arn: Option<String>,
    /// The requester as an access log names it when it is not an ARN (a canonical user id).
    pub canonical_id: Option<String>,
    /// The role ARN of a session (`sessionContext.sessionIssuer.arn`), with its path.
    pub role_arn: Option<String>,
    /// The CloudTrail identity type (`AssumedRole`, `IAMUser`, `Root`, `FederatedUser`,
    /// `AWSService`...).
    pub kind: Option<String>,
    /// The access key that signed (`ASIA...` is temporary).
    pub access_key_id: Option<String>,
    /// `sessionContext.attributes.mfaAuthenticated`.
    pub mfa: Option<bool>,
    /// The service that called on the caller's behalf (`invokedBy`).
    pub invoked_by: Option<String>,
    /// `userIdentity.accountId`: for an `AWSAccount` caller (another account's principal, as
    /// the bucket owner's trail records it, without an ARN), the only name it has.
    pub account_id: Option<String>,
}

impl Caller {
    /// The caller's account, from its ARN.
    pub fn account(&self) -> Option<&str> {
        let arn = self.arn.as_deref().or(self.role_arn.as_deref())?;
        arn.split(':').nth(4).filter(|a| !a.is_empty())
    }

    /// The name of an assumed-role session (the last part of its ARN).
    pub fn session_name(&self) -> Option<&str> {
        let arn = self.arn.as_deref()?;
        let rest = arn.split_once(":assumed-role/")?.1;
        rest.split_once('/').map(|(_, s)| s)
    }

    /// Whether the record names no caller at all: an unsigned request (no ARN, no canonical
    /// id, no account; or CloudTrail's `ANONYMOUS_PRINCIPAL`).
    pub fn is_anonymous(&self) -> bool {
        self.arn.is_none()
            && self.canonical_id.is_none()
            && self
                .account_id
                .as_deref()
                .is_none_or(|a| a == "ANONYMOUS_PRINCIPAL")
            && self.invoked_by.is_none()
    }

    /// What groups callers: one key for every session of a role
    /// (`arn:aws:iam::111122223333:role/Name`, the path left out since access logs do not
    /// give it), the ARN for anyone else, the canonical id, `account:ID` for a principal of
    /// another account that the record does not name, `service:NAME` for an AWS service, or
    /// `anonymous`.
    pub fn group_key(&self) -> String {
        if let Some(arn) = &self.arn {
            if let Some((head, rest)) = arn.split_once(":assumed-role/") {
                let role = rest.split_once('/').map_or(rest, |(r, _)| r);
                let account = head.rsplit(':').next().unwrap_or_default();
                let partition = arn.split(':').nth(1).unwrap_or("aws");
                return format!("arn:{partition}:iam::{account}:role/{role}");
            }
            return arn.clone();
        }
        if let Some(id) = &self.canonical_id {
            return format!("canonical-user:{id}");
        }
        if self.is_anonymous() {
            return "anonymous".to_owned();
        }
        if let Some(a) = self
            .account_id
            .as_deref()
            .filter(|a| *a != "ANONYMOUS_PRINCIPAL")
        {
            return format!("account:{a}");
        }
        match &self.invoked_by {
            Some(s) => format!("service:{s}"),
            None => "anonymous".to_owned(),
        }
    }
}

/// The facts of one selected record: a refused upload call, or an allowed one (kept only for
/// "allowed later").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The format it came in.
    pub format: Format,
    /// Its id.
    pub id: RecordId,
    /// The request ID AWS gave the call (CloudTrail `requestID`; an access log's request ID
    /// is its `id`).
    pub request_id: Option<String>,
    /// The call.
    pub call: Call,
    /// When, as ISO 8601 UTC (`2026-12-05T10:00:00Z`): comparable as text.
    pub time: String,
    /// The caller.
    pub caller: Caller,
    /// The bucket.
    pub bucket: String,
    /// The object key, decoded.
    pub key: String,
    /// The error code (`AccessDenied`); `None` for an allowed call.
    pub code: Option<String>,
    /// The HTTP status, when the record gives it (access logs) or the code implies it.
    pub http_status: Option<u16>,
    /// The error message (CloudTrail only).
    pub message: Option<String>,
    /// The Region the call went to.
    pub region: Option<String>,
    /// The caller's public source address.
    pub source_ip: Option<String>,
    /// The VPC endpoint the call went through.
    pub vpc_endpoint: Option<String>,
    /// Whether the call used TLS, when the record says.
    pub tls: Option<bool>,
    /// The user agent.
    pub user_agent: Option<String>,
    /// A presigned URL (query-string authentication).
    pub presigned: bool,
    /// The access point the call went through (access logs, CloudTrail resources).
    pub access_point: Option<String>,
    /// Request headers the record carries, names lower-case (`x-amz-acl`,
    /// `x-amz-server-side-encryption`...).
    pub headers: BTreeMap<String, String>,
    /// The account that received the record (CloudTrail `recipientAccountId`).
    pub recipient_account: Option<String>,
    /// The access log's `aclRequired` field: the call needed an ACL to be allowed.
    pub acl_required: bool,
}

impl Record {
    /// The client its user agent names.
    pub fn client(&self) -> ClientKind {
        self.user_agent
            .as_deref()
            .map_or(ClientKind::Other, ClientKind::from_user_agent)
    }

    /// The key's prefix of `depth` folders (`reports/2026/` at depth 2 for
    /// `reports/2026/q3.csv`); empty for a key at the top of the bucket.
    pub fn prefix(&self, depth: usize) -> &str {
        prefix_of(&self.key, depth)
    }
}

/// The prefix of `depth` folders of `key`, slash included; empty when `key` has no folder.
pub fn prefix_of(key: &str, depth: usize) -> &str {
    let mut end = 0;
    for (n, (i, _)) in key.match_indices('/').enumerate() {
        if n >= depth {
            break;
        }
        end = i + 1;
    }
    &key[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stored_compactly_and_printed_back() {
        let s = "3038ebd2-c98a-4c65-9b6e-e22506292313";
        let id = RecordId::new(s);
        assert!(matches!(id, RecordId::Uuid(_)));
        assert_eq!(id.to_string(), s);
        assert_eq!(
            RecordId::new("3E57427F3EXAMPLE"),
            RecordId::Text("3E57427F3EXAMPLE".into())
        );
        // Upper-case is not how CloudTrail writes them: kept as text, printed as given.
        let up = "3038EBD2-C98A-4C65-9B6E-E22506292313";
        assert_eq!(RecordId::new(up).to_string(), up);
    }

    #[test]
    fn sessions_of_a_role_share_a_group_key() {
        let a = Caller {
            arn: Some("arn:aws:sts::111122223333:assumed-role/Uploader/alice".into()),
            ..Caller::default()
        };
        let b = Caller {
            arn: Some("arn:aws:sts::111122223333:assumed-role/Uploader/bob@example.com".into()),
            ..Caller::default()
        };
        assert_eq!(a.group_key(), b.group_key());
        assert_eq!(a.group_key(), "arn:aws:iam::111122223333:role/Uploader");
        assert_eq!(a.session_name(), Some("alice"));
        assert_eq!(a.account(), Some("111122223333"));
        assert_eq!(Caller::default().group_key(), "anonymous");
    }

    #[test]
    fn prefixes_stop_at_the_depth() {
        assert_eq!(prefix_of("reports/2026/q3.csv", 1), "reports/");
        assert_eq!(prefix_of("reports/2026/q3.csv", 2), "reports/2026/");
        assert_eq!(prefix_of("reports/2026/q3.csv", 5), "reports/2026/");
        assert_eq!(prefix_of("q3.csv", 1), "");
        assert_eq!(prefix_of("a/b", 0), "");
    }

    #[test]
    fn clients_from_user_agents() {
        use ClientKind::*;
        for (ua, c) in [
            (
                "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750]",
                Console,
            ),
            ("[aws-cli/2.22.0 md/awscrt#0.23.4 ua/2.0 os/linux]", Cli),
            ("[Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0]", Sdk),
            ("aws-sdk-go-v2/1.32.7 ua/2.1 os/linux", Sdk),
            ("AWS Internal", Service),
            ("curl/8.5.0", Other),
        ] {
            assert_eq!(ClientKind::from_user_agent(ua), c, "{ua}");
        }
    }
}
