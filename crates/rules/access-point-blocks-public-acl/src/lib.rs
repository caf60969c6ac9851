//! Rule `builtin/access-point-blocks-public-acl`: the upload sets a public
//! ACL through an access point whose own Block Public Access `BlockPublicAcls` is on.

use why403_core::analysis::BlockCode;
use why403_core::evidence::{ALL_USERS, AUTHENTICATED_USERS};
use why403_core::rule::{Emitter, Rule, RuleContext, emit_block, remove_headers_fix};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload goes through an access point and sets a public ACL (`x-amz-acl:
    /// public-read`, `public-read-write`, `authenticated-read`, or an `x-amz-grant-*` header
    /// naming the `AllUsers` or `AuthenticatedUsers` group), and the access point's own Block
    /// Public Access setting `BlockPublicAcls` is on, while the bucket's and the account's are
    /// off (when they are on, `block-public-acls-rejects-public-acl` explains it).
    ///
    /// ## How AWS evaluates it
    ///
    /// Every access point has its own four Block Public Access settings, on by default and
    /// fixed when it is created; they apply to requests through it, on top of the bucket's and
    /// the account's. With `BlockPublicAcls` on, S3 refuses a request that sets a public ACL
    /// with 403 `AccessDenied`.
    ///
    /// ## Example
    ///
    /// `aws s3 cp report.csv s3://finance-ap-...-s3alias/reports/ --acl public-read` through an
    /// access point created with the default settings.
    ///
    /// ## Fix
    ///
    /// Stop sending the public ACL (objects are better published through a bucket policy or
    /// CloudFront). The access point's settings cannot be changed: a public ACL needs another
    /// access point created with `BlockPublicAcls` off, or the bucket itself.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Blocking public access to your Amazon S3 storage (access points)
    /// - Amazon S3 User Guide: Managing public access to access points
    pub struct AccessPointBlocksPublicAcl {
        id: "access-point-blocks-public-acl",
        scope: "builtin",
        layer: AccessPoint,
        summary: "the access point's Block Public Access refuses the upload's public ACL",
        refines: [],
        service: S3,
        actions: [],
        messages: [special(BlockPublicAcls)],
    }
}

impl Rule for AccessPointBlocksPublicAcl {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let req = &cx.analysis.request;
        let Some((f, hit)) = emit_block(cx, out, BlockCode::AccessPointBlockPublicAcls) else {
            return;
        };
        f.notes.push(hit.answer());
        f.notes.push(
            "an access point's Block Public Access settings are fixed when it is created: a public ACL needs another access point, or the bucket itself".to_owned(),
        );
        let public: Vec<String> = req
            .headers
            .iter()
            .filter(|(k, v)| {
                (*k == "x-amz-acl"
                    && matches!(
                        v.as_str(),
                        "public-read" | "public-read-write" | "authenticated-read"
                    ))
                    || (k.starts_with("x-amz-grant-")
                        && (v.contains(ALL_USERS) || v.contains(AUTHENTICATED_USERS)))
            })
            .map(|(k, _)| k.clone())
            .collect();
        f.fix = remove_headers_fix(&public, None);
    }
}
