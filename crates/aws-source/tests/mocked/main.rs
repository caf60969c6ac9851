//! The collector against mocked AWS clients (aws-smithy-mocks): what each kind of answer
//! becomes in the evidence (absent configuration, a denial with the action that would read it,
//! a retried throttle, a timeout, a malformed response), the KMS key and organization reads,
//! the number of calls and rounds, the reads a session shares between collections, and
//! uploads through access points (by ARN or alias), Multi-Region Access Points and to
//! directory buckets.

mod access_point;
mod alias;
mod directory;
mod identity;
mod kms_org;
mod mrap;
mod org_types;
mod s3;
mod s3_policy;
mod session;
mod world;
