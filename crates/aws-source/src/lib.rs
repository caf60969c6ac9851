//! why403's live source: reads the evidence about an upload from AWS with read-only calls
//! (`Get*`, `List*`, `Describe*`, `Head*`), concurrently, and fills the same [`Evidence`] a
//! scenario file gives for the same world.
//!
//! Credentials, Region and endpoint are resolved as the AWS CLI resolves them (environment,
//! profile, SSO, `credential_process`, web identity, container and instance metadata;
//! `AWS_ENDPOINT_URL`). A read that AWS refuses is evidence, not an error: the fact becomes
//! [`Slot::Unavailable`](why403_core::evidence::Slot::Unavailable) with the IAM action that
//! would read it. Only failures that leave nothing to read (no credentials, an endpoint that
//! cannot be reached, a bucket that does not exist) are a [`CollectError`].
//!
//! ```no_run
//! # async fn f() -> Result<(), why403_aws_source::CollectError> {
//! use why403_aws_source::{LiveOptions, collect};
//! use why403_core::upload::UploadRequest;
//!
//! let target = UploadRequest::new("amzn-s3-demo-bucket", "report.csv");
//! let got = collect(&LiveOptions::default(), &target, &|call: &str| eprintln!("{call}")).await?;
//! println!("{} calls in {} rounds", got.stats.calls, got.stats.rounds);
//! # Ok(()) }
//! ```
//!
//! To diagnose many uploads in one process, collect through one [`Session`]: each distinct
//! read (a bucket's configuration, a principal's identity, a KMS key, an account's
//! organization path...) is then made once and shared by every collection that needs it. A
//! server that answers questions over hours takes its sessions from a [`SessionPool`], which
//! shares one only for a while and never for the same question twice.

#![warn(missing_docs, unreachable_pub)]

mod access_point;
mod bucket;
mod call;
mod collect;
mod config;
mod identity;
mod kms;
mod org;
mod pool;
mod session;
mod who;

use std::time::Duration;

use why403_core::evidence::Evidence;
use why403_core::upload::UploadRequest;

pub use call::{Api, CallOutcome, CallStat};
pub use config::{Clients, load_config};
pub use pool::{FreshBecause, Lease, Reuse, SessionPool};
pub use session::Session;

/// Where and as whom to read.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// The named profile (`--profile`); default: `AWS_PROFILE`, then `default`.
    pub profile: Option<String>,
    /// A profile with the organization's management or delegated administrator account, to
    /// read SCPs and RCPs (`--org-profile`); default: the same credentials.
    pub org_profile: Option<String>,
    /// The Region for the first calls (`--region`); default: `AWS_REGION`, the profile, then
    /// `us-east-1`. Bucket calls always go to the bucket's own Region.
    pub region: Option<String>,
    /// An endpoint for every service (`--endpoint-url`; `AWS_ENDPOINT_URL` also works), for
    /// local emulators such as moto. S3 then uses path-style addressing.
    pub endpoint_url: Option<String>,
    /// The caller to diagnose, when it is not the one whose credentials read (`--principal`):
    /// an IAM user, an assumed-role session or the account root.
    pub principal: Option<String>,
    /// The time one call may take, retries included; default 30 s.
    pub timeout: Option<Duration>,
}

impl LiveOptions {
    /// The per-call timeout in force.
    pub fn call_timeout(&self) -> Duration {
        self.timeout.unwrap_or(Duration::from_secs(30))
    }
}

/// What a collection read.
#[derive(Debug, Clone)]
pub struct Collected {
    /// The upload with its principal (the caller, or `--principal`), credentials kind and time
    /// filled in.
    pub request: UploadRequest,
    /// Everything read about the upload; a read that failed is an unavailable slot naming the
    /// call and the IAM action it needs.
    pub evidence: Evidence,
    /// What the reading cost.
    pub stats: Stats,
}

/// How many calls a collection made, and how many rounds of calls that had to wait for one
/// another.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// The AWS API calls made, retries not counted.
    pub calls: usize,
    /// The longest chain of calls where each needed the answer of the one before.
    pub rounds: u32,
    /// Wall time of the whole collection.
    pub elapsed: Duration,
    /// Every call, in the order they finished.
    pub per_call: Vec<CallStat>,
    /// Why the reading took a costlier way than its targeted reads: each time the caller's
    /// policies were read with `iam:GetAccountAuthorizationDetails` (the whole account), the
    /// refusal that made it necessary.
    pub notes: Vec<String>,
}

impl Stats {
    /// How many calls were made to `api` (`s3:GetBucketPolicy`).
    pub fn count(&self, api: &str) -> usize {
        self.per_call.iter().filter(|c| c.api == api).count()
    }
}

/// A failure that leaves nothing to read.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CollectError {
    /// No credential source of the SDK's chain gave credentials.
    #[error(
        "no AWS credentials found: set AWS_PROFILE (or pass --profile), set AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY, or run `aws sso login` for an SSO profile"
    )]
    NoCredentials,
    /// A credential source failed (a profile that does not exist, an expired SSO token...).
    #[error("cannot load AWS credentials{}: {message}", profile_suffix(.profile))]
    Credentials {
        /// The profile asked for, if any.
        profile: Option<String>,
        /// What the SDK said.
        message: String,
    },
    /// The credential chain did not answer in time (usually the EC2 instance metadata
    /// service, outside EC2).
    #[error(
        "no AWS credentials after {secs} s{}: the last source tried may be the EC2 instance \
         metadata service; set AWS_EC2_METADATA_DISABLED=true outside EC2, or configure credentials",
        profile_suffix(.profile)
    )]
    CredentialsTimeout {
        /// The profile asked for, if any.
        profile: Option<String>,
        /// How long the chain was given.
        secs: u64,
    },
    /// STS refused the credentials (`InvalidClientTokenId`, `ExpiredToken`,
    /// `SignatureDoesNotMatch`...).
    #[error("AWS rejected the credentials: {message}")]
    InvalidCredentials {
        /// STS's error.
        message: String,
    },
    /// No answer from the endpoint (DNS, connection, TLS, timeout).
    #[error("cannot reach AWS: {message}")]
    Endpoint {
        /// What failed.
        message: String,
    },
    /// The endpoint answered, but not with anything AWS answers (a body over the limit, a
    /// response that does not parse).
    #[error("the endpoint's answer cannot be used: {message}")]
    Response {
        /// What is wrong with the answer.
        message: String,
    },
    /// The bucket does not exist: nothing about it can be read, and the upload's error is
    /// not an access denial.
    #[error(
        "bucket `{bucket}` does not exist (HeadBucket answered 404): an upload to it fails with \
         NoSuchBucket, not AccessDenied"
    )]
    NoSuchBucket {
        /// The bucket's name.
        bucket: String,
    },
    /// The access point the upload names cannot be read, so neither can the bucket it is
    /// attached to.
    #[error(
        "cannot read access point `{arn}` (s3:GetAccessPoint), which names the bucket the upload \
         goes to: {message}"
    )]
    AccessPoint {
        /// The access point's ARN.
        arn: String,
        /// Why.
        message: String,
    },
    /// The Multi-Region Access Point the upload names cannot be read, or does not say which
    /// bucket the upload goes to.
    #[error(
        "cannot tell which bucket the upload through Multi-Region Access Point `{arn}` goes to: {message}"
    )]
    MultiRegionAccessPoint {
        /// The Multi-Region Access Point's ARN.
        arn: String,
        /// Why, and what to give.
        message: String,
    },
    /// `--principal` cannot be diagnosed (not an ARN of a user, a role session or a root, or
    /// of another account than the credentials can read).
    #[error("{message}")]
    Principal {
        /// Why, and what to give instead.
        message: String,
    },
}

fn profile_suffix(p: &Option<String>) -> String {
    p.as_ref()
        .map(|p| format!(" for profile `{p}`"))
        .unwrap_or_default()
}

/// Reads the evidence about `target` (bucket, key, headers and operation; its `principal`, if
/// set, is diagnosed like [`LiveOptions::principal`]). `progress` is told the name of each call
/// as it starts (`s3:GetBucketPolicy`).
pub async fn collect(
    opts: &LiveOptions,
    target: &UploadRequest,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Collected, CollectError> {
    progress("loading credentials");
    let session = Session::load(opts).await?;
    let principal = opts.principal.as_deref().or(target.principal.as_deref());
    session.collect(target, principal, progress).await
}

/// [`collect`] with clients made elsewhere (tests inject mocked clients here). Each call is a
/// session of its own; to diagnose many uploads, make one [`Session`] and collect through it.
pub async fn collect_with(
    clients: &Clients,
    target: &UploadRequest,
    principal: Option<&str>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Collected, CollectError> {
    Session::new(clients.clone())
        .collect(target, principal, progress)
        .await
}

/// Every AWS operation this crate can call, as `service:Operation`. All are reads; a test
/// checks this list against the source.
pub const OPERATIONS: &[&str] = &[
    "sts:GetCallerIdentity",
    "s3:HeadBucket",
    "s3:GetBucketLocation",
    "s3:ListBuckets",
    "s3:GetBucketPolicy",
    "s3:GetBucketAcl",
    "s3:GetBucketEncryption",
    "s3:GetBucketOwnershipControls",
    "s3:GetPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3control:GetPublicAccessBlock",
    "s3control:GetAccessPoint",
    "s3control:GetAccessPointPolicy",
    "s3control:ListAccessPoints",
    "s3control:ListMultiRegionAccessPoints",
    "s3control:GetMultiRegionAccessPointPolicy",
    "s3control:GetMultiRegionAccessPointRoutes",
    "iam:GetAccountAuthorizationDetails",
    "iam:GetUser",
    "iam:GetRole",
    "iam:ListUserPolicies",
    "iam:GetUserPolicy",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListGroupPolicies",
    "iam:GetGroupPolicy",
    "iam:ListAttachedGroupPolicies",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:ListGrants",
    "organizations:DescribeOrganization",
    "organizations:ListRoots",
    "organizations:ListParents",
    "organizations:DescribeOrganizationalUnit",
    "organizations:ListPoliciesForTarget",
    "organizations:DescribePolicy",
    "organizations:DescribeEffectivePolicy",
];
