//! Rule `builtin/object-ownership-enforced-acl-header`: the bucket's Object Ownership is
//! `BucketOwnerEnforced` (ACLs disabled) and the upload sets an ACL other than
//! `bucket-owner-full-control`.

use why403_core::analysis::BlockCode;
use why403_core::finding::Refusal;
use why403_core::rule::{
    Emitter, EvidenceKind, Rule, RuleContext, emit_block, emit_unread_setting, remove_headers_fix,
};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket's Object Ownership setting is "Bucket owner enforced" (`BucketOwnerEnforced`
    /// in `aws s3api get-bucket-ownership-controls`), so ACLs are disabled, and the upload
    /// still sets an ACL: a canned ACL such as `--acl public-read` or `--acl private`
    /// (`x-amz-acl`), or a grant header such as `--grant-read` (`x-amz-grant-*`). The CLI
    /// reports `An error occurred (AccessControlListNotSupported) when calling the PutObject
    /// operation: The bucket does not allow ACLs`.
    ///
    /// ## How AWS evaluates it
    ///
    /// With ACLs disabled, S3 accepts an upload only if it sets no ACL or sets exactly the
    /// canned ACL `bucket-owner-full-control`. Any other ACL header is refused before
    /// policies matter, with HTTP 400 `AccessControlListNotSupported`, not 403. The identity
    /// and bucket policies cannot allow such a request. Buckets with `ObjectWriter` or
    /// `BucketOwnerPreferred` ownership (or none configured) still accept ACLs and are not
    /// covered by this rule.
    ///
    /// ## Example
    ///
    /// `aws s3api get-bucket-ownership-controls` shows ACLs disabled, and the upload runs
    /// `aws s3 cp photo.jpg s3://amzn-s3-demo-bucket/ --acl public-read`:
    ///
    /// ```json
    /// {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}
    /// ```
    ///
    /// ## Fix
    ///
    /// Stop sending the ACL headers (`x-amz-acl` and `x-amz-grant-*`) with the upload. Where
    /// a client insists on an ACL, send only `x-amz-acl: bucket-owner-full-control`.
    /// Alternatively switch Object Ownership to `BucketOwnerPreferred` or `ObjectWriter` to
    /// enable ACLs again, and grant access with policies rather than ACLs.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Controlling ownership of objects and disabling ACLs for your bucket
    /// - Amazon S3 User Guide: Troubleshooting — `AccessControlListNotSupported` "The bucket does not allow ACLs"
    /// - Amazon S3 API Reference: PutObject, `x-amz-acl` and `x-amz-grant-*` headers
    pub struct ObjectOwnershipEnforcedAclHeader {
        id: "object-ownership-enforced-acl-header",
        scope: "builtin",
        layer: BucketOwnership,
        summary: "the bucket has ACLs disabled and the upload sets an ACL",
        refines: [
            "block-public-acls-rejects-public-acl",
            "account-bpa-enforced-by-organization",
        ],
        service: S3,
        actions: [],
        messages: [code("AccessControlListNotSupported")],
    }
}

impl Rule for ObjectOwnershipEnforcedAclHeader {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let req = &cx.analysis.request;
        let canned = req.headers.get("x-amz-acl").map(String::as_str);
        let grants: Vec<String> = req
            .headers
            .keys()
            .filter(|k| k.starts_with("x-amz-grant-"))
            .cloned()
            .collect();
        // `bucket-owner-full-control` alone is accepted, so keep it if it was sent.
        let keep_canned = canned == Some("bucket-owner-full-control");
        let mut headers: Vec<String> = Vec::new();
        if canned.is_some() && !keep_canned {
            headers.push("x-amz-acl".into());
        }
        headers.extend(grants.iter().cloned());
        let fix = remove_headers_fix(
            &headers,
            keep_canned.then_some("and send only `x-amz-acl: bucket-owner-full-control`"),
        );
        let mut sent: Vec<String> = Vec::new();
        if let Some(a) = canned {
            sent.push(format!("`x-amz-acl: {a}`"));
        }
        sent.extend(grants.iter().map(|g| format!("`{g}: {}`", req.headers[g])));
        if let Some((f, hit)) = emit_block(cx, out, BlockCode::ObjectOwnershipAclNotSupported) {
            // It explains the whole check: `BlockPublicAcls` would refuse the same headers.
            for c in &hit.checks {
                f.claim(&c.action, Refusal::Check);
            }
            f.notes.push(hit.answer());
            if !sent.is_empty() {
                f.notes
                    .push(format!("the upload sends {}", sent.join(", ")));
            }
            f.fix = fix.clone();
        }
        // Unreadable Object Ownership: the ACL headers may be refused.
        emit_unread_setting(
            cx,
            out,
            EvidenceKind::BucketOwnership,
            "the bucket's Object Ownership setting could not be read; if it is `BucketOwnerEnforced`, S3 rejects the upload's ACL headers with 400 `AccessControlListNotSupported`",
            fix.as_ref(),
        );
    }
}
