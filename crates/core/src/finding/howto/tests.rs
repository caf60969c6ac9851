//! Unit tests of `howto`: minimal diffs in the document's own order, who acts, the lockout note, deleted documents, request changes per client, shell quoting.
use super::*;
use crate::evidence::{Caller, Slot};
use crate::finding::Verification;
use crate::policy::PolicyKind;
use crate::upload::UploadRequest;

const BUCKET_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyOutsideVpce",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket", "arn:aws:s3:::amzn-s3-demo-bucket/*"],
      "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
    },
    {
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"
    }
  ]
}"#;

/// A caller of account 444455556666 uploading to a bucket of 111122223333 with this bucket
/// policy.
fn analysis(policy: &str) -> Analysis {
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::Collected(Caller {
        account: "444455556666".into(),
        arn: "arn:aws:iam::444455556666:user/alice".into(),
        user_id: "AIDAEXAMPLE".into(),
    });
    ev.bucket.owner_account = Slot::Collected("111122223333".into());
    ev.bucket.policy = Slot::Collected(
        Policy::parse(
            "bucket policy of amzn-s3-demo-bucket",
            PolicyKind::Resource,
            policy,
        )
        .unwrap(),
    );
    Analysis::new(UploadRequest::new("amzn-s3-demo-bucket", "k/x.csv"), ev)
}

fn fix(changes: Vec<Change>) -> Fix {
    Fix {
        description: "test".into(),
        changes,
        verified: Verification::Resolves,
        widens: Vec::new(),
    }
}

#[test]
fn a_statement_edit_is_a_minimal_diff_with_members_in_their_order() {
    let a = analysis(BUCKET_POLICY);
    let h = howto(
        &a,
        &fix(vec![Change::ReplaceStatement {
            target: PolicyTarget::BucketPolicy,
            statement: 1,
            with: serde_json::json!({
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"
            }),
        }]),
        None,
    );
    let [step] = h.steps.as_slice() else {
        panic!("{h:?}")
    };
    let doc = step.document.as_ref().unwrap();
    // Only the action lines change; the first statement, its Sid and the order stay.
    let changed: Vec<&str> = doc
        .diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        changed,
        [
            "-      \"Action\": \"s3:PutObject\",",
            "+      \"Action\": [",
            "+        \"s3:PutObject\",",
            "+        \"s3:PutObjectAcl\"",
            "+      ],"
        ],
        "{}",
        doc.diff
    );
    let after = doc.after.as_deref().unwrap();
    assert!(after.find("DenyOutsideVpce").unwrap() < after.find("PutObjectAcl").unwrap());
    // The bucket owner acts, and it is not the caller's account.
    assert_eq!(step.actor.kind, ActorKind::BucketOwner);
    assert_eq!(step.actor.account.as_deref(), Some("111122223333"));
    assert_eq!(step.actor.callers_account, Some(false));
    assert_eq!(
        step.actor.sentence(),
        "the bucket owner, account 111122223333 (not the caller's account), must"
    );
    assert_eq!(
        step.commands,
        vec![args(&[
            "aws",
            "s3api",
            "put-bucket-policy",
            "--bucket",
            "amzn-s3-demo-bucket",
            "--policy",
            "file://bucket-policy.json"
        ])]
    );
}

#[test]
fn a_deny_that_also_shuts_out_the_owners_administrators_names_the_root_user() {
    let a = analysis(BUCKET_POLICY);
    let h = howto(
        &a,
        &fix(vec![Change::AddStatement {
            target: PolicyTarget::BucketPolicy,
            statement: serde_json::json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}),
        }]),
        None,
    );
    let notes = &h.steps[0].notes;
    assert!(
        notes.iter().any(|n| n.contains("`DenyOutsideVpce`")
            && n.contains("can also deny `s3:PutBucketPolicy`")
            && n.contains("root user of account 111122223333")
            && n.contains("aws s3api delete-bucket-policy --bucket amzn-s3-demo-bucket")),
        "{notes:?}"
    );
    // Removing that deny: nothing left to lock anyone out.
    let h = howto(
        &a,
        &fix(vec![Change::RemoveStatement {
            target: PolicyTarget::BucketPolicy,
            statement: 0,
        }]),
        None,
    );
    assert!(h.steps[0].notes.is_empty(), "{:?}", h.steps[0].notes);
    assert!(
        h.steps[0]
            .summary
            .starts_with("delete statement `DenyOutsideVpce`")
    );
}

#[test]
fn a_policy_left_without_statements_is_deleted() {
    let a = analysis(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*"}]}"#,
    );
    let h = howto(
        &a,
        &fix(vec![Change::RemoveStatement {
            target: PolicyTarget::BucketPolicy,
            statement: 0,
        }]),
        None,
    );
    let doc = h.steps[0].document.as_ref().unwrap();
    assert_eq!(doc.after, None);
    assert!(doc.diff.contains("+++ /dev/null"), "{}", doc.diff);
    assert_eq!(
        h.steps[0].commands,
        vec![args(&[
            "aws",
            "s3api",
            "delete-bucket-policy",
            "--bucket",
            "amzn-s3-demo-bucket"
        ])]
    );
}

#[test]
fn request_changes_are_said_in_each_clients_terms() {
    let a = analysis(BUCKET_POLICY);
    let f = fix(vec![
        Change::SetHeader {
            name: "x-amz-server-side-encryption".into(),
            value: "aws:kms".into(),
        },
        Change::SetHeader {
            name: "x-amz-expected-bucket-owner".into(),
            value: "111122223333".into(),
        },
    ]);
    let step = |c| howto(&a, &f, c).steps.remove(0);
    let none = step(None);
    assert_eq!(none.actor.kind, ActorKind::Uploader);
    // `aws s3 cp` has no option for the expected owner: the `s3api` form.
    assert_eq!(none.client[0].client, "aws s3api put-object");
    assert!(
        none.client[0]
            .text
            .contains("--server-side-encryption aws:kms --expected-bucket-owner 111122223333"),
        "{:?}",
        none.client
    );
    let console = step(Some(Client::Console));
    assert!(
        console.client[0].text.contains("Encryption type"),
        "{:?}",
        console.client
    );
    assert!(
        console.client.iter().any(|c| c
            .text
            .contains("no setting for `x-amz-expected-bucket-owner`")),
        "{:?}",
        console.client
    );
    let sdk = step(Some(Client::Sdk));
    assert!(
        sdk.client[0]
            .text
            .contains("`ExpectedBucketOwner` = `111122223333`")
    );
    assert!(
        sdk.client[1]
            .text
            .contains("ExtraArgs={'ServerSideEncryption': 'aws:kms'")
    );
}

#[test]
fn shell_words_are_quoted_when_needed() {
    assert_eq!(
        command_line(&args(&["aws", "s3api", "put-object", "--key", "a b's"])),
        r"aws s3api put-object --key 'a b'\''s'"
    );
    assert_eq!(
        command_line(&args(&["--tags", "Key=k,Value=v"])),
        "--tags Key=k,Value=v"
    );
}

#[test]
fn globs_match_as_iam_does() {
    assert!(glob("s3:*", "s3:PutBucketPolicy"));
    assert!(glob("S3:Put*", "s3:PutBucketPolicy"));
    assert!(glob("*", "anything"));
    assert!(!glob("s3:Get*", "s3:PutBucketPolicy"));
    assert!(glob(
        "arn:aws:s3:::amzn-s3-demo-*",
        "arn:aws:s3:::amzn-s3-demo-bucket"
    ));
    assert!(!glob(
        "arn:aws:s3:::amzn-s3-demo-bucket/*",
        "arn:aws:s3:::amzn-s3-demo-bucket"
    ));
}
