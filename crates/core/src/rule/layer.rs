//! Where a cause lives: the one vocabulary of layers that rules declare (`layer: Kms` in
//! [`declare_rule!`](crate::declare_rule)), `cargo xtask new-rule` offers and the rule docs
//! group by.

use std::fmt;
use std::str::FromStr;

/// The part of AWS's configuration (or of the request) where a rule's cause lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleLayer {
    /// The caller's identity-based policies.
    Identity,
    /// The caller's permissions boundary.
    PermissionsBoundary,
    /// The session policies passed when the caller's session was made.
    SessionPolicy,
    /// The policy of the VPC endpoint the request went through.
    VpcEndpointPolicy,
    /// AWS Organizations: service and resource control policies.
    Organizations,
    /// The bucket policy.
    BucketPolicy,
    /// An access point the request goes through: its policy, network origin and Block Public
    /// Access, and the bucket's delegation to it.
    AccessPoint,
    /// The bucket ACL.
    BucketAcl,
    /// The bucket's Object Ownership setting.
    BucketOwnership,
    /// S3 Block Public Access, of the bucket or the account.
    BlockPublicAccess,
    /// Other settings of the bucket: its owner, default encryption, Requester Pays.
    Bucket,
    /// The KMS key that encrypts the upload: its state, spec, Region, key policy.
    Kms,
    /// The request itself: its headers, signature, credentials and clock.
    Request,
}

impl RuleLayer {
    /// Every layer, in the order the docs list them.
    pub const ALL: [RuleLayer; 13] = [
        RuleLayer::Identity,
        RuleLayer::PermissionsBoundary,
        RuleLayer::SessionPolicy,
        RuleLayer::VpcEndpointPolicy,
        RuleLayer::Organizations,
        RuleLayer::BucketPolicy,
        RuleLayer::AccessPoint,
        RuleLayer::BucketAcl,
        RuleLayer::BucketOwnership,
        RuleLayer::BlockPublicAccess,
        RuleLayer::Bucket,
        RuleLayer::Kms,
        RuleLayer::Request,
    ];

    /// The kebab-case name shown by `why403 rules` and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleLayer::Identity => "identity",
            RuleLayer::PermissionsBoundary => "permissions-boundary",
            RuleLayer::SessionPolicy => "session-policy",
            RuleLayer::VpcEndpointPolicy => "vpc-endpoint-policy",
            RuleLayer::Organizations => "organizations",
            RuleLayer::BucketPolicy => "bucket-policy",
            RuleLayer::AccessPoint => "access-point",
            RuleLayer::BucketAcl => "bucket-acl",
            RuleLayer::BucketOwnership => "bucket-ownership",
            RuleLayer::BlockPublicAccess => "block-public-access",
            RuleLayer::Bucket => "bucket",
            RuleLayer::Kms => "kms",
            RuleLayer::Request => "request",
        }
    }

    /// A heading for the docs, e.g. `KMS key`.
    pub fn title(self) -> &'static str {
        match self {
            RuleLayer::Identity => "Identity-based policies",
            RuleLayer::PermissionsBoundary => "Permissions boundaries",
            RuleLayer::SessionPolicy => "Session policies",
            RuleLayer::VpcEndpointPolicy => "VPC endpoint policies",
            RuleLayer::Organizations => "AWS Organizations (SCPs and RCPs)",
            RuleLayer::BucketPolicy => "Bucket policy",
            RuleLayer::AccessPoint => "Access points",
            RuleLayer::BucketAcl => "Bucket ACL",
            RuleLayer::BucketOwnership => "Object Ownership",
            RuleLayer::BlockPublicAccess => "Block Public Access",
            RuleLayer::Bucket => "Other bucket settings",
            RuleLayer::Kms => "KMS key",
            RuleLayer::Request => "The request",
        }
    }

    /// The id prefixes that name this layer (a rule's id starts with where its cause lives:
    /// `kms-key-disabled`, `bucket-policy-explicit-deny`).
    pub fn id_prefixes(self) -> &'static [&'static str] {
        match self {
            RuleLayer::Identity => &["identity-policy-", "identity-"],
            RuleLayer::PermissionsBoundary => &["permissions-boundary-"],
            RuleLayer::SessionPolicy => &["session-policy-"],
            RuleLayer::VpcEndpointPolicy => &["vpc-endpoint-policy-"],
            RuleLayer::Organizations => &["scp-", "rcp-"],
            RuleLayer::BucketPolicy => &["bucket-policy-"],
            RuleLayer::AccessPoint => &["access-point-"],
            RuleLayer::BucketAcl => &["bucket-acl-"],
            RuleLayer::BucketOwnership => &["object-ownership-"],
            RuleLayer::BlockPublicAccess => &[
                "block-public-acls-",
                "ignore-public-acls-",
                "restrict-public-buckets-",
            ],
            RuleLayer::Bucket => &[],
            RuleLayer::Kms => &["kms-"],
            RuleLayer::Request => &["request-"],
        }
    }

    /// The layer whose longest id prefix starts `id`, if any.
    pub fn of_id(id: &str) -> Option<RuleLayer> {
        RuleLayer::ALL
            .iter()
            .flat_map(|l| l.id_prefixes().iter().map(move |p| (*l, *p)))
            .filter(|(_, p)| id.starts_with(p))
            .max_by_key(|(_, p)| p.len())
            .map(|(l, _)| l)
    }
}

impl fmt::Display for RuleLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a layer; the message lists the layers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a layer; the layers are: {layers}", layers = RuleLayer::ALL.map(RuleLayer::as_str).join(", "))]
pub struct UnknownLayer(pub String);

impl FromStr for RuleLayer {
    type Err = UnknownLayer;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleLayer::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLayer(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_prefixes_pick_the_longest() {
        for l in RuleLayer::ALL {
            assert_eq!(l.as_str().parse::<RuleLayer>(), Ok(l));
        }
        let err = "public-access-block".parse::<RuleLayer>().unwrap_err();
        assert!(err.to_string().contains("block-public-access"), "{err}");
        assert_eq!(
            RuleLayer::of_id("bucket-policy-explicit-deny"),
            Some(RuleLayer::BucketPolicy)
        );
        assert_eq!(
            RuleLayer::of_id("bucket-acl-missing-write"),
            Some(RuleLayer::BucketAcl)
        );
        assert_eq!(RuleLayer::of_id("bucket-owner-full-control-required"), None);
        assert_eq!(RuleLayer::of_id("kms-key-disabled"), Some(RuleLayer::Kms));
        assert_eq!(RuleLayer::of_id("cross-account-aws-managed-key"), None);
    }
}
