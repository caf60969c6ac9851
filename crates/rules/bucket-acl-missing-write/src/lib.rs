//! Rule `builtin/bucket-acl-missing-write`: ACLs are enabled on the bucket and its ACL does not
//! grant the bucket owner's account `WRITE`.

use why403_core::analysis::BlockCode;
use why403_core::evidence::{AclPermission, Grantee};
use why403_core::finding::{Change, Fix};
use why403_core::rule::{Emitter, EvidenceKind, Rule, RuleContext, emit_block};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket uses ACLs (Object Ownership is `ObjectWriter` or `BucketOwnerPreferred`, or
    /// not configured) and its ACL no longer grants the bucket owner's account `WRITE` or
    /// `FULL_CONTROL` ("Objects: Write" in the console). The Knowledge Center article lists
    /// this as a cause of 403 on upload: the account's root user, and with it the account's
    /// users and roles, are not allowed to write objects into the bucket.
    ///
    /// ## How AWS evaluates it
    ///
    /// With ACLs enabled, S3 checks the bucket context of a `PutObject` against the bucket ACL
    /// as well as the bucket policy: the ACL's `WRITE` permission on a bucket is what lets a
    /// grantee create objects in it. ACLs only grant; they cannot override a deny. With Object
    /// Ownership `BucketOwnerEnforced`, ACLs are disabled and the owner always has full
    /// control, so this cause cannot occur.
    ///
    /// ## Example
    ///
    /// `aws s3api get-bucket-acl` shows only a read grant for the owner:
    ///
    /// ```json
    /// {"Owner": {"ID": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
    ///  "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
    ///              "Permission": "READ"}]}
    /// ```
    ///
    /// ## Fix
    ///
    /// Grant the owner's canonical user `FULL_CONTROL` again (`aws s3api put-bucket-acl` with
    /// `--grant-full-control id=<owner canonical id>`, keeping the other grants), or switch the
    /// bucket to Object Ownership `BucketOwnerEnforced` and manage access with policies.
    ///
    /// ## References
    ///
    /// - AWS Knowledge Center: Why am I getting a "403 Forbidden" error when I try to upload files in Amazon S3? (2020 and 2022 versions)
    /// - Amazon S3 User Guide: Access control list (ACL) overview, permissions you can grant
    /// - Amazon S3 User Guide: Controlling ownership of objects and disabling ACLs
    pub struct BucketAclMissingWrite {
        id: "bucket-acl-missing-write",
        scope: "builtin",
        layer: BucketAcl,
        summary: "the bucket ACL does not grant the bucket owner's account WRITE",
        refines: [],
        service: S3,
        actions: ["s3:PutObject"],
        messages: [implicit(ResourceBased), GENERIC],
    }
}

impl Rule for BucketAclMissingWrite {
    fn needs(&self) -> &'static [EvidenceKind] {
        &[EvidenceKind::BucketAcl]
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let Some(acl) = cx.analysis.evidence.bucket.acl.get() else {
            return;
        };
        let Some((f, _)) = emit_block(cx, out, BlockCode::BucketAclNoWrite) else {
            return;
        };
        let ownership = cx
            .analysis
            .evidence
            .bucket
            .ownership
            .get()
            .map_or("not configured (ACLs enabled)", |o| o.as_str());
        f.notes.push(format!(
            "Object Ownership is {ownership}, so S3 uses the bucket ACL"
        ));
        let granted: Vec<String> = acl
            .grants
            .iter()
            .map(|g| {
                format!(
                    "`{}` to {}",
                    g.permission.as_str(),
                    grantee_words(&g.grantee)
                )
            })
            .collect();
        f.notes.push(format!(
            "the ACL grants: {}",
            if granted.is_empty() {
                "nothing".into()
            } else {
                granted.join(", ")
            }
        ));
        f.fix = Some(Fix::new(
            format!(
                "grant the bucket owner's canonical user `{}` `FULL_CONTROL` in the bucket ACL",
                acl.owner_id
            ),
            vec![Change::AddAclGrant {
                canonical_id: acl.owner_id.clone(),
                permission: AclPermission::FullControl,
            }],
        ));
    }
}

fn grantee_words(g: &Grantee) -> String {
    match g {
        Grantee::CanonicalUser {
            id,
            display_name: Some(n),
        } => format!("canonical user `{id}` ({n})"),
        Grantee::CanonicalUser {
            id,
            display_name: None,
        } => format!("canonical user `{id}`"),
        Grantee::Group { uri } => format!("group `{}`", uri.rsplit('/').next().unwrap_or(uri)),
        Grantee::Email { address } => format!("email grantee `{address}`"),
    }
}
