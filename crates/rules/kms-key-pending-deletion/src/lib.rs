//! Rule `builtin/kms-key-pending-deletion`: the KMS key that encrypts the upload is scheduled
//! for deletion, so KMS refuses S3's data key request.

use why403_core::analysis::BlockCode;
use why403_core::finding::{Change, Fix};
use why403_core::rule::{Emitter, KmsKeyRefusal, Rule, RuleContext};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload is encrypted with SSE-KMS (the request sends
    /// `x-amz-server-side-encryption: aws:kms` or the bucket's default encryption uses a KMS
    /// key) and that key is scheduled for deletion: `aws kms describe-key` shows
    /// `"KeyState": "PendingDeletion"` and a `DeletionDate`, and the console lists the key as
    /// *Pending deletion*. Someone ran `aws kms schedule-key-deletion` (or *Key actions >
    /// Schedule key deletion*); during the waiting period of 7 to 30 days the key cannot be
    /// used, and at the end it is deleted for good. S3 passes on KMS's
    /// `KMS.KMSInvalidStateException` ("... is pending deletion").
    ///
    /// ## How AWS evaluates it
    ///
    /// KMS performs cryptographic operations only with keys in the `Enabled` state. A key in
    /// `PendingDeletion` (or a multi-Region primary key in `PendingReplicaDeletion`) refuses
    /// `GenerateDataKey` and `Decrypt` with `KMSInvalidStateException`, whatever its key
    /// policy, IAM policies and grants allow. `CancelKeyDeletion` stops the deletion but
    /// leaves the key `Disabled`; it must then be enabled with `EnableKey`.
    ///
    /// ## Example
    ///
    /// `aws kms describe-key --key-id arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`:
    ///
    /// ```json
    /// {"KeyMetadata": {
    ///   "Arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///   "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    ///   "KeyState": "PendingDeletion",
    ///   "DeletionDate": "2026-12-06T12:00:00Z",
    ///   "KeyManager": "CUSTOMER"
    /// }}
    /// ```
    ///
    /// ## Fix
    ///
    /// Cancel the deletion and enable the key, before the deletion date:
    /// `aws kms cancel-key-deletion --key-id <key ARN>` then `aws kms enable-key --key-id <key
    /// ARN>` (`kms:CancelKeyDeletion` and `kms:EnableKey`, usually key administrators). If the
    /// key is meant to go, encrypt the bucket's objects with another key (default encryption or
    /// the `x-amz-server-side-encryption-aws-kms-key-id` header); objects encrypted under the
    /// deleted key can never be decrypted again.
    ///
    /// ## References
    ///
    /// - AWS KMS Developer Guide, Deleting AWS KMS keys: <https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html>
    /// - AWS KMS Developer Guide, Key states of AWS KMS keys: <https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html>
    /// - AWS KMS API Reference, CancelKeyDeletion: <https://docs.aws.amazon.com/kms/latest/APIReference/API_CancelKeyDeletion.html>
    /// - Amazon S3 User Guide, Using server-side encryption with AWS KMS keys (SSE-KMS): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html>
    pub struct KmsKeyPendingDeletion {
        id: "kms-key-pending-deletion",
        scope: "builtin",
        layer: Kms,
        summary: "the KMS key that encrypts the upload is scheduled for deletion",
        refines: [],
        service: Kms,
        actions: [],
        messages: [code("KMS.KMSInvalidStateException")],
    }
}

impl Rule for KmsKeyPendingDeletion {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let refusal = KmsKeyRefusal {
            code: BlockCode::KmsKeyPendingDeletion,
            fields: &[(
                "KeyState",
                "KMS refuses cryptographic operations with a key pending deletion (`KMSInvalidStateException`)",
            )],
            unread: Some("may be scheduled for deletion: its state could not be read"),
        };
        if let Some((f, key, _)) = refusal.emit(cx, out) {
            f.notes.push(
                "at the end of the waiting period the key is deleted and objects encrypted under it can no longer be read".into(),
            );
            f.fix = Some(Fix::new(
                format!(
                    "cancel the deletion of the KMS key `{}` with `aws kms cancel-key-deletion`, then enable it with `aws kms enable-key`",
                    key.arn
                ),
                vec![Change::CancelKmsKeyDeletion, Change::EnableKmsKey],
            ));
        }
    }
}
