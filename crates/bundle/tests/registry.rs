//! Registry invariants, checked on every `cargo test`: the rule crates under `crates/rules/`
//! and the registered rules match one to one, ids and summaries follow the conventions, and
//! every rule's docs have the required sections, and the identity rules split the S3 actions
//! an upload needs so that each missing one is reported exactly once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

/// The rule crate directories under `crates/rules/`.
fn crate_dirs() -> BTreeSet<String> {
    std::fs::read_dir(rules_dir())
        .expect("crates/rules is readable")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_rule_crate_is_linked_and_registered_once() {
    let registry = why403_rules::registry();
    let dirs = crate_dirs();
    assert!(!dirs.is_empty(), "no rule crates found");
    let mut registered = BTreeSet::new();
    for rule in registry.rules() {
        let m = rule.meta();
        let source = m.source_file.replace('\\', "/");
        let dir = source
            .strip_prefix("crates/rules/")
            .and_then(|s| s.split('/').next())
            .unwrap_or_else(|| {
                panic!("rule `{}` is declared outside crates/rules: {source}", m.id)
            });
        assert_eq!(
            dir, m.id,
            "rule `{}` lives in crates/rules/{dir}; the directory must be named after the id",
            m.id
        );
        assert!(
            registered.insert(dir.to_owned()),
            "two rules are declared in crates/rules/{dir}"
        );
    }
    let unlinked: Vec<_> = dirs.difference(&registered).collect();
    assert!(
        unlinked.is_empty(),
        "rule crates not linked into the bundle (add `use why403_rule_<id> as _;` to crates/bundle/src/lib.rs \
         and the dependency to crates/bundle/Cargo.toml): {unlinked:?}"
    );
}

/// The kit's registry invariants (ids, layers, summaries, doc sections, messages), for the
/// built-in scope and every built-in rule crate.
#[test]
fn the_builtin_rules_hold_the_registry_invariants() {
    let expected: Vec<String> = crate_dirs().into_iter().collect();
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    let problems = why403_fixtures_source::testkit::registry_problems("builtin", &expected);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for rule in why403_rules::registry().rules() {
        assert_eq!(
            rule.meta().scope,
            "builtin",
            "built-in rules have scope `builtin`"
        );
    }
}

#[test]
fn rules_are_sorted_and_unique() {
    let registry = why403_rules::registry();
    let ids: Vec<_> = registry.rules().iter().map(|r| r.meta().id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted);
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs");
    let uses: Vec<&str> = lib
        .lines()
        .filter(|l| l.starts_with("use why403_rule_"))
        .collect();
    let mut sorted_uses = uses.clone();
    sorted_uses.sort_unstable();
    assert_eq!(
        uses, sorted_uses,
        "keep the `use why403_rule_... as _;` lines of crates/bundle/src/lib.rs sorted"
    );
}

/// An IAM user of the bucket owner's account whose only policy allows `s3:PutObject`, sending
/// an ACL, tags, Object Lock retention and a legal hold: every other S3 action it needs is
/// implicitly denied.
fn upload_needing_every_s3_action() -> (
    why403_core::upload::UploadRequest,
    why403_core::evidence::Evidence,
) {
    use why403_core::evidence::{
        Evidence, Identity, IdentityKind, ObjectOwnership, PublicAccessBlock, Slot,
    };
    use why403_core::policy::{Policy, PolicyKind};
    let mut req = why403_core::upload::UploadRequest::new("amzn-s3-demo-bucket", "k.txt");
    req.principal = Some("arn:aws:iam::111122223333:user/alice".into());
    for (h, v) in [
        ("x-amz-acl", "bucket-owner-full-control"),
        ("x-amz-tagging", "team=data"),
        ("x-amz-object-lock-mode", "GOVERNANCE"),
        (
            "x-amz-object-lock-retain-until-date",
            "2030-01-01T00:00:00Z",
        ),
        ("x-amz-object-lock-legal-hold", "ON"),
    ] {
        req.headers.insert(h.into(), v.into());
    }
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::NotApplicable;
    let p = Policy::parse(
        "inline policy P of user alice",
        PolicyKind::Identity,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#,
    )
    .expect("valid policy");
    ev.identity = Slot::Collected(Identity {
        kind: IdentityKind::User,
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        name: "alice".into(),
        path: "/".into(),
        id: "AIDAEXAMPLE".into(),
        tags: Default::default(),
        policies: vec![p],
        groups: vec![],
        boundary: None,
    });
    ev.session_policy = Slot::NotApplicable;
    ev.bucket.region = Slot::Collected("us-east-1".into());
    ev.bucket.owner_account = Slot::Collected("111122223333".into());
    ev.bucket.policy = Slot::Absent;
    ev.bucket.acl = Slot::NotApplicable;
    ev.bucket.encryption = Slot::Absent;
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerPreferred);
    ev.bucket.public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.bucket.request_payer = Slot::Collected("BucketOwner".into());
    ev.account_public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.kms_key = Slot::NotApplicable;
    ev.caller_org = Slot::Absent;
    ev.bucket_org = Slot::Absent;
    (req, ev)
}

#[test]
fn each_missing_s3_action_is_reported_by_exactly_one_identity_rule() {
    // AWS authorizes a PutObject with these headers for s3:PutObjectAcl, s3:PutObjectTagging,
    // s3:PutObjectRetention and s3:PutObjectLegalHold as well as s3:PutObject.
    let registry = why403_core::rule::Registry::linked().expect("registry");
    let (req, ev) = upload_needing_every_s3_action();
    let d = why403_core::finding::diagnose(req, ev, &registry);
    let expected = [
        ("s3:PutObjectAcl", "identity-policy-missing-put-object"),
        (
            "s3:PutObjectTagging",
            "identity-policy-missing-put-object-tagging",
        ),
        (
            "s3:PutObjectRetention",
            "identity-policy-missing-object-lock",
        ),
        (
            "s3:PutObjectLegalHold",
            "identity-policy-missing-object-lock",
        ),
    ];
    for (action, rule) in expected {
        let by: Vec<&str> = d
            .findings
            .iter()
            .filter(|f| f.check.as_deref() == Some(action))
            .map(|f| f.rule.id.as_str())
            .collect();
        assert_eq!(by, vec![rule], "findings for `{action}`");
    }
    assert!(
        !d.findings
            .iter()
            .any(|f| f.check.as_deref() == Some("s3:PutObject")),
        "s3:PutObject is allowed"
    );
}

/// A rule of the KMS layer is about KMS's actions (so `explain` rules it out for S3's).
#[test]
fn kms_rules_are_about_kms_actions() {
    for rule in why403_rules::registry().rules() {
        let m = rule.meta();
        if m.layer == why403_core::rule::RuleLayer::Kms {
            assert_eq!(
                m.service,
                why403_core::rule::Service::Kms,
                "KMS rule `{}` is about KMS's actions",
                m.id
            );
        }
    }
}

/// The README's table of what why403 detects names every built-in rule.
#[test]
fn the_readme_lists_every_rule() {
    let readme = std::fs::read_to_string(rules_dir().join("../../README.md"))
        .expect("README.md is readable");
    let missing: Vec<String> = crate_dirs()
        .into_iter()
        .filter(|id| !readme.contains(&format!("`{id}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "add these rules to the table in README.md: {missing:?}"
    );
}

/// Every crate of the workspace that may be published says what it is: description, readme,
/// keywords and categories (workspace-inherited where they are common).
#[test]
fn every_published_crate_has_its_metadata() {
    let root = rules_dir().join("../..");
    let mut manifests: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/ is readable")
        .filter_map(Result::ok)
        .map(|e| e.path().join("Cargo.toml"))
        .filter(|p| p.is_file())
        .collect();
    manifests.extend(
        crate_dirs()
            .iter()
            .map(|d| rules_dir().join(d).join("Cargo.toml")),
    );
    assert!(manifests.len() > 10, "{manifests:?}");
    for m in manifests {
        let text = std::fs::read_to_string(&m).unwrap_or_else(|e| panic!("{}: {e}", m.display()));
        if text.contains("publish = false") {
            continue;
        }
        for field in ["description", "readme", "keywords", "categories", "license"] {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(&format!("{field} "))
                        || l.starts_with(&format!("{field}."))),
                "{} has no `{field}`",
                m.display()
            );
        }
    }
}

/// The crate map keeps rules away from what they do not use: no rule crate, nor core (which
/// every rule depends on), depends on the pasted-error parser (`why403-errors`) or turns on
/// the batch reader of `why403-policy` (its `batch` feature). `cargo tree -p
/// why403-rule-<id> -e normal` shows the same.
#[test]
fn rules_depend_on_neither_the_error_parser_nor_the_batch_reader() {
    let root = rules_dir().join("../..");
    let mut manifests: Vec<PathBuf> = crate_dirs()
        .iter()
        .map(|d| rules_dir().join(d).join("Cargo.toml"))
        .collect();
    manifests.push(root.join("crates/core/Cargo.toml"));
    manifests.push(root.join("crates/policy/Cargo.toml"));
    for m in manifests {
        let text = std::fs::read_to_string(&m).unwrap_or_else(|e| panic!("{}: {e}", m.display()));
        let deps = text
            .split("\n[")
            .filter(|table| table.starts_with("dependencies]"))
            .collect::<String>();
        assert!(
            !deps.contains("why403-errors"),
            "{} depends on why403-errors",
            m.display()
        );
        assert!(
            !deps.contains("batch"),
            "{} turns on the batch reader",
            m.display()
        );
    }
}
