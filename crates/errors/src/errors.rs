//! Errors that are not authorization failures (docs/aws-model.md#authentication-and-request-validity, docs/aws-model.md#bucket-side, docs/aws-model.md#kms-side): credentials,
//! signatures, clocks, expired URLs, Regions, account state, ACLs on buckets that disable them
//! and KMS key states. Each is explained directly: its cause and its fix.

use super::Parsed;
use super::explain::EvidenceStep;
use super::text::Text;

/// Error codes the parser recognises as codes, with the HTTP status S3 answers with.
const CODES: &[(&str, u16)] = &[
    ("AccessDenied", 403),
    ("AccessDeniedException", 400),
    ("Forbidden", 403),
    ("InvalidAccessKeyId", 403),
    ("SignatureDoesNotMatch", 403),
    ("RequestTimeTooSkewed", 403),
    ("ExpiredToken", 400),
    ("ExpiredTokenException", 400),
    ("InvalidToken", 400),
    ("TokenRefreshRequired", 400),
    ("AccessControlListNotSupported", 400),
    ("AccountProblem", 403),
    ("AllAccessDisabled", 403),
    ("InvalidPayer", 403),
    ("NotSignedUp", 403),
    ("InvalidSecurity", 403),
    ("PermanentRedirect", 301),
    ("TemporaryRedirect", 307),
    ("AuthorizationHeaderMalformed", 400),
    ("NoSuchBucket", 404),
    ("NoSuchKey", 404),
    ("InvalidRequest", 400),
    ("InvalidArgument", 400),
    ("MethodNotAllowed", 405),
];

/// Fixed messages that only one error code has.
const MESSAGES: &[(&str, &str)] = &[
    ("does not exist in our records", "InvalidAccessKeyId"),
    (
        "The request signature we calculated does not match the signature you provided",
        "SignatureDoesNotMatch",
    ),
    (
        "The difference between the request time and the current time is too large",
        "RequestTimeTooSkewed",
    ),
    ("The provided token has expired", "ExpiredToken"),
    (
        "The security token included in the request is expired",
        "ExpiredToken",
    ),
    (
        "The provided token is malformed or otherwise invalid",
        "InvalidToken",
    ),
    (
        "The provided token must be refreshed",
        "TokenRefreshRequired",
    ),
    (
        "The bucket does not allow ACLs",
        "AccessControlListNotSupported",
    ),
    (
        "All access to this Amazon S3 resource has been disabled",
        "AllAccessDisabled",
    ),
    ("There is a problem with your AWS account", "AccountProblem"),
    (
        "must be addressed using the specified endpoint",
        "PermanentRedirect",
    ),
    (
        "The authorization header is malformed",
        "AuthorizationHeaderMalformed",
    ),
    ("Request has expired", "AccessDenied"),
    ("is pending deletion", "KMS.KMSInvalidStateException"),
    ("not signed up for the Amazon S3 service", "NotSignedUp"),
    ("The specified bucket does not exist", "NoSuchBucket"),
];

/// Whether `word` is an error code the parser knows (or a `KMS.` code).
pub(super) fn is_known_code(word: &str) -> bool {
    CODES.iter().any(|(c, _)| *c == word)
        || word
            .strip_prefix("KMS.")
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The HTTP status S3 answers a code with.
pub(super) fn status_of(code: &str) -> Option<u16> {
    if code.starts_with("KMS.") {
        return Some(400);
    }
    CODES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, s)| *s)
}

/// The code a fixed message implies.
pub(super) fn code_for_message(m: &Text) -> Option<&'static str> {
    MESSAGES
        .iter()
        .find(|(phrase, _)| m.contains(phrase))
        .map(|(_, code)| *code)
}

/// Whether the code alone explains the error (so its free-form message need not be read).
pub(super) fn explains_code(code: &str) -> bool {
    code.starts_with("KMS.")
        || (is_known_code(code) && !["AccessDenied", "AccessDeniedException"].contains(&code))
}

/// A non-authorization error explained: its cause, its fix, what to read.
#[derive(Debug)]
pub(super) struct Direct {
    pub code: String,
    pub status: Option<u16>,
    pub cause: String,
    pub fix: String,
    pub evidence: Vec<EvidenceStep>,
    pub notes: Vec<String>,
}

fn step(what: &str, command: &str, needs: &[&'static str]) -> EvidenceStep {
    EvidenceStep {
        what: what.to_owned(),
        command: Some(command.to_owned()),
        needs: needs.to_vec(),
        note: None,
    }
}

/// Explains a non-authorization error, or `None` when the error is an authorization failure
/// or an unknown code.
pub(super) fn direct(p: &Parsed) -> Option<Direct> {
    let d = &p.details;
    if d.sigv4a_unavailable {
        return Some(sigv4a_unavailable());
    }
    let code = if d.request_expired {
        "AccessDenied"
    } else {
        p.code.as_deref()?
    };
    let who = step(
        "who the credentials belong to",
        "aws sts get-caller-identity",
        &[],
    );
    let bucket = p.bucket.as_deref().unwrap_or("<bucket>");
    let key_id = d.kms_key.as_deref().unwrap_or("<key-arn>");
    let mut notes = Vec::new();
    let mut evidence = Vec::new();
    let (cause, fix) = if d.request_expired {
        let when = match (&d.expires, &d.server_time) {
            (Some(e), Some(s)) => format!(" (it expired at `{e}`; S3's clock said `{s}`)"),
            (Some(e), None) => format!(" (it expired at `{e}`)"),
            _ => String::new(),
        };
        notes.push("a URL presigned with temporary credentials also stops working when those credentials expire, whatever its own expiry".to_owned());
        (
            format!("the presigned URL was used after it expired{when}"),
            "presign the URL again and use it before it expires".to_owned(),
        )
    } else {
        match code {
            "InvalidAccessKeyId" => {
                evidence.push(who);
                evidence.push(step("which credentials the client uses", "aws configure list", &[]));
                let key = d.access_key_id.as_ref().map(|k| format!(" (`{k}`)")).unwrap_or_default();
                (
                    format!("the access key id{key} does not exist in AWS's records: it was deleted, mistyped, or belongs to another partition (such as `aws-cn`)"),
                    "sign with an access key that exists, and check which credentials the client picks up with `aws configure list`".to_owned(),
                )
            }
            "SignatureDoesNotMatch" if d.presigned => (
                "the presigned URL was used with a request other than the one it was signed for: another method, other headers (often `Content-Type` or an `x-amz-*` header) or a changed URL".to_owned(),
                "send exactly the method and headers the URL was signed with, or presign it again including the headers the uploader sends".to_owned(),
            ),
            "SignatureDoesNotMatch" => {
                evidence.push(who);
                notes.push("a presigned URL used with headers it was not signed with gives this error too".to_owned());
                (
                    "the request signature does not match: the secret access key does not belong to the access key id, or something (a proxy, a client library) changed a signed header after signing".to_owned(),
                    "sign with the secret access key that belongs to the access key id, and make sure nothing rewrites the request after signing".to_owned(),
                )
            }
            "RequestTimeTooSkewed" => {
                let times = match (&d.request_time, &d.server_time) {
                    (Some(r), Some(s)) => format!(" (request time `{r}`, server time `{s}`)"),
                    _ => String::new(),
                };
                (
                    format!("the clock of the machine that signed the request differs from AWS's by more than 15 minutes{times}"),
                    "synchronise the machine's clock (NTP) and retry".to_owned(),
                )
            }
            "ExpiredToken" | "ExpiredTokenException" => (
                "the temporary credentials (the session token) have expired".to_owned(),
                "get fresh credentials (`aws sso login`, assume the role again, or let the instance or container refresh them) and retry".to_owned(),
            ),
            "InvalidToken" => (
                "the session token is missing, malformed or does not belong to the access key: temporary access keys (`ASIA...`) must be sent with their `x-amz-security-token`".to_owned(),
                "send the session token with temporary keys (`AWS_SESSION_TOKEN`), or sign with long-term keys without one".to_owned(),
            ),
            "TokenRefreshRequired" => (
                "the session token must be refreshed".to_owned(),
                "get fresh temporary credentials and retry".to_owned(),
            ),
            "AccessControlListNotSupported" => {
                evidence.push(step(
                    "the bucket's Object Ownership",
                    &format!("aws s3api get-bucket-ownership-controls --bucket {bucket}"),
                    &["s3:GetBucketOwnershipControls"],
                ));
                (
                    "the bucket's Object Ownership is `BucketOwnerEnforced`, which disables ACLs, and the upload set an ACL (`x-amz-acl` or `x-amz-grant-*`) other than `bucket-owner-full-control`".to_owned(),
                    "stop sending the ACL (drop `--acl` or the `x-amz-grant-*` headers), or send only `bucket-owner-full-control`".to_owned(),
                )
            }
            "AccountProblem" => (
                "the account has a problem that prevents the operation, often billing or a suspended account".to_owned(),
                "check the account's billing status, or contact AWS Support".to_owned(),
            ),
            "AllAccessDisabled" => (
                "all access to this S3 resource has been disabled by AWS".to_owned(),
                "contact AWS Support".to_owned(),
            ),
            "InvalidPayer" => (
                "all access to this object has been disabled by AWS".to_owned(),
                "contact AWS Support".to_owned(),
            ),
            "NotSignedUp" => (
                "the account is not signed up for Amazon S3".to_owned(),
                "sign the account up for S3, or use credentials of an account that is".to_owned(),
            ),
            "InvalidSecurity" => (
                "the security credentials provided are not valid".to_owned(),
                "sign with valid credentials and check them with `aws sts get-caller-identity`".to_owned(),
            ),
            "PermanentRedirect" | "301" => {
                evidence.push(step("the bucket's Region", &format!("aws s3api get-bucket-location --bucket {bucket}"), &["s3:GetBucketLocation"]));
                let endpoint = d.endpoint.as_ref().map(|e| format!(" (S3 names the endpoint `{e}`)")).unwrap_or_default();
                (
                    format!("the bucket is in another Region than the endpoint the request was sent to{endpoint}: a Region problem, not a permission one"),
                    "send requests for this bucket to its own Region (`--region`, `AWS_REGION`, or the client's region setting)".to_owned(),
                )
            }
            "TemporaryRedirect" => (
                "the bucket's DNS name does not point to its Region yet (a bucket created minutes ago), or the request went to the wrong Region".to_owned(),
                "send the request to the bucket's Regional endpoint, or retry later".to_owned(),
            ),
            "AuthorizationHeaderMalformed" => match (&d.region_used, &d.region_expected) {
                (Some(used), Some(want)) => (
                    format!("the request was signed for Region `{used}`, but the bucket is in `{want}`: a Region problem, not a permission one"),
                    format!("use Region `{want}` for this bucket (`--region {want}` or `AWS_REGION={want}`)"),
                ),
                (_, Some(want)) => (
                    format!("the request was signed for another Region than the bucket's, `{want}`"),
                    format!("use Region `{want}` for this bucket (`--region {want}` or `AWS_REGION={want}`)"),
                ),
                _ => (
                    "the `Authorization` header is malformed, most often because it was signed for another Region than the bucket's".to_owned(),
                    "sign for the bucket's Region (`aws s3api get-bucket-location`), or fix the client's signing".to_owned(),
                ),
            },
            "NoSuchBucket" => (
                "the bucket does not exist (or its name is mistyped)".to_owned(),
                "check the bucket name, or create the bucket".to_owned(),
            ),
            c if c.starts_with("KMS.") => {
                evidence.push(step("the KMS key's state, Region and usage", &format!("aws kms describe-key --key-id {key_id}"), &["kms:DescribeKey"]));
                if d.kms_key.is_none() {
                    evidence.insert(0, step("which KMS key encrypts the bucket's objects", &format!("aws s3api get-bucket-encryption --bucket {bucket}"), &["s3:GetEncryptionConfiguration"]));
                }
                kms(c, key_id)
            }
            _ => return None,
        }
    };
    let status = p.http_status.or_else(|| status_of(code));
    Some(Direct {
        code: code.to_owned(),
        status,
        cause,
        fix,
        evidence,
        notes,
    })
}

/// An SDK that cannot sign SigV4A, asked to send a request to a Multi-Region Access Point
/// (S3 User Guide, Making requests through a Multi-Region Access Point: requests must be
/// signed with SigV4A).
fn sigv4a_unavailable() -> Direct {
    Direct {
        code: "SigV4A".to_owned(),
        status: None,
        cause: "the client cannot sign with SigV4A, which every request to a Multi-Region Access Point needs: its SDK lacks the SigV4A signer (the AWS Common Runtime), so the upload was never sent to S3".to_owned(),
        fix: "install the SDK's SigV4A signer (boto3 and AWS CLI v1: `pip install botocore[crt]`; JavaScript v3: import `@aws-sdk/signature-v4-crt` or `@aws-sdk/signature-v4a`; Java v2: add `software.amazon.awssdk:http-auth-aws-crt`; Ruby: the `aws-crt` gem), or upload to one of the Multi-Region Access Point's buckets directly".to_owned(),
        evidence: Vec::new(),
        notes: vec!["no AWS policy was evaluated: S3 never received the request, so no log has it".to_owned()],
    }
}

fn kms(code: &str, key: &str) -> (String, String) {
    let named = if key.starts_with('<') {
        String::new()
    } else {
        format!(" `{key}`")
    };
    match code {
        "KMS.DisabledException" => (
            format!("the KMS key{named} that encrypts the upload is disabled"),
            format!("enable the key (`aws kms enable-key --key-id {key}`) or encrypt with another key"),
        ),
        "KMS.KMSInvalidStateException" => (
            format!("the KMS key{named} is not in a usable state, usually pending deletion (or pending import)"),
            format!("cancel the deletion (`aws kms cancel-key-deletion --key-id {key}`, then `aws kms enable-key`) or encrypt with another key"),
        ),
        "KMS.NotFoundException" => (
            format!("the KMS key{named} cannot be found: it does not exist, it is in another Region than the bucket, or a key id or alias was looked up in the caller's account instead of the key's"),
            "name a symmetric key in the bucket's Region by its full key ARN, in the request header or in the bucket's default encryption".to_owned(),
        ),
        "KMS.InvalidKeyUsageException" | "KMS.IncorrectKeyException" => (
            format!("the KMS key{named} cannot encrypt data for S3: S3 needs a symmetric encryption key (`ENCRYPT_DECRYPT`), not an asymmetric or HMAC key"),
            "encrypt with a symmetric encryption key".to_owned(),
        ),
        "KMS.ThrottlingException" | "KMS.LimitExceededException" | "KMS.RequestLimitExceeded" => (
            "the calls S3 made to KMS for the upload were throttled".to_owned(),
            "retry with backoff, enable S3 Bucket Keys to cut KMS calls, or ask for a higher KMS request quota".to_owned(),
        ),
        "KMS.KeyUnavailableException" | "KMS.DependencyTimeoutException" | "KMS.KMSInternalException" => (
            format!("the KMS key{named} could not be used for a moment (`{code}`)"),
            "retry the upload".to_owned(),
        ),
        _ => (
            format!("the call S3 made to KMS with the caller's credentials failed (`{code}`)"),
            format!("check the key's state and policy (`aws kms describe-key --key-id {key}`)"),
        ),
    }
}
