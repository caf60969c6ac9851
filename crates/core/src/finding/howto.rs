//! How a person applies a verified fix: each change of the fix in the terms of whoever applies
//! it. A change of the request is said in the client's terms (the console's upload dialog, the
//! AWS CLI's options, the SDK's `PutObject` parameters); a change of a policy or setting is the
//! document before and after, their unified diff, and the AWS CLI commands that would apply it
//! (why403 never runs them); each step names who can apply it, and says so plainly when that is
//! not the caller's account.
//!
//! The after-document is the one the verification evaluated: the same edits, applied to the
//! document with its members in their own order (so the diff shows only what the fix edits).

mod client;
pub(crate) mod doc;

use crate::analysis::Analysis;
use crate::client::Client;
use crate::evidence::{Evidence, IdentityKind, PublicAccessBlock, PublicAccessLevel, Slot};
use crate::policy::Policy;

use super::{Change, Fix, PolicyTarget};
use doc::{Doc, unified_diff};

/// How to apply one fix: its steps, in the order of its changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Howto {
    /// One step per document or setting changed, and one for the request.
    pub steps: Vec<Step>,
}

/// One step of applying a fix: one document, setting or the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What to do, in one sentence.
    pub summary: String,
    /// Who can do it.
    pub actor: Actor,
    /// For the request: what to do in each client's terms (the client asked for, or the
    /// headers and the AWS CLI when none was).
    pub client: Vec<ClientStep>,
    /// For a document or setting: the edit.
    pub document: Option<DocumentEdit>,
    /// The AWS CLI commands that apply it, in order, each as its argument list (`aws` first).
    /// A value written `file://NAME` is the after-document saved as `NAME`.
    pub commands: Vec<Vec<String>>,
    /// What else to know: limits, exemptions, what the commands leave out.
    pub notes: Vec<String>,
}

/// A request-side change in one client's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientStep {
    /// `console`, `aws s3 cp`, `aws s3api put-object`, `SDK`, `boto3` or `headers`.
    pub client: String,
    /// What to do there.
    pub text: String,
}

/// A document the fix edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentEdit {
    /// The document, as the diagnosis names it (`bucket policy of amzn-s3-demo-bucket`).
    pub name: String,
    /// The file name the commands read the after-document from.
    pub file: String,
    /// The document before, pretty-printed; `None` when the fix creates it.
    pub before: Option<String>,
    /// The document after, pretty-printed; `None` when the fix deletes it.
    pub after: Option<String>,
    /// The unified diff from before to after.
    pub diff: String,
}

/// Who can apply a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The kind of principal.
    pub kind: ActorKind,
    /// The account, when known.
    pub account: Option<String>,
    /// Whether that account is the caller's; `None` when either is not known.
    pub callers_account: Option<bool>,
}

/// The kinds of principal that apply fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActorKind {
    /// Whoever sends the upload.
    Uploader,
    /// An IAM administrator of the caller's account.
    IamAdministrator,
    /// An administrator of the account that owns the bucket.
    BucketOwner,
    /// An administrator of the account that owns the KMS key.
    KeyOwner,
    /// The organization's management account or a delegated administrator for its policies.
    Organization,
    /// The account that owns the VPC endpoint.
    EndpointOwner,
    /// The account that owns the access point (or Multi-Region Access Point).
    AccessPointOwner,
}

impl ActorKind {
    /// A stable word for programs.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Uploader => "uploader",
            ActorKind::IamAdministrator => "iam_administrator",
            ActorKind::BucketOwner => "bucket_owner",
            ActorKind::KeyOwner => "key_owner",
            ActorKind::Organization => "organization",
            ActorKind::EndpointOwner => "endpoint_owner",
            ActorKind::AccessPointOwner => "access_point_owner",
        }
    }
}

impl Actor {
    /// Who acts, in a sentence fragment that ends with what they do: "the bucket owner,
    /// account 444455556666 (not the caller's account), must".
    pub fn sentence(&self) -> String {
        let account = self.account.as_deref();
        let whose = match self.callers_account {
            Some(true) => " (the caller's account)",
            Some(false) => " (not the caller's account)",
            None => "",
        };
        match (self.kind, account) {
            (ActorKind::Uploader, _) => "whoever sends the upload must".to_owned(),
            (ActorKind::IamAdministrator, Some(a)) => {
                format!("an IAM administrator of account {a}{whose} must")
            }
            (ActorKind::IamAdministrator, None) => {
                "an IAM administrator of the caller's account must".to_owned()
            }
            (ActorKind::BucketOwner, Some(a)) => {
                format!("the bucket owner, account {a}{whose}, must")
            }
            (ActorKind::BucketOwner, None) => {
                "the bucket owner's account (which could not be read) must".to_owned()
            }
            (ActorKind::KeyOwner, Some(a)) => {
                format!("the KMS key's owner, account {a}{whose}, must")
            }
            (ActorKind::KeyOwner, None) => "the KMS key's account must".to_owned(),
            (ActorKind::Organization, Some(a)) => format!(
                "the organization's management account {a}{whose}, or a delegated administrator for its policies, must"
            ),
            (ActorKind::Organization, None) => {
                "the organization's management account, or a delegated administrator for its policies, must"
                    .to_owned()
            }
            (ActorKind::EndpointOwner, Some(a)) => {
                format!("the VPC endpoint's owner, account {a}{whose}, must")
            }
            (ActorKind::EndpointOwner, None) => "the VPC endpoint's owner must".to_owned(),
            (ActorKind::AccessPointOwner, Some(a)) => {
                format!("the access point's owner, account {a}{whose}, must")
            }
            (ActorKind::AccessPointOwner, None) => "the access point's owner must".to_owned(),
        }
    }
}

/// How to apply `fix` to the upload of `analysis`, for `client` when known.
pub fn howto(analysis: &Analysis, fix: &Fix, client: Option<Client>) -> Howto {
    let ev = &analysis.evidence;
    let cx = Cx {
        ev,
        caller_account: caller_account(analysis),
    };
    let mut steps: Vec<Step> = Vec::new();
    let mut request: Vec<&Change> = Vec::new();
    // Policy edits, grouped by the policy they edit, in order of first appearance.
    let mut edits: Vec<(PolicyTarget, Vec<&Change>)> = Vec::new();
    // Where each group's step goes among the others.
    let mut order: Vec<Slot_> = Vec::new();
    for c in &fix.changes {
        match c {
            Change::SetHeader { .. }
            | Change::RemoveHeader { .. }
            | Change::UseHttps
            | Change::SendFromVpc { .. }
            | Change::UseSessionMode { .. } => {
                if request.is_empty() {
                    order.push(Slot_::Request);
                }
                request.push(c);
            }
            Change::UseKmsKey { .. }
                if analysis
                    .request
                    .header("x-amz-server-side-encryption")
                    .is_some() =>
            {
                if request.is_empty() {
                    order.push(Slot_::Request);
                }
                request.push(c);
            }
            Change::AddStatement { target, .. }
            | Change::RemoveStatement { target, .. }
            | Change::ReplaceStatement { target, .. }
            | Change::SetPolicyVersion { target, .. } => {
                match edits.iter_mut().find(|(t, _)| t == target) {
                    Some((_, v)) => v.push(c),
                    None => {
                        order.push(Slot_::Policy(edits.len()));
                        edits.push((*target, vec![c]));
                    }
                }
            }
            other => order.push(Slot_::Other(other)),
        }
    }
    for s in order {
        match s {
            Slot_::Request => steps.push(client::request_step(analysis, &request, client)),
            Slot_::Policy(i) => {
                let (target, changes) = &edits[i];
                steps.push(cx.policy_step(*target, changes));
            }
            Slot_::Other(c) => steps.push(cx.other_step(analysis, c)),
        }
    }
    Howto { steps }
}

/// Where a step goes in [`howto`]'s order.
enum Slot_<'a> {
    Request,
    Policy(usize),
    Other(&'a Change),
}

/// The caller's account: the evidence's caller, else the principal ARN's account.
fn caller_account(analysis: &Analysis) -> Option<String> {
    if let Some(c) = analysis.evidence.caller.get() {
        return Some(c.account.clone());
    }
    let arn = analysis.request.principal.as_deref()?;
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.to_owned())
}

struct Cx<'a> {
    ev: &'a Evidence,
    caller_account: Option<String>,
}

impl Cx<'_> {
    fn actor(&self, kind: ActorKind, account: Option<String>) -> Actor {
        let callers_account = match (&account, &self.caller_account) {
            (Some(a), Some(c)) => Some(a == c),
            _ => None,
        };
        Actor {
            kind,
            account,
            callers_account,
        }
    }

    fn bucket_owner(&self) -> Actor {
        self.actor(
            ActorKind::BucketOwner,
            self.ev.bucket.owner_account.get().cloned(),
        )
    }

    fn key_owner(&self) -> Actor {
        self.actor(
            ActorKind::KeyOwner,
            self.ev.kms_key.get().map(|k| k.account.clone()),
        )
    }

    fn iam_admin(&self) -> Actor {
        let account = self
            .ev
            .identity
            .get()
            .and_then(|i| i.arn.split(':').nth(4).map(str::to_owned))
            .or_else(|| self.caller_account.clone());
        self.actor(ActorKind::IamAdministrator, account)
    }

    /// The organization whose RCPs apply to the bucket: the bucket owner's when read, else the
    /// caller's (as the verification edits it).
    fn rcp_org(&self) -> Option<&crate::evidence::Organization> {
        match &self.ev.bucket_org {
            Slot::Collected(o) => Some(o),
            _ => self.ev.caller_org.get(),
        }
    }

    fn policy(&self, t: PolicyTarget) -> Option<&Policy> {
        let ev = self.ev;
        match t {
            PolicyTarget::Identity(i) => ev.identity.get().and_then(|id| id.policies.get(i)),
            PolicyTarget::Boundary => ev.identity.get().and_then(|id| id.boundary.as_ref()),
            PolicyTarget::Session => ev.session_policy.get(),
            PolicyTarget::BucketPolicy => ev.bucket.policy.get(),
            PolicyTarget::KeyPolicy => ev.kms_key.get().and_then(|k| k.policy.get()),
            PolicyTarget::Scp { level, index } => ev
                .caller_org
                .get()
                .and_then(|o| o.scps.get())
                .and_then(|l| l.get(level))
                .and_then(|l| l.policies.get(index)),
            PolicyTarget::Rcp { level, index } => self
                .rcp_org()
                .and_then(|o| o.rcps.get())
                .and_then(|l| l.get(level))
                .and_then(|l| l.policies.get(index)),
            PolicyTarget::VpcEndpoint => ev.vpc_endpoint_policy.get(),
            PolicyTarget::AccessPointPolicy => ev.access_point.get().and_then(|ap| ap.policy.get()),
        }
    }

    /// The edits of one policy, as one step.
    fn policy_step(&self, target: PolicyTarget, changes: &[&Change]) -> Step {
        let policy = self.policy(target);
        let bucket = &self.ev.bucket.name;
        let name = match (policy, target) {
            (Some(p), _) => p.name.clone(),
            (None, PolicyTarget::BucketPolicy) => format!("bucket policy of {bucket}"),
            (None, PolicyTarget::AccessPointPolicy) => match self.ev.access_point.get() {
                Some(ap) => format!("access point policy of {}", ap.name),
                None => "access point policy".to_owned(),
            },
            (None, _) => "the policy".to_owned(),
        };
        let before = policy.and_then(|p| Doc::parse(&p.text).ok());
        let mut after = before.clone().unwrap_or_else(|| {
            Doc::Object(vec![
                ("Version".into(), Doc::String("2012-10-17".into())),
                ("Statement".into(), Doc::Array(Vec::new())),
            ])
        });
        let mut said = Vec::new();
        for c in changes {
            match c {
                Change::AddStatement { statement, .. } => {
                    if let Some(s) = after.statements() {
                        s.push(Doc::from_value(statement).ordered_like(None));
                    }
                    said.push(match statement.get("Sid").and_then(|s| s.as_str()) {
                        Some(sid) => format!("add statement `{sid}`"),
                        None => "add a statement".to_owned(),
                    });
                }
                Change::RemoveStatement { statement, .. } => {
                    let sid = sid_of(before.as_ref(), *statement);
                    if let Some(s) = after.statements()
                        && *statement < s.len()
                    {
                        s.remove(*statement);
                    }
                    said.push(format!("delete {sid}"));
                }
                Change::ReplaceStatement {
                    statement, with, ..
                } => {
                    let sid = sid_of(before.as_ref(), *statement);
                    if let Some(s) = after.statements()
                        && let Some(slot) = s.get_mut(*statement)
                    {
                        let old = slot.clone();
                        *slot = Doc::from_value(with).ordered_like(Some(&old));
                    }
                    said.push(format!("edit {sid}"));
                }
                Change::SetPolicyVersion { version, .. } => {
                    match after.get_mut("Version") {
                        Some(v) => *v = Doc::String(version.clone()),
                        None => {
                            if let Doc::Object(m) = &mut after {
                                m.insert(0, ("Version".into(), Doc::String(version.clone())));
                            }
                        }
                    }
                    said.push(format!("set `Version` to `{version}`"));
                }
                _ => {}
            }
        }
        let empty = after
            .get("Statement")
            .is_some_and(|s| matches!(s, Doc::Array(a) if a.is_empty()));
        let file = file_name(target, policy);
        let before_text = before.as_ref().map(Doc::pretty);
        // An identity policy, bucket policy, SCP or RCP left without statements is deleted or
        // detached instead (IAM, Organizations and S3 refuse a policy without statements), which
        // grants and denies the same: nothing. (A boundary, session or VPC endpoint policy
        // without statements allows nothing, unlike none, so it is not removed.)
        let deletes = empty
            && matches!(
                target,
                PolicyTarget::Identity(_)
                    | PolicyTarget::BucketPolicy
                    | PolicyTarget::Scp { .. }
                    | PolicyTarget::Rcp { .. }
            );
        let after_text = (!deletes).then(|| after.pretty());
        let diff = unified_diff(&file, before_text.as_deref(), after_text.as_deref());
        let (actor, commands, mut notes) = self.policy_commands(target, policy, &file, deletes);
        if target == PolicyTarget::BucketPolicy
            && let Some(note) = lockout(&after, bucket, actor.account.as_deref())
        {
            notes.push(note);
        }
        // "add ... to", "delete ... from", "edit ... of", and "in" when they are mixed.
        let words: Vec<&str> = said
            .iter()
            .map(|s| s.split(' ').next().unwrap_or(""))
            .collect();
        let preposition = match words.as_slice() {
            w if w.iter().all(|x| *x == "add") => "to",
            w if w.iter().all(|x| *x == "delete") => "from",
            w if w.iter().all(|x| *x == "edit") => "of",
            _ => "in",
        };
        Step {
            summary: format!("{} {preposition} the {name}", said.join(", ")),
            actor,
            client: Vec::new(),
            document: Some(DocumentEdit {
                name,
                file,
                before: before_text,
                after: after_text,
                diff,
            }),
            commands,
            notes,
        }
    }

    fn policy_commands(
        &self,
        target: PolicyTarget,
        policy: Option<&Policy>,
        file: &str,
        deletes: bool,
    ) -> (Actor, Vec<Vec<String>>, Vec<String>) {
        let doc = format!("file://{file}");
        let bucket = self.ev.bucket.name.clone();
        let mut notes = Vec::new();
        match target {
            PolicyTarget::Identity(_) | PolicyTarget::Boundary => {
                let name = policy.map(|p| p.name.as_str()).unwrap_or_default();
                let commands = if deletes {
                    self.iam_removal(name)
                } else {
                    self.iam_commands(name, &doc, &mut notes)
                };
                (self.iam_admin(), commands, notes)
            }
            PolicyTarget::Session => {
                notes.push(
                    "a session policy is passed when the session is created: the session cannot be changed, only created again with the edited policy"
                        .to_owned(),
                );
                let mut cmd = args(&["aws", "sts", "assume-role", "--role-arn"]);
                cmd.push(self.role_arn().unwrap_or_else(|| "ROLE_ARN".to_owned()));
                cmd.extend(args(&["--role-session-name"]));
                cmd.push(self.session_name().unwrap_or_else(|| "SESSION".to_owned()));
                cmd.extend(args(&["--policy", &doc]));
                (self.actor(ActorKind::Uploader, None), vec![cmd], notes)
            }
            PolicyTarget::BucketPolicy => {
                let cmd = if deletes {
                    args(&["aws", "s3api", "delete-bucket-policy", "--bucket", &bucket])
                } else {
                    args(&[
                        "aws",
                        "s3api",
                        "put-bucket-policy",
                        "--bucket",
                        &bucket,
                        "--policy",
                        &doc,
                    ])
                };
                (self.bucket_owner(), vec![cmd], notes)
            }
            PolicyTarget::KeyPolicy => {
                let key = self
                    .ev
                    .kms_key
                    .get()
                    .map(|k| k.arn.clone())
                    .unwrap_or_else(|| "KEY_ARN".to_owned());
                notes.push(
                    "`put-key-policy` replaces the whole key policy: keep the statements that let the account's administrators manage the key"
                        .to_owned(),
                );
                let cmd = args(&[
                    "aws",
                    "kms",
                    "put-key-policy",
                    "--key-id",
                    &key,
                    "--policy-name",
                    "default",
                    "--policy",
                    &doc,
                ]);
                (self.key_owner(), vec![cmd], notes)
            }
            PolicyTarget::Scp { .. } | PolicyTarget::Rcp { .. } => {
                let org = if matches!(target, PolicyTarget::Scp { .. }) {
                    self.ev.caller_org.get()
                } else {
                    self.rcp_org()
                };
                let id = policy
                    .and_then(|p| p.name.split_whitespace().nth(1))
                    .filter(|id| id.starts_with("p-"))
                    .unwrap_or("POLICY_ID")
                    .to_owned();
                if id.starts_with("p-Full") || id == "p-FullAWSAccess" {
                    notes.push(format!(
                        "`{id}` is an AWS managed policy and cannot be edited"
                    ));
                }
                let attached_to = policy
                    .and_then(|p| p.name.rsplit_once(" attached to "))
                    .map(|(_, t)| t.to_owned())
                    .unwrap_or_else(|| "TARGET_ID".to_owned());
                let cmd = if deletes {
                    notes.push(format!(
                        "the policy has no other statement: detach it from `{attached_to}` (or delete it once it is attached nowhere)"
                    ));
                    args(&[
                        "aws",
                        "organizations",
                        "detach-policy",
                        "--policy-id",
                        &id,
                        "--target-id",
                        &attached_to,
                    ])
                } else {
                    args(&[
                        "aws",
                        "organizations",
                        "update-policy",
                        "--policy-id",
                        &id,
                        "--content",
                        &doc,
                    ])
                };
                (
                    self.actor(
                        ActorKind::Organization,
                        org.map(|o| o.management_account.clone()),
                    ),
                    vec![cmd],
                    notes,
                )
            }
            PolicyTarget::AccessPointPolicy => {
                let ap = self.ev.access_point.get();
                let account = ap.map(|a| a.account.clone());
                let name = ap.map_or_else(|| "ACCESS_POINT".to_owned(), |a| a.name.clone());
                let acct = account.clone().unwrap_or_else(|| "ACCOUNT_ID".to_owned());
                let cmd = if ap.is_some_and(|a| a.multi_region) {
                    notes.push(format!(
                        "`mrap-policy.json` is `{{\"Name\": \"{name}\", \"Policy\": ...}}` with the new document as a JSON string in `Policy`; the change is asynchronous (`aws s3control describe-multi-region-access-point-operation` follows it)"
                    ));
                    args(&[
                        "aws",
                        "s3control",
                        "put-multi-region-access-point-policy",
                        "--account-id",
                        &acct,
                        "--details",
                        "file://mrap-policy.json",
                    ])
                } else {
                    args(&[
                        "aws",
                        "s3control",
                        "put-access-point-policy",
                        "--account-id",
                        &acct,
                        "--name",
                        &name,
                        "--policy",
                        &doc,
                    ])
                };
                (
                    self.actor(ActorKind::AccessPointOwner, account),
                    vec![cmd],
                    notes,
                )
            }
            PolicyTarget::VpcEndpoint => {
                let vpce = policy
                    .and_then(|p| p.name.strip_prefix("VPC endpoint policy of "))
                    .map(str::to_owned)
                    .unwrap_or_else(|| "VPCE_ID".to_owned());
                let cmd = args(&[
                    "aws",
                    "ec2",
                    "modify-vpc-endpoint",
                    "--vpc-endpoint-id",
                    &vpce,
                    "--policy-document",
                    &doc,
                ]);
                (self.actor(ActorKind::EndpointOwner, None), vec![cmd], notes)
            }
        }
    }

    /// The commands that replace an identity policy or boundary named as the diagnosis names
    /// them: `inline policy P of user U`, `managed policy ARN [of group G]`, `permissions
    /// boundary ARN`.
    fn iam_commands(&self, name: &str, doc: &str, notes: &mut Vec<String>) -> Vec<Vec<String>> {
        if let Some(rest) = name.strip_prefix("inline policy ")
            && let Some((pname, owner)) = rest.rsplit_once(" of ")
            && let Some((kind, who)) = owner.split_once(' ')
        {
            let op = format!("put-{kind}-policy");
            return vec![args(&[
                "aws",
                "iam",
                &op,
                &format!("--{kind}-name"),
                who,
                "--policy-name",
                pname,
                "--policy-document",
                doc,
            ])];
        }
        let arn = name
            .strip_prefix("managed policy ")
            .or_else(|| name.strip_prefix("permissions boundary "))
            .map(|r| r.split(" of ").next().unwrap_or(r))
            .unwrap_or("POLICY_ARN");
        if arn.starts_with("arn:aws:iam::aws:policy/") {
            notes.push(format!(
                "`{arn}` is an AWS managed policy, which cannot be edited: create a customer managed policy from the after-document and attach it in its place"
            ));
            return vec![args(&[
                "aws",
                "iam",
                "create-policy",
                "--policy-name",
                "NEW_POLICY_NAME",
                "--policy-document",
                doc,
            ])];
        }
        notes.push(format!(
            "IAM keeps at most 5 versions of a managed policy: when `{arn}` has 5, delete the oldest one that is not the default first (`aws iam list-policy-versions --policy-arn {arn}`, then `aws iam delete-policy-version --policy-arn {arn} --version-id vN`)"
        ));
        vec![args(&[
            "aws",
            "iam",
            "create-policy-version",
            "--policy-arn",
            arn,
            "--policy-document",
            doc,
            "--set-as-default",
        ])]
    }

    /// The command that removes an identity policy left without statements: an inline policy
    /// is deleted, a managed policy detached.
    fn iam_removal(&self, name: &str) -> Vec<Vec<String>> {
        if let Some(rest) = name.strip_prefix("inline policy ")
            && let Some((pname, owner)) = rest.rsplit_once(" of ")
            && let Some((kind, who)) = owner.split_once(' ')
        {
            return vec![args(&[
                "aws",
                "iam",
                &format!("delete-{kind}-policy"),
                &format!("--{kind}-name"),
                who,
                "--policy-name",
                pname,
            ])];
        }
        let (kind, who) = match self.ev.identity.get() {
            Some(i) if i.kind == IdentityKind::User => ("user", i.name.clone()),
            Some(i) => ("role", i.name.clone()),
            None => ("role", "NAME".to_owned()),
        };
        let rest = name.strip_prefix("managed policy ").unwrap_or(name);
        let (arn, group) = match rest.split_once(" of group ") {
            Some((arn, g)) => (arn, Some(g)),
            None => (rest, None),
        };
        match group {
            Some(g) => vec![args(&[
                "aws",
                "iam",
                "detach-group-policy",
                "--group-name",
                g,
                "--policy-arn",
                arn,
            ])],
            None => vec![args(&[
                "aws",
                "iam",
                &format!("detach-{kind}-policy"),
                &format!("--{kind}-name"),
                &who,
                "--policy-arn",
                arn,
            ])],
        }
    }

    fn role_arn(&self) -> Option<String> {
        let id = self.ev.identity.get()?;
        (id.kind == IdentityKind::Role).then(|| id.arn.clone())
    }

    fn session_name(&self) -> Option<String> {
        let arn = &self.ev.caller.get()?.arn;
        arn.contains(":assumed-role/")
            .then(|| arn.rsplit('/').next().map(str::to_owned))
            .flatten()
    }

    /// A change that is neither the request nor a policy statement.
    fn other_step(&self, analysis: &Analysis, c: &Change) -> Step {
        let bucket = self.ev.bucket.name.clone();
        let key_arn = self
            .ev
            .kms_key
            .get()
            .map(|k| k.arn.clone())
            .unwrap_or_else(|| "KEY_ARN".to_owned());
        let mut step = Step {
            summary: String::new(),
            actor: self.bucket_owner(),
            client: Vec::new(),
            document: None,
            commands: Vec::new(),
            notes: Vec::new(),
        };
        match c {
            Change::AddIdentityPolicy { name, document } => {
                let (kind, who) = match self.ev.identity.get() {
                    Some(i) if i.kind == IdentityKind::User => ("user", i.name.clone()),
                    Some(i) => ("role", i.name.clone()),
                    None => ("role", "NAME".to_owned()),
                };
                let file = format!("{}.json", safe_file(name));
                let after = Doc::from_value(document).policy_ordered().pretty();
                step.summary = format!("add the inline policy `{name}` to {kind} {who}");
                step.actor = self.iam_admin();
                step.document = Some(DocumentEdit {
                    name: format!("inline policy {name} of {kind} {who}"),
                    diff: unified_diff(&file, None, Some(&after)),
                    file: file.clone(),
                    before: None,
                    after: Some(after),
                });
                step.commands = vec![args(&[
                    "aws",
                    "iam",
                    &format!("put-{kind}-policy"),
                    &format!("--{kind}-name"),
                    &who,
                    "--policy-name",
                    name,
                    "--policy-document",
                    &format!("file://{file}"),
                ])];
            }
            Change::AttachScp {
                level,
                name,
                document,
            }
            | Change::AttachRcp {
                level,
                name,
                document,
            } => {
                let scp = matches!(c, Change::AttachScp { .. });
                let org = if scp {
                    self.ev.caller_org.get()
                } else {
                    self.rcp_org()
                };
                let levels = org.and_then(|o| if scp { o.scps.get() } else { o.rcps.get() });
                let target = levels
                    .and_then(|l| l.get(*level))
                    .map(|l| l.target_id.clone())
                    .unwrap_or_else(|| "TARGET_ID".to_owned());
                let file = format!("{}.json", safe_file(name));
                let after = Doc::from_value(document).policy_ordered().pretty();
                let kind = if scp { "SCP" } else { "RCP" };
                step.summary = format!("create the {kind} `{name}` and attach it to `{target}`");
                step.actor = self.actor(
                    ActorKind::Organization,
                    org.map(|o| o.management_account.clone()),
                );
                step.document = Some(DocumentEdit {
                    name: format!("{kind} {name}"),
                    diff: unified_diff(&file, None, Some(&after)),
                    file: file.clone(),
                    before: None,
                    after: Some(after),
                });
                let policy_type = if scp {
                    "SERVICE_CONTROL_POLICY"
                } else {
                    "RESOURCE_CONTROL_POLICY"
                };
                let full_access = scp
                    && name == "FullAWSAccess"
                    && Doc::from_value(document)
                        == Doc::from_value(&serde_json::json!({
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
                        }));
                if full_access {
                    // AWS's own `FullAWSAccess` exists in every organization: attach it.
                    step.summary =
                        format!("attach the AWS managed SCP `FullAWSAccess` to `{target}`");
                    step.document = None;
                    step.commands = vec![args(&[
                        "aws",
                        "organizations",
                        "attach-policy",
                        "--policy-id",
                        "p-FullAWSAccess",
                        "--target-id",
                        &target,
                    ])];
                    return step;
                }
                step.commands = vec![
                    args(&[
                        "aws",
                        "organizations",
                        "create-policy",
                        "--type",
                        policy_type,
                        "--name",
                        name,
                        "--description",
                        "added to let uploads through (why403)",
                        "--content",
                        &format!("file://{file}"),
                    ]),
                    args(&[
                        "aws",
                        "organizations",
                        "attach-policy",
                        "--policy-id",
                        "NEW_POLICY_ID",
                        "--target-id",
                        &target,
                    ]),
                ];
                step.notes
                    .push("`NEW_POLICY_ID` is the `Id` that `create-policy` answers".to_owned());
            }
            Change::AddAclGrant {
                canonical_id,
                permission,
            } => {
                step.summary = format!(
                    "grant `{}` to canonical user `{canonical_id}` in the bucket ACL",
                    permission.as_str()
                );
                if let Some(acl) = self.ev.bucket.acl.get() {
                    let before = acl_doc(acl, None);
                    let after = acl_doc(acl, Some((canonical_id, permission.as_str())));
                    step.document = Some(DocumentEdit {
                        name: format!("ACL of bucket {bucket}"),
                        file: "acl.json".to_owned(),
                        diff: unified_diff("acl.json", Some(&before), Some(&after)),
                        before: Some(before),
                        after: Some(after),
                    });
                }
                step.commands = vec![args(&[
                    "aws",
                    "s3api",
                    "put-bucket-acl",
                    "--bucket",
                    &bucket,
                    "--access-control-policy",
                    "file://acl.json",
                ])];
                step.notes.push(
                    "`put-bucket-acl` replaces the whole ACL: the after-document keeps every grant it had"
                        .to_owned(),
                );
            }
            Change::SetPublicAccessBlock {
                level,
                setting,
                enabled,
            } => {
                let slot = match level {
                    PublicAccessLevel::Bucket => self.ev.bucket.public_access_block.clone(),
                    PublicAccessLevel::Account => self.ev.effective_account_public_access_block(),
                };
                let before = slot.get().cloned();
                let mut after = before.unwrap_or_default();
                after.set(*setting, *enabled);
                let file = "public-access-block.json".to_owned();
                let before_text = before.as_ref().map(bpa_doc);
                let after_text = bpa_doc(&after);
                step.summary = format!(
                    "turn {} `{}` at the {} level",
                    if *enabled { "on" } else { "off" },
                    setting.as_str(),
                    match level {
                        PublicAccessLevel::Bucket => "bucket",
                        PublicAccessLevel::Account => "account",
                    }
                );
                step.document = Some(DocumentEdit {
                    name: match level {
                        PublicAccessLevel::Bucket => {
                            format!("Block Public Access of bucket {bucket}")
                        }
                        PublicAccessLevel::Account => {
                            "Block Public Access of the bucket owner's account".to_owned()
                        }
                    },
                    diff: unified_diff(&file, before_text.as_deref(), Some(&after_text)),
                    file: file.clone(),
                    before: before_text,
                    after: Some(after_text),
                });
                let config = bpa_shorthand(&after);
                step.commands = vec![match level {
                    PublicAccessLevel::Bucket => args(&[
                        "aws",
                        "s3api",
                        "put-public-access-block",
                        "--bucket",
                        &bucket,
                        "--public-access-block-configuration",
                        &config,
                    ]),
                    PublicAccessLevel::Account => {
                        let account = step
                            .actor
                            .account
                            .clone()
                            .unwrap_or_else(|| "ACCOUNT_ID".to_owned());
                        args(&[
                            "aws",
                            "s3control",
                            "put-public-access-block",
                            "--account-id",
                            &account,
                            "--public-access-block-configuration",
                            &config,
                        ])
                    }
                }];
                step.notes.push(
                    "the call sets all four settings: the others keep their current values"
                        .to_owned(),
                );
                if *level == PublicAccessLevel::Account
                    && let Some(org) = self.ev.org_s3_policy.get()
                {
                    step.notes.push(format!(
                        "the organization's S3 policy (`{}`) sets the account's Block Public Access: the call answers 403 `AccessDenied` until the organization's management account changes or detaches that policy",
                        org.as_str()
                    ));
                }
            }
            Change::EnableKmsKey => {
                step.summary = format!("enable the KMS key `{key_arn}`");
                step.actor = self.key_owner();
                step.commands = vec![args(&["aws", "kms", "enable-key", "--key-id", &key_arn])];
            }
            Change::CancelKmsKeyDeletion => {
                step.summary = format!("cancel the scheduled deletion of the KMS key `{key_arn}`");
                step.actor = self.key_owner();
                step.commands = vec![args(&[
                    "aws",
                    "kms",
                    "cancel-key-deletion",
                    "--key-id",
                    &key_arn,
                ])];
                step.notes.push(
                    "a key whose deletion is cancelled is disabled: enable it too".to_owned(),
                );
            }
            Change::RestoreKmsKey => {
                let state = self
                    .ev
                    .kms_key
                    .get()
                    .map(|k| k.state.as_str())
                    .unwrap_or("");
                step.actor = self.key_owner();
                match state {
                    "PendingImport" => {
                        step.summary = format!("import the key material of `{key_arn}` again");
                        step.commands = vec![args(&[
                            "aws",
                            "kms",
                            "get-parameters-for-import",
                            "--key-id",
                            &key_arn,
                            "--wrapping-algorithm",
                            "RSAES_OAEP_SHA_256",
                            "--wrapping-key-spec",
                            "RSA_4096",
                        ])];
                        step.notes.push(
                            "then wrap the key material with the public key it answers and run `aws kms import-key-material` with the import token (the material itself never leaves your hands)"
                                .to_owned(),
                        );
                    }
                    "Unavailable" => {
                        step.summary = format!(
                            "reconnect the custom key store of `{key_arn}` (`aws kms connect-custom-key-store --custom-key-store-id ...`)"
                        );
                        step.notes.push(
                            "`aws kms describe-key` names the key's custom key store".to_owned(),
                        );
                    }
                    _ => {
                        step.summary = format!(
                            "wait for the operation on `{key_arn}` to end: the key becomes `Enabled`"
                        );
                    }
                }
            }
            Change::UseKmsKey { arn, key_policy } => {
                step.summary = format!("make `{arn}` the bucket's default encryption key");
                let algorithm = self
                    .ev
                    .bucket
                    .encryption
                    .get()
                    .map(|e| e.algorithm.clone())
                    .unwrap_or_else(|| "aws:kms".to_owned());
                let bucket_key = self
                    .ev
                    .bucket
                    .encryption
                    .get()
                    .is_some_and(|e| e.bucket_key_enabled);
                let config = format!(
                    "{{\"Rules\":[{{\"ApplyServerSideEncryptionByDefault\":{{\"SSEAlgorithm\":\"{algorithm}\",\"KMSMasterKeyID\":\"{arn}\"}},\"BucketKeyEnabled\":{bucket_key}}}]}}"
                );
                step.commands = vec![args(&[
                    "aws",
                    "s3api",
                    "put-bucket-encryption",
                    "--bucket",
                    &bucket,
                    "--server-side-encryption-configuration",
                    &config,
                ])];
                if key_policy.is_some() {
                    step.notes.push(format!(
                        "the key `{arn}` needs the key policy the fix gives it (its owner sets it with `aws kms put-key-policy`)"
                    ));
                }
            }
            Change::SetSessionTag { key, value } => {
                step.summary =
                    format!("create the session again with the session tag `{key}` = `{value}`");
                step.actor = self.actor(ActorKind::Uploader, None);
                let mut cmd = args(&["aws", "sts", "assume-role", "--role-arn"]);
                cmd.push(self.role_arn().unwrap_or_else(|| "ROLE_ARN".to_owned()));
                cmd.push("--role-session-name".to_owned());
                cmd.push(self.session_name().unwrap_or_else(|| "SESSION".to_owned()));
                cmd.push("--tags".to_owned());
                cmd.push(format!("Key={key},Value={value}"));
                step.commands = vec![cmd];
                step.notes.push(
                    "the role's trust policy must allow `sts:TagSession` for the tag to be set"
                        .to_owned(),
                );
            }
            // Handled by the request and policy steps.
            other => {
                let _ = analysis;
                step.summary = format!("{other:?}");
            }
        }
        step
    }
}

/// A command's argument list as one line for a POSIX shell, each word quoted when needed.
pub fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|w| client::shell(w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

/// The `Sid` of statement `i`, or its position.
fn sid_of(doc: Option<&Doc>, i: usize) -> String {
    let stmt = doc.and_then(|d| match d.get("Statement") {
        Some(Doc::Array(a)) => a.get(i),
        Some(one @ Doc::Object(_)) if i == 0 => Some(one),
        _ => None,
    });
    match stmt.and_then(|s| s.get("Sid")) {
        Some(Doc::String(sid)) if !sid.is_empty() => format!("statement `{sid}`"),
        _ => format!("statement {}", i + 1),
    }
}

/// A file name made of the name's letters, digits, `.`, `_` and `-`.
fn safe_file(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.trim_matches('-').is_empty() {
        "policy".to_owned()
    } else {
        s
    }
}

fn file_name(target: PolicyTarget, policy: Option<&Policy>) -> String {
    match target {
        PolicyTarget::Identity(_) => {
            let name = policy.map(|p| p.name.as_str()).unwrap_or("policy");
            match name
                .strip_prefix("inline policy ")
                .and_then(|r| r.rsplit_once(" of "))
            {
                Some((pname, _)) => format!("{}.json", safe_file(pname)),
                None => "policy.json".to_owned(),
            }
        }
        PolicyTarget::Boundary => "boundary.json".to_owned(),
        PolicyTarget::Session => "session-policy.json".to_owned(),
        PolicyTarget::BucketPolicy => "bucket-policy.json".to_owned(),
        PolicyTarget::KeyPolicy => "key-policy.json".to_owned(),
        PolicyTarget::Scp { .. } => "scp.json".to_owned(),
        PolicyTarget::Rcp { .. } => "rcp.json".to_owned(),
        PolicyTarget::VpcEndpoint => "vpc-endpoint-policy.json".to_owned(),
        PolicyTarget::AccessPointPolicy => "access-point-policy.json".to_owned(),
    }
}

/// The ACL as `put-bucket-acl --access-control-policy` takes it, with one more grant.
fn acl_doc(acl: &crate::evidence::Acl, add: Option<(&str, &str)>) -> String {
    use crate::evidence::Grantee;
    let mut grants: Vec<serde_json::Value> = acl
        .grants
        .iter()
        .map(|g| {
            let grantee = match &g.grantee {
                Grantee::CanonicalUser { id, .. } => {
                    serde_json::json!({ "Type": "CanonicalUser", "ID": id })
                }
                Grantee::Group { uri } => serde_json::json!({ "Type": "Group", "URI": uri }),
                Grantee::Email { address } => {
                    serde_json::json!({ "Type": "AmazonCustomerByEmail", "EmailAddress": address })
                }
            };
            serde_json::json!({ "Grantee": grantee, "Permission": g.permission.as_str() })
        })
        .collect();
    if let Some((id, permission)) = add {
        grants.push(serde_json::json!({
            "Grantee": { "Type": "CanonicalUser", "ID": id },
            "Permission": permission,
        }));
    }
    let doc = Doc::Object(vec![
        (
            "Owner".into(),
            Doc::Object(vec![("ID".into(), Doc::String(acl.owner_id.clone()))]),
        ),
        (
            "Grants".into(),
            Doc::Array(
                grants
                    .iter()
                    .map(|g| Doc::from_value(g).ordered_like(None))
                    .collect(),
            ),
        ),
    ]);
    doc.pretty()
}

fn bpa_doc(p: &PublicAccessBlock) -> String {
    Doc::Object(vec![
        ("BlockPublicAcls".into(), Doc::Bool(p.block_public_acls)),
        ("IgnorePublicAcls".into(), Doc::Bool(p.ignore_public_acls)),
        ("BlockPublicPolicy".into(), Doc::Bool(p.block_public_policy)),
        (
            "RestrictPublicBuckets".into(),
            Doc::Bool(p.restrict_public_buckets),
        ),
    ])
    .pretty()
}

/// The AWS CLI shorthand of a Block Public Access configuration.
fn bpa_shorthand(p: &PublicAccessBlock) -> String {
    format!(
        "BlockPublicAcls={},IgnorePublicAcls={},BlockPublicPolicy={},RestrictPublicBuckets={}",
        p.block_public_acls, p.ignore_public_acls, p.block_public_policy, p.restrict_public_buckets
    )
}

/// When a Deny of the bucket policy that stays in place can also refuse `s3:PutBucketPolicy`
/// to the bucket owner's IAM principals (the lockout AWS warns about), what to do: the
/// account's root user can always read, replace and delete the bucket policy.
fn lockout(policy: &Doc, bucket: &str, owner: Option<&str>) -> Option<String> {
    let Some(Doc::Array(stmts)) = policy.get("Statement") else {
        return None;
    };
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let hit = stmts.iter().find(|s| {
        matches!(s.get("Effect"), Some(Doc::String(e)) if e == "Deny")
            && principal_covers_owner(s.get("Principal"), owner)
            && s.get("NotPrincipal").is_none()
            && action_covers(s, "s3:PutBucketPolicy")
            && resource_covers(s, &bucket_arn)
    })?;
    let sid = match hit.get("Sid") {
        Some(Doc::String(s)) if !s.is_empty() => format!("statement `{s}`"),
        _ => "a statement".to_owned(),
    };
    let conditional = hit.get("Condition").is_some();
    let account = owner.unwrap_or("that owns the bucket");
    Some(format!(
        "{sid} of the bucket policy {} `s3:PutBucketPolicy` to the bucket owner's IAM users and roles{}: then only the root user of account {account} can read, replace or delete the bucket policy (S3 lets the bucket owner's root user do so whatever the policy says); signed in as that root user, run `aws s3api delete-bucket-policy --bucket {bucket}` or the command above",
        if conditional {
            "can also deny"
        } else {
            "also denies"
        },
        if conditional {
            " when its condition holds for them"
        } else {
            ""
        }
    ))
}

fn strings(d: Option<&Doc>) -> Vec<String> {
    match d {
        Some(Doc::String(s)) => vec![s.clone()],
        Some(Doc::Array(a)) => a
            .iter()
            .filter_map(|v| match v {
                Doc::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn principal_covers_owner(p: Option<&Doc>, owner: Option<&str>) -> bool {
    let values = match p {
        Some(Doc::String(s)) => vec![s.clone()],
        Some(obj @ Doc::Object(_)) => strings(obj.get("AWS")),
        _ => return false,
    };
    values.iter().any(|v| {
        v == "*" || owner.is_some_and(|o| v == o || v.starts_with(&format!("arn:aws:iam::{o}:")))
    })
}

fn action_covers(s: &Doc, action: &str) -> bool {
    let listed = strings(s.get("Action"));
    if !listed.is_empty() {
        return listed.iter().any(|a| glob(a, action));
    }
    let not = strings(s.get("NotAction"));
    !not.is_empty() && !not.iter().any(|a| glob(a, action))
}

fn resource_covers(s: &Doc, arn: &str) -> bool {
    let listed = strings(s.get("Resource"));
    if !listed.is_empty() {
        return listed.iter().any(|r| glob(r, arn));
    }
    let not = strings(s.get("NotResource"));
    !not.is_empty() && !not.iter().any(|r| glob(r, arn))
}

/// `*` and `?` wildcards, ASCII case-insensitive (as IAM matches actions; resources are
/// case-sensitive but bucket names are lower case).
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<u8> = pattern.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let t: Vec<u8> = text.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests;
