//! Rule `builtin/block-public-acls-rejects-public-acl`: S3 Block Public Access
//! `BlockPublicAcls` is on for the bucket or the account and the upload sets a public ACL.

use why403_core::analysis::{CheckKind, CheckOutcome};
use why403_core::finding::{Change, Confidence, Fix, Refusal, Role};
use why403_core::rule::{Emitter, EvidenceKind, Rule, RuleContext};

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
        layer: "block-public-access",
        summary: "block public access rejects an upload that sets a public ACL",
    }
}

impl Rule for BlockPublicAclsRejectsPublicAcl {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let req = &cx.analysis.request;
        let canned = req.headers.get("x-amz-acl");
        let grants: Vec<&String> = req
            .headers
            .keys()
            .filter(|k| k.starts_with("x-amz-grant-"))
            .collect();
        for check in cx
            .analysis
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::S3)
        {
            for b in check
                .blocks
                .iter()
                .filter(|b| b.code == why403_core::analysis::BlockCode::BlockPublicAcls)
            {
                let f = out.emit(Role::Cause, Confidence::Confirmed, b.message.clone());
                f.claim(&check.action, Refusal::Block(b.code));
                f.notes
                    .push(format!("S3 answers {} `{}`", b.status, b.aws_code));
                if let Some(a) = canned {
                    f.notes.push(format!("the upload sends `x-amz-acl: {a}`"));
                }
                for g in &grants {
                    f.notes
                        .push(format!("the upload sends `{g}: {}`", req.headers[*g]));
                }
                let mut changes = Vec::new();
                if canned.is_some() {
                    changes.push(Change::RemoveHeader {
                        name: "x-amz-acl".into(),
                    });
                }
                changes.extend(
                    grants
                        .iter()
                        .map(|g| Change::RemoveHeader { name: (*g).clone() }),
                );
                if changes.is_empty() {
                    continue;
                }
                let description = format!("remove {} from the upload", header_list(&changes));
                f.fix = Some(Fix::new(description, changes));
            }
            // A Block Public Access level that could not be read may have `BlockPublicAcls` on.
            if check.blocks.is_empty() && check.outcome == CheckOutcome::Indeterminate {
                let unread = check.missing_of(&EvidenceKind::PUBLIC_ACCESS_BLOCKS);
                if unread.is_empty() || (canned.is_none() && grants.is_empty()) {
                    continue;
                }
                let f = out.emit(
                    Role::Cause,
                    Confidence::Possible,
                    "the upload sets a public ACL and a Block Public Access setting that could not be read may have `BlockPublicAcls` on",
                );
                f.claim(&check.action, Refusal::Unread(unread[0].kind));
                f.missing = unread;
            }
        }
    }
}

fn header_list(changes: &[Change]) -> String {
    let names: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::RemoveHeader { name } => Some(format!("`{name}`")),
            _ => None,
        })
        .collect();
    match names.split_last() {
        Some((last, [])) => format!("the {last} header"),
        Some((last, rest)) => format!("the {} and {last} headers", rest.join(", ")),
        None => "the ACL headers".into(),
    }
}
