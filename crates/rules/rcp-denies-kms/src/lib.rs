//! Rule `builtin/rcp-denies-kms`: a resource control policy of the KMS key owner's
//! organization denies the KMS call S3 makes for the upload with the caller's credentials.

use why403_core::analysis::CheckKind;
use why403_core::rule::{Emitter, Rule, RuleContext, emit_rcp_findings};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload is encrypted with a customer managed KMS key (SSE-KMS or DSSE-KMS, from the
    /// request's headers or the bucket's default encryption), so S3 calls KMS
    /// (`kms:GenerateDataKey`, and `kms:Decrypt` for multipart uploads) with the caller's
    /// credentials. The key's account is a member of an AWS Organizations organization, and a
    /// resource control policy (RCP) of that organization denies the call, for example a deny
    /// of `kms:*` to principals outside the organization or outside a list of accounts.
    ///
    /// ## How AWS evaluates it
    ///
    /// KMS supports RCPs: they limit what any principal may do with the keys of the
    /// organization's member accounts, principals of other accounts included, and grant
    /// nothing. An explicit deny refuses the call; an Allow is needed at every level from the
    /// root to the key's account (`RCPFullAWSAccess` gives one). The refusal surfaces as a 403
    /// on the upload whose message names the KMS action. RCPs do not apply to AWS managed keys
    /// such as `aws/s3`, nor to keys of the management account.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Sid": "KeysForOrgOnly",
    ///   "Effect": "Deny",
    ///   "Principal": "*",
    ///   "Action": "kms:*",
    ///   "Resource": "*",
    ///   "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    /// }
    /// ```
    ///
    /// attached to the key owner's root: a partner uploading to a bucket encrypted with that
    /// key is refused on `kms:GenerateDataKey`.
    ///
    /// ## Fix
    ///
    /// Ask the key owner's organization administrators to narrow the denying RCP (exempt the
    /// caller's account or principal) or detach it, or encrypt the upload with another key
    /// (or SSE-S3) where the bucket policy allows it.
    ///
    /// ## References
    ///
    /// - <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html> (supported services include AWS KMS)
    /// - <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html>
    /// - <https://docs.aws.amazon.com/kms/latest/developerguide/services-s3.html> (how S3 uses KMS)
    /// - <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html>
    pub struct RcpDeniesKms {
        id: "rcp-denies-kms",
        scope: "builtin",
        layer: Organizations,
        summary: "a resource control policy of the KMS key owner's organization denies the key use",
        refines: [],
        service: Kms,
        actions: [],
        messages: [either(Rcp)],
    }
}

impl Rule for RcpDeniesKms {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        emit_rcp_findings(cx, out, CheckKind::Kms, "the KMS key owner's account");
    }
}
