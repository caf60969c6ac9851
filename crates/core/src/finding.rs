//! Findings, fixes and the diagnosis: what the rules say about an analysis, each fix verified
//! by applying it to a copy of the evidence and analysing again.

mod apply;
pub mod howto;
mod widen;

use std::sync::Arc;

use crate::analysis::{Analysis, BlockCode, CheckOutcome, Missing, Verdict};
use crate::eval::{Layer, StatementRef};
use crate::evidence::EvidenceKind;
use crate::evidence::{AclPermission, Evidence, PublicAccessLevel, PublicAccessSetting};
use crate::json::Span;
use crate::policy::Origin;
use crate::rule::{Emitter, Registry, RuleContext};
use crate::upload::UploadRequest;

pub use apply::ApplyError;

/// `scope/id` of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleRef {
    /// The scope the rule is registered in: `builtin` for the rules shipped with why403,
    /// otherwise the name its crate declares.
    pub scope: String,
    /// The rule's id within its scope, e.g. `bucket-policy-explicit-deny`.
    pub id: String,
}

impl std::fmt::Display for RuleRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.scope, self.id)
    }
}

/// What a finding is to the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Enough on its own to refuse the upload.
    Cause,
    /// Part of the refusal together with something else.
    Contributing,
    /// Worth knowing; does not refuse the upload.
    Observation,
}

/// How sure the finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// Follows from complete evidence.
    Confirmed,
    /// Follows from the evidence read, but unreadable evidence could change it.
    Likely,
    /// Could be the cause; the evidence that would tell could not be read.
    Possible,
}

/// A place in a policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// The document's name, e.g. "bucket policy of amzn-s3-demo-bucket".
    pub document: String,
    /// The document text the span refers to.
    pub text: Arc<str>,
    /// Where the document stands in a file, if it came from one.
    pub origin: Option<Origin>,
    /// The byte range of the element in `text`.
    pub span: Span,
    /// The JSON pointer of the element in the document, e.g. `/Statement/0/Condition`.
    pub pointer: String,
    /// The main place of the finding (one per finding).
    pub primary: bool,
    /// What this place shows, in the message conventions of [`Finding::message`].
    pub message: String,
}

impl Label {
    /// 1-based line and column of the span start, in the file when the origin is known.
    pub fn line_col(&self) -> (usize, usize) {
        let (l, c) = crate::json::line_col_shared(&self.text, self.span.start as usize);
        match &self.origin {
            Some(o) if !o.from_string => {
                (o.line + l - 1, if l == 1 { o.column + c - 1 } else { c })
            }
            _ => (l, c),
        }
    }
}

/// A structured change to the evidence or the request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// Attach a new inline policy to the caller's user or role.
    AddIdentityPolicy {
        /// The inline policy's name.
        name: String,
        /// The policy document.
        document: serde_json::Value,
    },
    /// Add a statement to a policy.
    AddStatement {
        /// The policy to add it to.
        target: PolicyTarget,
        /// The statement, as JSON.
        statement: serde_json::Value,
    },
    /// Delete a statement from a policy.
    RemoveStatement {
        /// The policy to delete it from.
        target: PolicyTarget,
        /// The statement's 0-based index in the policy's `Statement` array.
        statement: usize,
    },
    /// Replace a statement of a policy.
    ReplaceStatement {
        /// The policy whose statement it replaces.
        target: PolicyTarget,
        /// The statement's 0-based index in the policy's `Statement` array.
        statement: usize,
        /// The new statement, as JSON.
        with: serde_json::Value,
    },
    /// Send a request header (replacing any value).
    SetHeader {
        /// The header name, e.g. `x-amz-server-side-encryption`.
        name: String,
        /// The value to send.
        value: String,
    },
    /// Stop sending a request header.
    RemoveHeader {
        /// The header name.
        name: String,
    },
    /// Add a grant to the bucket ACL.
    AddAclGrant {
        /// The grantee's canonical user id.
        canonical_id: String,
        /// The permission granted.
        permission: AclPermission,
    },
    /// Attach a new SCP at a level of the caller's organization path (root first).
    AttachScp {
        /// The level's index on the caller's organization path, root first.
        level: usize,
        /// The SCP's name.
        name: String,
        /// The SCP document.
        document: serde_json::Value,
    },
    /// Attach a new RCP at a level of the resource owner's organization path (root first).
    AttachRcp {
        /// The level's index on the resource owner's organization path, root first.
        level: usize,
        /// The RCP's name.
        name: String,
        /// The RCP document.
        document: serde_json::Value,
    },
    /// Send the request over HTTPS.
    UseHttps,
    /// Send the request from inside this VPC, through an S3 VPC endpoint there (for an access
    /// point whose network origin is that VPC). The endpoint is taken to have the default
    /// endpoint policy, which allows everything: the fix's description says so.
    SendFromVpc {
        /// The VPC id (`vpc-...`).
        vpc: String,
    },
    /// Make the directory bucket session with this `SessionMode` (`ReadWrite` to upload).
    UseSessionMode {
        /// The mode.
        mode: crate::upload::SessionMode,
    },
    /// Set the `Version` element of a policy (e.g. to `2012-10-17`, which policy variables
    /// need).
    SetPolicyVersion {
        /// The policy to change.
        target: PolicyTarget,
        /// The new `Version` value.
        version: String,
    },
    /// Create the caller's role or federated-user session again with this session tag
    /// (`aws:PrincipalTag/<key>`); sessions cannot be tagged after they are created.
    SetSessionTag {
        /// The tag key.
        key: String,
        /// The tag value.
        value: String,
    },
    /// Enable the upload's KMS key (`aws kms enable-key`); a key pending deletion cannot be
    /// enabled before its deletion is cancelled.
    EnableKmsKey,
    /// Make the upload's KMS key usable again where no API call does it alone: import its key
    /// material again (`PendingImport`), reconnect its custom key store (`Unavailable`), or
    /// wait for a multi-Region operation to end (`Creating`, `Updating`); the key is then
    /// `Enabled`. A disabled key or one pending deletion needs the other changes.
    RestoreKmsKey,
    /// Cancel the scheduled deletion of the upload's KMS key (`aws kms cancel-key-deletion`);
    /// the key then is `Disabled`, as AWS leaves it.
    CancelKmsKeyDeletion,
    /// Encrypt the upload with another KMS key: an enabled symmetric encryption key with this
    /// ARN (its account and Region are read from it), configured where the current key is (the
    /// request header or the bucket's default encryption). Its key policy is `key_policy`, or a
    /// copy of the current key's policy when `None` (a multi-Region replica, or a new key set
    /// up like the current one); it has no grants.
    UseKmsKey {
        /// The new key's ARN.
        arn: String,
        /// The new key's key policy; `None` copies the current key's policy.
        key_policy: Option<serde_json::Value>,
    },
    /// Turn a Block Public Access setting on or off at the bucket or the bucket owner's
    /// account level.
    SetPublicAccessBlock {
        /// Whether the bucket's or the account's setting changes.
        level: PublicAccessLevel,
        /// The setting to change.
        setting: PublicAccessSetting,
        /// `true` turns it on, `false` off.
        enabled: bool,
    },
}

/// A policy a change applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyTarget {
    /// The caller's identity policy at this index.
    Identity(usize),
    /// The caller's permissions boundary.
    Boundary,
    /// The session policy.
    Session,
    /// The bucket policy.
    BucketPolicy,
    /// The key policy of the upload's KMS key.
    KeyPolicy,
    /// An SCP: organization level (root first) and index within the level.
    Scp {
        /// The level, root first.
        level: usize,
        /// The policy's index within the level.
        index: usize,
    },
    /// An RCP: organization level (root first) and index within the level.
    Rcp {
        /// The level, root first.
        level: usize,
        /// The policy's index within the level.
        index: usize,
    },
    /// The VPC endpoint policy.
    VpcEndpoint,
    /// The policy of the access point the request goes through.
    AccessPointPolicy,
}

/// Whether a fix was shown to work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Applied alone, the upload is allowed.
    Resolves,
    /// Applied alone, the upload is still refused by these.
    StillDenied {
        /// What still refuses it, in words, one entry per refusal.
        by: Vec<String>,
    },
    /// Applied alone, the result depends on evidence that could not be read.
    Indeterminate {
        /// The evidence that could not be read, in words.
        missing: Vec<String>,
    },
    /// Not verified, and why.
    NotChecked {
        /// Why, in words.
        why: String,
    },
}

/// A fix: one imperative sentence and the changes that implement it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// The fix in one imperative sentence, in the message conventions of
    /// [`Finding::message`].
    pub description: String,
    /// The changes that implement it, applied in order.
    pub changes: Vec<Change>,
    /// Whether applying `changes` alone was shown to let the upload through.
    pub verified: Verification,
    /// What the fix allows beyond the refused request (other objects, buckets, actions or
    /// principals), in words; empty when it allows nothing more.
    pub widens: Vec<String>,
}

impl Fix {
    /// A fix not verified yet (the diagnosis verifies it) that widens nothing.
    pub fn new(description: impl Into<String>, changes: Vec<Change>) -> Fix {
        Fix {
            description: description.into(),
            changes,
            verified: Verification::NotChecked {
                why: "not verified yet".into(),
            },
            widens: Vec::new(),
        }
    }
}

/// What refuses a check, as a finding claims to explain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// A statement that explicitly denies.
    Statement(StatementRef),
    /// A layer (or one level of it) that refuses for want of an Allow.
    NoAllow {
        /// The layer.
        layer: Layer,
        /// The SCP or RCP level or VPC endpoint index, as in [`StatementRef::level`].
        level: u16,
    },
    /// A refusal by S3 or KMS outside policy evaluation.
    Block(BlockCode),
    /// Evidence that could not be read and could refuse.
    Unread(EvidenceKind),
    /// The check as a whole (a rule that does not say more precisely).
    Check,
}

/// What a finding explains: one refused check (its action) and what refuses it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Claim {
    /// The check's action, e.g. `s3:PutObject`.
    pub check: String,
    /// What refuses it.
    pub by: Refusal,
}

impl Claim {
    /// Whether this claim explains the same refusal as `other` (the same check; the same
    /// refusal, or either side names only the check).
    pub fn covers(&self, other: &Claim) -> bool {
        self.check.eq_ignore_ascii_case(&other.check)
            && (self.by == other.by || self.by == Refusal::Check || other.by == Refusal::Check)
    }
}

/// What a rule found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule that found it.
    pub rule: RuleRef,
    /// What the finding is to the refusal.
    pub role: Role,
    /// How sure it is.
    pub confidence: Confidence,
    /// Lower-case first word, no final period, AWS values in backticks.
    pub message: String,
    /// The action whose check this finding explains, e.g. `s3:PutObject`.
    pub check: Option<String>,
    /// The places in policy documents that show it; one of them is primary.
    pub labels: Vec<Label>,
    /// The fix, when the rule knows one.
    pub fix: Option<Fix>,
    /// Unreadable evidence that would confirm or rule out the finding.
    pub missing: Vec<Missing>,
    /// Further remarks, one per entry, in the message conventions.
    pub notes: Vec<String>,
    /// The refusals the finding explains; the diagnosis keeps one explanation per refusal.
    pub claims: Vec<Claim>,
}

impl Finding {
    /// Says that the finding explains `by` refusing the check of `action` (and makes that the
    /// finding's check when it has none).
    pub fn claim(&mut self, action: &str, by: Refusal) -> &mut Finding {
        if self.check.is_none() {
            self.check = Some(action.to_owned());
        }
        let c = Claim {
            check: action.to_owned(),
            by,
        };
        if !self.claims.contains(&c) {
            self.claims.push(c);
        }
        self
    }

    /// Whether the two findings claim a refusal of the same check.
    pub fn shares_check(&self, other: &Finding) -> bool {
        self.claims.iter().any(|c| {
            other
                .claims
                .iter()
                .any(|d| c.check.eq_ignore_ascii_case(&d.check))
        })
    }

    /// Whether the finding explains an explicit deny (AWS reports those whatever else refuses).
    pub fn is_explicit_deny(&self) -> bool {
        self.claims
            .iter()
            .any(|c| matches!(c.by, Refusal::Statement(_)))
    }
}

/// A finding that a more specific one explains, kept so that nothing is silently lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Superseded {
    /// The finding set aside.
    pub finding: Finding,
    /// The rule whose finding explains the same refusal.
    pub by: RuleRef,
    /// Why, in words.
    pub why: String,
}

/// A rule that was not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The rule.
    pub rule: RuleRef,
    /// The kinds of evidence it needs that could not be read ([`EvidenceKind`] names).
    pub missing: Vec<String>,
}

/// The result of a diagnosis.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    /// Whether the upload is allowed, denied, or depends on unread evidence.
    pub verdict: Verdict,
    /// In the order [`Diagnosis::push`] keeps.
    pub findings: Vec<Finding>,
    /// Findings that a more specific finding explains.
    pub superseded: Vec<Superseded>,
    /// Rules not run because evidence they need could not be read.
    pub skipped: Vec<Skipped>,
    /// The analysis the findings come from: the request, the evidence and every check.
    pub analysis: Analysis,
    /// The client whose terms fixes are said in (see [`howto`]): the one the upload was sent
    /// by when given, else the one the error's wording names.
    pub client: Option<crate::client::Client>,
}

/// The id of the finding core adds when the upload is denied and no rule explains it.
pub const UNEXPLAINED_DENY: &str = "unexplained-deny";

/// Diagnoses an upload with the registry's rules, verifies every fix, keeps one explanation
/// per refusal (see [`supersede`]) and orders the findings.
pub fn diagnose(request: UploadRequest, evidence: Evidence, registry: &Registry) -> Diagnosis {
    let analysis = Analysis::new(request, evidence);
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let cx = RuleContext {
        analysis: &analysis,
    };
    for rule in registry.rules() {
        let missing: Vec<String> = rule
            .needs()
            .iter()
            .filter(|k| !k.is_known(&analysis))
            .map(ToString::to_string)
            .collect();
        if !missing.is_empty() {
            skipped.push(Skipped {
                rule: rule.meta().rule_ref(),
                missing,
            });
            continue;
        }
        let mut out = Emitter::new(rule.meta(), &mut findings);
        rule.check(&cx, &mut out);
    }
    for f in &mut findings {
        if f.claims.is_empty()
            && let Some(c) = f.check.clone()
        {
            f.claim(&c, Refusal::Check);
        }
    }
    if analysis.verdict == Verdict::Denied && !findings.iter().any(|f| f.role == Role::Cause) {
        findings.push(unexplained(&analysis));
    }
    // Each verification analyses the upload again: the same change is verified once, and
    // the number of verifications is bounded by the statements each one evaluates.
    let mut verified: Vec<(&[Change], Verification, Vec<String>)> = Vec::new();
    let budget = (MAX_REANALYSED_STATEMENTS / statements_of(&analysis).max(1)).max(MIN_VERIFIED);
    let mut fixes: Vec<&mut Fix> = findings.iter_mut().filter_map(|f| f.fix.as_mut()).collect();
    let mut results = Vec::with_capacity(fixes.len());
    for fix in &fixes {
        if let Some(v) = denied_by_untouched_statements(&analysis, &fix.changes) {
            results.push((v, Vec::new()));
        } else if let Some((_, v, w)) = verified.iter().find(|(c, ..)| *c == fix.changes) {
            results.push((v.clone(), w.clone()));
        } else if verified.len() < budget {
            let (v, w) = verify_and_widen(&analysis, &fix.changes);
            verified.push((&fix.changes, v.clone(), w.clone()));
            results.push((v, w));
        } else {
            let why = format!(
                "{} other fixes were verified, as many as a diagnosis of {} policy \
                 statements verifies",
                verified.len(),
                statements_of(&analysis)
            );
            results.push((Verification::NotChecked { why }, Vec::new()));
        }
    }
    drop(verified);
    for (fix, (v, w)) in fixes.iter_mut().zip(results) {
        fix.verified = v;
        fix.widens = w;
    }
    let (findings, superseded) = supersede(findings, registry);
    let mut d = Diagnosis {
        verdict: analysis.verdict.clone(),
        findings: Vec::new(),
        superseded,
        skipped,
        analysis,
        client: None,
    };
    for f in findings {
        d.push(f);
    }
    d
}

impl Diagnosis {
    /// Adds a finding in its place. This is the one order of findings: causes first, among
    /// them the explicit denies (AWS reports those whatever else refuses), then by confidence,
    /// then in the order of the upload's checks (`s3:PutObject`, its companions, the KMS
    /// calls), then by rule; findings that tie keep the order they were added in.
    pub fn push(&mut self, f: Finding) {
        let checks = &self.analysis.checks;
        let check_at = |f: &Finding| {
            f.claims
                .iter()
                .map(|c| &c.check)
                .chain(f.check.as_ref())
                .filter_map(|a| checks.iter().position(|c| c.action.eq_ignore_ascii_case(a)))
                .min()
                .unwrap_or(usize::MAX)
        };
        let key = |f: &Finding| {
            (
                f.role,
                !f.is_explicit_deny(),
                f.confidence,
                check_at(f),
                f.rule.clone(),
            )
        };
        let k = key(&f);
        let at = self.findings.partition_point(|g| key(g) <= k);
        self.findings.insert(at, f);
    }
}

/// Splits the cause findings into those that stand and those another finding explains (one
/// refusal, one cause):
/// - a finding whose every claim is covered by a finding of a rule that refines its rule
///   (declared with `refines` in `declare_rule!`, followed transitively);
/// - a finding on a check that an earlier finding also claims, with the same fix (one refusal
///   made by several statements): the earlier one keeps a note naming it;
/// - a finding whose fix does not resolve the upload while another cause on the same check
///   has a verified fix that does: that fix removes this refusal too.
pub fn supersede(findings: Vec<Finding>, registry: &Registry) -> (Vec<Finding>, Vec<Superseded>) {
    let n = findings.len();
    let mut by: Vec<Option<(usize, String)>> = vec![None; n];
    // Which rule refines which, asked once per pair of rules rather than per pair of findings
    // (one rule can emit thousands of findings), and each rule's findings.
    let mut distinct: Vec<&RuleRef> = Vec::new();
    let mut of_rule: Vec<Vec<usize>> = Vec::new();
    let mut rule_of = Vec::with_capacity(n);
    for (i, f) in findings.iter().enumerate() {
        let r = match distinct.iter().position(|r| **r == f.rule) {
            Some(r) => r,
            None => {
                distinct.push(&f.rule);
                of_rule.push(Vec::new());
                distinct.len() - 1
            }
        };
        of_rule[r].push(i);
        rule_of.push(r);
    }
    let refiners: Vec<Vec<usize>> = distinct
        .iter()
        .map(|generic| {
            let mut of: Vec<usize> = (0..distinct.len())
                .filter(|&r| registry.refines(distinct[r], generic))
                .flat_map(|r| of_rule[r].iter().copied())
                .collect();
            of.sort_unstable();
            of
        })
        .collect();
    for (i, f) in findings.iter().enumerate() {
        if f.role != Role::Cause || f.claims.is_empty() {
            continue;
        }
        for &j in &refiners[rule_of[i]] {
            let g = &findings[j];
            if i == j || g.role != Role::Cause {
                continue;
            }
            if f.claims
                .iter()
                .all(|c| g.claims.iter().any(|d| d.covers(c)))
            {
                by[i] = Some((
                    j,
                    format!("`{}` explains the same refusal more specifically", g.rule),
                ));
                break;
            }
        }
    }
    let resolves = |f: &Finding| {
        f.fix
            .as_ref()
            .is_some_and(|x| x.verified == Verification::Resolves)
    };
    // Two findings on one check whose fixes are the same change: one refusal, whatever the
    // number of statements that make it (e.g. two deny statements that the same header makes
    // false). The first keeps a note naming the other.
    let mut notes: Vec<(usize, Listed)> = Vec::new();
    for i in 0..n {
        if by[i].is_some() || findings[i].role != Role::Cause {
            continue;
        }
        let Some(fix) = &findings[i].fix else {
            continue;
        };
        if let Some(j) = (0..i).find(|&j| {
            let g = &findings[j];
            by[j].is_none()
                && g.role == Role::Cause
                && g.fix.as_ref().is_some_and(|x| x.changes == fix.changes)
                && g.shares_check(&findings[i])
        }) {
            by[i] = Some((
                j,
                format!("the fix of `{}` is the same change", findings[j].rule),
            ));
            let message = || format!("also: {}", findings[i].message);
            match notes.iter_mut().find(|(k, _)| *k == j) {
                Some((_, listed)) => listed.push(message),
                None => {
                    let mut listed = Listed::default();
                    listed.push(message);
                    notes.push((j, listed));
                }
            }
        }
    }
    let mut findings = findings;
    for (j, listed) in notes {
        let more = |n| format!("also: {n} more findings with the same fix");
        findings[j].notes.extend(listed.finish_with(more));
    }
    for (i, f) in findings.iter().enumerate() {
        if by[i].is_some() || f.role != Role::Cause || resolves(f) || f.claims.is_empty() {
            continue;
        }
        if let Some(j) = (0..n).find(|&j| {
            let g = &findings[j];
            j != i && by[j].is_none() && g.role == Role::Cause && resolves(g) && g.shares_check(f)
        }) {
            by[i] = Some((
                j,
                format!("the fix of `{}` removes this refusal too", findings[j].rule),
            ));
        }
    }
    let rules: Vec<RuleRef> = findings.iter().map(|f| f.rule.clone()).collect();
    let mut kept = Vec::new();
    let mut superseded = Vec::new();
    for (f, b) in findings.into_iter().zip(by) {
        match b {
            None => kept.push(f),
            Some((j, why)) => superseded.push(Superseded {
                finding: f,
                by: rules[j].clone(),
                why,
            }),
        }
    }
    (kept, superseded)
}

/// Applies changes to a copy of the evidence and request, analyses again, and says whether
/// the upload would then be allowed.
pub fn verify(analysis: &Analysis, changes: &[Change]) -> Verification {
    match applied(analysis, changes) {
        Ok(after) => verification_of(after),
        Err(not_checked) => not_checked,
    }
}

/// [`verify`], and what the changes allow beyond the refused request (see
/// [`Fix::widens`]).
pub fn verify_and_widen(analysis: &Analysis, changes: &[Change]) -> (Verification, Vec<String>) {
    match applied(analysis, changes) {
        Ok(after) => {
            let widens = widen::widens(analysis, &after, changes);
            (verification_of(after), widens)
        }
        Err(not_checked) => (not_checked, Vec::new()),
    }
}

/// The analysis of the upload with `changes` applied to a copy of its request and evidence
/// (what a fix's verification evaluates; a what-if for programs), or why a change cannot be
/// applied.
pub fn apply_changes(analysis: &Analysis, changes: &[Change]) -> Result<Analysis, ApplyError> {
    let mut request = analysis.request.clone();
    let mut evidence = analysis.evidence.clone();
    for c in changes {
        apply::apply(c, &mut request, &mut evidence)?;
    }
    Ok(Analysis::new(request, evidence))
}

/// [`apply_changes`], its failure as a verification that was not made.
fn applied(analysis: &Analysis, changes: &[Change]) -> Result<Analysis, Verification> {
    apply_changes(analysis, changes).map_err(|e| Verification::NotChecked { why: e.to_string() })
}

fn verification_of(after: Analysis) -> Verification {
    match after.verdict {
        Verdict::Allowed => Verification::Resolves,
        Verdict::Denied => Verification::StillDenied {
            by: still_denied_by(&after),
        },
        Verdict::Indeterminate { missing } => Verification::Indeterminate {
            missing: missing.into_iter().map(|m| m.what).collect(),
        },
    }
}

/// Policy statements all the verifications of one diagnosis may evaluate again (each analyses
/// every statement of the upload's checks): past it, fixes are not verified.
const MAX_REANALYSED_STATEMENTS: usize = 100_000;
/// Fixes verified whatever the number of statements.
const MIN_VERIFIED: usize = 10;

/// The statements of the policies of every check (what analysing the upload evaluates).
fn statements_of(a: &Analysis) -> usize {
    a.checks
        .iter()
        .map(|c| {
            let s = &c.set;
            s.identity
                .iter()
                .chain(&s.resource)
                .chain(s.scp.iter().flatten())
                .chain(s.rcp.iter().flatten())
                .chain(s.boundary.iter().flatten())
                .chain(&s.session)
                .chain(s.vpc_endpoint.iter().flatten())
                .map(|p| p.statements.len())
                .sum::<usize>()
        })
        .sum()
}

/// Entries of a list of what refuses the upload (`still denied by`, `also:` notes) written out
/// at most; the rest are counted in a last entry, `and N more`. A policy with thousands of
/// matching deny statements would otherwise list every other statement under each of their
/// findings: output and time quadratic in the statements.
pub const MAX_LISTED: usize = 10;

/// A list of at most [`MAX_LISTED`] entries and a count of the rest; an entry past the limit is
/// not even formatted.
#[derive(Debug, Default)]
struct Listed {
    items: Vec<String>,
    more: usize,
}

impl Listed {
    fn push(&mut self, item: impl FnOnce() -> String) {
        if self.items.len() < MAX_LISTED {
            self.items.push(item());
        } else {
            self.more += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The entries, then `and N more` when some were left out.
    fn finish(self) -> Vec<String> {
        self.finish_with(|n| format!("and {n} more"))
    }

    /// The entries, then `more(N)` when N were left out.
    fn finish_with(mut self, more: impl FnOnce(usize) -> String) -> Vec<String> {
        if self.more > 0 {
            self.items.push(more(self.more));
        }
        self.items
    }
}

/// `` `action`: explicit deny in statement `Sid` of <policy> ``, the policy marked as changed
/// when a fix edits it.
fn explicit_deny_words(c: &crate::analysis::Check, at: StatementRef, changed: bool) -> String {
    let what = c.set.policy(at).map_or_else(
        || at.layer.to_string(),
        |p| {
            let st = p
                .statements
                .get(at.statement as usize)
                .map(|s| s.label())
                .unwrap_or_default();
            // As the analysis after the fix names the policy (see `apply`).
            let mark = if changed { " (changed by the fix)" } else { "" };
            format!("statement `{st}` of {}{mark}", p.name)
        },
    );
    format!("`{}`: explicit deny in {what}", c.action)
}

/// Short descriptions of what refuses each denied check, at most [`MAX_LISTED`] and
/// `and N more`.
pub fn still_denied_by(a: &Analysis) -> Vec<String> {
    let mut out = Listed::default();
    for c in a
        .checks
        .iter()
        .filter(|c| c.outcome == CheckOutcome::Denied)
    {
        for b in &c.blocks {
            out.push(|| format!("`{}`: {}", c.action, b.message));
        }
        match c.eval.decision {
            crate::eval::Decision::ExplicitlyDenied => {
                for at in &c.eval.deciding {
                    out.push(|| explicit_deny_words(c, *at, false));
                }
                if c.eval.deciding.is_empty() {
                    for b in &c.eval.blocked_by {
                        out.push(|| format!("`{}`: {}", c.action, b.layer.as_str()));
                    }
                }
            }
            crate::eval::Decision::ImplicitlyDenied => {
                for b in &c.eval.blocked_by {
                    out.push(|| format!("`{}`: no {} allows it", c.action, layer_words(b.layer)));
                }
            }
            crate::eval::Decision::Allowed => {}
        }
    }
    out.finish()
}

/// The verification of a fix that only removes or replaces statements, when an explicit deny
/// statement the fix does not touch decides one of the upload's checks: that statement still
/// denies the same request after the fix, so the upload stays denied, and it is not analysed
/// again. `by` names the untouched deny statements (not the other refusals a new analysis would
/// find). Analysing again costs as much as the evidence: for each of N matching deny
/// statements' fixes, that is N² work. `None` when the fix must be analysed again.
fn denied_by_untouched_statements(analysis: &Analysis, changes: &[Change]) -> Option<Verification> {
    use crate::analysis::CheckKind;
    let edited: Vec<(PolicyTarget, usize)> = changes
        .iter()
        .map(|c| match c {
            Change::RemoveStatement { target, statement }
            | Change::ReplaceStatement {
                target, statement, ..
            } => Some((*target, *statement)),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let mut by = Listed::default();
    for c in analysis
        .denied_checks()
        .filter(|c| c.eval.decision == crate::eval::Decision::ExplicitlyDenied)
    {
        for &at in &c.eval.deciding {
            if c.is_synthetic(at.layer, at.level) {
                continue;
            }
            // The key policy is the resource policy of the KMS checks.
            let target = match (at.layer, c.kind) {
                (Layer::Resource, CheckKind::Kms) => Some(PolicyTarget::KeyPolicy),
                _ => crate::rule::policy_target_in(c, at),
            };
            let touched = |t: PolicyTarget| edited.contains(&(t, at.statement as usize));
            if target.is_some_and(touched) {
                continue;
            }
            let changed = target.is_some_and(|t| edited.iter().any(|(e, _)| *e == t));
            by.push(|| explicit_deny_words(c, at, changed));
        }
    }
    (!by.is_empty()).then(|| Verification::StillDenied { by: by.finish() })
}

/// A layer in words, for "no ... allows it".
pub fn layer_words(l: crate::eval::Layer) -> &'static str {
    use crate::eval::Layer;
    match l {
        Layer::Identity => "identity-based policy",
        Layer::Resource => "resource-based policy",
        Layer::Scp => "service control policy",
        Layer::Rcp => "resource control policy",
        Layer::Boundary => "permissions boundary",
        Layer::Session => "session policy",
        Layer::VpcEndpoint => "VPC endpoint policy",
        Layer::BlockPublicAccess => "Block Public Access setting",
        Layer::AwsManaged => "customer policy (the resource is AWS managed)",
    }
}

fn unexplained(a: &Analysis) -> Finding {
    let mut labels = Vec::new();
    for c in a
        .checks
        .iter()
        .filter(|c| c.outcome == CheckOutcome::Denied)
    {
        for at in &c.eval.deciding {
            if let Some(p) = c.set.policy(*at)
                && let Some(st) = p.statements.get(at.statement as usize)
            {
                labels.push(crate::rule::label(
                    p,
                    st.span,
                    &st.pointer,
                    labels.is_empty(),
                    "this statement decides",
                ));
            }
        }
    }
    Finding {
        rule: RuleRef {
            scope: "builtin".into(),
            id: UNEXPLAINED_DENY.into(),
        },
        role: Role::Cause,
        confidence: Confidence::Confirmed,
        message: format!(
            "the upload is denied but no rule explains it: {}",
            still_denied_by(a).join("; ")
        ),
        check: None,
        labels,
        fix: None,
        missing: Vec::new(),
        notes: Vec::new(),
        claims: Vec::new(),
    }
}

/// Request headers that make a deny condition false, when the condition tests a request
/// header (`s3:x-amz-...`) against fixed values: the header to send (and, for a KMS key id,
/// the encryption header that goes with it), with a sentence saying so.
pub fn header_fix_for(c: &crate::condition::Condition) -> Option<(Vec<Change>, String)> {
    use crate::condition::BaseOp;
    // Deny when `aws:SecureTransport` is false: use HTTPS.
    if c.key_lower == "aws:securetransport"
        && c.op.base == BaseOp::Bool
        && c.values.iter().all(|v| v.raw.eq_ignore_ascii_case("false"))
    {
        return Some((
            vec![Change::UseHttps],
            "send the request over HTTPS".to_owned(),
        ));
    }
    let header = c.key_lower.strip_prefix("s3:")?;
    if !header.starts_with("x-amz-") {
        return None;
    }
    let value = match c.op.base {
        // Deny unless the header has one of these values: send the first plain one.
        BaseOp::StringNotEquals
        | BaseOp::StringNotLike
        | BaseOp::ArnNotEquals
        | BaseOp::ArnNotLike
        | BaseOp::StringNotEqualsIgnoreCase => c
            .values
            .iter()
            .map(|v| v.raw.clone())
            .find(|v| !v.contains(['*', '?']) && !v.contains("${"))?,
        // Deny when the header is absent: send it.
        BaseOp::Null if c.values.iter().any(|v| v.raw.eq_ignore_ascii_case("true")) => match header
        {
            "x-amz-server-side-encryption" => "aws:kms".to_owned(),
            "x-amz-acl" => "bucket-owner-full-control".to_owned(),
            _ => return None,
        },
        _ => return None,
    };
    let mut changes = vec![Change::SetHeader {
        name: header.to_owned(),
        value: value.clone(),
    }];
    let mut sentence = format!("send `{header}: {value}`");
    if header == "x-amz-server-side-encryption-aws-kms-key-id" {
        changes.insert(
            0,
            Change::SetHeader {
                name: "x-amz-server-side-encryption".into(),
                value: "aws:kms".into(),
            },
        );
        sentence = format!("send `x-amz-server-side-encryption: aws:kms` and `{header}: {value}`");
    }
    Some((changes, sentence))
}

/// Request headers that make an Allow condition true, when it tests a request header
/// (`s3:x-amz-...`) against fixed values, or `aws:SecureTransport`: the mirror of
/// [`header_fix_for`].
pub fn header_fix_to_meet(c: &crate::condition::Condition) -> Option<(Vec<Change>, String)> {
    use crate::condition::BaseOp;
    if c.op.set.is_some() {
        return None;
    }
    let mut d = c.clone();
    let flip = |d: &mut crate::condition::Condition| {
        for v in &mut d.values {
            v.raw = if v.raw.eq_ignore_ascii_case("true") {
                "false".into()
            } else {
                "true".into()
            };
        }
    };
    match c.op.base {
        BaseOp::StringEquals => d.op.base = BaseOp::StringNotEquals,
        BaseOp::StringLike => d.op.base = BaseOp::StringNotLike,
        BaseOp::StringEqualsIgnoreCase => d.op.base = BaseOp::StringNotEqualsIgnoreCase,
        BaseOp::ArnEquals => d.op.base = BaseOp::ArnNotEquals,
        BaseOp::ArnLike => d.op.base = BaseOp::ArnNotLike,
        BaseOp::Null | BaseOp::Bool => flip(&mut d),
        _ => return None,
    }
    header_fix_for(&d)
}

/// A statement of a policy as JSON (for fixes that edit it).
pub fn statement_json(policy: &crate::policy::Policy, index: usize) -> Option<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(&policy.text).ok()?;
    match doc.get("Statement")? {
        serde_json::Value::Array(a) => a.get(index).cloned(),
        o @ serde_json::Value::Object(_) if index == 0 => Some(o.clone()),
        _ => None,
    }
}
