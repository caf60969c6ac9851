//! Rule `builtin/kms-key-unusable-state`: the KMS key that encrypts the upload is in a state
//! other than disabled or pending deletion that refuses cryptographic operations (its imported
//! key material is missing, its custom key store is disconnected, or a multi-Region operation
//! is under way), so KMS refuses S3's data key request.

use why403_core::analysis::BlockCode;
use why403_core::finding::{Change, Fix};
use why403_core::rule::{Emitter, KmsKeyRefusal, Rule, RuleContext};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload is encrypted with SSE-KMS and its KMS key is in a state in which KMS does no
    /// cryptographic operation, other than `Disabled` and `PendingDeletion` (their own rules):
    /// `aws kms describe-key` shows `"KeyState"` as
    ///
    /// - `PendingImport`: a key with imported key material (`"Origin": "EXTERNAL"`) whose
    ///   material was never imported, expired (`ValidTo`) or was deleted
    ///   (`aws kms delete-imported-key-material`);
    /// - `Unavailable`: a key in a custom key store (AWS CloudHSM or external) whose key store
    ///   was disconnected;
    /// - `Creating` or `Updating`: a multi-Region replica being made, or a primary Region
    ///   being changed; these last a short while.
    ///
    /// S3 passes on KMS's `KMS.KMSInvalidStateException`.
    ///
    /// ## How AWS evaluates it
    ///
    /// For an SSE-KMS upload S3 asks KMS for a data key (`kms:GenerateDataKey`, and
    /// `kms:Decrypt` for each part of a multipart upload). KMS performs cryptographic operations
    /// only with keys in the `Enabled` state and answers `KMSInvalidStateException` in every
    /// other state, whatever the key policy, IAM policies and grants allow; no permission
    /// makes the upload work while the key is in that state.
    ///
    /// ## Example
    ///
    /// `aws kms describe-key --key-id arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`:
    ///
    /// ```json
    /// {"KeyMetadata": {
    ///   "Arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///   "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    ///   "KeyState": "PendingImport",
    ///   "Origin": "EXTERNAL",
    ///   "KeyManager": "CUSTOMER"
    /// }}
    /// ```
    ///
    /// ## Fix
    ///
    /// Make the key usable again: for `PendingImport`, import the same key material again
    /// (`aws kms get-parameters-for-import`, then `aws kms import-key-material`); for
    /// `Unavailable`, reconnect the custom key store (`aws kms connect-custom-key-store`); for
    /// `Creating` or `Updating`, wait until the key is `Enabled` and retry. Or encrypt the
    /// upload with another key (the bucket's default encryption or the
    /// `x-amz-server-side-encryption-aws-kms-key-id` header).
    ///
    /// ## References
    ///
    /// - AWS KMS Developer Guide, Key states of AWS KMS keys: <https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html>
    /// - AWS KMS Developer Guide, Importing key material: <https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html>
    /// - AWS KMS Developer Guide, Connecting and disconnecting a custom key store: <https://docs.aws.amazon.com/kms/latest/developerguide/about-custom-key-stores.html>
    /// - Amazon S3 User Guide, Using server-side encryption with AWS KMS keys (SSE-KMS): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html>
    pub struct KmsKeyUnusableState {
        id: "kms-key-unusable-state",
        scope: "builtin",
        layer: Kms,
        summary: "the KMS key that encrypts the upload is in a state that cannot encrypt",
        refines: [],
        service: Kms,
        actions: [],
        messages: [code("KMS.KMSInvalidStateException")],
    }
}

impl Rule for KmsKeyUnusableState {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let refusal = KmsKeyRefusal {
            code: BlockCode::KmsKeyInvalidState,
            fields: &[(
                "KeyState",
                "KMS performs cryptographic operations only with `Enabled` keys (`KMSInvalidStateException`)",
            )],
            // `kms-key-disabled` already says the unread state may refuse.
            unread: None,
        };
        if let Some((f, key, _)) = refusal.emit(cx, out) {
            let how = match key.state.as_str() {
                "PendingImport" => {
                    "import its key material again (`aws kms get-parameters-for-import`, then `aws kms import-key-material`)"
                }
                "Unavailable" => {
                    "reconnect its custom key store (`aws kms connect-custom-key-store`)"
                }
                "Creating" | "Updating" => {
                    "wait until its multi-Region operation ends and the key is `Enabled`, then retry"
                }
                _ => "bring it back to `Enabled`",
            };
            f.fix = Some(Fix::new(
                format!("make the KMS key `{}` usable again: {how}", key.arn),
                vec![Change::RestoreKmsKey],
            ));
        }
    }
}
