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

/// What the upload names as its destination: the bucket itself, one of its access points, a
/// Multi-Region Access Point, or a directory bucket (S3 Express One Zone). Access points and
/// directory buckets authorize differently (docs/aws-model.md#access-points,
/// docs/aws-model.md#directory-buckets).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Target {
    /// A general purpose bucket named by its name (`s3://bucket/key`).
    #[default]
    Bucket,
    /// An access point of the bucket, named by its ARN or its alias.
    AccessPoint(AccessPointRef),
    /// A Multi-Region Access Point (`arn:aws:s3::<account>:accesspoint/<alias>.mrap`).
    MultiRegionAccessPoint {
        /// The account that owns it.
        account: String,
        /// Its alias, e.g. `mfzwi23gnjvgw.mrap`.
        alias: String,
    },
    /// A directory bucket (`<base>--<zone-id>--x-s3`), which authorizes uploads with
    /// `s3express:CreateSession` sessions.
    DirectoryBucket,
}

/// An access point as the request names it: by ARN (which gives its Region, account and
/// name) or by alias (which gives none of them; the evidence does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessPointRef {
    /// `arn:<partition>:s3:<region>:<account>:accesspoint/<name>`.
    Arn {
        /// The ARN, without the object part.
        arn: String,
        /// Its Region.
        region: String,
        /// The account that owns the access point.
        account: String,
        /// The access point's name.
        name: String,
    },
    /// An alias such as `my-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias`, usable wherever
    /// a bucket name is.
    Alias(String),
}

impl AccessPointRef {
    /// The access point as the request names it: its ARN or its alias.
    pub fn as_str(&self) -> &str {
        match self {
            AccessPointRef::Arn { arn, .. } => arn,
            AccessPointRef::Alias(a) => a,
        }
    }
}

impl Target {
    /// Whether the request goes through an access point, single-Region or Multi-Region:
    /// both are authorized against the access point and against the bucket.
    pub fn is_access_point(&self) -> bool {
        matches!(
            self,
            Target::AccessPoint(_) | Target::MultiRegionAccessPoint { .. }
        )
    }

    /// The access point as the request names it: its ARN or alias, or the Multi-Region Access
    /// Point's ARN; `None` for a bucket.
    pub fn access_point_name(&self) -> Option<String> {
        match self {
            Target::AccessPoint(a) => Some(a.as_str().to_owned()),
            Target::MultiRegionAccessPoint { account, alias } => {
                Some(format!("arn:aws:s3::{account}:accesspoint/{alias}"))
            }
            Target::Bucket | Target::DirectoryBucket => None,
        }
    }

    /// Whether the request names a directory bucket.
    pub fn is_directory_bucket(&self) -> bool {
        matches!(self, Target::DirectoryBucket)
    }
}

/// Whether `name` is a directory bucket name: `<base>--<zone-id>--x-s3`, where the zone id is
/// an Availability Zone id (`usw2-az1`) or a Local Zone id (`usw2-lax1-az1`) (S3 User Guide,
/// Directory bucket naming rules).
pub fn is_directory_bucket_name(name: &str) -> bool {
    let Some(rest) = name.strip_suffix("--x-s3") else {
        return false;
    };
    let Some((base, zone)) = rest.rsplit_once("--") else {
        return false;
    };
    !base.is_empty()
        && zone.contains("-az")
        && zone
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `name` is an access point alias (`<name>-<metadata>-s3alias`), which S3 accepts
/// wherever a bucket name is (S3 User Guide, Using a bucket-style alias for your access point).
pub fn is_access_point_alias(name: &str) -> bool {
    name.len() > "-s3alias".len() && name.ends_with("-s3alias")
}

/// Reads the destination of an upload as the AWS CLI accepts it after `s3://`: a bucket name,
/// an access point ARN (`arn:aws:s3:us-east-1:111122223333:accesspoint/my-ap`), an access point
/// alias, a Multi-Region Access Point ARN (`arn:aws:s3::111122223333:accesspoint/abc.mrap`),
/// or a directory bucket name, followed by `/` and the key. Returns the target, the bucket
/// name (empty when the request names an access point, whose bucket the evidence gives) and
/// the key. Errors say what was expected.
pub fn parse_destination(text: &str) -> Result<(Target, String, String), String> {
    if text.starts_with("arn:") {
        // arn:partition:s3:region:account:accesspoint/name[/object]/key
        let mut parts = text.splitn(6, ':');
        let (arn, partition, service, region, account, resource) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        );
        let (Some("arn"), Some(partition), Some("s3"), Some(region), Some(account), Some(resource)) =
            (arn, partition, service, region, account, resource)
        else {
            return Err(format!(
                "`{text}` is not an S3 access point ARN: expected `arn:aws:s3:<region>:<account>:accesspoint/<name>/<key>`"
            ));
        };
        if partition.is_empty() {
            return Err(format!("`{text}` has no partition (`arn:aws:...`)"));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "`{text}`: the account of an access point ARN is 12 digits, found `{account}`"
            ));
        }
        let Some(rest) = resource.strip_prefix("accesspoint/") else {
            return Err(format!(
                "`{text}` names no access point: the resource of the ARN must start with `accesspoint/`"
            ));
        };
        let (name, key) = match rest.split_once('/') {
            Some((n, k)) => (n, k.strip_prefix("object/").unwrap_or(k)),
            None => (rest, ""),
        };
        if name.is_empty() {
            return Err(format!("`{text}` names no access point"));
        }
        if key.is_empty() {
            return Err(format!(
                "`{text}` names no object: give `<access point ARN>/<key>`"
            ));
        }
        let target = if region.is_empty() {
            if !name.ends_with(".mrap") {
                return Err(format!(
                    "`{text}` has no Region: only a Multi-Region Access Point (`<alias>.mrap`) is named without one"
                ));
            }
            Target::MultiRegionAccessPoint {
                account: account.to_owned(),
                alias: name.to_owned(),
            }
        } else {
            Target::AccessPoint(AccessPointRef::Arn {
                arn: format!("arn:{partition}:s3:{region}:{account}:accesspoint/{name}"),
                region: region.to_owned(),
                account: account.to_owned(),
                name: name.to_owned(),
            })
        };
        return Ok((target, String::new(), key.to_owned()));
    }
    match text.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
            if is_access_point_alias(bucket) {
                Ok((
                    Target::AccessPoint(AccessPointRef::Alias(bucket.to_owned())),
                    String::new(),
                    key.to_owned(),
                ))
            } else if is_directory_bucket_name(bucket) {
                Ok((Target::DirectoryBucket, bucket.to_owned(), key.to_owned()))
            } else {
                Ok((Target::Bucket, bucket.to_owned(), key.to_owned()))
            }
        }
        _ => Err(format!(
            "`{text}` names no object: give `<bucket>/<key>` or `<access point ARN>/<key>`"
        )),
    }
}

/// How a directory bucket session may be used (`CreateSession`'s `SessionMode`, the
/// `s3express:SessionMode` condition key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionMode {
    /// `ReadWrite`, the default: the session may upload.
    #[default]
    ReadWrite,
    /// `ReadOnly`: the session may only read; an upload with it is refused.
    ReadOnly,
}

impl SessionMode {
    /// The mode as AWS names it.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionMode::ReadWrite => "ReadWrite",
            SessionMode::ReadOnly => "ReadOnly",
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
    /// The bucket name (for an access point, the bucket it is attached to).
    pub bucket: String,
    /// What the request names: the bucket, an access point, a Multi-Region Access Point or a
    /// directory bucket.
    pub target: Target,
    /// For a directory bucket, the mode of the session the upload uses.
    pub session_mode: SessionMode,
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
    /// An upload to `s3://<bucket>/<key>`, as the AWS CLI names it; the bucket may also be an
    /// access point ARN or alias, a Multi-Region Access Point ARN or a directory bucket (see
    /// [`parse_destination`]). For an access point the bucket is left empty: the evidence
    /// gives it.
    pub fn from_s3_url(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{url}` is not an `s3://<bucket>/<key>` URL"))?;
        let (target, bucket, key) = parse_destination(rest).map_err(|e| format!("`{url}`: {e}"))?;
        let mut r = UploadRequest::new(&bucket, &key);
        r.target = target;
        Ok(r)
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

    /// The object ARN of the bucket (`arn:aws:s3:::bucket/key`): what a bucket policy is
    /// evaluated against, and the KMS encryption context. See
    /// [`UploadRequest::authorized_object_arn`] for what the request itself names.
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
