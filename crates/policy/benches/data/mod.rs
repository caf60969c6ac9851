//! The benchmark's data set, shared by the criterion bench (`benches/eval.rs`) and the
//! instruction-count loop (`examples/eval_loop.rs`).

use why403_policy::{Policy, PolicyKind, PolicySet, Request, RequestContext, RequestPrincipal};

const ACCOUNT: &str = "111122223333";
pub const BUCKET: &str = "acme-payments-data";
pub const KMS_KEY: &str =
    "arn:aws:kms:us-east-1:111122223333:key/0f5e3c1a-9b7d-4e2f-a8c6-3d1b5e7f9a20";
pub const ORG_ID: &str = "o-a1b2c3d4e5";
/// Statements per identity policy.
pub const IDENTITY_SIZES: [usize; 5] = [10, 18, 30, 14, 24];
/// Where the statement that allows the upload sits: policy 2, statement 17.
pub const GRANTING: (usize, usize) = (2, 17);

/// One identity statement of a varied kind (actions, resources and condition operators).
pub fn identity_statement(p: usize, j: usize) -> String {
    if (p, j) == GRANTING {
        return format!(
            r#"{{"Sid":"WriteTeamData","Effect":"Allow","Action":["s3:PutObject","s3:PutObjectTagging","s3:GetObject"],"Resource":["arn:aws:s3:::{BUCKET}/data/*","arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*"],"Condition":{{"StringEquals":{{"aws:PrincipalTag/team":"payments"}},"IpAddress":{{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}},"Bool":{{"aws:SecureTransport":"true"}}}}}}"#
        );
    }
    let id = p * 100 + j;
    match j % 9 {
        0 => format!(
            r#"{{"Sid":"Project{id}","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::project-{id}/shared/*","Condition":{{"StringEquals":{{"aws:PrincipalTag/project":"p{id}"}}}}}}"#
        ),
        1 => format!(
            r#"{{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query","dynamodb:PutItem"],"Resource":"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders-{id}","Condition":{{"ForAllValues:StringEquals":{{"dynamodb:Attributes":["pk","sk","status"]}}}}}}"#
        ),
        2 => r#"{"Effect":"Allow","Action":["ec2:Describe*","cloudwatch:Get*","cloudwatch:List*"],"Resource":"*"}"#.to_owned(),
        3 => format!(
            r#"{{"Sid":"NoBucketDeletion{id}","Effect":"Deny","Action":["s3:DeleteBucket","s3:PutBucketPolicy"],"Resource":"arn:aws:s3:::*","Condition":{{"ArnNotLike":{{"aws:PrincipalArn":"arn:aws:iam::{ACCOUNT}:role/Admin*"}}}}}}"#
        ),
        4 => format!(
            r#"{{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::archive-{id}","Condition":{{"StringLike":{{"s3:prefix":["reports/*","exports/{id}/*"]}}}}}}"#
        ),
        5 => format!(
            r#"{{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"arn:aws:kms:us-east-1:{ACCOUNT}:key/{id:08}-0000-4000-8000-000000000000","Condition":{{"StringEquals":{{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}}}}"#
        ),
        6 => format!(
            r#"{{"Effect":"Allow","Action":["sqs:SendMessage","sqs:ReceiveMessage"],"Resource":"arn:aws:sqs:us-east-1:{ACCOUNT}:events-{id}","Condition":{{"IpAddress":{{"aws:SourceIp":"10.{}.0.0/16"}}}}}}"#,
            id % 256
        ),
        7 => format!(
            r#"{{"Effect":"Allow","Action":"s3:GetObject*","Resource":"arn:aws:s3:::logs-{id}-*/*","Condition":{{"DateGreaterThan":{{"aws:CurrentTime":"2024-01-01T00:00:00Z"}},"DateLessThan":{{"aws:CurrentTime":"2031-01-01T00:00:00Z"}}}}}}"#
        ),
        _ => format!(
            r#"{{"Sid":"Guardrail{id}","Effect":"Deny","NotAction":["s3:*","kms:*","dynamodb:*","sqs:*","ec2:Describe*","cloudwatch:*","sts:*"],"NotResource":"arn:aws:iam::{ACCOUNT}:role/break-glass-{id}"}}"#
        ),
    }
}

pub fn document(statements: impl IntoIterator<Item = String>) -> String {
    let mut out = String::from(r#"{"Version":"2012-10-17","Statement":["#);
    for (i, s) in statements.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&s);
    }
    out.push_str("]}");
    out
}

/// The policy texts, by layer.
#[derive(Debug)]
pub struct Texts {
    identity: Vec<String>,
    bucket: String,
    scp: Vec<Vec<String>>,
    rcp: Vec<Vec<String>>,
}

pub fn texts() -> Texts {
    let identity = IDENTITY_SIZES
        .iter()
        .enumerate()
        .map(|(p, &n)| document((0..n).map(|j| identity_statement(p, j))))
        .collect();
    let bucket = document([
        format!(
            r#"{{"Sid":"DenyUnlessBucketKmsKey","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::{BUCKET}/*","Condition":{{"StringNotLikeIfExists":{{"s3:x-amz-server-side-encryption-aws-kms-key-id":"{KMS_KEY}"}}}}}}"#
        ),
        format!(
            r#"{{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{BUCKET}","arn:aws:s3:::{BUCKET}/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}"#
        ),
        format!(
            r#"{{"Sid":"PartnerRead","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::444455556666:role/partner-reader"}},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::{BUCKET}","arn:aws:s3:::{BUCKET}/reports/*"]}}"#
        ),
    ]);
    let full_access = document([r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#.to_owned()]);
    let scp = vec![
        vec![full_access],
        vec![
            document([
                r#"{"Effect":"Allow","Action":["s3:*","kms:*","dynamodb:*","sqs:*","ec2:Describe*","cloudwatch:*","sts:*"],"Resource":"*"}"#.to_owned(),
            ]),
            document([
                r#"{"Sid":"DenyOutsideRegions","Effect":"Deny","Action":["s3:*","dynamodb:*","sqs:*","kms:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]},"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/OrgAdmin"}}}"#.to_owned(),
            ]),
        ],
    ];
    let rcp = vec![vec![
        document([r#"{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}"#.to_owned()]),
        document([format!(
            r#"{{"Sid":"OrgPerimeter","Effect":"Deny","Principal":"*","Action":["s3:*","kms:*","sqs:*"],"Resource":"*","Condition":{{"StringNotEqualsIfExists":{{"aws:PrincipalOrgID":"{ORG_ID}"}},"BoolIfExists":{{"aws:PrincipalIsAWSService":"false"}}}}}}"#
        )]),
    ]];
    Texts {
        identity,
        bucket,
        scp,
        rcp,
    }
}

pub fn compile(t: &Texts) -> PolicySet {
    let parse = |name: &str, kind, text: &str| {
        Policy::parse(name, kind, text)
            .unwrap_or_else(|e| panic!("the bench policy `{name}` must parse: {e}"))
    };
    let levels = |levels: &[Vec<String>], layer: &str, kind| -> Vec<Vec<Policy>> {
        levels
            .iter()
            .enumerate()
            .map(|(l, docs)| {
                docs.iter()
                    .enumerate()
                    .map(|(i, d)| parse(&format!("{layer}/{l}/{i}"), kind, d))
                    .collect()
            })
            .collect()
    };
    PolicySet {
        identity: t
            .identity
            .iter()
            .enumerate()
            .map(|(i, d)| parse(&format!("identity/{i}"), PolicyKind::Identity, d))
            .collect(),
        resource: Some(parse("bucket policy", PolicyKind::Resource, &t.bucket)),
        scp: levels(&t.scp, "scp", PolicyKind::Scp),
        rcp: levels(&t.rcp, "rcp", PolicyKind::Rcp),
        ..PolicySet::default()
    }
}

/// An upload by the team's application role, with the given KMS key header.
pub fn put_request(kms_key: &str) -> Request {
    let mut context = RequestContext::new();
    let session = "payments-app-7f3a9c";
    context.set("aws:SourceIp", "10.42.7.19");
    context.set("aws:SecureTransport", "true");
    context.set("aws:CurrentTime", "2025-06-14T09:30:00Z");
    context.set(
        "aws:PrincipalArn",
        format!("arn:aws:iam::{ACCOUNT}:role/payments-app"),
    );
    context.set("aws:PrincipalAccount", ACCOUNT);
    context.set("aws:PrincipalOrgID", ORG_ID);
    context.set("aws:PrincipalIsAWSService", "false");
    context.set("aws:PrincipalTag/team", "payments");
    context.set("aws:userid", format!("AROAEXAMPLEID12345678:{session}"));
    context.set("aws:RequestedRegion", "us-east-1");
    context.set("aws:ResourceAccount", ACCOUNT);
    context.set("s3:TlsVersion", "1.3");
    context.set("s3:x-amz-server-side-encryption", "aws:kms");
    context.set("s3:x-amz-server-side-encryption-aws-kms-key-id", kms_key);
    let mut r = Request::new(
        RequestPrincipal::parse(Some(&format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/payments-app/{session}"
        ))),
        "s3:PutObject",
        &format!("arn:aws:s3:::{BUCKET}/data/2025/06/14/part-00042.parquet"),
        context,
    );
    r.resource_account = Some(ACCOUNT.to_owned());
    r
}
