//! The documented example `tests/data/full.json`, with every section, loads into the
//! expected request and evidence.

use std::path::Path;

use why403_core::PolicyKind;
use why403_core::evidence::{
    AclPermission, Grantee, IdentityKind, ObjectOwnership, PublicAccessBlock, Slot,
};
use why403_core::policy::{Effect, Version};
use why403_core::upload::{Credentials, Operation};
use why403_fixtures_source::{Scenario, load};

fn full() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/full.json");
    load(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn request_is_read_with_lower_case_headers_and_the_vpc_from_the_endpoint() {
    let s = full();
    let r = &s.request;
    assert!(
        s.description
            .as_deref()
            .is_some_and(|d| d.starts_with("Full example"))
    );
    assert_eq!(
        r.principal.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/Uploader/alice")
    );
    assert_eq!(r.credentials, Credentials::Temporary);
    assert_eq!(
        (r.bucket.as_str(), r.key.as_str()),
        ("amzn-s3-demo-bucket", "uploads/report.csv")
    );
    assert_eq!(r.operation, Operation::PutObject);
    assert_eq!(r.header("x-amz-acl"), Some("bucket-owner-full-control"));
    assert!(r.headers.contains_key("content-type"));
    assert!(r.headers.keys().all(|k| *k == k.to_ascii_lowercase()));
    assert_eq!(
        r.network.vpc_endpoint.as_deref(),
        Some("vpce-1a2b3c4d5e6f7a8b9")
    );
    // Not in the request: taken from the endpoint's `VpcId`.
    assert_eq!(r.network.vpc.as_deref(), Some("vpc-1a2b3c4d"));
    assert_eq!(r.network.vpc_source_ip.as_deref(), Some("10.0.1.25"));
    assert!(r.network.tls);
    assert_eq!(r.time.as_deref(), Some("2026-11-29T12:00:00Z"));
    assert_eq!(r.region.as_deref(), Some("eu-west-1"));
    assert_eq!(r.session_tags.get("team").map(String::as_str), Some("red"));
    let tag_keys = &r.context["aws:TagKeys"];
    assert!(tag_keys.multi);
    assert_eq!(tag_keys.values, ["team", "project"]);
    assert!(!r.context["s3:signatureversion"].multi);
}

#[test]
fn identity_collects_inline_managed_and_boundary_policies() {
    let s = full();
    let caller = s.evidence.caller.get().expect("caller");
    assert_eq!(caller.account, "111122223333");
    assert_eq!(caller.user_id, "AROA3XFRBF535PLBIFPI4:alice");
    let id = s.evidence.identity.get().expect("identity");
    assert_eq!(id.kind, IdentityKind::Role);
    assert_eq!(
        id.arn,
        "arn:aws:iam::111122223333:role/service-role/Uploader"
    );
    assert_eq!(
        (id.name.as_str(), id.path.as_str(), id.id.as_str()),
        ("Uploader", "/service-role/", "AROA3XFRBF535PLBIFPI4")
    );
    assert_eq!(id.tags.get("team").map(String::as_str), Some("red"));
    let names: Vec<&str> = id.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "inline policy AllowUploads of role Uploader",
            "managed policy arn:aws:iam::111122223333:policy/S3Uploaders"
        ]
    );
    assert!(id.policies.iter().all(|p| p.kind == PolicyKind::Identity));
    // The default version (v2), not v1.
    assert_eq!(id.policies[1].statements[0].sid.as_deref(), Some("Uploads"));
    let inline = &id.policies[0];
    let origin = inline.origin.as_ref().expect("origin");
    assert!(!origin.from_string);
    assert_eq!(
        origin.pointer,
        "/evidence/account_authorization_details/RoleDetailList/0/RolePolicyList/0/PolicyDocument"
    );
    assert_eq!(
        origin.file,
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/full.json")
            .display()
            .to_string()
    );
    // An object policy's text is the exact slice of the file.
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/full.json"))
            .unwrap();
    let line = text.lines().nth(origin.line - 1).unwrap();
    assert_eq!(line.chars().nth(origin.column - 1), Some('{'));
    assert!(text.contains(&*inline.text));
    let boundary = id.boundary.as_ref().expect("boundary");
    assert_eq!(boundary.kind, PolicyKind::Boundary);
    assert_eq!(
        boundary.name,
        "permissions boundary arn:aws:iam::111122223333:policy/UploaderBoundary"
    );
    // Given URL-encoded, as IAM returns it: decoded, and re-indented for display.
    assert!(boundary.origin.as_ref().unwrap().from_string);
    assert!(
        boundary
            .text
            .starts_with("{\n  \"Version\": \"2012-10-17\""),
        "{}",
        boundary.text
    );
}

#[test]
fn session_and_bucket_policies() {
    let s = full();
    let sp = s.evidence.session_policy.get().expect("session policy");
    assert_eq!(
        (sp.kind, sp.name.as_str()),
        (PolicyKind::Session, "session policy")
    );
    let bp = s.evidence.bucket.policy.get().expect("bucket policy");
    assert_eq!(
        (bp.kind, bp.name.as_str()),
        (PolicyKind::Resource, "bucket policy of amzn-s3-demo-bucket")
    );
    assert_eq!(bp.statements.len(), 2);
    assert_eq!(bp.statements[1].effect, Effect::Deny);
    let o = bp.origin.as_ref().unwrap();
    assert!(o.from_string);
    assert_eq!(o.pointer, "/evidence/bucket_policy/Policy");
}

#[test]
fn bucket_configuration() {
    let s = full();
    let b = &s.evidence.bucket;
    assert_eq!(b.name, "amzn-s3-demo-bucket");
    assert_eq!(b.region, Slot::Collected("eu-west-1".into()));
    assert_eq!(b.owner_account, Slot::Collected("444455556666".into()));
    let acl = b.acl.get().unwrap();
    assert_eq!(
        acl.owner_id,
        "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
    );
    assert_eq!(acl.grants.len(), 1);
    assert!(
        matches!(&acl.grants[0].grantee, Grantee::CanonicalUser { id, .. } if *id == acl.owner_id)
    );
    assert_eq!(acl.grants[0].permission, AclPermission::FullControl);
    let enc = b.encryption.get().unwrap();
    assert_eq!(enc.algorithm, "aws:kms");
    assert_eq!(
        enc.kms_key_id.as_deref(),
        Some("arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    );
    assert!(enc.bucket_key_enabled);
    assert_eq!(enc.blocked_encryption_types, ["SSE-C"]);
    assert_eq!(
        b.ownership,
        Slot::Collected(ObjectOwnership::BucketOwnerEnforced)
    );
    let all = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
    assert_eq!(b.public_access_block, Slot::Collected(all));
    let acct = s.evidence.account_public_access_block.get().unwrap();
    assert!(
        acct.block_public_acls
            && !acct.ignore_public_acls
            && acct.block_public_policy
            && !acct.restrict_public_buckets
    );
    assert_eq!(b.request_payer, Slot::Collected("BucketOwner".into()));
    assert_eq!(
        s.evidence
            .canonical_ids
            .get("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be")
            .map(String::as_str),
        Some("444455556666")
    );
}

#[test]
fn kms_key_from_default_encryption_with_policy_and_grants() {
    let s = full();
    let k = s.evidence.kms_key.get().expect("kms key");
    assert_eq!(
        k.arn,
        "arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    );
    assert_eq!(
        (k.account.as_str(), k.region.as_str()),
        ("444455556666", "eu-west-1")
    );
    assert_eq!(
        (k.state.as_str(), k.manager.as_str()),
        ("Enabled", "CUSTOMER")
    );
    assert_eq!(
        (k.spec.as_str(), k.usage.as_str()),
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    );
    let p = k.policy.get().expect("key policy");
    assert_eq!(p.kind, PolicyKind::KeyPolicy);
    assert_eq!(p.name, format!("key policy of {}", k.arn));
    assert_eq!(p.id.as_deref(), Some("key-default-1"));
    let g = k.grants.get().expect("grants");
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].name.as_deref(), Some("uploader-batch"));
    assert_eq!(g[0].operations, ["GenerateDataKey", "Decrypt"]);
    assert_eq!(
        g[0].context_subset.get("aws:s3:arn").map(String::as_str),
        Some("arn:aws:s3:::amzn-s3-demo-bucket")
    );
    assert!(g[0].context_equals.is_empty());
}

#[test]
fn organizations_with_built_in_full_access_policies() {
    let s = full();
    let org = s.evidence.caller_org.get().expect("caller org");
    assert_eq!(
        (org.id.as_str(), org.management_account.as_str()),
        ("o-aa111bb222", "999988887777")
    );
    let scps = org.scps.get().expect("scps");
    let targets: Vec<&str> = scps.iter().map(|l| l.target_id.as_str()).collect();
    assert_eq!(targets, ["r-ab12", "ou-ab12-11111111", "111122223333"]);
    assert_eq!(scps[1].name.as_deref(), Some("Workloads"));
    let names: Vec<&str> = scps[1].policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "SCP p-FullAWSAccess (FullAWSAccess) attached to ou-ab12-11111111",
            "SCP p-abc123 (DenyS3OutsideEu) attached to ou-ab12-11111111"
        ]
    );
    assert!(
        scps.iter()
            .flat_map(|l| &l.policies)
            .all(|p| p.kind == PolicyKind::Scp)
    );
    // FullAWSAccess is built in; p-abc123 comes from the file.
    assert!(scps[0].policies[0].origin.is_none());
    assert!(scps[1].policies[1].origin.as_ref().unwrap().from_string);
    let rcps = org.rcps.get().expect("rcps");
    assert_eq!(rcps.len(), 3);
    assert_eq!(rcps[0].policies[0].kind, PolicyKind::Rcp);

    let borg = s.evidence.bucket_org.get().expect("bucket org");
    assert_eq!(borg.id, "o-cc333dd444");
    let brcps = borg.rcps.get().unwrap();
    assert_eq!(
        brcps[0].policies[1].name,
        "RCP p-rcp111 (EnforceOrgIdentities) attached to r-cd34"
    );
    assert_eq!(brcps[1].target_id, "444455556666");
}

#[test]
fn vpc_endpoint_policy_of_the_request_endpoint() {
    let s = full();
    let p = s
        .evidence
        .vpc_endpoint_policy
        .get()
        .expect("endpoint policy");
    assert_eq!(
        (p.kind, p.name.as_str()),
        (
            PolicyKind::VpcEndpoint,
            "VPC endpoint policy of vpce-1a2b3c4d5e6f7a8b9"
        )
    );
    assert_eq!(p.version, Version::V2012_10_17);
    assert_eq!(p.statements[0].sid.as_deref(), Some("OnlyOurBuckets"));
    assert_eq!(
        p.origin.as_ref().unwrap().pointer,
        "/evidence/vpc_endpoint/VpcEndpoints/1/PolicyDocument"
    );
}

#[test]
fn every_slot_is_collected() {
    let e = full().evidence;
    let known = [
        e.caller.get().is_some(),
        e.identity.get().is_some(),
        e.session_policy.get().is_some(),
        e.bucket.region.get().is_some(),
        e.bucket.owner_account.get().is_some(),
        e.bucket.policy.get().is_some(),
        e.bucket.acl.get().is_some(),
        e.bucket.encryption.get().is_some(),
        e.bucket.ownership.get().is_some(),
        e.bucket.public_access_block.get().is_some(),
        e.bucket.request_payer.get().is_some(),
        e.account_public_access_block.get().is_some(),
        e.kms_key.get().is_some(),
        e.caller_org.get().is_some(),
        e.bucket_org.get().is_some(),
        e.vpc_endpoint_policy.get().is_some(),
    ];
    assert!(known.iter().all(|k| *k), "{known:?}");
}
