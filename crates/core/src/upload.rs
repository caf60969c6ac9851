//! The upload being diagnosed: who sent it, where to, how (single PUT or multipart), with
//! which headers, over which network, and when.

use std::collections::BTreeMap;

/// How the object is uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Operation {
    /// One `PutObject` request.
    #[default]
    PutObject,
    /// `CreateMultipartUpload`, `UploadPart`..., `CompleteMultipartUpload`.
    Multipart,
}

impl Operation {
    /// The operation in words: `PutObject` or `multipart upload`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::PutObject => "PutObject",
            Operation::Multipart => "multipart upload",
        }
    }
}

/// The kind of credentials that signed the request (decides `aws:MultiFactorAuthPresent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Credentials {
    /// An IAM user's access keys (`AKIA...`): no MFA key in the request.
    #[default]
    LongTerm,
    /// Temporary credentials without MFA (`aws:MultiFactorAuthPresent` = false).
    Temporary,
    /// Temporary credentials obtained with MFA.
    TemporaryWithMfa,
    /// An unsigned request.
    Anonymous,
}

/// The network path of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// The public source address (absent through a VPC endpoint).
    pub source_ip: Option<String>,
    /// `vpce-...` when the request went through a VPC endpoint.
    pub vpc_endpoint: Option<String>,
    /// `vpc-...` of that endpoint.
    pub vpc: Option<String>,
    /// The private address inside the VPC.
    pub vpc_source_ip: Option<String>,
    /// HTTPS (`aws:SecureTransport`).
    pub tls: bool,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            source_ip: None,
            vpc_endpoint: None,
            vpc: None,
            vpc_source_ip: None,
            tls: true,
        }
    }
}

/// An explicit condition key value that overrides what why403 derives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextOverride {
    /// The key's values, as policy conditions compare them (text).
    pub values: Vec<String>,
    /// Whether the key is multivalued (compared with `ForAnyValue`/`ForAllValues`), even
    /// with one value.
    pub multi: bool,
}

/// The upload as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UploadRequest {
    /// The caller's ARN (user, assumed-role session, federated user, or account root); `None`
    /// takes it from the evidence (`sts get-caller-identity`) or means anonymous with
    /// [`Credentials::Anonymous`].
    pub principal: Option<String>,
    /// The bucket name.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// A single `PutObject` or a multipart upload.
    pub operation: Operation,
    /// Request headers, names lower-case (`x-amz-acl`, `x-amz-server-side-encryption`, ...).
    pub headers: BTreeMap<String, String>,
    /// Where the request came from: source IP, VPC endpoint, HTTPS.
    pub network: Network,
    /// ISO 8601 time of the request; `None` means now.
    pub time: Option<String>,
    /// The Region the request was sent to; `None` means the bucket's Region.
    pub region: Option<String>,
    /// The kind of credentials that signed it.
    pub credentials: Credentials,
    /// Session tags passed when the credentials were issued.
    pub session_tags: BTreeMap<String, String>,
    /// Condition keys given explicitly; they replace derived values.
    pub context: BTreeMap<String, ContextOverride>,
}

impl UploadRequest {
    /// An upload to `s3://<bucket>/<key>`, as the AWS CLI names it.
    pub fn from_s3_url(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{url}` is not an `s3://<bucket>/<key>` URL"))?;
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                Ok(UploadRequest::new(bucket, key))
            }
            _ => Err(format!(
                "`{url}` names no object: give `s3://<bucket>/<key>`"
            )),
        }
    }

    /// An upload of `key` to `bucket` with everything else at its default: a single `PutObject`
    /// signed with long-term credentials, no headers, over HTTPS from no particular network,
    /// the caller taken from the evidence.
    pub fn new(bucket: &str, key: &str) -> Self {
        UploadRequest {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            ..Default::default()
        }
    }

    /// The value of request header `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The object ARN.
    pub fn object_arn(&self) -> String {
        format!("arn:aws:s3:::{}/{}", self.bucket, self.key)
    }

    /// The narrowest resource pattern a grant can name that covers this upload and the other
    /// objects of its folder: `arn:aws:s3:::bucket/dir/*`, or the object ARN itself for a key
    /// at the top of the bucket. Fixes grant on this rather than on every object.
    pub fn object_folder_arn(&self) -> String {
        match self.folder() {
            Some(dir) => format!("arn:aws:s3:::{}/{dir}/*", self.bucket),
            None => self.object_arn(),
        }
    }

    /// The key's folder (`reports/2026` for `reports/2026/q3.csv`); `None` for a key at the top
    /// of the bucket.
    pub fn folder(&self) -> Option<&str> {
        self.key
            .rsplit_once('/')
            .map(|(dir, _)| dir)
            .filter(|dir| !dir.is_empty())
    }

    /// The bucket ARN.
    pub fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket)
    }

    /// Whether the request sets an ACL (`x-amz-acl` or any `x-amz-grant-*`).
    pub fn sets_acl(&self) -> bool {
        self.headers
            .keys()
            .any(|k| k == "x-amz-acl" || k.starts_with("x-amz-grant-"))
    }
}
