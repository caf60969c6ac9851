//! Credentials, Region and endpoint as the AWS CLI resolves them, and the service clients made
//! from them.
//!
//! Credentials are resolved once, up front, with a deadline: the default chain ends at the EC2
//! instance metadata service, which off EC2 answers nothing. Its own client gives up after a few
//! one-second attempts; the deadline is the backstop, so a missing configuration is a clear
//! error within seconds, never a hang. IMDS is not disabled: on EC2 and in containers it is the
//! legitimate source, as for the AWS CLI. The credentials found are then handed to every client
//! as they are, so the chain (an SSO token exchange, a `credential_process` run) runs once.

use std::time::Duration;

use aws_config::default_provider::region::DefaultRegionChain;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

use crate::{CollectError, LiveOptions};

/// How long the credential chain may take (SSO and `credential_process` included).
const CREDENTIALS_DEADLINE: Duration = Duration::from_secs(30);
/// How long the Region chain may take (it too ends at instance metadata).
const REGION_DEADLINE: Duration = Duration::from_secs(5);
/// The SDK's standard retry mode retries throttling and transient errors with backoff.
const MAX_ATTEMPTS: u32 = 4;

/// The service clients a collection uses. S3 and KMS clients are re-targeted to the bucket's
/// and the key's Region as needed, keeping everything else (credentials, endpoint, mocks).
#[derive(Debug, Clone)]
pub struct Clients {
    /// STS, for `GetCallerIdentity`.
    pub sts: aws_sdk_sts::Client,
    /// IAM, for the caller's policies and boundary.
    pub iam: aws_sdk_iam::Client,
    /// S3, for the bucket's settings (re-targeted to the bucket's Region).
    pub s3: aws_sdk_s3::Client,
    /// S3 Control, for the account's Block Public Access.
    pub s3control: aws_sdk_s3control::Client,
    /// KMS, for the key, its policy and grants (re-targeted to the key's Region).
    pub kms: aws_sdk_kms::Client,
    /// Organizations with the caller's credentials (`DescribeOrganization` works from any
    /// member account).
    pub organizations: aws_sdk_organizations::Client,
    /// Organizations with the management or delegated administrator credentials
    /// (`--org-profile`); `None` reads with the caller's.
    pub org_admin: Option<aws_sdk_organizations::Client>,
}

impl Clients {
    /// Loads the configuration for `opts` and makes the clients.
    pub async fn load(opts: &LiveOptions) -> Result<Clients, CollectError> {
        let sdk = load_config(opts, opts.profile.as_deref()).await?;
        let org_sdk = match &opts.org_profile {
            Some(p) => Some(load_config(opts, Some(p)).await?),
            None => None,
        };
        Ok(Clients::from_sdk(&sdk, org_sdk.as_ref()))
    }

    /// Makes the clients from loaded configurations (`org_sdk` for the organization reads).
    pub fn from_sdk(sdk: &SdkConfig, org_sdk: Option<&SdkConfig>) -> Clients {
        // Every client reads its answers through the body limit, and does not retry a call
        // whose answer was over it.
        macro_rules! limited {
            ($service:ident, $sdk:expr) => {
                $service::config::Builder::from($sdk)
                    .interceptor(BodyLimit)
                    .retry_classifier(BodyLimit)
            };
        }
        let endpoint = sdk.endpoint_url().map(str::to_owned);
        let s3_conf = limited!(aws_sdk_s3, sdk)
            // Local endpoints (moto, LocalStack) serve buckets by path only.
            .force_path_style(endpoint.is_some())
            .build();
        let mut s3c_conf = limited!(aws_sdk_s3control, sdk);
        if let Some(url) = &endpoint {
            // The endpoint rules put the account id in the host name
            // (`123456789012.127.0.0.1:5055`), which a local endpoint does not serve.
            s3c_conf = s3c_conf.endpoint_resolver(FixedEndpoint(url.clone()));
        }
        let organizations = |sdk: &SdkConfig| {
            aws_sdk_organizations::Client::from_conf(limited!(aws_sdk_organizations, sdk).build())
        };
        Clients {
            sts: aws_sdk_sts::Client::from_conf(limited!(aws_sdk_sts, sdk).build()),
            iam: aws_sdk_iam::Client::from_conf(limited!(aws_sdk_iam, sdk).build()),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            s3control: aws_sdk_s3control::Client::from_conf(s3c_conf.build()),
            kms: aws_sdk_kms::Client::from_conf(limited!(aws_sdk_kms, sdk).build()),
            org_admin: org_sdk.map(organizations),
            organizations: organizations(sdk),
        }
    }

    /// The client for the organization's path and policies.
    pub(crate) fn org_reader(&self) -> &aws_sdk_organizations::Client {
        self.org_admin.as_ref().unwrap_or(&self.organizations)
    }

    /// The S3 client for a Region.
    pub(crate) fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = self.s3.config();
        if conf.region().is_some_and(|r| r.as_ref() == region) {
            return self.s3.clone();
        }
        aws_sdk_s3::Client::from_conf(
            conf.to_builder()
                .region(Region::new(region.to_owned()))
                .build(),
        )
    }

    /// The KMS client for a Region.
    pub(crate) fn kms_in(&self, region: &str) -> aws_sdk_kms::Client {
        let conf = self.kms.config();
        if conf.region().is_some_and(|r| r.as_ref() == region) {
            return self.kms.clone();
        }
        aws_sdk_kms::Client::from_conf(
            conf.to_builder()
                .region(Region::new(region.to_owned()))
                .build(),
        )
    }
}

/// Resolves the configuration of one profile (`None`: the default chain), with its
/// credentials resolved once.
pub async fn load_config(
    opts: &LiveOptions,
    profile: Option<&str>,
) -> Result<SdkConfig, CollectError> {
    let region = match &opts.region {
        Some(r) => r.clone(),
        None => {
            let mut chain = DefaultRegionChain::builder();
            if let Some(p) = profile {
                chain = chain.profile_name(p);
            }
            let chain = chain.build();
            match tokio::time::timeout(REGION_DEADLINE, chain.region()).await {
                Ok(Some(r)) => r.to_string(),
                // STS, IAM and Organizations answer from anywhere; bucket calls go to the
                // bucket's Region anyway.
                Ok(None) | Err(_) => "us-east-1".to_owned(),
            }
        }
    };
    let timeout = opts.call_timeout();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(timeout)
                .operation_attempt_timeout(timeout / 2)
                .build(),
        );
    if let Some(p) = profile {
        // As in the AWS CLI, a profile named on the command line wins over credentials in the
        // environment (`AWS_ACCESS_KEY_ID`...), which the default chain would try first.
        let provider_config = ProviderConfig::default()
            .with_region(Some(Region::new(region)))
            .with_behavior_version(Some(BehaviorVersion::latest()));
        loader = loader.profile_name(p).credentials_provider(
            ProfileFileCredentialsProvider::builder()
                .configure(&provider_config)
                .profile_name(p)
                .build(),
        );
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let sdk = loader.load().await;
    let owned = profile.map(str::to_owned);
    let Some(provider) = sdk.credentials_provider() else {
        return Err(CollectError::NoCredentials);
    };
    let creds =
        match tokio::time::timeout(CREDENTIALS_DEADLINE, provider.provide_credentials()).await {
            Err(_) => {
                return Err(CollectError::CredentialsTimeout {
                    profile: owned,
                    secs: CREDENTIALS_DEADLINE.as_secs(),
                });
            }
            Ok(Err(e)) => return Err(explain_failure(profile, &e).await),
            Ok(Ok(c)) => c,
        };
    Ok(sdk
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build())
}

/// Why the credential chain found nothing. A named profile that does not work says why in its
/// own words (the default chain moves on past it, ending at instance metadata); a chain that
/// reached instance metadata off EC2 means no credentials are configured at all.
async fn explain_failure(profile: Option<&str>, e: &CredentialsError) -> CollectError {
    let named = profile
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
    if let Some(p) = &named {
        let direct = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(p)
            .build();
        match tokio::time::timeout(REGION_DEADLINE, direct.provide_credentials()).await {
            Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => {
                // The SDK reads a file it cannot read as an empty one: say so first.
                let message = unreadable_profile_file().unwrap_or_else(|| {
                    "the profile is not defined in the AWS config or credentials files, or holds no credentials"
                        .to_owned()
                });
                return CollectError::Credentials {
                    profile: Some(p.clone()),
                    message,
                };
            }
            Ok(Err(pe)) => {
                return CollectError::Credentials {
                    profile: Some(p.clone()),
                    message: credentials_text(&pe),
                };
            }
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    let text = credentials_text(e);
    if matches!(e, CredentialsError::CredentialsNotLoaded(_)) || text.contains("IMDS") {
        return match unreadable_profile_file() {
            Some(message) => CollectError::Credentials {
                profile: named,
                message,
            },
            None => CollectError::NoCredentials,
        };
    }
    CollectError::Credentials {
        profile: named,
        message: text,
    }
}

/// The AWS config or credentials file that exists but cannot be read, and why: the SDK
/// reads such a file as an empty one (then reports a profile "not defined"). The files are
/// the ones the SDK reads: the paths `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`
/// name, else `~/.aws/config` and `~/.aws/credentials`. Only the first byte is read.
fn unreadable_profile_file() -> Option<String> {
    use std::io::Read as _;

    let home = std::env::home_dir();
    let files = [
        ("config", "AWS_CONFIG_FILE", "config"),
        ("credentials", "AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    ];
    files.into_iter().find_map(|(what, var, default)| {
        let path = match std::env::var_os(var).filter(|p| !p.is_empty()) {
            Some(p) => std::path::PathBuf::from(p),
            None => home.as_ref()?.join(".aws").join(default),
        };
        let read = std::fs::File::open(&path).and_then(|mut f| f.read(&mut [0u8; 1]));
        match read {
            Ok(_) => None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some(format!(
                "cannot read the AWS {what} file `{}`: {e}",
                escaped(&path.display().to_string())
            )),
        }
    })
}

/// Why the credentials could not be loaded, without what a `credential_process` wrote on its
/// standard error beyond its first line (it can hold secrets): the SDK copies all of it into
/// its message.
fn credentials_text(e: &CredentialsError) -> String {
    const STDERR: &str = "Stderr: ";
    let text = crate::call::chain_text(e);
    let Some(at) = text.find(STDERR) else {
        return crate::call::cut(text, 300);
    };
    let (head, stderr) = text.split_at(at + STDERR.len());
    let mut lines = stderr.trim().lines();
    let first = crate::call::cut(escaped(lines.next().unwrap_or("").trim()), 160);
    let more = if lines.any(|l| !l.trim().is_empty()) {
        " (the rest of its standard error is not shown)"
    } else {
        ""
    };
    format!("{}{first}{more}", crate::call::cut(head.to_owned(), 300))
}

/// `s` with control characters (terminal escapes, line breaks) escaped.
fn escaped(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The most a response body may hold, in bytes: a policy is at most tens of KB (a KMS key
/// policy 32 KB, a bucket policy 20 KB, IAM and organization policies 10 KB or less), and
/// every other answer this crate reads is a short list or one description.
pub(crate) const MAX_RESPONSE: usize = 4 << 20;
/// The most a page of `GetAccountAuthorizationDetails` may hold: up to 1000 users, groups,
/// roles and managed policies with every version of each document.
pub(crate) const MAX_AUTHORIZATION_DETAILS: usize = 64 << 20;

/// The limit on the response body of `operation`.
pub(crate) fn response_limit(operation: &str) -> usize {
    if operation == "GetAccountAuthorizationDetails" {
        MAX_AUTHORIZATION_DETAILS
    } else {
        MAX_RESPONSE
    }
}

/// Bounds every response body (see [`response_limit`]): an endpoint that answers with an
/// endless or huge body fails the call with [`http_body_util::LengthLimitError`] once the
/// limit is read, instead of filling memory until the call's timeout. As a retry classifier,
/// it forbids retrying such a call (the SDK retries failed reads of a body as transient).
#[derive(Debug, Clone, Copy)]
struct BodyLimit;

impl ClassifyRetry for BodyLimit {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.output_or_error() {
            Some(Err(e)) if crate::call::too_large(e) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "why403::BodyLimit"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

impl Intercept for BodyLimit {
    fn name(&self) -> &'static str {
        "why403::BodyLimit"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let limit = response_limit(cfg.load::<Metadata>().map_or("", Metadata::name));
        let body = context.response_mut().body_mut();
        let inner = std::mem::replace(body, SdkBody::taken());
        *body = SdkBody::from_body_1_x(http_body_util::Limited::new(inner, limit));
        Ok(())
    }
}

/// An endpoint resolver that always answers one URL (s3control against a local endpoint).
#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}
