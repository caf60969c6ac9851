//! Whether a resource-policy statement is "public" in the sense of S3 Block Public Access
//! (docs/aws-model.md#block-public-access): an Allow to everyone that no condition pins to fixed values.

use crate::condition::{BaseOp, CondValue};
use crate::policy::{Effect, PrincipalValue, Statement};

/// Keys whose fixed (wildcard-free) values make a statement non-public.
const PINNING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
];

/// True when the statement grants to everyone without pinning conditions.
pub fn is_public_statement(st: &Statement) -> bool {
    if st.effect != Effect::Allow {
        return false;
    }
    let Some(p) = &st.principal else { return false };
    let open = p.negated || p.items.iter().any(|l| l.value == PrincipalValue::Any);
    if !open {
        return false;
    }
    !st.conditions.iter().any(|c| {
        let positive = c.op.set.is_none()
            && !c.op.if_exists
            && matches!(
                c.op.base,
                BaseOp::StringEquals
                    | BaseOp::StringEqualsIgnoreCase
                    | BaseOp::StringLike
                    | BaseOp::ArnEquals
                    | BaseOp::ArnLike
                    | BaseOp::IpAddress
            );
        positive
            && PINNING_KEYS.contains(&c.key_lower.as_str())
            && !c.values.is_empty()
            && c.values
                .iter()
                .all(|v| pins(&v.raw, &v.value, &c.key_lower))
    })
}

fn pins(raw: &str, value: &CondValue, key: &str) -> bool {
    match value {
        CondValue::Ip(net) => {
            let private = match net {
                ipnet::IpNet::V4(n) => n.addr().is_private(),
                ipnet::IpNet::V6(_) => false,
            };
            !private
                && match net {
                    ipnet::IpNet::V4(n) => n.prefix_len() >= 8,
                    ipnet::IpNet::V6(n) => n.prefix_len() >= 32,
                }
        }
        CondValue::Text(_) => {
            if key == "aws:userid" && raw.ends_with(":*") {
                // `AROLEID:*` pins the role.
                return !raw[..raw.len() - 2].contains(['*', '?']);
            }
            !raw.contains(['*', '?']) && !raw.contains("${")
        }
        _ => false,
    }
}
