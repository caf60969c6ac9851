//! Rule `builtin/kms-key-in-another-account-by-alias`: the upload names a KMS key of another
//! account by alias name or bare key id, which KMS looks up in the uploader's own account.

use why403_core::analysis::{
    BlockCode, CheckKind, KeyChoice, Missing, Verdict, key_choice, resolved_in_caller_account,
};
use why403_core::evidence::{EvidenceKind, Slot};
use why403_core::finding::{Change, Confidence, Fix, Refusal};
use why403_core::rule::{
    Emitter, Rule, RuleContext, bucket_encryption_label, emit_block, key_place, kms_key_label,
};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload is encrypted with SSE-KMS and the key is named by an alias name
    /// (`alias/uploads`) or a bare key id (`1234abcd-...`) instead of its ARN, while the key
    /// belongs to another account than the uploader's. Typically the bucket owner set
    /// `"KMSMasterKeyID": "alias/uploads"` in the bucket's default encryption and a principal
    /// of a partner account uploads; or an uploader sends the bucket owner's key id in
    /// `x-amz-server-side-encryption-aws-kms-key-id`. Uploads from the key's own account work,
    /// uploads from the other account fail with `KMS.NotFoundException` or 403 naming
    /// `kms:GenerateDataKey`.
    ///
    /// ## How AWS evaluates it
    ///
    /// S3 calls KMS with the uploader's credentials, and KMS resolves a key id or alias name in
    /// the account of the principal that calls it. To use a key of another account, the key
    /// ARN or alias ARN is required. So the bucket owner's key is never reached: the lookup
    /// finds no such key in the uploader's account, or, when the uploader's account has a key
    /// under the same alias, S3 encrypts the object with that key (which the bucket owner
    /// cannot use). Amazon S3 recommends a fully qualified key ARN in default encryption for
    /// this reason.
    ///
    /// ## Example
    ///
    /// `aws s3api get-bucket-encryption --bucket amzn-s3-demo-bucket` of account
    /// `111122223333`, while `arn:aws:iam::444455556666:user/bob` uploads:
    ///
    /// ```json
    /// {"ServerSideEncryptionConfiguration": {"Rules": [{
    ///   "ApplyServerSideEncryptionByDefault": {
    ///     "SSEAlgorithm": "aws:kms",
    ///     "KMSMasterKeyID": "alias/partner-uploads"
    ///   }
    /// }]}}
    /// ```
    ///
    /// ## Fix
    ///
    /// Name the key by its key ARN (`arn:aws:kms:<region>:<owner account>:key/<id>`) in the
    /// bucket's default encryption (`aws s3api put-bucket-encryption`) or in the request header;
    /// an alias ARN (`arn:aws:kms:<region>:<owner account>:alias/<name>`) also works. The key
    /// policy and the uploader's IAM policy must still both allow the uploader.
    ///
    /// ## References
    ///
    /// - AWS KMS Developer Guide, Key identifiers (KeyId): <https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id>
    /// - AWS KMS Developer Guide, Allowing users in other accounts to use a KMS key: <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html>
    /// - Amazon S3 API Reference, ServerSideEncryptionByDefault (`KMSMasterKeyID`: "If you use a KMS key alias instead, then KMS resolves the key within the requester's account"): <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ServerSideEncryptionByDefault.html>
    /// - Amazon S3 User Guide, Setting default server-side encryption behavior for Amazon S3 buckets: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html>
    pub struct KmsKeyInAnotherAccountByAlias {
        id: "kms-key-in-another-account-by-alias",
        scope: "builtin",
        layer: Kms,
        summary: "a KMS key of another account is named by alias or key id",
        refines: ["kms-key-policy-missing-generate-data-key"],
        service: Kms,
        actions: [],
        messages: [code("KMS.NotFoundException"), special(KmsNotFoundOrDenied)],
    }
}

impl Rule for KmsKeyInAnotherAccountByAlias {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        let KeyChoice::Kms {
            key: Some(reference),
            from_header,
            ..
        } = key_choice(&a.request, &a.evidence)
        else {
            return;
        };
        let Some(caller) = a.principal.as_ref().and_then(|p| p.account()) else {
            return;
        };
        let (kind, a_kind) = if reference.starts_with("alias/") {
            ("alias name", "an alias name")
        } else {
            ("key id", "a key id")
        };
        let place = key_place(cx);
        if let Some(key) = a.evidence.kms_key.get()
            && let Some((f, hit)) = emit_block(cx, out, BlockCode::KmsKeyOtherAccountByReference)
        {
            // KMS may instead find another key of the caller's under that name: the finding
            // explains the check, not only the lookup.
            for c in &hit.checks {
                f.claim(&c.action, Refusal::Check);
            }
            f.confidence = Confidence::Likely;
            f.message = format!(
                "{place} names the KMS key of `{}` by {kind} `{reference}`, which KMS looks up in the caller's account `{caller}`",
                key.account
            );
            if !from_header {
                f.labels.extend(bucket_encryption_label(
                    a,
                    "KMSMasterKeyID",
                    true,
                    format!(
                        "{a_kind}: resolved in the uploader's account `{caller}`, not in `{}`",
                        key.account
                    ),
                ));
            }
            let primary = f.labels.is_empty();
            f.labels.extend(kms_key_label(
                key,
                "AWSAccountId",
                primary,
                "the key belongs to this account",
            ));
            f.notes.push(format!(
                "S3 passes on KMS's `{}` (HTTP {}) when `{caller}` has no such key; if it has one under the same name, the upload succeeds but is encrypted with `{caller}`'s key",
                hit.block.aws_code, hit.block.status
            ));
            f.fix = Some(Fix::new(
                format!("name the key by its ARN `{}` in {place}", key.arn),
                vec![Change::UseKmsKey {
                    arn: key.arn.clone(),
                    key_policy: None,
                }],
            ));
            f.missing = hit.check().missing.clone();
            return;
        }
        // The key was not described: a key id or alias name set by the bucket owner is still
        // looked up in a cross-account uploader's account.
        if !from_header
            && resolved_in_caller_account(&reference)
            && reference != "alias/aws/s3"
            && a.verdict != Verdict::Allowed
            && let Slot::Unavailable(u) = &a.evidence.kms_key
            && let Some(owner) = a.evidence.bucket.owner_account.get()
            && owner != caller
            && let Some(check) = a.checks.iter().find(|c| c.kind == CheckKind::Kms)
        {
            let f = cx.possible(
                out,
                check,
                Refusal::Check,
                Missing {
                    kind: EvidenceKind::KmsKey,
                    what: "KMS key".into(),
                    unavailable: u.clone(),
                },
                format!(
                    "the bucket's default encryption names its KMS key by {kind} `{reference}`, which KMS looks up in the caller's account `{caller}`, not in the bucket owner's `{owner}`"
                ),
            );
            f.confidence = Confidence::Likely;
            f.labels.extend(bucket_encryption_label(
                a,
                "KMSMasterKeyID",
                true,
                format!("{a_kind}: resolved in the uploader's account `{caller}`"),
            ));
            f.notes.push(
                "name the key by its key ARN or alias ARN in the bucket's default encryption; describe-key would give the ARN".into(),
            );
        }
    }
}
