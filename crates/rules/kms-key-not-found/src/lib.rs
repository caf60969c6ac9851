//! Rule `builtin/kms-key-not-found`: the KMS key that the request header or the bucket's
//! default encryption names does not exist where S3 looks for it (deleted, mistyped, or an
//! alias that names no key), so KMS answers `NotFoundException`.

use why403_core::analysis::BlockCode;
use why403_core::rule::{Emitter, Rule, RuleContext, emit_block, from_header, key_place};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload is encrypted with SSE-KMS and the key it names, in the
    /// `x-amz-server-side-encryption-aws-kms-key-id` header or in the bucket's default
    /// encryption (`KMSMasterKeyID`), does not exist: `aws kms describe-key --key-id <it>`,
    /// run in the bucket's Region, answers `NotFoundException`. The key was deleted after its
    /// waiting period, the ARN or key id has a typo, or the alias was deleted or never made.
    /// S3 passes on KMS's `KMS.NotFoundException`; AWS's message can also read "the resource
    /// does not exist in this Region, no resource-based policies allow access, or a
    /// resource-based policy explicitly denies access".
    ///
    /// ## How AWS evaluates it
    ///
    /// S3 asks KMS, in the bucket's Region, for a data key under the key it was given
    /// (`kms:GenerateDataKey`, and `kms:Decrypt` for each part of a multipart upload). KMS
    /// resolves the key id or alias before any authorization; when nothing answers to it, the
    /// call fails with `NotFoundException` and no policy is evaluated. A key of another Region
    /// and a key of another account named by alias are also not found; their own rules
    /// (`kms-key-in-another-region`, `kms-key-in-another-account-by-alias`) explain those.
    ///
    /// ## Example
    ///
    /// The bucket's default encryption names a key that was deleted:
    ///
    /// ```json
    /// {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {
    ///   "SSEAlgorithm": "aws:kms",
    ///   "KMSMasterKeyID": "arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    /// }}]}}
    /// ```
    ///
    /// ## Fix
    ///
    /// Name an existing, enabled symmetric encryption key of the bucket's Region, by key ARN,
    /// in the bucket's default encryption (`aws s3api put-bucket-encryption`) or in the
    /// request header; or encrypt with SSE-S3. A deleted key cannot be restored, and objects
    /// encrypted under it cannot be read again.
    ///
    /// ## References
    ///
    /// - AWS KMS API Reference, DescribeKey (errors): <https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html>
    /// - AWS KMS Developer Guide, Deleting AWS KMS keys: <https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html>
    /// - Amazon S3 User Guide, Setting default server-side encryption behavior for Amazon S3 buckets: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html>
    /// - Amazon S3 User Guide, Using server-side encryption with AWS KMS keys (SSE-KMS): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html>
    pub struct KmsKeyNotFound {
        id: "kms-key-not-found",
        scope: "builtin",
        layer: Kms,
        summary: "the KMS key that the upload names does not exist",
        refines: [],
        service: Kms,
        actions: [],
        messages: [code("KMS.NotFoundException"), special(KmsNotFoundOrDenied)],
    }
}

impl Rule for KmsKeyNotFound {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let place = key_place(cx);
        let Some((f, hit)) = emit_block(cx, out, BlockCode::KmsKeyNotFound) else {
            return;
        };
        f.message = format!("{}, which {place} names", hit.block.message);
        f.notes.push(hit.answer());
        // Which key is meant is the owner's choice: no change is proposed for verification.
        f.notes.push(format!(
            "name an existing, enabled symmetric encryption key of the bucket's Region by its ARN in {place}{}, or encrypt with SSE-S3; `aws kms list-aliases` and `aws kms describe-key` in that Region show which keys exist",
            if from_header(cx) { "" } else { " (`aws s3api put-bucket-encryption`)" }
        ));
    }
}
