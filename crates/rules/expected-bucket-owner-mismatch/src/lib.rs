//! Rule `builtin/expected-bucket-owner-mismatch`: the request sends
//! `x-amz-expected-bucket-owner` with an account that does not own the bucket.

use why403_core::analysis::BlockCode;
use why403_core::finding::{Change, Fix};
use why403_core::rule::{Emitter, EvidenceKind, Rule, RuleContext, emit_block};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload sends the bucket owner condition, header `x-amz-expected-bucket-owner`
    /// (`--expected-bucket-owner` with the AWS CLI, `ExpectedBucketOwner` with the SDKs), and
    /// the account ID it names is not the account that owns the bucket. S3 refuses the request
    /// with 403 `AccessDenied`, whatever the policies say. Typical reasons: a typo in the
    /// account ID, the caller's own account ID where the owner's was meant, a stale
    /// configuration, or a bucket name that points at another account's bucket.
    ///
    /// ## How AWS evaluates it
    ///
    /// The bucket owner condition is checked before the request is authorized: when the header
    /// is present, S3 compares it with the bucket owner's account ID and fails the request with
    /// 403 if they differ. It is a safety check against writing into a bucket that is not the
    /// one you think it is. Without the header S3 does not check the owner at all, so leaving it
    /// out never causes this error.
    ///
    /// ## Example
    ///
    /// The bucket belongs to account `444455556666`, and the upload runs
    ///
    /// ```json
    /// {"command": "aws s3api put-object --bucket amzn-s3-demo-bucket --key photo.jpg --body photo.jpg --expected-bucket-owner 111122223333"}
    /// ```
    ///
    /// ## Fix
    ///
    /// Send `x-amz-expected-bucket-owner` with the account that actually owns the bucket, after
    /// checking that the bucket name is the intended one; if it is not, correct the bucket name
    /// instead and keep the header.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Verifying bucket ownership with bucket owner condition
    /// - Amazon S3 API Reference: PutObject, request header `x-amz-expected-bucket-owner`
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3?
    pub struct ExpectedBucketOwnerMismatch {
        id: "expected-bucket-owner-mismatch",
        scope: "builtin",
        layer: Bucket,
        summary: "the request's expected bucket owner is not the account that owns the bucket",
        refines: [],
        service: S3,
        actions: [],
        messages: [GENERIC],
    }
}

impl Rule for ExpectedBucketOwnerMismatch {
    fn needs(&self) -> &'static [EvidenceKind] {
        &[EvidenceKind::BucketOwner]
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let Some(owner) = cx.analysis.evidence.bucket.owner_account.get() else {
            return;
        };
        if let Some((f, _)) = emit_block(cx, out, BlockCode::ExpectedBucketOwnerMismatch) {
            f.fix = Some(Fix::new(
                format!(
                    "send `x-amz-expected-bucket-owner: {owner}` (`--expected-bucket-owner {owner}` with the AWS CLI), after checking that `{}` is the bucket you intended; if not, correct the bucket name instead",
                    cx.analysis.request.bucket
                ),
                vec![Change::SetHeader {
                    name: "x-amz-expected-bucket-owner".into(),
                    value: owner.clone(),
                }],
            ));
        }
    }
}
