//! The human and plain renderings of a small diagnosis: verdict line first, snippets with the
//! file's line numbers and carets under the span, fix and verification, what could not be
//! read, and escape codes only when colour is asked for.

mod render_common;

use why403_core::render::{HumanOptions, human, plain_findings};

const CAUSE: &str = "\
cause[builtin/bucket-policy-explicit-deny] (confirmed): explicit deny in statement `DenyUnencryptedUploads` of the bucket policy of `amzn-s3-demo-bucket`
  --> scenario.json:23:7 (bucket policy of amzn-s3-demo-bucket)
   |
23 |       {
   |       ^ this statement denies the upload
24 |         \"Sid\": \"DenyUnencryptedUploads\",
25 |         \"Effect\": \"Deny\",
26 |         \"Principal\": \"*\",
27 |         \"Action\": \"s3:PutObject\",
28 |         \"Resource\": \"arn:aws:s3:::amzn-s3-demo-bucket/*\",
29 |         \"Condition\": {
   |                      - because the request has no `x-amz-server-side-encryption: aws:kms`
30 |           \"StringNotEquals\": {
31 |             \"s3:x-amz-server-side-encryption\": \"aws:kms\"
32 |           }
33 |         }
34 |       }
   |
   = check: `s3:PutObject`
   = fix: send `x-amz-server-side-encryption: aws:kms` with the upload
   = verified: resolves
   = apply: whoever sends the upload must change the upload: send `x-amz-server-side-encryption: aws:kms`
       aws s3 cp: aws s3 cp FILE s3://amzn-s3-demo-bucket/uploads/report.csv --sse aws:kms
   = note: the deny applies to every principal, including the bucket owner
   = cannot see: session policy (session policies cannot be read from AWS)
";

#[test]
fn a_denied_upload_leads_with_the_cause_and_shows_the_statement() {
    let out = human(&render_common::denied(false), &HumanOptions::new(false));
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "denied: explicit deny in statement `DenyUnencryptedUploads` of the bucket policy of \
             `amzn-s3-demo-bucket` (and 1 more cause)"
        )
    );
    assert_eq!(
        lines.next(),
        Some(
            "  upload: PutObject of `s3://amzn-s3-demo-bucket/uploads/report.csv` by `arn:aws:iam::111122223333:user/alice`"
        )
    );
    assert!(out.contains(CAUSE), "{out}");
    assert!(out.contains("   = fix: remove statement `DenyUnencryptedUploads` from the bucket policy\n   = verified: resolves\n   = apply: the bucket owner"), "{out}");
    assert!(out.contains(
        "checks:\n  s3:PutObject: denied: explicit deny in statement `DenyUnencryptedUploads` of bucket policy of \
         amzn-s3-demo-bucket\n    reason: every upload needs it\n"
    ));
    assert!(!out.contains('\x1b'));
}

#[test]
fn a_policy_from_a_json_string_is_numbered_on_its_own() {
    let out = human(&render_common::denied(true), &HumanOptions::new(false));
    assert!(out.contains("  --> scenario.json:20:17 /evidence/bucket/policy (bucket policy of amzn-s3-demo-bucket)\n"), "{out}");
    assert!(
        out.contains(" 4 |       {\n   |       ^ this statement denies the upload\n"),
        "{out}"
    );
    assert!(
        out.contains("   = note: the policy is a JSON string in the file: it is shown decoded"),
        "{out}"
    );
}

#[test]
fn an_indeterminate_upload_says_what_cannot_be_seen_and_what_would_read_it() {
    let out = human(&render_common::indeterminate(), &HumanOptions::new(false));
    assert!(
        out.starts_with(
            "indeterminate: the outcome depends on evidence that could not be read: bucket policy\n"
        ),
        "{out}"
    );
    assert!(out.contains(
        "  cannot see: bucket policy (AccessDenied from s3:GetBucketPolicy); reading it needs `s3:GetBucketPolicy`\n"
    ));
    assert!(
        out.contains("  s3:PutObject: indeterminate: depends on bucket policy\n"),
        "{out}"
    );
}

#[test]
fn colour_only_when_asked() {
    let d = render_common::denied(false);
    let out = human(&d, &HumanOptions::new(true));
    assert!(out.starts_with("\x1b[1;31mdenied\x1b[0m: "), "{out}");
    let stripped = strip_ansi(&out);
    assert_eq!(stripped, human(&d, &HumanOptions::new(false)));
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

const PLAIN: &str = "\
rule: builtin/bucket-policy-explicit-deny
role: cause
confidence: confirmed
message: explicit deny in statement `DenyUnencryptedUploads` of the bucket policy of `amzn-s3-demo-bucket`
check: s3:PutObject
label (primary): bucket policy of amzn-s3-demo-bucket#/Statement/0 (23:7): this statement denies the upload
  | {
  |   \"Sid\": \"DenyUnencryptedUploads\",
  |   \"Effect\": \"Deny\",
  |   \"Principal\": \"*\",
  |   \"Action\": \"s3:PutObject\",
  | ... (7 more lines)
label (secondary): bucket policy of amzn-s3-demo-bucket#/Statement/0/Condition (29:22): because the request has no `x-amz-server-side-encryption: aws:kms`
  | {
  |   \"StringNotEquals\": {
  |     \"s3:x-amz-server-side-encryption\": \"aws:kms\"
  |   }
  | }
fix: send `x-amz-server-side-encryption: aws:kms` with the upload
change: {\"name\":\"x-amz-server-side-encryption\",\"type\":\"set_header\",\"value\":\"aws:kms\"}
verified: resolves
apply: whoever sends the upload must change the upload: send `x-amz-server-side-encryption: aws:kms`
  aws s3 cp: aws s3 cp FILE s3://amzn-s3-demo-bucket/uploads/report.csv --sse aws:kms
missing: session policy (session policies cannot be read from AWS)
note: the deny applies to every principal, including the bucket owner
";

#[test]
fn plain_findings_are_stable_and_filtered_by_rule() {
    let d = render_common::denied(false);
    assert_eq!(
        plain_findings(&d, Some("bucket-policy-explicit-deny")),
        PLAIN
    );
    assert_eq!(
        plain_findings(&d, Some("builtin/bucket-policy-explicit-deny")),
        PLAIN
    );
    let all = plain_findings(&d, None);
    assert!(
        all.starts_with(PLAIN) && all.contains("\nrule: builtin/unexplained-deny\n"),
        "{all}"
    );
    assert_eq!(
        plain_findings(&d, Some("nope")),
        "no findings from `nope`\n"
    );
    // The same findings from a policy given as a JSON string differ only in line numbers.
    let s = plain_findings(
        &render_common::denied(true),
        Some("bucket-policy-explicit-deny"),
    );
    assert_eq!(
        s,
        PLAIN
            .replace("(23:7)", "(4:7)")
            .replace("(29:22)", "(10:22)")
    );
}
