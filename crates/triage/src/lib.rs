//! Triage of many refusals at once: reads CloudTrail events (log files as delivered to S3,
//! `lookup-events` output, CloudTrail Lake query results, EventBridge events) and S3 server
//! access logs, gzip or not, from files, folders or a stream; selects the refused uploads and
//! their cousins; groups them by caller (every session of a role together), bucket, key
//! prefix, kind of call, error code and what the message proves; and gives each group an
//! outcome, from evidence (a [`Diagnoser`](why403_core::Diagnoser) run on the group's latest
//! record) or from the records alone.
//!
//! The crate does no AWS reads and prints nothing: the `why403 triage` command reads evidence
//! (live or from scenario files) and renders the [`Report`]. Input is streamed: memory grows
//! with the number of groups and with one compact id per selected record, not with the input.
//!
//! ```
//! use why403_triage::{Options, Progress, Triage, read_stream};
//!
//! let file = br#"{"Records":[{"eventVersion":"1.09","eventSource":"s3.amazonaws.com",
//!   "eventName":"PutObject","eventTime":"2026-12-05T10:00:00Z","errorCode":"AccessDenied",
//!   "errorMessage":"Access Denied","eventID":"3038ebd2-c98a-4c65-9b6e-e22506292313",
//!   "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Uploader/alice"},
//!   "requestParameters":{"bucketName":"amzn-s3-demo-bucket","key":"reports/q3.csv"}}]}"#;
//! let mut t = Triage::new(Options::default());
//! read_stream(&file[..], "example.json", 0, &mut t, &Progress::default());
//! let (groups, counts, problems) = t.finish();
//! assert_eq!((counts.records, counts.selected, problems.len()), (1, 1, 0));
//! assert_eq!(groups[0].key.caller, "arn:aws:iam::111122223333:role/Uploader");
//! assert_eq!(groups[0].key.prefix, "reports/");
//! ```

#![warn(missing_docs, unreachable_pub)]

mod accesslog;
mod cloudtrail;
mod group;
mod model;
mod read;
mod record;
mod report;
mod scan;
mod suppress;

pub use group::{Counts, Group, GroupKey, MAX_PROBLEMS, Options, Triage, proves};
pub use model::{
    Basis, Outcome, client_of, diagnosable, diagnose, diagnose_request, explain, parsed_of,
    request_of,
};
pub use read::{Input, Problem, Progress, expand, read_all, read_one, read_stream};
pub use record::{CALLS, Call, CallKind, Caller, ClientKind, Format, Record, RecordId, prefix_of};
pub use report::{
    Report, Row, SCHEMA_ID, caller_words, disagreements, html, json_row, jsonl, no_data_events,
    table,
};
pub use suppress::{SuppressError, Suppression, glob, parse as parse_suppress};
