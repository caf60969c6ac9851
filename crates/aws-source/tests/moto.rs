//! The live source against a moto server (a local AWS emulator that `.ci/run` installs and
//! starts; `MOTO_ENDPOINT` names it), worlds built by `tests/moto/world.py`:
//!
//! - each of the five documented causes (and an allowed upload) is read and diagnosed with
//!   the right cause, in at most 4 rounds of calls, and its captured scenario (plain and
//!   redacted) diagnoses to the same verdict and findings;
//! - with moto's enforcement on (a private server), the verdict for identity-policy cases
//!   agrees with moto's answer to the real PutObject, and unknown keys or bad signatures are
//!   refused by both;
//! - a reader that may read S3 but not IAM, KMS or Organizations gets an indeterminate or
//!   partially confirmed diagnosis that names the permissions it lacks;
//! - many uploads collected through one session read the bucket once, with the evidence a
//!   collection of its own reads, and a bucket that does not exist fails only its collection.
//!
//! Skipped, with a notice, when `MOTO_ENDPOINT` is not set.

#[path = "../../../tests/moto/support.rs"]
mod support;

use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use serde_json::Value;
use support::{endpoint, same_modulo_redaction, say, seed, tag, text};
use why403_aws_source::{Clients, CollectError, Collected, Session, collect_with};
use why403_core::analysis::Verdict;
use why403_core::evidence::{IdentityKind, Slot};
use why403_core::finding::{Confidence, Diagnosis, Role, Verification, diagnose};
use why403_core::upload::UploadRequest;
use why403_fixtures_source::{Scenario, parse, write_scenario};

const SHARED_WORLDS: &[&str] = &["identity", "kms", "bucket-policy", "acl", "scp", "allowed"];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("no runtime: {e}"))
}

/// A configuration with static credentials (never the environment's).
fn sdk(endpoint: &str, key: &str, secret: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            key, secret, None, None, "moto",
        )))
        .build()
}

fn sdk_as(endpoint: &str, user: &Value) -> SdkConfig {
    sdk(
        endpoint,
        text(user, "/access_key_id"),
        text(user, "/secret_access_key"),
    )
}

/// The shared server and the worlds this test process built in it.
struct Shared {
    endpoint: String,
    worlds: Value,
}

fn shared(test: &str) -> Option<&'static Shared> {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    let endpoint = endpoint(test)?;
    Some(SHARED.get_or_init(|| Shared {
        worlds: seed(&endpoint, &tag(), SHARED_WORLDS, false),
        endpoint,
    }))
}

/// Reads world `name` as its uploader (the organization with the management account's
/// credentials when the world has them) and diagnoses it.
fn live(s: &Shared, name: &str) -> (Value, Collected, Diagnosis) {
    let w = s.worlds["worlds"][name].clone();
    let as_uploader = sdk_as(&s.endpoint, &w["uploader"]);
    let org = w
        .get("org_reader")
        .map(|reader| sdk_as(&s.endpoint, reader));
    let clients = Clients::from_sdk(&as_uploader, org.as_ref());
    let target = UploadRequest::new(text(&w, "/bucket"), text(&w, "/key"));
    let got = runtime()
        .block_on(collect_with(&clients, &target, None, &|_| {}))
        .unwrap_or_else(|e| panic!("{name}: collection failed: {e}"));
    let d = diagnose(
        got.request.clone(),
        got.evidence.clone(),
        &why403_rules::registry(),
    );
    (w, got, d)
}

/// What must survive a scenario round trip: the verdict, and each finding's rule, role,
/// confidence, message, check, fix and labels (not their places in a file).
fn summary(d: &Diagnosis) -> (String, Vec<String>) {
    let verdict = match &d.verdict {
        Verdict::Indeterminate { missing } => format!(
            "indeterminate: {}",
            missing
                .iter()
                .map(|m| format!("{} {:?}", m.what, m.unavailable.needs))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        v => v.to_string(),
    };
    let findings = d
        .findings
        .iter()
        .map(|f| {
            let fix = f.fix.as_ref().map(|x| {
                let verified = match &x.verified {
                    Verification::Resolves => "resolves".to_owned(),
                    Verification::StillDenied { by } => format!("still denied by {by:?}"),
                    Verification::Indeterminate { missing } => {
                        format!("indeterminate: {missing:?}")
                    }
                    Verification::NotChecked { why } => format!("not checked: {why}"),
                };
                format!("{} [{verified}] {:?}", x.description, x.changes)
            });
            let labels: Vec<String> = f
                .labels
                .iter()
                .map(|l| format!("{} {} {}", l.document, l.pointer, l.message))
                .collect();
            format!(
                "{} {:?} {:?}: {} | check {:?} | fix {:?} | labels {:?} | missing {:?} | notes {:?}",
                f.rule,
                f.role,
                f.confidence,
                f.message,
                f.check,
                fix,
                labels,
                f.missing
                    .iter()
                    .map(|m| (&m.what, &m.unavailable.needs))
                    .collect::<Vec<_>>(),
                f.notes
            )
        })
        .collect();
    (verdict, findings)
}

/// Writes what was read as a scenario (plain or redacted), reads it back and diagnoses it.
fn round_trip(got: &Collected, redact: bool) -> (String, Diagnosis) {
    let scenario = Scenario {
        description: Some("moto round trip".to_owned()),
        sources: Vec::new(),
        expect: None,
        request: got.request.clone(),
        evidence: got.evidence.clone(),
    };
    let file = write_scenario(&scenario, redact);
    let back = parse("captured.json", &file)
        .unwrap_or_else(|e| panic!("the captured scenario does not read back: {e}\n{file}"));
    let d = diagnose(back.request, back.evidence, &why403_rules::registry());
    (file, d)
}

/// One world: the cause, the rounds, and the capture round trip.
fn check_world(name: &str) {
    let Some(s) = shared(&format!("{name} world")) else {
        return;
    };
    let (w, got, d) = live(s, name);
    let expected = text(&w, "/expect/verdict");
    assert_eq!(d.verdict.to_string(), expected, "{name}: {:#?}", d.findings);
    match w["expect"]["cause"].as_str() {
        Some(cause) => {
            let first = d
                .findings
                .first()
                .unwrap_or_else(|| panic!("{name}: no finding"));
            assert_eq!(
                (first.rule.id.as_str(), first.role, first.confidence),
                (cause, Role::Cause, Confidence::Confirmed),
                "{name}: {:#?}",
                d.findings
            );
            let fix = first
                .fix
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: no fix"));
            assert_eq!(fix.verified, Verification::Resolves, "{name}: {fix:#?}");
        }
        None => assert!(
            d.findings.iter().all(|f| f.role != Role::Cause),
            "{name}: {:#?}",
            d.findings
        ),
    }
    // The uploader is the caller, read from its own account.
    let caller = got
        .evidence
        .caller
        .get()
        .unwrap_or_else(|| panic!("{name}: no caller"));
    assert_eq!(caller.arn, text(&w, "/uploader/arn"));
    assert_eq!(caller.account, text(&w, "/account"));
    assert!(
        got.stats.rounds <= 4 && got.stats.calls >= 10,
        "{name}: {} calls in {} rounds: {:#?}",
        got.stats.calls,
        got.stats.rounds,
        got.stats.per_call
    );

    // The capture diagnoses as the live reading did.
    let live = summary(&d);
    let (plain, again) = round_trip(&got, false);
    assert_eq!(summary(&again), live, "{name}: plain capture differs");
    let (redacted, r) = round_trip(&got, true);
    let identifiers: Vec<String> = w["identifiers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let (rv, rf) = summary(&r);
    assert!(
        same_modulo_redaction(&live.0, &rv, &identifiers),
        "{name}: redacted verdict `{rv}` vs `{}`",
        live.0
    );
    assert_eq!(rf.len(), live.1.len(), "{name}: {rf:#?}");
    for (a, b) in live.1.iter().zip(&rf) {
        assert!(
            same_modulo_redaction(a, b, &identifiers),
            "{name}: redacted finding differs:\n  live:     {a}\n  redacted: {b}"
        );
    }
    for id in &identifiers {
        assert!(
            !redacted.contains(id.as_str()),
            "{name}: `{id}` is still in the redacted scenario:\n{redacted}"
        );
    }
    for secret in ["/uploader/access_key_id", "/uploader/secret_access_key"] {
        let secret = text(&w, secret);
        assert!(!plain.contains(secret) && !redacted.contains(secret));
    }
    say(&format!(
        "moto: live `{name}`: {} ({}), {} calls in {} rounds; plain and redacted captures diagnose the same",
        d.verdict,
        w["expect"]["cause"].as_str().unwrap_or("no cause"),
        got.stats.calls,
        got.stats.rounds
    ));
}

#[test]
fn identity_policy_on_the_bucket_arn_is_diagnosed_live() {
    check_world("identity");
}

#[test]
fn kms_key_policy_without_the_uploader_is_diagnosed_live() {
    check_world("kms");
}

#[test]
fn bucket_policy_deny_is_diagnosed_live() {
    check_world("bucket-policy");
}

#[test]
fn bucket_acl_without_owner_write_is_diagnosed_live() {
    check_world("acl");
}

#[test]
fn scp_deny_on_the_ou_is_diagnosed_live() {
    check_world("scp");
}

#[test]
fn an_allowed_upload_is_allowed_live() {
    check_world("allowed");
}

/// What each slot holds for a plain bucket with a bucket policy (moto's fresh buckets have
/// none of AWS's 2023 defaults, so their absence is read as such).
#[test]
fn reads_every_slot_of_a_seeded_world() {
    let Some(s) = shared("reads_every_slot_of_a_seeded_world") else {
        return;
    };
    let (w, got, _) = live(s, "bucket-policy");
    let ev = &got.evidence;
    let id = ev
        .identity
        .get()
        .unwrap_or_else(|| panic!("{:?}", ev.identity));
    assert_eq!(id.kind, IdentityKind::User);
    let user = text(&w, "/uploader/name");
    let names: Vec<&str> = id.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, [format!("inline policy put-uploads of user {user}")]);
    let policy = ev
        .bucket
        .policy
        .get()
        .unwrap_or_else(|| panic!("{:?}", ev.bucket.policy));
    assert_eq!(
        policy.name,
        format!("bucket policy of {}", text(&w, "/bucket"))
    );
    assert_eq!(ev.bucket.encryption, Slot::Absent);
    assert_eq!(ev.bucket.ownership, Slot::Absent);
    assert_eq!(ev.bucket.public_access_block, Slot::Absent);
    assert_eq!(ev.account_public_access_block, Slot::Absent);
    assert_eq!(ev.kms_key, Slot::NotApplicable);
    assert!(ev.bucket.acl.get().is_some(), "{:?}", ev.bucket.acl);
    assert_eq!(ev.bucket.region, Slot::Collected("us-east-1".to_owned()));
    assert_eq!(
        ev.bucket.owner_account,
        Slot::Collected(text(&w, "/account").to_owned())
    );
    // moto 5.2.5 does not implement GetBucketRequestPayment (it answers a ListBucketResult):
    // the slot says what would read it instead of failing the collection.
    match &ev.bucket.request_payer {
        Slot::Collected(payer) => assert_eq!(payer, "BucketOwner"),
        other => assert!(
            other
                .unavailable()
                .is_some_and(|u| u.needs == ["s3:GetBucketRequestPayment"]),
            "{other:?}"
        ),
    }
}

/// The organization of the `scp` world has SCPs enabled on its root but not RCPs (moto lists
/// `RCPFullAWSAccess` anyway): the RCPs are absent and never listed, the root is evidence.
#[test]
fn rcps_not_enabled_on_the_root_are_absent_live() {
    let Some(s) = shared("rcps_not_enabled_on_the_root_are_absent_live") else {
        return;
    };
    let (w, got, d) = live(s, "scp");
    let org = got
        .evidence
        .caller_org
        .get()
        .unwrap_or_else(|| panic!("{:?}", got.evidence.caller_org));
    assert_eq!(org.rcps, Slot::Absent);
    assert!(org.scps.get().is_some(), "{:?}", org.scps);
    let root = org.root.get().unwrap_or_else(|| panic!("{:?}", org.root));
    let types: Vec<(&str, &str)> = root
        .policy_types
        .iter()
        .map(|t| (t.policy_type.as_str(), t.status.as_str()))
        .collect();
    assert_eq!(types, [("SERVICE_CONTROL_POLICY", "ENABLED")]);
    assert!(
        d.findings
            .iter()
            .all(|f| !f.rule.id.starts_with("rcp-denies")),
        "{:#?}",
        d.findings
    );
    say(&format!(
        "moto: `{}`'s organization: RCPs not enabled on root {}, read as absent",
        text(&w, "/account"),
        root.id
    ));
}

// ------------------------------------------------------------------ moto's own enforcement

/// A moto server of this test's own, so that turning enforcement on affects nothing else.
struct PrivateMoto {
    child: Child,
    endpoint: String,
}

impl PrivateMoto {
    fn start() -> PrivateMoto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("moto-private-{port}.log"));
        let out = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", log.display()));
        let child = Command::new(support::python())
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{} -m moto.server` (set MOTO_PYTHON): {e}",
                    support::python()
                )
            });
        // world.py waits until it answers.
        PrivateMoto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status and error code of a real PutObject by `creds`.
fn put_object(endpoint: &str, bucket: &str, key: &str, creds: (&str, &str)) -> (u16, String) {
    let conf = sdk(endpoint, creds.0, creds.1);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    let res = runtime().block_on(
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"why403"))
            .send(),
    );
    match res {
        Ok(_) => (200, String::new()),
        Err(e) => {
            use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;
            let status = e.raw_response().map_or(0, |r| r.status().as_u16());
            (status, e.code().unwrap_or_default().to_owned())
        }
    }
}

fn keys(user: &Value) -> (&str, &str) {
    (
        text(user, "/access_key_id"),
        text(user, "/secret_access_key"),
    )
}

/// Where moto decides from identity policies alone (moto enforces identity policies faithfully for S3, bucket policies only in part, and KMS key policies, SCPs and RCPs not at all), its answer to the real
/// PutObject is ground truth: the verdict must agree with it.
#[test]
fn verdicts_agree_with_moto_enforcing_identity_policies() {
    if endpoint("verdicts_agree_with_moto_enforcing_identity_policies").is_none() {
        return;
    }
    let moto = PrivateMoto::start();
    let all = seed(&moto.endpoint, &tag(), &["truth"], true);
    let w = &all["worlds"]["truth"];
    let (bucket, key) = (text(w, "/bucket"), text(w, "/key"));
    let auditor = Clients::from_sdk(&sdk_as(&moto.endpoint, &w["auditor"]), None);
    // (user, allowed, the cause when denied)
    let cases: &[(&str, bool, Option<&str>)] = &[
        ("inline-allow", true, None),
        ("group-allow", true, None),
        ("managed-allow", true, None),
        ("wildcard-allow", true, None),
        (
            "bucket-arn-only",
            false,
            Some("identity-policy-missing-put-object"),
        ),
        (
            "other-bucket",
            false,
            Some("identity-policy-missing-put-object"),
        ),
        (
            "no-policy",
            false,
            Some("identity-policy-missing-put-object"),
        ),
        ("explicit-deny", false, None),
    ];
    let rt = runtime();
    for (user, allowed, cause) in cases {
        let u = &w["users"][*user];
        let got = rt
            .block_on(collect_with(
                &auditor,
                &UploadRequest::new(bucket, key),
                Some(text(u, "/arn")),
                &|_| {},
            ))
            .unwrap_or_else(|e| panic!("{user}: collection failed: {e}"));
        assert!(got.stats.rounds <= 4, "{user}: {:#?}", got.stats.per_call);
        let d = diagnose(got.request, got.evidence, &why403_rules::registry());
        let (status, code) = put_object(&moto.endpoint, bucket, key, keys(u));
        let verdict = d.verdict.to_string();
        // The verdict and moto agree...
        match &d.verdict {
            Verdict::Allowed => assert_eq!((status, code.as_str()), (200, ""), "{user}"),
            Verdict::Denied => assert_eq!(
                (status, code.as_str()),
                (403, "AccessDenied"),
                "{user}: {:#?}",
                d.findings
            ),
            Verdict::Indeterminate { missing } => {
                panic!("{user}: indeterminate, missing {missing:#?}")
            }
        }
        // ...and say what this case is about.
        assert_eq!(
            verdict,
            if *allowed { "allowed" } else { "denied" },
            "{user}"
        );
        if let Some(cause) = cause {
            let first = &d.findings[0];
            assert_eq!(
                (first.rule.id.as_str(), first.role, first.confidence),
                (*cause, Role::Cause, Confidence::Confirmed),
                "{user}"
            );
        }
    }

    // Credentials moto does not know, or a wrong secret: both refuse them.
    let known = keys(&w["users"]["inline-allow"]).0;
    let bad: &[((&str, &str), &str)] = &[
        (
            ("AKIAIOSFODNN7WHY403X", "not-a-secret"),
            "InvalidAccessKeyId",
        ),
        ((known, "not-the-secret"), "SignatureDoesNotMatch"),
    ];
    for (creds, code) in bad {
        let clients = Clients::from_sdk(&sdk(&moto.endpoint, creds.0, creds.1), None);
        let got = rt.block_on(collect_with(
            &clients,
            &UploadRequest::new(bucket, key),
            None,
            &|_| {},
        ));
        assert!(
            matches!(got, Err(CollectError::InvalidCredentials { .. })),
            "{code}: {:?}",
            got.map(|g| g.request)
        );
        assert_eq!(
            put_object(&moto.endpoint, bucket, key, *creds),
            (403, (*code).to_owned())
        );
    }
    say(&format!(
        "moto (enforcing): {} PutObject verdicts agree with moto's answers; unknown keys and bad signatures refused by both",
        cases.len()
    ));
}

/// A reader that may read S3 but not IAM, KMS or Organizations.
#[test]
fn a_partial_reader_names_the_permissions_it_lacks() {
    if endpoint("a_partial_reader_names_the_permissions_it_lacks").is_none() {
        return;
    }
    let moto = PrivateMoto::start();
    let all = seed(&moto.endpoint, &tag(), &["partial"], true);
    let w = &all["worlds"]["partial"];
    let key = text(w, "/key");
    let uploader = text(w, "/uploader/arn");
    let reader = Clients::from_sdk(&sdk_as(&moto.endpoint, &w["reader"]), None);
    let rt = runtime();
    let read = |bucket: &str| {
        rt.block_on(collect_with(
            &reader,
            &UploadRequest::new(bucket, key),
            Some(uploader),
            &|_| {},
        ))
        .unwrap_or_else(|e| panic!("{bucket}: collection failed: {e}"))
    };

    // SSE-KMS bucket: what decides could not be read.
    let got = read(text(w, "/kms_bucket"));
    let ev = &got.evidence;
    assert!(ev.bucket.acl.get().is_some(), "{:?}", ev.bucket.acl);
    assert!(ev.bucket.encryption.get().is_some());
    assert_eq!(ev.bucket.policy, Slot::Absent);
    let needs = |s: Option<&why403_core::evidence::Unavailable>| -> Vec<String> {
        s.map(|u| u.needs.clone()).unwrap_or_default()
    };
    assert!(
        needs(ev.identity.unavailable()).contains(&"iam:GetAccountAuthorizationDetails".to_owned()),
        "{:?}",
        ev.identity
    );
    assert_eq!(
        needs(ev.kms_key.unavailable()),
        ["kms:DescribeKey"],
        "{:?}",
        ev.kms_key
    );
    assert!(
        needs(ev.caller_org.unavailable())
            .contains(&"organizations:DescribeOrganization".to_owned()),
        "{:?}",
        ev.caller_org
    );
    let d = diagnose(
        got.request.clone(),
        got.evidence.clone(),
        &why403_rules::registry(),
    );
    let Verdict::Indeterminate { missing } = &d.verdict else {
        panic!(
            "expected indeterminate, got {}: {:#?}",
            d.verdict, d.findings
        )
    };
    let named: Vec<&str> = missing
        .iter()
        .flat_map(|m| m.unavailable.needs.iter().map(String::as_str))
        .collect();
    for action in [
        "iam:GetAccountAuthorizationDetails",
        "kms:DescribeKey",
        "organizations:DescribeOrganization",
    ] {
        assert!(named.contains(&action), "{action} not in {named:?}");
    }
    assert!(
        d.findings
            .iter()
            .all(|f| f.confidence != Confidence::Confirmed),
        "{:#?}",
        d.findings
    );
    assert!(d.findings.iter().any(|f| {
        f.rule.id == "identity-policy-missing-put-object" && f.confidence == Confidence::Possible
    }));

    // A bucket policy that denies everyone: confirmed, whatever else is unreadable; its fix
    // cannot be verified without the rest.
    let deny_bucket = text(w, "/deny_bucket");
    let got = read(deny_bucket);
    assert!(got.evidence.identity.unavailable().is_some());
    let d = diagnose(got.request, got.evidence, &why403_rules::registry());
    assert_eq!(d.verdict, Verdict::Denied);
    let first = &d.findings[0];
    assert_eq!(
        (first.rule.id.as_str(), first.role, first.confidence),
        (
            "bucket-policy-explicit-deny",
            Role::Cause,
            Confidence::Confirmed
        )
    );
    let verified = first.fix.as_ref().map(|f| f.verified.clone());
    assert!(
        matches!(&verified, Some(Verification::Indeterminate { missing }) if !missing.is_empty()),
        "{verified:?}"
    );
    // moto agrees: an unconditional bucket-policy Deny for `*` is one it enforces.
    assert_eq!(
        put_object(&moto.endpoint, deny_bucket, key, keys(&w["uploader"])).0,
        403
    );
    say(
        "moto (enforcing): a reader without IAM, KMS and Organizations reads gets an indeterminate \
         diagnosis naming them, and a confirmed bucket-policy deny",
    );
}

/// Six uploads to one bucket and one to a bucket that does not exist, collected through one
/// session three at a time: the session reads what one collection reads, plus the missing
/// bucket's `HeadBucket`; each upload has the evidence a collection of its own reads.
#[test]
fn a_session_reads_a_bucket_once_for_many_uploads_live() {
    let Some(s) = shared("a_session_reads_a_bucket_once_for_many_uploads_live") else {
        return;
    };
    let w = &s.worlds["worlds"]["bucket-policy"];
    let clients = Clients::from_sdk(&sdk_as(&s.endpoint, &w["uploader"]), None);
    let bucket = text(w, "/bucket");
    let missing = format!("{bucket}-missing");
    let mut uploads: Vec<UploadRequest> = (0..6)
        .map(|i| UploadRequest::new(bucket, &format!("{}-{i}", text(w, "/key"))))
        .collect();
    uploads.insert(3, UploadRequest::new(&missing, "report.csv"));
    let rt = runtime();
    let alone = rt
        .block_on(collect_with(&clients, &uploads[0], None, &|_| {}))
        .unwrap_or_else(|e| panic!("collection failed: {e}"));
    let session = Session::new(clients);
    let got = rt.block_on(session.collect_many(uploads.iter().map(|u| (u, None)), 3, &|_| {}));
    for (got, u) in got.iter().zip(&uploads) {
        if u.bucket == missing {
            assert!(
                matches!(got, Err(CollectError::NoSuchBucket { bucket }) if *bucket == missing),
                "{got:?}"
            );
            continue;
        }
        let got = got.as_ref().unwrap_or_else(|e| panic!("{}: {e}", u.key));
        assert_eq!(got.evidence, alone.evidence, "{}", u.key);
        assert_eq!(got.request.key, u.key);
    }
    let total = session.stats();
    assert_eq!(total.count("s3:HeadBucket"), 2, "{:#?}", total.per_call);
    for api in [
        "sts:GetCallerIdentity",
        "s3:GetBucketPolicy",
        "s3:GetBucketAcl",
    ] {
        assert_eq!(total.count(api), 1, "{api}: {:#?}", total.per_call);
    }
    assert_eq!(total.calls, alone.stats.calls + 1, "{:#?}", total.per_call);
}

// ------------------------------------------------------------------ cost and the two paths
/// A moto server of its own (`tests/moto/scale.py`) with a `scale` world per size: an account
/// of `roles` roles and `policies` customer managed policies. The server stops when this is
/// dropped.
struct ScaleMoto {
    child: std::process::Child,
    /// scale.py's JSON: `endpoint`, and `worlds`, one per size in the order asked.
    worlds: serde_json::Value,
}

impl ScaleMoto {
    /// Starts the server and builds the worlds of `sizes` (roles, policies).
    fn start(tag: &str, sizes: &[(usize, usize)]) -> ScaleMoto {
        use std::io::BufRead as _;
        let script =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/moto/scale.py");
        let sizes: Vec<String> = sizes.iter().map(|(r, p)| format!("{r}:{p}")).collect();
        let mut child = Command::new(support::python())
            .arg(&script)
            .args(["--tag", tag, "--sizes", &sizes.join(",")])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `{} {}` (set MOTO_PYTHON to a Python with moto and boto3): {e}",
                    support::python(),
                    script.display()
                )
            });
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        let worlds = serde_json::from_str(&line).unwrap_or_else(|e| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("scale.py printed no JSON ({e}): {line}")
        });
        ScaleMoto { child, worlds }
    }
}

impl Drop for ScaleMoto {
    fn drop(&mut self) {
        // Closing its standard input stops it; kill it in case it does not.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls per API of a collection.
fn per_api(got: &Collected) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for c in &got.stats.per_call {
        *out.entry(c.api.clone()).or_insert(0) += 1;
    }
    out
}

/// A role's diagnosis in an account of 3,000 roles and 1,000 customer managed policies makes
/// the same calls, in the same rounds, as in an account of 10: the caller's policies are read
/// with targeted reads, not with the whole account's authorization details.
#[test]
fn a_diagnosis_costs_the_same_in_an_account_of_3000_roles_as_of_10() {
    if endpoint("a_diagnosis_costs_the_same_in_an_account_of_3000_roles_as_of_10").is_none() {
        return;
    }
    let started = std::time::Instant::now();
    let moto = ScaleMoto::start(&tag(), &[(10, 10), (3000, 1000)]);
    let seeded = started.elapsed();
    let endpoint = text(&moto.worlds, "/endpoint").to_owned();
    let rt = runtime();
    let read = |w: &Value| {
        let clients = Clients::from_sdk(&sdk_as(&endpoint, &w["reader"]), None);
        let target = UploadRequest::new(text(w, "/bucket"), text(w, "/key"));
        rt.block_on(collect_with(
            &clients,
            &target,
            Some(text(w, "/uploader")),
            &|_| {},
        ))
        .unwrap_or_else(|e| panic!("collection failed: {e}"))
    };
    let small = read(&moto.worlds["worlds"][0]);
    let large = read(&moto.worlds["worlds"][1]);
    for got in [&small, &large] {
        let id = got
            .evidence
            .identity
            .get()
            .unwrap_or_else(|| panic!("{:?}", got.evidence.identity));
        assert_eq!(id.kind, IdentityKind::Role);
        assert_eq!(id.policies.len(), 2, "{:?}", id.policies);
        assert!(id.boundary.is_some());
        assert_eq!(
            got.stats.count("iam:GetAccountAuthorizationDetails"),
            0,
            "{:#?}",
            got.stats.per_call
        );
        assert!(got.stats.notes.is_empty(), "{:?}", got.stats.notes);
        assert!(got.stats.rounds <= 4, "{:#?}", got.stats.per_call);
    }
    assert_eq!(per_api(&large), per_api(&small));
    assert_eq!(
        (large.stats.calls, large.stats.rounds),
        (small.stats.calls, small.stats.rounds)
    );
    say(&format!(
        "moto: a role's diagnosis in accounts of 10 and 3,000 roles: {} calls in {} rounds each \
         ({:.0} ms and {:.0} ms; worlds built in {:.1} s)",
        large.stats.calls,
        large.stats.rounds,
        small.stats.elapsed.as_secs_f64() * 1000.0,
        large.stats.elapsed.as_secs_f64() * 1000.0,
        seeded.as_secs_f64()
    ));
}

/// A reader refused the targeted IAM reads falls back to the account's authorization details,
/// says why in the stats, and reads the same evidence as a reader allowed them: for a user
/// (inline and managed policies, a group with inline and managed policies) and for a role
/// session (inline, managed and boundary policies), with a managed policy whose second
/// version is the default.
#[test]
fn targeted_reads_and_the_whole_account_read_give_the_same_evidence() {
    if endpoint("targeted_reads_and_the_whole_account_read_give_the_same_evidence").is_none() {
        return;
    }
    let moto = PrivateMoto::start();
    let all = seed(&moto.endpoint, &tag(), &["paths"], true);
    let w = &all["worlds"]["paths"];
    let target = UploadRequest::new(text(w, "/bucket"), text(w, "/key"));
    let targeted = Clients::from_sdk(&sdk_as(&moto.endpoint, &w["targeted_reader"]), None);
    let fallback = Clients::from_sdk(&sdk_as(&moto.endpoint, &w["fallback_reader"]), None);
    let rt = runtime();
    let fallback_session = Session::new(fallback.clone());
    for principal in [text(w, "/user/arn"), text(w, "/role_session")] {
        let read = |clients: &Clients| {
            rt.block_on(collect_with(clients, &target, Some(principal), &|_| {}))
                .unwrap_or_else(|e| panic!("{principal}: collection failed: {e}"))
        };
        let a = read(&targeted);
        let b = read(&fallback);
        let id = a
            .evidence
            .identity
            .get()
            .unwrap_or_else(|| panic!("{principal}: {:?}", a.evidence.identity));
        // moto keeps no user's boundary: the role has one.
        assert_eq!(
            id.boundary.is_some(),
            id.kind == IdentityKind::Role,
            "{principal}: {id:?}"
        );
        assert!(
            id.policies
                .iter()
                .any(|p| p.name.starts_with("managed policy ")),
            "{principal}: {:?}",
            id.policies
        );
        assert_eq!(
            a.stats.count("iam:GetAccountAuthorizationDetails"),
            0,
            "{principal}: {:#?}",
            a.stats.per_call
        );
        assert!(a.stats.notes.is_empty(), "{:?}", a.stats.notes);
        assert_eq!(
            b.stats.count("iam:GetAccountAuthorizationDetails"),
            1,
            "{principal}: {:#?}",
            b.stats.per_call
        );
        assert!(
            b.stats.notes.len() == 1 && b.stats.notes[0].contains("AccessDenied"),
            "{principal}: {:?}",
            b.stats.notes
        );
        assert_eq!(a.evidence.identity, b.evidence.identity, "{principal}");
        assert_eq!(a.evidence, b.evidence, "{principal}");
        // Through one session, the fallback's details are read once per kind of principal.
        let again = rt
            .block_on(fallback_session.collect(&target, Some(principal), &|_| {}))
            .unwrap_or_else(|e| panic!("{principal}: collection failed: {e}"));
        assert_eq!(again.evidence.identity, a.evidence.identity, "{principal}");
    }
    let total = fallback_session.stats();
    assert_eq!(
        total.count("iam:GetAccountAuthorizationDetails"),
        2,
        "{:#?}",
        total.per_call
    );
    assert_eq!(total.notes.len(), 2, "{:?}", total.notes);
    say(
        "moto (enforcing): a user's and a role's policies read with targeted reads and, refused \
         them, with the account's authorization details are the same evidence",
    );
}
