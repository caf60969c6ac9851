//! Deterministic generator of the `cargo xtask bench` input: realistic `why403 eval` records
//! (about 5 KB each) that each carry their own policies, drawn from a handful of distinct
//! policy sets, with requests varied so the decisions are a mix of all three outcomes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;
use serde_json::{Value, json};

/// Lines generated when `--lines` is not given.
pub const DEFAULT_LINES: u64 = 200_000;
/// How many distinct `policies` objects the lines share.
pub const POLICY_SETS: usize = 6;
/// The size a line is padded up to (with `tags`). The policies alone take 4.2 to 4.8 KB, so
/// this is about 5 KB of real content plus a few hundred bytes of tags on every line.
const TARGET_LINE_BYTES: usize = 5_632;
/// Tags every line carries, however long its other members are.
const MIN_TAGS: usize = 4;
/// Bumped whenever the generated content changes, so an old file is not reused.
pub const FORMAT_VERSION: u32 = 2;

const ACCOUNT: &str = "111122223333";
const PARTNER_ACCOUNT: &str = "444455556666";
const ORG_ID: &str = "o-a1b2c3d4e5";
const TEAMS: [&str; POLICY_SETS] = ["payments", "analytics", "ml", "web", "billing", "logs"];
const USERS: [&str; 6] = ["alice", "bob", "carol", "dmitri", "esther", "farouk"];

/// xorshift64*: small, fast and deterministic; quality is plenty for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let v = self.next_u64();
            for i in 0..16 {
                if s.len() == len {
                    break;
                }
                let nibble = ((v >> (i * 4)) & 0xf) as u32;
                s.push(char::from_digit(nibble, 16).unwrap_or('0'));
            }
        }
        s
    }

    pub fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }
}

/// One distinct `policies` object and the facts requests need to hit or miss it.
#[derive(Debug)]
pub struct PolicySetSpec {
    pub team: &'static str,
    pub bucket: String,
    pub kms_key: String,
    /// The `policies` member, exactly as written into every line that uses it.
    pub text: String,
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Builds policy set `index`: 3 identity policies of 3-6 statements, a 3-statement bucket
/// policy (Deny unless the right KMS key), 2 SCP levels and 1 RCP level.
pub fn policy_set(index: usize) -> PolicySetSpec {
    let mut rng = Rng::new(0x5eed_0000 + index as u64 * 7919);
    let team = TEAMS[index % TEAMS.len()];
    let bucket = format!("acme-{team}-{index}");
    let b = format!("arn:aws:s3:::{bucket}");
    let kms_key = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", rng.uuid());

    let s3_access = vec![
        json!({
            "Sid": "ReadWriteTeamData",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging"],
            "Resource": [format!("{b}/data/*"), format!("{b}/home/${{aws:username}}/*")],
            "Condition": {
                "StringEquals": {"aws:PrincipalTag/team": team},
                "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}
            }
        }),
        json!({
            "Sid": "ListOwnPrefixes",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": b,
            "Condition": {"StringLike": {"s3:prefix": ["data/*", "home/${aws:username}/*"]}}
        }),
        json!({
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": format!("{b}/public/*")
        }),
        json!({
            "Sid": "DenyDeleteWithoutMfa",
            "Effect": "Deny",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
            "Resource": format!("{b}/*"),
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
        }),
        json!({
            "Effect": "Allow",
            "Action": "s3:DeleteObject",
            "Resource": format!("{b}/tmp/*"),
            "Condition": {"DateLessThan": {"aws:CurrentTime": "2031-01-01T00:00:00Z"}}
        }),
        json!({
            "Effect": "Allow",
            "Action": "s3:PutObjectAcl",
            "Resource": format!("{b}/data/*"),
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}
        }),
    ];
    let kms_tables = vec![
        json!({
            "Sid": "UseBucketKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"],
            "Resource": kms_key,
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
        }),
        json!({
            "Sid": "DenyPlainHttp",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }),
        json!({
            "Sid": "ReadSharedArtifacts",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::shared-artifacts-*/*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": format!("arn:aws:iam::{ACCOUNT}:role/{team}-*")}}
        }),
        json!({
            "Sid": "TeamTables",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
            "Resource": format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{team}-*"),
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", "status"]}}
        }),
        json!({
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
            "Resource": format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{team}-events*")
        }),
        json!({
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/acme/{team}/*")
        }),
    ];
    let baseline = vec![
        json!({
            "Sid": "IngestIncoming",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": format!("{b}/incoming/*"),
            "Condition": {
                "ArnLike": {"aws:PrincipalArn": [
                    format!("arn:aws:iam::{ACCOUNT}:role/ingest-*"),
                    format!("arn:aws:iam::{ACCOUNT}:role/{team}-app")
                ]},
                "DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}
            }
        }),
        json!({
            "Sid": "DenyOldTls",
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
        }),
        json!({
            "Effect": "Allow",
            "Action": ["s3:ListAllMyBuckets", "ec2:Describe*", "sts:GetCallerIdentity"],
            "Resource": "*"
        }),
        json!({
            "Sid": "OnlyApprovedServices",
            "Effect": "Deny",
            "NotAction": ["s3:*", "kms:*", "dynamodb:*", "sqs:*", "logs:*", "ec2:Describe*", "sts:*"],
            "Resource": "*"
        }),
        json!({
            "Sid": "AssumeTeamRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": format!("arn:aws:iam::{ACCOUNT}:role/{team}-*"),
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
        }),
        json!({
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": format!("{b}/reports/*"),
            "Condition": {"StringLike": {"aws:userid": ["AROA*", "AIDA*"]}}
        }),
    ];
    let mut identity = Vec::new();
    for statements in [s3_access, kms_tables, baseline] {
        let n = 3 + rng.below(4) as usize;
        identity.push(policy(statements.into_iter().take(n).collect()));
    }

    let resource = policy(vec![
        json!({
            "Sid": "DenyUnlessBucketKmsKey",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": format!("{b}/*"),
            "Condition": {"StringNotLikeIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": kms_key}}
        }),
        json!({
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [b, format!("{b}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }),
        json!({
            "Sid": "AllowPartnerAndAuditorRead",
            "Effect": "Allow",
            "Principal": {"AWS": [
                format!("arn:aws:iam::{PARTNER_ACCOUNT}:role/partner-reader"),
                format!("arn:aws:iam::{ACCOUNT}:role/{team}-auditor")
            ]},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [b, format!("{b}/reports/*")]
        }),
    ]);

    let full_access = policy(vec![
        json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    ]);
    let ou_allow = policy(vec![json!({
        "Effect": "Allow",
        "Action": ["s3:*", "kms:*", "dynamodb:*", "sqs:*", "logs:*", "ec2:Describe*", "sts:*"],
        "Resource": "*"
    })]);
    let ou_regions = policy(vec![json!({
        "Sid": "DenyOutsideApprovedRegions",
        "Effect": "Deny",
        "Action": ["s3:*", "dynamodb:*", "sqs:*", "kms:*"],
        "Resource": "*",
        "Condition": {
            "StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
            "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/OrgAdmin"}
        }
    })]);
    let rcp_full = policy(vec![json!({
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"
    })]);
    let rcp_perimeter = policy(vec![json!({
        "Sid": "EnforceOrgPerimeter",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:*", "kms:*", "sqs:*"],
        "Resource": "*",
        "Condition": {
            "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}
        }
    })]);

    let policies = json!({
        "identity": identity,
        "resource": resource,
        "scp": [[full_access], [ou_allow, ou_regions]],
        "scp_levels": ["r-ab12", format!("ou-ab12-{}", rng.hex(8))],
        "rcp": [[rcp_full, rcp_perimeter]],
        "rcp_levels": ["r-ab12"],
        "boundary": null,
        "session": null,
        "vpc_endpoint": null
    });
    PolicySetSpec {
        team,
        bucket,
        kms_key,
        text: policies.to_string(),
    }
}

/// Generates line `i` (without the newline).
fn line(i: u64, rng: &mut Rng, sets: &[PolicySetSpec]) -> String {
    let spec = &sets[rng.below(sets.len() as u64) as usize];
    let team = spec.team;

    // Who calls: mostly the team's own application role, sometimes others.
    let (principal, principal_arn, user, userid) = match rng.below(100) {
        0..60 => {
            let session = format!("{team}-app-{}", rng.hex(6));
            (
                format!("arn:aws:sts::{ACCOUNT}:assumed-role/{team}-app/{session}"),
                format!("arn:aws:iam::{ACCOUNT}:role/{team}-app"),
                None,
                format!("AROA{}:{session}", rng.hex(17).to_uppercase()),
            )
        }
        60..75 => {
            let arn = format!("arn:aws:iam::{ACCOUNT}:role/ingest-worker");
            (
                arn.clone(),
                arn,
                None,
                format!("AROA{}", rng.hex(17).to_uppercase()),
            )
        }
        75..87 => {
            let name = *rng.pick(&USERS);
            let arn = format!("arn:aws:iam::{ACCOUNT}:user/{name}");
            (
                arn.clone(),
                arn,
                Some(name),
                format!("AIDA{}", rng.hex(17).to_uppercase()),
            )
        }
        87..95 => {
            let other = *rng.pick(&TEAMS);
            let arn = format!("arn:aws:iam::{ACCOUNT}:role/{other}-app");
            (
                arn.clone(),
                arn,
                None,
                format!("AROA{}", rng.hex(17).to_uppercase()),
            )
        }
        _ => {
            let arn = format!("arn:aws:iam::{PARTNER_ACCOUNT}:role/partner-reader");
            (
                arn.clone(),
                arn,
                None,
                format!("AROA{}", rng.hex(17).to_uppercase()),
            )
        }
    };
    let partner = principal_arn.contains(PARTNER_ACCOUNT);

    // S3 requests only: the record's resource policy is the bucket policy.
    let action = match rng.below(100) {
        0..42 => "s3:PutObject",
        42..72 => "s3:GetObject",
        72..80 => "s3:ListBucket",
        80..86 => "s3:DeleteObject",
        86..91 => "s3:GetObjectTagging",
        91..95 => "s3:PutObjectAcl",
        95..98 => "s3:GetObjectVersion",
        _ => "s3:AbortMultipartUpload",
    };
    let home = || format!("home/{}/", user.unwrap_or("shared"));
    let writes = matches!(
        action,
        "s3:PutObject" | "s3:PutObjectAcl" | "s3:AbortMultipartUpload"
    );
    let prefix = match (writes, rng.below(100)) {
        (true, 0..62) | (false, 0..50) => "data/".to_owned(),
        (true, 62..82) => "incoming/".to_owned(),
        (true, 82..90) | (false, 50..60) => home(),
        (true, 90..95) | (false, 60..70) => "tmp/".to_owned(),
        (false, 70..82) => "public/".to_owned(),
        (false, 82..92) => "reports/".to_owned(),
        _ => "private/".to_owned(),
    };
    let key = format!(
        "{prefix}{}/{:02}/{:02}/part-{:05}-{}.parquet",
        2023 + rng.below(3),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(100_000),
        rng.hex(8)
    );
    let resource = match action {
        "s3:ListBucket" => format!("arn:aws:s3:::{}", spec.bucket),
        _ => format!("arn:aws:s3:::{}/{key}", spec.bucket),
    };

    let ip = if rng.chance(88) {
        format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        )
    } else {
        format!("203.0.113.{}", 1 + rng.below(254))
    };
    let mut context = String::with_capacity(1024);
    let mut c = Obj::new(&mut context);
    c.str("aws:SourceIp", &ip);
    c.raw("aws:SecureTransport", bool_str(rng.chance(98)));
    c.str(
        "aws:CurrentTime",
        &format!(
            "2025-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ),
    );
    c.str("aws:PrincipalArn", &principal_arn);
    c.str(
        "aws:PrincipalAccount",
        if partner { PARTNER_ACCOUNT } else { ACCOUNT },
    );
    let org = if partner || rng.chance(2) {
        "o-zz9y8x7w6v"
    } else {
        ORG_ID
    };
    c.str("aws:PrincipalOrgID", org);
    c.raw("aws:PrincipalIsAWSService", "false");
    c.str(
        "aws:PrincipalType",
        if user.is_some() {
            "User"
        } else {
            "AssumedRole"
        },
    );
    c.str("aws:userid", &userid);
    if let Some(u) = user {
        c.str("aws:username", u);
    }
    let own_role =
        principal_arn.contains(&format!("role/{team}-")) || principal_arn.contains("role/ingest-");
    let tag_team = if own_role || rng.chance(50) {
        team
    } else {
        *rng.pick(&TEAMS)
    };
    c.str("aws:PrincipalTag/team", tag_team);
    c.raw("aws:MultiFactorAuthPresent", bool_str(rng.chance(40)));
    let region = match rng.below(100) {
        0..94 => "us-east-1",
        94..98 => "eu-west-1",
        _ => "ap-south-1",
    };
    c.str("aws:RequestedRegion", region);
    c.str("aws:ResourceAccount", ACCOUNT);
    let tls = match rng.below(100) {
        0..60 => "1.3",
        60..99 => "1.2",
        _ => "1.0",
    };
    c.raw("s3:TlsVersion", tls);
    match action {
        "s3:PutObject" => match rng.below(100) {
            0..86 => {
                c.str("s3:x-amz-server-side-encryption", "aws:kms");
                c.str(
                    "s3:x-amz-server-side-encryption-aws-kms-key-id",
                    &spec.kms_key,
                );
            }
            86..93 => {
                c.str("s3:x-amz-server-side-encryption", "aws:kms");
                c.str(
                    "s3:x-amz-server-side-encryption-aws-kms-key-id",
                    &format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", rng.uuid()),
                );
            }
            _ => {}
        },
        "s3:ListBucket" => {
            let p = match rng.below(4) {
                0 => "data/".to_owned(),
                1 => home(),
                2 => "public/".to_owned(),
                _ => "private/".to_owned(),
            };
            c.str("s3:prefix", &p);
        }
        "s3:PutObjectAcl" => {
            let acl = if rng.chance(80) {
                "bucket-owner-full-control"
            } else {
                "public-read"
            };
            c.str("s3:x-amz-acl", acl);
        }
        "s3:GetObjectVersion" => c.str("s3:versionid", &rng.hex(32)),
        _ => {}
    }
    c.end();

    let mut request = String::with_capacity(context.len() + 512);
    let mut r = Obj::new(&mut request);
    r.str("principal", &principal);
    r.raw("anonymous", "false");
    r.str("action", action);
    r.str("resource", &resource);
    r.str("resource_account", ACCOUNT);
    r.raw("context", &context);
    r.end();

    let role = principal_arn.rsplit('/').next().unwrap_or("caller");
    let mut source = String::with_capacity(256);
    let mut s = Obj::new(&mut source);
    s.str("generator", "cargo xtask bench");
    s.raw("format", &FORMAT_VERSION.to_string());
    s.raw("line", &i.to_string());
    s.str("trace_id", &format!("1-{}-{}", rng.hex(8), rng.hex(24)));
    s.str("request_id", &rng.hex(16).to_uppercase());
    s.end();

    let mut out = String::with_capacity(TARGET_LINE_BYTES + 512);
    let mut o = Obj::new(&mut out);
    o.str("id", &format!("bench#{i}"));
    o.str(
        "name",
        &format!("{role} {action} on {} from {ip}", spec.bucket),
    );
    o.str("kind", "request");
    o.str("mode", "Strict");
    o.raw("source", &source);
    o.raw("request", &request);
    o.raw("policies", &spec.text);
    // Pad with tags of the kind real inventories carry, up to the target size.
    let line = o.key("tags");
    line.push('[');
    let mut tags = 0;
    while tags < MIN_TAGS || line.len() + 2 < TARGET_LINE_BYTES {
        let tag = match rng.below(6) {
            0 => format!("cost-center:cc-{:04}", rng.below(10_000)),
            1 => format!("owner:{}@example.com", rng.pick(&USERS)),
            2 => format!("ticket:OPS-{}", 1000 + rng.below(9000)),
            3 => format!("pipeline:{team}-etl-{}", rng.below(50)),
            4 => format!("build:{}", rng.hex(16)),
            _ => format!("service:{}", action.split(':').next().unwrap_or("s3")),
        };
        if tags > 0 {
            line.push(',');
        }
        tags += 1;
        push_json_str(line, &tag);
    }
    line.push(']');
    o.end();
    out
}

/// A minimal JSON object writer for the per-line members: serde_json's `Value` is several
/// times slower in the unoptimised build that `cargo xtask` runs.
struct Obj<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Obj<'a> {
    fn new(out: &'a mut String) -> Obj<'a> {
        out.push('{');
        Obj { out, empty: true }
    }

    fn key(&mut self, k: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        push_json_str(self.out, k);
        self.out.push(':');
        self.out
    }

    /// A string member.
    fn str(&mut self, k: &str, v: &str) {
        push_json_str(self.key(k), v);
    }

    /// A member whose value is already JSON.
    fn raw(&mut self, k: &str, json: &str) {
        self.key(k).push_str(json);
    }

    fn end(self) {
        self.out.push('}');
    }
}

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct Generated {
    pub lines: u64,
    pub bytes: u64,
    pub policy_sets: usize,
    /// The size of the largest `policies` object (bytes).
    pub max_policies_bytes: usize,
}

/// Writes `lines` records to `path` (one per line).
pub fn generate(path: &Path, lines: u64) -> anyhow::Result<Generated> {
    let sets: Vec<PolicySetSpec> = (0..POLICY_SETS).map(policy_set).collect();
    let file = File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng::new(0x00c0_ffee_d00d_f00d);
    let mut bytes = 0u64;
    for i in 0..lines {
        let l = line(i, &mut rng, &sets);
        w.write_all(l.as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .with_context(|| format!("writing `{}`", path.display()))?;
        bytes += l.len() as u64 + 1;
    }
    w.flush()
        .with_context(|| format!("writing `{}`", path.display()))?;
    Ok(Generated {
        lines,
        bytes,
        policy_sets: sets.len(),
        max_policies_bytes: sets.iter().map(|s| s.text.len()).max().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_deterministic_json_of_about_the_target_size() {
        let sets: Vec<PolicySetSpec> = (0..POLICY_SETS).map(policy_set).collect();
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for i in 0..50 {
            let l = line(i, &mut a, &sets);
            assert_eq!(l, line(i, &mut b, &sets));
            let v: Value = serde_json::from_str(&l).expect("a generated line is JSON");
            assert_eq!(v["id"], format!("bench#{i}"));
            assert!(
                v["policies"]["identity"]
                    .as_array()
                    .is_some_and(|p| p.len() == 3)
            );
            assert!(
                l.len() >= TARGET_LINE_BYTES - 2 && l.len() < TARGET_LINE_BYTES + 600,
                "{}",
                l.len()
            );
            assert!(v["tags"].as_array().is_some_and(|t| t.len() >= MIN_TAGS));
        }
    }

    #[test]
    fn policy_sets_are_distinct() {
        let texts: std::collections::BTreeSet<String> =
            (0..POLICY_SETS).map(|i| policy_set(i).text).collect();
        assert_eq!(texts.len(), POLICY_SETS);
    }
}
