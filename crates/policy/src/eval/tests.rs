//! Unit tests of the layered evaluator, one per layer rule of docs/aws-model.md (single
//! account, cross-account, VPC endpoint policies, resource grant kinds, NotPrincipal, key
//! policy evaluation, Block Public Access), each naming the rule it checks.

use serde_json::{Value, json};

use super::{
    Blocked, Decision, Element, Evaluation, Grant, Layer, Match, Miss, MissWhy, Outcome, PolicySet,
    Request, RequestPrincipal, StatementRef,
};
use crate::condition::{CondResult, CondWhy};
use crate::context::RequestContext;
use crate::policy::{Policy, PolicyKind};

const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";
const ROOT: &str = "arn:aws:iam::111122223333:root";
const USER: &str = "arn:aws:iam::111122223333:user/alice";
const OTHER_USER: &str = "arn:aws:iam::111122223333:user/bob";
const ROLE: &str = "arn:aws:iam::111122223333:role/uploader";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/uploader/build-42";
const FEDERATED: &str = "arn:aws:sts::111122223333:federated-user/carol";
const EXT_USER: &str = "arn:aws:iam::444455556666:user/dave";
const EXT_ROOT: &str = "arn:aws:iam::444455556666:root";
const BUCKET_OBJECTS: &str = "arn:aws:s3:::amzn-s3-demo-bucket/*";
const OBJECT: &str = "arn:aws:s3:::amzn-s3-demo-bucket/uploads/report.csv";
const PUT: &str = "s3:PutObject";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

/// A Version 2012-10-17 policy of `kind` with these statements.
fn policy(kind: PolicyKind, statements: Vec<Value>) -> Policy {
    versioned(kind, Some("2012-10-17"), statements)
}

fn versioned(kind: PolicyKind, version: Option<&str>, statements: Vec<Value>) -> Policy {
    let mut doc = json!({ "Statement": statements });
    if let Some(v) = version {
        doc["Version"] = json!(v);
    }
    let text = doc.to_string();
    Policy::parse("test", kind, &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn allow(action: &str, resource: &str) -> Value {
    json!({ "Effect": "Allow", "Action": action, "Resource": resource })
}

fn deny(action: &str, resource: &str) -> Value {
    json!({ "Effect": "Deny", "Action": action, "Resource": resource })
}

/// Adds a `Principal` to a statement.
fn to(mut statement: Value, principal: Value) -> Value {
    statement["Principal"] = principal;
    statement
}

fn aws(principal: &str) -> Value {
    json!({ "AWS": principal })
}

/// An identity policy allowing `s3:PutObject` on the bucket's objects.
fn identity_allows_put() -> Policy {
    policy(PolicyKind::Identity, vec![allow(PUT, BUCKET_OBJECTS)])
}

/// A bucket policy allowing `s3:PutObject` to `principal`.
fn bucket_policy_granting(principal: Value) -> Policy {
    policy(
        PolicyKind::Resource,
        vec![to(allow(PUT, BUCKET_OBJECTS), principal)],
    )
}

/// A policy that allows everything (FullAWSAccess / RCPFullAWSAccess / default endpoint policy).
fn allow_all(kind: PolicyKind) -> Policy {
    let st = allow("*", "*");
    let st = if kind.requires_principal() || kind == PolicyKind::VpcEndpoint {
        to(st, json!("*"))
    } else {
        st
    };
    policy(kind, vec![st])
}

/// `s3:PutObject` on the object by `principal` (`None`: anonymous), same account, no context.
fn put_by(principal: Option<&str>) -> Request {
    Request::new(
        RequestPrincipal::parse(principal),
        PUT,
        OBJECT,
        RequestContext::new(),
    )
}

fn ctx(pairs: &[(&str, &str)]) -> RequestContext {
    let mut c = RequestContext::new();
    for (k, v) in pairs {
        c.set(k, *v);
    }
    c
}

fn at(layer: Layer, level: u16, policy: u16, statement: u16) -> StatementRef {
    StatementRef {
        layer,
        level,
        policy,
        statement,
    }
}

fn blocked(layer: Layer, level: u16) -> Blocked {
    Blocked { layer, level }
}

fn allowed(e: &Evaluation) {
    assert_eq!(
        e.decision,
        Decision::Allowed,
        "blocked_by {:?}, deciding {:?}",
        e.blocked_by,
        e.deciding
    );
    assert!(e.blocked_by.is_empty());
}

fn implicitly_denied_by(e: &Evaluation, by: &[Blocked]) {
    assert_eq!(
        e.decision,
        Decision::ImplicitlyDenied,
        "deciding {:?}",
        e.deciding
    );
    assert_eq!(e.blocked_by, by);
    assert!(e.deciding.is_empty());
}

fn explicitly_denied_by(e: &Evaluation, deciding: &[StatementRef]) {
    assert_eq!(
        e.decision,
        Decision::ExplicitlyDenied,
        "blocked_by {:?}",
        e.blocked_by
    );
    assert_eq!(e.deciding, deciding);
    assert!(e.blocked_by.is_empty());
}

/// The recorded result of one statement.
fn result_of(e: &Evaluation, set: &PolicySet, req: &Request, s: StatementRef) -> Match {
    e.result_of(set, req, s)
        .unwrap_or_else(|| panic!("no trace for {s:?}"))
        .result
}

fn missed(element: Element, why: MissWhy) -> Match {
    Match::Miss(Miss { element, why })
}

// ---------------------------------------------------------------------------------------------
// §C.1 single account: identity policies, resource-based grant kinds
// ---------------------------------------------------------------------------------------------

#[test]
fn identity_allow_is_enough_within_the_account() {
    // AWS §C.1 step 5: without a resource-based grant, an identity-based Allow is needed, and
    // within the account it is enough.
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    allowed(&e);
    assert_eq!(e.deciding, [at(Layer::Identity, 0, 0, 0)]);
    assert_eq!(e.layer(Layer::Identity, 0).unwrap().outcome, Outcome::Allow);
    assert_eq!(e.grant, Grant::None);
}

#[test]
fn no_applicable_identity_allow_is_an_implicit_deny() {
    // AWS §C.1 step 5: no applicable Allow means an implicit deny; each statement records the
    // first element that failed.
    let set = PolicySet {
        identity: vec![
            policy(
                PolicyKind::Identity,
                vec![
                    allow("s3:GetObject", BUCKET_OBJECTS),
                    allow(PUT, "arn:aws:s3:::another-bucket/*"),
                ],
            ),
            policy(
                PolicyKind::Identity,
                vec![json!({"Effect": "Allow", "NotAction": "s3:Put*", "Resource": "*"})],
            ),
        ],
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    implicitly_denied_by(&e, &[blocked(Layer::Identity, 0)]);
    assert_eq!(
        e.layer(Layer::Identity, 0).unwrap().outcome,
        Outcome::ImplicitDeny
    );
    assert_eq!(
        result_of(&e, &set, &put_by(Some(USER)), at(Layer::Identity, 0, 0, 0)),
        missed(Element::Action, MissWhy::NoValueMatched)
    );
    assert_eq!(
        result_of(&e, &set, &put_by(Some(USER)), at(Layer::Identity, 0, 0, 1)),
        missed(Element::Resource, MissWhy::NoValueMatched)
    );
    assert_eq!(
        result_of(&e, &set, &put_by(Some(USER)), at(Layer::Identity, 0, 1, 0)),
        missed(Element::Action, MissWhy::Excluded(0))
    );
}

#[test]
fn same_account_bucket_policy_naming_user_arn_allows_without_identity_policy_but_account_root_does_not()
 {
    // AWS §C.1 step 4: a same-account resource-based policy that names the exact IAM user ARN
    // allows on its own; naming the account (root ARN or bare id) only delegates to the
    // account, whose identity policies must still allow.
    let by_user = PolicySet {
        resource: Some(bucket_policy_granting(aws(USER))),
        ..PolicySet::default()
    };
    let e = by_user.evaluate(&put_by(Some(USER)));
    allowed(&e);
    assert_eq!(e.grant, Grant::UserArn);
    assert_eq!(e.deciding, [at(Layer::Resource, 0, 0, 0)]);
    assert_eq!(
        e.layer(Layer::Identity, 0).unwrap().outcome,
        Outcome::ImplicitDeny
    );

    for account in [ROOT, ACCOUNT] {
        let by_root = PolicySet {
            resource: Some(bucket_policy_granting(aws(account))),
            ..PolicySet::default()
        };
        let e = by_root.evaluate(&put_by(Some(USER)));
        implicitly_denied_by(&e, &[blocked(Layer::Identity, 0)]);
        assert_eq!(e.grant, Grant::Account, "{account}");
        // With an identity Allow the delegation works, and both statements are relied on.
        let with_identity = PolicySet {
            identity: vec![identity_allows_put()],
            ..by_root
        };
        let e = with_identity.evaluate(&put_by(Some(USER)));
        allowed(&e);
        assert_eq!(
            e.deciding,
            [at(Layer::Resource, 0, 0, 0), at(Layer::Identity, 0, 0, 0)]
        );
    }

    // A different user of the same account is not named.
    let e = by_user.evaluate(&put_by(Some(OTHER_USER)));
    implicitly_denied_by(&e, &[blocked(Layer::Identity, 0)]);
    assert_eq!(
        result_of(
            &e,
            &by_user,
            &put_by(Some(OTHER_USER)),
            at(Layer::Resource, 0, 0, 0)
        ),
        missed(Element::Principal, MissWhy::NoValueMatched)
    );
}

#[test]
fn user_arn_grant_is_not_capped_by_a_boundary_implicit_deny() {
    // AWS §C.1 step 4 / A1.6: a grant to the IAM user ARN allows despite an implicit deny in
    // the identity policies and the permissions boundary.
    let set = PolicySet {
        resource: Some(bucket_policy_granting(aws(USER))),
        boundary: Some(vec![policy(
            PolicyKind::Boundary,
            vec![allow("s3:GetObject", "*")],
        )]),
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    allowed(&e);
    assert_eq!(
        e.layer(Layer::Boundary, 0).unwrap().outcome,
        Outcome::ImplicitDeny
    );
}

#[test]
fn root_user_needs_no_identity_policy_in_its_own_account() {
    // AWS §C.1 (root user): implicitly allowed in its own account, but subject to SCPs.
    let set = PolicySet::default();
    allowed(&set.evaluate(&put_by(Some(ROOT))));
    let set = PolicySet {
        scp: vec![vec![allow_all(PolicyKind::Scp)], vec![]],
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &set.evaluate(&put_by(Some(ROOT))),
        &[blocked(Layer::Scp, 1)],
    );
}

#[test]
fn role_arn_grant_needs_no_identity_allow_but_is_capped_by_boundary_and_session() {
    // AWS §C.1 step 4: a grant to the role ARN counts for the role's sessions without an
    // identity Allow, but an implicit deny in the permissions boundary or the session policy
    // still caps it.
    let resource = Some(bucket_policy_granting(aws(ROLE)));
    let set = PolicySet {
        resource: resource.clone(),
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(SESSION)));
    allowed(&e);
    assert_eq!(e.grant, Grant::RoleArn);

    let boundary_without_put = PolicySet {
        resource: resource.clone(),
        boundary: Some(vec![policy(
            PolicyKind::Boundary,
            vec![allow("s3:GetObject", "*")],
        )]),
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &boundary_without_put.evaluate(&put_by(Some(SESSION))),
        &[blocked(Layer::Boundary, 0)],
    );

    let session_without_put = PolicySet {
        resource: resource.clone(),
        session: Some(policy(
            PolicyKind::Session,
            vec![allow("s3:GetObject", "*")],
        )),
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &session_without_put.evaluate(&put_by(Some(SESSION))),
        &[blocked(Layer::Session, 0)],
    );

    // Both allowing: allowed, still with no identity policy.
    let both = PolicySet {
        resource,
        boundary: Some(vec![policy(PolicyKind::Boundary, vec![allow("s3:*", "*")])]),
        session: Some(policy(PolicyKind::Session, vec![allow("s3:*", "*")])),
        ..PolicySet::default()
    };
    allowed(&both.evaluate(&put_by(Some(SESSION))));
}

#[test]
fn role_arn_with_a_path_matches_its_sessions() {
    // AWS §C.1 step 4: the session ARN carries the role name but not its path.
    let set = PolicySet {
        resource: Some(bucket_policy_granting(aws(
            "arn:aws:iam::111122223333:role/team/ci/uploader",
        ))),
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(SESSION)));
    allowed(&e);
    assert_eq!(e.grant, Grant::RoleArn);
}

#[test]
fn session_arn_grant_is_not_capped() {
    // AWS §C.1 step 4: a grant to the role-session (or federated-user) ARN allows despite
    // implicit denies in identity policies, the boundary and the session policy.
    for principal in [SESSION, FEDERATED] {
        let set = PolicySet {
            resource: Some(bucket_policy_granting(aws(principal))),
            boundary: Some(vec![policy(
                PolicyKind::Boundary,
                vec![allow("s3:GetObject", "*")],
            )]),
            session: Some(policy(
                PolicyKind::Session,
                vec![allow("s3:GetObject", "*")],
            )),
            ..PolicySet::default()
        };
        let e = set.evaluate(&put_by(Some(principal)));
        allowed(&e);
        assert_eq!(e.grant, Grant::SessionArn, "{principal}");
        assert_eq!(e.deciding, [at(Layer::Resource, 0, 0, 0)]);
    }
}

#[test]
fn star_principal_with_principal_arn_condition_is_not_capped_by_implicit_denies() {
    // AWS §C.1 step 4 (exception) / §C.5 STAR_PRINCIPALARN: `"Principal": "*"` with an
    // `aws:PrincipalArn` condition is not capped by boundary or session implicit denies,
    // only by explicit ones.
    let statement = json!({
        "Effect": "Allow", "Principal": "*", "Action": PUT, "Resource": BUCKET_OBJECTS,
        "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLE}}
    });
    let request = || {
        let mut r = put_by(Some(SESSION));
        r.context.set("aws:PrincipalArn", ROLE);
        r
    };
    let set = PolicySet {
        resource: Some(policy(PolicyKind::Resource, vec![statement])),
        boundary: Some(vec![policy(
            PolicyKind::Boundary,
            vec![allow("s3:GetObject", "*")],
        )]),
        session: Some(policy(
            PolicyKind::Session,
            vec![allow("s3:GetObject", "*")],
        )),
        ..PolicySet::default()
    };
    let e = set.evaluate(&request());
    allowed(&e);
    assert_eq!(e.grant, Grant::StarPrincipalArn);

    // Another principal does not satisfy the condition.
    let mut other = put_by(Some(SESSION));
    other
        .context
        .set("aws:PrincipalArn", "arn:aws:iam::111122223333:role/other");
    let e = set.evaluate(&other);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert!(matches!(
        result_of(&e, &set, &other, at(Layer::Resource, 0, 0, 0)),
        Match::Miss(Miss {
            element: Element::Condition(0),
            why: MissWhy::Condition(CondResult { holds: false, .. })
        })
    ));

    // An explicit deny in the boundary still wins.
    let mut denying = set.clone();
    denying.boundary = Some(vec![policy(
        PolicyKind::Boundary,
        vec![allow("*", "*"), deny(PUT, "*")],
    )]);
    explicitly_denied_by(
        &denying.evaluate(&request()),
        &[at(Layer::Boundary, 0, 0, 1)],
    );
}

#[test]
fn account_principal_with_principal_arn_condition_grants_like_the_role_arn() {
    // AWS §C.1 step 4 / §C.5 ROLE_ARN: "role ARN in Principal, or specific Principal +
    // aws:PrincipalArn" — identity allow not needed, boundary and session still cap.
    let statement = json!({
        "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": PUT, "Resource": BUCKET_OBJECTS,
        "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLE}}
    });
    let set = PolicySet {
        resource: Some(policy(PolicyKind::Resource, vec![statement])),
        ..PolicySet::default()
    };
    let mut req = put_by(Some(SESSION));
    req.context.set("aws:PrincipalArn", ROLE);
    let e = set.evaluate(&req);
    allowed(&e);
    assert_eq!(e.grant, Grant::RoleArn);
}

#[test]
fn public_star_grant_needs_nothing_else_within_the_account() {
    // AWS §C.1 step 4: `Principal: "*"` Allow — same-account IAM principals need nothing else.
    let set = PolicySet {
        resource: Some(bucket_policy_granting(json!("*"))),
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    allowed(&e);
    assert_eq!(e.grant, Grant::Star);
}

#[test]
fn anonymous_callers_need_a_public_grant() {
    // AWS §C.5: an unsigned request is allowed only by a `"*"` grant (it has no account and
    // no identity policies).
    let request = put_by(None);
    assert_eq!(request.principal, RequestPrincipal::Anonymous);
    let public = PolicySet {
        resource: Some(bucket_policy_granting(json!("*"))),
        ..PolicySet::default()
    };
    allowed(&public.evaluate(&request));
    let aws_star = PolicySet {
        resource: Some(bucket_policy_granting(aws("*"))),
        ..PolicySet::default()
    };
    allowed(&aws_star.evaluate(&request));

    let account = PolicySet {
        resource: Some(bucket_policy_granting(aws(ROOT))),
        ..PolicySet::default()
    };
    let e = account.evaluate(&request);
    implicitly_denied_by(&e, &[blocked(Layer::Resource, 0)]);
    assert_eq!(
        result_of(&e, &account, &request, at(Layer::Resource, 0, 0, 0)),
        missed(Element::Principal, MissWhy::NoValueMatched)
    );
    implicitly_denied_by(
        &PolicySet::default().evaluate(&request),
        &[blocked(Layer::Resource, 0)],
    );
}

#[test]
fn service_principals_need_a_service_grant() {
    // AWS §C.5: a service principal is authorized by the resource policy naming the service.
    let request = put_by(Some("cloudtrail.amazonaws.com"));
    assert_eq!(
        request.principal,
        RequestPrincipal::Service("cloudtrail.amazonaws.com".into())
    );
    let set = PolicySet {
        resource: Some(bucket_policy_granting(
            json!({"Service": "cloudtrail.amazonaws.com"}),
        )),
        ..PolicySet::default()
    };
    let e = set.evaluate(&request);
    allowed(&e);
    assert_eq!(e.grant, Grant::Service);

    let other = PolicySet {
        resource: Some(bucket_policy_granting(
            json!({"Service": "config.amazonaws.com"}),
        )),
        ..PolicySet::default()
    };
    implicitly_denied_by(&other.evaluate(&request), &[blocked(Layer::Resource, 0)]);
}

// ---------------------------------------------------------------------------------------------
// §C.1 step 1: explicit deny anywhere wins
// ---------------------------------------------------------------------------------------------

/// Every layer present and allowing, for a role session; `deny_in` adds a Deny of
/// `s3:PutObject` as statement 1 of that layer's (first) policy.
fn every_layer_allowing(deny_in: Option<(Layer, u16)>) -> PolicySet {
    let with_deny = |kind: PolicyKind, layer: Layer, level: u16| {
        let mut statements = vec![match kind {
            PolicyKind::Resource => to(allow(PUT, BUCKET_OBJECTS), aws(ROOT)),
            PolicyKind::Rcp | PolicyKind::VpcEndpoint => to(allow("*", "*"), json!("*")),
            _ => allow("*", "*"),
        }];
        if deny_in == Some((layer, level)) {
            let d = deny(PUT, "*");
            statements.push(if kind.allows_principal() {
                to(d, json!("*"))
            } else {
                d
            });
        }
        policy(kind, statements)
    };
    PolicySet {
        identity: vec![with_deny(PolicyKind::Identity, Layer::Identity, 0)],
        resource: Some(with_deny(PolicyKind::Resource, Layer::Resource, 0)),
        scp: vec![
            vec![with_deny(PolicyKind::Scp, Layer::Scp, 0)],
            vec![with_deny(PolicyKind::Scp, Layer::Scp, 1)],
        ],
        rcp: vec![vec![with_deny(PolicyKind::Rcp, Layer::Rcp, 0)]],
        boundary: Some(vec![with_deny(PolicyKind::Boundary, Layer::Boundary, 0)]),
        session: Some(with_deny(PolicyKind::Session, Layer::Session, 0)),
        vpc_endpoint: Some(vec![with_deny(
            PolicyKind::VpcEndpoint,
            Layer::VpcEndpoint,
            0,
        )]),
        ..PolicySet::default()
    }
}

#[test]
fn explicit_deny_in_any_layer_wins() {
    // AWS §C.1 step 1 (and §C.4 for endpoint policies): an applicable Deny in an SCP, RCP,
    // VPC endpoint policy, resource-based policy, identity policy, boundary or session policy
    // decides, whatever else allows.
    let request = put_by(Some(SESSION));
    let e = every_layer_allowing(None).evaluate(&request);
    allowed(&e);
    assert_eq!(e.grant, Grant::Account);

    for (layer, level) in [
        (Layer::Identity, 0),
        (Layer::Resource, 0),
        (Layer::Scp, 0),
        (Layer::Scp, 1),
        (Layer::Rcp, 0),
        (Layer::Boundary, 0),
        (Layer::Session, 0),
        (Layer::VpcEndpoint, 0),
    ] {
        let set = every_layer_allowing(Some((layer, level)));
        let e = set.evaluate(&request);
        explicitly_denied_by(&e, &[at(layer, level, 0, 1)]);
        let l = e.layer(layer, level).unwrap();
        assert_eq!(l.outcome, Outcome::ExplicitDeny, "{layer:?} {level}");
        assert_eq!(
            e.deciding_in(l).map(|t| t.at).collect::<Vec<_>>(),
            [at(layer, level, 0, 1)]
        );
        // The reference leads back to the statement.
        let st = &set.policy(at(layer, level, 0, 1)).unwrap().statements[1];
        assert_eq!(st.effect, crate::policy::Effect::Deny);
    }
}

#[test]
fn explicit_deny_beats_the_strongest_grant() {
    // AWS §C.1 step 1: even a grant to the exact user ARN cannot override an explicit deny.
    let set = PolicySet {
        resource: Some(bucket_policy_granting(aws(USER))),
        identity: vec![policy(PolicyKind::Identity, vec![deny("s3:*", "*")])],
        ..PolicySet::default()
    };
    explicitly_denied_by(
        &set.evaluate(&put_by(Some(USER))),
        &[at(Layer::Identity, 0, 0, 0)],
    );

    // Several denies are all reported, in layer order.
    let set = PolicySet {
        resource: Some(policy(
            PolicyKind::Resource,
            vec![to(deny(PUT, BUCKET_OBJECTS), json!("*"))],
        )),
        identity: vec![
            identity_allows_put(),
            policy(PolicyKind::Identity, vec![deny("s3:*", "*")]),
        ],
        ..PolicySet::default()
    };
    explicitly_denied_by(
        &set.evaluate(&put_by(Some(USER))),
        &[at(Layer::Resource, 0, 0, 0), at(Layer::Identity, 0, 1, 0)],
    );
}

// ---------------------------------------------------------------------------------------------
// §C.1 steps 2 and 3: SCPs and RCPs
// ---------------------------------------------------------------------------------------------

#[test]
fn scp_every_level_must_allow() {
    // AWS §C.1 step 3: SCPs need an applicable Allow at every level, root to account.
    let ec2_only = policy(PolicyKind::Scp, vec![allow("ec2:*", "*")]);
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        scp: vec![
            vec![allow_all(PolicyKind::Scp)],
            vec![ec2_only, allow_all(PolicyKind::Scp)],
            vec![policy(PolicyKind::Scp, vec![allow("ec2:*", "*")])],
        ],
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    implicitly_denied_by(&e, &[blocked(Layer::Scp, 2)]);
    // Level 1 allows through its second policy; its first policy's statement did not apply.
    assert_eq!(e.layer(Layer::Scp, 1).unwrap().outcome, Outcome::Allow);
    assert_eq!(
        result_of(&e, &set, &put_by(Some(USER)), at(Layer::Scp, 1, 0, 0)),
        missed(Element::Action, MissWhy::NoValueMatched)
    );

    let mut ok = set.clone();
    ok.scp[2] = vec![allow_all(PolicyKind::Scp)];
    let e = ok.evaluate(&put_by(Some(USER)));
    allowed(&e);
    // The allows relied on include every SCP level.
    assert_eq!(
        e.deciding,
        [
            at(Layer::Scp, 0, 0, 0),
            at(Layer::Scp, 1, 1, 0),
            at(Layer::Scp, 2, 0, 0),
            at(Layer::Identity, 0, 0, 0)
        ]
    );
}

#[test]
fn scp_empty_level_is_an_implicit_deny() {
    // AWS §C.1 step 3: a level without an Allow (here, without any policy) denies; an empty
    // list of levels means no SCPs apply.
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        scp: vec![vec![allow_all(PolicyKind::Scp)], vec![]],
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &set.evaluate(&put_by(Some(USER))),
        &[blocked(Layer::Scp, 1)],
    );
    let none = PolicySet {
        identity: vec![identity_allows_put()],
        scp: vec![],
        ..PolicySet::default()
    };
    allowed(&none.evaluate(&put_by(Some(USER))));
}

#[test]
fn scps_do_not_apply_to_anonymous_or_service_principals() {
    // AWS §C.1 step 3: SCPs restrict the organization's own principals; an unsigned request
    // or an AWS service principal is not one, so neither an empty level nor an SCP Deny
    // applies to it.
    for scp in [
        vec![vec![]],
        vec![vec![policy(PolicyKind::Scp, vec![deny("*", "*")])]],
    ] {
        let public = PolicySet {
            resource: Some(bucket_policy_granting(json!("*"))),
            scp: scp.clone(),
            ..PolicySet::default()
        };
        let e = public.evaluate(&put_by(None));
        allowed(&e);
        assert!(e.layer(Layer::Scp, 0).is_none());

        let service = PolicySet {
            resource: Some(bucket_policy_granting(
                json!({"Service": "logging.s3.amazonaws.com"}),
            )),
            scp,
            ..PolicySet::default()
        };
        let e = service.evaluate(&put_by(Some("logging.s3.amazonaws.com")));
        allowed(&e);
        assert!(e.layer(Layer::Scp, 0).is_none());
    }
}

#[test]
fn rcp_every_level_must_allow() {
    // AWS §C.1 step 2: RCPs of the resource owner's organization need an Allow at every
    // level; an empty level is an implicit deny.
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        rcp: vec![vec![allow_all(PolicyKind::Rcp)], vec![]],
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &set.evaluate(&put_by(Some(USER))),
        &[blocked(Layer::Rcp, 1)],
    );

    let s3_reads = policy(PolicyKind::Rcp, vec![to(allow("s3:Get*", "*"), json!("*"))]);
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        rcp: vec![vec![allow_all(PolicyKind::Rcp)], vec![s3_reads]],
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &set.evaluate(&put_by(Some(USER))),
        &[blocked(Layer::Rcp, 1)],
    );

    let set = PolicySet {
        identity: vec![identity_allows_put()],
        rcp: vec![
            vec![allow_all(PolicyKind::Rcp)],
            vec![allow_all(PolicyKind::Rcp)],
        ],
        ..PolicySet::default()
    };
    allowed(&set.evaluate(&put_by(Some(USER))));
}

#[test]
fn rcps_apply_to_every_caller_including_anonymous() {
    // AWS §C.1 step 2 / A2.4: RCPs guard the resource, whoever calls.
    let deny_outside_org = policy(
        PolicyKind::Rcp,
        vec![
            to(allow("*", "*"), json!("*")),
            json!({
                "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-exampleorgid"}}
            }),
        ],
    );
    let set = PolicySet {
        resource: Some(bucket_policy_granting(json!("*"))),
        rcp: vec![vec![deny_outside_org]],
        ..PolicySet::default()
    };
    // Anonymous: the key is absent, so `...IfExists` holds and the Deny applies.
    explicitly_denied_by(&set.evaluate(&put_by(None)), &[at(Layer::Rcp, 0, 0, 1)]);
    let mut inside = put_by(Some(USER));
    inside.context.set("aws:PrincipalOrgID", "o-exampleorgid");
    allowed(&set.evaluate(&inside));

    let empty_level = PolicySet {
        resource: Some(bucket_policy_granting(json!("*"))),
        rcp: vec![vec![]],
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &empty_level.evaluate(&put_by(None)),
        &[blocked(Layer::Rcp, 0)],
    );
}

// ---------------------------------------------------------------------------------------------
// §C.2 cross-account
// ---------------------------------------------------------------------------------------------

#[test]
fn cross_account_needs_both_a_resource_grant_and_an_identity_allow() {
    // AWS §C.2: two evaluations, both must allow — the bucket owner's policy must grant the
    // external principal (or its account) and the caller's identity policy must allow.
    let request = || {
        let mut r = put_by(Some(EXT_USER));
        r.resource_account = Some(ACCOUNT.to_owned());
        r
    };
    assert!(request().is_cross_account());

    // Even the exact user ARN needs the caller's identity Allow across accounts.
    let grant_only = PolicySet {
        resource: Some(bucket_policy_granting(aws(EXT_USER))),
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &grant_only.evaluate(&request()),
        &[blocked(Layer::Identity, 0)],
    );

    let identity_only = PolicySet {
        identity: vec![identity_allows_put()],
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &identity_only.evaluate(&request()),
        &[blocked(Layer::Resource, 0)],
    );

    let neither = PolicySet::default();
    implicitly_denied_by(
        &neither.evaluate(&request()),
        &[blocked(Layer::Resource, 0), blocked(Layer::Identity, 0)],
    );

    for principal in [EXT_USER, EXT_ROOT, OTHER_ACCOUNT] {
        let both = PolicySet {
            resource: Some(bucket_policy_granting(aws(principal))),
            identity: vec![identity_allows_put()],
            ..PolicySet::default()
        };
        let e = both.evaluate(&request());
        allowed(&e);
        assert_eq!(
            e.deciding,
            [at(Layer::Resource, 0, 0, 0), at(Layer::Identity, 0, 0, 0)],
            "{principal}"
        );
    }

    // The caller's boundary still applies to the caller's side.
    let capped = PolicySet {
        resource: Some(bucket_policy_granting(aws(EXT_USER))),
        identity: vec![identity_allows_put()],
        boundary: Some(vec![policy(
            PolicyKind::Boundary,
            vec![allow("s3:GetObject", "*")],
        )]),
        ..PolicySet::default()
    };
    implicitly_denied_by(&capped.evaluate(&request()), &[blocked(Layer::Boundary, 0)]);

    // The same request in the caller's own account needs no grant.
    let mut own = request();
    own.resource_account = Some(OTHER_ACCOUNT.to_owned());
    assert!(!own.is_cross_account());
    allowed(&identity_only.evaluate(&own));
}

// ---------------------------------------------------------------------------------------------
// §C.1 steps 6 and 7: permissions boundary and session policy
// ---------------------------------------------------------------------------------------------

#[test]
fn boundary_must_allow() {
    // AWS §C.1 step 6: a permissions boundary, if present, must allow.
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        boundary: Some(vec![policy(
            PolicyKind::Boundary,
            vec![allow("s3:GetObject", "*")],
        )]),
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    implicitly_denied_by(&e, &[blocked(Layer::Boundary, 0)]);
    assert_eq!(
        result_of(&e, &set, &put_by(Some(USER)), at(Layer::Boundary, 0, 0, 0)),
        missed(Element::Action, MissWhy::NoValueMatched)
    );

    let set = PolicySet {
        identity: vec![identity_allows_put()],
        boundary: Some(vec![policy(PolicyKind::Boundary, vec![allow("s3:*", "*")])]),
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    allowed(&e);
    assert_eq!(
        e.deciding,
        [at(Layer::Identity, 0, 0, 0), at(Layer::Boundary, 0, 0, 0)]
    );

    // A boundary does not grant on its own.
    let only_boundary = PolicySet {
        boundary: Some(vec![policy(PolicyKind::Boundary, vec![allow("s3:*", "*")])]),
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &only_boundary.evaluate(&put_by(Some(USER))),
        &[blocked(Layer::Identity, 0)],
    );
}

#[test]
fn session_policy_must_allow() {
    // AWS §C.1 step 7: a session policy passed for the session must allow.
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        session: Some(policy(
            PolicyKind::Session,
            vec![allow("s3:GetObject", "*")],
        )),
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &set.evaluate(&put_by(Some(SESSION))),
        &[blocked(Layer::Session, 0)],
    );

    let set = PolicySet {
        identity: vec![identity_allows_put()],
        session: Some(policy(
            PolicyKind::Session,
            vec![allow(PUT, BUCKET_OBJECTS)],
        )),
        ..PolicySet::default()
    };
    allowed(&set.evaluate(&put_by(Some(SESSION))));

    // A role session without a session policy needs none.
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        ..PolicySet::default()
    };
    allowed(&set.evaluate(&put_by(Some(SESSION))));

    // Identity, boundary and session all missing: all three are named.
    let set = PolicySet {
        boundary: Some(vec![policy(
            PolicyKind::Boundary,
            vec![allow("s3:GetObject", "*")],
        )]),
        session: Some(policy(
            PolicyKind::Session,
            vec![allow("s3:GetObject", "*")],
        )),
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &set.evaluate(&put_by(Some(SESSION))),
        &[
            blocked(Layer::Identity, 0),
            blocked(Layer::Boundary, 0),
            blocked(Layer::Session, 0),
        ],
    );
}

#[test]
fn federated_user_without_a_session_policy_is_implicitly_denied() {
    // AWS §C.1 step 7: a role session without a session policy keeps its role's permissions,
    // but a federated-user session (GetFederationToken) without one has none.
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &set.evaluate(&put_by(Some(FEDERATED))),
        &[blocked(Layer::Session, 0)],
    );
    let with_session = PolicySet {
        session: Some(policy(
            PolicyKind::Session,
            vec![allow(PUT, BUCKET_OBJECTS)],
        )),
        ..set
    };
    allowed(&with_session.evaluate(&put_by(Some(FEDERATED))));
}

// ---------------------------------------------------------------------------------------------
// §C.4 VPC endpoint policies
// ---------------------------------------------------------------------------------------------

#[test]
fn vpc_endpoint_policy_without_an_allow_is_an_implicit_deny() {
    // AWS §C.4: a request through an endpoint must also be allowed by the endpoint policy;
    // an absent Allow is an implicit deny. Each endpoint on the path is its own level.
    let reads_only = policy(
        PolicyKind::VpcEndpoint,
        vec![to(allow("s3:GetObject", "*"), json!("*"))],
    );
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        vpc_endpoint: Some(vec![allow_all(PolicyKind::VpcEndpoint), reads_only]),
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    implicitly_denied_by(&e, &[blocked(Layer::VpcEndpoint, 1)]);
    assert_eq!(
        e.layer(Layer::VpcEndpoint, 0).unwrap().outcome,
        Outcome::Allow
    );

    // An endpoint policy without Principal covers every principal.
    let no_principal = policy(PolicyKind::VpcEndpoint, vec![allow(PUT, BUCKET_OBJECTS)]);
    let set = PolicySet {
        identity: vec![identity_allows_put()],
        vpc_endpoint: Some(vec![no_principal]),
        ..PolicySet::default()
    };
    allowed(&set.evaluate(&put_by(Some(USER))));

    // Applies to anonymous callers too.
    let set = PolicySet {
        resource: Some(bucket_policy_granting(json!("*"))),
        vpc_endpoint: Some(vec![policy(
            PolicyKind::VpcEndpoint,
            vec![to(allow("s3:GetObject", "*"), aws(ROOT))],
        )]),
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &set.evaluate(&put_by(None)),
        &[blocked(Layer::VpcEndpoint, 0)],
    );
}

// ---------------------------------------------------------------------------------------------
// §D.1 NotPrincipal
// ---------------------------------------------------------------------------------------------

/// A bucket policy allowing everyone to put, and denying everyone but `listed`.
fn deny_all_but(listed: &[&str]) -> Policy {
    policy(
        PolicyKind::Resource,
        vec![
            to(allow(PUT, BUCKET_OBJECTS), json!("*")),
            json!({"Effect": "Deny", "NotPrincipal": {"AWS": listed}, "Action": "s3:*", "Resource": BUCKET_OBJECTS}),
        ],
    )
}

#[test]
fn not_principal_deny_excludes_the_named_principal() {
    // AWS §D.1: `NotPrincipal` with `Deny` denies every principal except those listed (the
    // account ARN and the user's ARN; for a role, the role and session ARNs too).
    let set = PolicySet {
        resource: Some(deny_all_but(&[ROOT, USER])),
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    allowed(&e);
    assert!(matches!(
        result_of(&e, &set, &put_by(Some(USER)), at(Layer::Resource, 0, 0, 1)),
        Match::Miss(Miss {
            element: Element::Principal,
            why: MissWhy::Excluded(_)
        })
    ));

    // Callers not named at all are denied, including anonymous callers and other accounts.
    explicitly_denied_by(
        &set.evaluate(&put_by(None)),
        &[at(Layer::Resource, 0, 0, 1)],
    );
    let mut external = put_by(Some(EXT_USER));
    external.resource_account = Some(ACCOUNT.to_owned());
    explicitly_denied_by(&set.evaluate(&external), &[at(Layer::Resource, 0, 0, 1)]);

    // A role session is excluded when the account, role and session ARNs are listed.
    let set = PolicySet {
        resource: Some(deny_all_but(&[ROOT, ROLE, SESSION])),
        ..PolicySet::default()
    };
    allowed(&set.evaluate(&put_by(Some(SESSION))));
}

#[test]
fn not_principal_deny_never_excludes_a_principal_with_a_boundary() {
    // AWS §D.1 / A3.6: a `NotPrincipal` + `Deny` statement always denies a principal that has
    // a permissions boundary, even when it is listed.
    let set = PolicySet {
        resource: Some(deny_all_but(&[ROOT, USER])),
        boundary: Some(vec![allow_all(PolicyKind::Boundary)]),
        ..PolicySet::default()
    };
    explicitly_denied_by(
        &set.evaluate(&put_by(Some(USER))),
        &[at(Layer::Resource, 0, 0, 1)],
    );
}

#[test]
fn not_principal_deny_listing_only_some_identities_still_denies() {
    // AWS §D.1: "must list account ARN and, for roles, role ARN and session ARN".
    for listed in [&[USER][..], &[ROOT][..]] {
        let set = PolicySet {
            resource: Some(deny_all_but(listed)),
            ..PolicySet::default()
        };
        explicitly_denied_by(
            &set.evaluate(&put_by(Some(USER))),
            &[at(Layer::Resource, 0, 0, 1)],
        );
    }
    // Listing the account and alice does not exempt bob, of the same account.
    let set = PolicySet {
        resource: Some(deny_all_but(&[ROOT, USER])),
        ..PolicySet::default()
    };
    explicitly_denied_by(
        &set.evaluate(&put_by(Some(OTHER_USER))),
        &[at(Layer::Resource, 0, 0, 1)],
    );
    for listed in [
        &[ROOT, ROLE][..],
        &[ROOT, SESSION][..],
        &[ROLE, SESSION][..],
    ] {
        let set = PolicySet {
            resource: Some(deny_all_but(listed)),
            ..PolicySet::default()
        };
        explicitly_denied_by(
            &set.evaluate(&put_by(Some(SESSION))),
            &[at(Layer::Resource, 0, 0, 1)],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// §G.4 Block Public Access RestrictPublicBuckets
// ---------------------------------------------------------------------------------------------

#[test]
fn restrict_public_buckets_blocks_anonymous_and_cross_account_access_through_a_public_policy() {
    // AWS §G.4: with RestrictPublicBuckets, a public bucket policy serves only AWS service
    // principals and the owner account's principals; anonymous and cross-account requests are
    // rejected.
    let set = PolicySet {
        resource: Some(bucket_policy_granting(json!("*"))),
        identity: vec![identity_allows_put()],
        restrict_public_buckets: true,
        ..PolicySet::default()
    };
    for request in [put_by(None), {
        let mut r = put_by(Some(EXT_USER));
        r.resource_account = Some(ACCOUNT.to_owned());
        r
    }] {
        let e = set.evaluate(&request);
        assert_eq!(
            e.decision,
            Decision::ExplicitlyDenied,
            "{:?}",
            request.principal
        );
        assert_eq!(e.blocked_by, [blocked(Layer::BlockPublicAccess, 0)]);
        assert!(e.public_access_restricted);
        assert!(e.deciding.is_empty());
        assert_eq!(e.grant, Grant::Star);
    }

    // The owner account's own principals still get the public grant.
    let e = set.evaluate(&put_by(Some(USER)));
    allowed(&e);
    assert!(!e.public_access_restricted);

    // Without the setting the public policy works for everyone.
    let open = PolicySet {
        restrict_public_buckets: false,
        ..set
    };
    allowed(&open.evaluate(&put_by(None)));
}

#[test]
fn restrict_public_buckets_also_blocks_specific_cross_account_grants_in_a_public_policy() {
    // AWS §G.4: the restriction is about the policy being public: while it is, even a
    // statement naming the other account no longer serves it.
    let set = PolicySet {
        resource: Some(policy(
            PolicyKind::Resource,
            vec![
                to(allow("s3:GetObject", BUCKET_OBJECTS), json!("*")),
                to(allow(PUT, BUCKET_OBJECTS), aws(EXT_ROOT)),
            ],
        )),
        identity: vec![identity_allows_put()],
        restrict_public_buckets: true,
        ..PolicySet::default()
    };
    let mut r = put_by(Some(EXT_USER));
    r.resource_account = Some(ACCOUNT.to_owned());
    let e = set.evaluate(&r);
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.blocked_by, [blocked(Layer::BlockPublicAccess, 0)]);
}

#[test]
fn restrict_public_buckets_ignores_non_public_policies() {
    // AWS §G.4: a `"*"` grant pinned to a fixed `aws:SourceVpce` is not public, so
    // RestrictPublicBuckets does not apply to it.
    let pinned = json!({
        "Effect": "Allow", "Principal": "*", "Action": PUT, "Resource": BUCKET_OBJECTS,
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
    });
    let set = PolicySet {
        resource: Some(policy(PolicyKind::Resource, vec![pinned])),
        identity: vec![identity_allows_put()],
        restrict_public_buckets: true,
        ..PolicySet::default()
    };
    let mut r = put_by(Some(EXT_USER));
    r.resource_account = Some(ACCOUNT.to_owned());
    r.context.set("aws:SourceVpce", "vpce-1a2b3c4d");
    let e = set.evaluate(&r);
    allowed(&e);
    assert!(!e.public_access_restricted);

    // A non-public policy naming the other account is unaffected too.
    let named = PolicySet {
        resource: Some(bucket_policy_granting(aws(EXT_ROOT))),
        identity: vec![identity_allows_put()],
        restrict_public_buckets: true,
        ..PolicySet::default()
    };
    let mut r = put_by(Some(EXT_USER));
    r.resource_account = Some(ACCOUNT.to_owned());
    allowed(&named.evaluate(&r));
}

// ---------------------------------------------------------------------------------------------
// §F.2 KMS key policies
// ---------------------------------------------------------------------------------------------

fn generate_data_key_by(principal: &str) -> Request {
    Request::new(
        RequestPrincipal::parse(Some(principal)),
        "kms:GenerateDataKey",
        KEY,
        RequestContext::new(),
    )
}

fn key_policy(principal: &str) -> Policy {
    policy(
        PolicyKind::KeyPolicy,
        vec![to(allow("kms:*", "*"), aws(principal))],
    )
}

fn iam_allows_key() -> Policy {
    policy(
        PolicyKind::Identity,
        vec![allow("kms:GenerateDataKey", KEY)],
    )
}

#[test]
fn kms_key_policy_must_grant_even_within_the_account() {
    // AWS §F.2 / §C.1 step 4 exception: no principal can use a key unless the key policy
    // allows it; IAM policies only count when the key policy allows the account.
    let admin_only = PolicySet {
        resource: Some(key_policy("arn:aws:iam::111122223333:role/key-admin")),
        identity: vec![iam_allows_key()],
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &admin_only.evaluate(&generate_data_key_by(USER)),
        &[blocked(Layer::Resource, 0)],
    );

    // No key policy evidence at all: same.
    let none = PolicySet {
        identity: vec![iam_allows_key()],
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &none.evaluate(&generate_data_key_by(USER)),
        &[blocked(Layer::Resource, 0)],
    );

    // "Enable IAM User Permissions": the account principal makes IAM count, and IAM must allow.
    let iam_enabled = PolicySet {
        resource: Some(key_policy(ROOT)),
        ..PolicySet::default()
    };
    implicitly_denied_by(
        &iam_enabled.evaluate(&generate_data_key_by(USER)),
        &[blocked(Layer::Identity, 0)],
    );
    let with_iam = PolicySet {
        identity: vec![iam_allows_key()],
        ..iam_enabled
    };
    let e = with_iam.evaluate(&generate_data_key_by(USER));
    allowed(&e);
    assert_eq!(e.grant, Grant::Account);

    // The same shape on an S3 object (no bucket policy) needs no resource grant.
    let s3 = PolicySet {
        identity: vec![identity_allows_put()],
        ..PolicySet::default()
    };
    allowed(&s3.evaluate(&put_by(Some(USER))));
}

#[test]
fn kms_key_policy_naming_the_user_needs_no_iam_allow() {
    // AWS §F.2: same account, a key policy naming the user or role directly suffices.
    let set = PolicySet {
        resource: Some(key_policy(USER)),
        ..PolicySet::default()
    };
    let e = set.evaluate(&generate_data_key_by(USER));
    allowed(&e);
    assert_eq!(e.grant, Grant::UserArn);

    let set = PolicySet {
        resource: Some(key_policy(ROLE)),
        ..PolicySet::default()
    };
    allowed(&set.evaluate(&generate_data_key_by(SESSION)));
}

// ---------------------------------------------------------------------------------------------
// AWS-owned resources (eval/managed.rs)
// ---------------------------------------------------------------------------------------------

#[test]
fn aws_managed_resources_refuse_writes() {
    // AWS managed policies, IAM Identity Center (`aws-reserved`) roles and AWS managed key
    // aliases belong to AWS: no policy lets a customer principal change them.
    let admin = PolicySet {
        identity: vec![allow_all(PolicyKind::Identity)],
        ..PolicySet::default()
    };
    let by_user = |action: &str, resource: &str| {
        Request::new(
            RequestPrincipal::parse(Some(USER)),
            action,
            resource,
            RequestContext::new(),
        )
    };
    for (action, resource) in [
        (
            "iam:CreatePolicyVersion",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ),
        ("iam:DeletePolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        (
            "iam:PassRole",
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123",
        ),
        (
            "iam:PutRolePolicy",
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123",
        ),
        (
            "kms:DeleteAlias",
            "arn:aws:kms:us-east-1:111122223333:alias/aws/s3",
        ),
    ] {
        let e = admin.evaluate(&by_user(action, resource));
        implicitly_denied_by(&e, &[blocked(Layer::AwsManaged, 0)]);
    }
    // Even the root user cannot.
    let root = Request::new(
        RequestPrincipal::parse(Some(ROOT)),
        "iam:CreatePolicyVersion",
        "arn:aws:iam::aws:policy/AdministratorAccess",
        RequestContext::new(),
    );
    implicitly_denied_by(
        &PolicySet::default().evaluate(&root),
        &[blocked(Layer::AwsManaged, 0)],
    );

    // Reads, and writes to the customer's own resources, are ordinary.
    for (action, resource) in [
        (
            "iam:GetPolicyVersion",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ),
        (
            "iam:CreatePolicyVersion",
            "arn:aws:iam::111122223333:policy/uploads",
        ),
        ("iam:PassRole", ROLE),
        (
            "kms:DeleteAlias",
            "arn:aws:kms:us-east-1:111122223333:alias/uploads",
        ),
    ] {
        allowed(&admin.evaluate(&by_user(action, resource)));
    }

    // Other refusals are reported alongside; an explicit deny is still explicit.
    let e = PolicySet::default().evaluate(&by_user(
        "kms:UpdateAlias",
        "arn:aws:kms:us-east-1:111122223333:alias/aws/ebs",
    ));
    implicitly_denied_by(
        &e,
        &[blocked(Layer::AwsManaged, 0), blocked(Layer::Identity, 0)],
    );
    let denying = PolicySet {
        identity: vec![policy(
            PolicyKind::Identity,
            vec![allow("*", "*"), deny("iam:*", "*")],
        )],
        ..PolicySet::default()
    };
    explicitly_denied_by(
        &denying.evaluate(&by_user(
            "iam:DeletePolicy",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        )),
        &[at(Layer::Identity, 0, 0, 1)],
    );
}

// ---------------------------------------------------------------------------------------------
// Resource matching: wildcard-only actions and policy variables (§D.1, §D.4)
// ---------------------------------------------------------------------------------------------

#[test]
fn wildcard_only_action_matches_only_resource_star() {
    // AWS §D.1: an action that supports no resource types is matched only by `"Resource": "*"`,
    // never by an ARN pattern, however broad.
    let list = || {
        let mut r = Request::new(
            RequestPrincipal::parse(Some(USER)),
            "s3:ListAllMyBuckets",
            "*",
            RequestContext::new(),
        );
        r.wildcard_only_action = true;
        r
    };
    let arn_pattern = PolicySet {
        identity: vec![policy(
            PolicyKind::Identity,
            vec![allow("s3:*", "arn:aws:s3:::*"), allow("s3:*", "arn:*")],
        )],
        ..PolicySet::default()
    };
    let e = arn_pattern.evaluate(&list());
    implicitly_denied_by(&e, &[blocked(Layer::Identity, 0)]);
    for s in 0..2 {
        assert_eq!(
            result_of(&e, &arn_pattern, &list(), at(Layer::Identity, 0, 0, s)),
            missed(Element::Resource, MissWhy::WildcardOnlyAction)
        );
    }
    let (_, why) = e.explain_misses(&arn_pattern, &list()).next().unwrap();
    assert_eq!(
        why.message,
        "the action `s3:ListAllMyBuckets` supports no resource types, so only `\"Resource\": \"*\"` matches it"
    );

    let star = PolicySet {
        identity: vec![policy(PolicyKind::Identity, vec![allow("s3:*", "*")])],
        ..PolicySet::default()
    };
    allowed(&star.evaluate(&list()));
}

#[test]
fn policy_variable_in_resource_resolves_under_2012_10_17_only() {
    // AWS §D.4: policy variables are substituted only under Version 2012-10-17; under
    // 2008-10-17 or without a Version, `${aws:username}` is literal text.
    let home = "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*";
    let put = |resource: &str, username: Option<&str>| {
        let mut r = Request::new(
            RequestPrincipal::parse(Some(USER)),
            PUT,
            resource,
            RequestContext::new(),
        );
        if let Some(u) = username {
            r.context.set("aws:username", u);
        }
        r
    };
    let v2012 = PolicySet {
        identity: vec![versioned(
            PolicyKind::Identity,
            Some("2012-10-17"),
            vec![allow(PUT, home)],
        )],
        ..PolicySet::default()
    };
    let alice = "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/notes.txt";
    allowed(&v2012.evaluate(&put(alice, Some("alice"))));
    let bob = put(
        "arn:aws:s3:::amzn-s3-demo-bucket/home/bob/notes.txt",
        Some("alice"),
    );
    let e = v2012.evaluate(&bob);
    assert_eq!(
        result_of(&e, &v2012, &bob, at(Layer::Identity, 0, 0, 0)),
        missed(Element::Resource, MissWhy::NoValueMatched)
    );
    // No value for the variable: nothing matches.
    let request = put(alice, None);
    let e = v2012.evaluate(&request);
    implicitly_denied_by(&e, &[blocked(Layer::Identity, 0)]);
    assert_eq!(
        result_of(&e, &v2012, &request, at(Layer::Identity, 0, 0, 0)),
        missed(Element::Resource, MissWhy::Unresolved)
    );
    let (_, why) = e.explain_misses(&v2012, &request).next().unwrap();
    assert_eq!(
        why.message,
        "a policy variable in `Resource` has no value in this request, so it matches nothing"
    );
    assert_eq!(why.pointer, "/Statement/0/Resource");

    for version in [Some("2008-10-17"), None] {
        let old = PolicySet {
            identity: vec![versioned(
                PolicyKind::Identity,
                version,
                vec![allow(PUT, home)],
            )],
            ..PolicySet::default()
        };
        let e = old.evaluate(&put(alice, Some("alice")));
        implicitly_denied_by(&e, &[blocked(Layer::Identity, 0)]);
        assert_eq!(
            result_of(
                &e,
                &old,
                &put(alice, Some("alice")),
                at(Layer::Identity, 0, 0, 0)
            ),
            missed(Element::Resource, MissWhy::NoValueMatched)
        );
        // The literal text matches itself.
        allowed(&old.evaluate(&put(
            "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/x",
            Some("alice"),
        )));
    }
}

// ---------------------------------------------------------------------------------------------
// Misses and their explanations
// ---------------------------------------------------------------------------------------------

#[test]
fn misses_record_the_first_failing_condition() {
    // AWS §D.2: all conditions must hold; the first that does not is recorded.
    let set = PolicySet {
        identity: vec![policy(
            PolicyKind::Identity,
            vec![json!({
                "Effect": "Allow", "Action": PUT, "Resource": BUCKET_OBJECTS,
                "Condition": {
                    "Bool": {"aws:SecureTransport": "true"},
                    "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d", "s3:x-amz-acl": "bucket-owner-full-control"}
                }
            })],
        )],
        ..PolicySet::default()
    };
    let mut r = put_by(Some(USER));
    r.context = ctx(&[
        ("aws:SecureTransport", "true"),
        ("aws:SourceVpce", "vpce-1a2b3c4d"),
    ]);
    let e = set.evaluate(&r);
    assert_eq!(
        result_of(&e, &set, &r, at(Layer::Identity, 0, 0, 0)),
        missed(
            Element::Condition(2),
            MissWhy::Condition(CondResult {
                holds: false,
                why: CondWhy::KeyAbsent
            })
        )
    );
    r.context.set("s3:x-amz-acl", "private");
    let e = set.evaluate(&r);
    assert_eq!(
        result_of(&e, &set, &r, at(Layer::Identity, 0, 0, 0)),
        missed(
            Element::Condition(2),
            MissWhy::Condition(CondResult {
                holds: false,
                why: CondWhy::NoMatch
            })
        )
    );
    r.context.set("s3:x-amz-acl", "bucket-owner-full-control");
    allowed(&set.evaluate(&r));
}

#[test]
fn explanations_say_why_each_statement_did_not_apply() {
    let identity = policy(
        PolicyKind::Identity,
        vec![
            json!({
                "Sid": "ViaEndpoint", "Effect": "Allow", "Action": PUT, "Resource": BUCKET_OBJECTS,
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
            }),
            allow("s3:GetObject", BUCKET_OBJECTS),
            json!({"Effect": "Allow", "NotAction": ["s3:Get*", "s3:Put*"], "Resource": "*"}),
            allow(PUT, "arn:aws:s3:::another-bucket/*"),
            json!({
                "Effect": "Allow", "Action": PUT, "Resource": BUCKET_OBJECTS,
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}
            }),
            json!({
                "Effect": "Deny", "Action": PUT, "Resource": BUCKET_OBJECTS,
                "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}
            }),
        ],
    );
    let resource = policy(
        PolicyKind::Resource,
        vec![
            to(allow(PUT, BUCKET_OBJECTS), aws(OTHER_USER)),
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "NotResource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}),
        ],
    );
    let set = PolicySet {
        identity: vec![identity],
        resource: Some(resource),
        ..PolicySet::default()
    };
    let mut request = put_by(Some(USER));
    request.context = ctx(&[
        ("s3:x-amz-acl", "private"),
        ("s3:x-amz-server-side-encryption", "aws:kms"),
    ]);
    let e = set.evaluate(&request);
    implicitly_denied_by(&e, &[blocked(Layer::Identity, 0)]);

    let explained: Vec<(StatementRef, String, String)> = e
        .explain_misses(&set, &request)
        .map(|(t, m)| (t.at, m.pointer, m.message))
        .collect();
    let expect = [
        (
            at(Layer::Resource, 0, 0, 0),
            "/Statement/0/Principal",
            "`Principal` does not name `arn:aws:iam::111122223333:user/alice`",
        ),
        (
            at(Layer::Resource, 0, 0, 1),
            "/Statement/1/NotResource",
            "`NotResource` lists `arn:aws:s3:::amzn-s3-demo-bucket/*`, which matches the resource \
             `arn:aws:s3:::amzn-s3-demo-bucket/uploads/report.csv`",
        ),
        (
            at(Layer::Identity, 0, 0, 0),
            "/Statement/0/Condition/StringEquals/aws:SourceVpce",
            "key `aws:SourceVpce` is absent from the request, so `StringEquals` is false",
        ),
        (
            at(Layer::Identity, 0, 0, 1),
            "/Statement/1/Action",
            "no `Action` value matches the action `s3:PutObject`",
        ),
        (
            at(Layer::Identity, 0, 0, 2),
            "/Statement/2/NotAction/1",
            "`NotAction` lists `s3:Put*`, which matches the action `s3:PutObject`",
        ),
        (
            at(Layer::Identity, 0, 0, 3),
            "/Statement/3/Resource",
            "no `Resource` value matches the resource `arn:aws:s3:::amzn-s3-demo-bucket/uploads/report.csv`",
        ),
        (
            at(Layer::Identity, 0, 0, 4),
            "/Statement/4/Condition/StringEquals/s3:x-amz-acl",
            "`StringEquals` is false: the request's `s3:x-amz-acl` (`private`) matches no listed value",
        ),
        (
            at(Layer::Identity, 0, 0, 5),
            "/Statement/5/Condition/StringNotEquals/s3:x-amz-server-side-encryption",
            "`StringNotEquals` is false: the request's `s3:x-amz-server-side-encryption` (`aws:kms`) matches `aws:kms`",
        ),
    ];
    assert_eq!(explained.len(), expect.len(), "{explained:#?}");
    for (got, want) in explained.iter().zip(expect) {
        assert_eq!((got.0, got.1.as_str(), got.2.as_str()), want);
    }

    // The explanation's span points at the condition key in the policy text.
    let (t, m) = e.explain_misses(&set, &request).nth(2).unwrap();
    assert_eq!(
        set.policy(t.at).unwrap().snippet(m.span),
        r#""aws:SourceVpce""#
    );
}

#[test]
fn explanations_name_anonymous_and_root_callers() {
    let set = PolicySet {
        resource: Some(bucket_policy_granting(aws(USER))),
        ..PolicySet::default()
    };
    let anonymous = put_by(None);
    let e = set.evaluate(&anonymous);
    let (_, m) = e.explain_misses(&set, &anonymous).next().unwrap();
    assert_eq!(m.message, "`Principal` does not name an anonymous caller");
    let root = put_by(Some(ROOT));
    let e = set.evaluate(&root);
    let (_, m) = e.explain_misses(&set, &root).next().unwrap();
    assert_eq!(
        m.message,
        "`Principal` does not name the root user of `111122223333`"
    );
}

// ---------------------------------------------------------------------------------------------
// The action index: statements skipped without being looked at must still be reported, and
// the index must never hide a statement that matches (§D.2 Action matching).
// ---------------------------------------------------------------------------------------------

/// A policy of `n` statements for other actions, with `special` statements placed at the given
/// indexes.
fn filler_policy(n: usize, special: &[(usize, Value)]) -> Policy {
    let statements = (0..n)
        .map(|i| {
            special
                .iter()
                .find(|(at, _)| *at == i)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| allow(&format!("sqs:SendMessage{i}"), "*"))
        })
        .collect();
    policy(PolicyKind::Identity, statements)
}

#[test]
fn the_action_index_finds_statements_in_every_word_of_its_bit_set() {
    // Exact, service-wildcard and NotAction statements beyond the first 64 (bit-set words 2-4)
    // are found, each with the right result; a wildcard in another service is not a match.
    for n in [70, 130, 200, 256] {
        let p = filler_policy(
            n,
            &[
                (63, deny("s3:putobject", "arn:aws:s3:::other/*")),
                (64, allow("S3:PutObject", BUCKET_OBJECTS)),
                (n - 2, allow("s3:Put*", BUCKET_OBJECTS)),
                (
                    n - 1,
                    json!({"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}),
                ),
                (5, allow("sqs:*", "*")),
            ],
        );
        let set = PolicySet {
            identity: vec![p],
            ..PolicySet::default()
        };
        let e = set.evaluate(&put_by(Some(USER)));
        assert_eq!(e.decision, Decision::Allowed, "{n} statements");
        assert_eq!(
            e.deciding,
            [
                at(Layer::Identity, 0, 0, 64),
                at(Layer::Identity, 0, 0, n as u16 - 2)
            ]
        );
        assert_eq!(
            result_of(&e, &set, &put_by(Some(USER)), at(Layer::Identity, 0, 0, 63)),
            missed(Element::Resource, MissWhy::NoValueMatched)
        );
        assert_eq!(
            result_of(
                &e,
                &set,
                &put_by(Some(USER)),
                at(Layer::Identity, 0, 0, n as u16 - 1)
            ),
            missed(Element::Action, MissWhy::Excluded(0))
        );
        assert_eq!(
            result_of(&e, &set, &put_by(Some(USER)), at(Layer::Identity, 0, 0, 5)),
            missed(Element::Action, MissWhy::NoValueMatched)
        );
    }
}

#[test]
fn policies_too_large_for_the_index_are_matched_statement_by_statement() {
    // Over 256 statements every statement is a candidate; the result is the same.
    let p = filler_policy(300, &[(290, allow("s3:PutObject", BUCKET_OBJECTS))]);
    let set = PolicySet {
        identity: vec![p],
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.deciding, [at(Layer::Identity, 0, 0, 290)]);
    let l = e.layer(Layer::Identity, 0).unwrap();
    assert_eq!(e.examined(l).len(), 1, "one statement names the action");
    let request = put_by(Some(USER));
    let misses = e
        .statements(&set, &request, l)
        .filter(|t| t.result == missed(Element::Action, MissWhy::NoValueMatched))
        .count();
    assert_eq!(misses, 299);
}

#[test]
fn every_statement_is_reported_whether_or_not_the_index_skipped_it() {
    // The trace lists every statement of every layer in document order, with the first
    // element that failed; skipped statements are `Action` misses.
    let p = filler_policy(10, &[(7, allow("s3:PutObject", BUCKET_OBJECTS))]);
    let set = PolicySet {
        identity: vec![p.clone(), p],
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    let l = e.layer(Layer::Identity, 0).unwrap();
    assert_eq!(
        e.examined(l).len(),
        2,
        "only the two PutObject statements are looked at"
    );
    let all: Vec<_> = e.statements(&set, &put_by(Some(USER)), l).collect();
    assert_eq!(all.len(), 20);
    for (i, t) in all.iter().enumerate() {
        assert_eq!(t.at, at(Layer::Identity, 0, i as u16 / 10, i as u16 % 10));
        let want = if i % 10 == 7 {
            Match::Applies
        } else {
            missed(Element::Action, MissWhy::NoValueMatched)
        };
        assert_eq!(t.result, want, "statement {i}");
    }
    assert_eq!(e.explain_misses(&set, &put_by(Some(USER))).count(), 18);
}

#[test]
fn an_explicit_deny_still_says_what_else_would_refuse() {
    // AWS §C.1: an explicit deny decides; the layers that would refuse without it are a second
    // cause that removing the deny leaves in place.
    let bucket = policy(
        PolicyKind::Resource,
        vec![to(deny(PUT, BUCKET_OBJECTS), json!("*"))],
    );
    let set = PolicySet {
        resource: Some(bucket.clone()),
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.deciding, [at(Layer::Resource, 0, 0, 0)]);
    assert!(e.blocked_by.is_empty());
    assert_eq!(
        e.also_blocked_by,
        [Blocked {
            layer: Layer::Identity,
            level: 0
        }]
    );
    // With an identity policy that allows, nothing else refuses.
    let set = PolicySet {
        resource: Some(bucket),
        identity: vec![policy(
            PolicyKind::Identity,
            vec![allow(PUT, BUCKET_OBJECTS)],
        )],
        ..PolicySet::default()
    };
    let e = set.evaluate(&put_by(Some(USER)));
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert!(e.also_blocked_by.is_empty());
}
