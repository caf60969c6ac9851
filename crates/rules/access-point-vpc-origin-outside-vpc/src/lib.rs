//! Rule `builtin/access-point-vpc-origin-outside-vpc`: the upload goes through an access point
//! whose network origin is a VPC, from outside that VPC.

use why403_core::analysis::BlockCode;
use why403_core::evidence::NetworkOrigin;
use why403_core::finding::{Change, Fix};
use why403_core::rule::{Emitter, Rule, RuleContext, emit_block};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The access point the upload goes through was created with network origin `VPC`
    /// (`aws s3control get-access-point` shows `"NetworkOrigin": "VPC"` and
    /// `VpcConfiguration.VpcId`), and the request did not come from that VPC: it came from
    /// the internet (a laptop, the console, a CI runner outside AWS), or through a VPC
    /// endpoint of another VPC.
    ///
    /// ## How AWS evaluates it
    ///
    /// An access point restricted to a VPC accepts only requests that come from that VPC
    /// through an S3 VPC endpoint; S3 refuses every other request with 403 `AccessDenied`,
    /// whatever the policies allow. The restriction is set when the access point is created
    /// and cannot be changed afterwards. Policies see it as `s3:AccessPointNetworkOrigin`
    /// (`VPC` or `Internet`). The S3 console uploads from the browser, so a VPC-only access
    /// point cannot be used from it.
    ///
    /// ## Example
    ///
    /// `finance-vpc-ap` has network origin `VPC` with `vpc-1a2b3c4d`; an upload from a
    /// developer's laptop (`203.0.113.7`) through it is refused.
    ///
    /// ## Fix
    ///
    /// Send the upload from an instance or service in the access point's VPC, through an S3
    /// gateway or interface endpoint there (the fix is verified with the endpoint's default
    /// policy, which allows everything; a custom endpoint policy must allow the upload too).
    /// Otherwise upload through another access point whose network origin is `Internet`: a
    /// new one, since an access point's network origin cannot be changed.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Creating access points restricted to a virtual private cloud
    /// - Amazon S3 User Guide: Configuring IAM policies for using access points
    ///   (`s3:AccessPointNetworkOrigin`)
    /// - AWS PrivateLink Guide: Gateway endpoints for Amazon S3
    pub struct AccessPointVpcOriginOutsideVpc {
        id: "access-point-vpc-origin-outside-vpc",
        scope: "builtin",
        layer: AccessPoint,
        summary: "a VPC-only access point refuses a request from outside its VPC",
        refines: [],
        service: S3,
        actions: [],
        messages: [GENERIC],
    }
}

impl Rule for AccessPointVpcOriginOutsideVpc {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let Some(ap) = cx.analysis.evidence.access_point.get() else {
            return;
        };
        let NetworkOrigin::Vpc(vpc) = &ap.network_origin else {
            return;
        };
        let Some((f, hit)) = emit_block(cx, out, BlockCode::AccessPointNetworkOrigin) else {
            return;
        };
        f.notes.push(hit.answer());
        f.notes.push(format!(
            "an access point's network origin is fixed when it is created: to upload from outside `{vpc}`, use another access point whose network origin is `Internet`"
        ));
        f.fix = Some(Fix::new(
            format!(
                "send the upload from the VPC `{vpc}`, through an S3 VPC endpoint there (verified with the endpoint's default policy, which allows everything)"
            ),
            vec![Change::SendFromVpc { vpc: vpc.clone() }],
        ));
    }
}
