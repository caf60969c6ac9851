//! Rule `builtin/kms-key-policy-condition-unmet`: a key policy (or identity policy) statement
//! would allow S3's KMS call for the upload, but one of its conditions tests something that
//! call does not carry as written: the encryption context `aws:s3:arn` (the object ARN, or the
//! bucket ARN with an S3 Bucket Key), `kms:ViaService`, or the caller's network.

use why403_core::analysis::{
    CheckKind, CheckOutcome, Missing, bucket_key_unknown, uses_bucket_key,
};
use why403_core::condition::BaseOp;
use why403_core::eval::{Decision, Element, Layer, Match, explain_miss};
use why403_core::evidence::Slot;
use why403_core::finding::{Change, Confidence, Fix, PolicyTarget, Role, statement_json};
use why403_core::policy::Effect;
use why403_core::rule::{Emitter, Rule, RuleContext, label};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// A statement of the KMS key policy (or of the uploader's IAM policy) allows
    /// `kms:GenerateDataKey` / `kms:Decrypt` for the uploader, but only under a condition that
    /// S3's request to KMS does not meet:
    ///
    /// - `kms:EncryptionContext:aws:s3:arn` pinned to object ARNs (`arn:aws:s3:::bucket/*`)
    ///   while the bucket uses an S3 Bucket Key, so the context is the **bucket** ARN; or pinned
    ///   to the bucket ARN while no Bucket Key is used, so the context is the object ARN; or
    ///   pinned to another bucket;
    /// - `kms:ViaService` naming another Region or service than `s3.<bucket Region>.amazonaws.com`;
    /// - `aws:SourceIp`, `aws:SourceVpce`, `aws:SourceVpc` or `aws:VpcSourceIp`: S3 calls KMS
    ///   from its own network, so these keys never match S3's call.
    ///
    /// Enabling S3 Bucket Keys on a bucket whose key policy was written for object ARNs is a
    /// common way to break uploads that used to work.
    ///
    /// ## How AWS evaluates it
    ///
    /// S3 calls KMS with the uploader's credentials. The request carries
    /// `kms:ViaService = s3.<region>.amazonaws.com`, `kms:CallerAccount`, and the encryption
    /// context `aws:s3:arn`, which is the object ARN, or the bucket ARN when an S3 Bucket Key
    /// is used (the bucket's setting, or the `x-amz-server-side-encryption-bucket-key-enabled`
    /// header); it carries none of the uploader's network keys. A statement applies only when
    /// all its conditions hold, so the Allow does not count and, with nothing else allowing,
    /// the call is implicitly denied.
    ///
    /// ## Example
    ///
    /// A key policy statement for a bucket whose default encryption has
    /// `"BucketKeyEnabled": true`:
    ///
    /// ```json
    /// {
    ///   "Sid": "AllowUploadsToReports",
    ///   "Effect": "Allow",
    ///   "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
    ///   "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
    ///   "Resource": "*",
    ///   "Condition": {"StringLike": {
    ///     "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::amzn-s3-demo-bucket/reports/*"
    ///   }}
    /// }
    /// ```
    ///
    /// ## Fix
    ///
    /// Make the condition accept what S3 sends: add the bucket ARN to
    /// `kms:EncryptionContext:aws:s3:arn` when S3 Bucket Keys are used (or object ARNs when they
    /// are not), add `s3.<bucket Region>.amazonaws.com` to `kms:ViaService`, and drop network
    /// conditions from KMS statements (restrict with `kms:ViaService` instead). Alternatively
    /// send `x-amz-server-side-encryption-bucket-key-enabled` so the context matches.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide, Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys (encryption context changes to the bucket ARN): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html>
    /// - Amazon S3 User Guide, Configuring an S3 Bucket Key at the object level (the request header overrides the bucket's setting): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-bucket-key-object.html>
    /// - Amazon S3 User Guide, Using server-side encryption with AWS KMS keys, encryption context: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context>
    /// - AWS KMS Developer Guide, kms:ViaService: <https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service>
    /// - AWS KMS Developer Guide, kms:EncryptionContext:context-key: <https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context>
    /// - IAM User Guide, aws:SourceIp (not present when an AWS service calls another on your behalf): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceip>
    pub struct KmsKeyPolicyConditionUnmet {
        id: "kms-key-policy-condition-unmet",
        scope: "builtin",
        layer: Kms,
        summary: "a KMS key policy or IAM allow has conditions S3's call to KMS does not meet",
        refines: ["kms-key-policy-missing-generate-data-key"],
        service: Kms,
        actions: [],
        messages: [either(ResourceBased), implicit(IdentityBased)],
    }
}

const CONTEXT_KEY: &str = "kms:encryptioncontext:aws:s3:arn";
const NETWORK_KEYS: [&str; 4] = [
    "aws:sourceip",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:vpcsourceip",
];

/// What kind of unmet condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Context,
    ViaService,
    Network,
}

fn kind_of(key_lower: &str, op: BaseOp) -> Option<Kind> {
    let positive = matches!(
        op,
        BaseOp::StringEquals
            | BaseOp::StringLike
            | BaseOp::StringEqualsIgnoreCase
            | BaseOp::ArnEquals
            | BaseOp::ArnLike
    );
    match key_lower {
        CONTEXT_KEY if positive => Some(Kind::Context),
        "kms:viaservice" if positive => Some(Kind::ViaService),
        k if NETWORK_KEYS.contains(&k) => Some(Kind::Network),
        _ => None,
    }
}

/// The operator and key of a condition, from its JSON pointer
/// (`/Statement/0/Condition/<operator>/<key>`).
fn op_and_key(pointer: &str) -> Option<(String, String)> {
    let mut parts = pointer.rsplit('/');
    let unescape = |s: &str| s.replace("~1", "/").replace("~0", "~");
    let key = unescape(parts.next()?);
    let op = unescape(parts.next()?);
    Some((op, key))
}

/// The statement with the condition's values extended by `value`, or the condition removed.
fn edit_statement(
    mut st: serde_json::Value,
    op: &str,
    key: &str,
    add: Option<&str>,
) -> Option<serde_json::Value> {
    let cond = st.get_mut("Condition")?.as_object_mut()?;
    let block = cond.get_mut(op)?.as_object_mut()?;
    match add {
        Some(v) => {
            let values = block.get_mut(key)?;
            match values {
                serde_json::Value::Array(a) => a.push(v.into()),
                other => *other = serde_json::json!([other.clone(), v]),
            }
        }
        None => {
            block.remove(key)?;
            if block.is_empty() {
                cond.remove(op);
            }
            if cond.is_empty()
                && let Some(o) = st.as_object_mut()
            {
                o.remove("Condition");
            }
        }
    }
    Some(st)
}

impl Rule for KmsKeyPolicyConditionUnmet {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        let kms: Vec<_> = a
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::Kms)
            .collect();
        let bucket_key = uses_bucket_key(&a.request, &a.evidence);
        // Whether S3 uses a Bucket Key is unknown when default encryption is unreadable and
        // the request does not say.
        let bucket_key_unknown = bucket_key_unknown(&a.request, &a.evidence);
        let mut seen = Vec::new();
        for check in &kms {
            if check.outcome == CheckOutcome::Allowed
                || !check.blocks.is_empty()
                || check.kms_grant.is_some()
                || check.eval.decision != Decision::ImplicitlyDenied
            {
                continue;
            }
            for layer in [Layer::Resource, Layer::Identity] {
                if !check.eval.blocked_by.iter().any(|b| b.layer == layer) {
                    continue;
                }
                for (at, m) in cx.traces(check, layer) {
                    let Match::Miss(miss) = m else { continue };
                    let Element::Condition(ci) = miss.element else {
                        continue;
                    };
                    if check.is_synthetic(at.layer, at.level) {
                        continue;
                    }
                    let Some((policy, st)) = cx.statement(check, at) else {
                        continue;
                    };
                    if st.effect != Effect::Allow {
                        continue;
                    }
                    let Some(c) = st.conditions.get(ci as usize) else {
                        continue;
                    };
                    let Some(kind) = kind_of(&c.key_lower, c.op.base) else {
                        continue;
                    };
                    let id = (at.layer, at.level, at.policy, at.statement, ci);
                    if seen.contains(&id) {
                        continue;
                    }
                    seen.push(id);
                    let actions: Vec<&str> = kms
                        .iter()
                        .filter(|k| k.outcome != CheckOutcome::Allowed)
                        .map(|k| k.action.as_str())
                        .collect();
                    let sent = check
                        .request
                        .context
                        .get(&c.key)
                        .map(|v| v.values.join("`, `"));
                    let where_ = if layer == Layer::Resource {
                        "the key policy".to_owned()
                    } else {
                        policy.name.clone()
                    };
                    let what = match kind {
                        Kind::Context => format!(
                            "S3 sends the encryption context `aws:s3:arn` = `{}`{}",
                            sent.clone().unwrap_or_default(),
                            if bucket_key {
                                " (the bucket ARN: an S3 Bucket Key is used)"
                            } else if bucket_key_unknown {
                                " (the object ARN, unless the bucket's unreadable default encryption uses an S3 Bucket Key)"
                            } else {
                                " (the object ARN: no S3 Bucket Key)"
                            }
                        ),
                        Kind::ViaService => format!(
                            "S3 calls KMS with `kms:ViaService` = `{}`",
                            sent.clone().unwrap_or_default()
                        ),
                        Kind::Network => format!(
                            "S3 calls KMS from its own network, so `{}` is not in its request",
                            c.key
                        ),
                    };
                    let possible = kind == Kind::Context && bucket_key_unknown;
                    let meets = if possible {
                        "may not meet"
                    } else {
                        "does not meet"
                    };
                    let confidence = if possible {
                        Confidence::Possible
                    } else if check.missing.is_empty() {
                        Confidence::Confirmed
                    } else {
                        Confidence::Likely
                    };
                    let f = out.emit(
                        Role::Cause,
                        confidence,
                        format!(
                            "statement `{}` of {where_} allows `{}` only under its `{}` condition, which S3's call to KMS {meets}: {what}",
                            st.label(),
                            actions.join("` and `"),
                            c.key
                        ),
                    );
                    f.check = Some(check.action.clone());
                    let e = explain_miss(st, &miss, &check.request);
                    f.labels
                        .push(label(policy, e.span, &e.pointer, true, e.message));
                    f.labels.push(label(
                        policy,
                        st.effect_span,
                        &format!("{}/Effect", st.pointer),
                        false,
                        format!("would allow `{}`", check.action),
                    ));
                    f.missing = check.missing.clone();
                    if possible
                        && let Slot::Unavailable(u) = &a.evidence.bucket.encryption
                        && !f.missing.iter().any(|m| &m.unavailable == u)
                    {
                        f.missing.push(Missing {
                            kind: why403_core::rule::EvidenceKind::BucketEncryption,
                            what: "bucket default encryption (whether an S3 Bucket Key is used)"
                                .into(),
                            unavailable: u.clone(),
                        });
                    }
                    let Some((op, key)) = op_and_key(&c.key_pointer) else {
                        continue;
                    };
                    let like = matches!(
                        c.op.base,
                        BaseOp::StringLike | BaseOp::ArnLike | BaseOp::ArnEquals
                    );
                    let (add, sentence) = match kind {
                        Kind::Context => {
                            let v = if bucket_key {
                                a.request.bucket_arn()
                            } else if like {
                                format!("{}/*", a.request.bucket_arn())
                            } else {
                                a.request.object_arn()
                            };
                            let s = format!(
                                "add `{v}` to the `{key}` condition of statement `{}` of {where_}",
                                st.label()
                            );
                            (Some(v), s)
                        }
                        Kind::ViaService => {
                            let v = sent.clone().unwrap_or_default();
                            let s = format!(
                                "add `{v}` to the `{key}` condition of statement `{}` of {where_}",
                                st.label()
                            );
                            (Some(v), s)
                        }
                        Kind::Network => (
                            None,
                            format!(
                                "remove the `{key}` condition from statement `{}` of {where_} (restrict KMS use with `kms:ViaService` instead)",
                                st.label()
                            ),
                        ),
                    };
                    let target = if layer == Layer::Resource {
                        PolicyTarget::KeyPolicy
                    } else {
                        PolicyTarget::Identity(at.policy as usize)
                    };
                    // The statement expects the bucket ARN and no Bucket Key is used: asking
                    // for one per request makes the context match without a policy change.
                    if kind == Kind::Context
                        && !bucket_key
                        && c.values.iter().any(|v| v.raw == a.request.bucket_arn())
                    {
                        f.fix = Some(Fix::new(
                            "send `x-amz-server-side-encryption-bucket-key-enabled: true` so S3 uses an S3 Bucket Key and sends the bucket ARN as encryption context (or enable the Bucket Key in the bucket's default encryption)",
                            vec![Change::SetHeader {
                                name: "x-amz-server-side-encryption-bucket-key-enabled".into(),
                                value: "true".into(),
                            }],
                        ));
                        continue;
                    }
                    let Some(with) = statement_json(policy, st.index)
                        .and_then(|j| edit_statement(j, &op, &key, add.as_deref()))
                    else {
                        continue;
                    };
                    f.fix = Some(Fix::new(
                        sentence,
                        vec![Change::ReplaceStatement {
                            target,
                            statement: st.index,
                            with,
                        }],
                    ));
                }
            }
        }
    }
}
