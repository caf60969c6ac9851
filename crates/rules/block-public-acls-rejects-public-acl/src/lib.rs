//! Rule `builtin/block-public-acls-rejects-public-acl`: S3 Block Public Access
//! `BlockPublicAcls` is on for the bucket or the account and the upload sets a public ACL.

use why403_core::analysis::{BlockCode, CheckKind, CheckOutcome};
use why403_core::finding::{Confidence, Refusal, Role};
use why403_core::rule::{Emitter, EvidenceKind, Rule, RuleContext, emit_block, remove_headers_fix};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// "Block public access to buckets and objects granted through new access control lists
    /// (ACLs)" (`BlockPublicAcls` in `aws s3api get-public-access-block` or
    /// `aws s3control get-public-access-block`) is on for the bucket or the account, and the
    /// upload sets a public ACL: the canned ACL `public-read`, `public-read-write` or
    /// `authenticated-read` (`--acl`), or a grant header (`--grant-read` and friends) naming
    /// the `AllUsers` or `AuthenticatedUsers` group.
    ///
    /// ## How AWS evaluates it
    ///
    /// Block Public Access is applied on top of the policies: the most restrictive
    /// combination of the access point, bucket, account and organization settings wins. With
    /// `BlockPublicAcls` on, S3 rejects any `PutObject`, `CopyObject` or POST upload that
    /// carries a public ACL with 403 `AccessDenied` ("public ACLs are prevented by the
    /// BlockPublicAcls setting in S3 Block Public Access"), whatever the identity and bucket
    /// policies allow. `IgnorePublicAcls` alone does not reject such uploads; it only makes
    /// S3 disregard public grants when it evaluates access.
    ///
    /// ## Example
    ///
    /// The upload runs `aws s3 cp photo.jpg s3://amzn-s3-demo-bucket/ --acl public-read` and
    /// the bucket has:
    ///
    /// ```json
    /// {"PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true,
    ///  "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}
    /// ```
    ///
    /// ## Fix
    ///
    /// Remove the public ACL from the upload (drop `x-amz-acl` and the `x-amz-grant-*`
    /// headers, or send a non-public ACL such as `private`). If the objects really must be
    /// public, turn off `BlockPublicAcls` at every level where it is on (bucket and account),
    /// or better, serve them through a bucket policy or CloudFront.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Blocking public access to your Amazon S3 storage
    /// - Amazon S3 User Guide: Access control list (ACL) overview, canned ACL
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3?
    pub struct BlockPublicAclsRejectsPublicAcl {
        id: "block-public-acls-rejects-public-acl",
        scope: "builtin",
        layer: BlockPublicAccess,
        summary: "block public access rejects an upload that sets a public ACL",
        refines: [],
        service: S3,
        actions: [],
        messages: [special(BlockPublicAcls)],
    }
}

impl Rule for BlockPublicAclsRejectsPublicAcl {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let req = &cx.analysis.request;
        let canned = req.headers.get("x-amz-acl");
        let mut headers: Vec<String> = canned.map(|_| "x-amz-acl".to_owned()).into_iter().collect();
        headers.extend(
            req.headers
                .keys()
                .filter(|k| k.starts_with("x-amz-grant-"))
                .cloned(),
        );
        if let Some((f, hit)) = emit_block(cx, out, BlockCode::BlockPublicAcls) {
            f.notes.push(hit.answer());
            for h in &headers {
                f.notes
                    .push(format!("the upload sends `{h}: {}`", req.headers[h]));
            }
            f.fix = remove_headers_fix(&headers, None);
            // The account's setting may be the organization's S3 policy's, which the account
            // cannot change (`account-bpa-enforced-by-organization` says so when it is read).
            let ev = &cx.analysis.evidence;
            if let (Some(pab), Some(u)) = (
                ev.account_public_access_block.get(),
                ev.org_s3_policy.unavailable(),
            ) && pab.block_public_acls
            {
                f.notes.push(format!(
                    "the account's `BlockPublicAcls` may be set by the organization's S3 policy, which the account cannot change; it could not be read ({}; needs {})",
                    u.reason,
                    u.needs.join(", ")
                ));
            }
        }
        // A Block Public Access level that could not be read may have `BlockPublicAcls` on.
        if headers.is_empty() {
            return;
        }
        for check in cx.analysis.checks.iter().filter(|c| {
            c.kind == CheckKind::S3
                && c.blocks.is_empty()
                && c.outcome == CheckOutcome::Indeterminate
        }) {
            let unread = check.missing_of(&EvidenceKind::PUBLIC_ACCESS_BLOCKS);
            let Some(first) = unread.first() else {
                continue;
            };
            let f = out.emit(
                Role::Cause,
                Confidence::Possible,
                "the upload sets a public ACL and a Block Public Access setting that could not be read may have `BlockPublicAcls` on",
            );
            f.claim(&check.action, Refusal::Unread(first.kind));
            f.missing = unread;
        }
    }
}
