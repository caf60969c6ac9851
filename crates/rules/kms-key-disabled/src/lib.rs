//! Rule `builtin/kms-key-disabled`: the KMS key that encrypts the upload (named in the request
//! header or the bucket's default encryption) is disabled, so KMS refuses S3's data key request.

use why403_core::analysis::BlockCode;
use why403_core::finding::{Change, Fix};
use why403_core::rule::{Emitter, KmsKeyRefusal, Rule, RuleContext};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload is encrypted with SSE-KMS (the request sends
    /// `x-amz-server-side-encryption: aws:kms` or the bucket's default encryption uses a KMS
    /// key) and that KMS key is disabled: `aws kms describe-key` shows `"KeyState": "Disabled"`
    /// and the console lists the key as *Disabled*. Someone disabled it (`aws kms disable-key`,
    /// the console's *Key actions > Disable*), or an imported-key-material or external key
    /// store key became unusable. Every upload that needs this key fails, whatever the policies
    /// allow; S3 passes on KMS's error, `KMS.DisabledException`.
    ///
    /// ## How AWS evaluates it
    ///
    /// For an SSE-KMS upload S3 asks KMS for a data key (`kms:GenerateDataKey`; each part of a
    /// multipart upload also needs `kms:Decrypt`). KMS performs cryptographic operations only
    /// with keys in the `Enabled` state: for a disabled key it answers `DisabledException`
    /// before or regardless of the key policy, IAM policies and grants, so no permission can
    /// make the upload work. The key policy is still evaluated for management calls such as
    /// `kms:EnableKey`.
    ///
    /// ## Example
    ///
    /// `aws kms describe-key --key-id arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`:
    ///
    /// ```json
    /// {"KeyMetadata": {
    ///   "Arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///   "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    ///   "KeyState": "Disabled",
    ///   "KeyManager": "CUSTOMER"
    /// }}
    /// ```
    ///
    /// ## Fix
    ///
    /// Enable the key: `aws kms enable-key --key-id <key ARN>`, run by a key administrator
    /// (`kms:EnableKey`). If the key was disabled on purpose, encrypt the upload with another
    /// key instead (change the bucket's default encryption or the
    /// `x-amz-server-side-encryption-aws-kms-key-id` header).
    ///
    /// ## References
    ///
    /// - AWS KMS Developer Guide, Enabling and disabling keys: <https://docs.aws.amazon.com/kms/latest/developerguide/enabling-keys.html>
    /// - AWS KMS Developer Guide, Key states of AWS KMS keys: <https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html>
    /// - AWS KMS API Reference, EnableKey: <https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKey.html>
    /// - Amazon S3 User Guide, Using server-side encryption with AWS KMS keys (SSE-KMS): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html>
    pub struct KmsKeyDisabled {
        id: "kms-key-disabled",
        scope: "builtin",
        layer: Kms,
        summary: "the KMS key that encrypts the upload is disabled",
        refines: [],
        service: Kms,
        actions: [],
        messages: [code("KMS.DisabledException")],
    }
}

impl Rule for KmsKeyDisabled {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let refusal = KmsKeyRefusal {
            code: BlockCode::KmsKeyDisabled,
            fields: &[(
                "KeyState",
                "KMS refuses cryptographic operations with a disabled key (`DisabledException`)",
            )],
            unread: Some("may be disabled: its state could not be read"),
        };
        if let Some((f, key, _)) = refusal.emit(cx, out) {
            f.fix = Some(Fix::new(
                format!("enable the KMS key `{}` with `aws kms enable-key`", key.arn),
                vec![Change::EnableKmsKey],
            ));
        }
    }
}
