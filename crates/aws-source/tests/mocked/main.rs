//! The collector against mocked AWS clients (aws-smithy-mocks): what each kind of answer
//! becomes in the evidence (absent configuration, a denial with the action that would read it,
//! a retried throttle, a timeout, a malformed response), the KMS key and organization reads,
//! the number of calls and rounds, and the reads a session shares between collections.

mod access_point;
mod identity;
mod kms_org;
mod org_types;
mod s3;
mod s3_policy;
mod session;
mod world;
