//! Rule `builtin/sse-c-blocked-on-bucket`: the bucket's default encryption configuration blocks
//! SSE-C and the upload sends a customer-provided encryption key.

use why403_core::analysis::BlockCode;
use why403_core::finding::{Change, Fix};
use why403_core::rule::{
    Emitter, EvidenceKind, Rule, RuleContext, emit_block, emit_unread_setting,
};

/// The SSE-C request headers, which the fix stops sending when present.
const SSE_C_HEADERS: [&str; 3] = [
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-server-side-encryption-customer-key",
    "x-amz-server-side-encryption-customer-key-md5",
];

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket's default encryption configuration blocks server-side encryption with
    /// customer-provided keys: `aws s3api get-bucket-encryption` shows
    /// `"BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}` in its rule, and the upload
    /// sends a customer-provided key (`x-amz-server-side-encryption-customer-algorithm`, with
    /// `x-amz-server-side-encryption-customer-key` and `-key-md5`; `--sse-c` with the AWS CLI,
    /// `SSECustomerKey` with the SDKs). S3 refuses it with 403 `AccessDenied` "because this
    /// bucket has blocked upload requests that specify Server Side Encryption with Customer
    /// provided keys (SSE-C)", even when every policy allows the upload.
    ///
    /// ## How AWS evaluates it
    ///
    /// `BlockedEncryptionTypes` is part of the bucket's default encryption rule. When it lists
    /// `SSE-C`, S3 rejects every write request that specifies SSE-C (`PutObject`, `CopyObject`,
    /// `CreateMultipartUpload` and the parts of a multipart upload) before the upload is
    /// stored, independently of IAM, bucket policies and ACLs, so no policy can allow it.
    /// Since April 2026 this is the default for new general purpose buckets, and AWS applied it
    /// to existing buckets in accounts that hold no SSE-C objects, so code that used to work
    /// can start failing without any change on the caller's side. Uploads that use SSE-S3 or
    /// SSE-KMS, or send no encryption header and take the bucket's default, are not affected.
    ///
    /// ## Example
    ///
    /// `aws s3api get-bucket-encryption --bucket amzn-s3-demo-bucket` while the caller runs
    /// `aws s3 cp photo.jpg s3://amzn-s3-demo-bucket/incoming/photo.jpg --sse-c AES256
    /// --sse-c-key fileb://key.bin`:
    ///
    /// ```json
    /// {"ServerSideEncryptionConfiguration": {"Rules": [{
    ///   "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
    ///   "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}
    /// }]}}
    /// ```
    ///
    /// ## Fix
    ///
    /// Stop sending the SSE-C headers and upload with SSE-S3 (`x-amz-server-side-encryption:
    /// AES256`) or SSE-KMS (`x-amz-server-side-encryption: aws:kms`) instead. Alternatively the
    /// bucket owner can allow SSE-C again by setting `BlockedEncryptionTypes` to `NONE` with
    /// `aws s3api put-bucket-encryption`, which needs `s3:PutEncryptionConfiguration`.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Blocking or unblocking SSE-C for a general purpose bucket
    /// - Amazon S3 User Guide: Using server-side encryption with customer-provided keys (SSE-C)
    /// - Amazon S3 User Guide: Setting default server-side encryption behavior for Amazon S3 buckets
    /// - Amazon S3 API Reference: PutBucketEncryption (`BlockedEncryptionTypes`)
    pub struct SseCBlockedOnBucket {
        id: "sse-c-blocked-on-bucket",
        scope: "builtin",
        layer: Bucket,
        summary: "the bucket blocks uploads encrypted with customer-provided keys",
        refines: [],
        service: S3,
        actions: [],
        messages: [special(SseCBlocked)],
    }
}

impl Rule for SseCBlockedOnBucket {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        if let Some((f, _)) = emit_block(cx, out, BlockCode::SseCBlocked) {
            f.notes
                .push("since April 2026 new general purpose buckets block SSE-C by default".into());
            f.fix = Some(fix(cx));
        }
        // Unreadable default encryption: the bucket may block SSE-C.
        emit_unread_setting(
            cx,
            out,
            EvidenceKind::BucketEncryption,
            "the bucket's default encryption could not be read; if it blocks SSE-C (`BlockedEncryptionTypes`), S3 refuses this upload with a customer-provided key",
            Some(&fix(cx)),
        );
    }
}

fn fix(cx: &RuleContext<'_>) -> Fix {
    let mut changes: Vec<Change> = SSE_C_HEADERS
        .iter()
        .filter(|h| cx.analysis.request.header(h).is_some())
        .map(|h| Change::RemoveHeader { name: (*h).into() })
        .collect();
    changes.push(Change::SetHeader {
        name: "x-amz-server-side-encryption".into(),
        value: "AES256".into(),
    });
    Fix::new(
        "stop sending the SSE-C headers and upload with SSE-S3 (`x-amz-server-side-encryption: AES256`) or SSE-KMS; or have the bucket owner set `BlockedEncryptionTypes` to `NONE`",
        changes,
    )
}
