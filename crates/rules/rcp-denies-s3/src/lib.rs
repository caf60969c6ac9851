//! Rule `builtin/rcp-denies-s3`: a resource control policy of the bucket owner's organization
//! denies the upload, or no RCP allows it at some level of the path to the bucket owner's
//! account.

use why403_core::analysis::CheckKind;
use why403_core::rule::{Emitter, Rule, RuleContext, emit_rcp_findings};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket belongs to an account that is a member of an AWS Organizations organization,
    /// and a resource control policy (RCP) attached to the organization's root, to an
    /// organizational unit on the way to that account, or to the account itself denies the
    /// upload. Typical RCPs deny `s3:*` to principals outside the organization
    /// (`aws:PrincipalOrgID`), deny requests without TLS, or deny uploads without a given
    /// encryption header. It is the **bucket owner's** organization that counts, not the
    /// caller's.
    ///
    /// ## How AWS evaluates it
    ///
    /// RCPs limit what any principal may do with the resources of the organization's member
    /// accounts, principals of other accounts and anonymous callers included; they grant
    /// nothing. An explicit deny in any RCP refuses the request (`... with an explicit deny in
    /// a resource control policy`). A request must also be allowed by an RCP at every level
    /// from the root to the account, which the AWS managed `RCPFullAWSAccess` (attached
    /// everywhere, and not detachable) guarantees, so a missing Allow usually means the
    /// evidence is incomplete. RCPs do not apply to resources of the management account or to
    /// service-linked roles.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Sid": "EnforceOrgIdentities",
    ///   "Effect": "Deny",
    ///   "Principal": "*",
    ///   "Action": "s3:*",
    ///   "Resource": "*",
    ///   "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    /// }
    /// ```
    ///
    /// attached to the bucket owner's OU: a partner account outside the organization is
    /// refused, whatever the bucket policy grants it.
    ///
    /// ## Fix
    ///
    /// Ask the bucket owner's organization administrators (management account or delegated
    /// administrator) to narrow the denying RCP (for example exempt the partner's account or
    /// principal in its condition) or detach it; when the deny depends on a request header,
    /// send that header instead.
    ///
    /// ## References
    ///
    /// - <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html>
    /// - <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html>
    /// - <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html>
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
    pub struct RcpDeniesS3 {
        id: "rcp-denies-s3",
        scope: "builtin",
        layer: Organizations,
        summary: "a resource control policy of the bucket owner's organization denies the upload",
        refines: [],
        service: S3,
        actions: [],
        messages: [either(Rcp)],
    }
}

impl Rule for RcpDeniesS3 {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        emit_rcp_findings(cx, out, CheckKind::S3, "the bucket owner's account");
    }
}
