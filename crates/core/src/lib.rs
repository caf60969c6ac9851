//! why403 core: the IAM policy language, AWS's layered authorization logic, the evidence model,
//! rules and diagnosis. No I/O, no async runtime, no AWS SDK.

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
pub mod upload;

pub use analysis::Verdict;
pub use context::RequestContext;
pub use diagnoser::{Diagnoser, INPUT_NOTES, Observed, notes_finding};
pub use eval::{Decision, Evaluation, Layer, PolicySet, Request, RequestPrincipal};
pub use evidence::{Evidence, EvidenceBuilder};
pub use finding::Diagnosis;
pub use policy::{Policy, PolicyError, PolicyKind};
pub use rule::Registry;
pub use upload::UploadRequest;
