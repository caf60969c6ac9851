//! How a role's live diagnosis grows with the account, against mocked AWS clients that answer
//! after a delay: every call `--call-ms` (default 40 ms), and each page of
//! `GetAccountAuthorizationDetails` (at most 1,000 entities, as AWS pages it) `--page-ms`
//! (default 1,000 ms: one of IAM's slowest calls). For each account size (`--roles`,
//! comma-separated, with `--policies` customer managed policies), two readers: one allowed the
//! targeted reads, one refused them (`GetRole` answers 403), which falls back to the whole
//! account's authorization details, page after page.
//!
//! Prints one line per size and reader:
//! `roles=R policies=P path=targeted|fallback calls=N rounds=K gaad_pages=G wall_ms=W`.
//! `cargo xtask bench-live` runs it (release) and reports its figures; it is not a test.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::types::{AttachedPolicy, ManagedPolicyDetail, PolicyVersion, RoleDetail};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use why403_aws_source::{Clients, collect_with};
use why403_core::upload::UploadRequest;

const ACCOUNT: &str = "111122223333";
const READER: &str = "arn:aws:iam::111122223333:user/reader";
const ROLE: &str = "uploader";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/uploader/growth";
const MANAGED: &str = "arn:aws:iam::111122223333:policy/uploads";
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#;
/// Entities per page of the authorization details, as AWS pages them at most.
const PAGE: usize = 1000;

/// A client of `$krate` answering from `$rules` after the delay; requests no rule matches get
/// the mock's default answer.
macro_rules! client {
    ($krate:ident, $rules:expr, $delay:expr) => {{
        let mut i = MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .allow_passthrough();
        for r in $rules.iter() {
            i = i.with_rule(r);
        }
        $krate::Client::from_conf(
            $krate::config::Config::builder()
                .with_test_defaults_v2()
                .http_client(SharedHttpClient::new(Delayed {
                    inner: aws_smithy_mocks::create_mock_http_client(),
                    delay: $delay,
                }))
                .interceptor(i)
                .build(),
        )
    }};
}

struct Options {
    roles: Vec<usize>,
    policies: usize,
    call: Duration,
    page: Duration,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        roles: vec![10, 1000, 10_000],
        policies: 3000,
        call: Duration::from_millis(40),
        page: Duration::from_millis(1000),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        let number = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{a}: `{v}` is not a whole number"))
        };
        match a.as_str() {
            "--roles" => {
                o.roles = value()?.split(',').map(number).collect::<Result<_, _>>()?;
            }
            "--policies" => o.policies = number(&value()?)?,
            "--call-ms" => o.call = Duration::from_millis(number(&value()?)? as u64),
            "--page-ms" => o.page = Duration::from_millis(number(&value()?)? as u64),
            _ => {
                return Err(format!(
                    "unknown argument `{a}` (known: --roles N,N,... --policies N --call-ms MS \
                     --page-ms MS)"
                ));
            }
        }
    }
    if o.roles.is_empty() || o.roles.contains(&0) {
        return Err("--roles needs sizes of at least 1".to_owned());
    }
    Ok(o)
}

fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("live_growth: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("live_growth: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let target = UploadRequest::new("amzn-s3-demo-bucket", "report.csv");
    for &roles in &o.roles {
        for refused in [false, true] {
            let clients = clients(&o, roles, refused);
            let got = rt.block_on(collect_with(&clients, &target, Some(SESSION), &|_| {}));
            let got = match got {
                Ok(g) => g,
                Err(e) => {
                    eprintln!("live_growth: the collection failed: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if got.evidence.identity.get().is_none() {
                eprintln!(
                    "live_growth: the role's policies were not read: {:?}",
                    got.evidence.identity
                );
                return ExitCode::FAILURE;
            }
            println!(
                "roles={roles} policies={} path={} calls={} rounds={} gaad_pages={} wall_ms={}",
                o.policies,
                if refused { "fallback" } else { "targeted" },
                got.stats.calls,
                got.stats.rounds,
                got.stats.count("iam:GetAccountAuthorizationDetails"),
                got.stats.elapsed.as_millis()
            );
        }
    }
    ExitCode::SUCCESS
}

/// Mocked clients of an account of `roles` roles (the diagnosed one last) and `policies`
/// customer managed policies; with `refused`, the targeted IAM reads answer 403.
fn clients(o: &Options, roles: usize, refused: bool) -> Clients {
    let mut iam: Vec<Rule> = Vec::new();
    if refused {
        iam.push(mock!(aws_sdk_iam::Client::get_role).then_http_response(|| http(403, "")));
        iam.push(
            mock!(aws_sdk_iam::Client::list_role_policies).then_http_response(|| http(403, "")),
        );
        iam.push(
            mock!(aws_sdk_iam::Client::list_attached_role_policies)
                .then_http_response(|| http(403, "")),
        );
    } else {
        iam.extend(targeted_rules());
    }
    // One rule per page, matched by its marker.
    let pages = Arc::new(detail_pages(roles, o.policies));
    for i in 0..pages.len() {
        let pages = Arc::clone(&pages);
        let marker = (i > 0).then(|| format!("page-{i}"));
        iam.push(
            mock!(aws_sdk_iam::Client::get_account_authorization_details)
                .match_requests(move |r| r.marker() == marker.as_deref())
                .then_output(move || pages[i].clone()),
        );
    }

    let delay = Delay {
        call: o.call,
        page: o.page,
    };
    let sts = vec![
        mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
                .account(ACCOUNT)
                .arn(READER)
                .user_id("AIDAREADER")
                .build()
        }),
    ];
    let s3 = vec![
        mock!(aws_sdk_s3::Client::head_bucket).then_output(|| {
            aws_sdk_s3::operation::head_bucket::HeadBucketOutput::builder()
                .bucket_region("us-east-1")
                .build()
        }),
        mock!(aws_sdk_s3::Client::get_bucket_policy)
            .then_http_response(|| s3_error(404, "NoSuchBucketPolicy")),
        mock!(aws_sdk_s3::Client::get_bucket_encryption)
            .then_http_response(|| s3_error(404, "ServerSideEncryptionConfigurationNotFoundError")),
        mock!(aws_sdk_s3::Client::get_bucket_ownership_controls)
            .then_http_response(|| s3_error(404, "OwnershipControlsNotFoundError")),
        mock!(aws_sdk_s3::Client::get_public_access_block)
            .then_http_response(|| s3_error(404, "NoSuchPublicAccessBlockConfiguration")),
    ];
    Clients {
        sts: client!(aws_sdk_sts, &sts, delay),
        iam: client!(aws_sdk_iam, &iam, delay),
        s3: client!(aws_sdk_s3, &s3, delay),
        s3control: client!(aws_sdk_s3control, &Vec::<Rule>::new(), delay),
        kms: client!(aws_sdk_kms, &Vec::<Rule>::new(), delay),
        organizations: client!(aws_sdk_organizations, &Vec::<Rule>::new(), delay),
        org_admin: None,
    }
}

/// The targeted reads of the role: one inline and one attached managed policy.
fn targeted_rules() -> Vec<Rule> {
    use aws_sdk_iam::operation::{
        get_policy::GetPolicyOutput, get_policy_version::GetPolicyVersionOutput,
        get_role::GetRoleOutput, get_role_policy::GetRolePolicyOutput,
        list_attached_role_policies::ListAttachedRolePoliciesOutput,
        list_role_policies::ListRolePoliciesOutput,
    };
    vec![
        mock!(aws_sdk_iam::Client::get_role).then_output(|| {
            GetRoleOutput::builder()
                .set_role(
                    aws_sdk_iam::types::Role::builder()
                        .path("/")
                        .role_name(ROLE)
                        .role_id("AROAUPLOADER")
                        .arn(format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}"))
                        .create_date(aws_smithy_types::DateTime::from_secs(0))
                        .build()
                        .ok(),
                )
                .build()
        }),
        mock!(aws_sdk_iam::Client::list_role_policies).then_output(|| {
            ListRolePoliciesOutput::builder()
                .policy_names("uploads-inline")
                .build()
                .unwrap_or_else(|_| unreachable_output())
        }),
        mock!(aws_sdk_iam::Client::get_role_policy).then_output(|| {
            GetRolePolicyOutput::builder()
                .role_name(ROLE)
                .policy_name("uploads-inline")
                .policy_document(DOC)
                .build()
                .unwrap_or_else(|_| unreachable_output())
        }),
        mock!(aws_sdk_iam::Client::list_attached_role_policies).then_output(|| {
            ListAttachedRolePoliciesOutput::builder()
                .attached_policies(
                    AttachedPolicy::builder()
                        .policy_name("uploads")
                        .policy_arn(MANAGED)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_iam::Client::get_policy).then_output(|| {
            GetPolicyOutput::builder()
                .policy(
                    aws_sdk_iam::types::Policy::builder()
                        .arn(MANAGED)
                        .default_version_id("v1")
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_iam::Client::get_policy_version).then_output(|| {
            GetPolicyVersionOutput::builder()
                .policy_version(
                    PolicyVersion::builder()
                        .version_id("v1")
                        .document(DOC)
                        .is_default_version(true)
                        .build(),
                )
                .build()
        }),
    ]
}

fn unreachable_output<T>() -> T {
    panic!("a mocked output with every required field did not build")
}

/// The authorization details of the account, in pages of at most [`PAGE`] entities: the
/// roles (the diagnosed one last), then the managed policies.
fn detail_pages(roles: usize, policies: usize) -> Vec<GetAccountAuthorizationDetailsOutput> {
    enum Entity {
        Role(RoleDetail),
        Policy(ManagedPolicyDetail),
    }
    let mut all: Vec<Entity> = (0..roles.saturating_sub(1))
        .map(|i| {
            Entity::Role(
                RoleDetail::builder()
                    .role_name(format!("filler-{i}"))
                    .role_id(format!("AROAFILLER{i}"))
                    .arn(format!("arn:aws:iam::{ACCOUNT}:role/filler-{i}"))
                    .path("/")
                    .build(),
            )
        })
        .collect();
    all.push(Entity::Role(
        RoleDetail::builder()
            .role_name(ROLE)
            .role_id("AROAUPLOADER")
            .arn(format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}"))
            .path("/")
            .role_policy_list(
                aws_sdk_iam::types::PolicyDetail::builder()
                    .policy_name("uploads-inline")
                    .policy_document(DOC)
                    .build(),
            )
            .attached_managed_policies(
                AttachedPolicy::builder()
                    .policy_name("uploads")
                    .policy_arn(MANAGED)
                    .build(),
            )
            .build(),
    ));
    for i in 0..policies {
        let arn = if i == 0 {
            MANAGED.to_owned()
        } else {
            format!("arn:aws:iam::{ACCOUNT}:policy/filler-{i}")
        };
        all.push(Entity::Policy(
            ManagedPolicyDetail::builder()
                .arn(arn)
                .default_version_id("v1")
                .policy_version_list(
                    PolicyVersion::builder()
                        .version_id("v1")
                        .document(DOC)
                        .is_default_version(true)
                        .build(),
                )
                .build(),
        ));
    }
    let count = all.len().div_ceil(PAGE).max(1);
    let mut pages = Vec::with_capacity(count);
    let mut entities = all.into_iter();
    for i in 0..count {
        let mut page = GetAccountAuthorizationDetailsOutput::builder();
        for e in entities.by_ref().take(PAGE) {
            page = match e {
                Entity::Role(r) => page.role_detail_list(r),
                Entity::Policy(p) => page.policies(p),
            };
        }
        if i + 1 < count {
            page = page.is_truncated(true).marker(format!("page-{}", i + 1));
        }
        pages.push(page.build());
    }
    pages
}

fn http(status: u16, body: &str) -> HttpResponse {
    HttpResponse::new(
        status.try_into().unwrap_or_else(|_| unreachable_output()),
        SdkBody::from(body.to_owned()),
    )
}

fn s3_error(status: u16, code: &str) -> HttpResponse {
    http(
        status,
        &format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{code}</Message></Error>"
        ),
    )
}

/// How long the mocked AWS takes to answer.
#[derive(Debug, Clone, Copy)]
struct Delay {
    call: Duration,
    page: Duration,
}

/// The mock HTTP client, answering after the delay: a page of the authorization details
/// takes `page`, any other call `call`.
#[derive(Debug)]
struct Delayed {
    inner: SharedHttpClient,
    delay: Delay,
}

impl HttpClient for Delayed {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(DelayedConnector {
            inner: self.inner.http_connector(settings, components),
            delay: self.delay,
        })
    }
}

#[derive(Debug)]
struct DelayedConnector {
    inner: SharedHttpConnector,
    delay: Delay,
}

impl HttpConnector for DelayedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let page = request
            .body()
            .bytes()
            .is_some_and(|b| String::from_utf8_lossy(b).contains("GetAccountAuthorizationDetails"));
        let wait = if page {
            self.delay.page
        } else {
            self.delay.call
        };
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            tokio::time::sleep(wait).await;
            inner.call(request).await
        })
    }
}
