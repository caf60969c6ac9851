//! Unit tests of the parser's pieces: each envelope, the grammar's slots and the fixed
//! messages. The corpus in tests/message_corpus.rs covers whole real-shaped messages.

use super::{Envelope, PolicyType, Special, parse};

#[test]
fn a_bare_typed_message_gives_every_slot() {
    let p = parse(
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket/a b.txt\" with an explicit deny in a resource-based policy",
    );
    assert_eq!(p.envelope, Envelope::Bare);
    assert_eq!(
        p.principal.as_deref(),
        Some("arn:aws:iam::111122223333:user/alice")
    );
    assert_eq!(p.action.as_deref(), Some("s3:PutObject"));
    assert_eq!(
        p.resource.as_deref(),
        Some("arn:aws:s3:::amzn-s3-demo-bucket/a b.txt")
    );
    assert_eq!(p.bucket.as_deref(), Some("amzn-s3-demo-bucket"));
    assert_eq!(p.key.as_deref(), Some("a b.txt"));
    assert_eq!(p.explicit, Some(true));
    assert_eq!(p.policy_type, Some(PolicyType::ResourceBased));
    assert_eq!(p.unrecognised, None);
}

#[test]
fn an_arn_wrapped_mid_word_is_joined() {
    let p = parse(
        "An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::111122223333:assu\nmed-role/Upl\noader/s1 is not authorized to perform: s3:PutObj\nect on resource: \"arn:aws:s3:::b/k\" because no identity-based pol\nicy allows the s3:PutObject action",
    );
    assert_eq!(
        p.principal.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/Uploader/s1")
    );
    assert_eq!(p.action.as_deref(), Some("s3:PutObject"));
    assert_eq!(p.policy_type, Some(PolicyType::IdentityBased));
    assert_eq!(p.explicit, Some(false));
    assert_eq!(p.operation.as_deref(), Some("PutObject"));
}

#[test]
fn a_stop_word_alone_on_a_line_inside_an_arn_is_part_of_it() {
    // Found by the wrapping proptest: a terminal can leave `a` alone on a line in the middle
    // of the policy ARN (`o-` / `a` / `1b2c...`); `a` is a stop word only where the ARN can
    // end and the word is not cut itself.
    let p = parse(
        "User: arn:aws:iam::111122223333:role/R is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-\na\n1b2c3d4e5/service_control_policy/p-examplescp1",
    );
    assert_eq!(
        p.policy_arn.as_deref(),
        Some(
            "arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-examplescp1"
        )
    );
    // A real stop word after a complete ARN still ends it.
    let p = parse(
        "User: arn:aws:iam::111122223333:role/R is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" because no identity-based policy allows the s3:PutObject\naction",
    );
    assert_eq!(p.action.as_deref(), Some("s3:PutObject"));
}

#[test]
fn the_policy_arn_and_authorization_id_end_the_message() {
    let p = parse(
        "User: arn:aws:iam::111122223333:role/R is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-abcd1234. Go to https://console.aws.amazon.com/iam for complete details, or call the GetRequestAuthorizationDetails API with the following authorization id: 7f3c2a9e1b",
    );
    assert_eq!(
        p.policy_arn.as_deref(),
        Some(
            "arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-abcd1234"
        )
    );
    assert_eq!(p.authorization_id.as_deref(), Some("7f3c2a9e1b"));
    assert_eq!(p.policy_type, Some(PolicyType::Scp));
}

#[test]
fn kms_on_this_resource_names_no_resource() {
    let p = parse(
        "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: kms:GenerateDataKey on this resource because no identity-based policy allows the kms:GenerateDataKey action",
    );
    assert!(p.details.on_this_resource);
    assert_eq!(p.resource, None);
    assert_eq!(p.action.as_deref(), Some("kms:GenerateDataKey"));
}

#[test]
fn specials_are_recognised() {
    let p = parse(
        "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" because public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access.",
    );
    assert_eq!(p.special, Some(Special::BlockPublicAcls));
    assert_eq!(p.policy_type, None);
}

#[test]
fn fixed_messages_imply_their_code() {
    let p = parse("The provided token has expired.");
    assert_eq!(p.code.as_deref(), Some("ExpiredToken"));
    let p = parse(
        "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
    );
    assert_eq!(p.code.as_deref(), Some("AuthorizationHeaderMalformed"));
    assert_eq!(p.details.region_used.as_deref(), Some("us-east-1"));
    assert_eq!(p.details.region_expected.as_deref(), Some("eu-west-1"));
}

#[test]
fn nothing_recognised_says_so() {
    let p = parse("hello world");
    assert!(!p.is_recognised());
    assert_eq!(p.unrecognised.as_deref(), Some("hello world"));
    assert!(!parse("").is_recognised());
}

#[test]
fn go_v1_and_java_v2_envelopes() {
    let p = parse(
        "AccessDenied: Access Denied\n\tstatus code: 403, request id: 03B863B8110F81F2, host id: FhXCJS1vfS/jmUQ=",
    );
    assert_eq!(p.envelope, Envelope::GoV1);
    assert_eq!(p.code.as_deref(), Some("AccessDenied"));
    assert_eq!(p.http_status, Some(403));
    assert_eq!(p.request_id.as_deref(), Some("03B863B8110F81F2"));
    assert_eq!(p.host_id.as_deref(), Some("FhXCJS1vfS/jmUQ="));
    assert!(p.details.generic);
    let p = parse(
        "software.amazon.awssdk.services.s3.model.S3Exception: Access Denied (Service: S3, Status Code: 403, Request ID: X1, Extended Request ID: Y1)",
    );
    assert_eq!(p.envelope, Envelope::JavaV2);
    assert_eq!(p.http_status, Some(403));
    assert_eq!(p.request_id.as_deref(), Some("X1"));
    assert_eq!(p.host_id.as_deref(), Some("Y1"));
    assert_eq!(p.message.as_deref(), Some("Access Denied"));
}

#[test]
fn a_huge_input_is_read_up_to_the_limit() {
    let mut s = "x ".repeat(super::MAX_TEXT);
    s.push('é');
    let p = parse(&s);
    assert!(!p.is_recognised());
}

#[test]
fn a_line_break_inside_a_json_escape_is_read_through() {
    let p = parse(
        "{\"errorCode\": \"AccessDenied\", \"errorMessage\": \"User: arn:aws:iam::111122223333:user/a is not authorized to perform: s3:PutObject on resource: \\\n\"arn:aws:s3:::b/k\\\" because no identity-based policy allows the s3:PutObject action\"",
    );
    assert_eq!(p.envelope, Envelope::CloudTrail);
    assert_eq!(p.resource.as_deref(), Some("arn:aws:s3:::b/k"));
    assert_eq!(p.policy_type, Some(PolicyType::IdentityBased));
}

#[test]
fn an_unknown_access_denied_message_is_said_to_be_unknown() {
    let p = parse(
        "An error occurred (AccessDenied) when calling the PutObject operation: Something new",
    );
    assert_eq!(p.unrecognised.as_deref(), Some("Something new"));
    let x = super::explain(&p, &why403_core::rule::Registry::default());
    assert_eq!(x.kind, super::Kind::AccessDenied);
    assert_eq!(
        x.headline,
        "access denied, with a message why403 does not know"
    );
    assert!(
        x.notes
            .iter()
            .any(|n| n == "not recognised: `Something new`")
    );
}

/// A rule of an organization's crate, declared by hand (no registration), whose messages say
/// an explicit deny in a resource-based policy points to it.
struct OrgRule;

static ORG_META: why403_core::rule::RuleMeta = why403_core::rule::RuleMeta {
    scope: "acme",
    id: "bucket-policy-tag-guard",
    layer: why403_core::rule::RuleLayer::BucketPolicy,
    summary: "the bucket policy's tag guard denies the upload",
    refines: &[],
    service: why403_core::rule::Service::S3,
    actions: &[],
    messages: &[why403_core::rule::explains::explicit(
        PolicyType::ResourceBased,
    )],
    docs: "",
    source_file: file!(),
    source_line: line!(),
};

impl why403_core::rule::Declared for OrgRule {
    fn meta(&self) -> &'static why403_core::rule::RuleMeta {
        &ORG_META
    }
}

impl why403_core::rule::Rule for OrgRule {
    fn check(
        &self,
        _: &why403_core::rule::RuleContext<'_>,
        _: &mut why403_core::rule::Emitter<'_>,
    ) {
    }
}

#[test]
fn explain_speaks_of_the_rules_of_the_registry_with_their_scope() {
    let registry =
        why403_core::rule::Registry::from_rules([&OrgRule as &dyn why403_core::rule::Rule])
            .unwrap();
    let explicit = parse(
        "An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::111122223333:user/a is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" with an explicit deny in a resource-based policy",
    );
    let x = super::explain(&explicit, &registry);
    assert_eq!(x.rules.len(), 1, "{:?}", x.rules);
    assert_eq!(
        (x.rules[0].scope, x.rules[0].id),
        ("acme", "bucket-policy-tag-guard")
    );
    assert_eq!(x.rules[0].status, super::RuleStatus::RuledIn);
    assert!(super::human(&explicit, &x).contains("    acme/bucket-policy-tag-guard\n"));
    // An implicit deny rules out a rule that only explicit denies point to.
    let implicit = parse(
        "An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::111122223333:user/a is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" because no resource-based policy allows the s3:PutObject action",
    );
    let x = super::explain(&implicit, &registry);
    assert_eq!(x.rules.len(), 1, "{:?}", x.rules);
    assert_eq!(x.rules[0].status, super::RuleStatus::RuledOut);
    // Without the rule, nothing is said.
    let none = super::explain(&explicit, &why403_core::rule::Registry::default());
    assert!(none.rules.is_empty());
}
