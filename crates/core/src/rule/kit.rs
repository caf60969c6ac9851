//! The rule kit: the shapes rules share, so that a rule says only what is its own.
//!
//! - [`RuleContext::blocked`] and [`emit_block`]: a refusal by S3 or KMS outside policy
//!   evaluation (a [`BlockCode`]) as one confirmed cause that claims every check it refuses.
//! - [`KmsKeyRefusal`]: the whole of a rule about the KMS key's own settings (state, spec):
//!   the cause, its labels on `describe-key` and the bucket's default encryption, AWS's
//!   answer, and a `Possible` cause when the key could not be described.
//! - [`new_key_fix`]: the fix that moves the upload to another KMS key.
//! - [`RuleContext::cause`]: a cause for one check, confident as far as the evidence goes.
//! - [`RuleContext::statements`] and [`RuleContext::misses`]: a layer's statements with their
//!   result, and the Allow statements that miss on one element (the near misses).
//! - [`near_miss_labels`], [`remove_headers_fix`], [`level_words`].

use crate::analysis::{Block, BlockCode, Check, CheckKind, KeyChoice, key_choice};
use crate::eval::{Element, Layer, Match, Miss, StatementRef};
use crate::evidence::{KmsKey, PublicAccessLevel};
use crate::finding::{Change, Confidence, Finding, Fix, Label, Refusal, Role};
use crate::policy::{Effect, Policy, Statement};

use super::{Emitter, RuleContext, bucket_encryption_label, emit_unread_kms_key, kms_key_label};

/// The layers whose Allow statements grant the caller an action: identity-based policies,
/// the bucket (or key) policy, the permissions boundary and the session policy.
pub const ALLOWING_LAYERS: [Layer; 4] = [
    Layer::Identity,
    Layer::Resource,
    Layer::Boundary,
    Layer::Session,
];

/// The checks that one [`BlockCode`] refuses.
#[derive(Debug, Clone)]
pub struct Blocked<'a> {
    /// The refused checks, in the analysis' order (at least one).
    pub checks: Vec<&'a Check>,
    /// The block as the first check has it.
    pub block: &'a Block,
}

impl<'a> Blocked<'a> {
    /// The first refused check.
    pub fn check(&self) -> &'a Check {
        self.checks[0]
    }

    /// The refused actions, e.g. `kms:GenerateDataKey` and `kms:Decrypt`.
    pub fn actions(&self) -> Vec<&'a str> {
        self.checks.iter().map(|c| c.action.as_str()).collect()
    }

    /// What AWS answers: "S3 answers 403 `AccessDenied`", or for KMS "S3 passes on KMS's
    /// `KMS.DisabledException` (HTTP 400) for `kms:GenerateDataKey`".
    pub fn answer(&self) -> String {
        let b = self.block;
        if self.check().kind == CheckKind::Kms {
            format!(
                "S3 passes on KMS's `{}` (HTTP {}) for `{}`",
                b.aws_code,
                b.status,
                self.actions().join("` and `")
            )
        } else {
            format!("S3 answers {} `{}`", b.status, b.aws_code)
        }
    }
}

impl<'a> RuleContext<'a> {
    /// The checks refused by the block `code`, if any.
    pub fn blocked(&self, code: BlockCode) -> Option<Blocked<'a>> {
        let mut checks = Vec::new();
        let mut block = None;
        for c in &self.analysis.checks {
            if let Some(b) = c.blocks.iter().find(|b| b.code == code) {
                block.get_or_insert(b);
                checks.push(c);
            }
        }
        Some(Blocked {
            checks,
            block: block?,
        })
    }

    /// Every Deny statement of `layer` that decides one of the upload's checks, with the check,
    /// its policy and the statement (outside the policies that stand in for unreadable ones).
    pub fn layer_denies(
        &self,
        layer: Layer,
    ) -> Vec<(&'a Check, StatementRef, &'a Policy, &'a Statement)> {
        let mut out = Vec::new();
        for check in &self.analysis.checks {
            for at in self
                .denies(check)
                .into_iter()
                .filter(|at| at.layer == layer)
            {
                if let Some((policy, st)) = self.statement(check, at) {
                    out.push((check, at, policy, st));
                }
            }
        }
        out
    }

    /// Starts a cause that explains `check`'s refusal by `by`: `Confirmed` when every piece of
    /// the check's evidence was read, else `Likely`, with the check's missing evidence.
    pub fn cause<'e>(
        &self,
        out: &'e mut Emitter<'_>,
        check: &Check,
        by: Refusal,
        message: impl Into<String>,
    ) -> &'e mut Finding {
        let confidence = if check.missing.is_empty() {
            Confidence::Confirmed
        } else {
            Confidence::Likely
        };
        let f = out.emit(Role::Cause, confidence, message);
        f.claim(&check.action, by);
        f.missing = check.missing.clone();
        f
    }

    /// Starts a `Possible` cause of `check`'s refusal (claimed as `by`) that rests on evidence
    /// that could not be read: `missing` first, then the check's missing evidence of other
    /// kinds.
    pub fn possible<'e>(
        &self,
        out: &'e mut Emitter<'_>,
        check: &Check,
        by: Refusal,
        missing: crate::analysis::Missing,
        message: impl Into<String>,
    ) -> &'e mut Finding {
        let f = out.emit(Role::Cause, Confidence::Possible, message);
        f.claim(&check.action, by);
        let kind = missing.kind;
        f.missing.push(missing);
        for m in &check.missing {
            if m.kind != kind && !f.missing.contains(m) {
                f.missing.push(m.clone());
            }
        }
        f
    }

    /// Every statement of `layer` in `check` with its result, its policy and the statement,
    /// outside the policies that stand in for unreadable ones.
    pub fn statements(
        &self,
        check: &'a Check,
        layer: Layer,
    ) -> Vec<(StatementRef, Match, &'a Policy, &'a Statement)> {
        self.traces(check, layer)
            .into_iter()
            .filter(|(at, _)| !check.is_synthetic(at.layer, at.level))
            .filter_map(|(at, m)| {
                let (p, st) = self.statement(check, at)?;
                Some((at, m, p, st))
            })
            .collect()
    }

    /// The Allow statements of `layers` that match `check` but for one element that `keep`
    /// accepts (their `Action` matched, so they were meant for it): the near misses, with the
    /// element that missed.
    pub fn misses(
        &self,
        check: &'a Check,
        layers: &[Layer],
        keep: impl Fn(Element) -> bool,
    ) -> Vec<(StatementRef, Miss, &'a Policy, &'a Statement)> {
        layers
            .iter()
            .flat_map(|l| self.statements(check, *l))
            .filter_map(|(at, m, p, st)| match m {
                Match::Miss(miss) if st.effect == Effect::Allow && keep(miss.element) => {
                    Some((at, miss, p, st))
                }
                _ => None,
            })
            .collect()
    }
}

/// An Allow statement that missed a refused check on one element, and that an edit of its
/// policy makes apply (see [`RuleContext::repairs`]).
#[derive(Debug, Clone, Copy)]
pub struct Repair<'a> {
    /// The refused check the statement missed.
    pub check: &'a Check,
    /// Where the statement is: layer, level, policy and statement index.
    pub at: StatementRef,
    /// The element it missed on, and why.
    pub miss: Miss,
    /// The policy the statement belongs to.
    pub policy: &'a Policy,
    /// The statement.
    pub statement: &'a Statement,
}

impl<'a> RuleContext<'a> {
    /// The near misses that one edit repairs: for each check the upload does not get, each
    /// Allow statement of [`ALLOWING_LAYERS`] that missed on an element `keep` accepts and that
    /// applies once `edit` changes its policy document (given as JSON, with the near miss;
    /// `None` when the edit does not concern it). Rules that explain why a statement "does not
    /// allow" (a variable without value, a policy version, an ARN in the wrong form) are this
    /// question with their own edit.
    pub fn repairs(
        &self,
        keep: impl Fn(Element) -> bool,
        edit: impl Fn(&mut serde_json::Value, &Repair<'a>) -> Option<()>,
    ) -> Vec<Repair<'a>> {
        let mut out = Vec::new();
        for check in self
            .analysis
            .checks
            .iter()
            .filter(|c| c.outcome != crate::analysis::CheckOutcome::Allowed)
        {
            for (at, miss, policy, statement) in self.misses(check, &ALLOWING_LAYERS, &keep) {
                let r = Repair {
                    check,
                    at,
                    miss,
                    policy,
                    statement,
                };
                if super::match_after_edit(check, at, |doc| edit(doc, &r)) == Some(Match::Applies) {
                    out.push(r);
                }
            }
        }
        out
    }
}

/// An Allow statement that one change would make apply: the near miss a finding should name
/// instead of "nothing allows" (see [`near_miss`]).
#[derive(Debug, Clone, Copy)]
pub enum NearMiss<'a> {
    /// Its `Resource` does not cover the request's resource; naming the upload's folder
    /// (`bucket/dir/*`, or the key for KMS) would make it apply.
    Resource {
        /// Where the statement is.
        at: StatementRef,
        /// The policy the statement belongs to.
        policy: &'a Policy,
        /// The statement.
        statement: &'a Statement,
        /// What to add to the `Resource`.
        add: &'a str,
    },
    /// Its condition on one key does not hold, and nothing else keeps it from applying.
    Condition {
        /// Where the statement is.
        at: StatementRef,
        /// The policy the statement belongs to.
        policy: &'a Policy,
        /// The statement.
        statement: &'a Statement,
        /// The condition that does not hold.
        condition: &'a crate::condition::Condition,
    },
}

impl NearMiss<'_> {
    /// The finding's message for a near miss of `check` in the policy called `name` ("the
    /// bucket policy of ..."): which statement almost allows it, and what keeps it from doing so.
    pub fn message(&self, name: &str, check: &Check) -> String {
        match self {
            NearMiss::Resource { statement, .. } => format!(
                "statement `{}` of {name} allows `{}`, but its `Resource` does not cover `{}`",
                statement.label(),
                check.action,
                check.request.resource
            ),
            NearMiss::Condition {
                statement,
                condition,
                ..
            } => format!(
                "statement `{}` of {name} allows `{}` only when its condition on `{}` holds, and for this request it does not",
                statement.label(),
                check.action,
                condition.key
            ),
        }
    }
}

/// The first Allow statement of `layer` (one `level` of it, or all) whose `Action` matched
/// `check` and that would apply but for one element: its `Resource`, extended by `add`, or
/// one condition, removed (both tried on the evaluator, the rest of the statement unchanged).
pub fn near_miss<'a>(
    cx: &RuleContext<'a>,
    check: &'a Check,
    layer: Layer,
    level: Option<u16>,
    add: &'a str,
) -> Option<NearMiss<'a>> {
    for (at, miss, policy, statement) in cx.misses(check, &[layer], |e| e != Element::Action) {
        if level.is_some_and(|l| at.level != l) {
            continue;
        }
        match miss.element {
            Element::Resource if statement.resource.as_ref().is_some_and(|r| !r.negated) => {
                let after = super::match_after_edit(check, at, |doc| {
                    let st = super::statement_mut(doc, statement.index)?;
                    let r = st.get_mut("Resource")?;
                    match r {
                        serde_json::Value::Array(a) => a.push(add.into()),
                        other => *other = serde_json::json!([other.clone(), add]),
                    }
                    Some(())
                });
                if after == Some(Match::Applies) {
                    return Some(NearMiss::Resource {
                        at,
                        policy,
                        statement,
                        add,
                    });
                }
            }
            Element::Condition(i) => {
                let Some(condition) = statement.conditions.get(i as usize) else {
                    continue;
                };
                let after =
                    super::match_after_edit(check, at, |doc| without_condition(doc, condition));
                if after == Some(Match::Applies) {
                    return Some(NearMiss::Condition {
                        at,
                        policy,
                        statement,
                        condition,
                    });
                }
            }
            _ => {}
        }
    }
    None
}

/// Removes one condition key from a policy document (and its operator block, and the
/// statement's `Condition`, when they are left empty).
fn without_condition(doc: &mut serde_json::Value, c: &crate::condition::Condition) -> Option<()> {
    let block = doc.pointer_mut(&c.op_pointer)?.as_object_mut()?;
    block.remove(&c.key)?;
    if block.is_empty() {
        let (cond_ptr, op) = c.op_pointer.rsplit_once('/')?;
        let op = op.replace("~1", "/").replace("~0", "~");
        let cond = doc.pointer_mut(cond_ptr)?.as_object_mut()?;
        cond.remove(&op);
        if cond.is_empty() {
            let (st_ptr, _) = cond_ptr.rsplit_once('/')?;
            doc.pointer_mut(st_ptr)?
                .as_object_mut()?
                .remove("Condition");
        }
    }
    Some(())
}

/// One confirmed cause for the block `code`, with the block's message, claiming every check
/// the block refuses; `None` when nothing is refused by it. The rule adds its notes and fix.
pub fn emit_block<'e, 'a>(
    cx: &RuleContext<'a>,
    out: &'e mut Emitter<'_>,
    code: BlockCode,
) -> Option<(&'e mut Finding, Blocked<'a>)> {
    let hit = cx.blocked(code)?;
    let f = out.emit(
        Role::Cause,
        Confidence::Confirmed,
        hit.block.message.clone(),
    );
    for c in &hit.checks {
        f.claim(&c.action, Refusal::Block(code));
    }
    Some((f, hit))
}

/// A rule about a setting of the KMS key itself (its state, spec...) that makes KMS refuse
/// S3's data key request whatever the policies say. [`KmsKeyRefusal::emit`] does the whole
/// finding but the fix.
#[derive(Debug, Clone, Copy)]
pub struct KmsKeyRefusal {
    /// The block the analysis gives for this setting.
    pub code: BlockCode,
    /// The `describe-key` fields that show it (`KeyState`, `KeySpec`, `KeyUsage`), each with
    /// the label text, labelled when `KmsKeyRefusal::shows` says the field is at fault.
    pub fields: &'static [(&'static str, &'static str)],
    /// Completes "the KMS key `<arn>` ..." when the key could not be described (e.g. "may
    /// be disabled: its state could not be read"); `None` when another rule already says
    /// that of the same field.
    pub unread: Option<&'static str>,
}

impl KmsKeyRefusal {
    /// Whether `field` of `key` is at fault (only the spec or the usage can be right while
    /// the other is not).
    fn shows(key: &KmsKey, field: &str) -> bool {
        match field {
            "KeySpec" => key.spec != "SYMMETRIC_DEFAULT",
            "KeyUsage" => key.usage != "ENCRYPT_DECRYPT",
            _ => true,
        }
    }

    /// The confirmed cause when the key refuses with [`KmsKeyRefusal::code`]: the block's
    /// message, a label on each field at fault (the first primary), on the bucket's default
    /// encryption when that chose the key, and AWS's answer as a note; returns it with the key
    /// and what was refused, for the rule's fix. When the key could not be described, a
    /// `Possible` cause instead (and `None`).
    pub fn emit<'e, 'a>(
        &self,
        cx: &RuleContext<'a>,
        out: &'e mut Emitter<'_>,
    ) -> Option<(&'e mut Finding, &'a KmsKey, Blocked<'a>)> {
        let a = cx.analysis;
        let (Some(_), Some(key)) = (cx.blocked(self.code), a.evidence.kms_key.get()) else {
            if let Some(says) = self.unread {
                emit_unread_kms_key(cx, out, says);
            }
            return None;
        };
        let (f, hit) = emit_block(cx, out, self.code)?;
        for (field, text) in self.fields {
            if Self::shows(key, field) {
                let primary = f.labels.is_empty();
                f.labels.extend(kms_key_label(key, field, primary, *text));
            }
        }
        if !from_header(cx) {
            f.labels.extend(bucket_encryption_label(
                a,
                "KMSMasterKeyID",
                false,
                "the bucket's default encryption uses this key",
            ));
        }
        f.notes.push(hit.answer());
        Some((f, key, hit))
    }
}

/// Whether the upload's KMS key comes from its `x-amz-server-side-encryption-aws-kms-key-id`
/// header (else from the bucket's default encryption).
pub fn from_header(cx: &RuleContext<'_>) -> bool {
    matches!(
        key_choice(&cx.analysis.request, &cx.analysis.evidence),
        KeyChoice::Kms {
            from_header: true,
            ..
        }
    )
}

/// Where the upload names its KMS key, for a fix's text.
pub fn key_place(cx: &RuleContext<'_>) -> &'static str {
    if from_header(cx) {
        "the `x-amz-server-side-encryption-aws-kms-key-id` header"
    } else {
        "the bucket's default encryption"
    }
}

/// The fix that encrypts the upload with the key `arn` instead (with `key_policy` when it is
/// a key to create), described by `description`; when the caller's identity policies were
/// read, it also allows `actions` on the new key in a new policy `policy_name` of the caller
/// (IAM policies that name the old key do not cover the new one), and `iam_words` is added to
/// the description.
pub fn new_key_fix(
    cx: &RuleContext<'_>,
    arn: &str,
    key_policy: Option<serde_json::Value>,
    description: String,
    (policy_name, iam_words): (&str, &str),
    actions: &[&str],
) -> Fix {
    let mut description = description;
    let mut changes = vec![Change::UseKmsKey {
        arn: arn.to_owned(),
        key_policy,
    }];
    if cx.analysis.evidence.identity.get().is_some() {
        description.push_str(iam_words);
        changes.push(Change::AddIdentityPolicy {
            name: policy_name.to_owned(),
            document: serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": arn}]
            }),
        });
    }
    Fix::new(description, changes)
}

/// Labels on the Allow statements of `layer` (one `level` of it, or all) whose `Action`
/// matched `check` but that missed on another element, each saying why; the first is primary.
pub fn near_miss_labels(
    cx: &RuleContext<'_>,
    check: &Check,
    layer: Layer,
    level: Option<u16>,
) -> Vec<Label> {
    cx.misses(check, &[layer], |e| e != Element::Action)
        .into_iter()
        .filter(|(at, ..)| level.is_none_or(|l| at.level == l))
        .enumerate()
        .map(|(i, (_, miss, policy, st))| {
            let e = crate::eval::explain_miss(st, &miss, &check.request);
            super::label(policy, e.span, &e.pointer, i == 0, e.message)
        })
        .collect()
}

/// The fix "remove or narrow statement `S` of \<policy>" for the statement at `at`, with the
/// change that removes it (none for a policy no fix can edit).
pub fn remove_statement_fix(at: StatementRef, policy: &Policy, st: &Statement) -> Fix {
    Fix::new(
        format!(
            "remove or narrow statement `{}` of {}",
            st.label(),
            policy.name
        ),
        super::policy_target(at)
            .map(|target| Change::RemoveStatement {
                target,
                statement: st.index,
            })
            .into_iter()
            .collect(),
    )
}

/// The change that adds to the resource-based policy `target` an Allow statement `sid` that
/// grants `action` (one or a list) on `resource` to the AWS principal `principal`.
pub fn grant(
    target: crate::finding::PolicyTarget,
    sid: &str,
    principal: &str,
    action: impl Into<serde_json::Value>,
    resource: &str,
) -> Change {
    Change::AddStatement {
        target,
        statement: serde_json::json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": action.into(),
            "Resource": resource,
        }),
    }
}

/// The fix that removes `headers` from the upload ("remove the `x-amz-acl` header from the
/// upload", then `then` when given); `None` when there are none.
pub fn remove_headers_fix(headers: &[String], then: Option<&str>) -> Option<Fix> {
    let (last, rest) = headers.split_last()?;
    let names = match rest {
        [] => format!("the `{last}` header"),
        _ => format!("the `{}` and `{last}` headers", rest.join("`, `")),
    };
    let description = match then {
        Some(t) => format!("remove {names} from the upload {t}"),
        None => format!("remove {names} from the upload"),
    };
    Some(Fix::new(
        description,
        headers
            .iter()
            .map(|h| Change::RemoveHeader { name: h.clone() })
            .collect(),
    ))
}

/// The Block Public Access levels (bucket, account) that were read and have `setting` on.
pub fn public_access_levels_with(
    ev: &crate::evidence::Evidence,
    setting: crate::evidence::PublicAccessSetting,
) -> Vec<PublicAccessLevel> {
    let account = ev.effective_account_public_access_block();
    [
        (PublicAccessLevel::Bucket, &ev.bucket.public_access_block),
        (PublicAccessLevel::Account, &account),
    ]
    .into_iter()
    .filter(|(_, s)| s.get().is_some_and(|p| p.get(setting)))
    .map(|(l, _)| l)
    .collect()
}

/// The changes that turn `setting` off at each of `levels`.
pub fn public_access_off(
    levels: &[PublicAccessLevel],
    setting: crate::evidence::PublicAccessSetting,
) -> Vec<Change> {
    levels
        .iter()
        .map(|l| Change::SetPublicAccessBlock {
            level: *l,
            setting,
            enabled: false,
        })
        .collect()
}

/// The Block Public Access levels in words: "the bucket's Block Public Access", "the
/// account's ...", or both.
pub fn level_words(levels: &[PublicAccessLevel]) -> &'static str {
    match levels {
        [PublicAccessLevel::Bucket] => "the bucket's Block Public Access",
        [PublicAccessLevel::Account] => "the account's Block Public Access",
        _ => "Block Public Access (bucket and account)",
    }
}
