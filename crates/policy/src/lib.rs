//! The IAM policy language and AWS's layered authorization logic, as why403 uses them: parse
//! a policy document keeping the span and JSON pointer of every element, build the request
//! context, and evaluate one authorization request against every policy layer (SCPs and RCPs
//! per level, the resource policy, identity policies, permissions boundary, session policy,
//! VPC endpoint policies) with the deciding statements and, for each statement that did not
//! apply, the first element or condition that failed. No I/O, no AWS SDK.
//!
//! With the `batch` feature, [`batch`] reads and evaluates `why403 eval`'s JSON Lines.
//!
//! # Example: evaluate one request
//!
//! ```
//! use why403_policy::{Decision, Policy, PolicyKind, PolicySet, Request, RequestContext, RequestPrincipal};
//!
//! let policy = Policy::parse(
//!     "uploader",
//!     PolicyKind::Identity,
//!     r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Upload", "Effect": "Allow",
//!        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::reports/incoming/*"}]}"#,
//! )?;
//! let set = PolicySet { identity: vec![policy], ..PolicySet::default() };
//! let caller = RequestPrincipal::parse(Some("arn:aws:iam::111122223333:role/Uploader"));
//! let request = |key: &str| {
//!     Request::new(caller.clone(), "s3:PutObject", &format!("arn:aws:s3:::reports/{key}"), RequestContext::default())
//! };
//!
//! assert_eq!(set.evaluate(&request("incoming/q3.csv")).decision, Decision::Allowed);
//! // Outside the prefix nothing allows: an implicit deny.
//! assert_eq!(set.evaluate(&request("archive/q3.csv")).decision, Decision::ImplicitlyDenied);
//! # Ok::<(), why403_policy::PolicyError>(())
//! ```

#![warn(missing_docs, unreachable_pub)]

#[cfg(feature = "batch")]
pub mod batch;
pub mod condition;
pub mod context;
pub mod eval;
pub mod json;
pub mod pattern;
pub mod policy;

pub use context::RequestContext;
pub use eval::{Decision, Evaluation, Layer, PolicySet, Request, RequestPrincipal};
pub use policy::{Policy, PolicyError, PolicyKind};
