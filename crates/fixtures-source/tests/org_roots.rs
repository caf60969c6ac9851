//! The `roots` member of `organization` / `bucket_organization` (`aws organizations
//! list-roots`): the policy types enabled on the root decide whether SCPs and RCPs apply, even
//! when the path cannot be read; a malformed or contradicting `roots` is an error located at
//! the offending value.

use why403_core::evidence::{OrgPolicyType, OrgRoot, Organization, RootPolicyType, Slot};
use why403_fixtures_source::{ScenarioError, parse};

const PATH_NEEDS: &[&str] = &[
    "organizations:ListParents",
    "organizations:ListPoliciesForTarget",
    "organizations:DescribePolicy",
];

/// A scenario of alice (account 111122223333) whose `organization` has these members after
/// `describe_organization`, one per line.
fn text(features: &str, members: &[&str]) -> String {
    let mut out = format!(
        "{{\n\"scenario\": 1,\n\"request\": {{\"principal\": \"arn:aws:iam::111122223333:user/alice\", \"bucket\": \"b\", \"key\": \"k\"}},\n\"evidence\": {{\"organization\": {{\n\"describe_organization\": {{\"Organization\": {{\"Id\": \"o-a1b2c3d4e5\", \"MasterAccountId\": \"999988887777\", \"FeatureSet\": \"{features}\"}}}}"
    );
    for m in members {
        out.push_str(",\n");
        out.push_str(m);
    }
    out.push_str("\n}}}\n");
    out
}

fn roots(types: &str) -> String {
    format!(
        r#""roots": {{"Roots": [{{"Id": "r-a1b2", "Arn": "arn:aws:organizations::999988887777:root/o-a1b2c3d4e5/r-a1b2", "Name": "Root", "PolicyTypes": [{types}]}}]}}"#
    )
}

const SCP_ON: &str = r#"{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}"#;
const RCP_ON: &str = r#"{"Type": "RESOURCE_CONTROL_POLICY", "Status": "ENABLED"}"#;
const TAGS_ON: &str = r#"{"Type": "TAG_POLICY", "Status": "ENABLED"}"#;

fn org(features: &str, members: &[&str]) -> Organization {
    let t = text(features, members);
    let s = parse("s.json", &t).unwrap_or_else(|e| panic!("{e}\n{t}"));
    match s.evidence.caller_org {
        Slot::Collected(o) => o,
        other => panic!("{other:?}"),
    }
}

fn path_unreadable(o: &Organization, t: OrgPolicyType) {
    let u = o
        .policies(t)
        .unavailable()
        .unwrap_or_else(|| panic!("{t:?}: {:?}", o.policies(t)));
    assert_eq!(u.needs, PATH_NEEDS);
}

#[test]
fn the_roots_policy_types_decide_without_the_path() {
    // A member account: no path, but the root read from the management account.
    let o = org("ALL", &[&roots(SCP_ON)]);
    assert_eq!(o.rcps, Slot::Absent);
    path_unreadable(&o, OrgPolicyType::Scp);
    assert_eq!(
        o.root,
        Slot::Collected(OrgRoot {
            id: "r-a1b2".into(),
            name: Some("Root".into()),
            policy_types: vec![RootPolicyType {
                policy_type: "SERVICE_CONTROL_POLICY".into(),
                status: "ENABLED".into(),
            }],
        })
    );
    let o = org("ALL", &[&roots(RCP_ON)]);
    assert_eq!(o.scps, Slot::Absent);
    path_unreadable(&o, OrgPolicyType::Rcp);
    let o = org(
        "ALL",
        &[&roots(TAGS_ON), r#""path": {"$unavailable": "denied"}"#],
    );
    assert_eq!((&o.scps, &o.rcps), (&Slot::Absent, &Slot::Absent));
    let o = org("ALL", &[&roots("")]);
    assert_eq!((&o.scps, &o.rcps), (&Slot::Absent, &Slot::Absent));
    // Both enabled: the path is needed.
    let o = org("ALL", &[&roots(&format!("{SCP_ON}, {RCP_ON}"))]);
    path_unreadable(&o, OrgPolicyType::Scp);
    path_unreadable(&o, OrgPolicyType::Rcp);
    // Being enabled or disabled: may or may not be enforced.
    for status in ["PENDING_ENABLE", "PENDING_DISABLE"] {
        let t = format!(r#"{SCP_ON}, {{"Type": "RESOURCE_CONTROL_POLICY", "Status": "{status}"}}"#);
        path_unreadable(&org("ALL", &[&roots(&t)]), OrgPolicyType::Rcp);
    }
    // `AvailablePolicyTypes` of describe-organization (deprecated, SCPs only) proves nothing.
    let t = text("ALL", &[]).replace(
        r#""FeatureSet": "ALL""#,
        r#""FeatureSet": "ALL", "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]"#,
    );
    let o = parse("s.json", &t).unwrap().evidence.caller_org;
    path_unreadable(o.get().unwrap(), OrgPolicyType::Rcp);
}

#[test]
fn roots_left_out_or_unreadable_conclude_nothing() {
    let o = org("ALL", &[]);
    let u = o.root.unavailable().expect("unavailable");
    assert_eq!(
        (u.reason.as_str(), u.needs.as_slice()),
        (
            "not in the scenario",
            &["organizations:ListRoots".to_owned()][..]
        )
    );
    path_unreadable(&o, OrgPolicyType::Scp);
    path_unreadable(&o, OrgPolicyType::Rcp);
    let o = org("ALL", &[r#""roots": {"$unavailable": "AccessDenied"}"#]);
    assert_eq!(o.root.unavailable().unwrap().reason, "AccessDenied");
    path_unreadable(&o, OrgPolicyType::Rcp);
}

#[test]
fn a_type_not_enabled_may_be_left_out_of_the_path_levels() {
    let path = r#""path": [
  {"target": "r-a1b2", "scps": {"Policies": [{"Id": "p-FullAWSAccess"}]}},
  {"target": "111122223333", "scps": {"Policies": [{"Id": "p-FullAWSAccess"}]}, "rcps": {"$absent": "PolicyTypeNotEnabledException"}}
]"#;
    let o = org("ALL", &[&roots(SCP_ON), path]);
    assert_eq!(o.rcps, Slot::Absent);
    assert_eq!(o.scps.get().map(Vec::len), Some(2));
    // Without `roots`, a level without `rcps` leaves them unread.
    let o = org("ALL", &[path]);
    assert!(o.rcps.unavailable().is_some(), "{:?}", o.rcps);
}

#[test]
fn consolidated_billing_with_a_root_without_policy_types() {
    let o = org("CONSOLIDATED_BILLING", &[&roots("")]);
    assert_eq!((&o.scps, &o.rcps), (&Slot::Absent, &Slot::Absent));
    assert!(o.root.get().is_some());
}

fn err(t: &str) -> ScenarioError {
    match parse("s.json", t) {
        Ok(_) => panic!("expected an error for\n{t}"),
        Err(e) => e,
    }
}

/// Asserts that the error is at the first occurrence of `at` in the text (after `after`), with
/// `pointer` and a message ending in `message`.
#[track_caller]
fn located(t: &str, after: &str, at: &str, pointer: &str, message: &str) {
    let e = err(t);
    let from = t.find(after).unwrap_or_else(|| panic!("no `{after}`"));
    let offset = from + t[from..].find(at).unwrap_or_else(|| panic!("no `{at}`"));
    let line = t[..offset].matches('\n').count() + 1;
    let column = offset - t[..offset].rfind('\n').map_or(0, |n| n + 1) + 1;
    let l = e.location().expect("located");
    assert_eq!(
        (l.line, l.column, l.pointer.as_str()),
        (line, column, pointer),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!("s.json:{line}:{column}: {pointer}: {message}")
    );
}

const ROOTS: &str = "/evidence/organization/roots";

#[test]
fn malformed_roots_are_located_errors() {
    let t = text("ALL", &[r#""roots": {"$absent": "RootNotFoundException"}"#]);
    located(
        &t,
        "\"roots\"",
        "\"RootNotFoundException\"",
        &format!("{ROOTS}/$absent"),
        "`roots` cannot be `$absent`: every organization has a root; put `$absent` on the whole organization for an account outside any organization",
    );
    let two = r#""roots": {"Roots": [{"Id": "r-a1b2", "PolicyTypes": []}, {"Id": "r-c3d4", "PolicyTypes": []}]}"#;
    located(
        &text("ALL", &[two]),
        "\"roots\"",
        "[{",
        &format!("{ROOTS}/Roots"),
        "expected the organization's one root, found 2 roots",
    );
    let no_types = r#""roots": {"Roots": [{"Id": "r-a1b2"}]}"#;
    located(
        &text("ALL", &[no_types]),
        "\"Roots\"",
        "{\"Id\"",
        &format!("{ROOTS}/Roots/0"),
        "missing required field `PolicyTypes`",
    );
    let typo = r#""roots": {"Roots": [{"Id": "r-a1b2", "PolicyType": []}]}"#;
    located(
        &text("ALL", &[typo]),
        "\"Roots\"",
        "\"PolicyType\"",
        &format!("{ROOTS}/Roots/0/PolicyType"),
        "unknown field `PolicyType`; did you mean `PolicyTypes`?",
    );
    let bad_id = r#""roots": {"Roots": [{"Id": "ou-a1b2-11111111", "PolicyTypes": []}]}"#;
    located(
        &text("ALL", &[bad_id]),
        "\"Roots\"",
        "\"ou-",
        &format!("{ROOTS}/Roots/0/Id"),
        "expected a root id (`r-...`), found `ou-a1b2-11111111`",
    );
    let other_org = roots("").replace("o-a1b2c3d4e5/", "o-zzzzzzzzzz/");
    located(
        &text("ALL", &[&other_org]),
        "\"Arn\"",
        "\"arn:",
        &format!("{ROOTS}/Roots/0/Arn"),
        "the root `arn:aws:organizations::999988887777:root/o-zzzzzzzzzz/r-a1b2` is not of organization `o-a1b2c3d4e5`",
    );
    let status = roots(r#"{"Type": "RESOURCE_CONTROL_POLICY", "Status": "ON"}"#);
    located(
        &text("ALL", &[&status]),
        "\"Status\"",
        "\"ON\"",
        &format!("{ROOTS}/Roots/0/PolicyTypes/0/Status"),
        "expected `ENABLED`, `PENDING_ENABLE` or `PENDING_DISABLE`, found `ON`",
    );
    let twice = roots(&format!("{RCP_ON}, {RCP_ON}"));
    located(
        &text("ALL", &[&twice]),
        "}, {\"Type\"",
        "\"RESOURCE_CONTROL_POLICY\"",
        &format!("{ROOTS}/Roots/0/PolicyTypes/1/Type"),
        "policy type `RESOURCE_CONTROL_POLICY` is listed twice",
    );
    let not_array = r#""roots": {"Roots": {"Id": "r-a1b2"}}"#;
    located(
        &text("ALL", &[not_array]),
        "\"Roots\"",
        "{\"Id\"",
        &format!("{ROOTS}/Roots"),
        "expected an array, found an object",
    );
}

#[test]
fn roots_that_contradict_the_rest_are_located_errors() {
    // The path must start at the root.
    let path = r#""path": [{"target": "r-zz99", "scps": {"Policies": []}}, {"target": "111122223333", "scps": {"Policies": []}}]"#;
    located(
        &text("ALL", &[&roots(SCP_ON), path]),
        "\"path\"",
        "\"r-zz99\"",
        "/evidence/organization/path/0/target",
        "the path must start at the root `r-a1b2` that `roots` gives, found `r-zz99`",
    );
    // RCPs given although the root does not list them.
    let path = r#""path": [{"target": "r-a1b2", "rcps": {"Policies": [{"Id": "p-RCPFullAWSAccess"}]}}, {"target": "111122223333"}]"#;
    located(
        &text("ALL", &[&roots(SCP_ON), path]),
        "\"rcps\"",
        "{\"Policies\"",
        "/evidence/organization/path/0/rcps",
        "`roots` does not list `RESOURCE_CONTROL_POLICY` as enabled, so `list-policies-for-target` fails with PolicyTypeNotEnabledException: give `{\"$absent\": \"PolicyTypeNotEnabledException\"}` or leave `rcps` out",
    );
    // Not enabled at every level although the root lists the type as enabled.
    let path = r#""path": [{"target": "r-a1b2", "rcps": {"$absent": "PolicyTypeNotEnabledException"}}, {"target": "111122223333", "rcps": {"$absent": "PolicyTypeNotEnabledException"}}]"#;
    located(
        &text("ALL", &[&roots(RCP_ON), path]),
        "\"rcps\"",
        "\"PolicyTypeNotEnabledException\"",
        "/evidence/organization/path/0/rcps/$absent",
        "`roots` lists `RESOURCE_CONTROL_POLICY` as `ENABLED`, so it cannot be `$absent` (not enabled)",
    );
    // Consolidated billing cannot have SCPs or RCPs enabled.
    located(
        &text("CONSOLIDATED_BILLING", &[&roots(SCP_ON)]),
        "\"FeatureSet\"",
        "\"CONSOLIDATED_BILLING\"",
        "/evidence/organization/describe_organization/Organization/FeatureSet",
        "an organization with consolidated billing only cannot have `SERVICE_CONTROL_POLICY` enabled, as `roots` says",
    );
}
