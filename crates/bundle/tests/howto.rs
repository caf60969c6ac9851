//! How fixes are applied (`why403_core::finding::howto`), on every shipped scenario, whole
//! situation and rule fixture:
//!
//! - each after-document is the document the verification evaluated (the same JSON);
//! - written back into the scenario file where the document came from (and the request's
//!   headers changed as the fix says), the scenario diagnoses as the verification said:
//!   allowed when the fix resolves, still denied when it does not;
//! - every printed AWS CLI command, and every `aws s3api put-object` / `aws s3 cp` line of a
//!   request-side step, names a command and options the AWS CLI has, with its required
//!   options (`tests/aws-cli/operations.json`, read from the AWS CLI's own command tables).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use why403_core::analysis::Verdict;
use why403_core::client::Client;
use why403_core::evidence::Evidence;
use why403_core::finding::howto::howto;
use why403_core::finding::{Change, Diagnosis, Verification, apply_changes};
use why403_core::{Diagnoser, Policy};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every scenario with findings to fix: situations, examples and rule fixtures that fire.
fn scenarios() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut add = |dir: PathBuf| {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "json") {
                    out.push(p);
                }
            }
        }
    };
    add(root().join("tests/situations"));
    add(root().join("examples/scenarios"));
    for rule in std::fs::read_dir(root().join("crates/rules"))
        .unwrap()
        .flatten()
    {
        add(rule.path().join("tests/cases/fires"));
    }
    out.sort();
    assert!(out.len() > 150, "{}", out.len());
    out
}

fn diagnose(text: &str, name: &str, client: Option<Client>) -> Option<Diagnosis> {
    read(text, name, client).ok()
}

fn read(text: &str, name: &str, client: Option<Client>) -> Result<Diagnosis, String> {
    let s = why403_fixtures_source::parse(name, text).map_err(|e| e.to_string())?;
    let registry = why403_rules::registry();
    let mut d = Diagnoser::new(&registry);
    if let Some(c) = client {
        d = d.client(c, None);
    }
    Ok(d.diagnose(s.request, s.evidence))
}

/// Every policy of the evidence.
fn policies(ev: &Evidence) -> Vec<&Policy> {
    let mut all: Vec<&Policy> = Vec::new();
    if let Some(i) = ev.identity.get() {
        all.extend(&i.policies);
        all.extend(&i.boundary);
    }
    all.extend(ev.session_policy.get());
    all.extend(ev.bucket.policy.get());
    all.extend(ev.kms_key.get().and_then(|k| k.policy.get()));
    for org in [ev.caller_org.get(), ev.bucket_org.get()]
        .into_iter()
        .flatten()
    {
        for levels in [org.scps.get(), org.rcps.get()].into_iter().flatten() {
            for l in levels {
                all.extend(&l.policies);
            }
        }
    }
    all.extend(ev.vpc_endpoint_policy.get());
    all
}

fn expected_verdict(v: &Verification) -> Option<&'static str> {
    match v {
        Verification::Resolves => Some("allowed"),
        Verification::StillDenied { .. } => Some("denied"),
        Verification::Indeterminate { .. } => Some("indeterminate"),
        Verification::NotChecked { .. } => None,
    }
}

fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Allowed => "allowed",
        Verdict::Denied => "denied",
        Verdict::Indeterminate { .. } => "indeterminate",
    }
}

/// Sets the value at a JSON pointer that exists (or whose parent object exists).
fn set_pointer(doc: &mut Value, pointer: &str, value: Value) -> bool {
    if let Some(slot) = doc.pointer_mut(pointer) {
        *slot = value;
        return true;
    }
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(last.replace("~1", "/").replace("~0", "~"), value);
            true
        }
        _ => false,
    }
}

#[test]
fn after_documents_are_what_the_verification_evaluated_and_apply_through_the_scenario() {
    let mut documents = 0;
    let mut through_scenario = 0;
    let mut problems = Vec::new();
    for path in scenarios() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        let Some(d) = diagnose(&text, &name, None) else {
            continue;
        };
        let before_policies = policies(&d.analysis.evidence);
        for f in &d.findings {
            let Some(fix) = &f.fix else { continue };
            let Some(expected) = expected_verdict(&fix.verified) else {
                continue;
            };
            let Ok(after) = apply_changes(&d.analysis, &fix.changes) else {
                continue;
            };
            let after_policies = policies(&after.evidence);
            let h = howto(&d.analysis, fix, None);
            let mut scenario: Value = serde_json::from_str(&text).unwrap();
            let mut representable = true;
            for step in &h.steps {
                let Some(doc) = &step.document else { continue };
                let before = before_policies.iter().find(|p| p.name == doc.name);
                // The verification's document: the edited policy, named as edited.
                let edited = after_policies
                    .iter()
                    .find(|p| p.name == format!("{} (changed by the fix)", doc.name));
                match (&doc.after, edited) {
                    (Some(a), Some(e)) => {
                        documents += 1;
                        let mine: Value = serde_json::from_str(a).unwrap();
                        let theirs: Value = serde_json::from_str(&e.text).unwrap();
                        if mine != theirs {
                            problems.push(format!(
                                "{name}: {}: the after-document is not the verified one:\n{a}\n---\n{}",
                                f.rule, e.text
                            ));
                        }
                    }
                    (None, _) => {
                        // Deleted: the verified policy grants and denies nothing.
                        if let Some(e) = edited {
                            documents += 1;
                            if !e.statements.is_empty() {
                                problems.push(format!(
                                    "{name}: {}: a deleted document had statements",
                                    f.rule
                                ));
                            }
                        }
                    }
                    // A document the fix creates, or an ACL or setting: not a policy edit.
                    (Some(_), None) => {}
                }
                match (before.and_then(|p| p.origin.as_ref()), &doc.after) {
                    (Some(o), Some(a)) => {
                        let value: Value = serde_json::from_str(a).unwrap();
                        let value = if o.from_string {
                            Value::String(a.clone())
                        } else {
                            value
                        };
                        representable &= set_pointer(&mut scenario, &o.pointer, value);
                    }
                    _ => representable = false,
                }
            }
            for c in &fix.changes {
                match c {
                    Change::SetHeader { name: h, value } => {
                        representable &= set_pointer(
                            &mut scenario,
                            &format!("/request/headers/{}", h.to_ascii_lowercase()),
                            Value::String(value.clone()),
                        );
                    }
                    Change::RemoveHeader { name: h } => {
                        if let Some(Value::Object(m)) = scenario.pointer_mut("/request/headers") {
                            m.remove(&h.to_ascii_lowercase());
                        }
                    }
                    Change::AddStatement { .. }
                    | Change::RemoveStatement { .. }
                    | Change::ReplaceStatement { .. }
                    | Change::SetPolicyVersion { .. } => {}
                    _ => representable = false,
                }
            }
            if !representable {
                continue;
            }
            let edited = serde_json::to_string_pretty(&scenario).unwrap();
            match read(&edited, &name, None) {
                Ok(again) => {
                    through_scenario += 1;
                    if verdict_word(&again.verdict) != expected {
                        problems.push(format!(
                            "{name}: {}: the fix's documents applied through the scenario give {}, the verification said {expected}",
                            f.rule,
                            verdict_word(&again.verdict)
                        ));
                    }
                }
                // The fix makes the upload use another KMS key than the one the scenario
                // describes: the scenario cannot say that without the other key's description
                // (the verification models it).
                Err(e) if e.contains("/evidence/kms_key") => {}
                Err(e) => problems.push(format!(
                    "{name}: {}: the scenario with the fix's documents does not read: {e}",
                    f.rule
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    eprintln!(
        "{documents} after-documents compared, {through_scenario} fixes applied through their scenario"
    );
    // Not vacuous: most rule fixtures edit a policy.
    assert!(documents > 60, "{documents} documents checked");
    assert!(
        through_scenario > 60,
        "{through_scenario} fixes applied through the scenario"
    );
}

/// The AWS CLI's commands and options, from `tests/aws-cli/operations.json`.
struct CliModel {
    commands: BTreeMap<String, (Vec<String>, Vec<String>)>,
}

impl CliModel {
    fn load() -> CliModel {
        let text = std::fs::read_to_string(root().join("tests/aws-cli/operations.json")).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect()
        };
        let commands = v["commands"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, c)| (k.clone(), (strings(&c["options"]), strings(&c["required"]))))
            .collect();
        CliModel { commands }
    }

    /// What is wrong with an argument list, if anything.
    fn check(&self, argv: &[String]) -> Option<String> {
        if argv.len() < 3 || argv[0] != "aws" {
            return Some(format!("not an AWS CLI command: {argv:?}"));
        }
        let key = format!("{} {}", argv[1], argv[2]);
        let Some((options, required)) = self.commands.get(&key) else {
            return Some(format!(
                "`aws {key}` is not in tests/aws-cli/operations.json"
            ));
        };
        let given: Vec<&String> = argv[3..].iter().filter(|a| a.starts_with("--")).collect();
        for g in &given {
            if !options.contains(g) {
                return Some(format!("`aws {key}` has no option `{g}`"));
            }
        }
        for r in required {
            if !given.contains(&r) {
                return Some(format!("`aws {key}` needs `{r}`: {argv:?}"));
            }
        }
        None
    }
}

/// A shell line's words (single quotes, as `command_line` writes them).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn every_printed_command_is_aws_cli_syntax_for_its_operation() {
    let model = CliModel::load();
    let mut checked = 0;
    let mut problems = Vec::new();
    for path in scenarios() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        for client in [
            None,
            Some(Client::Console),
            Some(Client::Cli),
            Some(Client::Sdk),
        ] {
            let Some(d) = diagnose(&text, &name, client) else {
                continue;
            };
            for f in &d.findings {
                let Some(fix) = &f.fix else { continue };
                for step in howto(&d.analysis, fix, d.client).steps {
                    for argv in &step.commands {
                        checked += 1;
                        if let Some(p) = model.check(argv) {
                            problems.push(format!("{name}: {}: {p}", f.rule));
                        }
                    }
                    for c in &step.client {
                        let line = c.text.split("; ").next().unwrap_or("");
                        if !(line.starts_with("aws s3api ") || line.starts_with("aws s3 cp ")) {
                            continue;
                        }
                        let mut argv = words(line);
                        // `aws s3 cp FILE s3://...`: the paths are positional.
                        if argv.get(2).is_some_and(|w| w == "cp") {
                            argv.retain(|w| !w.starts_with("s3://") && w != "FILE");
                        }
                        checked += 1;
                        if let Some(p) = model.check(&argv) {
                            problems.push(format!("{name}: {}: {p} in `{line}`", f.rule));
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    eprintln!("{checked} commands checked");
    assert!(checked > 200, "{checked} commands checked");
}

#[test]
fn the_cli_model_is_the_aws_clis() {
    let model = CliModel::load();
    // Spot checks that the table is the real one, not written to fit.
    assert!(
        model
            .check(&words(
                "aws s3api put-bucket-policy --bucket b --policy file://p.json"
            ))
            .is_none()
    );
    assert!(
        model
            .check(&words("aws s3api put-bucket-policy --bucket b"))
            .is_some()
    );
    assert!(
        model
            .check(&words("aws s3 cp --expected-bucket-owner 1"))
            .is_some()
    );
    assert!(
        model
            .check(&words(
                "aws iam put-role-policy --role-name r --policy-name p --policy-document x"
            ))
            .is_none()
    );
    assert!(
        model
            .check(&words("aws kms put-key-policy --key-id k --policy x"))
            .is_none()
    );
}

/// The request-side steps of every rule fixture's fixes in each client's terms, as reviewed
/// snapshots (`tests/snapshots/howto__clients@RULE@CASE.snap`): the console's dialog, the AWS
/// CLI, the SDKs and boto3.
#[test]
fn request_side_fixes_in_each_clients_terms_are_stable() {
    let mut snapshots = 0;
    for rule in std::fs::read_dir(root().join("crates/rules"))
        .unwrap()
        .flatten()
    {
        let rule_name = rule.file_name().to_string_lossy().into_owned();
        let Ok(cases) = std::fs::read_dir(rule.path().join("tests/cases/fires")) else {
            continue;
        };
        let mut cases: Vec<PathBuf> = cases.flatten().map(|e| e.path()).collect();
        cases.sort();
        for case in cases {
            let text = std::fs::read_to_string(&case).unwrap();
            let case_name = case.file_stem().unwrap().to_string_lossy().into_owned();
            let mut out = String::new();
            for client in [Client::Console, Client::Cli, Client::Sdk] {
                let Some(d) = diagnose(&text, &case_name, Some(client)) else {
                    continue;
                };
                for f in d.findings.iter().filter(|f| f.rule.id == rule_name) {
                    let Some(fix) = &f.fix else { continue };
                    for step in howto(&d.analysis, fix, d.client).steps {
                        if step.client.is_empty() {
                            continue;
                        }
                        out.push_str(&format!("[{client:?}] {}\n", step.summary));
                        for c in &step.client {
                            out.push_str(&format!("  {}: {}\n", c.client, c.text));
                        }
                    }
                }
            }
            if out.is_empty() {
                continue;
            }
            snapshots += 1;
            let mut settings = insta::Settings::clone_current();
            settings.set_prepend_module_to_snapshot(false);
            settings.bind(|| {
                insta::assert_snapshot!(format!("howto__clients@{rule_name}@{case_name}"), out);
            });
        }
    }
    assert!(snapshots > 15, "{snapshots} request-side fixes");
}
