//! Rule `builtin/requester-pays-header-missing`: the bucket is Requester Pays and a caller from
//! another account uploads without `x-amz-request-payer: requester`, or the upload is
//! anonymous, which a Requester Pays bucket never accepts.

use why403_core::analysis::BlockCode;
use why403_core::eval::RequestPrincipal;

use why403_core::finding::{Change, Fix};
use why403_core::rule::{
    Emitter, EvidenceKind, Rule, RuleContext, emit_block, emit_unread_setting,
};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket has Requester Pays enabled (`aws s3api get-bucket-request-payment` shows
    /// `"Payer": "Requester"`, "Requester pays: Enabled" in the console's bucket properties)
    /// and the upload comes from a principal in another account that does not acknowledge the
    /// charge: the request does not send `x-amz-request-payer: requester`. S3 refuses it with
    /// 403 `AccessDenied`, even when every policy allows the upload.
    ///
    /// Or the upload is anonymous (unsigned, `--no-sign-request`): a Requester Pays bucket
    /// refuses every anonymous request, with or without the header, because S3 cannot know
    /// whom to charge. S3 answers 403 `AccessDenied`.
    ///
    /// ## How AWS evaluates it
    ///
    /// For a Requester Pays bucket, S3 requires every request from a principal outside the
    /// bucket owner's account to confirm that the requester pays for the request and the data
    /// transfer, by sending `x-amz-request-payer: requester`. This applies to writes
    /// (`PutObject`, each step of a multipart upload) as well as reads. Without the header the
    /// request fails with 403 `AccessDenied` and the bucket owner is charged for the failed
    /// request. Requests from the bucket owner's own users and roles do not need the header.
    /// Anonymous requests are never allowed on a Requester Pays bucket, whatever they send:
    /// every request must be authenticated so that S3 can charge the requester. The header
    /// only acknowledges the charge: the caller still needs the identity policy and bucket
    /// policy permissions of an ordinary cross-account upload. When the bucket's Requester Pays
    /// setting cannot be read (`s3:GetBucketRequestPayment`), an upload from another account
    /// without the header, and any anonymous upload, is undecided.
    ///
    /// ## Example
    ///
    /// `aws s3api get-bucket-request-payment --bucket amzn-s3-demo-bucket` in the owner's
    /// account `444455556666`, while a user of account `111122223333` runs
    /// `aws s3 cp photo.jpg s3://amzn-s3-demo-bucket/incoming/photo.jpg`:
    ///
    /// ```json
    /// {"Payer": "Requester"}
    /// ```
    ///
    /// ## Fix
    ///
    /// Send `x-amz-request-payer: requester` with every request to the bucket (`--request-payer
    /// requester` with the AWS CLI, `RequestPayer="requester"` with the SDKs). Alternatively the
    /// bucket owner can switch the bucket back to `"Payer": "BucketOwner"`
    /// (`aws s3api put-bucket-request-payment`) and pay for the requests.
    ///
    /// An anonymous upload has no header fix: sign the request with the credentials of an AWS
    /// account that will pay (and that the bucket policy allows), or have the bucket owner
    /// turn Requester Pays off.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Using Requester Pays general purpose buckets for storage transfers and usage (anonymous access is not allowed): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/RequesterPaysBuckets.html>
    /// - Amazon S3 User Guide: Downloading objects from Requester Pays buckets (the `x-amz-request-payer` header)
    /// - Amazon S3 API Reference: PutObject, request header `x-amz-request-payer`
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3?
    pub struct RequesterPaysHeaderMissing {
        id: "requester-pays-header-missing",
        scope: "builtin",
        layer: Bucket,
        summary: "the bucket is requester pays and the request does not say it pays",
        refines: [],
        service: S3,
        actions: [],
        messages: [GENERIC],
    }
}

fn fix() -> Fix {
    Fix::new(
        "send `x-amz-request-payer: requester` (`--request-payer requester` with the AWS CLI)",
        vec![Change::SetHeader {
            name: "x-amz-request-payer".into(),
            value: "requester".into(),
        }],
    )
}

impl Rule for RequesterPaysHeaderMissing {
    fn needs(&self) -> &'static [EvidenceKind] {
        &[EvidenceKind::BucketOwner]
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        if let Some((f, _)) = emit_block(cx, out, BlockCode::RequesterPaysMissingHeader) {
            if let Some(owner) = cx.analysis.evidence.bucket.owner_account.get() {
                f.notes.push(format!(
                    "the bucket belongs to account `{owner}`, so the caller must agree to pay for the request"
                ));
            }
            f.fix = Some(fix());
        }
        // No header makes an unsigned request acceptable: no header fix.
        if let Some((f, _)) = emit_block(cx, out, BlockCode::RequesterPaysAnonymous) {
            f.notes.push(SIGN.into());
        }
        // Unreadable Requester Pays setting: another account's upload may need the header, and
        // an anonymous upload may be refused outright.
        if cx.analysis.principal == Some(RequestPrincipal::Anonymous) {
            let unread = emit_unread_setting(
                cx,
                out,
                EvidenceKind::BucketRequestPayment,
                "the bucket's Requester Pays setting could not be read; if the bucket is Requester Pays, S3 refuses this anonymous upload whatever headers it sends",
                None,
            );
            for f in unread {
                f.notes.push(SIGN.into());
            }
        } else {
            emit_unread_setting(
                cx,
                out,
                EvidenceKind::BucketRequestPayment,
                "the bucket's Requester Pays setting could not be read; if the bucket is Requester Pays, S3 refuses this upload from another account without `x-amz-request-payer: requester`",
                Some(&fix()),
            );
        }
    }
}

/// What an anonymous caller must do instead of sending the header.
const SIGN: &str = "`x-amz-request-payer: requester` does not help an unsigned request: sign it with the credentials of an AWS account that will pay for it, or have the bucket owner turn Requester Pays off";
