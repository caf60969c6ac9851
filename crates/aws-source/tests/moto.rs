//! A smoke test of the live source against a moto server (`../shared/docs/moto.md`): seeds a
//! user with an inline policy and a bucket with a policy, then reads them back as that user.
//! Skipped, with a notice, when `MOTO_ENDPOINT` is not set.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;
use why403_aws_source::{Clients, collect_with};
use why403_core::evidence::{IdentityKind, Slot};
use why403_core::upload::UploadRequest;

fn endpoint() -> Option<String> {
    match std::env::var("MOTO_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ => {
            eprintln!("skipped: MOTO_ENDPOINT is not set (see ../shared/docs/moto.md)");
            None
        }
    }
}

fn config(endpoint: &str, key: &str, secret: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            Credentials::new(key, secret, None, None, "moto"),
        ))
        .build()
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PutUploads","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::BUCKET/*"}]}"#;
const BUCKET_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyUnencrypted","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::BUCKET/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}]}"#;

#[test]
fn reads_a_seeded_world_from_moto() {
    let Some(endpoint) = endpoint() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("no runtime: {e}"));
    // Unique names: the server may be shared with other tests.
    let tag = format!("{}-{}", std::process::id(), line!());
    let bucket = format!("why403-smoke-{tag}");
    let user = format!("smoke-{tag}");
    let got = rt.block_on(async {
        let admin = config(&endpoint, "testing", "testing");
        let iam = aws_sdk_iam::Client::new(&admin);
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&admin)
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create bucket: {e:?}"));
        s3.put_bucket_policy()
            .bucket(&bucket)
            .policy(BUCKET_POLICY.replace("BUCKET", &bucket))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put bucket policy: {e:?}"));
        iam.create_user()
            .user_name(&user)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create user: {e:?}"));
        iam.put_user_policy()
            .user_name(&user)
            .policy_name("put-uploads")
            .policy_document(POLICY.replace("BUCKET", &bucket))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put user policy: {e:?}"));
        let key = iam
            .create_access_key()
            .user_name(&user)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create access key: {e:?}"));
        let key = key.access_key().unwrap_or_else(|| panic!("no access key"));
        let as_user = config(&endpoint, key.access_key_id(), key.secret_access_key());
        let clients = Clients::from_sdk(&as_user, None);
        collect_with(
            &clients,
            &UploadRequest::new(&bucket, "report.csv"),
            None,
            &|_| {},
        )
        .await
        .unwrap_or_else(|e| panic!("collection failed: {e}"))
    });
    let ev = &got.evidence;
    let caller = ev.caller.get().unwrap_or_else(|| panic!("{:?}", ev.caller));
    assert!(
        caller.arn.ends_with(&format!(":user/{user}")),
        "{}",
        caller.arn
    );
    let id = ev
        .identity
        .get()
        .unwrap_or_else(|| panic!("{:?}", ev.identity));
    assert_eq!(id.kind, IdentityKind::User);
    let names: Vec<&str> = id.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, [format!("inline policy put-uploads of user {user}")]);
    let policy = ev
        .bucket
        .policy
        .get()
        .unwrap_or_else(|| panic!("{:?}", ev.bucket.policy));
    assert_eq!(policy.name, format!("bucket policy of {bucket}"));
    // moto's fresh buckets have none of the 2023 defaults.
    assert_eq!(ev.bucket.encryption, Slot::Absent);
    assert_eq!(ev.bucket.public_access_block, Slot::Absent);
    assert_eq!(ev.kms_key, Slot::NotApplicable);
    assert!(ev.bucket.acl.get().is_some(), "{:?}", ev.bucket.acl);
    assert_eq!(ev.bucket.region, Slot::Collected("us-east-1".to_owned()));
    assert!(got.stats.rounds <= 4, "{:#?}", got.stats.per_call);
    eprintln!(
        "moto: {} calls in {} rounds, {:?}",
        got.stats.calls, got.stats.rounds, got.stats.elapsed
    );
}
