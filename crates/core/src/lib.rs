//! why403 core: the IAM policy language, AWS's layered authorization logic, and (later) the
//! evidence model, rules and diagnosis. No I/O, no async runtime, no AWS SDK.

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
