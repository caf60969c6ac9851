//! `write_scenario` is the inverse of `parse`: every scenario file of the repository (and a few
//! written here for what they do not cover) reads back into the same request and evidence,
//! writing is stable, and a redacted file diagnoses as the original did without its ids.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use why403_core::Policy;
use why403_core::evidence::{
    AccessPoint, Evidence, Identity, KmsKey, OrgLevel, OrgPublicAccessBlock, OrgRoot, Organization,
    RootPolicyType, Slot,
};
use why403_core::finding::{Diagnosis, diagnose};
use why403_core::json;
use why403_core::policy::AwsPrincipal;
use why403_fixtures_source::{Scenario, parse, write_scenario};

/// Every `*.json` of the fixture and example directories, found at test time.
fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        root.join("tests/data"),
        root.join("../../examples/scenarios"),
    ] {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.extension().is_some_and(|x| x == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(
        out.len() >= 6,
        "expected the fixtures and examples, found {out:?}"
    );
    out
}

fn read(path: &Path) -> (String, Scenario) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
    let s = parse(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"));
    (text, s)
}

fn reparse(name: &str, text: &str) -> Scenario {
    parse(name, text)
        .unwrap_or_else(|e| panic!("{name}: the written file does not read: {e}\n{text}"))
}

// ---------------------------------------------------------------------------------------------
// normalising policies: the same document, whatever its formatting and origin

fn policy(p: &Policy) -> Policy {
    let text = json::pretty(&p.text).unwrap_or_else(|| p.text.to_string());
    let mut q = Policy::parse(&p.name, p.kind, &text).unwrap_or_else(|e| panic!("{e}"));
    q.origin = None;
    q
}

fn slot<T: Clone>(s: &Slot<T>, f: impl Fn(&T) -> T) -> Slot<T> {
    match s {
        Slot::Collected(v) => Slot::Collected(f(v)),
        other => other.clone(),
    }
}

fn org(o: &Organization) -> Organization {
    let levels = |ls: &Vec<OrgLevel>| {
        ls.iter()
            .map(|l| OrgLevel {
                policies: l.policies.iter().map(policy).collect(),
                ..l.clone()
            })
            .collect()
    };
    Organization {
        scps: slot(&o.scps, levels),
        rcps: slot(&o.rcps, levels),
        ..o.clone()
    }
}

fn normalise(e: &Evidence) -> Evidence {
    let mut e = e.clone();
    e.identity = slot(&e.identity, |i| Identity {
        policies: i.policies.iter().map(policy).collect(),
        boundary: i.boundary.as_ref().map(policy),
        ..i.clone()
    });
    e.session_policy = slot(&e.session_policy, policy);
    e.bucket.policy = slot(&e.bucket.policy, policy);
    e.kms_key = slot(&e.kms_key, |k| KmsKey {
        policy: slot(&k.policy, policy),
        ..k.clone()
    });
    e.caller_org = slot(&e.caller_org, org);
    e.bucket_org = slot(&e.bucket_org, org);
    e.vpc_endpoint_policy = slot(&e.vpc_endpoint_policy, policy);
    e.access_point = slot(&e.access_point, |a| AccessPoint {
        policy: slot(&a.policy, policy),
        ..a.clone()
    });
    e
}

/// Writes, reads back and compares; writes again and compares the text.
fn round_trip(name: &str, s: &Scenario) -> String {
    let written = write_scenario(s, false);
    assert_eq!(
        written,
        write_scenario(s, false),
        "{name}: writing is not deterministic"
    );
    let back = reparse(name, &written);
    assert_eq!(back.description, s.description, "{name}: description");
    assert_eq!(back.request, s.request, "{name}: request\n{written}");
    let (got, want) = (normalise(&back.evidence), normalise(&s.evidence));
    if got != want {
        // Field by field, for a readable failure.
        assert_eq!(got.caller, want.caller, "{name}: caller\n{written}");
        assert_eq!(got.identity, want.identity, "{name}: identity\n{written}");
        assert_eq!(
            got.session_policy, want.session_policy,
            "{name}: session policy"
        );
        assert_eq!(got.bucket, want.bucket, "{name}: bucket\n{written}");
        assert_eq!(got.kms_key, want.kms_key, "{name}: KMS key\n{written}");
        assert_eq!(
            got.caller_org, want.caller_org,
            "{name}: organization\n{written}"
        );
        assert_eq!(
            got.bucket_org, want.bucket_org,
            "{name}: bucket organization\n{written}"
        );
        assert_eq!(
            got.access_point, want.access_point,
            "{name}: access point\n{written}"
        );
        assert_eq!(got, want, "{name}: evidence\n{written}");
    }
    assert_eq!(
        write_scenario(&back, false),
        written,
        "{name}: writing what was read back changes the text"
    );
    written
}

#[test]
fn every_scenario_file_round_trips() {
    for path in files() {
        let (_, s) = read(&path);
        round_trip(&path.display().to_string(), &s);
    }
}

// ---------------------------------------------------------------------------------------------
// what the files of the repository do not cover

const USER: &str = "arn:aws:iam::111122223333:user/engineering/alice";
const DOC: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*", "Condition": {"NumericLessThan": {"s3:max-keys": 10}, "StringLike": {"aws:userid": ["AIDA*", "x"]}}}]}"#;

const KEY_DOC: &str = r#"{"Version": "2012-10-17", "Id": "k", "Statement": [{"Sid": "Enable IAM policies of 111122223333", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "AROA3XFRBF535PLBIFPI4"], "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}, "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-aa111bb222", "kms:ViaService": "s3.eu-west-1.amazonaws.com"}}}]}"#;

fn synthetic(request: &str, evidence: &str) -> Scenario {
    let text = format!(
        r#"{{"scenario": 1, "request": {{"bucket": "amzn-s3-demo-bucket", "key": "k"{request}}}, "evidence": {{{evidence}}}}}"#
    );
    parse("synthetic.json", &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn groups_and_tags() -> String {
    format!(
        r#""account_authorization_details": {{
          "UserDetailList": [{{"Path": "/engineering/", "UserName": "alice", "UserId": "AIDACKCEVSQ6C2EXAMPLE",
            "Arn": "{USER}", "GroupList": ["devs", "idle"],
            "UserPolicyList": [{{"PolicyName": "Own", "PolicyDocument": {DOC}}}],
            "AttachedManagedPolicies": [{{"PolicyName": "Shared", "PolicyArn": "arn:aws:iam::111122223333:policy/team/Shared"}}],
            "PermissionsBoundary": {{"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/team/Shared"}},
            "Tags": [{{"Key": "team", "Value": "red"}}, {{"Key": "cost", "Value": "42"}}]}}],
          "GroupDetailList": [
            {{"GroupName": "devs", "GroupPolicyList": [{{"PolicyName": "G", "PolicyDocument": "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"}}],
             "AttachedManagedPolicies": [{{"PolicyArn": "arn:aws:iam::111122223333:policy/team/Shared"}}, {{"PolicyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}}]}},
            {{"GroupName": "idle"}}],
          "Policies": [
            {{"Arn": "arn:aws:iam::111122223333:policy/team/Shared", "DefaultVersionId": "v3",
              "PolicyVersionList": [{{"VersionId": "v3", "Document": {DOC}}}]}},
            {{"Arn": "arn:aws:iam::aws:policy/AmazonS3FullAccess",
              "PolicyVersionList": [{{"IsDefaultVersion": true, "Document": "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}]}}"}}]}}]
        }}"#
    )
}

#[test]
fn groups_boundaries_tags_and_context_round_trip() {
    let s = synthetic(
        &format!(
            r#", "principal": "{USER}", "operation": "Multipart",
               "headers": {{"X-Amz-Server-Side-Encryption": "AES256", "x-amz-grant-full-control": "id=79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}},
               "network": {{"source_ip": "2001:db8::1", "tls": false}},
               "context": {{"aws:TagKeys": ["a", "b"], "s3:max-keys": 5, "aws:ViaAWSService": false, "aws:Empty": []}}"#
        ),
        &format!(
            r#"{},
            "bucket_acl": {{"Owner": {{"ID": "79A59DF900B949E55D96A1E698FBACEDFD6E09D98EACF8F8D5218E7CD47EF2BE", "DisplayName": "owner"}},
              "Grants": [{{"Grantee": {{"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}}, "Permission": "READ"}},
                         {{"Grantee": {{"EmailAddress": "someone@example.com"}}, "Permission": "WRITE_ACP"}}]}},
            "canonical_ids": {{"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be": "444455556666"}},
            "bucket_location": {{"LocationConstraint": "EU"}},
            "bucket_request_payment": {{"Payer": "Requester"}},
            "organization": {{"describe_organization": {{"Organization": {{"Id": "o-aa111bb222", "FeatureSet": "CONSOLIDATED_BILLING", "MasterAccountId": "999988887777"}}}}}},
            "bucket_organization": {{"describe_organization": {{"Organization": {{"Id": "o-cc333dd444", "MasterAccountId": "777766665555"}}}},
              "path": [{{"target": "r-cd34", "scps": {{"Policies": [{{"Id": "p-FullAWSAccess"}}]}}, "rcps": {{"$absent": "PolicyTypeNotEnabledException"}}}},
                       {{"target": "444455556666", "name": "data", "scps": {{"Policies": [{{"Id": "p-12345678", "Name": "Deny (all) of it"}}]}}, "rcps": {{"$absent": "PolicyTypeNotEnabledException"}}}}],
              "policies": {{"p-12345678": {{"Policy": {{"Content": {DOC}}}}}}}}}"#,
            groups_and_tags()
        ),
    );
    let written = round_trip("groups", &s);
    redacts_the_same("groups", &written, &s);
    assert!(written.contains(r#""GroupList": ["#), "{written}");
    let identity = s
        .evidence
        .identity
        .get()
        .unwrap_or_else(|| panic!("identity"));
    assert_eq!(identity.groups, ["devs", "idle"]);
    assert_eq!(identity.policies.len(), 5);
}

#[test]
fn markers_sessions_kms_and_endpoints_round_trip() {
    let key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let cases = [
        // A session: session policy, grants with constraints, a VPC endpoint, org path levels.
        synthetic(
            r#", "principal": "arn:aws:sts::111122223333:assumed-role/Up/s@example.com", "credentials": "temporary-mfa",
               "network": {"vpc_endpoint": "vpce-1a2b3c4d5e6f7a8b9", "vpc_source_ip": "10.0.0.1"},
               "session_tags": {"Team": "red"}, "region": "eu-west-1", "time": "1700000000",
               "headers": {"x-amz-server-side-encryption": "aws:kms"}"#,
            &format!(
                r#""session_policy": "{{\"Statement\":[{{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}]}}",
                "account_authorization_details": {{"$unavailable": {{"reason": "AccessDenied", "needs": []}}}},
                "kms_key": {{"KeyMetadata": {{"Arn": "{key}", "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "KeyState": "PendingDeletion", "KeyManager": "AWS", "KeyUsage": "ENCRYPT_DECRYPT"}}}},
                "kms_key_policy": {KEY_DOC},
                "kms_grants": {{"Grants": [{{"GrantId": "g1", "GranteePrincipal": "arn:aws:iam::111122223333:role/Up", "Operations": ["Decrypt"],
                   "Constraints": {{"EncryptionContextEquals": {{"a": "b"}}, "EncryptionContextSubset": {{"c": "d"}}}}}}]}},
                "vpc_endpoint": {{"VpcEndpoints": [{{"VpcEndpointId": "vpce-1a2b3c4d5e6f7a8b9", "VpcId": "vpc-1a2b3c4d", "PolicyDocument": {DOC}}}]}},
                "bucket_owner": "111122223333",
                "organization": {{"describe_organization": {{"Organization": {{"Id": "o-aa111bb222", "MasterAccountId": "999988887777"}}}},
                  "path": [{{"target": "r-ab12", "name": "Root", "scps": {{"Policies": []}}, "rcps": {{"$unavailable": "denied"}}}},
                           {{"target": "ou-ab12-11111111", "scps": {{"Policies": [{{"Id": "p-FullAWSAccess", "Name": "FullAWSAccess"}}]}}}},
                           {{"target": "111122223333", "scps": {{"Policies": []}}}}]}}"#
            ),
        ),
        // Everything absent or unavailable.
        synthetic(
            r#", "principal": "arn:aws:sts::111122223333:assumed-role/Up/s""#,
            r#""session_policy": {"$absent": "none passed"}, "caller_identity": {"$unavailable": "x"},
               "bucket_policy": {"$absent": "NoSuchBucketPolicy"}, "bucket_acl": {"$unavailable": {"reason": "r", "needs": ["a", "b"]}},
               "bucket_encryption": {"$absent": "ServerSideEncryptionConfigurationNotFoundError"},
               "bucket_ownership_controls": {"$absent": "OwnershipControlsNotFoundError"},
               "bucket_public_access_block": {"$absent": "NoSuchPublicAccessBlockConfiguration"},
               "account_public_access_block": {"$unavailable": "denied"},
               "bucket_location": {"$unavailable": "denied"}, "bucket_request_payment": {"$unavailable": "denied"},
               "organization": {"$absent": "AWSOrganizationsNotInUseException"},
               "bucket_organization": {"describe_organization": {"Organization": {"Id": "o-aa111bb222", "MasterAccountId": "999988887777"}}, "path": {"$unavailable": "not from here"}}"#,
        ),
        // A bucket encrypted with a KMS key that could not be described; a region that stands in.
        synthetic(
            r#", "principal": "arn:aws:iam::111122223333:root", "region": "eu-west-1""#,
            r#""bucket_encryption": {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms:dsse", "KMSMasterKeyID": "alias/mine"}}]}},
               "kms_key": {"$absent": "NotFoundException"}"#,
        ),
        // A described key whose policy and grants were not read; a truncated grant list.
        synthetic(
            &format!(
                r#", "principal": "{USER}", "headers": {{"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "{key}"}}"#
            ),
            &format!(
                r#""kms_key": {{"KeyMetadata": {{"Arn": "{key}", "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "KeyState": "Enabled", "KeyManager": "CUSTOMER"}}}},
                "kms_grants": {{"Grants": [], "Truncated": true}},
                "bucket_location": {{"$unavailable": "denied"}}"#
            ),
        ),
        // A federated user and an anonymous request.
        synthetic(
            r#", "principal": "arn:aws:sts::111122223333:federated-user/bob""#,
            r#""account_authorization_details": {"UserDetailList": []}"#,
        ),
        synthetic(r#", "credentials": "anonymous""#, ""),
    ];
    for (i, s) in cases.iter().enumerate() {
        let name = format!("case {i}");
        let written = round_trip(&name, s);
        redacts_the_same(&name, &written, s);
    }
}

/// `roots` (the policy types enabled on the root) is written back as read, and what it
/// concludes without the path (a type not enabled is absent) reads back the same.
#[test]
fn roots_and_policy_types_not_enabled_round_trip() {
    let describe = |features: &str| {
        format!(
            r#""describe_organization": {{"Organization": {{"Id": "o-aa111bb222", "FeatureSet": "{features}", "MasterAccountId": "999988887777"}}}}"#
        )
    };
    let roots = |types: &str| {
        format!(
            r#""roots": {{"Roots": [{{"Id": "r-ab12", "Arn": "arn:aws:organizations::999988887777:root/o-aa111bb222/r-ab12", "Name": "Root", "PolicyTypes": [{types}]}}]}}"#
        )
    };
    let scp = r#"{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}"#;
    let rcp_pending = r#"{"Type": "RESOURCE_CONTROL_POLICY", "Status": "PENDING_DISABLE"}"#;
    let tags = r#"{"Type": "TAG_POLICY", "Status": "ENABLED"}"#;
    let path = r#""path": [{"target": "r-ab12", "scps": {"Policies": [{"Id": "p-FullAWSAccess"}]}},
                           {"target": "111122223333", "name": "data", "scps": {"Policies": [{"Id": "p-FullAWSAccess"}]}}]"#;
    let orgs = [
        // A member account: RCPs not enabled, SCPs enabled but the path unread.
        format!("{}, {}", describe("ALL"), roots(scp)),
        format!(
            "{}, {}, {}",
            describe("ALL"),
            roots(&format!("{scp}, {tags}")),
            r#""path": {"$unavailable": "AccessDenied"}"#
        ),
        // Neither type enabled (in an organization with all features).
        format!("{}, {}", describe("ALL"), roots(tags)),
        format!("{}, {}", describe("ALL"), roots("")),
        // Consolidated billing, with its root.
        format!("{}, {}", describe("CONSOLIDATED_BILLING"), roots("")),
        // RCPs left out of the levels, the root says they are not enabled.
        format!("{}, {}, {path}", describe("ALL"), roots(scp)),
        // A type being disabled: the path decides.
        format!(
            "{}, {}, {path}",
            describe("ALL"),
            roots(&format!("{scp}, {rcp_pending}"))
        ),
        // The root refused.
        format!(
            "{}, {}",
            describe("ALL"),
            r#""roots": {"$unavailable": {"reason": "AccessDenied from organizations:ListRoots", "needs": ["organizations:ListRoots"]}}"#
        ),
    ];
    for (i, o) in orgs.iter().enumerate() {
        let s = synthetic(
            r#", "principal": "arn:aws:iam::111122223333:user/alice""#,
            &format!(r#""organization": {{{o}}}"#),
        );
        let name = format!("roots case {i}");
        let written = round_trip(&name, &s);
        redacts_the_same(&name, &written, &s);
        let org = s.evidence.caller_org.get().unwrap();
        assert_eq!(
            written.contains("\"roots\""),
            !matches!(&org.root, Slot::Unavailable(u) if u.reason == "not in the scenario"),
            "{name}: {written}"
        );
    }
}

/// The organization's S3 policy for the bucket owner's account reads as its effective
/// Block Public Access, is written back as `describe-effective-policy` gives it, and, left
/// out, does not apply where the organization is known not to exist or not to have S3
/// policies enabled.
#[test]
fn organization_s3_policy_round_trips() {
    let org = |types: &str| {
        format!(
            r#""organization": {{"describe_organization": {{"Organization": {{"Id": "o-aa111bb222", "FeatureSet": "ALL", "MasterAccountId": "999988887777"}}}}, "roots": {{"Roots": [{{"Id": "r-ab12", "PolicyTypes": [{types}]}}]}}}}"#
        )
    };
    let s3 = r#"{"Type": "S3_POLICY", "Status": "ENABLED"}"#;
    let no_org = r#""organization": {"$absent": "AWSOrganizationsNotInUseException"}"#;
    let assigned = r#""organization_s3_policy": {"EffectivePolicy": {"PolicyType": "S3_POLICY", "TargetId": "111122223333", "PolicyContent": "{\"s3_attributes\":{\"public_access_block_configuration\":{\"@@assign\":\"all\"}}}"}}"#;
    let resolved = r#""organization_s3_policy": {"EffectivePolicy": {"PolicyContent": {"s3_attributes": {"public_access_block_configuration": "none"}}}}"#;
    let other = r#""organization_s3_policy": {"EffectivePolicy": {"PolicyContent": "{\"s3_attributes\":{}}"}}"#;
    let absent = r#""organization_s3_policy": {"$absent": "EffectivePolicyNotFoundException"}"#;
    let denied = r#""organization_s3_policy": {"$unavailable": "AccessDenied"}"#;
    let unread = || {
        Slot::Unavailable(why403_core::evidence::Unavailable {
            reason: "not in the scenario".into(),
            needs: vec!["organizations:DescribeEffectivePolicy".into()],
        })
    };
    let cases: Vec<(String, Slot<OrgPublicAccessBlock>)> = vec![
        (
            format!("{}, {assigned}", org(s3)),
            Slot::Collected(OrgPublicAccessBlock::All),
        ),
        (
            format!("{}, {resolved}", org(s3)),
            Slot::Collected(OrgPublicAccessBlock::None),
        ),
        (format!("{}, {other}", org(s3)), Slot::Absent),
        (format!("{}, {absent}", org(s3)), Slot::Absent),
        (
            format!("{}, {denied}", org(s3)),
            Slot::Unavailable(why403_core::evidence::Unavailable {
                reason: "AccessDenied".into(),
                needs: vec!["organizations:DescribeEffectivePolicy".into()],
            }),
        ),
        // Left out: not applicable without an organization or with the type not enabled.
        (no_org.to_owned(), Slot::Absent),
        (org(""), Slot::Absent),
        (org(s3), unread()),
    ];
    for (i, (evidence, want)) in cases.iter().enumerate() {
        let s = synthetic(
            r#", "principal": "arn:aws:iam::111122223333:user/alice""#,
            &format!(r#""bucket_owner": "111122223333", {evidence}"#),
        );
        let name = format!("S3 policy case {i}");
        assert_eq!(&s.evidence.org_s3_policy, want, "{name}");
        let written = round_trip(&name, &s);
        redacts_the_same(&name, &written, &s);
    }
}

// ---------------------------------------------------------------------------------------------
// redaction

fn diagnosis(s: &Scenario) -> Diagnosis {
    diagnose(
        s.request.clone(),
        s.evidence.clone(),
        &why403_rules::registry(),
    )
}

fn rule_ids(d: &Diagnosis) -> BTreeSet<String> {
    d.findings.iter().map(|f| f.rule.id.clone()).collect()
}

/// Maximal runs of ASCII alphanumerics of the text that satisfy `f`.
fn words(text: &str, f: impl Fn(&str) -> bool) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| f(w))
        .map(str::to_owned)
        .collect()
}

/// The original's account ids, canonical ids and IAM/STS names.
fn secrets(text: &str, s: &Scenario) -> BTreeSet<String> {
    let mut out = words(text, |w| {
        w.len() == 12 && w.bytes().all(|b| b.is_ascii_digit())
    });
    out.extend(words(text, |w| {
        w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit())
    }));
    let mut arns: Vec<String> = s.request.principal.iter().cloned().collect();
    if let Some(i) = s.evidence.identity.get() {
        out.insert(i.name.clone());
        out.insert(i.id.clone());
        out.extend(i.groups.iter().cloned());
        arns.push(i.arn.clone());
    }
    for arn in arns {
        match AwsPrincipal::parse(&arn) {
            AwsPrincipal::AssumedRole {
                role_name, session, ..
            } => {
                out.insert(role_name);
                out.insert(session);
            }
            AwsPrincipal::User { arn, .. } => {
                out.extend(arn.rsplit('/').next().map(str::to_owned));
            }
            _ => {}
        }
    }
    // Shorter names are replaced only where they stand alone (not inside `Sid`s).
    out.retain(|w| w.len() >= 3);
    out
}

/// Redacts `s` (read from `text`) and checks the result: deterministic, a scenario that
/// round-trips, the same verdict and rule findings, and none of the original's ids and names.
fn redacts_the_same(name: &str, text: &str, s: &Scenario) {
    let redacted = write_scenario(s, true);
    assert_eq!(
        redacted,
        write_scenario(s, true),
        "{name}: not deterministic"
    );
    let r = reparse(name, &redacted);
    assert_eq!(
        write_scenario(&r, false),
        redacted,
        "{name}: the redacted file does not round-trip"
    );

    let (want, got) = (diagnosis(s), diagnosis(&r));
    assert_eq!(
        got.verdict.to_string(),
        want.verdict.to_string(),
        "{name}: verdict\n{redacted}"
    );
    assert_eq!(
        rule_ids(&got),
        rule_ids(&want),
        "{name}: findings\n{redacted}"
    );

    let lower = redacted.to_ascii_lowercase();
    for secret in secrets(text, s) {
        assert!(
            !lower.contains(&secret.to_ascii_lowercase()),
            "{name}: `{secret}` is still in the redacted file:\n{redacted}"
        );
    }
    // Kept: what the upload is about, unless it holds an identifier of the file.
    let r#in = |v: &str| secrets(text, s).iter().any(|id| v.contains(id.as_str()));
    for (member, v) in [("bucket", &s.request.bucket), ("key", &s.request.key)] {
        assert_eq!(
            redacted.contains(&format!("\"{member}\": \"{v}\"")),
            !r#in(v),
            "{name}: {member} `{v}`\n{redacted}"
        );
    }
}

/// Identifiers of shapes AWS does not give (an emulator's user and role ids, a 32-hex
/// canonical id, a key id that is no UUID), and an object key that holds the account id, a
/// user name, a role name, a session name and the key id: all are replaced, by meaning, and
/// the key with the same placeholders as everywhere else, so that the policies that name the
/// key's prefix still match it.
#[test]
fn redaction_is_by_meaning_not_by_shape() {
    let account = "444455556666";
    let (role_id, canonical, key_id) = (
        "moto-roleid-77",
        "a3f19c0e5b7d42e8a3f19c0e5b7d42e8",
        "kx-5150-key",
    );
    let key_arn = format!("arn:aws:kms:us-east-1:{account}:key/{key_id}");
    let object = format!("drop/{account}/dana/Loader9/run-7/{key_id}/report.csv");
    let allow = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "PutDrop", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/drop/{account}/*"}}, {{"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": "{key_arn}"}}]}}"#
    );
    let bucket_policy = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "NoDana", "Effect": "Deny", "Principal": {{"AWS": "arn:aws:iam::{account}:user/dana"}}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}}]}}"#
    );
    let key_policy = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{account}:root"}}, "Action": "kms:*", "Resource": "*"}}]}}"#
    );
    let text = format!(
        r#"{{"scenario": 1, "description": "dana's upload through Loader9 (run-7) in {account}",
          "request": {{"principal": "arn:aws:sts::{account}:assumed-role/Loader9/run-7", "credentials": "temporary",
            "bucket": "amzn-s3-demo-bucket", "key": "{object}",
            "headers": {{"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "{key_id}"}}}},
          "evidence": {{
            "caller_identity": {{"UserId": "{role_id}:run-7", "Account": "{account}", "Arn": "arn:aws:sts::{account}:assumed-role/Loader9/run-7"}},
            "account_authorization_details": {{"UserDetailList": [], "GroupDetailList": [], "Policies": [],
              "RoleDetailList": [{{"Path": "/", "RoleName": "Loader9", "RoleId": "{role_id}", "Arn": "arn:aws:iam::{account}:role/Loader9",
                "RolePolicyList": [{{"PolicyName": "drop", "PolicyDocument": {allow}}}], "AttachedManagedPolicies": []}}]}},
            "session_policy": {{"$absent": "none passed"}},
            "bucket_policy": {bucket_policy},
            "bucket_acl": {{"Owner": {{"ID": "{canonical}"}}, "Grants": [{{"Grantee": {{"Type": "CanonicalUser", "ID": "{canonical}"}}, "Permission": "FULL_CONTROL"}}]}},
            "bucket_owner": "{account}",
            "canonical_ids": {{"{canonical}": "{account}"}},
            "kms_key": {{"KeyMetadata": {{"AWSAccountId": "{account}", "KeyId": "{key_id}", "Arn": "{key_arn}", "KeyState": "Enabled", "KeyManager": "CUSTOMER", "KeyUsage": "ENCRYPT_DECRYPT"}}}},
            "kms_key_policy": {key_policy}
          }}}}"#
    );
    let s = parse("by-meaning.json", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let written = round_trip("by meaning", &s);
    redacts_the_same("by meaning", &written, &s);
    let redacted = write_scenario(&s, true);
    for id in [
        account, role_id, canonical, key_id, "dana", "Loader9", "run-7",
    ] {
        assert!(
            !redacted
                .to_ascii_lowercase()
                .contains(&id.to_ascii_lowercase()),
            "`{id}` is still in the redacted file:\n{redacted}"
        );
    }
    let r = reparse("by meaning", &redacted);
    // The key's parts are the placeholders the rest of the file uses for the same things.
    let caller = r.evidence.caller.get().unwrap_or_else(|| panic!("caller"));
    let role = r
        .request
        .principal
        .as_deref()
        .and_then(|p| p.split('/').nth(1));
    let kms = r
        .evidence
        .kms_key
        .get()
        .unwrap_or_else(|| panic!("KMS key"));
    let parts: Vec<&str> = r.request.key.split('/').collect();
    assert_eq!(parts.get(1), Some(&caller.account.as_str()), "{redacted}");
    assert_eq!(parts.get(3).copied(), role, "{redacted}");
    assert_eq!(parts.get(5), Some(&kms.key_id.as_str()), "{redacted}");
    // The unique id keeps no part of the original and does not look like an IAM one.
    assert!(
        !caller.user_id.starts_with("moto") && !caller.user_id.starts_with("AROA"),
        "{}",
        caller.user_id
    );
}

#[test]
fn redacted_scenarios_diagnose_the_same_without_their_ids() {
    for path in files() {
        let (text, s) = read(&path);
        redacts_the_same(&path.display().to_string(), &text, &s);
    }
}

#[test]
fn nothing_that_looks_like_a_credential_is_written() {
    for path in files() {
        let (_, s) = read(&path);
        for redact in [false, true] {
            let text = write_scenario(&s, redact);
            for field in [
                "SecretAccessKey",
                "SessionToken",
                "AccessKeyId",
                "aws_secret_access_key",
                "Credentials",
            ] {
                assert!(
                    !text.contains(field),
                    "{}: `{field}` written",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn the_format_is_pretty_json_with_a_fixed_order() {
    let (_, s) = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/full.json"));
    let text = write_scenario(&s, false);
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(value["scenario"], 1);
    assert!(text.starts_with("{\n  \"scenario\": 1,\n  \"description\": "));
    assert!(text.ends_with("}\n"));
    let order = |a: &str, b: &str| text.find(a) < text.find(b);
    assert!(order("\"request\"", "\"evidence\""));
    assert!(order("\"caller_identity\"", "\"bucket_policy\""));
    assert!(order("\"kms_key\"", "\"kms_key_policy\""));
    // AWS's shapes: the bucket policy and the key policy as JSON strings.
    assert!(value["evidence"]["bucket_policy"]["Policy"].is_string());
    assert_eq!(value["evidence"]["kms_key_policy"]["PolicyName"], "default");
    assert!(value["evidence"]["session_policy"].is_object());
    let role = &value["evidence"]["account_authorization_details"]["RoleDetailList"][0];
    assert_eq!(
        role["Arn"],
        "arn:aws:iam::111122223333:role/service-role/Uploader"
    );
    assert_eq!(
        value["evidence"]["account_authorization_details"]["Policies"][0]["PolicyVersionList"][0]["IsDefaultVersion"],
        true
    );
}

// ---------------------------------------------------------------------------------------------
// scenarios the reader cannot produce

fn odd_policy(name: &str, kind: why403_core::PolicyKind) -> Policy {
    let text =
        r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}}"#;
    let mut p = Policy::parse(name, why403_core::PolicyKind::Resource, text)
        .unwrap_or_else(|e| panic!("{e}"));
    p.kind = kind;
    p
}

/// Evidence with every state in every slot the reader never gives: the writer must not panic
/// and must print JSON.
#[test]
fn any_scenario_is_written_without_panicking() {
    use std::sync::Arc;

    use why403_core::PolicyKind;
    use why403_core::evidence::{IdentityKind, KmsKey, Unavailable};
    use why403_core::upload::{ContextOverride, UploadRequest};

    let mut not_json = odd_policy("inline policy x of user alice", PolicyKind::Identity);
    not_json.text = Arc::from("not JSON \u{1} \"");
    let empty = Unavailable {
        reason: " ".to_owned(),
        needs: Vec::new(),
    };
    let mut request = UploadRequest::new("b\"\\\n", "k\u{7f}é");
    request.principal = Some("arn:aws:sts::111122223333:assumed-role/R/s".to_owned());
    request.context.insert(
        "aws:Odd".to_owned(),
        ContextOverride {
            values: Vec::new(),
            multi: false,
        },
    );
    let mut e = Evidence::unknown("b");
    e.caller = Slot::Absent;
    e.identity = Slot::Collected(Identity {
        kind: IdentityKind::User,
        arn: "not an ARN".to_owned(),
        name: String::new(),
        path: "/".to_owned(),
        id: "x".to_owned(),
        tags: [("k".to_owned(), "v".to_owned())].into(),
        policies: vec![
            odd_policy("my own name", PolicyKind::Identity),
            odd_policy("managed policy a b c", PolicyKind::Identity),
            odd_policy("inline policy p of group g", PolicyKind::Identity),
            not_json,
        ],
        groups: vec!["g".to_owned(), "g".to_owned()],
        boundary: Some(odd_policy("boundary", PolicyKind::Boundary)),
    });
    e.session_policy = Slot::Unavailable(empty.clone());
    e.bucket.acl = Slot::Absent;
    e.bucket.region = Slot::Absent;
    e.bucket.owner_account = Slot::Absent;
    e.kms_key = Slot::Collected(KmsKey {
        arn: "arn".to_owned(),
        key_id: String::new(),
        account: String::new(),
        region: String::new(),
        state: String::new(),
        manager: String::new(),
        spec: String::new(),
        usage: String::new(),
        policy: Slot::Absent,
        grants: Slot::NotApplicable,
    });
    let level = |target: &str, names: &[&str]| OrgLevel {
        target_id: target.to_owned(),
        name: None,
        policies: names
            .iter()
            .map(|n| odd_policy(n, PolicyKind::Scp))
            .collect(),
    };
    e.caller_org = Slot::Collected(Organization {
        id: String::new(),
        management_account: String::new(),
        root: Slot::Absent,
        scps: Slot::Collected(vec![level("r-1", &["SCP p-1 (x", "odd"]), level("a", &[])]),
        rcps: Slot::Collected(vec![level("other", &[])]),
    });
    e.bucket_org = Slot::Collected(Organization {
        id: String::new(),
        management_account: String::new(),
        root: Slot::Collected(OrgRoot {
            id: String::new(),
            name: Some(String::new()),
            policy_types: vec![RootPolicyType {
                policy_type: String::new(),
                status: "ODD".into(),
            }],
        }),
        scps: Slot::Absent,
        rcps: Slot::Unavailable(empty),
    });
    e.vpc_endpoint_policy = Slot::Absent;
    for principal in [None, request.principal.clone()] {
        let s = Scenario {
            description: Some("\u{0}\u{1f}\u{2028}".to_owned()),
            sources: Vec::new(),
            expect: None,
            request: UploadRequest {
                principal,
                ..request.clone()
            },
            evidence: e.clone(),
        };
        for redact in [false, true] {
            let text = write_scenario(&s, redact);
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|err| panic!("{err}\n{text}"));
        }
    }
}
