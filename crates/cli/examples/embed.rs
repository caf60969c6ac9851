//! Embedding why403: diagnose an upload from evidence your program already has, with the
//! built-in rules, and print the report. Run with `cargo run -p why403 --example embed`.

use why403_core::evidence::{Caller, Identity};
use why403_core::policy::{Policy, PolicyKind};
use why403_core::render::{HumanOptions, human};
use why403_core::{Diagnoser, Evidence, UploadRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The evidence: alice may write to `reports/` only; nothing else is configured.
    let alice = "arn:aws:iam::111122223333:user/alice";
    let policy = Policy::parse(
        "inline policy Reports of user alice",
        PolicyKind::Identity,
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Reports", "Effect": "Allow",
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/reports/*"}]}"#,
    )?;
    let evidence = Evidence::builder("amzn-s3-demo-bucket")
        .caller(Caller::new(alice, "AIDACKCEVSQ6C2EXAMPLE"))
        .identity(Identity::from_arn(alice, "AIDACKCEVSQ6C2EXAMPLE").with_policy(policy))
        .bucket_owner("111122223333")
        .region("us-east-1")
        .rest_absent();
    // The upload that was refused, and the diagnosis with every built-in rule.
    let request = UploadRequest::from_s3_url("s3://amzn-s3-demo-bucket/exports/q3.csv")?;
    let registry = why403_rules::registry();
    let diagnosis = Diagnoser::new(&registry).diagnose(request, evidence);
    print!("{}", human(&diagnosis, &HumanOptions::new(false)));
    Ok(())
}
