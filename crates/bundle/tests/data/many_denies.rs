//! Scenarios with many deny statements that all match the upload, shared by the benchmark
//! (`many_denies.rs`) and the test of bounded output (`bounded.rs`).

use std::path::Path;

use serde_json::{Value, json};

/// The condition of each deny statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denies {
    /// None: each statement's fix is to remove it.
    Unconditional,
    /// Unless the upload is encrypted with KMS: one header is the fix of every statement.
    SameHeader,
    /// Unless the upload sends a header of its own: as many fixes as statements.
    HeaderEach,
}

/// `examples/scenarios/bucket-policy-kms-deny.json` with `n` denies of the upload in the bucket
/// policy (`in_bucket`) or in a second inline policy of the caller.
pub fn scenario(n: usize, in_bucket: bool, denies: Denies) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios/bucket-policy-kms-deny.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut s: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let statements: Vec<Value> = (0..n)
        .map(|i| {
            let mut st = json!({
                "Sid": format!("Deny{i}"),
                "Effect": "Deny",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
            });
            if in_bucket {
                st["Principal"] = json!("*");
            }
            match denies {
                Denies::Unconditional => {}
                Denies::SameHeader => {
                    st["Condition"] = json!({
                        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}
                    });
                }
                Denies::HeaderEach => {
                    let key = format!("s3:x-amz-meta-approval-{i}");
                    st["Condition"] = json!({"StringNotEquals": {key: "yes"}});
                }
            }
            st
        })
        .collect();
    let policy = json!({"Version": "2012-10-17", "Statement": statements});
    let evidence = &mut s["evidence"];
    if in_bucket {
        evidence["bucket_policy"]["Policy"] = Value::String(policy.to_string());
    } else {
        let user = &mut evidence["account_authorization_details"]["UserDetailList"][0];
        if let Some(list) = user["UserPolicyList"].as_array_mut() {
            list.push(json!({"PolicyName": "Denies", "PolicyDocument": policy}));
        }
    }
    s.to_string()
}
