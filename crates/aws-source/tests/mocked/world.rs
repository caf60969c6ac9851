//! A mocked AWS world: one client per service, each answering from its rules, and helpers
//! to run a collection against it.

pub(crate) use std::time::Duration;

pub(crate) use aws_sdk_iam::operation::get_policy::GetPolicyOutput;
pub(crate) use aws_sdk_iam::operation::get_policy_version::GetPolicyVersionOutput;
pub(crate) use aws_sdk_iam::operation::get_user::GetUserOutput;
pub(crate) use aws_sdk_iam::operation::get_user_policy::GetUserPolicyOutput;
pub(crate) use aws_sdk_iam::operation::list_attached_user_policies::ListAttachedUserPoliciesOutput;
pub(crate) use aws_sdk_iam::operation::list_groups_for_user::ListGroupsForUserOutput;
pub(crate) use aws_sdk_iam::operation::list_user_policies::ListUserPoliciesOutput;
pub(crate) use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
pub(crate) use aws_sdk_kms::operation::get_key_policy::GetKeyPolicyOutput;
pub(crate) use aws_sdk_kms::operation::list_grants::ListGrantsOutput;
pub(crate) use aws_sdk_organizations::operation::describe_organization::DescribeOrganizationOutput;
pub(crate) use aws_sdk_organizations::operation::describe_organizational_unit::DescribeOrganizationalUnitOutput;
pub(crate) use aws_sdk_organizations::operation::describe_policy::DescribePolicyOutput;
pub(crate) use aws_sdk_organizations::operation::list_parents::ListParentsOutput;
pub(crate) use aws_sdk_organizations::operation::list_policies_for_target::ListPoliciesForTargetOutput;
pub(crate) use aws_sdk_organizations::operation::list_roots::ListRootsOutput;
pub(crate) use aws_sdk_s3::operation::get_bucket_acl::GetBucketAclOutput;
pub(crate) use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput;
pub(crate) use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
pub(crate) use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
pub(crate) use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
pub(crate) use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
pub(crate) use why403_aws_source::{CallOutcome, Clients, CollectError, Collected, collect_with};
pub(crate) use why403_core::evidence::{IdentityKind, Slot};
pub(crate) use why403_core::upload::{Credentials, UploadRequest};
pub(crate) const ACCOUNT: &str = "111122223333";
pub(crate) const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
pub(crate) const CANONICAL: &str =
    "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
pub(crate) const KEY_ARN: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// `mock_client!`, but requests that no rule matches get the mock HTTP client's default
/// answer (a 418) instead of a panic: a world need not mock every read.
macro_rules! client {
    ($krate:ident, $rules:expr) => {
        client!($krate, $rules, |c| c)
    };
    ($krate:ident, $rules:expr, $extra:expr) => {{
        let mut i = MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .allow_passthrough();
        for r in $rules {
            i = i.with_rule(r);
        }
        let extra: fn($krate::config::Builder) -> $krate::config::Builder = $extra;
        $krate::Client::from_conf(
            extra(
                $krate::config::Config::builder()
                    .with_test_defaults_v2()
                    .http_client(aws_smithy_mocks::create_mock_http_client())
                    .interceptor(i),
            )
            .build(),
        )
    }};
}

pub(crate) fn retry_s3(c: aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder {
    c.retry_config(
        aws_sdk_s3::config::retry::RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1)),
    )
}

/// Rules per service; every service a test leaves empty answers nothing useful (the mock's
/// default response), which the collector must survive.
#[derive(Default)]
pub(crate) struct World {
    pub(crate) sts: Vec<Rule>,
    pub(crate) s3: Vec<Rule>,
    pub(crate) s3c: Vec<Rule>,
    pub(crate) iam: Vec<Rule>,
    pub(crate) kms: Vec<Rule>,
    pub(crate) org: Vec<Rule>,
    /// Rules of the organization credentials (`--org-profile`), when there are any.
    pub(crate) org_admin: Option<Vec<Rule>>,
    pub(crate) never_kms: bool,
    /// When set, every S3 answer waits for a permit of this semaphore (see [`Gated`]).
    pub(crate) s3_gate: Option<std::sync::Arc<tokio::sync::Semaphore>>,
}

impl World {
    /// Alice in her account, a bucket in eu-west-1 that her account owns.
    pub(crate) fn alice() -> World {
        let mut w = World::default();
        w.sts.push(
            mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
                GetCallerIdentityOutput::builder()
                    .account(ACCOUNT)
                    .arn(ALICE)
                    .user_id("AIDAEXAMPLE")
                    .build()
            }),
        );
        w.s3.push(mock!(aws_sdk_s3::Client::head_bucket).then_output(|| {
            HeadBucketOutput::builder()
                .bucket_region("eu-west-1")
                .build()
        }));
        w.s3.push(mock!(aws_sdk_s3::Client::list_buckets).then_output(|| {
            ListBucketsOutput::builder()
                .owner(aws_sdk_s3::types::Owner::builder().id(CANONICAL).build())
                .build()
        }));
        w
    }

    pub(crate) fn acl(mut self) -> World {
        self.s3
            .push(mock!(aws_sdk_s3::Client::get_bucket_acl).then_output(|| {
                GetBucketAclOutput::builder()
                    .owner(aws_sdk_s3::types::Owner::builder().id(CANONICAL).build())
                    .build()
            }));
        self
    }

    pub(crate) fn clients(&self) -> Clients {
        fn refs(v: &[Rule]) -> Vec<&Rule> {
            v.iter().collect()
        }
        let kms = if self.never_kms {
            client!(aws_sdk_kms, refs(&self.kms), |c| {
                c.http_client(aws_smithy_http_client::test_util::NeverClient::new())
                    .timeout_config(
                        aws_sdk_kms::config::timeout::TimeoutConfig::builder()
                            .operation_timeout(Duration::from_millis(200))
                            .build(),
                    )
            })
        } else {
            client!(aws_sdk_kms, refs(&self.kms))
        };
        let mut s3 = client!(aws_sdk_s3, refs(&self.s3), retry_s3);
        if let Some(gate) = &self.s3_gate {
            let gated = Gated {
                inner: aws_smithy_mocks::create_mock_http_client(),
                gate: std::sync::Arc::clone(gate),
            };
            s3 = aws_sdk_s3::Client::from_conf(
                s3.config()
                    .to_builder()
                    .http_client(aws_smithy_runtime_api::client::http::SharedHttpClient::new(
                        gated,
                    ))
                    .build(),
            );
        }
        Clients {
            sts: client!(aws_sdk_sts, refs(&self.sts)),
            iam: client!(aws_sdk_iam, refs(&self.iam)),
            s3,
            s3control: client!(aws_sdk_s3control, refs(&self.s3c)),
            kms,
            organizations: client!(aws_sdk_organizations, refs(&self.org)),
            org_admin: self
                .org_admin
                .as_ref()
                .map(|rules| client!(aws_sdk_organizations, refs(rules))),
        }
    }
}

/// The mock HTTP client, answering only once a permit of `gate` is available: a test holds
/// the answers back to keep reads in flight.
#[derive(Debug)]
pub(crate) struct Gated {
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    gate: std::sync::Arc<tokio::sync::Semaphore>,
}

impl aws_smithy_runtime_api::client::http::HttpClient for Gated {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(GatedConnector {
            inner: self.inner.http_connector(settings, components),
            gate: std::sync::Arc::clone(&self.gate),
        })
    }
}

#[derive(Debug)]
struct GatedConnector {
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    gate: std::sync::Arc<tokio::sync::Semaphore>,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for GatedConnector {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let inner = self.inner.clone();
        let gate = std::sync::Arc::clone(&self.gate);
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(async move {
            let _permit = gate.acquire().await;
            inner.call(request).await
        })
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("no runtime: {e}"))
}

pub(crate) fn run_with(
    world: &World,
    req: &UploadRequest,
    principal: Option<&str>,
) -> Result<Collected, CollectError> {
    let clients = world.clients();
    runtime().block_on(collect_with(&clients, req, principal, &|_| {}))
}

pub(crate) fn run(world: &World) -> Collected {
    run_with(
        world,
        &UploadRequest::new("amzn-s3-demo-bucket", "report.csv"),
        None,
    )
    .unwrap_or_else(|e| panic!("collection failed: {e}"))
}

pub(crate) fn s3_error(
    status: u16,
    code: &str,
) -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    answer(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{code} message</Message></Error>"
        ),
    )
}

/// S3 Control wraps its errors in `ErrorResponse`.
pub(crate) fn control_error(
    status: u16,
    code: &str,
) -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    answer(
        status,
        format!(
            "<ErrorResponse><Error><Code>{code}</Code><Message>{code} message</Message></Error></ErrorResponse>"
        ),
    )
}

fn answer(status: u16, body: String) -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
        status.try_into().unwrap_or_else(|e| panic!("{e}")),
        aws_smithy_types::body::SdkBody::from(body),
    )
}

/// An Organizations error answer (JSON, `__type` `code`).
pub(crate) fn org_error(code: &str) -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
        400.try_into().unwrap_or_else(|e| panic!("{e}")),
        aws_smithy_types::body::SdkBody::from(format!(
            r#"{{"__type":"{code}","Message":"{code} message"}}"#
        )),
    )
}

/// `DescribeOrganization`: organization `o-exampleorgid` of management account 999988887777.
pub(crate) fn describe_organization(
    features: aws_sdk_organizations::types::OrganizationFeatureSet,
) -> Rule {
    mock!(aws_sdk_organizations::Client::describe_organization).then_output(move || {
        DescribeOrganizationOutput::builder()
            .organization(
                aws_sdk_organizations::types::Organization::builder()
                    .id("o-exampleorgid")
                    .master_account_id("999988887777")
                    .feature_set(features.clone())
                    .build(),
            )
            .build()
    })
}

/// `DescribeOrganization` answered `AWSOrganizationsNotInUseException`.
pub(crate) fn not_in_organization() -> Rule {
    mock!(aws_sdk_organizations::Client::describe_organization)
        .then_http_response(|| org_error("AWSOrganizationsNotInUseException"))
}

/// The rules of a diagnosis's cause findings.
pub(crate) fn cause_ids(d: &why403_core::finding::Diagnosis) -> Vec<&str> {
    d.findings
        .iter()
        .filter(|f| f.role == why403_core::finding::Role::Cause)
        .map(|f| f.rule.id.as_str())
        .collect()
}

pub(crate) fn empty(status: u16) -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
        status.try_into().unwrap_or_else(|e| panic!("{e}")),
        aws_smithy_types::body::SdkBody::empty(),
    )
}

/// The access point read, which must be there.
pub(crate) fn access_point(got: &Collected) -> &why403_core::evidence::AccessPoint {
    got.evidence
        .access_point
        .get()
        .unwrap_or_else(|| panic!("{:?}", got.evidence.access_point))
}

/// The round of the first call to `api` (`s3:HeadBucket`).
pub(crate) fn round_of(got: &Collected, api: &str) -> u32 {
    got.stats
        .per_call
        .iter()
        .find(|c| c.api == api)
        .map(|c| c.round)
        .unwrap_or_else(|| panic!("{api} not called: {:#?}", got.stats.per_call))
}

pub(crate) fn unavailable<T: std::fmt::Debug>(s: &Slot<T>) -> &why403_core::evidence::Unavailable {
    s.unavailable()
        .unwrap_or_else(|| panic!("expected Unavailable, found {s:?}"))
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// `GetUser` answering for `name` (in [`ACCOUNT`]).
pub(crate) fn get_user(name: &'static str, id: &'static str) -> Rule {
    mock!(aws_sdk_iam::Client::get_user)
        .match_requests(move |r| r.user_name() == Some(name))
        .then_output(move || {
            GetUserOutput::builder()
                .user(ok(aws_sdk_iam::types::User::builder()
                    .path("/")
                    .user_name(name)
                    .user_id(id)
                    .arn(format!("arn:aws:iam::{ACCOUNT}:user/{name}"))
                    .create_date(aws_smithy_types::DateTime::from_secs(0))
                    .build()))
                .build()
        })
}

/// `GetRole` answering for `name` (in [`ACCOUNT`]).
pub(crate) fn get_role(name: &'static str, id: &'static str) -> Rule {
    mock!(aws_sdk_iam::Client::get_role)
        .match_requests(move |r| r.role_name() == Some(name))
        .then_output(move || {
            aws_sdk_iam::operation::get_role::GetRoleOutput::builder()
                .role(ok(aws_sdk_iam::types::Role::builder()
                    .path("/")
                    .role_name(name)
                    .role_id(id)
                    .arn(format!("arn:aws:iam::{ACCOUNT}:role/{name}"))
                    .create_date(aws_smithy_types::DateTime::from_secs(0))
                    .build()))
                .build()
        })
}

/// Every targeted list of users, groups and roles, empty (rules match in order: put the
/// rules of a test's own answers before these).
pub(crate) fn empty_iam_lists() -> Vec<Rule> {
    use aws_sdk_iam::operation::{
        list_attached_group_policies::ListAttachedGroupPoliciesOutput,
        list_attached_role_policies::ListAttachedRolePoliciesOutput,
        list_group_policies::ListGroupPoliciesOutput, list_role_policies::ListRolePoliciesOutput,
    };
    vec![
        mock!(aws_sdk_iam::Client::list_user_policies).then_output(|| {
            ok(ListUserPoliciesOutput::builder()
                .set_policy_names(Some(Vec::new()))
                .build())
        }),
        mock!(aws_sdk_iam::Client::list_attached_user_policies)
            .then_output(|| ListAttachedUserPoliciesOutput::builder().build()),
        mock!(aws_sdk_iam::Client::list_groups_for_user).then_output(|| {
            ok(ListGroupsForUserOutput::builder()
                .set_groups(Some(Vec::new()))
                .build())
        }),
        mock!(aws_sdk_iam::Client::list_role_policies).then_output(|| {
            ok(ListRolePoliciesOutput::builder()
                .set_policy_names(Some(Vec::new()))
                .build())
        }),
        mock!(aws_sdk_iam::Client::list_attached_role_policies)
            .then_output(|| ListAttachedRolePoliciesOutput::builder().build()),
        mock!(aws_sdk_iam::Client::list_group_policies).then_output(|| {
            ok(ListGroupPoliciesOutput::builder()
                .set_policy_names(Some(Vec::new()))
                .build())
        }),
        mock!(aws_sdk_iam::Client::list_attached_group_policies)
            .then_output(|| ListAttachedGroupPoliciesOutput::builder().build()),
    ]
}
