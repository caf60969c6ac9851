//! `cargo xtask bench-triage`: end-to-end time and peak memory of `why403 triage` (issue 15) on
//! a day of generated CloudTrail logs, laid out as CloudTrail delivers them to S3: mostly S3
//! data events that succeeded, some management events of other services, and a fifth refused
//! uploads from a few dozen callers that fall into a few hundred (caller, bucket, prefix,
//! code) groups.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::benchgen::Rng;
use crate::util;

/// Records generated when `--records` is not given (about 1.9 GB: a record takes 1.9 KB on
/// average, most of it the assumed-role `userIdentity`, the user agent, the resources and
/// `additionalEventData` that every S3 data event carries).
pub const DEFAULT_RECORDS: u64 = 1_000_000;
/// Timed runs when `--runs` is not given.
pub const DEFAULT_RUNS: usize = 3;
/// Bumped whenever the generated content changes, so an old tree is not reused.
const FORMAT_VERSION: u32 = 1;
/// Records per log file at most (CloudTrail splits a busy 5-minute window into several files).
const RECORDS_PER_FILE: u64 = 1_000;
/// The day's 5-minute windows whose files are generated: 00:00 to 23:55.
const WINDOWS: u64 = 287;
/// The time `why403 triage` may take, per million records (issue 15).
const TARGET_SECS_PER_MILLION: f64 = 15.0;
/// The peak memory `why403 triage` may reach, whatever the input's size (issue 15).
const TARGET_PEAK_MB: f64 = 300.0;
const SEED: u64 = 0x7219_a6e0_15c1_0ad5;

const ACCOUNT: &str = "111122223333";
/// The day of the logs: 2026-12-05.
const DAY: (&str, &str, &str) = ("2026", "12", "05");
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// The assumed roles and their session names (36 sessions).
const ROLES: [(&str, &[&str]); 10] = [
    (
        "ingest-worker",
        &[
            "i-0a1b2c3d4e5f60718",
            "i-0f9e8d7c6b5a49382",
            "i-07a8b9c0d1e2f3a4b",
            "i-0c3d4e5f6a7b8c9d0",
            "i-0d4e5f6a7b8c9d0e1",
        ],
    ),
    (
        "etl-spark",
        &[
            "emr-j-2AXWQHT0GAPLF",
            "emr-j-3BYKMZU1HBQMG",
            "emr-j-1CZPLRV2ICRNH",
        ],
    ),
    (
        "ci-deploy",
        &[
            "GitHubActions-12188123456",
            "GitHubActions-12188399001",
            "GitHubActions-12188411773",
        ],
    ),
    (
        "AWSReservedSSO_DataEngineer_4f2a9c81d03b7e65",
        &[
            "alice@example.com",
            "dmitri@example.com",
            "esther@example.com",
            "farouk@example.com",
        ],
    ),
    (
        "AWSReservedSSO_ReadOnly_9b1c07e3a5d2f846",
        &["bob@example.com", "carol@example.com", "gwen@example.com"],
    ),
    (
        "backup-agent",
        &[
            "AWSBackup-111122223333",
            "backup-nightly-1764892800",
            "backup-hourly-1764921600",
        ],
    ),
    (
        "ml-training",
        &[
            "SageMaker",
            "training-job-resnet-0412",
            "training-job-bert-0413",
            "notebook-hana",
        ],
    ),
    (
        "web-uploader",
        &[
            "aws-sdk-js-1764926411223",
            "aws-sdk-js-1764926533870",
            "aws-sdk-js-1764927001412",
            "aws-sdk-js-1764927290008",
        ],
    ),
    (
        "log-shipper",
        &[
            "fluent-bit-ip-10-0-12-33",
            "fluent-bit-ip-10-0-14-201",
            "fluent-bit-ip-10-0-9-87",
        ],
    ),
    (
        "analytics-query",
        &[
            "AthenaQuery-5f0c3b2a",
            "AthenaQuery-8d1e4f7c",
            "botocore-session-1764902211",
            "botocore-session-1764913802",
        ],
    ),
];
/// IAM users (long-term access keys).
const USERS: [&str; 4] = ["alice", "build-bot", "legacy-sync", "partner-uploader"];

/// The buckets; the last four are in eu-west-1, the others in us-east-1.
const BUCKETS: [&str; 20] = [
    "acme-raw-events",
    "acme-curated-data",
    "acme-ml-datasets",
    "acme-ml-models",
    "acme-build-artifacts",
    "acme-web-uploads",
    "acme-app-logs",
    "acme-access-logs",
    "acme-backups",
    "acme-reports",
    "acme-finance-exports",
    "acme-partner-drop",
    "acme-athena-results",
    "acme-static-site",
    "acme-data-lake-landing",
    "acme-config-snapshots",
    "acme-eu-customer-data",
    "acme-eu-backups",
    "acme-eu-analytics",
    "acme-eu-logs",
];
const EU_BUCKETS: usize = 4;
const PREFIXES: [&str; 12] = [
    "incoming/",
    "raw/",
    "curated/",
    "exports/",
    "tmp/",
    "uploads/",
    "models/",
    "backups/",
    "logs/",
    "reports/",
    "shared/",
    "archive/",
];
/// Distinct (caller, bucket, prefix, code) refusals drawn; most appear at the default size.
const PROBLEMS: usize = 300;

const AGENT_CLI: &str = "[aws-cli/2.22.0 md/awscrt#0.23.4 ua/2.0 os/linux#6.1.115 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython md/command#s3.cp]";
const AGENT_BOTO3: &str = "[Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#5.10.227 md/arch#x86_64 lang/python#3.11.10 Botocore/1.35.0]";
const AGENT_CONSOLE: &str = "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.226 OpenJDK_64-Bit_Server_VM/25.432-b06 java/1.8.0_432]";
const AGENT_JAVA: &str = "[aws-sdk-java/2.29.0 Linux/6.1.0 OpenJDK_64-Bit_Server_VM/17.0.13+11-LTS Java/17.0.13 vendor/Amazon.com_Inc.]";

const TLS_13: &str = "TLS_AES_128_GCM_SHA256";
const TLS_12: &str = "ECDHE-RSA-AES128-GCM-SHA256";

/// One caller: an assumed-role session or an IAM user.
#[derive(Debug)]
struct Caller {
    /// The ARN named in error messages.
    arn: String,
    /// The `userIdentity` object.
    identity: String,
    agent: &'static str,
    /// Where its requests come from (the console's come from the Internet).
    private_ip: bool,
}

#[derive(Debug)]
struct Bucket {
    name: &'static str,
    region: usize,
    prefixes: Vec<&'static str>,
    kms_key: String,
}

/// Why a refused request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NoIdentityAllow,
    ResourceDeny,
    ScpDeny,
    IdentityDeny,
    KmsNoIdentityAllow,
    AclNotSupported,
    KmsDisabled,
}

impl Refusal {
    fn code(self) -> &'static str {
        match self {
            Refusal::AclNotSupported => "AccessControlListNotSupported",
            Refusal::KmsDisabled => "KMS.DisabledException",
            _ => "AccessDenied",
        }
    }

    /// Whether the refused requests ask for SSE-KMS.
    fn kms(self) -> bool {
        matches!(self, Refusal::KmsNoIdentityAllow | Refusal::KmsDisabled)
    }
}

/// A recurring refusal: one caller group denied on one bucket's prefix for one reason.
#[derive(Debug)]
struct Problem {
    group: usize,
    bucket: usize,
    prefix: &'static str,
    refusal: Refusal,
}

/// The fixed cast of the day: callers, buckets and recurring refusals.
#[derive(Debug)]
struct World {
    callers: Vec<Caller>,
    /// Caller indices of each group: the roles' sessions, then each user (`ROLES.len() + i`).
    groups: Vec<Vec<usize>>,
    buckets: Vec<Bucket>,
    /// Bucket indices of each region.
    region_buckets: [Vec<usize>; 2],
    problems: Vec<Problem>,
    /// Problem indices of each region (the region of the problem's bucket).
    region_problems: [Vec<usize>; 2],
}

/// What the generator wrote, by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub records: u64,
    pub succeeded: u64,
    pub management: u64,
    pub refused: u64,
    /// Refusals whose code is not `AccessDenied`.
    pub other_codes: u64,
    /// The distinct (caller, bucket, prefix, code) groups of the refusals.
    pub groups: u64,
}

/// The counts of a generation so far, with the problems seen.
#[derive(Debug, Default)]
struct Tally {
    counts: Counts,
    seen: BTreeSet<usize>,
}

fn upper_alnum(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    (0..len)
        .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len() as u64) as usize]))
        .collect()
}

fn base64ish(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..len)
        .map(|_| char::from(ALPHABET[rng.below(64) as usize]))
        .collect()
}

impl World {
    fn new(rng: &mut Rng) -> World {
        let mut callers = Vec::new();
        let mut groups = Vec::new();
        for (g, (role, sessions)) in ROLES.iter().enumerate() {
            let role_id = format!("AROA{}", upper_alnum(rng, 17));
            let sso = role.starts_with("AWSReservedSSO_");
            let path = if sso {
                "aws-reserved/sso.amazonaws.com/"
            } else {
                ""
            };
            let mut members = Vec::new();
            for (s, session) in sessions.iter().enumerate() {
                let arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}");
                let mfa = sso && s % 2 == 0;
                let identity = format!(
                    concat!(
                        r#"{{"type":"AssumedRole","principalId":"{id}:{session}","arn":"{arn}","#,
                        r#""accountId":"{account}","accessKeyId":"ASIA{key}","sessionContext":"#,
                        r#"{{"sessionIssuer":{{"type":"Role","principalId":"{id}","#,
                        r#""arn":"arn:aws:iam::{account}:role/{path}{role}","accountId":"{account}","#,
                        r#""userName":"{role}"}},"attributes":{{"creationDate":"2026-12-04T23:{m:02}:{s:02}Z","#,
                        r#""mfaAuthenticated":"{mfa}"}}}}}}"#
                    ),
                    id = role_id,
                    session = session,
                    arn = arn,
                    account = ACCOUNT,
                    key = upper_alnum(rng, 16),
                    path = path,
                    role = role,
                    m = rng.below(60),
                    s = rng.below(60),
                    mfa = mfa,
                );
                let agent = match (g, s % 2) {
                    (3 | 4, 0) => AGENT_CONSOLE,
                    (2..=4, _) => AGENT_CLI,
                    (1, _) => AGENT_JAVA,
                    _ => AGENT_BOTO3,
                };
                members.push(callers.len());
                callers.push(Caller {
                    arn,
                    identity,
                    agent,
                    private_ip: agent != AGENT_CONSOLE,
                });
            }
            groups.push(members);
        }
        for (u, user) in USERS.iter().enumerate() {
            let arn = format!("arn:aws:iam::{ACCOUNT}:user/{user}");
            let identity = format!(
                concat!(
                    r#"{{"type":"IAMUser","principalId":"AIDA{id}","arn":"{arn}","accountId":"{account}","#,
                    r#""accessKeyId":"AKIA{key}","userName":"{user}"}}"#
                ),
                id = upper_alnum(rng, 17),
                arn = arn,
                account = ACCOUNT,
                key = upper_alnum(rng, 16),
                user = user,
            );
            groups.push(vec![callers.len()]);
            callers.push(Caller {
                arn,
                identity,
                agent: if u == 0 { AGENT_CLI } else { AGENT_BOTO3 },
                private_ip: u != 3,
            });
        }

        let mut buckets = Vec::new();
        let mut region_buckets: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        for (b, name) in BUCKETS.iter().enumerate() {
            let region = usize::from(b >= BUCKETS.len() - EU_BUCKETS);
            let mut prefixes = Vec::new();
            let wanted = 3 + rng.below(2) as usize;
            while prefixes.len() < wanted {
                let p = *rng.pick(&PREFIXES);
                if !prefixes.contains(&p) {
                    prefixes.push(p);
                }
            }
            region_buckets[region].push(b);
            buckets.push(Bucket {
                name,
                region,
                prefixes,
                kms_key: format!(
                    "arn:aws:kms:{}:{ACCOUNT}:key/{}",
                    REGIONS[region],
                    rng.uuid()
                ),
            });
        }

        let mut problems = Vec::new();
        let mut region_problems: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        let mut keys = BTreeSet::new();
        while problems.len() < PROBLEMS {
            let group = rng.below(groups.len() as u64) as usize;
            let bucket = rng.below(buckets.len() as u64) as usize;
            let prefix = *rng.pick(&buckets[bucket].prefixes);
            let refusal = match rng.below(100) {
                0..50 => Refusal::NoIdentityAllow,
                50..75 => Refusal::ResourceDeny,
                75..82 => Refusal::ScpDeny,
                82..87 => Refusal::IdentityDeny,
                87..92 => Refusal::KmsNoIdentityAllow,
                92..96 => Refusal::AclNotSupported,
                _ => Refusal::KmsDisabled,
            };
            if keys.insert((group, bucket, prefix, refusal.code())) {
                region_problems[buckets[bucket].region].push(problems.len());
                problems.push(Problem {
                    group,
                    bucket,
                    prefix,
                    refusal,
                });
            }
        }
        World {
            callers,
            groups,
            buckets,
            region_buckets,
            problems,
            region_problems,
        }
    }

    /// Writes one log file's content (`{"Records":[...]}`) for `records` events of `region`
    /// in 5-minute window `window` into `out`.
    fn file(
        &self,
        rng: &mut Rng,
        window: u64,
        region: usize,
        records: u64,
        out: &mut Vec<u8>,
        tally: &mut Tally,
    ) -> io::Result<()> {
        out.extend_from_slice(b"{\"Records\":[");
        for i in 0..records {
            if i > 0 {
                out.push(b',');
            }
            let second = window * 300 + rng.below(300);
            let time = (second / 3600, second / 60 % 60, second % 60);
            match rng.below(100) {
                0..75 => {
                    self.success(rng, time, region, out)?;
                    tally.counts.succeeded += 1;
                }
                75..80 => {
                    self.management(rng, time, region, out)?;
                    tally.counts.management += 1;
                }
                _ => {
                    let list = &self.region_problems[region];
                    // Skewed: a few refusals recur often, most are rare.
                    let p = list[rng
                        .below(list.len() as u64)
                        .min(rng.below(list.len() as u64))
                        as usize];
                    self.refused(rng, time, p, out)?;
                    tally.counts.refused += 1;
                    if self.problems[p].refusal.code() != "AccessDenied" {
                        tally.counts.other_codes += 1;
                    }
                    tally.seen.insert(p);
                }
            }
            tally.counts.records += 1;
        }
        out.extend_from_slice(b"]}");
        Ok(())
    }

    fn success(
        &self,
        rng: &mut Rng,
        time: (u64, u64, u64),
        region: usize,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let caller = &self.callers[rng.below(self.callers.len() as u64) as usize];
        let bucket = &self.buckets[*rng.pick(&self.region_buckets[region])];
        let prefix = *rng.pick(&bucket.prefixes);
        let event = match rng.below(100) {
            0..38 => "GetObject",
            38..53 => "HeadObject",
            53..80 => "PutObject",
            80..85 => "ListObjects",
            85..89 => "DeleteObject",
            89..92 => "CopyObject",
            92..94 => "CreateMultipartUpload",
            94..98 => "UploadPart",
            _ => "CompleteMultipartUpload",
        };
        let call = S3Call {
            caller,
            bucket,
            event,
            key: key(rng, prefix),
            sse_kms: event.ends_with("Object") && rng.chance(30),
            acl: None,
            refusal: None,
            message: String::new(),
        };
        call.write(rng, time, out)
    }

    fn refused(
        &self,
        rng: &mut Rng,
        time: (u64, u64, u64),
        p: usize,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let problem = &self.problems[p];
        let caller = &self.callers[*rng.pick(&self.groups[problem.group])];
        let bucket = &self.buckets[problem.bucket];
        let event = match problem.refusal {
            Refusal::AclNotSupported if rng.chance(60) => "PutObjectAcl",
            Refusal::AclNotSupported => "PutObject",
            r if r.kms() && rng.chance(70) => "PutObject",
            r if r.kms() => "CreateMultipartUpload",
            _ => match rng.below(100) {
                0..55 => "PutObject",
                55..65 => "CreateMultipartUpload",
                65..77 => "UploadPart",
                77..82 => "CompleteMultipartUpload",
                82..92 => "CopyObject",
                _ => "PutObjectAcl",
            },
        };
        let key = key(rng, problem.prefix);
        let action = if event == "PutObjectAcl" {
            "s3:PutObjectAcl"
        } else {
            "s3:PutObject"
        };
        let who = &caller.arn;
        let resource = format!("arn:aws:s3:::{}/{key}", bucket.name);
        let message = match problem.refusal {
            Refusal::NoIdentityAllow => format!(
                r#"User: {who} is not authorized to perform: {action} on resource: \"{resource}\" because no identity-based policy allows the {action} action"#
            ),
            Refusal::ResourceDeny => format!(
                r#"User: {who} is not authorized to perform: {action} on resource: \"{resource}\" with an explicit deny in a resource-based policy"#
            ),
            Refusal::ScpDeny => format!(
                r#"User: {who} is not authorized to perform: {action} on resource: \"{resource}\" with an explicit deny in a service control policy"#
            ),
            Refusal::IdentityDeny => format!(
                r#"User: {who} is not authorized to perform: {action} on resource: \"{resource}\" with an explicit deny in an identity-based policy"#
            ),
            Refusal::KmsNoIdentityAllow => format!(
                "User: {who} is not authorized to perform: kms:GenerateDataKey on resource: {} because no identity-based policy allows the kms:GenerateDataKey action",
                bucket.kms_key
            ),
            Refusal::AclNotSupported => "The bucket does not allow ACLs".to_owned(),
            Refusal::KmsDisabled => format!("{} is disabled.", bucket.kms_key),
        };
        let call = S3Call {
            caller,
            bucket,
            event,
            key,
            sse_kms: problem.refusal.kms() || (event == "PutObject" && rng.chance(20)),
            acl: (problem.refusal == Refusal::AclNotSupported || event == "PutObjectAcl").then(
                || {
                    if rng.chance(70) {
                        "bucket-owner-full-control"
                    } else {
                        "public-read"
                    }
                },
            ),
            refusal: Some(problem.refusal),
            message,
        };
        call.write(rng, time, out)
    }

    /// A management event of another service: STS, KMS (on behalf of S3) or EC2.
    fn management(
        &self,
        rng: &mut Rng,
        time: (u64, u64, u64),
        region: usize,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let caller = &self.callers[rng.below(self.callers.len() as u64) as usize];
        let region_name = REGIONS[region];
        let (h, m, s) = time;
        let (y, mo, d) = DAY;
        let kind = rng.below(3);
        let (source, event, identity, ip, agent) = match kind {
            0 => (
                "sts",
                "AssumeRole",
                caller.identity.clone(),
                ip(rng, caller.private_ip),
                caller.agent,
            ),
            1 => (
                "kms",
                if rng.chance(50) {
                    "GenerateDataKey"
                } else {
                    "Decrypt"
                },
                // KMS calls S3 makes for the caller name the caller and S3.
                format!(
                    r#"{},"invokedBy":"s3.amazonaws.com"}}"#,
                    &caller.identity[..caller.identity.len() - 1]
                ),
                "s3.amazonaws.com".to_owned(),
                "s3.amazonaws.com",
            ),
            _ => (
                "ec2",
                "DescribeInstances",
                caller.identity.clone(),
                ip(rng, caller.private_ip),
                caller.agent,
            ),
        };
        write!(
            out,
            concat!(
                r#"{{"eventVersion":"1.08","userIdentity":{identity},"eventTime":"{y}-{mo}-{d}T{h:02}:{m:02}:{s:02}Z","#,
                r#""eventSource":"{source}.amazonaws.com","eventName":"{event}","awsRegion":"{region}","#,
                r#""sourceIPAddress":"{ip}","userAgent":"{agent}","#
            ),
            identity = identity,
            y = y,
            mo = mo,
            d = d,
            h = h,
            m = m,
            s = s,
            source = source,
            event = event,
            region = region_name,
            ip = ip,
            agent = agent,
        )?;
        match kind {
            0 => {
                let (role, sessions) = rng.pick(&ROLES);
                let session = rng.pick(sessions);
                write!(
                    out,
                    concat!(
                        r#""requestParameters":{{"roleArn":"arn:aws:iam::{a}:role/{role}","roleSessionName":"{session}","durationSeconds":3600}},"#,
                        r#""responseElements":{{"credentials":{{"accessKeyId":"ASIA{key}","sessionToken":"{token}","#,
                        r#""expiration":"Dec 5, 2026, {eh}:{m:02}:{s:02} {ampm}"}},"assumedRoleUser":{{"assumedRoleId":"AROA{rid}:{session}","#,
                        r#""arn":"arn:aws:sts::{a}:assumed-role/{role}/{session}"}}}},"#,
                        r#""requestID":"{request}","eventID":"{event_id}","readOnly":true,"#,
                        r#""resources":[{{"accountId":"{a}","type":"AWS::IAM::Role","ARN":"arn:aws:iam::{a}:role/{role}"}}],"#
                    ),
                    a = ACCOUNT,
                    role = role,
                    session = session,
                    key = upper_alnum(rng, 16),
                    token = base64ish(rng, 180),
                    eh = (h + 1) % 12 + 1,
                    m = m,
                    s = s,
                    ampm = if h < 11 || h == 23 { "AM" } else { "PM" },
                    rid = upper_alnum(rng, 17),
                    request = rng.uuid(),
                    event_id = rng.uuid(),
                )?;
            }
            1 => {
                let bucket = &self.buckets[*rng.pick(&self.region_buckets[region])];
                write!(
                    out,
                    concat!(
                        r#""requestParameters":{{"encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::{b}"}},"keyId":"{k}","#,
                        r#""encryptionAlgorithm":"SYMMETRIC_DEFAULT"}},"responseElements":null,"#,
                        r#""requestID":"{request}","eventID":"{event_id}","readOnly":true,"#,
                        r#""resources":[{{"accountId":"{a}","type":"AWS::KMS::Key","ARN":"{k}"}}],"#
                    ),
                    b = bucket.name,
                    k = bucket.kms_key,
                    a = ACCOUNT,
                    request = rng.uuid(),
                    event_id = rng.uuid(),
                )?;
            }
            _ => {
                write!(
                    out,
                    concat!(
                        r#""requestParameters":{{"instancesSet":{{}},"filterSet":{{"items":[{{"name":"tag:team","#,
                        r#""valueSet":{{"items":[{{"value":"data"}}]}}}},{{"name":"instance-state-name","#,
                        r#""valueSet":{{"items":[{{"value":"running"}}]}}}}]}},"maxResults":1000}},"responseElements":null,"#,
                        r#""requestID":"{request}","eventID":"{event_id}","readOnly":true,"#
                    ),
                    request = rng.uuid(),
                    event_id = rng.uuid(),
                )?;
            }
        }
        write!(
            out,
            concat!(
                r#""eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{a}","eventCategory":"Management""#,
            ),
            a = ACCOUNT
        )?;
        if kind != 1 {
            write!(
                out,
                r#","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"{TLS_13}","clientProvidedHostHeader":"{source}.{region_name}.amazonaws.com"}}"#,
            )?;
        }
        out.push(b'}');
        Ok(())
    }
}

/// An object key under `prefix`, partitioned by date as pipelines write them.
fn key(rng: &mut Rng, prefix: &str) -> String {
    const NAMES: [&str; 6] = ["events", "part", "batch", "export", "snapshot", "upload"];
    const EXTS: [&str; 5] = ["json.gz", "parquet", "csv", "avro", "tar.zst"];
    format!(
        "{prefix}2026/12/{:02}/{}-{:05}.{}",
        1 + rng.below(5),
        rng.pick(&NAMES),
        rng.below(100_000),
        rng.pick(&EXTS)
    )
}

fn ip(rng: &mut Rng, private: bool) -> String {
    if private {
        format!(
            "10.{}.{}.{}",
            rng.below(32),
            rng.below(256),
            1 + rng.below(254)
        )
    } else {
        format!("198.51.100.{}", 1 + rng.below(254))
    }
}

/// One S3 data event to write.
#[derive(Debug)]
struct S3Call<'a> {
    caller: &'a Caller,
    bucket: &'a Bucket,
    event: &'static str,
    key: String,
    sse_kms: bool,
    acl: Option<&'static str>,
    refusal: Option<Refusal>,
    /// The error message (empty when the call succeeded).
    message: String,
}

impl S3Call<'_> {
    fn write(&self, rng: &mut Rng, time: (u64, u64, u64), out: &mut Vec<u8>) -> io::Result<()> {
        let (y, mo, d) = DAY;
        let (h, m, s) = time;
        let region = REGIONS[self.bucket.region];
        let b = self.bucket.name;
        let key = &self.key;
        let event = self.event;
        let ip = ip(rng, self.caller.private_ip);
        write!(
            out,
            concat!(
                r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"{y}-{mo}-{d}T{h:02}:{m:02}:{s:02}Z","#,
                r#""eventSource":"s3.amazonaws.com","eventName":"{event}","awsRegion":"{region}","#,
                r#""sourceIPAddress":"{ip}","userAgent":"{agent}","#
            ),
            identity = self.caller.identity,
            y = y,
            mo = mo,
            d = d,
            h = h,
            m = m,
            s = s,
            event = event,
            region = region,
            ip = ip,
            agent = self.caller.agent,
        )?;
        if let Some(r) = self.refusal {
            write!(
                out,
                r#""errorCode":"{}","errorMessage":"{}","#,
                r.code(),
                self.message
            )?;
        }
        write!(
            out,
            r#""requestParameters":{{"bucketName":"{b}","Host":"{b}.s3.{region}.amazonaws.com""#
        )?;
        let read_only = matches!(event, "GetObject" | "HeadObject" | "ListObjects");
        match event {
            "ListObjects" => {
                let prefix = key.split('/').next().unwrap_or("");
                write!(
                    out,
                    r#","list-type":"2","prefix":"{prefix}/","delimiter":"/","encoding-type":"url""#
                )?;
            }
            "UploadPart" | "CompleteMultipartUpload" => {
                let id = base64ish(rng, 64);
                write!(out, r#","key":"{key}","uploadId":"{id}""#)?;
                if event == "UploadPart" {
                    write!(out, r#","partNumber":"{}""#, 1 + rng.below(40))?;
                }
            }
            _ => write!(out, r#","key":"{key}""#)?,
        }
        if event == "CopyObject" {
            write!(
                out,
                r#","x-amz-copy-source":"{b}/{}","x-amz-metadata-directive":"COPY""#,
                key.replacen('/', "/staging/", 1)
            )?;
        }
        if self.sse_kms {
            write!(
                out,
                r#","x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"{}""#,
                self.bucket.kms_key
            )?;
        }
        if let Some(acl) = self.acl {
            write!(out, r#","x-amz-acl":"{acl}""#)?;
        }
        out.extend_from_slice(b"},\"responseElements\":");
        let succeeded = self.refusal.is_none();
        match event {
            _ if !succeeded || read_only => out.extend_from_slice(b"null"),
            "CreateMultipartUpload" => {
                write!(out, r#"{{"uploadId":"{}"}}"#, base64ish(rng, 64))?;
            }
            "DeleteObject" => out.extend_from_slice(b"null"),
            _ if self.sse_kms => write!(
                out,
                r#"{{"x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"{}","x-amz-server-side-encryption-bucket-key-enabled":"true"}}"#,
                self.bucket.kms_key
            )?,
            _ => out.extend_from_slice(br#"{"x-amz-server-side-encryption":"AES256"}"#),
        }
        let (tls, suite) = if rng.chance(80) {
            ("TLSv1.3", TLS_13)
        } else {
            ("TLSv1.2", TLS_12)
        };
        let writes = matches!(event, "PutObject" | "UploadPart");
        let bytes_in = if writes && succeeded {
            rng.below(64 << 20)
        } else {
            0
        };
        let bytes_out = if event == "GetObject" {
            rng.below(16 << 20)
        } else {
            0
        };
        write!(
            out,
            concat!(
                r#","additionalEventData":{{"SignatureVersion":"SigV4","CipherSuite":"{suite}","bytesTransferredIn":{bytes_in},"#,
                r#""AuthenticationMethod":"AuthHeader","x-amz-id-2":"{id2}","bytesTransferredOut":{bytes_out}}},"#,
                r#""requestID":"{request}","eventID":"{event_id}","readOnly":{read_only},"resources":["#
            ),
            suite = suite,
            bytes_in = bytes_in,
            id2 = base64ish(rng, 76),
            bytes_out = bytes_out,
            request = rng.hex(16).to_uppercase(),
            event_id = rng.uuid(),
            read_only = read_only,
        )?;
        if event != "ListObjects" {
            write!(
                out,
                r#"{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{b}/{key}"}},"#
            )?;
        }
        write!(
            out,
            r#"{{"accountId":"{ACCOUNT}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{b}"}}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"{ACCOUNT}","#
        )?;
        write!(
            out,
            r#""eventCategory":"Data","tlsDetails":{{"tlsVersion":"{tls}","cipherSuite":"{suite}","clientProvidedHostHeader":"{b}.s3.{region}.amazonaws.com"}}}}"#
        )?;
        Ok(())
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub counts: Counts,
    pub files: u64,
    /// The files' size on disk.
    pub bytes: u64,
    /// The files' size uncompressed (the same as `bytes` without `--gzip`).
    pub raw_bytes: u64,
}

/// The path of a log file under the tree's root, as CloudTrail names it: the account, the
/// Region, the end of the 5-minute window and a random part.
fn log_path(dir: &Path, region: &str, window: u64, random: &str, gzip: bool) -> PathBuf {
    let (y, m, d) = DAY;
    let minutes = (window + 1) * 5;
    let ext = if gzip { "json.gz" } else { "json" };
    dir.join(format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{region}/{y}/{m}/{d}/{ACCOUNT}_CloudTrail_{region}_{y}{m}{d}T{:02}{:02}Z_{random}.{ext}",
        minutes / 60,
        minutes % 60
    ))
}

/// Generates the log files of `records` events, in order, calling `sink` with each file's
/// path (under `dir`) and content. Every fifth file is of eu-west-1, the others of us-east-1;
/// file `f` of `n` covers window `f * 287 / n`, so the files spread over the day.
fn generate_with(
    dir: &Path,
    records: u64,
    gzip: bool,
    mut sink: impl FnMut(&Path, &[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<Counts> {
    let mut rng = Rng::new(SEED);
    let world = World::new(&mut rng);
    let files = records.div_ceil(RECORDS_PER_FILE);
    let mut tally = Tally::default();
    let mut buf = Vec::with_capacity(2 << 20);
    for f in 0..files {
        let n = RECORDS_PER_FILE.min(records - f * RECORDS_PER_FILE);
        let window = f * WINDOWS / files;
        let region = usize::from(f % 5 == 4);
        buf.clear();
        world
            .file(&mut rng, window, region, n, &mut buf, &mut tally)
            .context("formatting a record")?;
        let random = base64ish(&mut rng, 16).replace(['+', '/'], "x");
        sink(&log_path(dir, REGIONS[region], window, &random, gzip), &buf)?;
    }
    tally.counts.groups = tally.seen.len() as u64;
    Ok(tally.counts)
}

/// Writes the log files of `records` events under `dir`, gzipped with `gzip`.
pub fn generate(dir: &Path, records: u64, gzip: bool) -> anyhow::Result<Generated> {
    let mut files = 0;
    let mut bytes = 0;
    let mut raw_bytes = 0;
    let counts = generate_with(dir, records, gzip, |path, content| {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        let file =
            File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        if gzip {
            // Level 1: the default level takes minutes in the unoptimised build of xtask, and
            // the reader's cost hardly depends on it.
            let mut gz = GzEncoder::new(&mut w, Compression::fast());
            gz.write_all(content).and_then(|()| gz.try_finish())
        } else {
            w.write_all(content)
        }
        .and_then(|()| w.flush())
        .with_context(|| format!("writing `{}`", path.display()))?;
        files += 1;
        raw_bytes += content.len() as u64;
        bytes += fs::metadata(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?
            .len();
        Ok(())
    })?;
    Ok(Generated {
        counts,
        files,
        bytes,
        raw_bytes,
    })
}

/// The number of files under `dir` and their total size.
fn tree_size(dir: &Path) -> io::Result<(u64, u64)> {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                files += 1;
                bytes += entry.metadata()?.len();
            }
        }
    }
    Ok((files, bytes))
}

/// Options of `cargo xtask bench-triage`.
#[derive(Debug, Clone)]
pub struct Options {
    pub records: u64,
    pub gzip: bool,
    pub keep: bool,
    pub runs: usize,
    /// Exit 1 when a target is missed.
    pub strict: bool,
}

pub fn run(opts: &Options) -> anyhow::Result<ExitCode> {
    let root = util::workspace_root()?;
    let bench = util::target_dir(&root).join("bench");
    let data = bench.join("triage");
    let meta = bench.join("triage.meta");
    let out_dir = bench.join("triage-out");
    fs::create_dir_all(&bench).with_context(|| format!("cannot create `{}`", bench.display()))?;

    let g = prepare(&data, &meta, opts.records, opts.gzip)?;
    let exe = util::build_why403(&root, util::Profile::Release)?;
    require_triage(&exe)?;
    util::warm_page_cache(&data)?;

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let compilers = util::busy_compilers();
    let load = util::load_average();
    if compilers > 0 {
        eprintln!(
            "xtask: warning: {compilers} compiler process(es) running; the timings will be noisy"
        );
    }
    fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create `{}`", out_dir.display()))?;
    let mut runs = Vec::with_capacity(opts.runs);
    for run in 1..=opts.runs {
        let out = out_dir.join(format!("run-{run}.jsonl"));
        let r = measure(&exe, &data, &out)?;
        eprintln!(
            "xtask: run {run}/{}: {:.3} s, {:.0} records/s, peak {:.1} MB",
            opts.runs, r.wall, r.stats.records_per_s, r.stats.peak_mb
        );
        runs.push(r);
    }
    let compilers_after = util::busy_compilers();

    let c = &g.counts;
    let pct = |n: u64| 100.0 * n as f64 / c.records.max(1) as f64;
    println!();
    println!("why403 triage throughput");
    println!(
        "  input      {}  ({} files of at most {RECORDS_PER_FILE} records{})",
        data.display(),
        g.files,
        if opts.gzip { ", gzipped" } else { "" }
    );
    println!(
        "  size       {:.1} MB on disk, {:.1} MB uncompressed, average record {} bytes",
        g.bytes as f64 / 1e6,
        g.raw_bytes as f64 / 1e6,
        g.raw_bytes / c.records.max(1)
    );
    println!(
        "  generated  {} records: {:.1}% S3 data events that succeeded, {:.1}% management events, \
         {:.1}% refused ({} refusals, {} not AccessDenied, in {} (caller, bucket, prefix, code) groups)",
        c.records,
        pct(c.succeeded),
        pct(c.management),
        pct(c.refused),
        c.refused,
        c.other_codes,
        c.groups
    );
    println!(
        "  machine    {cores} cores, load average {} before; compiler processes {compilers} before, \
         {compilers_after} after",
        load.map_or_else(|| "?".to_owned(), |l| format!("{l:.2}")),
    );
    if let Some(last) = runs.last() {
        println!("  --stats    {}", last.line);
        println!("  output     {}", last.out.display());
        if last.stats.records != c.records {
            println!(
                "  warning    triage read {} records, {} were generated",
                last.stats.records, c.records
            );
        }
    }
    println!();
    println!("  {:<12} {:>10} {:>10} {:>10}", "", "min", "median", "max");
    let column = |value: fn(&Run) -> f64| Summary::of(runs.iter().map(value).collect());
    let rows = [
        ("wall (s)", column(|r| r.wall), 3),
        ("records/s", column(|r| r.stats.records_per_s), 0),
        ("MB/s", column(|r| r.stats.mb_per_s), 1),
        ("peak MB", column(|r| r.stats.peak_mb), 1),
    ];
    let mut summaries = Vec::new();
    for (label, s, digits) in rows {
        println!(
            "  {label:<12} {:>10.digits$} {:>10.digits$} {:>10.digits$}",
            s.min, s.median, s.max
        );
        summaries.push(s);
    }

    let seen: Vec<f64> = runs.iter().filter_map(|r| r.seen_peak_mb).collect();
    if !seen.is_empty() {
        let s = Summary::of(seen);
        println!(
            "  {:<12} {:>10.1} {:>10.1} {:>10.1}  (VmHWM seen by xtask, to check the line's)",
            "peak MB seen", s.min, s.median, s.max
        );
    }

    let target_secs = TARGET_SECS_PER_MILLION * c.records as f64 / 1e6;
    let wall = summaries[0].median;
    let peak = summaries[3].max;
    let time_ok = wall < target_secs;
    let memory_ok = peak < TARGET_PEAK_MB;
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!();
    println!(
        "  target     wall time under {target_secs:.1} s for {} records ({TARGET_SECS_PER_MILLION:.0} s per million; median {wall:.3} s): {}",
        c.records,
        verdict(time_ok)
    );
    println!(
        "  target     peak memory under {TARGET_PEAK_MB:.0} MB (highest {peak:.1} MB): {}",
        verdict(memory_ok)
    );

    if !opts.keep {
        fs::remove_dir_all(&data).with_context(|| format!("cannot remove `{}`", data.display()))?;
        // The metadata and the outputs are meaningless without the input; missing is fine.
        let _ = fs::remove_file(&meta);
        let _ = fs::remove_dir_all(&out_dir);
        println!("  (removed the input and the outputs; pass --keep to reuse them next time)");
    }
    if opts.strict && !(time_ok && memory_ok) {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Generates the tree unless one of the same size and mode is already there.
fn prepare(data: &Path, meta: &Path, records: u64, gzip: bool) -> anyhow::Result<Generated> {
    if let Some(g) = reusable(data, meta, records, gzip) {
        eprintln!(
            "xtask: reusing {} ({records} records{})",
            data.display(),
            if gzip { ", gzipped" } else { "" }
        );
        return Ok(g);
    }
    eprintln!(
        "xtask: generating {records} CloudTrail records into {}{}",
        data.display(),
        if gzip { " (gzipped)" } else { "" }
    );
    let started = Instant::now();
    let _ = fs::remove_file(meta);
    let tmp = data.with_extension("tmp");
    for d in [&tmp, &data.to_path_buf()] {
        if d.exists() {
            fs::remove_dir_all(d).with_context(|| format!("cannot remove `{}`", d.display()))?;
        }
    }
    let g = generate(&tmp, records, gzip)?;
    fs::rename(&tmp, data).with_context(|| format!("cannot rename `{}`", tmp.display()))?;
    let c = &g.counts;
    fs::write(
        meta,
        format!(
            "format={FORMAT_VERSION} records={} gzip={} files={} bytes={} raw_bytes={} succeeded={} management={} refused={} other_codes={} groups={}\n",
            c.records,
            u8::from(gzip),
            g.files,
            g.bytes,
            g.raw_bytes,
            c.succeeded,
            c.management,
            c.refused,
            c.other_codes,
            c.groups
        ),
    )
    .with_context(|| format!("cannot write `{}`", meta.display()))?;
    eprintln!(
        "xtask: generated {} files, {:.1} MB on disk, in {:.1} s",
        g.files,
        g.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(g)
}

/// The existing tree, if its metadata matches the request and the files on disk.
fn reusable(data: &Path, meta: &Path, records: u64, gzip: bool) -> Option<Generated> {
    let text = fs::read_to_string(meta).ok()?;
    let field = |name: &str| -> Option<u64> {
        text.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
            .parse()
            .ok()
    };
    let g = Generated {
        counts: Counts {
            records: field("records")?,
            succeeded: field("succeeded")?,
            management: field("management")?,
            refused: field("refused")?,
            other_codes: field("other_codes")?,
            groups: field("groups")?,
        },
        files: field("files")?,
        bytes: field("bytes")?,
        raw_bytes: field("raw_bytes")?,
    };
    let same = field("format")? == u64::from(FORMAT_VERSION)
        && g.counts.records == records
        && field("gzip")? == u64::from(gzip)
        && tree_size(data).ok()? == (g.files, g.bytes);
    same.then_some(g)
}

/// Fails clearly when this build of why403 has no `triage` subcommand.
fn require_triage(exe: &Path) -> anyhow::Result<()> {
    let out = Command::new(exe)
        .args(["triage", "--help"])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{}`", exe.display()))?;
    if !out.status.success() {
        bail!(
            "`{} triage --help` failed ({}): this why403 has no `triage` subcommand yet (issue 15); \
             its standard error was:\n{}",
            exe.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(())
}

/// One timed run.
#[derive(Debug)]
struct Run {
    /// Wall time measured here (s), process start to exit.
    wall: f64,
    stats: TriageStats,
    /// The process's peak resident memory (MB) as last seen here in `/proc` (`VmHWM`, read
    /// every few milliseconds), to check the statistics line's; `None` where `/proc` is not.
    seen_peak_mb: Option<f64>,
    /// The statistics line as printed.
    line: String,
    out: PathBuf,
}

/// Times `why403 triage DIR --format jsonl --stats > OUT 2> OUT.stderr` and reads its
/// statistics line.
fn measure(exe: &Path, data: &Path, out: &Path) -> anyhow::Result<Run> {
    let stdout = File::create(out).with_context(|| format!("cannot create `{}`", out.display()))?;
    // Standard error goes to a file, not a pipe: nothing reads it while the child runs.
    let err_path = out.with_extension("stderr");
    let stderr_file = File::create(&err_path)
        .with_context(|| format!("cannot create `{}`", err_path.display()))?;
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg("triage")
        .arg(data)
        .args(["--format", "jsonl", "--stats"])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr_file)
        .spawn()
        .with_context(|| format!("cannot run `{}`", exe.display()))?;
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut seen_peak_kb = None;
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for why403")? {
            break status;
        }
        if let Some(kb) = fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| util::vm_hwm_kb(&s))
        {
            seen_peak_kb = Some(kb);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed().as_secs_f64();
    let stderr = fs::read_to_string(&err_path)
        .with_context(|| format!("cannot read `{}`", err_path.display()))?;
    // 0: nothing left; 2: refusals remain (the generated day has them). Anything else (1, an
    // error; 4 or 6, skipped input) is a failure of the run.
    if !matches!(status.code(), Some(0 | 2)) {
        bail!(
            "`why403 triage {} --format jsonl --stats` failed ({status}); its standard error was:\n{}",
            data.display(),
            stderr.trim_end()
        );
    }
    let line = stats_line(&stderr).with_context(|| {
        format!(
            "`why403 triage --stats` printed no statistics line; its standard error was:\n{}",
            stderr.trim_end()
        )
    })?;
    let stats = parse_stats(line).with_context(|| {
        format!(
            "cannot read the statistics line of `why403 triage --stats`; its standard error was:\n{}",
            stderr.trim_end()
        )
    })?;
    Ok(Run {
        wall,
        stats,
        seen_peak_mb: seen_peak_kb.map(|kb| kb as f64 / 1024.0),
        line: line.to_owned(),
        out: out.to_path_buf(),
    })
}

/// What `why403 triage --stats` reports on standard error:
/// `triage: read {records} records ({bytes} bytes) in {secs} s: {records_per_s} records/s,
/// {mb_per_s} MB/s; {selected} selected in {groups} groups; {skipped} skipped; peak memory
/// {peak_mb} MB`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TriageStats {
    records: u64,
    bytes: u64,
    secs: f64,
    records_per_s: f64,
    mb_per_s: f64,
    selected: u64,
    groups: u64,
    skipped: u64,
    peak_mb: f64,
}

/// The last line of `stderr` that looks like the statistics line.
fn stats_line(stderr: &str) -> Option<&str> {
    stderr
        .lines()
        .map(str::trim)
        .rfind(|l| l.starts_with("triage:") && l.contains("records"))
}

/// Reads the statistics line by its keywords: each number is named by the word after it
/// (`records`, `bytes`, `s`, `records/s`, `MB/s`, `selected`, `groups`, `skipped`, and `MB`
/// after `peak memory`), so spacing, punctuation and thousands separators do not matter.
fn parse_stats(line: &str) -> anyhow::Result<TriageStats> {
    const NAMES: [&str; 9] = [
        "records",
        "bytes",
        "seconds",
        "records/s",
        "MB/s",
        "selected",
        "groups",
        "skipped",
        "peak memory",
    ];
    let tokens: Vec<&str> = line
        .split_whitespace()
        .map(|t| t.trim_matches(|c| matches!(c, '(' | ')' | ',' | ';' | ':')))
        .filter(|t| !t.is_empty())
        .collect();
    let mut found: [Option<&str>; 9] = [None; 9];
    for i in 0..tokens.len().saturating_sub(1) {
        let (number, word) = (tokens[i], tokens[i + 1]);
        if !number.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let before = i.checked_sub(1).map(|j| tokens[j]);
        let slot = match (before, word) {
            (Some("read"), "records") => 0,
            (_, "bytes") => 1,
            (_, "s" | "sec" | "secs" | "seconds") => 2,
            (_, "records/s") => 3,
            (_, "MB/s") => 4,
            (_, "selected") => 5,
            (_, "groups") => 6,
            (_, "skipped") => 7,
            (Some("memory"), "MB") => 8,
            _ => continue,
        };
        found[slot].get_or_insert(number);
    }
    let missing: Vec<&str> = NAMES
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        bail!("no {} in `{line}`", missing.join(", "));
    }
    let text = |slot: usize| found[slot].unwrap_or_default().replace([',', '_'], "");
    let count = |slot: usize| -> anyhow::Result<u64> {
        text(slot)
            .parse()
            .with_context(|| format!("{} `{}` is not a count", NAMES[slot], text(slot)))
    };
    let real = |slot: usize| -> anyhow::Result<f64> {
        text(slot)
            .parse()
            .with_context(|| format!("{} `{}` is not a number", NAMES[slot], text(slot)))
    };
    Ok(TriageStats {
        records: count(0)?,
        bytes: count(1)?,
        secs: real(2)?,
        records_per_s: real(3)?,
        mb_per_s: real(4)?,
        selected: count(5)?,
        groups: count(6)?,
        skipped: count(7)?,
        peak_mb: real(8)?,
    })
}

/// Minimum, median and maximum of some runs.
#[derive(Debug, Clone, Copy)]
struct Summary {
    min: f64,
    median: f64,
    max: f64,
}

impl Summary {
    fn of(mut v: Vec<f64>) -> Summary {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => v[n / 2],
            _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Summary {
            min: v.first().copied().unwrap_or(f64::NAN),
            median,
            max: v.last().copied().unwrap_or(f64::NAN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "triage: read 1000000 records (1523456789 bytes) in 9.87 s: 101317 records/s, 154.3 MB/s; 200123 selected in 287 groups; 51234 skipped; peak memory 212.5 MB";

    #[test]
    fn stats_line_is_read_by_keywords() {
        let s = parse_stats(LINE).expect("the documented line");
        assert_eq!(
            s,
            TriageStats {
                records: 1_000_000,
                bytes: 1_523_456_789,
                secs: 9.87,
                records_per_s: 101_317.0,
                mb_per_s: 154.3,
                selected: 200_123,
                groups: 287,
                skipped: 51_234,
                peak_mb: 212.5,
            }
        );
        // Thousands separators and other spacing read the same.
        let spaced = "triage:  read 1,000,000 records (1,523,456,789 bytes) in 9.87 s:\t101,317 records/s, 154.3 MB/s; 200,123 selected in 287 groups; 51,234 skipped; peak memory 212.5 MB";
        assert_eq!(parse_stats(spaced).expect("spaced"), s);
        // The line is found among other diagnostics, the last one wins.
        let stderr = format!(
            "warning: something\n{}\n  {LINE}\n",
            LINE.replace("287", "1")
        );
        assert_eq!(stats_line(&stderr), Some(LINE));
        assert_eq!(
            stats_line("error: unrecognized subcommand 'triage'\n"),
            None
        );
    }

    #[test]
    fn stats_line_names_what_is_missing_or_malformed() {
        let e = parse_stats("triage: read 10 records in 1 s").expect_err("incomplete");
        let msg = e.to_string();
        for name in [
            "bytes",
            "records/s",
            "MB/s",
            "selected",
            "groups",
            "skipped",
            "peak memory",
        ] {
            assert!(msg.contains(name), "{msg}");
        }
        assert!(!msg.contains("no records,"), "{msg}");
        let e = parse_stats(&LINE.replace("(1523456789 bytes)", "(1.5e9x bytes)"))
            .expect_err("not a count");
        assert!(e.to_string().contains("bytes"), "{e}");
    }

    #[test]
    fn peak_is_read_from_proc_status() {
        let status =
            "Name:\twhy403\nVmPeak:\t  912344 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(util::vm_hwm_kb(status), Some(204_800));
        assert_eq!(util::vm_hwm_kb("Name:\tzombie\n"), None);
    }

    /// The harness against stand-ins for why403: one with `triage`, one without.
    #[cfg(unix)]
    #[test]
    fn harness_runs_triage_and_fails_clearly_without_it() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("xtask-triage-fake-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let script = |name: &str, body: &str| {
            let path = dir.join(name);
            fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
            path
        };
        let with = script(
            "with",
            &format!("echo '{{\"group\":1}}'; echo 'warning: noise' >&2; echo '{LINE}' >&2"),
        );
        let without = script(
            "without",
            // why403 exits 1 on a usage error (clap's own 2 means "denied" there).
            "echo \"error: unrecognized subcommand '$1'\" >&2; exit 1",
        );
        let garbled = script("garbled", "echo 'triage: read many records' >&2");

        require_triage(&with).expect("has triage");
        let e = require_triage(&without).expect_err("no triage");
        assert!(format!("{e:#}").contains("no `triage` subcommand"), "{e:#}");
        assert!(
            format!("{e:#}").contains("unrecognized subcommand 'triage'"),
            "{e:#}"
        );

        let out = dir.join("run-1.jsonl");
        let run = measure(&with, &dir, &out).expect("measured");
        assert_eq!(run.stats, parse_stats(LINE).expect("line"));
        assert_eq!(run.line, LINE);
        assert_eq!(fs::read_to_string(&out).expect("stdout"), "{\"group\":1}\n");
        assert!(run.wall > 0.0);
        let e = measure(&garbled, &dir, &out).expect_err("garbled");
        let msg = format!("{e:#}");
        assert!(
            msg.contains("standard error was:\ntriage: read many records"),
            "{msg}"
        );
        let e = measure(&without, &dir, &out).expect_err("failed");
        assert!(format!("{e:#}").contains("exit status: 1"), "{e:#}");
        fs::remove_dir_all(&dir).expect("clean up");
    }

    /// Generates `records` in memory: the files' paths and contents.
    fn in_memory(records: u64) -> (Vec<(PathBuf, Vec<u8>)>, Counts) {
        let mut files = Vec::new();
        let counts = generate_with(Path::new("root"), records, false, |p, c| {
            files.push((p.to_path_buf(), c.to_vec()));
            Ok(())
        })
        .expect("generation");
        (files, counts)
    }

    #[test]
    fn generator_is_deterministic_realistic_and_mixed() {
        let records = 5_000;
        let (files, counts) = in_memory(records);
        assert_eq!(in_memory(records).0, files, "same seed, same files");
        assert_eq!(files.len(), 5);

        let mut seen = Counts::default();
        let mut bytes = 0;
        let mut groups = BTreeSet::new();
        for (path, content) in &files {
            let name = path.to_string_lossy();
            assert!(
                name.starts_with(&format!("root/AWSLogs/{ACCOUNT}/CloudTrail/"))
                    && name.contains("/2026/12/05/111122223333_CloudTrail_")
                    && name.ends_with(".json"),
                "{name}"
            );
            bytes += content.len();
            let v: serde_json::Value = serde_json::from_slice(content).expect("a file is JSON");
            let list = v["Records"].as_array().expect("Records");
            assert!(list.len() as u64 <= RECORDS_PER_FILE);
            for r in list {
                seen.records += 1;
                assert!(
                    r["eventTime"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("2026-12-05T"))
                );
                assert!(r["eventID"].as_str().is_some_and(|t| t.len() == 36));
                if r["eventSource"] != "s3.amazonaws.com" {
                    assert_eq!(r["managementEvent"], true, "{r}");
                    seen.management += 1;
                    continue;
                }
                assert_eq!(r["eventVersion"], "1.09");
                assert_eq!(r["eventCategory"], "Data");
                assert_eq!(r["managementEvent"], false);
                let bucket = r["requestParameters"]["bucketName"]
                    .as_str()
                    .expect("bucket");
                let who = &r["userIdentity"];
                match who["type"].as_str() {
                    Some("AssumedRole") => {
                        assert!(who["sessionContext"]["attributes"]["mfaAuthenticated"].is_string())
                    }
                    Some("IAMUser") => assert!(who["userName"].is_string()),
                    other => panic!("userIdentity type {other:?}"),
                }
                let Some(code) = r["errorCode"].as_str() else {
                    seen.succeeded += 1;
                    continue;
                };
                seen.refused += 1;
                let message = r["errorMessage"].as_str().expect("errorMessage");
                if code == "AccessDenied" {
                    assert!(message.starts_with("User: arn:aws:"), "{message}");
                    assert!(message.contains(who["arn"].as_str().expect("arn")));
                } else {
                    seen.other_codes += 1;
                }
                let key = r["requestParameters"]["key"].as_str().expect("key");
                let caller = who["sessionContext"]["sessionIssuer"]["userName"]
                    .as_str()
                    .or(who["userName"].as_str())
                    .expect("caller");
                let prefix = key.split('/').next().expect("prefix").to_owned();
                groups.insert((
                    caller.to_owned(),
                    bucket.to_owned(),
                    prefix,
                    code.to_owned(),
                ));
            }
        }
        assert_eq!(seen.records, records);
        assert_eq!(
            (
                seen.succeeded,
                seen.management,
                seen.refused,
                seen.other_codes
            ),
            (
                counts.succeeded,
                counts.management,
                counts.refused,
                counts.other_codes
            )
        );
        assert_eq!(groups.len() as u64, counts.groups);
        let share = |n: u64| n * 100 / records;
        assert!((72..=78).contains(&share(seen.succeeded)), "{seen:?}");
        assert!((3..=7).contains(&share(seen.management)), "{seen:?}");
        assert!((17..=23).contains(&share(seen.refused)), "{seen:?}");
        assert!(seen.other_codes > 0 && seen.other_codes * 5 < seen.refused);
        assert!(
            (100..=PROBLEMS).contains(&groups.len()),
            "{} groups",
            groups.len()
        );
        let average = bytes as u64 / records;
        assert!(
            (1_700..=2_100).contains(&average),
            "{average} bytes a record"
        );
    }

    #[test]
    fn reuse_needs_matching_metadata_and_tree() {
        let dir = std::env::temp_dir().join(format!("xtask-triage-test-{}", std::process::id()));
        let data = dir.join("triage");
        let meta = dir.join("triage.meta");
        let _ = fs::remove_dir_all(&dir);
        let g = generate(&data, 1_500, true).expect("generate");
        assert_eq!(g.files, 2);
        assert!(g.bytes < g.raw_bytes / 3, "{g:?}");
        let c = &g.counts;
        fs::write(
            &meta,
            format!(
                "format={FORMAT_VERSION} records=1500 gzip=1 files=2 bytes={} raw_bytes={} succeeded={} management={} refused={} other_codes={} groups={}\n",
                g.bytes,
                g.raw_bytes,
                c.succeeded,
                c.management,
                c.refused,
                c.other_codes,
                c.groups
            ),
        )
        .expect("write meta");
        assert_eq!(reusable(&data, &meta, 1_500, true), Some(g));
        assert!(reusable(&data, &meta, 1_500, false).is_none());
        assert!(reusable(&data, &meta, 1_501, true).is_none());
        fs::remove_dir_all(&data).expect("remove tree");
        assert!(reusable(&data, &meta, 1_500, true).is_none());
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
