//! The JSON rendering: a versioned public schema (`why403.diagnosis/v1`, written out in
//! `schema/report.schema.json`). It is built by hand rather than derived, so that renaming a
//! field inside core never changes the contract.

use serde_json::{Map, Value, json as j};

use crate::analysis::{Block, Check, CheckKind, Missing};
use crate::client::Client;
use crate::eval::Blocked;
use crate::finding::howto::{Step, howto};
use crate::finding::{
    Change, Claim, Diagnosis, Finding, Fix, Label, MAX_LISTED, PolicyTarget, Refusal, Verification,
};
use crate::policy::Origin;
use crate::upload::{Credentials, Operation, UploadRequest};

/// The `schema` member of every JSON diagnosis. A change that removes or renames a member or
/// changes a meaning gets a new version; new members do not.
pub const SCHEMA_ID: &str = "why403.diagnosis/v1";

/// Renders a diagnosis as JSON.
pub fn json(d: &Diagnosis) -> Value {
    let afters = AfterBudget::default();
    let finding = |f: &Finding| finding(f, d, &afters);
    j!({
        "schema": SCHEMA_ID,
        "verdict": super::verdict_word(&d.verdict),
        "cause": super::cause_sentence(d),
        "request": request(d),
        "checks": d.analysis.checks.iter().map(check).collect::<Vec<_>>(),
        "client": d.client.map(client_word),
        "findings": d.findings.iter().map(finding).collect::<Vec<_>>(),
        "superseded": d.superseded.iter().map(|s| j!({
            "by": s.by.to_string(),
            "why": s.why,
            "finding": finding(&s.finding),
        })).collect::<Vec<_>>(),
        "skipped": d.skipped.iter().map(|s| j!({"rule": s.rule.to_string(), "missing": s.missing})).collect::<Vec<_>>(),
        "missing": super::all_missing(d).into_iter().map(missing).collect::<Vec<_>>(),
    })
}

fn request(d: &Diagnosis) -> Value {
    let r: &UploadRequest = &d.analysis.request;
    let n = &r.network;
    let context: Map<String, Value> = r
        .context
        .iter()
        .map(|(k, v)| (k.clone(), j!({"values": v.values, "multi": v.multi})))
        .collect();
    j!({
        "principal": super::caller_text(d),
        "bucket": r.bucket,
        "key": r.key,
        "object_arn": r.object_arn(),
        "access_point": r.target.access_point_name(),
        "operation": match r.operation {
            Operation::PutObject => "put_object",
            Operation::Multipart => "multipart",
        },
        "headers": r.headers,
        "network": {
            "source_ip": n.source_ip,
            "vpc_endpoint": n.vpc_endpoint,
            "vpc": n.vpc,
            "vpc_source_ip": n.vpc_source_ip,
            "tls": n.tls,
        },
        "time": r.time,
        "region": r.region,
        "credentials": match r.credentials {
            Credentials::LongTerm => "long_term",
            Credentials::Temporary => "temporary",
            Credentials::TemporaryWithMfa => "temporary_with_mfa",
            Credentials::Anonymous => "anonymous",
        },
        "session_tags": r.session_tags,
        "context": context,
    })
}

fn check(c: &Check) -> Value {
    let deciding: Vec<Value> = c
        .eval
        .deciding
        .iter()
        .map(|at| {
            let policy = c.set.policy(*at);
            let st = policy.and_then(|p| p.statements.get(at.statement as usize));
            j!({
                "layer": at.layer.as_str(),
                "level": at.level,
                "policy": at.policy,
                "statement": at.statement,
                "sid": st.and_then(|s| s.sid.clone()),
                "document": policy.map(|p| p.name.clone()),
                "pointer": st.map(|s| s.pointer.clone()),
                "stand_in": c.is_synthetic(at.layer, at.level),
            })
        })
        .collect();
    j!({
        "action": c.action,
        "kind": match c.kind {
            CheckKind::S3 => "s3",
            CheckKind::Kms => "kms",
        },
        "reason": c.reason,
        "resource": c.request.resource,
        "outcome": super::outcome_word(&c.outcome),
        "summary": super::check_summary(c),
        "decision": super::decision_word(c.eval.decision),
        "worst_decision": c.worst.map(super::decision_word),
        "deciding": deciding,
        "blocked_by": c.eval.blocked_by.iter().map(blocked).collect::<Vec<_>>(),
        "blocks": c.blocks.iter().map(block).collect::<Vec<_>>(),
        "missing": c.missing.iter().map(missing).collect::<Vec<_>>(),
        "kms_grant": c.kms_grant,
    })
}

fn blocked(b: &Blocked) -> Value {
    j!({"layer": b.layer.as_str(), "level": b.level})
}

fn block(b: &Block) -> Value {
    j!({"code": b.code.as_str(), "status": b.status, "aws_code": b.aws_code, "message": b.message})
}

fn missing(m: &Missing) -> Value {
    j!({"what": m.what, "reason": m.unavailable.reason, "needs": m.unavailable.needs})
}

/// How many fixes of a diagnosis have carried the whole after-document of each document: a
/// diagnosis with many fixes of one large policy (many deny statements, each a cause) would
/// otherwise repeat the document once per fix. Past [`MAX_LISTED`] the diff alone is given.
#[derive(Debug, Default)]
struct AfterBudget(std::cell::RefCell<std::collections::BTreeMap<String, usize>>);

impl AfterBudget {
    /// Whether one more after-document of `name` is given.
    fn take(&self, name: &str) -> bool {
        let mut m = self.0.borrow_mut();
        let n = m.entry(name.to_owned()).or_default();
        *n += 1;
        *n <= MAX_LISTED
    }
}

fn finding(f: &Finding, d: &Diagnosis, afters: &AfterBudget) -> Value {
    j!({
        "rule": f.rule.to_string(),
        "role": super::role_word(f.role),
        "confidence": super::confidence_word(f.confidence),
        "message": f.message,
        "check": f.check,
        "labels": f.labels.iter().map(label).collect::<Vec<_>>(),
        "fix": f.fix.as_ref().map(|x| fix(x, d, afters)),
        "missing": f.missing.iter().map(missing).collect::<Vec<_>>(),
        "notes": f.notes,
        "claims": f.claims.iter().map(claim).collect::<Vec<_>>(),
    })
}

fn claim(c: &Claim) -> Value {
    let by = match c.by {
        Refusal::Statement(at) => j!({
            "kind": "statement",
            "layer": at.layer.as_str(),
            "level": at.level,
            "policy": at.policy,
            "statement": at.statement,
        }),
        Refusal::NoAllow { layer, level } => {
            j!({"kind": "no_allow", "layer": layer.as_str(), "level": level})
        }
        Refusal::Block(code) => j!({"kind": "block", "code": code.as_str()}),
        Refusal::Unread(kind) => j!({"kind": "unread", "evidence": kind.to_string()}),
        Refusal::Check => j!({"kind": "check"}),
    };
    j!({"check": c.check, "by": by})
}

fn label(l: &Label) -> Value {
    let (line, column) = l.line_col();
    j!({
        "document": l.document,
        "pointer": l.pointer,
        "line": line,
        "column": column,
        "span": {"start": l.span.start, "end": l.span.end},
        "primary": l.primary,
        "message": l.message,
        "snippet": l.text.get(l.span.range()).unwrap_or(""),
        "origin": l.origin.as_ref().map(origin),
    })
}

fn origin(o: &Origin) -> Value {
    j!({"file": o.file, "line": o.line, "column": o.column, "pointer": o.pointer, "from_string": o.from_string})
}

fn fix(f: &Fix, d: &Diagnosis, afters: &AfterBudget) -> Value {
    let h = howto(&d.analysis, f, d.client);
    j!({
        "description": f.description,
        "changes": f.changes.iter().map(change).collect::<Vec<_>>(),
        "verified": verification(&f.verified),
        "widens": f.widens,
        "howto": h.steps.iter().map(|s| step(s, afters)).collect::<Vec<_>>(),
    })
}

/// The client's word, as `--client` takes it.
pub(crate) fn client_word(c: Client) -> &'static str {
    match c {
        Client::Console => "console",
        Client::Cli => "cli",
        Client::Sdk => "sdk",
    }
}

fn step(s: &Step, afters: &AfterBudget) -> Value {
    let doc = s.document.as_ref();
    let mut notes = s.notes.clone();
    let after = match doc {
        Some(d) if d.after.is_some() && !afters.take(&d.name) => {
            notes.push(format!(
                "the document after is left out: more than {MAX_LISTED} fixes of this diagnosis edit the {}; apply the diff",
                d.name
            ));
            None
        }
        Some(d) => d.after.as_deref(),
        None => None,
    };
    j!({
        "summary": s.summary,
        "who": {
            "kind": s.actor.kind.as_str(),
            "account": s.actor.account,
            "callers_account": s.actor.callers_account,
            "sentence": s.actor.sentence(),
        },
        "client": s.client.iter().map(|c| j!({"client": c.client, "text": c.text})).collect::<Vec<_>>(),
        "document": doc.map(|d| d.name.as_str()),
        "file": doc.map(|d| d.file.as_str()),
        "diff": doc.map(|d| d.diff.as_str()),
        "document_after": after,
        "apply": s.commands,
        "notes": notes,
    })
}

fn verification(v: &Verification) -> Value {
    match v {
        Verification::Resolves => j!({"status": "resolves"}),
        Verification::StillDenied { by } => j!({"status": "still_denied", "by": by}),
        Verification::Indeterminate { missing } => {
            j!({"status": "indeterminate", "missing": missing})
        }
        Verification::NotChecked { why } => j!({"status": "not_checked", "why": why}),
    }
}

/// A structured change, tagged with `type`.
pub(crate) fn change(c: &Change) -> Value {
    match c {
        Change::AddIdentityPolicy { name, document } => {
            j!({"type": "add_identity_policy", "name": name, "document": document})
        }
        Change::AddStatement {
            target: t,
            statement,
        } => {
            j!({"type": "add_statement", "target": target(*t), "statement": statement})
        }
        Change::RemoveStatement {
            target: t,
            statement,
        } => {
            j!({"type": "remove_statement", "target": target(*t), "statement": statement})
        }
        Change::ReplaceStatement {
            target: t,
            statement,
            with,
        } => {
            j!({"type": "replace_statement", "target": target(*t), "statement": statement, "with": with})
        }
        Change::SetHeader { name, value } => {
            j!({"type": "set_header", "name": name, "value": value})
        }
        Change::RemoveHeader { name } => j!({"type": "remove_header", "name": name}),
        Change::AddAclGrant {
            canonical_id,
            permission,
        } => {
            j!({"type": "add_acl_grant", "canonical_id": canonical_id, "permission": permission.as_str()})
        }
        Change::AttachScp {
            level,
            name,
            document,
        } => {
            j!({"type": "attach_scp", "level": level, "name": name, "document": document})
        }
        Change::AttachRcp {
            level,
            name,
            document,
        } => {
            j!({"type": "attach_rcp", "level": level, "name": name, "document": document})
        }
        Change::UseHttps => j!({"type": "use_https"}),
        Change::SendFromVpc { vpc } => j!({"type": "send_from_vpc", "vpc": vpc}),
        Change::UseSessionMode { mode } => {
            j!({"type": "use_session_mode", "mode": mode.as_str()})
        }
        Change::SetPolicyVersion { target: t, version } => {
            j!({"type": "set_policy_version", "target": target(*t), "version": version})
        }
        Change::SetSessionTag { key, value } => {
            j!({"type": "set_session_tag", "key": key, "value": value})
        }
        Change::EnableKmsKey => j!({"type": "enable_kms_key"}),
        Change::RestoreKmsKey => j!({"type": "restore_kms_key"}),
        Change::CancelKmsKeyDeletion => j!({"type": "cancel_kms_key_deletion"}),
        Change::UseKmsKey { arn, key_policy } => {
            j!({"type": "use_kms_key", "arn": arn, "key_policy": key_policy})
        }
        Change::SetPublicAccessBlock {
            level,
            setting,
            enabled,
        } => {
            j!({"type": "set_public_access_block", "level": level.as_str(), "setting": setting.as_str(), "enabled": enabled})
        }
    }
}

/// The policy a change applies to: `{"policy": "bucket_policy"}`, `{"policy": "identity",
/// "index": 0}`, `{"policy": "scp", "level": 1, "index": 0}`.
fn target(t: PolicyTarget) -> Value {
    match t {
        PolicyTarget::Identity(index) => j!({"policy": "identity", "index": index}),
        PolicyTarget::Boundary => j!({"policy": "boundary"}),
        PolicyTarget::Session => j!({"policy": "session"}),
        PolicyTarget::BucketPolicy => j!({"policy": "bucket_policy"}),
        PolicyTarget::KeyPolicy => j!({"policy": "key_policy"}),
        PolicyTarget::Scp { level, index } => j!({"policy": "scp", "level": level, "index": index}),
        PolicyTarget::Rcp { level, index } => j!({"policy": "rcp", "level": level, "index": index}),
        PolicyTarget::VpcEndpoint => j!({"policy": "vpc_endpoint"}),
        PolicyTarget::AccessPointPolicy => j!({"policy": "access_point_policy"}),
    }
}
