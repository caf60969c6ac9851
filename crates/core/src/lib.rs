//! why403 core: the IAM policy language, AWS's layered authorization logic, the evidence model,
//! rules and diagnosis. No I/O, no async runtime, no AWS SDK.
//!
//! A program diagnoses uploads it knows about by implementing [`Source`] (one upload and its
//! [`Evidence`]) and handing what it reads to a [`Diagnoser`]:
//!
//! ```
//! use why403_core::evidence::{Caller, Identity};
//! use why403_core::{Diagnoser, Evidence, Policy, PolicyError, PolicyKind, Registry};
//! use why403_core::{Source, UploadRequest, Verdict};
//!
//! /// This program's record of an upload: who sent it where, and the caller's one policy.
//! struct Record {
//!     caller: String,
//!     bucket: String,
//!     key: String,
//!     policy: String,
//! }
//!
//! impl Source for Record {
//!     type Error = PolicyError;
//!
//!     fn read(&mut self) -> Result<(UploadRequest, Evidence), PolicyError> {
//!         let name = format!("identity policy of {}", self.caller);
//!         let policy = Policy::parse(&name, PolicyKind::Identity, &self.policy)?;
//!         let id = "AIDACKCEVSQ6C2EXAMPLE";
//!         let evidence = Evidence::builder(&self.bucket)
//!             .caller(Caller::new(&self.caller, id))
//!             .identity(Identity::from_arn(&self.caller, id).with_policy(policy))
//!             .bucket_owner("111122223333")
//!             .region("us-east-1")
//!             .rest_absent(); // everything else: known not to exist
//!         Ok((UploadRequest::new(&self.bucket, &self.key), evidence))
//!     }
//! }
//!
//! let mut source = Record {
//!     caller: "arn:aws:iam::111122223333:user/alice".to_owned(),
//!     bucket: "amzn-s3-demo-bucket".to_owned(),
//!     key: "exports/q3.csv".to_owned(),
//!     policy: r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
//!         "Action": "s3:PutObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/reports/*"}]}"#
//!         .to_owned(),
//! };
//! // The built-in rules are in the `why403-rules` crate (`why403_rules::registry()`).
//! let registry = Registry::default();
//! let (request, evidence) = source.read()?;
//! let diagnosis = Diagnoser::new(&registry).diagnose(request, evidence);
//! assert_eq!(diagnosis.verdict, Verdict::Denied); // `reports/*` does not cover `exports/`
//!
//! // A record the source cannot read is its error, not a panic.
//! source.policy = "{".to_owned();
//! assert!(source.read().is_err());
//! # Ok::<(), PolicyError>(())
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod analysis;
// The policy language and evaluator live in `why403-policy`; core re-exports them so that
// `why403_core::policy`, `why403_core::eval`... stay the paths rules and embedders use.
pub use why403_policy::{condition, context, eval, json, pattern, policy};
pub mod client;
mod diagnoser;
pub mod evidence;
pub mod finding;
pub mod render;
pub mod rule;
pub mod source;
pub mod upload;

pub use analysis::Verdict;
pub use context::RequestContext;
pub use diagnoser::{Diagnoser, INPUT_NOTES, Observed, notes_finding};
pub use eval::{Decision, Evaluation, Layer, PolicySet, Request, RequestPrincipal};
pub use evidence::{Evidence, EvidenceBuilder};
pub use finding::Diagnosis;
pub use policy::{Policy, PolicyError, PolicyKind};
pub use rule::Registry;
pub use source::Source;
pub use upload::UploadRequest;
