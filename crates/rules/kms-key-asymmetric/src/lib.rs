//! Rule `builtin/kms-key-asymmetric`: the KMS key that encrypts the upload is an asymmetric or
//! HMAC key, and S3 supports only symmetric encryption keys.

use why403_core::analysis::{CheckKind, KeyChoice, key_choice};
use why403_core::finding::{Change, Confidence, Fix, Role};
use why403_core::rule::{
    Emitter, Rule, RuleContext, bucket_encryption_label, emit_unread_kms_key, kms_key_label,
};

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
        layer: "kms",
        summary: "the KMS key that encrypts the upload is not a symmetric encryption key",
    }
}

const CODE: why403_core::analysis::BlockCode = why403_core::analysis::BlockCode::KmsKeyNotSymmetric;

impl Rule for KmsKeyAsymmetric {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        let kms: Vec<_> = a
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::Kms)
            .collect();
        let choice = key_choice(&a.request, &a.evidence);
        if let Some((check, block)) = kms
            .iter()
            .find_map(|c| c.blocks.iter().find(|b| b.code == CODE).map(|b| (*c, b)))
        {
            let Some(key) = a.evidence.kms_key.get() else {
                return;
            };
            let f = out.emit(
                Role::Cause,
                Confidence::Confirmed,
                format!(
                    "the KMS key `{}` has key spec `{}` and key usage `{}`: S3 supports only symmetric encryption keys (`SYMMETRIC_DEFAULT`, `ENCRYPT_DECRYPT`)",
                    key.arn, key.spec, key.usage
                ),
            );
            f.check = Some(check.action.clone());
            if key.spec != "SYMMETRIC_DEFAULT" {
                f.labels.extend(kms_key_label(
                    key,
                    "KeySpec",
                    true,
                    "not `SYMMETRIC_DEFAULT`: KMS cannot generate data keys with it",
                ));
            }
            if key.usage != "ENCRYPT_DECRYPT" {
                let primary = f.labels.is_empty();
                f.labels.extend(kms_key_label(
                    key,
                    "KeyUsage",
                    primary,
                    "not `ENCRYPT_DECRYPT`: the key cannot encrypt",
                ));
            }
            let from_header = matches!(
                choice,
                KeyChoice::Kms {
                    from_header: true,
                    ..
                }
            );
            if !from_header {
                f.labels.extend(bucket_encryption_label(
                    a,
                    "KMSMasterKeyID",
                    false,
                    "the bucket's default encryption uses this key",
                ));
            }
            let actions: Vec<&str> = kms
                .iter()
                .filter(|c| c.blocks.iter().any(|b| b.code == CODE))
                .map(|c| c.action.as_str())
                .collect();
            f.notes.push(format!(
                "S3 passes on KMS's `{}` (HTTP {}) for `{}`",
                block.aws_code,
                block.status,
                actions.join("` and `")
            ));
            let new_arn = format!(
                "arn:aws:kms:{}:{}:key/new-symmetric-key",
                key.region, key.account
            );
            let place = if from_header {
                "the `x-amz-server-side-encryption-aws-kms-key-id` header"
            } else {
                "the bucket's default encryption"
            };
            let mut description = format!(
                "create a symmetric encryption key (`aws kms create-key`) with the same key policy and use its ARN in {place}"
            );
            let mut changes = vec![Change::UseKmsKey {
                arn: new_arn.clone(),
                key_policy: None,
            }];
            if a.evidence.identity.get().is_some() {
                description.push_str(&format!(
                    ", and allow `{}` on it in a policy of the caller",
                    actions.join("` and `")
                ));
                let kms_actions: Vec<serde_json::Value> =
                    actions.iter().map(|a| (*a).into()).collect();
                changes.push(Change::AddIdentityPolicy {
                    name: "AllowSymmetricUploadKey".into(),
                    document: serde_json::json!({
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": kms_actions, "Resource": new_arn}]
                    }),
                });
            }
            f.fix = Some(Fix::new(description, changes));
            f.missing = check.missing.clone();
            return;
        }
        // The key could not be described: this state is one explanation of the refusal.
        emit_unread_kms_key(
            cx,
            out,
            "may not be a symmetric encryption key: its key spec could not be read",
        );
    }
}
