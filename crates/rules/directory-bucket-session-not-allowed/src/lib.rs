//! Rule `builtin/directory-bucket-session-not-allowed`: an upload to a directory bucket
//! whose session is not allowed (`s3express:CreateSession`) or is read-only.

use why403_core::analysis::BlockCode;
use why403_core::finding::{Change, Fix};
use why403_core::rule::{Emitter, Rule, RuleContext, emit_block, emit_identity_missing_allow};
use why403_core::upload::SessionMode;

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload goes to a directory bucket (S3 Express One Zone, a name ending in
    /// `--<zone-id>--x-s3`). Directory buckets authorize with sessions: the SDK or CLI first
    /// calls `CreateSession` on the bucket, and signs the upload with the session's
    /// credentials. Either no identity-based policy allows `s3express:CreateSession` on the
    /// bucket's ARN `arn:aws:s3express:<region>:<account>:bucket/<name>` (policies written
    /// for general purpose buckets name `s3:PutObject` and `arn:aws:s3:::...`, which
    /// directory buckets never evaluate), or the session was created `ReadOnly`
    /// (`s3express:SessionMode`), which allows reads only.
    ///
    /// ## How AWS evaluates it
    ///
    /// For zonal endpoint operations such as `PutObject`, a directory bucket evaluates the
    /// caller's policies and the bucket policy for `s3express:CreateSession` only, once per
    /// session; the session's `SessionMode` (`ReadWrite` by default, or `ReadOnly`) decides
    /// whether it may write. Policies may require a mode with the `s3express:SessionMode`
    /// condition key. AWS answers 403 `AccessDenied` for a refused `CreateSession` and for a
    /// write with a read-only session.
    ///
    /// ## Example
    ///
    /// A role whose policy allows `s3:PutObject` on `arn:aws:s3:::*` uploads to
    /// `amzn-s3-demo-bucket--usw2-az1--x-s3`: nothing allows `s3express:CreateSession`.
    ///
    /// ## Fix
    ///
    /// Allow `s3express:CreateSession` on the bucket's ARN in a policy attached to the caller
    /// (it then allows every object operation the session mode permits, on the whole bucket:
    /// directory buckets have no object-level resources in IAM); or, for a read-only session,
    /// create the session with `SessionMode` `ReadWrite` (the default).
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Authorizing Zonal endpoint API operations with CreateSession
    /// - Amazon S3 API Reference: CreateSession (`SessionMode`)
    /// - Service Authorization Reference: Amazon S3 Express (`s3express:CreateSession`,
    ///   `s3express:SessionMode`)
    pub struct DirectoryBucketSessionNotAllowed {
        id: "directory-bucket-session-not-allowed",
        scope: "builtin",
        layer: Bucket,
        summary: "the directory bucket session of the upload is not allowed, or is read-only",
        refines: [],
        service: S3,
        actions: ["s3express:CreateSession"],
        messages: [implicit(IdentityBased), GENERIC],
    }
}

impl Rule for DirectoryBucketSessionNotAllowed {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        if !cx.analysis.request.target.is_directory_bucket() {
            return;
        }
        emit_identity_missing_allow(cx, out, &["s3express:CreateSession"], None);
        for f in out.emitted() {
            if f.fix.is_some() {
                f.notes.push(
                    "a `s3express:CreateSession` grant covers the whole bucket: a session may do every object operation its mode allows on any key (directory buckets have no object-level resource in IAM)".to_owned(),
                );
            }
        }
        if let Some((f, hit)) = emit_block(cx, out, BlockCode::DirectoryBucketReadOnlySession) {
            f.notes.push(hit.answer());
            f.fix = Some(Fix::new(
                "create the session with `SessionMode` `ReadWrite` (the default of `CreateSession`) and upload with it",
                vec![Change::UseSessionMode {
                    mode: SessionMode::ReadWrite,
                }],
            ));
        }
    }
}
