//! why403 core: the IAM policy language, AWS's layered authorization logic, the evidence model,
//! rules and diagnosis. No I/O, no async runtime, no AWS SDK.

pub mod analysis;
pub mod batch;
pub mod client;
pub mod condition;
pub mod context;
mod diagnoser;
pub mod eval;
pub mod evidence;
pub mod finding;
pub mod json;
pub mod message;
pub mod pattern;
pub mod policy;
pub mod render;
pub mod rule;
pub mod upload;

pub use analysis::Verdict;
pub use context::RequestContext;
pub use diagnoser::Diagnoser;
pub use eval::{Decision, Evaluation, Layer, PolicySet, Request, RequestPrincipal};
pub use evidence::{Evidence, EvidenceBuilder};
pub use finding::Diagnosis;
pub use policy::{Policy, PolicyError, PolicyKind};
pub use rule::Registry;
pub use upload::UploadRequest;
