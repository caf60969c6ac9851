//! Rule `builtin/kms-key-in-another-region`: the KMS key that encrypts the upload is in another
//! Region than the bucket, and S3 can only use a key of the bucket's Region.

use why403_core::analysis::derive::region_of;
use why403_core::analysis::{BlockCode, KeyChoice, key_choice};
use why403_core::pattern::split_arn;
use why403_core::rule::{
    Emitter, Rule, RuleContext, bucket_encryption_label, emit_block, key_place, kms_key_label,
    new_key_fix,
};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload is encrypted with SSE-KMS and the key it names is in another AWS Region than
    /// the bucket: the bucket's default encryption (`KMSMasterKeyID`) or the request's
    /// `x-amz-server-side-encryption-aws-kms-key-id` header holds a key ARN such as
    /// `arn:aws:kms:eu-west-1:...` while the bucket is in `us-east-1`. This typically happens
    /// when a bucket and its key are copied between Regions by infrastructure code, or when a
    /// bucket is created in a new Region with the old key's ARN. S3 reports KMS's
    /// `KMS.NotFoundException`, although the key exists.
    ///
    /// ## How AWS evaluates it
    ///
    /// KMS keys are Regional. S3 calls KMS in the bucket's Region, and Amazon S3 supports only
    /// KMS keys in the same Region as the bucket; a key of another Region is not found there,
    /// so no key policy, IAM policy or grant can make it work. A multi-Region key is no
    /// exception: its replica in the bucket's Region (same key id, another ARN) must be used.
    /// Key ids and alias names are always looked up in the bucket's Region; only an ARN can
    /// name another Region.
    ///
    /// ## Example
    ///
    /// `aws s3api get-bucket-encryption --bucket amzn-s3-demo-bucket` for a bucket in
    /// `us-east-1`:
    ///
    /// ```json
    /// {"ServerSideEncryptionConfiguration": {"Rules": [{
    ///   "ApplyServerSideEncryptionByDefault": {
    ///     "SSEAlgorithm": "aws:kms",
    ///     "KMSMasterKeyID": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    ///   }
    /// }]}}
    /// ```
    ///
    /// ## Fix
    ///
    /// Use a KMS key of the bucket's Region: the replica of a multi-Region key there
    /// (`aws kms replicate-key --replica-region <bucket Region>`), or a new symmetric
    /// encryption key created in that Region with a key policy that lets the uploaders use it;
    /// then set it in the bucket's default encryption (`aws s3api put-bucket-encryption`) or
    /// the request header, and allow it in the uploaders' IAM policies where they name the key.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide, Specifying server-side encryption with AWS KMS (SSE-KMS) ("the KMS key must be in the same Region as the bucket"): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html>
    /// - Amazon S3 User Guide, Using server-side encryption with AWS KMS keys (SSE-KMS): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html>
    /// - AWS KMS Developer Guide, Multi-Region keys in AWS KMS: <https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html>
    /// - AWS KMS Developer Guide, Key identifiers (KeyId): <https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id>
    pub struct KmsKeyInAnotherRegion {
        id: "kms-key-in-another-region",
        scope: "builtin",
        layer: Kms,
        summary: "the KMS key that encrypts the upload is in another Region than the bucket",
        refines: [],
        service: Kms,
        actions: [],
        messages: [code("KMS.NotFoundException"), special(KmsNotFoundOrDenied)],
    }
}

impl Rule for KmsKeyInAnotherRegion {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        if cx.blocked(BlockCode::KmsKeyOtherRegion).is_none() {
            return;
        }
        let KeyChoice::Kms {
            key: configured,
            from_header,
            ..
        } = key_choice(&a.request, &a.evidence)
        else {
            return;
        };
        let Some(bucket_region) = region_of(&a.request, &a.evidence) else {
            return;
        };
        // The key's account, Region and id: from the configured ARN, else from describe-key.
        let described = a.evidence.kms_key.get();
        let (account, key_region, key_id) = match configured.as_deref().and_then(split_arn) {
            Some([_, _, "kms", region, account, res]) => (
                account.to_owned(),
                region.to_owned(),
                res.strip_prefix("key/").map(str::to_owned),
            ),
            _ => match described {
                Some(k) => (k.account.clone(), k.region.clone(), Some(k.key_id.clone())),
                None => return,
            },
        };
        let key_id = key_id.or_else(|| described.map(|k| k.key_id.clone()));
        let shown = configured
            .clone()
            .or_else(|| described.map(|k| k.arn.clone()))
            .unwrap_or_default();
        let Some((f, hit)) = emit_block(cx, out, BlockCode::KmsKeyOtherRegion) else {
            return;
        };
        f.message = format!(
            "the KMS key `{shown}` is in `{key_region}` but the bucket is in `{bucket_region}`: S3 only uses keys of the bucket's Region"
        );
        if !from_header {
            f.labels.extend(bucket_encryption_label(
                a,
                "KMSMasterKeyID",
                true,
                format!("a key of `{key_region}`; the bucket is in `{bucket_region}`"),
            ));
        }
        if let Some(k) = described {
            let primary = f.labels.is_empty();
            f.labels.extend(kms_key_label(
                k,
                "Arn",
                primary,
                format!("the key lives in `{}`", k.region),
            ));
        }
        f.notes.push(format!(
            "{}: the key is not found in `{bucket_region}`",
            hit.answer()
        ));
        // A multi-Region key has a replica with the same key id in other Regions.
        let place = key_place(cx);
        let actions = hit.actions();
        let (new_arn, description) = match key_id.as_deref() {
            Some(id) if id.starts_with("mrk-") => {
                let arn = format!("arn:aws:kms:{bucket_region}:{account}:key/{id}");
                let d = format!(
                    "use the replica of the multi-Region key in `{bucket_region}` (`{arn}`, made with `aws kms replicate-key` if it does not exist) in {place}"
                );
                (arn, d)
            }
            _ => (
                format!("arn:aws:kms:{bucket_region}:{account}:key/new-key-in-{bucket_region}"),
                format!(
                    "create a symmetric encryption key in `{bucket_region}` with the same key policy and use its ARN in {place}"
                ),
            ),
        };
        f.fix = Some(new_key_fix(
            cx,
            &new_arn,
            None,
            description,
            (
                "AllowUploadKeyInBucketRegion",
                &format!(
                    ", and allow `{}` on it in a policy of the caller",
                    actions.join("` and `")
                ),
            ),
            &actions,
        ));
        f.missing = hit.check().missing.clone();
    }
}
