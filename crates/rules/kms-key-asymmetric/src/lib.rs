//! Rule `builtin/kms-key-asymmetric`: the KMS key that encrypts the upload is an asymmetric or
//! HMAC key, and S3 supports only symmetric encryption keys.

use why403_core::analysis::BlockCode;
use why403_core::rule::{Emitter, KmsKeyRefusal, Rule, RuleContext, key_place, new_key_fix};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload is encrypted with SSE-KMS and the key it names is not a symmetric encryption
    /// key: `aws kms describe-key` shows a `KeySpec` such as `RSA_2048`, `ECC_NIST_P256` or
    /// `HMAC_256` instead of `SYMMETRIC_DEFAULT`, or a `KeyUsage` of `SIGN_VERIFY` or
    /// `GENERATE_VERIFY_MAC` instead of `ENCRYPT_DECRYPT`. Such a key was created for signing,
    /// MACs or client-side public-key encryption and then configured for the bucket (default
    /// encryption) or sent in the `x-amz-server-side-encryption-aws-kms-key-id` header. S3
    /// passes on KMS's `KMS.InvalidKeyUsageException`.
    ///
    /// ## How AWS evaluates it
    ///
    /// SSE-KMS asks KMS for a data key (`GenerateDataKey`), an operation that only symmetric
    /// encryption keys support; Amazon S3 documents that it supports only symmetric encryption
    /// KMS keys. KMS refuses the operation for any other key type whatever the key policy, IAM
    /// policies and grants allow. A key's type cannot be changed after it is created.
    ///
    /// ## Example
    ///
    /// `aws kms describe-key --key-id arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`:
    ///
    /// ```json
    /// {"KeyMetadata": {
    ///   "Arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///   "KeyState": "Enabled",
    ///   "KeyManager": "CUSTOMER",
    ///   "KeySpec": "RSA_2048",
    ///   "KeyUsage": "ENCRYPT_DECRYPT"
    /// }}
    /// ```
    ///
    /// ## Fix
    ///
    /// Create a symmetric encryption key (`aws kms create-key`, whose default is
    /// `SYMMETRIC_DEFAULT` / `ENCRYPT_DECRYPT`) in the bucket's Region with a key policy that
    /// lets the uploaders use it, and name it in the bucket's default encryption or the request
    /// header instead; allow it in the uploaders' IAM policies where they name the key.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide, Using server-side encryption with AWS KMS keys (SSE-KMS) ("Amazon S3 supports only symmetric encryption KMS keys"): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html>
    /// - AWS KMS Developer Guide, Key spec reference: <https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html>
    /// - AWS KMS API Reference, GenerateDataKey: <https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html>
    pub struct KmsKeyAsymmetric {
        id: "kms-key-asymmetric",
        scope: "builtin",
        layer: Kms,
        summary: "the KMS key that encrypts the upload is not a symmetric encryption key",
        refines: [],
        service: Kms,
        actions: [],
        messages: [code("KMS.InvalidKeyUsageException")],
    }
}

impl Rule for KmsKeyAsymmetric {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let refusal = KmsKeyRefusal {
            code: BlockCode::KmsKeyNotSymmetric,
            fields: &[
                (
                    "KeySpec",
                    "not `SYMMETRIC_DEFAULT`: KMS cannot generate data keys with it",
                ),
                ("KeyUsage", "not `ENCRYPT_DECRYPT`: the key cannot encrypt"),
            ],
            unread: Some("may not be a symmetric encryption key: its key spec could not be read"),
        };
        let Some((f, key, hit)) = refusal.emit(cx, out) else {
            return;
        };
        f.message = format!(
            "the KMS key `{}` has key spec `{}` and key usage `{}`: S3 supports only symmetric encryption keys (`SYMMETRIC_DEFAULT`, `ENCRYPT_DECRYPT`)",
            key.arn, key.spec, key.usage
        );
        let actions = hit.actions();
        f.fix = Some(new_key_fix(
            cx,
            &format!(
                "arn:aws:kms:{}:{}:key/new-symmetric-key",
                key.region, key.account
            ),
            None,
            format!(
                "create a symmetric encryption key (`aws kms create-key`) with the same key policy and use its ARN in {}",
                key_place(cx)
            ),
            (
                "AllowSymmetricUploadKey",
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
