//! A session shares its reads: many collections over a few buckets and principals make each
//! distinct read once, collections in flight together wait for one read, and a refused or
//! failed bucket read is reported in every collection that needs it without touching the
//! others.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use why403_aws_source::{Session, Stats};

use crate::world::*;

const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const WRITER_1: &str = "arn:aws:sts::111122223333:assumed-role/writer/s1";
const WRITER_2: &str = "arn:aws:sts::111122223333:assumed-role/writer/s2";

/// Alice's world with the IAM entities of alice, bob and role `writer`, which have no
/// policies.
fn world() -> World {
    let mut w = World::alice().acl();
    w.iam.push(get_user("alice", "AIDAALICE"));
    w.iam.push(get_user("bob", "AIDABOB"));
    w.iam.push(get_role("writer", "AROAWRITER"));
    w.iam.extend(empty_iam_lists());
    w
}

fn upload(bucket: &str, key_arn: Option<&str>) -> UploadRequest {
    let mut req = UploadRequest::new(bucket, "report.csv");
    if let Some(k) = key_arn {
        req.headers
            .insert("x-amz-server-side-encryption".into(), "aws:kms".into());
        req.headers.insert(
            "x-amz-server-side-encryption-aws-kms-key-id".into(),
            k.into(),
        );
    }
    req
}

/// Calls per API.
fn per_api(stats: &Stats) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in &stats.per_call {
        *out.entry(c.api.clone()).or_default() += 1;
    }
    out
}

#[test]
fn many_collections_make_each_distinct_read_once() {
    let w = world();
    let buckets = ["bucket-a", "bucket-b", "bucket-c"];
    let principals = [None, Some(BOB), Some(WRITER_1), Some(WRITER_2)];
    // Uploads to bucket-c name a KMS key in their headers; the others use the bucket's default
    // encryption, which cannot be read here (so no key is read for them).
    let uploads: Vec<UploadRequest> = buckets
        .iter()
        .map(|b| upload(b, (*b == "bucket-c").then_some(KEY_ARN)))
        .collect();
    // Every upload for every principal, three times over: 36 collections.
    let mut targets = Vec::new();
    for _ in 0..3 {
        for u in &uploads {
            for p in principals {
                targets.push((u, p));
            }
        }
    }
    let session = Session::new(w.clients());
    let got = runtime().block_on(session.collect_many(targets.iter().copied(), 5, &|_| {}));
    assert_eq!(got.len(), 36);

    let total = session.stats();
    let expected: BTreeMap<String, usize> = [
        ("sts:GetCallerIdentity", 1),
        ("s3:ListBuckets", 1),
        ("organizations:DescribeOrganization", 1),
        ("organizations:ListRoots", 1),
        // One per bucket.
        ("s3:HeadBucket", 3),
        ("s3:GetBucketPolicy", 3),
        ("s3:GetBucketAcl", 3),
        ("s3:GetBucketEncryption", 3),
        ("s3:GetBucketOwnershipControls", 3),
        ("s3:GetPublicAccessBlock", 3),
        ("s3:GetBucketRequestPayment", 3),
        // One for the account.
        ("s3control:GetPublicAccessBlock", 1),
        ("organizations:DescribeEffectivePolicy", 1),
        // Alice, bob and the role: both sessions of `writer` share the role's identity.
        ("iam:GetUser", 2),
        ("iam:ListUserPolicies", 2),
        ("iam:ListAttachedUserPolicies", 2),
        ("iam:ListGroupsForUser", 2),
        ("iam:GetRole", 1),
        ("iam:ListRolePolicies", 1),
        ("iam:ListAttachedRolePolicies", 1),
        // One key, in one Region.
        ("kms:DescribeKey", 1),
        ("kms:GetKeyPolicy", 1),
        ("kms:ListGrants", 1),
    ]
    .into_iter()
    .map(|(api, n)| (api.to_owned(), n))
    .collect();
    assert_eq!(per_api(&total), expected, "{:#?}", total.per_call);
    assert_eq!(total.calls, expected.values().sum::<usize>());
    assert_eq!(total.rounds, 2);
    for (api, n) in &expected {
        assert_eq!(total.count(api), *n, "{api}");
    }
    // The mocks saw as many requests as the session counted.
    assert_eq!(w.sts[0].num_calls(), 1);
    assert_eq!(w.s3[0].num_calls(), 3, "HeadBucket");
    let iam_rules: Vec<usize> = w.iam[..3].iter().map(|r| r.num_calls()).collect();
    assert_eq!(
        iam_rules,
        [1, 1, 1],
        "GetUser alice, GetUser bob, GetRole writer"
    );

    // Each collection counts the calls it made: together, every call once.
    let mut mine = 0;
    for (got, (target, principal)) in got.iter().zip(&targets) {
        let got = got
            .as_ref()
            .unwrap_or_else(|e| panic!("{} for {principal:?}: {e}", target.bucket));
        mine += got.stats.calls;
        assert_eq!(got.request.bucket, target.bucket);
        let expected_principal = principal.unwrap_or(ALICE);
        assert_eq!(got.request.principal.as_deref(), Some(expected_principal));
    }
    assert_eq!(mine, total.calls);
    // Only the first collections read; the last round of 12 took everything from the cache.
    assert!(got[24..].iter().flatten().all(|c| c.stats.calls == 0));

    // Sharing changes nothing of what is collected: each collection has the evidence a
    // collection of its own would have.
    let rt = runtime();
    for (got, (target, principal)) in got.iter().zip(&targets).take(12) {
        let got = got.as_ref().unwrap_or_else(|e| panic!("{e}"));
        let alone = rt
            .block_on(why403_aws_source::collect_with(
                &w.clients(),
                target,
                *principal,
                &|_| {},
            ))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got.evidence, alone.evidence,
            "{} for {principal:?}",
            target.bucket
        );
    }
    let writer = got[2].as_ref().unwrap_or_else(|e| panic!("{e}"));
    let identity = writer
        .evidence
        .identity
        .get()
        .unwrap_or_else(|| panic!("{:?}", writer.evidence.identity));
    assert_eq!(identity.kind, IdentityKind::Role);
}

#[test]
fn concurrent_collections_wait_for_the_read_in_flight() {
    let mut w = world();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    w.s3_gate = Some(Arc::clone(&gate));
    let upload = UploadRequest::new("amzn-s3-demo-bucket", "report.csv");
    let principals = [None, Some(BOB), Some(WRITER_1), Some(WRITER_2), Some(BOB)];
    let session = Session::new(w.clients());
    let started = Mutex::new(Vec::<String>::new());
    let progress = |call: &str| {
        started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(call.to_owned());
    };
    let held = Mutex::new(None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap_or_else(|e| panic!("no runtime: {e}"));
    let got = rt.block_on(async {
        let all = session.collect_many(principals.iter().map(|p| (&upload, *p)), 5, &progress);
        let open = async {
            // The clock is paused: this sleep ends only once every collection waits, all
            // five in flight at once, with S3's answers held back.
            tokio::time::sleep(Duration::from_millis(1)).await;
            *held.lock().unwrap_or_else(|e| e.into_inner()) = Some(session.stats());
            gate.add_permits(1000);
        };
        tokio::join!(all, open).0
    });
    let held = held
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .unwrap_or_else(|| panic!("the gate never opened"));
    // While the gate was shut, one HeadBucket was in flight for all five collections, and it
    // was the only call made to S3 (the bucket's other reads need its Region).
    let s3_started = |calls: &[String]| calls.iter().filter(|c| c.starts_with("s3:")).count();
    assert_eq!(held.count("s3:HeadBucket"), 0, "still in flight");
    let started = started.into_inner().unwrap_or_else(|e| e.into_inner());
    assert_eq!(
        started.iter().filter(|c| *c == "s3:HeadBucket").count(),
        1,
        "{started:?}"
    );
    assert_eq!(w.s3[0].num_calls(), 1, "HeadBucket");
    assert_eq!(s3_started(&started), 1 + 1 + 6, "{started:?}");
    let total = session.stats();
    assert_eq!(total.count("s3:HeadBucket"), 1);
    assert_eq!(total.count("s3:GetBucketPolicy"), 1);
    assert_eq!(total.count("iam:GetUser"), 2);
    assert_eq!(total.count("iam:GetRole"), 1);
    // One collection made the read; the four others waited for it and count nothing for it.
    let heads: Vec<usize> = got
        .iter()
        .map(|g| {
            g.as_ref()
                .unwrap_or_else(|e| panic!("{e}"))
                .stats
                .count("s3:HeadBucket")
        })
        .collect();
    assert_eq!(heads.iter().sum::<usize>(), 1, "{heads:?}");
    for g in &got {
        let g = g.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            g.evidence.bucket.region,
            Slot::Collected("eu-west-1".to_owned())
        );
    }
}

#[test]
fn a_refused_or_missing_bucket_is_reported_in_each_collection_without_stopping_others() {
    let mut w = world();
    // Rules match in order: the ones for one bucket go before the world's.
    w.s3.insert(
        0,
        mock!(aws_sdk_s3::Client::get_bucket_policy)
            .match_requests(|r| r.bucket() == Some("denied"))
            .then_http_response(|| s3_error(403, "AccessDenied")),
    );
    w.s3.insert(
        0,
        mock!(aws_sdk_s3::Client::head_bucket)
            .match_requests(|r| r.bucket() == Some("gone"))
            .then_http_response(|| empty(404)),
    );
    w.s3.push(
        mock!(aws_sdk_s3::Client::get_bucket_policy)
            .then_http_response(|| s3_error(404, "NoSuchBucketPolicy")),
    );
    let buckets = ["denied", "gone", "open", "denied", "gone", "open"];
    let uploads: Vec<UploadRequest> = buckets.iter().map(|b| upload(b, None)).collect();
    let targets: Vec<(&UploadRequest, Option<&str>)> = uploads
        .iter()
        .flat_map(|u| [(u, None), (u, Some(BOB))])
        .collect();
    let session = Session::new(w.clients());
    let got = runtime().block_on(session.collect_many(targets.iter().copied(), 4, &|_| {}));
    assert_eq!(got.len(), 12);
    for (got, (target, _)) in got.iter().zip(&targets) {
        match target.bucket.as_str() {
            "gone" => assert!(
                matches!(got, Err(CollectError::NoSuchBucket { bucket }) if bucket == "gone"),
                "{got:?}"
            ),
            "denied" => {
                let got = got.as_ref().unwrap_or_else(|e| panic!("{e}"));
                let u = unavailable(&got.evidence.bucket.policy);
                assert_eq!(u.needs, ["s3:GetBucketPolicy"]);
                assert!(
                    u.reason.starts_with("AccessDenied from s3:GetBucketPolicy"),
                    "{}",
                    u.reason
                );
                // The bucket's other reads are as they would be.
                assert!(got.evidence.bucket.acl.get().is_some());
            }
            _ => {
                let got = got.as_ref().unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(got.evidence.bucket.policy, Slot::Absent);
                assert!(got.evidence.identity.get().is_some());
            }
        }
    }
    // The refusal and the missing bucket were each read once, not once per collection.
    assert_eq!(w.s3[0].num_calls(), 1, "HeadBucket of `gone`");
    assert_eq!(w.s3[1].num_calls(), 1, "GetBucketPolicy of `denied`");
    let total = session.stats();
    assert_eq!(total.count("s3:HeadBucket"), 3);
    // `gone` has no configuration to read.
    assert_eq!(total.count("s3:GetBucketPolicy"), 2);
    assert_eq!(total.count("s3:GetBucketAcl"), 2);
    let denied = total
        .per_call
        .iter()
        .filter(|c| c.api == "s3:GetBucketPolicy" && c.outcome == CallOutcome::Denied)
        .count();
    assert_eq!(denied, 1);
}

/// The CLI may run collections on spawned tasks.
#[test]
fn a_session_and_its_collections_can_move_between_threads() {
    fn is_send_sync<T: Send + Sync>(_: &T) {}
    fn is_send<T: Send>(_: &T) {}
    let session = Session::new(World::alice().clients());
    is_send_sync(&session);
    let req = UploadRequest::new("amzn-s3-demo-bucket", "report.csv");
    let progress = |_: &str| {};
    is_send(&session.collect(&req, None, &progress));
    let targets = [(&req, None)];
    is_send(&session.collect_many(targets, 2, &progress));
}

/// Alice and bob are in group `uploaders` and have managed policy `Shared` attached, as has
/// role `writer`; the group has an inline policy and managed policy `GroupShared`. One session
/// reads each policy, each policy version and the group once, whoever needs them.
#[test]
fn principals_share_their_groups_managed_policies_and_versions() {
    use aws_sdk_iam::operation::{
        get_group_policy::GetGroupPolicyOutput,
        list_attached_group_policies::ListAttachedGroupPoliciesOutput,
        list_attached_role_policies::ListAttachedRolePoliciesOutput,
        list_group_policies::ListGroupPoliciesOutput,
    };
    use aws_sdk_iam::types::{AttachedPolicy, Group, Policy, PolicyVersion};
    const SHARED: &str = "arn:aws:iam::111122223333:policy/Shared";
    const GROUP_SHARED: &str = "arn:aws:iam::111122223333:policy/GroupShared";
    const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;
    let attached = |arn: &'static str| AttachedPolicy::builder().policy_arn(arn).build();
    let mut w = World::alice().acl();
    w.iam.push(get_user("alice", "AIDAALICE"));
    w.iam.push(get_user("bob", "AIDABOB"));
    w.iam.push(get_role("writer", "AROAWRITER"));
    w.iam.push(
        mock!(aws_sdk_iam::Client::list_attached_user_policies).then_output(move || {
            ListAttachedUserPoliciesOutput::builder()
                .attached_policies(attached(SHARED))
                .build()
        }),
    );
    w.iam.push(
        mock!(aws_sdk_iam::Client::list_attached_role_policies).then_output(move || {
            ListAttachedRolePoliciesOutput::builder()
                .attached_policies(attached(SHARED))
                .build()
        }),
    );
    w.iam.push(
        mock!(aws_sdk_iam::Client::list_groups_for_user).then_output(|| {
            ListGroupsForUserOutput::builder()
                .groups(
                    Group::builder()
                        .path("/")
                        .group_name("uploaders")
                        .group_id("AGPAUPLOADERS")
                        .arn(format!("arn:aws:iam::{ACCOUNT}:group/uploaders"))
                        .create_date(aws_smithy_types::DateTime::from_secs(0))
                        .build()
                        .unwrap_or_else(|e| panic!("{e}")),
                )
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        }),
    );
    w.iam.push(
        mock!(aws_sdk_iam::Client::list_group_policies).then_output(|| {
            ListGroupPoliciesOutput::builder()
                .policy_names("g")
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        }),
    );
    w.iam.push(
        mock!(aws_sdk_iam::Client::get_group_policy).then_output(|| {
            GetGroupPolicyOutput::builder()
                .group_name("uploaders")
                .policy_name("g")
                .policy_document(DOC)
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        }),
    );
    w.iam.push(
        mock!(aws_sdk_iam::Client::list_attached_group_policies).then_output(move || {
            ListAttachedGroupPoliciesOutput::builder()
                .attached_policies(attached(GROUP_SHARED))
                .build()
        }),
    );
    w.iam
        .push(mock!(aws_sdk_iam::Client::get_policy).then_output(|| {
            GetPolicyOutput::builder()
                .policy(Policy::builder().default_version_id("v3").build())
                .build()
        }));
    w.iam.push(
        mock!(aws_sdk_iam::Client::get_policy_version)
            .match_requests(|r| r.version_id() == Some("v3"))
            .then_output(|| {
                GetPolicyVersionOutput::builder()
                    .policy_version(PolicyVersion::builder().document(DOC).build())
                    .build()
            }),
    );
    w.iam.extend(empty_iam_lists());
    let upload = UploadRequest::new("amzn-s3-demo-bucket", "report.csv");
    let principals = [None, Some(BOB), Some(WRITER_1), Some(WRITER_2)];
    let session = Session::new(w.clients());
    let got = runtime().block_on(session.collect_many(
        principals.iter().map(|p| (&upload, *p)),
        4,
        &|_| {},
    ));
    let total = session.stats();
    let iam: BTreeMap<String, usize> = per_api(&total)
        .into_iter()
        .filter(|(api, _)| api.starts_with("iam:"))
        .collect();
    let expected: BTreeMap<String, usize> = [
        ("iam:GetUser", 2),
        ("iam:ListUserPolicies", 2),
        ("iam:ListAttachedUserPolicies", 2),
        ("iam:ListGroupsForUser", 2),
        ("iam:GetRole", 1),
        ("iam:ListRolePolicies", 1),
        ("iam:ListAttachedRolePolicies", 1),
        // The group once, for alice and bob.
        ("iam:ListGroupPolicies", 1),
        ("iam:GetGroupPolicy", 1),
        ("iam:ListAttachedGroupPolicies", 1),
        // Each managed policy and its version once, for all three.
        ("iam:GetPolicy", 2),
        ("iam:GetPolicyVersion", 2),
    ]
    .into_iter()
    .map(|(api, n)| (api.to_owned(), n))
    .collect();
    assert_eq!(iam, expected, "{:#?}", total.per_call);
    let names = |i: usize| -> Vec<String> {
        let c = got[i].as_ref().unwrap_or_else(|e| panic!("{e}"));
        let id = c
            .evidence
            .identity
            .get()
            .unwrap_or_else(|| panic!("{:?}", c.evidence.identity));
        id.policies.iter().map(|p| p.name.clone()).collect()
    };
    let user = [
        format!("managed policy {SHARED}"),
        "inline policy g of group uploaders".to_owned(),
        format!("managed policy {GROUP_SHARED} of group uploaders"),
    ];
    assert_eq!(names(0), user);
    assert_eq!(names(1), user);
    assert_eq!(names(2), [format!("managed policy {SHARED}")]);
    // A group's managed policy is the longest chain: ListGroupsForUser (2),
    // ListAttachedGroupPolicies (3), GetPolicy (4), GetPolicyVersion (5).
    assert_eq!(total.rounds, 5, "{:#?}", total.per_call);
}
