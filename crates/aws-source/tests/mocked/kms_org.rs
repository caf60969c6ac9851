//! The KMS key from the bucket's default encryption, and the organization path.

use crate::world::*;

#[test]
fn the_default_encryption_key_is_read_with_its_policy_and_grants() {
    let mut w = World::alice().acl();
    w.s3.push(
        mock!(aws_sdk_s3::Client::get_bucket_encryption).then_output(|| {
            use aws_sdk_s3::types::{
                ServerSideEncryption, ServerSideEncryptionByDefault,
                ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
            };
            GetBucketEncryptionOutput::builder()
                .server_side_encryption_configuration(
                    ServerSideEncryptionConfiguration::builder()
                        .rules(
                            ServerSideEncryptionRule::builder()
                                .apply_server_side_encryption_by_default(
                                    ServerSideEncryptionByDefault::builder()
                                        .sse_algorithm(ServerSideEncryption::AwsKms)
                                        .kms_master_key_id(KEY_ARN)
                                        .build()
                                        .unwrap_or_else(|e| panic!("{e}")),
                                )
                                .bucket_key_enabled(true)
                                .build(),
                        )
                        .build()
                        .unwrap_or_else(|e| panic!("{e}")),
                )
                .build()
        }),
    );
    w.kms
        .push(mock!(aws_sdk_kms::Client::describe_key).then_output(|| {
            DescribeKeyOutput::builder()
                .key_metadata(
                    aws_sdk_kms::types::KeyMetadata::builder()
                        .key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
                        .arn(KEY_ARN)
                        .key_manager(aws_sdk_kms::types::KeyManagerType::Customer)
                        .key_state(aws_sdk_kms::types::KeyState::Enabled)
                        .build()
                        .unwrap_or_else(|e| panic!("{e}")),
                )
                .build()
        }));
    w.kms.push(
        mock!(aws_sdk_kms::Client::get_key_policy)
            .match_requests(|r| r.policy_name() == Some("default"))
            .then_output(|| {
                GetKeyPolicyOutput::builder()
                    .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#)
                    .build()
            }),
    );
    w.kms
        .push(mock!(aws_sdk_kms::Client::list_grants).then_output(|| {
            ListGrantsOutput::builder()
                .grants(
                    aws_sdk_kms::types::GrantListEntry::builder()
                        .grant_id("g1")
                        .grantee_principal(ALICE)
                        .operations(aws_sdk_kms::types::GrantOperation::GenerateDataKey)
                        .build(),
                )
                .build()
        }));
    let got = run(&w);
    let k = got
        .evidence
        .kms_key
        .get()
        .unwrap_or_else(|| panic!("{:?}", got.evidence.kms_key));
    assert_eq!(k.region, "eu-west-1");
    assert_eq!(k.account, ACCOUNT);
    assert_eq!(k.manager, "CUSTOMER");
    let policy = k.policy.get().unwrap_or_else(|| panic!("{:?}", k.policy));
    assert_eq!(policy.name, format!("key policy of {KEY_ARN}"));
    let grants = k.grants.get().unwrap_or_else(|| panic!("{:?}", k.grants));
    assert_eq!(grants[0].operations, ["GenerateDataKey"]);
    let enc = got
        .evidence
        .bucket
        .encryption
        .get()
        .unwrap_or_else(|| panic!("no encryption"));
    assert!(enc.bucket_key_enabled);
    // HeadBucket, then the bucket reads, then the key: three rounds.
    assert_eq!(got.stats.rounds, 3, "{:#?}", got.stats.per_call);
    let kms_rounds: Vec<u32> = got
        .stats
        .per_call
        .iter()
        .filter(|c| c.api.starts_with("kms:"))
        .map(|c| c.round)
        .collect();
    assert_eq!(kms_rounds, [3, 3, 3]);
}

fn lpft(kind: &'static str, id: &'static str, name: &'static str) -> ListPoliciesForTargetOutput {
    let ty = aws_sdk_organizations::types::PolicyType::from(kind);
    ListPoliciesForTargetOutput::builder()
        .policies(
            aws_sdk_organizations::types::PolicySummary::builder()
                .id(id)
                .name(name)
                .r#type(ty)
                .build(),
        )
        .build()
}

/// Alice's world in organization `o-exampleorgid`: her account under OU `Workloads`, whose
/// SCP denies public-read uploads, under the root.
fn org_world() -> World {
    use aws_sdk_organizations::types::{Parent, ParentType, PolicyType};
    let mut w = World::alice().acl();
    w.org.push(describe_organization(
        aws_sdk_organizations::types::OrganizationFeatureSet::All,
    ));
    w.org.push(
        mock!(aws_sdk_organizations::Client::list_roots).then_output(|| {
            ListRootsOutput::builder()
                .roots(
                    aws_sdk_organizations::types::Root::builder()
                        .id("r-ab12")
                        .name("Root")
                        .build(),
                )
                .build()
        }),
    );
    w.org.push(
        mock!(aws_sdk_organizations::Client::list_parents)
            .match_requests(|r| r.child_id() == Some(ACCOUNT))
            .then_output(|| {
                ListParentsOutput::builder()
                    .parents(
                        Parent::builder()
                            .id("ou-ab12-11111111")
                            .r#type(ParentType::OrganizationalUnit)
                            .build(),
                    )
                    .build()
            }),
    );
    w.org.push(
        mock!(aws_sdk_organizations::Client::list_parents)
            .match_requests(|r| r.child_id() == Some("ou-ab12-11111111"))
            .then_output(|| {
                ListParentsOutput::builder()
                    .parents(
                        Parent::builder()
                            .id("r-ab12")
                            .r#type(ParentType::Root)
                            .build(),
                    )
                    .build()
            }),
    );
    w.org.push(
        mock!(aws_sdk_organizations::Client::describe_organizational_unit).then_output(|| {
            DescribeOrganizationalUnitOutput::builder()
                .organizational_unit(
                    aws_sdk_organizations::types::OrganizationalUnit::builder()
                        .id("ou-ab12-11111111")
                        .name("Workloads")
                        .build(),
                )
                .build()
        }),
    );
    w.org.push(
        mock!(aws_sdk_organizations::Client::list_policies_for_target)
            .match_requests(|r| {
                r.target_id() == Some("ou-ab12-11111111")
                    && r.filter() == Some(&PolicyType::ServiceControlPolicy)
            })
            .then_output(|| {
                lpft(
                    "SERVICE_CONTROL_POLICY",
                    "p-deny1234",
                    "DenyPublicObjectAcl",
                )
            }),
    );
    w.org.push(
        mock!(aws_sdk_organizations::Client::list_policies_for_target)
            .match_requests(|r| r.filter() == Some(&PolicyType::ServiceControlPolicy))
            .then_output(|| lpft("SERVICE_CONTROL_POLICY", "p-FullAWSAccess", "FullAWSAccess")),
    );
    w.org.push(
        mock!(aws_sdk_organizations::Client::list_policies_for_target)
            .match_requests(|r| r.filter() == Some(&PolicyType::ResourceControlPolicy))
            .then_output(|| {
                lpft(
                    "RESOURCE_CONTROL_POLICY",
                    "p-RCPFullAWSAccess",
                    "RCPFullAWSAccess",
                )
            }),
    );
    w.org.push(
        mock!(aws_sdk_organizations::Client::describe_policy)
            .match_requests(|r| r.policy_id() == Some("p-deny1234"))
            .then_output(|| {
                DescribePolicyOutput::builder()
                    .policy(
                        aws_sdk_organizations::types::Policy::builder()
                            .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"s3:x-amz-acl":"public-read"}}}]}"#)
                            .build(),
                    )
                    .build()
            }),
    );
    w
}

#[test]
fn the_organization_path_is_read_root_first() {
    let w = org_world();
    let got = run(&w);
    let org = got
        .evidence
        .caller_org
        .get()
        .unwrap_or_else(|| panic!("{:?}", got.evidence.caller_org));
    assert_eq!(org.id, "o-exampleorgid");
    assert_eq!(org.management_account, "999988887777");
    let scps = org.scps.get().unwrap_or_else(|| panic!("{:?}", org.scps));
    let targets: Vec<&str> = scps.iter().map(|l| l.target_id.as_str()).collect();
    assert_eq!(targets, ["r-ab12", "ou-ab12-11111111", ACCOUNT]);
    assert_eq!(scps[0].name.as_deref(), Some("Root"));
    assert_eq!(scps[1].name.as_deref(), Some("Workloads"));
    assert_eq!(
        scps[1].policies[0].name,
        "SCP p-deny1234 (DenyPublicObjectAcl) attached to ou-ab12-11111111"
    );
    assert_eq!(
        scps[0].policies[0].name,
        "SCP p-FullAWSAccess (FullAWSAccess) attached to r-ab12"
    );
    let rcps = org.rcps.get().unwrap_or_else(|| panic!("{:?}", org.rcps));
    assert_eq!(rcps.len(), 3);
    // The root's policies come with ListRoots; the OU waits for one ListParents.
    assert!(got.stats.rounds <= 4, "{:#?}", got.stats.per_call);
}

/// Callers of two accounts under one OU, diagnosed in one session: the OU's and the root's
/// reads (parent, name, SCPs and RCPs) are made once for both accounts' paths.
#[test]
fn accounts_under_one_ou_share_its_reads_in_a_session() {
    use aws_sdk_organizations::types::{Parent, ParentType};
    const OTHER: &str = "444455556666";
    let mut w = org_world();
    w.org.insert(
        0,
        mock!(aws_sdk_organizations::Client::list_parents)
            .match_requests(|r| r.child_id() == Some(OTHER))
            .then_output(|| {
                ListParentsOutput::builder()
                    .parents(
                        Parent::builder()
                            .id("ou-ab12-11111111")
                            .r#type(ParentType::OrganizationalUnit)
                            .build(),
                    )
                    .build()
            }),
    );
    let session = why403_aws_source::Session::new(w.clients());
    let upload = UploadRequest::new("amzn-s3-demo-bucket", "report.csv");
    let bob = format!("arn:aws:iam::{OTHER}:user/bob");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("no runtime: {e}"));
    let got = rt.block_on(session.collect_many(
        [(&upload, None), (&upload, Some(bob.as_str()))],
        2,
        &|_| {},
    ));
    let paths: Vec<Vec<String>> = got
        .iter()
        .map(|g| {
            let g = g.as_ref().unwrap_or_else(|e| panic!("{e}"));
            let org = g
                .evidence
                .caller_org
                .get()
                .unwrap_or_else(|| panic!("{:?}", g.evidence.caller_org));
            let scps = org.scps.get().unwrap_or_else(|| panic!("{:?}", org.scps));
            scps.iter().map(|l| l.target_id.clone()).collect()
        })
        .collect();
    assert_eq!(
        paths,
        [
            ["r-ab12", "ou-ab12-11111111", ACCOUNT],
            ["r-ab12", "ou-ab12-11111111", OTHER]
        ]
    );
    let total = session.stats();
    // Each account's parent, and the OU's once.
    assert_eq!(
        total.count("organizations:ListParents"),
        3,
        "{:#?}",
        total.per_call
    );
    assert_eq!(total.count("organizations:DescribeOrganizationalUnit"), 1);
    // SCPs and RCPs of the root, the OU and each account: 4 levels, not 6.
    assert_eq!(total.count("organizations:ListPoliciesForTarget"), 8);
    assert_eq!(total.count("organizations:DescribePolicy"), 1);
}

#[test]
fn the_organization_credentials_describe_the_organization_when_the_callers_may_not() {
    use aws_sdk_organizations::types::{Parent, ParentType};
    let mut w = World::alice().acl();
    w.org.push(
        mock!(aws_sdk_organizations::Client::describe_organization)
            .then_http_response(|| empty(403)),
    );
    w.org_admin = Some(vec![
        mock!(aws_sdk_organizations::Client::describe_organization).then_output(|| {
            DescribeOrganizationOutput::builder()
                .organization(
                    aws_sdk_organizations::types::Organization::builder()
                        .id("o-exampleorgid")
                        .master_account_id("999988887777")
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_organizations::Client::list_roots).then_output(|| {
            ListRootsOutput::builder()
                .roots(
                    aws_sdk_organizations::types::Root::builder()
                        .id("r-ab12")
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_organizations::Client::list_parents).then_output(|| {
            ListParentsOutput::builder()
                .parents(
                    Parent::builder()
                        .id("r-ab12")
                        .r#type(ParentType::Root)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_organizations::Client::list_policies_for_target)
            .then_output(|| lpft("SERVICE_CONTROL_POLICY", "p-FullAWSAccess", "FullAWSAccess")),
    ]);
    let got = run(&w);
    let org = got
        .evidence
        .caller_org
        .get()
        .unwrap_or_else(|| panic!("{:?}", got.evidence.caller_org));
    assert_eq!(org.id, "o-exampleorgid");
    let scps = org.scps.get().unwrap_or_else(|| panic!("{:?}", org.scps));
    let targets: Vec<&str> = scps.iter().map(|l| l.target_id.as_str()).collect();
    assert_eq!(targets, ["r-ab12", ACCOUNT]);
}
