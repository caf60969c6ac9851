//! Rules: each recognises one documented cause of a refused upload in the analysis and
//! explains it. A rule is a unit struct declared with [`declare_rule!`](crate::declare_rule),
//! which captures its docs and registers it with `inventory`; the registry collects every rule
//! linked into the binary.

pub mod explains;
mod identity;
mod kit;
mod layer;
mod rcp;

use std::fmt;

use crate::analysis::{Analysis, Check};
use crate::eval::{Match, StatementRef};
use crate::finding::{Confidence, Finding, Fix, Label, Role, RuleRef};
use crate::policy::{Policy, Statement};

pub use crate::evidence::EvidenceKind;
pub use explains::{Service, Trigger};
pub use identity::emit_identity_missing_allow;
#[doc(hidden)]
pub use inventory;
pub use kit::*;
pub use layer::{RuleLayer, UnknownLayer};
pub use rcp::emit_rcp_findings;

/// Static description of a rule, built by `declare_rule!`.
#[derive(Debug, Clone, Copy)]
pub struct RuleMeta {
    /// `builtin` for the rules shipped with why403; an organization's crates use their own.
    pub scope: &'static str,
    /// Kebab-case, names the cause as found (not the fix).
    pub id: &'static str,
    /// Where the cause lives.
    pub layer: RuleLayer,
    /// One line for listings.
    pub summary: &'static str,
    /// The rules whose findings this rule's findings explain more specifically (`id` for the
    /// same scope, `scope/id` for another): a finding of theirs that one of this rule's
    /// findings claims entirely is superseded.
    pub refines: &'static [&'static str],
    /// The service whose actions the rule explains refusals of.
    pub service: Service,
    /// The actions it explains; empty for any action of the service.
    pub actions: &'static [&'static str],
    /// The forms of AWS's error message that point to its cause (`explain` rules it in or
    /// leaves it possible on them).
    pub messages: &'static [Trigger],
    /// The rule's `///` documentation (Markdown).
    pub docs: &'static str,
    /// The file and line that declared it.
    pub source_file: &'static str,
    /// The line in `source_file`, 1-based.
    pub source_line: u32,
}

impl RuleMeta {
    /// The rule's `scope/id`.
    pub fn rule_ref(&self) -> RuleRef {
        RuleRef {
            scope: self.scope.to_owned(),
            id: self.id.to_owned(),
        }
    }

    /// A `refines` entry as a rule reference: `scope/id`, or `id` in `scope`.
    pub fn resolve(scope: &str, target: &str) -> RuleRef {
        match target.split_once('/') {
            Some((s, i)) => RuleRef {
                scope: s.to_owned(),
                id: i.to_owned(),
            },
            None => RuleRef {
                scope: scope.to_owned(),
                id: target.to_owned(),
            },
        }
    }

    /// The docs with the one leading space of each `///` line removed.
    pub fn docs_markdown(&self) -> String {
        self.docs
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Implemented by `declare_rule!`.
pub trait Declared {
    /// The rule's declaration: id, scope, summary, the evidence and messages it concerns,
    /// its docs and where it was declared.
    fn meta(&self) -> &'static RuleMeta;
}

/// A rule. Implement `check` (and `needs` when the rule cannot say anything without some
/// evidence); declare the struct with `declare_rule!`.
pub trait Rule: Declared + Send + Sync + 'static {
    /// Evidence without which the rule cannot say anything; the engine skips the rule, and
    /// records why, when one of these is unreadable. Rules that can give a `Possible` answer
    /// from partial evidence list nothing here.
    fn needs(&self) -> &'static [EvidenceKind] {
        &[]
    }

    /// Looks at the analysis and emits findings.
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>);
}

/// A registered rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleEntry {
    /// The rule (`declare_rule!` submits one entry per rule to `inventory`).
    pub rule: &'static dyn Rule,
}

impl fmt::Debug for dyn Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.meta().scope, self.meta().id)
    }
}

inventory::collect!(RuleEntry);

/// The rules a diagnosis runs, sorted by scope and id.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    rules: Vec<&'static dyn Rule>,
}

/// Two rules with the same scope and id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule `{0}` is registered twice")]
pub struct DuplicateRule(pub String);

impl Registry {
    /// Every rule linked into the program (a crate's rules are linked when the program uses
    /// the crate, e.g. with `use why403_rule_x as _;`).
    pub fn linked() -> Result<Registry, DuplicateRule> {
        Registry::from_rules(inventory::iter::<RuleEntry>.into_iter().map(|e| e.rule))
    }

    /// A registry of exactly these rules.
    pub fn from_rules(
        rules: impl IntoIterator<Item = &'static dyn Rule>,
    ) -> Result<Registry, DuplicateRule> {
        let mut rules: Vec<&'static dyn Rule> = rules.into_iter().collect();
        rules.sort_by_key(|r| (r.meta().scope, r.meta().id));
        for w in rules.windows(2) {
            if (w[0].meta().scope, w[0].meta().id) == (w[1].meta().scope, w[1].meta().id) {
                return Err(DuplicateRule(format!(
                    "{}/{}",
                    w[0].meta().scope,
                    w[0].meta().id
                )));
            }
        }
        Ok(Registry { rules })
    }

    /// The rules, sorted by scope and id.
    pub fn rules(&self) -> &[&'static dyn Rule] {
        &self.rules
    }

    /// Whether `specific` refines `generic`: `generic` is in the `refines` list of
    /// `specific`, or of a rule that `specific` refines (transitively).
    pub fn refines(&self, specific: &RuleRef, generic: &RuleRef) -> bool {
        let mut seen: Vec<RuleRef> = Vec::new();
        let mut todo = vec![specific.clone()];
        while let Some(r) = todo.pop() {
            let Some(rule) = self.get(&r.to_string()) else {
                continue;
            };
            for target in rule.meta().refines {
                let t = RuleMeta::resolve(rule.meta().scope, target);
                if t == *generic {
                    return true;
                }
                if !seen.contains(&t) {
                    seen.push(t.clone());
                    todo.push(t);
                }
            }
        }
        false
    }

    /// The rules that refine `generic` directly.
    pub fn refined_by(&self, generic: &RuleRef) -> Vec<RuleRef> {
        self.rules
            .iter()
            .filter(|r| {
                r.meta()
                    .refines
                    .iter()
                    .any(|t| RuleMeta::resolve(r.meta().scope, t) == *generic)
            })
            .map(|r| r.meta().rule_ref())
            .collect()
    }

    /// A rule by id (`id` or `scope/id`).
    pub fn get(&self, id: &str) -> Option<&'static dyn Rule> {
        self.rules.iter().copied().find(|r| {
            let m = r.meta();
            m.id == id || format!("{}/{}", m.scope, m.id) == id
        })
    }
}

/// What a rule sees.
#[derive(Debug)]
pub struct RuleContext<'a> {
    /// The analysis of the upload: request, evidence, checks and verdict.
    pub analysis: &'a Analysis,
}

impl<'a> RuleContext<'a> {
    /// The policy and statement a reference in `check` points to.
    pub fn statement(
        &self,
        check: &'a Check,
        at: StatementRef,
    ) -> Option<(&'a Policy, &'a Statement)> {
        let p = check.set.policy(at)?;
        Some((p, p.statements.get(at.statement as usize)?))
    }

    /// The statements that applied with a Deny in a check, outside stand-in policies.
    pub fn denies(&self, check: &'a Check) -> Vec<StatementRef> {
        if check.eval.decision != crate::eval::Decision::ExplicitlyDenied {
            return Vec::new();
        }
        check
            .eval
            .deciding
            .iter()
            .copied()
            .filter(|at| !check.is_synthetic(at.layer, at.level))
            .collect()
    }

    /// Every statement of a layer with its result.
    pub fn traces(
        &self,
        check: &'a Check,
        layer: crate::eval::Layer,
    ) -> Vec<(StatementRef, Match)> {
        check
            .eval
            .layers
            .iter()
            .filter(|l| l.layer == layer)
            .flat_map(|l| {
                check
                    .eval
                    .statements(&check.set, &check.request, l)
                    .map(|t| (t.at, t.result))
            })
            .collect()
    }
}

/// Collects a rule's findings, stamping each with the rule's id.
#[derive(Debug)]
pub struct Emitter<'a> {
    meta: &'static RuleMeta,
    findings: &'a mut Vec<Finding>,
    /// Where this rule's findings start in `findings`.
    start: usize,
}

impl<'a> Emitter<'a> {
    pub(crate) fn new(meta: &'static RuleMeta, findings: &'a mut Vec<Finding>) -> Self {
        let start = findings.len();
        Emitter {
            meta,
            findings,
            start,
        }
    }

    /// This rule's findings so far.
    pub fn emitted(&mut self) -> &mut [Finding] {
        &mut self.findings[self.start..]
    }

    /// The finding this rule already emitted for the deny statement at `at` (for another of
    /// the upload's checks), now also claiming `check`: its message becomes "`subject` denies
    /// `<every action>`" and it takes the check's missing evidence. `None` when there is none:
    /// emit one. One statement that denies several actions is one finding.
    pub fn emitted_for_statement(
        &mut self,
        at: StatementRef,
        check: &Check,
        subject: &str,
    ) -> Option<&mut Finding> {
        let i = self.statement_finding(at)?;
        Some(self.merge_statement(i, at, check, subject))
    }

    /// Where among this rule's findings the one claiming the deny statement at `at` is.
    fn statement_finding(&mut self, at: StatementRef) -> Option<usize> {
        let by = crate::finding::Refusal::Statement(at);
        self.emitted()
            .iter()
            .position(|f| f.claims.iter().any(|c| c.by == by))
    }

    /// [`Emitter::emitted_for_statement`] for the finding at `i`.
    fn merge_statement(
        &mut self,
        i: usize,
        at: StatementRef,
        check: &Check,
        subject: &str,
    ) -> &mut Finding {
        let f = &mut self.emitted()[i];
        f.claim(&check.action, crate::finding::Refusal::Statement(at));
        let actions: Vec<String> = f.claims.iter().map(|c| format!("`{}`", c.check)).collect();
        f.message = format!("{subject} denies {}", join_and(&actions));
        for m in &check.missing {
            if !f.missing.contains(m) {
                f.missing.push(m.clone());
            }
        }
        f
    }

    /// Starts a finding; fill in labels, statements and a fix on the returned value.
    pub fn emit(
        &mut self,
        role: Role,
        confidence: Confidence,
        message: impl Into<String>,
    ) -> &mut Finding {
        self.findings.push(Finding {
            rule: self.meta.rule_ref(),
            role,
            confidence,
            message: message.into(),
            check: None,
            labels: Vec::new(),
            fix: None,
            missing: Vec::new(),
            notes: Vec::new(),
            claims: Vec::new(),
        });
        self.findings.last_mut().expect("just pushed")
    }
}

/// A label on a statement element, for findings.
pub fn label(
    policy: &Policy,
    span: crate::json::Span,
    pointer: &str,
    primary: bool,
    text: impl Into<String>,
) -> Label {
    Label {
        document: policy.name.clone(),
        text: policy.text.clone(),
        origin: policy.origin.clone(),
        span,
        pointer: pointer.to_owned(),
        primary,
        message: text.into(),
    }
}

/// Declares a rule: a documented unit struct registered with the rule registry. `layer` is a
/// [`RuleLayer`] variant; then, in this order, `refines` (rule ids, see
/// [`RuleMeta::refines`]), `service` (a [`Service`] variant, `Any` when left out), `actions`
/// and `messages` (written with [`explains::prelude`]: `explicit(ResourceBased)`,
/// `code("KMS.DisabledException")`, `special(SseCBlocked)`, `GENERIC`). The four may be left
/// out; the built-in rules state them all, so that every declaration reads the same.
///
/// ```ignore
/// why403_core::declare_rule! {
///     /// ## Cause
///     /// ...
///     pub struct BucketPolicyExplicitDeny {
///         id: "bucket-policy-explicit-deny",
///         scope: "builtin",
///         layer: BucketPolicy,
///         summary: "a bucket policy statement explicitly denies the upload",
///         service: S3,
///         messages: [explicit(ResourceBased)],
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            id: $id:literal,
            scope: $scope:literal,
            layer: $layer:ident,
            summary: $summary:literal
            $(, refines: [$($refines:literal),* $(,)?])?
            $(, service: $service:ident)?
            $(, actions: [$($action:literal),* $(,)?])?
            $(, messages: [$($message:expr),* $(,)?])? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $name {
            /// The rule's metadata.
            pub const META: $crate::rule::RuleMeta = $crate::rule::RuleMeta {
                scope: $scope,
                id: $id,
                layer: $crate::rule::RuleLayer::$layer,
                summary: $summary,
                refines: &[$($($refines),*)?],
                service: {
                    #[allow(unused_imports)]
                    use $crate::rule::explains::prelude::*;
                    let s = $crate::rule::Service::Any;
                    $(let s = $service;)?
                    s
                },
                actions: &[$($($action),*)?],
                messages: {
                    #[allow(unused_imports)]
                    use $crate::rule::explains::prelude::*;
                    &[$($($message),*)?]
                },
                docs: concat!($($doc, "\n"),*),
                source_file: file!(),
                source_line: line!(),
            };
        }

        impl $crate::rule::Declared for $name {
            fn meta(&self) -> &'static $crate::rule::RuleMeta {
                &Self::META
            }
        }

        $crate::rule::inventory::submit! {
            $crate::rule::RuleEntry { rule: &$name }
        }
    };
}

/// How a rule words the explicit-deny finding [`emit_explicit_deny`] builds.
#[derive(Debug)]
pub struct DenyWording {
    /// The start of the finding's message, naming the statement, e.g. "explicit deny in
    /// statement `S` of \<policy>"; " denies `<action>`" (every action the statement denies) is
    /// added.
    pub subject: String,
    /// The text under the statement's `Effect`.
    pub effect_label: &'static str,
    /// The fix when no request header would make a condition false (usually removing the
    /// statement).
    pub fallback: crate::finding::Fix,
}

/// Emits the finding for the Deny statement at `at` that applied in `check`: labels on its
/// `Effect` and on each condition with why it held (the first condition is the primary label,
/// or the `Effect` when there are none), the check's missing evidence, and a fix that sends a
/// header making a condition false when one exists, else `wording.fallback`. An explicit deny
/// decides whatever unreadable evidence says, so the finding is confirmed. One statement that
/// denies several of the upload's actions gives one finding that claims each and names them
/// all.
pub fn emit_explicit_deny<'e>(
    out: &'e mut Emitter<'_>,
    check: &Check,
    at: StatementRef,
    policy: &Policy,
    st: &Statement,
    wording: DenyWording,
) -> &'e mut Finding {
    use crate::finding::{Fix, Refusal, header_fix_for};
    if let Some(i) = out.statement_finding(at) {
        return out.merge_statement(i, at, check, &wording.subject);
    }
    let f = out.emit(
        Role::Cause,
        Confidence::Confirmed,
        format!("{} denies `{}`", wording.subject, check.action),
    );
    f.claim(&check.action, Refusal::Statement(at));
    f.labels.push(label(
        policy,
        st.effect_span,
        &format!("{}/Effect", st.pointer),
        false,
        wording.effect_label,
    ));
    // Point at what made the statement apply: each condition, or the statement.
    let mut header_fix = None;
    for c in &st.conditions {
        let why = crate::eval::explain_condition_holds(c, &check.request.context);
        let primary = !f.labels.iter().any(|l| l.primary);
        f.labels
            .push(label(policy, c.key_span, &c.key_pointer, primary, why));
        // A request header is a condition key of S3's checks only: on a KMS check (S3 calling
        // KMS) an `s3:x-amz-...` key is absent whatever the upload sends, so sending a header
        // cannot change it; the statement itself must change.
        let header_reaches = !c.key_lower.starts_with("s3:") || check.action.starts_with("s3:");
        if header_fix.is_none() && header_reaches {
            header_fix = header_fix_for(c);
        }
    }
    if st.conditions.is_empty() {
        f.labels[0].primary = true;
        f.labels[0].message = format!("denies `{}` without conditions", check.action);
    }
    f.missing = check.missing.clone();
    f.fix = Some(match header_fix {
        Some((changes, sentence)) => Fix::new(sentence, changes),
        None => wording.fallback,
    });
    f
}

/// `a`, `a and b`, `a, b and c`.
pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The [`PolicyTarget`](crate::finding::PolicyTarget) a fix uses to change the policy a
/// statement reference points into, for the layers a fix can edit.
pub fn policy_target(at: StatementRef) -> Option<crate::finding::PolicyTarget> {
    use crate::eval::Layer;
    use crate::finding::PolicyTarget;
    Some(match at.layer {
        Layer::Identity => PolicyTarget::Identity(at.policy as usize),
        Layer::Resource => PolicyTarget::BucketPolicy,
        Layer::Boundary if at.policy == 0 => PolicyTarget::Boundary,
        Layer::Session => PolicyTarget::Session,
        Layer::VpcEndpoint => PolicyTarget::VpcEndpoint,
        Layer::Scp => PolicyTarget::Scp {
            level: at.level as usize,
            index: at.policy as usize,
        },
        Layer::Rcp => PolicyTarget::Rcp {
            level: at.level as usize,
            index: at.policy as usize,
        },
        _ => return None,
    })
}

/// [`policy_target`] for a statement of `check`: the resource layer of a check made through an
/// access point is the access point policy, not the bucket policy.
pub fn policy_target_in(check: &Check, at: StatementRef) -> Option<crate::finding::PolicyTarget> {
    use crate::analysis::ResourcePolicy;
    use crate::finding::PolicyTarget;
    match (at.layer, check.resource_policy) {
        (crate::eval::Layer::Resource, ResourcePolicy::AccessPoint) => {
            Some(PolicyTarget::AccessPointPolicy)
        }
        (crate::eval::Layer::Resource, ResourcePolicy::KeyPolicy) => Some(PolicyTarget::KeyPolicy),
        _ => policy_target(at),
    }
}

/// How the statement at `at` matches `check`'s request once its policy document is edited by
/// `edit` (the document as JSON) and the check is evaluated again, the rest unchanged. `None`
/// when the policy cannot be found, the edit fails, or the edited document does not parse.
/// Rules use it to tell whether a change to one statement is what keeps it from matching.
pub fn match_after_edit(
    check: &Check,
    at: StatementRef,
    edit: impl FnOnce(&mut serde_json::Value) -> Option<()>,
) -> Option<Match> {
    use crate::eval::Layer;
    let policy = check.set.policy(at)?;
    let mut doc: serde_json::Value = serde_json::from_str(&policy.text).ok()?;
    edit(&mut doc)?;
    let text = serde_json::to_string(&doc).ok()?;
    let edited = Policy::parse(&policy.name, policy.kind, &text).ok()?;
    let mut set = check.set.clone();
    let (l, p) = (at.level as usize, at.policy as usize);
    let slot = match at.layer {
        Layer::Identity => set.identity.get_mut(p),
        Layer::Resource => set.resource.as_mut(),
        Layer::Scp => set.scp.get_mut(l).and_then(|v| v.get_mut(p)),
        Layer::Rcp => set.rcp.get_mut(l).and_then(|v| v.get_mut(p)),
        Layer::Boundary => set.boundary.as_mut().and_then(|v| v.get_mut(p)),
        Layer::Session => set.session.as_mut(),
        Layer::VpcEndpoint => set.vpc_endpoint.as_mut().and_then(|v| v.get_mut(l)),
        Layer::BlockPublicAccess | Layer::AwsManaged => None,
    }?;
    *slot = edited;
    let eval = set.evaluate(&check.request);
    eval.result_of(&set, &check.request, at).map(|t| t.result)
}

/// The statement at `index` of a policy document given as JSON (an array or a single object).
pub fn statement_mut(doc: &mut serde_json::Value, index: usize) -> Option<&mut serde_json::Value> {
    match doc.get_mut("Statement")? {
        serde_json::Value::Array(a) => a.get_mut(index),
        o @ serde_json::Value::Object(_) if index == 0 => Some(o),
        _ => None,
    }
}

/// A label on a field of the KMS key as `aws kms describe-key` prints it (`KeyState`,
/// `KeySpec`, `KeyUsage`, `KeyManager`, `Arn`, `AWSAccountId`, `KeyId`), rebuilt from the
/// evidence so a finding about the key's settings points at the setting. `None` for another
/// field.
pub fn kms_key_label(
    key: &crate::evidence::KmsKey,
    field: &str,
    primary: bool,
    text: impl Into<String>,
) -> Option<Label> {
    let fields = [
        ("AWSAccountId", &key.account),
        ("KeyId", &key.key_id),
        ("Arn", &key.arn),
        ("KeyState", &key.state),
        ("KeyManager", &key.manager),
        ("KeySpec", &key.spec),
        ("KeyUsage", &key.usage),
    ];
    let members: Vec<(&str, String)> = fields
        .iter()
        .map(|(k, v)| (*k, serde_json::Value::String((*v).clone()).to_string()))
        .collect();
    setting_label(
        &format!("`aws kms describe-key` of {} (as read)", key.arn),
        "KeyMetadata",
        &members,
        field,
        primary,
        text.into(),
    )
}

/// A label on a field of the bucket's default encryption rule as `aws s3api
/// get-bucket-encryption` prints it (`SSEAlgorithm`, `KMSMasterKeyID`, `BucketKeyEnabled`),
/// rebuilt from the evidence. `None` for another field or when the encryption is unknown.
pub fn bucket_encryption_label(
    analysis: &Analysis,
    field: &str,
    primary: bool,
    text: impl Into<String>,
) -> Option<Label> {
    let enc = analysis.evidence.bucket.encryption.get()?;
    let mut members = vec![(
        "SSEAlgorithm",
        serde_json::Value::String(enc.algorithm.clone()).to_string(),
    )];
    if let Some(k) = &enc.kms_key_id {
        members.push((
            "KMSMasterKeyID",
            serde_json::Value::String(k.clone()).to_string(),
        ));
    }
    members.push(("BucketKeyEnabled", enc.bucket_key_enabled.to_string()));
    setting_label(
        &format!(
            "`aws s3api get-bucket-encryption` of {} (as read)",
            analysis.evidence.bucket.name
        ),
        "ServerSideEncryptionConfiguration",
        &members,
        field,
        primary,
        text.into(),
    )
}

/// `{"<outer>": {"<name>": <value>, ...}}` with one member per line, and a label on `field`.
fn setting_label(
    document: &str,
    outer: &str,
    members: &[(&str, String)],
    field: &str,
    primary: bool,
    message: String,
) -> Option<Label> {
    let mut text = format!("{{\n  \"{outer}\": {{\n");
    let mut span = None;
    for (i, (name, value)) in members.iter().enumerate() {
        text.push_str("    ");
        let start = text.len();
        text.push_str(&format!("\"{name}\": {value}"));
        if *name == field {
            span = Some(crate::json::Span::new(start, text.len()));
        }
        if i + 1 < members.len() {
            text.push(',');
        }
        text.push('\n');
    }
    text.push_str("  }\n}\n");
    Some(Label {
        document: document.to_owned(),
        text: text.into(),
        origin: None,
        span: span?,
        pointer: format!("/{outer}/{field}"),
        primary,
        message,
    })
}

/// A `Possible` cause for every S3 check where the bucket setting `kind` could not be read
/// although, were it set, it would refuse this upload: the message says what would happen, the
/// finding names the missing evidence and the IAM action that reads it, and the fix (if any) is
/// the one that avoids the setting. Returns the findings it emitted, for the rule's notes.
pub fn emit_unread_setting<'e>(
    cx: &RuleContext<'_>,
    out: &'e mut Emitter<'_>,
    kind: EvidenceKind,
    message: &str,
    fix: Option<&Fix>,
) -> &'e mut [Finding] {
    let start = out.emitted().len();
    for check in cx
        .analysis
        .checks
        .iter()
        .filter(|c| c.kind == crate::analysis::CheckKind::S3)
    {
        let Some(m) = check.missing.iter().find(|m| m.kind == kind) else {
            continue;
        };
        let f = out.emit(Role::Cause, Confidence::Possible, message.to_owned());
        f.claim(&check.action, crate::finding::Refusal::Unread(kind));
        f.missing = vec![m.clone()];
        f.fix = fix.cloned();
    }
    &mut out.emitted()[start..]
}

/// When the upload's customer managed KMS key could not be described and that is what leaves
/// a KMS check undecided (nothing else refuses), a `Possible` cause: `says` completes "the KMS
/// key `<arn>` ..." (e.g. "may be disabled: its state could not be read"). Used by the rules
/// of the key's state and spec; the AWS managed key `aws/s3` is left out (AWS manages it).
pub fn emit_unread_kms_key(cx: &RuleContext<'_>, out: &mut Emitter<'_>, says: &str) {
    use crate::analysis::{CheckKind, CheckOutcome, KeyChoice, Verdict, key_choice};
    let a = cx.analysis;
    if !matches!(a.evidence.kms_key, crate::evidence::Slot::Unavailable(_))
        || a.verdict == Verdict::Allowed
    {
        return;
    }
    let Some(check) = a.checks.iter().find(|c| {
        c.kind == CheckKind::Kms
            && c.outcome == CheckOutcome::Indeterminate
            && c.blocks.is_empty()
            && c.missing.iter().any(|m| m.kind == EvidenceKind::KmsKey)
    }) else {
        return;
    };
    let what = match key_choice(&a.request, &a.evidence) {
        KeyChoice::Kms { key: Some(k), .. } => format!("`{k}`"),
        KeyChoice::Kms { key: None, .. } => return,
        _ => "the upload uses (if any)".to_owned(),
    };
    let f = out.emit(
        Role::Cause,
        Confidence::Possible,
        format!("the KMS key {what} {says}"),
    );
    f.claim(
        &check.action,
        crate::finding::Refusal::Unread(EvidenceKind::KmsKey),
    );
    f.missing = check.missing.clone();
}

/// [`emit_explicit_deny`] for every statement of `layer` that explicitly denies one of the
/// upload's checks, with the common message ("explicit deny in statement `S` of \<policy>
/// denies `<action>`"), `effect_label` under the statement's `Effect`, and
/// `fallback(at, policy, statement)` as the fix when no request header would make a condition
/// false. The identity, boundary, session and VPC endpoint rules differ only in these.
pub fn emit_layer_denies(
    cx: &RuleContext<'_>,
    out: &mut Emitter<'_>,
    layer: crate::eval::Layer,
    effect_label: &'static str,
    fallback: impl Fn(StatementRef, &Policy, &Statement) -> Fix,
) {
    for (check, at, policy, st) in cx.layer_denies(layer) {
        emit_explicit_deny(
            out,
            check,
            at,
            policy,
            st,
            DenyWording {
                subject: format!(
                    "explicit deny in statement `{}` of {}",
                    st.label(),
                    policy.name
                ),
                effect_label,
                fallback: fallback(at, policy, st),
            },
        );
    }
}

/// For every check that a level of `layer` (a permissions boundary, session policy or VPC
/// endpoint policy: layers that must allow) refuses for want of an Allow, also alongside an
/// explicit deny elsewhere, a finding "\<name> does not allow `<action>`" that labels the Allow
/// statements whose `Action` matched with why each missed, carries the check's missing evidence
/// (`Likely` when there is any), and lets `finish(finding, check, name, resource)` add the
/// rule's own notes and fix; `name` names the level's policy and `resource` is what the fix
/// should allow (the bucket's objects for S3 actions, else the request's resource). Levels
/// standing in for unreadable policies are left to the rules' `Possible` findings.
pub fn emit_missing_allow(
    cx: &RuleContext<'_>,
    out: &mut Emitter<'_>,
    layer: crate::eval::Layer,
    name: impl Fn(Option<&Policy>) -> String,
    finish: impl Fn(&mut Finding, &Check, &str, &str),
) {
    for check in &cx.analysis.checks {
        let levels = check
            .eval
            .refused_without_deny()
            .iter()
            .filter(|b| b.layer == layer)
            .map(|b| b.level);
        for level in levels {
            if check.is_synthetic(layer, level) {
                continue;
            }
            let at0 = StatementRef {
                layer,
                level,
                policy: 0,
                statement: 0,
            };
            let name = name(check.set.policy(at0));
            let resource = if check.action.starts_with("s3:") {
                crate::analysis::derive::authorized_folder(
                    &cx.analysis.request,
                    &cx.analysis.evidence,
                )
            } else {
                check.request.resource.clone()
            };
            // A statement that one change would make apply is named, not "nothing allows".
            let message = match near_miss(cx, check, layer, Some(level), &resource) {
                Some(nm) => nm.message(&name, check),
                None => format!("{name} does not allow `{}`", check.action),
            };
            let f = cx.cause(
                out,
                check,
                crate::finding::Refusal::NoAllow { layer, level },
                message,
            );
            f.notes.push(format!(
                "the upload needs `{}` because {}",
                check.action, check.reason
            ));
            f.labels
                .extend(near_miss_labels(cx, check, layer, Some(level)));
            finish(f, check, &name, &resource);
        }
    }
}

/// Whether an Allow statement of the resource-based policy applies to the check.
pub fn resource_policy_allows(cx: &RuleContext<'_>, check: &Check) -> bool {
    cx.traces(check, crate::eval::Layer::Resource)
        .iter()
        .any(|(at, m)| {
            *m == Match::Applies
                && cx
                    .statement(check, *at)
                    .is_some_and(|(_, st)| st.effect == crate::policy::Effect::Allow)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{Layer, PolicySet, Request, RequestPrincipal};
    use crate::policy::PolicyKind;

    fn check_with_bucket_policy(text: &str) -> Check {
        let set = PolicySet {
            resource: Some(Policy::parse("bucket policy", PolicyKind::Resource, text).unwrap()),
            ..PolicySet::default()
        };
        let mut request = Request::new(
            RequestPrincipal::parse(Some("arn:aws:sts::111122223333:assumed-role/Uploader/s1")),
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/a.txt",
            crate::context::RequestContext::new(),
        );
        request.resource_account = Some("444455556666".into());
        let eval = set.evaluate(&request);
        Check {
            kind: crate::analysis::CheckKind::S3,
            action: "s3:PutObject".into(),
            reason: String::new(),
            set,
            request,
            eval,
            worst: None,
            synthetic: Vec::new(),
            missing: Vec::new(),
            blocks: Vec::new(),
            kms_grant: None,
            outcome: crate::analysis::CheckOutcome::Denied,
            resource_policy: crate::analysis::ResourcePolicy::Bucket,
            bucket_side: None,
        }
    }

    #[test]
    fn match_after_edit_reevaluates_the_edited_statement() {
        // A bucket policy Principal that names another session of the role does not match the
        // caller's session (IAM compares the session ARN exactly); naming the role ARN matches
        // every session of the role.
        let check = check_with_bucket_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/Uploader/old"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
        );
        let at = StatementRef {
            layer: Layer::Resource,
            level: 0,
            policy: 0,
            statement: 0,
        };
        let before = check
            .eval
            .result_of(&check.set, &check.request, at)
            .unwrap();
        assert!(
            matches!(before.result, Match::Miss(m) if m.element == crate::eval::Element::Principal)
        );
        let after = match_after_edit(&check, at, |doc| {
            statement_mut(doc, 0)?["Principal"]["AWS"] =
                "arn:aws:iam::111122223333:role/Uploader".into();
            Some(())
        });
        assert_eq!(after, Some(Match::Applies));
        // An edit that fails, or a statement that does not exist, gives nothing.
        assert_eq!(match_after_edit(&check, at, |_| None), None);
        let missing = StatementRef { statement: 7, ..at };
        assert_eq!(match_after_edit(&check, missing, |_| Some(())), None);
        assert_eq!(
            policy_target(at),
            Some(crate::finding::PolicyTarget::BucketPolicy)
        );
    }
}
