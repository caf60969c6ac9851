//! Acme Corp's why403 rules, in scope `acme`. Each explains, in Acme's words and with the
//! runbook to follow, a refusal that a built-in rule would explain in AWS's words; each
//! declares which built-in rule it refines, so the built-in finding is superseded.

use why403_core::eval::Layer;
use why403_core::finding::{Change, Fix};
use why403_core::rule::{DenyWording, Emitter, Rule, RuleContext, emit_explicit_deny};

/// The tag that Acme's data-lake guardrail requires on every upload to a data-lake bucket.
pub const CLASSIFICATION_TAG: &str = "data-classification";

/// The prefix of Acme's data-lake buckets.
pub const DATA_LAKE_PREFIX: &str = "acme-datalake-";

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// Acme's data-lake guardrail, an SCP attached to the Workloads OU, denies `s3:PutObject`
    /// to every `acme-datalake-*` bucket unless the upload tags the object with
    /// `data-classification` (`x-amz-tagging: data-classification=<level>`, or
    /// `--tagging` with the AWS CLI). Untagged data cannot be governed, so it is refused.
    ///
    /// ## How AWS evaluates it
    ///
    /// An explicit Deny in an SCP refuses the request whatever the identity and bucket
    /// policies allow. The statement's `Null` condition on `s3:RequestObjectTag/data-classification`
    /// is true when the request sends no such tag.
    ///
    /// ## Example
    ///
    /// ```json
    /// {"Sid": "DenyUntaggedDataLakeUploads", "Effect": "Deny", "Action": "s3:PutObject",
    ///  "Resource": "arn:aws:s3:::acme-datalake-*/*",
    ///  "Condition": {"Null": {"s3:RequestObjectTag/data-classification": "true"}}}
    /// ```
    ///
    /// ## Fix
    ///
    /// Tag the upload with its classification (`public`, `internal`, `confidential`), as the
    /// data-governance runbook says; the caller then also needs `s3:PutObjectTagging`.
    ///
    /// ## References
    ///
    /// - Acme data-governance runbook, tagging uploads: <https://runbooks.example.com/data-lake/tagging>
    /// - AWS Organizations User Guide, SCP examples: <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples.html>
    pub struct ScpDataLakeTagRequired {
        id: "scp-data-lake-tag-required",
        scope: "acme",
        layer: Organizations,
        summary: "the data-lake guardrail SCP refuses uploads without a data-classification tag",
        refines: ["builtin/scp-denies-s3"],
        service: S3,
        actions: ["s3:PutObject"],
        messages: [explicit(Scp)],
    }
}

impl Rule for ScpDataLakeTagRequired {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let tag_key = format!("s3:requestobjecttag/{CLASSIFICATION_TAG}");
        for (check, at, policy, st) in cx.layer_denies(Layer::Scp) {
            if !st.conditions.iter().any(|c| c.key_lower == tag_key) {
                continue;
            }
            let f = emit_explicit_deny(
                out,
                check,
                at,
                policy,
                st,
                DenyWording {
                    subject: format!(
                        "the data-lake guardrail (statement `{}` of {})",
                        st.label(),
                        policy.name
                    ),
                    effect_label: "refuses uploads to data-lake buckets without a classification tag",
                    fallback: Fix::new("tag the upload with its data classification", vec![]),
                },
            );
            let runbook = "runbook: https://runbooks.example.com/data-lake/tagging (classify the data, then tag it)";
            if !f.notes.iter().any(|n| n == runbook) {
                f.notes.push(runbook.into());
            }
            f.fix = Some(Fix::new(
                format!(
                    "tag the upload with its classification, e.g. `x-amz-tagging: {CLASSIFICATION_TAG}=internal` (`--tagging {CLASSIFICATION_TAG}=internal` with the AWS CLI)"
                ),
                vec![Change::SetHeader {
                    name: "x-amz-tagging".into(),
                    value: format!("{CLASSIFICATION_TAG}=internal"),
                }],
            ));
        }
    }
}

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// Acme's data-lake buckets (`acme-datalake-*`) take uploads only through the data-lake VPC
    /// endpoint: their bucket policy denies every request whose `aws:SourceVpce` is another
    /// endpoint or absent. An upload from a laptop, CI runner or another VPC is refused.
    ///
    /// ## How AWS evaluates it
    ///
    /// An explicit Deny in the bucket policy refuses the request; `aws:SourceVpce` is present
    /// only for requests that arrive through a VPC endpoint, so `StringNotEquals` is true
    /// both for another endpoint and for the internet.
    ///
    /// ## Example
    ///
    /// ```json
    /// {"Sid": "DataLakeOnlyThroughEndpoint", "Effect": "Deny", "Principal": "*",
    ///  "Action": "s3:*", "Resource": ["arn:aws:s3:::acme-datalake-raw", "arn:aws:s3:::acme-datalake-raw/*"],
    ///  "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}
    /// ```
    ///
    /// ## Fix
    ///
    /// Run the upload from the analytics VPC, whose S3 traffic goes through the data-lake
    /// endpoint (the runbook lists the jump hosts and the CI runners that do).
    ///
    /// ## References
    ///
    /// - Acme network runbook, reaching the data lake: <https://runbooks.example.com/data-lake/network>
    /// - Amazon S3 User Guide, Controlling access from VPC endpoints with bucket policies: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies-vpc-endpoint.html>
    pub struct DataLakeBucketOutsideVpcEndpoint {
        id: "data-lake-bucket-outside-vpc-endpoint",
        scope: "acme",
        layer: BucketPolicy,
        summary: "an upload to a data-lake bucket did not come through the data-lake VPC endpoint",
        refines: ["builtin/bucket-policy-explicit-deny"],
        service: S3,
        actions: [],
        messages: [explicit(ResourceBased)],
    }
}

impl Rule for DataLakeBucketOutsideVpcEndpoint {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let bucket = &cx.analysis.request.bucket;
        if !bucket.starts_with(DATA_LAKE_PREFIX) {
            return;
        }
        for (check, at, policy, st) in cx.layer_denies(Layer::Resource) {
            let Some(endpoint) = st
                .conditions
                .iter()
                .find(|c| c.key_lower == "aws:sourcevpce")
                .and_then(|c| c.values.first())
                .map(|v| v.raw.clone())
            else {
                continue;
            };
            let f = emit_explicit_deny(
                out,
                check,
                at,
                policy,
                st,
                DenyWording {
                    subject: format!(
                        "data-lake bucket `{bucket}` takes uploads only through the data-lake VPC endpoint `{endpoint}`: statement `{}` of {}",
                        st.label(),
                        policy.name
                    ),
                    effect_label: "refuses requests from outside the data-lake VPC endpoint",
                    fallback: Fix::new("run the upload from the analytics VPC", vec![]),
                },
            );
            // Where the upload runs is not a change why403 can verify: the runbook says.
            f.fix = None;
            let runbook = format!(
                "run the upload from the analytics VPC, whose S3 traffic goes through `{endpoint}`; runbook: https://runbooks.example.com/data-lake/network"
            );
            // One statement that denies several of the upload's actions is one finding.
            if !f.notes.contains(&runbook) {
                f.notes.push(runbook);
            }
        }
    }
}
