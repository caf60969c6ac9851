//! `Policy::parse` on arbitrary text, for every kind of policy; a document that parses is
//! then evaluated in its layer against one upload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use why403_policy::{Policy, PolicyKind, PolicySet, Request, RequestContext, RequestPrincipal};

const KINDS: [PolicyKind; 9] = [
    PolicyKind::Identity,
    PolicyKind::Resource,
    PolicyKind::Scp,
    PolicyKind::Rcp,
    PolicyKind::Boundary,
    PolicyKind::Session,
    PolicyKind::VpcEndpoint,
    PolicyKind::KeyPolicy,
    PolicyKind::Trust,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in KINDS {
        let Ok(policy) = Policy::parse("fuzz", kind, text) else {
            continue;
        };
        let mut set = PolicySet::default();
        match kind {
            PolicyKind::Identity => set.identity.push(policy),
            PolicyKind::Resource => set.resource = Some(policy),
            PolicyKind::Scp => set.scp.push(vec![policy]),
            PolicyKind::Rcp => set.rcp.push(vec![policy]),
            PolicyKind::Boundary => set.boundary = Some(vec![policy]),
            PolicyKind::Session => set.session = Some(policy),
            PolicyKind::VpcEndpoint => set.vpc_endpoint = Some(vec![policy]),
            // Key and trust policies are not layers of an S3 upload's evaluation.
            _ => continue,
        }
        let caller = RequestPrincipal::parse(Some("arn:aws:iam::111122223333:user/alice"));
        let request = Request::new(
            caller,
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/uploads/report.csv",
            RequestContext::default(),
        );
        let _ = set.evaluate(&request);
    }
});
