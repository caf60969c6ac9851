//! The HTML rendering of a small diagnosis: well-formed, self-contained,
//! the verdict first, the deciding span marked in the source, the fix and its verification,
//! the evaluation path with the deciding layer framed, the unreadable evidence with the IAM
//! action that reads it.

mod html_check;
mod render_common;

use html_check::{check_page, deciding_layers, path_picture, text_of};
use why403_core::render::html;
use why403_core::render::path_svg::{StepState, evaluation_path};

#[test]
fn a_denied_upload_shows_verdict_cause_snippet_fix_and_path() {
    let d = render_common::denied(false);
    let page = html(&d);
    let doc = check_page("denied", &page);
    let header = doc
        .descendants()
        .find(|n| n.has_tag_name("header"))
        .expect("a header");
    assert_eq!(header.attribute("class"), Some("verdict denied"));
    assert!(text_of(header).contains("\u{2717} denied"));
    assert!(text_of(header).contains("explicit deny in statement DenyUnencryptedUploads"));

    // The primary span is the statement's first line, marked, with the file's line number.
    let first = doc
        .descendants()
        .find(|n| n.has_tag_name("article"))
        .expect("a finding");
    assert_eq!(first.attribute("class"), Some("cause"));
    let marks: Vec<(String, String)> = first
        .descendants()
        .filter(|n| n.has_tag_name("mark"))
        .map(|n| (n.attribute("class").unwrap_or("").to_owned(), text_of(n)))
        .collect();
    assert_eq!(
        marks,
        [
            ("p".to_owned(), "{".to_owned()),
            ("s".to_owned(), "{".to_owned())
        ]
    );
    let line = page
        .split_once("<span class=\"ln\">23 |</span>")
        .map(|(_, rest)| rest.trim_start())
        .unwrap_or_default();
    assert!(line.starts_with("<mark class=\"p\">{</mark>\n"), "{page}");
    assert!(page.contains("^ this statement denies the upload"));
    assert!(page.contains("- because the request has no `x-amz-server-side-encryption: aws:kms`"));

    // The fix and its verification; the unreadable session policy.
    let text = text_of(doc.root_element());
    assert!(text.contains("send x-amz-server-side-encryption: aws:kms with the upload"));
    assert!(text.contains("verified\u{2713} resolves"), "{text}");
    assert!(text.contains("session policies cannot be read from AWS"));

    // The evaluation path frames the bucket policy, and says so in the steps.
    let svg = path_picture(&doc, 0).expect("the path picture of s3:PutObject");
    assert_eq!(deciding_layers(svg), ["bucket policy"]);
    let steps = evaluation_path(&d.analysis.checks[0], &d.analysis);
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "SCPs",
            "RCPs",
            "bucket policy",
            "identity policies",
            "permissions boundary",
            "session policy",
            "VPC endpoint policy",
            "Object Ownership",
            "Block Public Access",
            "bucket ACL",
            "other bucket settings"
        ]
    );
    let states: Vec<StepState> = steps.iter().map(|s| s.state).collect();
    assert_eq!(states[2], StepState::ExplicitDeny);
    assert_eq!(states[3], StepState::Allows);
    assert_eq!(states[0], StepState::NotApplicable);
}

#[test]
fn an_unreadable_bucket_policy_is_unknown_deciding_and_names_the_action() {
    let d = render_common::indeterminate();
    let page = html(&d);
    let doc = check_page("indeterminate", &page);
    let missing = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("missing"))
        .expect("a section of unreadable evidence");
    let text = text_of(missing);
    assert!(text.contains("bucket policy"), "{text}");
    assert!(text.contains("s3:GetBucketPolicy"), "{text}");
    let svg = path_picture(&doc, 0).expect("the path picture");
    assert_eq!(deciding_layers(svg), ["bucket policy"]);
    let steps = evaluation_path(&d.analysis.checks[0], &d.analysis);
    let bucket = steps.iter().find(|s| s.name == "bucket policy");
    assert_eq!(bucket.map(|s| s.state), Some(StepState::Unknown));
    // Each state shows its symbol and its word, not colour alone.
    assert!(text_of(svg).contains("? unknown"));
}
