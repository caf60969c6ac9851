//! The evidence a diagnosis works from: every fact in a [`Slot`] that says whether it was read,
//! is known not to exist, could not be read (and what would read it), or does not apply.
//! Sources (scenario files, the live AWS reader) produce exactly this type.

use std::collections::BTreeMap;

use crate::policy::Policy;

/// One fact of the evidence.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot<T> {
    /// Read, with its value.
    Collected(T),
    /// Known not to exist (AWS answered `NoSuchBucketPolicy` and the like), or, for an
    /// organization's SCPs or RCPs, known not to apply (the policy type is not enabled).
    Absent,
    /// Not read: denied, failed, or simply not given. A diagnosis never treats this as "none".
    Unavailable(Unavailable),
    /// Does not apply to this request (no KMS key for an SSE-S3 upload).
    NotApplicable,
}

/// Why a fact could not be read, and what would read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// What happened, e.g. "AccessDenied from s3:GetBucketPolicy" or "not in the scenario".
    pub reason: String,
    /// IAM actions that would read it, e.g. `s3:GetBucketPolicy`.
    pub needs: Vec<String>,
}

impl<T> Slot<T> {
    /// A slot for something the source did not provide.
    pub fn missing(reason: impl Into<String>, needs: &[&str]) -> Self {
        Slot::Unavailable(Unavailable {
            reason: reason.into(),
            needs: needs.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    /// The value, when read.
    pub fn get(&self) -> Option<&T> {
        match self {
            Slot::Collected(v) => Some(v),
            _ => None,
        }
    }

    /// The value, mutably, when read.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Slot::Collected(v) => Some(v),
            _ => None,
        }
    }

    /// True when the fact is settled: read, known absent, or not applicable.
    pub fn is_known(&self) -> bool {
        !matches!(self, Slot::Unavailable(_))
    }

    /// Why the fact could not be read, when it could not.
    pub fn unavailable(&self) -> Option<&Unavailable> {
        match self {
            Slot::Unavailable(u) => Some(u),
            _ => None,
        }
    }

    /// `Some(Some(v))` when read, `Some(None)` when absent or not applicable, `None` when
    /// unknown.
    pub fn known(&self) -> Option<Option<&T>> {
        match self {
            Slot::Collected(v) => Some(Some(v)),
            Slot::Absent | Slot::NotApplicable => Some(None),
            Slot::Unavailable(_) => None,
        }
    }
}

/// What `sts get-caller-identity` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's account id (12 digits), taken from its ARN.
    pub account: String,
    /// The caller's ARN: a user, the root user, or an assumed-role session
    /// (`arn:aws:sts::<account>:assumed-role/<role>/<session>`).
    pub arn: String,
    /// The `UserId` STS returns: `AIDA...` for a user, `AROA...:<session>` for a role session,
    /// the account id for the root user.
    pub user_id: String,
}

/// The kind of IAM identity behind the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    /// An IAM user.
    User,
    /// An IAM role (the caller is a session of it).
    Role,
}

/// The caller's IAM user or role, with every policy that applies to it (from
/// `iam get-account-authorization-details` or the per-entity calls).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// Whether it is a user or a role.
    pub kind: IdentityKind,
    /// The user or role ARN, with its path.
    pub arn: String,
    /// The user or role name, without its path.
    pub name: String,
    /// The IAM path, `/` by default, otherwise `/a/b/`.
    pub path: String,
    /// The unique id (`AIDA...` or `AROA...`).
    pub id: String,
    /// The user's or role's IAM tags; they become the `aws:PrincipalTag/<key>` condition keys.
    pub tags: BTreeMap<String, String>,
    /// Inline, attached managed and (for users) group policies.
    pub policies: Vec<Policy>,
    /// The names of the IAM groups a user belongs to (empty for a role); their policies are
    /// in `policies`.
    pub groups: Vec<String>,
    /// The permissions boundary, `None` when the user or role has none.
    pub boundary: Option<Policy>,
}

/// Block Public Access settings (bucket or account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PublicAccessBlock {
    /// `BlockPublicAcls`: S3 refuses requests that set a public ACL.
    pub block_public_acls: bool,
    /// `IgnorePublicAcls`: S3 ignores public ACLs on the bucket and its objects.
    pub ignore_public_acls: bool,
    /// `BlockPublicPolicy`: S3 refuses a bucket policy that grants public access.
    pub block_public_policy: bool,
    /// `RestrictPublicBuckets`: only AWS service principals and the bucket owner's account
    /// get access a public bucket policy grants.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// All four settings on: a directory bucket's, which cannot be changed (S3 User Guide,
    /// Differences for directory buckets).
    pub const ALL_ON: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    /// The most restrictive combination of two levels.
    pub fn union(self, o: PublicAccessBlock) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: self.block_public_acls || o.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || o.ignore_public_acls,
            block_public_policy: self.block_public_policy || o.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || o.restrict_public_buckets,
        }
    }
}

/// The Block Public Access an organization's S3 policy (policy type `S3_POLICY`, a declarative
/// policy) assigns to the accounts it applies to: its effective
/// `s3_attributes.public_access_block_configuration`. While one applies, the account-level
/// settings are inherited from it and cannot be changed in the account (AWS Organizations User
/// Guide, S3 policies; Amazon S3 User Guide, Configuring block public access settings for your
/// account).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgPublicAccessBlock {
    /// `"all"`: the four settings are on for the account.
    All,
    /// `"none"`: the four settings are off for the account.
    None,
}

impl OrgPublicAccessBlock {
    /// The value AWS uses: `all` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgPublicAccessBlock::All => "all",
            OrgPublicAccessBlock::None => "none",
        }
    }

    /// The account-level settings it makes effective.
    pub fn settings(self) -> PublicAccessBlock {
        let on = self == OrgPublicAccessBlock::All;
        PublicAccessBlock {
            block_public_acls: on,
            ignore_public_acls: on,
            block_public_policy: on,
            restrict_public_buckets: on,
        }
    }

    /// Reads the content of an S3 policy or of an effective S3 policy
    /// (`DescribeEffectivePolicy`'s `PolicyContent`): `{"s3_attributes":
    /// {"public_access_block_configuration": {"@@assign": "all"}}}`, or with the value in place
    /// of the operator object, as effective policies give resolved values. `Ok(None)` when the
    /// policy does not set `public_access_block_configuration`.
    pub fn from_policy_content(text: &str) -> Result<Option<OrgPublicAccessBlock>, String> {
        use crate::json::Json;
        let node = crate::json::parse(text).map_err(|e| format!("not JSON: {e}"))?;
        let member = |n: &'_ crate::json::Node, key: &str| match &n.value {
            Json::Object(members) => Ok(members
                .iter()
                .find(|m| m.key == key)
                .map(|m| m.value.clone())),
            _ => Err(format!("expected an object holding `{key}`")),
        };
        let Some(attrs) = member(&node, "s3_attributes")? else {
            return Ok(None);
        };
        let Some(mut value) = member(&attrs, "public_access_block_configuration")? else {
            return Ok(None);
        };
        if let Json::Object(_) = value.value {
            value = member(&value, "@@assign")?.ok_or_else(|| {
                "`public_access_block_configuration` sets no value with `@@assign`".to_owned()
            })?;
        }
        match &value.value {
            Json::String(v) if v == "all" => Ok(Some(OrgPublicAccessBlock::All)),
            Json::String(v) if v == "none" => Ok(Some(OrgPublicAccessBlock::None)),
            _ => Err("`public_access_block_configuration` is neither `all` nor `none`".to_owned()),
        }
    }

    /// The content of an S3 policy that assigns this value.
    pub fn policy_content(self) -> String {
        format!(
            "{{\"s3_attributes\":{{\"public_access_block_configuration\":{{\"@@assign\":\"{}\"}}}}}}",
            self.as_str()
        )
    }
}

/// One of the four Block Public Access settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicAccessSetting {
    /// `BlockPublicAcls`.
    BlockPublicAcls,
    /// `IgnorePublicAcls`.
    IgnorePublicAcls,
    /// `BlockPublicPolicy`.
    BlockPublicPolicy,
    /// `RestrictPublicBuckets`.
    RestrictPublicBuckets,
}

impl PublicAccessSetting {
    /// The name AWS uses, e.g. `RestrictPublicBuckets`.
    pub fn as_str(self) -> &'static str {
        match self {
            PublicAccessSetting::BlockPublicAcls => "BlockPublicAcls",
            PublicAccessSetting::IgnorePublicAcls => "IgnorePublicAcls",
            PublicAccessSetting::BlockPublicPolicy => "BlockPublicPolicy",
            PublicAccessSetting::RestrictPublicBuckets => "RestrictPublicBuckets",
        }
    }
}

impl PublicAccessBlock {
    /// Whether a setting is on.
    pub fn get(&self, s: PublicAccessSetting) -> bool {
        match s {
            PublicAccessSetting::BlockPublicAcls => self.block_public_acls,
            PublicAccessSetting::IgnorePublicAcls => self.ignore_public_acls,
            PublicAccessSetting::BlockPublicPolicy => self.block_public_policy,
            PublicAccessSetting::RestrictPublicBuckets => self.restrict_public_buckets,
        }
    }

    /// Turns a setting on or off.
    pub fn set(&mut self, s: PublicAccessSetting, on: bool) {
        let slot = match s {
            PublicAccessSetting::BlockPublicAcls => &mut self.block_public_acls,
            PublicAccessSetting::IgnorePublicAcls => &mut self.ignore_public_acls,
            PublicAccessSetting::BlockPublicPolicy => &mut self.block_public_policy,
            PublicAccessSetting::RestrictPublicBuckets => &mut self.restrict_public_buckets,
        };
        *slot = on;
    }
}

/// Where a Block Public Access setting is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicAccessLevel {
    /// The bucket's own setting (`s3api put-public-access-block`).
    Bucket,
    /// The bucket owner's account setting (`s3control put-public-access-block`).
    Account,
}

impl PublicAccessLevel {
    /// The level in one lower-case word: `bucket` or `account`.
    pub fn as_str(self) -> &'static str {
        match self {
            PublicAccessLevel::Bucket => "bucket",
            PublicAccessLevel::Account => "account",
        }
    }
}

/// S3 Object Ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectOwnership {
    /// `BucketOwnerEnforced`: ACLs are disabled; S3 refuses a request that sets an ACL other
    /// than `bucket-owner-full-control`, and the bucket owner owns every object.
    BucketOwnerEnforced,
    /// `BucketOwnerPreferred`: ACLs apply; the bucket owner owns objects uploaded with the
    /// `bucket-owner-full-control` ACL.
    BucketOwnerPreferred,
    /// `ObjectWriter`: ACLs apply; the uploading account owns the object.
    ObjectWriter,
}

impl ObjectOwnership {
    /// The setting as AWS names it, e.g. `BucketOwnerEnforced`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }
}

/// An ACL grantee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    /// An account or user by canonical user id.
    CanonicalUser {
        /// The canonical user id (64 hex digits).
        id: String,
        /// The display name S3 returns with it, when it does.
        display_name: Option<String>,
    },
    /// A predefined group, e.g. [`ALL_USERS`] or [`AUTHENTICATED_USERS`].
    Group {
        /// The group's URI.
        uri: String,
    },
    /// An account by the email address of its root user.
    Email {
        /// The email address.
        address: String,
    },
}

/// An ACL permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclPermission {
    /// `READ`: list the bucket's objects.
    Read,
    /// `WRITE`: create, overwrite and delete objects in the bucket.
    Write,
    /// `READ_ACP`: read the ACL.
    ReadAcp,
    /// `WRITE_ACP`: write the ACL.
    WriteAcp,
    /// `FULL_CONTROL`: all four permissions.
    FullControl,
}

impl AclPermission {
    /// The permission S3 names `s` (`READ`, `WRITE`, `READ_ACP`, `WRITE_ACP`, `FULL_CONTROL`);
    /// `None` for any other text.
    pub fn parse(s: &str) -> Option<AclPermission> {
        Some(match s {
            "READ" => AclPermission::Read,
            "WRITE" => AclPermission::Write,
            "READ_ACP" => AclPermission::ReadAcp,
            "WRITE_ACP" => AclPermission::WriteAcp,
            "FULL_CONTROL" => AclPermission::FullControl,
            _ => return None,
        })
    }

    /// The permission as S3 names it, e.g. `WRITE_ACP`.
    pub fn as_str(self) -> &'static str {
        match self {
            AclPermission::Read => "READ",
            AclPermission::Write => "WRITE",
            AclPermission::ReadAcp => "READ_ACP",
            AclPermission::WriteAcp => "WRITE_ACP",
            AclPermission::FullControl => "FULL_CONTROL",
        }
    }

    /// Whether the permission lets the grantee create objects in the bucket.
    pub fn allows_write(self) -> bool {
        matches!(self, AclPermission::Write | AclPermission::FullControl)
    }
}

/// One ACL grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclGrant {
    /// Who the grant is to.
    pub grantee: Grantee,
    /// What it grants.
    pub permission: AclPermission,
}

/// What `s3api get-bucket-acl` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    /// The canonical user id of the bucket owner.
    pub owner_id: String,
    /// The owner's display name, when S3 returns one.
    pub owner_display_name: Option<String>,
    /// The grants, in the order S3 lists them.
    pub grants: Vec<AclGrant>,
}

/// The URI of the ACL group `AllUsers`: anyone, signed or not.
pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
/// The URI of the ACL group `AuthenticatedUsers`: any signed request from any AWS account.
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// The bucket's default encryption (`s3api get-bucket-encryption`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encryption {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub algorithm: String,
    /// Key id, ARN or alias as configured.
    pub kms_key_id: Option<String>,
    /// Whether S3 Bucket Keys are on for SSE-KMS (`BucketKeyEnabled`).
    pub bucket_key_enabled: bool,
    /// `BlockedEncryptionTypes`, e.g. `SSE-C`.
    pub blocked_encryption_types: Vec<String>,
}

/// A KMS key (`kms describe-key`, `get-key-policy`, `list-grants`).
#[derive(Debug, Clone, PartialEq)]
pub struct KmsKey {
    /// The key ARN.
    pub arn: String,
    /// The key id (a UUID, or `mrk-...` for a multi-Region key).
    pub key_id: String,
    /// The account that owns the key.
    pub account: String,
    /// The key's Region.
    pub region: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub state: String,
    /// `AWS` or `CUSTOMER`.
    pub manager: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, ...
    pub spec: String,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, `GENERATE_VERIFY_MAC`.
    pub usage: String,
    /// The key policy (`kms get-key-policy`).
    pub policy: Slot<Policy>,
    /// The key's grants (`kms list-grants`).
    pub grants: Slot<Vec<KmsGrant>>,
}

/// A KMS grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsGrant {
    /// The grant id.
    pub grant_id: String,
    /// The grant's name, when it has one.
    pub name: Option<String>,
    /// The principal the grant gives permissions to (an ARN, or `arn:aws:iam::<account>:root`
    /// for an account).
    pub grantee_principal: String,
    /// The KMS operations the grant allows, e.g. `GenerateDataKey`, `Decrypt`.
    pub operations: Vec<String>,
    /// `EncryptionContextEquals` / `EncryptionContextSubset` constraints.
    pub context_equals: BTreeMap<String, String>,
    /// The `EncryptionContextSubset` constraint: pairs the request's encryption context must
    /// include.
    pub context_subset: BTreeMap<String, String>,
}

/// One level of the organization path (root, an OU, or the account) with its policies.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgLevel {
    /// `r-...`, `ou-...`, or the account id.
    pub target_id: String,
    /// The root's, OU's or account's name, when known.
    pub name: Option<String>,
    /// The policies of the type (SCPs or RCPs) attached directly to this level.
    pub policies: Vec<Policy>,
}

/// An authorization policy type of AWS Organizations that can refuse an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgPolicyType {
    /// Service control policies (the caller's organization).
    Scp,
    /// Resource control policies (the resource owner's organization).
    Rcp,
}

impl OrgPolicyType {
    /// The name AWS uses, e.g. `RESOURCE_CONTROL_POLICY`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgPolicyType::Scp => "SERVICE_CONTROL_POLICY",
            OrgPolicyType::Rcp => "RESOURCE_CONTROL_POLICY",
        }
    }
}

/// The policy type of an organization's S3 policies, as AWS names it.
pub const ORG_S3_POLICY_TYPE: &str = "S3_POLICY";

/// One entry of a root's `PolicyTypes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootPolicyType {
    /// As AWS names it, e.g. `SERVICE_CONTROL_POLICY`, `TAG_POLICY`.
    pub policy_type: String,
    /// `ENABLED`, `PENDING_ENABLE` or `PENDING_DISABLE`.
    pub status: String,
}

/// The organization's root as `organizations:ListRoots` gives it (management account or
/// delegated administrator only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRoot {
    /// `r-...`.
    pub id: String,
    /// The root's name, when known.
    pub name: Option<String>,
    /// The policy types enabled on the root, or being enabled or disabled: a policy type
    /// applies in an organization only when it is enabled on its root.
    pub policy_types: Vec<RootPolicyType>,
}

impl OrgRoot {
    /// Whether policy type `t` is enabled: `Some(true)` when listed `ENABLED`, `Some(false)`
    /// when not listed at all, `None` while it is being enabled or disabled (a `PENDING_`
    /// status), when policies of the type may or may not be enforced.
    pub fn enabled(&self, t: OrgPolicyType) -> Option<bool> {
        match self
            .policy_types
            .iter()
            .find(|p| p.policy_type == t.as_str())
        {
            None => Some(false),
            Some(p) if p.status == "ENABLED" => Some(true),
            Some(_) => None,
        }
    }
}

/// An account's organization: its id and, readable only from the management or delegated
/// administrator account, its root and the policies along the account's path.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// The organization id (`o-...`), the value of `aws:PrincipalOrgID` and `aws:ResourceOrgID`.
    pub id: String,
    /// The management account's id.
    pub management_account: String,
    /// The root with the policy types enabled on it (`ListRoots`); `Unavailable` when it
    /// could not be read, which alone makes nothing indeterminate.
    pub root: Slot<OrgRoot>,
    /// SCPs per level, root first. `Absent`: SCPs do not apply in this organization, because
    /// the policy type is not enabled (the root's `PolicyTypes`, or
    /// `PolicyTypeNotEnabledException` from `ListPoliciesForTarget`) or the organization has
    /// consolidated billing only (`FeatureSet: CONSOLIDATED_BILLING`). `Unavailable` only when
    /// they may apply and could not be read.
    pub scps: Slot<Vec<OrgLevel>>,
    /// RCPs per level, root first; `Absent` and `Unavailable` as for `scps`.
    pub rcps: Slot<Vec<OrgLevel>>,
}

impl Organization {
    /// The SCP or RCP levels.
    pub fn policies(&self, t: OrgPolicyType) -> &Slot<Vec<OrgLevel>> {
        match t {
            OrgPolicyType::Scp => &self.scps,
            OrgPolicyType::Rcp => &self.rcps,
        }
    }

    /// Whether policy type `t` is known not to apply in the organization: its slot is
    /// `Absent` (or not applicable), or the root shows it not enabled. Such a type is not
    /// evaluated at all; it is never "unreadable".
    pub fn policy_type_off(&self, t: OrgPolicyType) -> bool {
        matches!(self.policies(t), Slot::Absent | Slot::NotApplicable)
            || self.root.get().and_then(|r| r.enabled(t)) == Some(false)
    }

    /// Whether S3 policies (`S3_POLICY`) are known not to apply in the organization: its root
    /// was read and does not list the type, in any status. The organization's S3 policy is then
    /// [`Slot::Absent`] for its accounts without asking `DescribeEffectivePolicy`.
    pub fn s3_policies_off(&self) -> bool {
        self.root.get().is_some_and(|r| {
            !r.policy_types
                .iter()
                .any(|p| p.policy_type == ORG_S3_POLICY_TYPE)
        })
    }
}

/// The bucket's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketEvidence {
    /// The bucket name.
    pub name: String,
    /// The bucket's Region (`s3api get-bucket-location`).
    pub region: Slot<String>,
    /// The account that owns the bucket.
    pub owner_account: Slot<String>,
    /// The bucket policy (`s3api get-bucket-policy`); `Absent` when the bucket has none.
    pub policy: Slot<Policy>,
    /// The bucket ACL (`s3api get-bucket-acl`).
    pub acl: Slot<Acl>,
    /// The default encryption (`s3api get-bucket-encryption`).
    pub encryption: Slot<Encryption>,
    /// The Object Ownership setting (`s3api get-bucket-ownership-controls`).
    pub ownership: Slot<ObjectOwnership>,
    /// The bucket's Block Public Access settings; `Absent` when none are set.
    pub public_access_block: Slot<PublicAccessBlock>,
    /// `Requester` or `BucketOwner`.
    pub request_payer: Slot<String>,
}

/// Where an access point accepts requests from (`NetworkOrigin` of `s3control get-access-point`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkOrigin {
    /// `Internet`: requests from anywhere (still subject to policies).
    Internet,
    /// `VPC`: only requests from this VPC (`VpcConfiguration.VpcId`), through a VPC endpoint.
    Vpc(String),
}

impl NetworkOrigin {
    /// The value of `s3:AccessPointNetworkOrigin`: `Internet` or `VPC`.
    pub fn as_str(&self) -> &'static str {
        match self {
            NetworkOrigin::Internet => "Internet",
            NetworkOrigin::Vpc(_) => "VPC",
        }
    }
}

/// An S3 access point (`aws s3control get-access-point` and `get-access-point-policy`).
#[derive(Debug, Clone, PartialEq)]
pub struct AccessPoint {
    /// The access point's name.
    pub name: String,
    /// Its ARN, `arn:aws:s3:<region>:<account>:accesspoint/<name>`.
    pub arn: String,
    /// Its alias (`...-s3alias`), when known.
    pub alias: Option<String>,
    /// The account that owns the access point (from its ARN).
    pub account: String,
    /// The bucket it is attached to.
    pub bucket: String,
    /// The account that owns that bucket (`BucketAccountId`); another account for a
    /// cross-account access point.
    pub bucket_account: Option<String>,
    /// Where it accepts requests from.
    pub network_origin: NetworkOrigin,
    /// The access point's own Block Public Access settings (fixed when it is created).
    pub public_access_block: PublicAccessBlock,
    /// The access point policy (`get-access-point-policy`); `Absent` when it has none.
    pub policy: Slot<Policy>,
    /// A Multi-Region Access Point (`get-multi-region-access-point`): `bucket` is the one the
    /// request was routed to, `network_origin` is always `Internet`.
    pub multi_region: bool,
}

impl AccessPoint {
    /// The ARN S3 authorizes an object request through the access point against:
    /// `<access point ARN>/object/<key>`.
    pub fn object_arn(&self, key: &str) -> String {
        format!("{}/object/{key}", self.arn)
    }
}

/// Everything a diagnosis may use.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Who sent the request (`sts get-caller-identity`).
    pub caller: Slot<Caller>,
    /// The caller's IAM user or role (not applicable to the root user).
    pub identity: Slot<Identity>,
    /// The session policy passed when the credentials were issued (never readable live).
    pub session_policy: Slot<Policy>,
    /// The target bucket's configuration.
    pub bucket: BucketEvidence,
    /// The access point the request goes through; `NotApplicable` when it names the bucket.
    pub access_point: Slot<AccessPoint>,
    /// The Block Public Access settings of the bucket owner's account, as
    /// `s3control:GetPublicAccessBlock` gives them (which AWS documents as the effective
    /// settings, inherited from the organization's S3 policy when one applies).
    pub account_public_access_block: Slot<PublicAccessBlock>,
    /// The organization's S3 policy (`S3_POLICY`) as it applies to the bucket owner's account:
    /// the Block Public Access its effective policy assigns. `Absent`: none applies (no S3
    /// policy on the account's path, the policy type not enabled, or the account in no
    /// organization); that is never "unreadable". See
    /// [`Evidence::effective_account_public_access_block`].
    pub org_s3_policy: Slot<OrgPublicAccessBlock>,
    /// The key the upload would use (from the header or the bucket's default encryption).
    pub kms_key: Slot<KmsKey>,
    /// The caller's organization (SCPs). `Absent` = the account is in no organization.
    pub caller_org: Slot<Organization>,
    /// The bucket owner's organization (RCPs), when the bucket is in another account.
    pub bucket_org: Slot<Organization>,
    /// The policy of the VPC endpoint the request went through.
    pub vpc_endpoint_policy: Slot<Policy>,
    /// Known canonical user ids of accounts (`id -> account`), for ACL grants.
    pub canonical_ids: BTreeMap<String, String>,
}

impl Evidence {
    /// Evidence about a bucket where nothing has been read yet.
    pub fn unknown(bucket: &str) -> Evidence {
        let nf = "not provided";
        Evidence {
            caller: Slot::missing(nf, &["sts:GetCallerIdentity"]),
            identity: Slot::missing(nf, &["iam:GetAccountAuthorizationDetails"]),
            session_policy: Slot::missing("session policies cannot be read from AWS", &[]),
            bucket: BucketEvidence {
                name: bucket.to_owned(),
                region: Slot::missing(nf, &["s3:GetBucketLocation"]),
                owner_account: Slot::missing(nf, &["s3:GetBucketAcl"]),
                policy: Slot::missing(nf, &["s3:GetBucketPolicy"]),
                acl: Slot::missing(nf, &["s3:GetBucketAcl"]),
                encryption: Slot::missing(nf, &["s3:GetEncryptionConfiguration"]),
                ownership: Slot::missing(nf, &["s3:GetBucketOwnershipControls"]),
                public_access_block: Slot::missing(nf, &["s3:GetBucketPublicAccessBlock"]),
                request_payer: Slot::missing(nf, &["s3:GetBucketRequestPayment"]),
            },
            access_point: Slot::NotApplicable,
            account_public_access_block: Slot::missing(nf, &["s3:GetAccountPublicAccessBlock"]),
            org_s3_policy: Slot::missing(nf, &["organizations:DescribeEffectivePolicy"]),
            kms_key: Slot::missing(nf, &["kms:DescribeKey"]),
            caller_org: Slot::missing(nf, &["organizations:DescribeOrganization"]),
            bucket_org: Slot::missing(nf, &["organizations:DescribeOrganization"]),
            vpc_endpoint_policy: Slot::NotApplicable,
            canonical_ids: BTreeMap::new(),
        }
    }
}

impl Evidence {
    /// The account-level Block Public Access S3 applies to the bucket: the organization's S3
    /// policy's when one applies (it overrides the account's own settings, `all` and `none`
    /// alike: AWS says organization-level policies override account-level configurations),
    /// otherwise the account's settings as read. When the organization's policy could not be
    /// read, the account's settings as read stand: AWS documents
    /// `s3control:GetPublicAccessBlock` as returning the effective, inherited configuration.
    pub fn effective_account_public_access_block(&self) -> Slot<PublicAccessBlock> {
        match &self.org_s3_policy {
            Slot::Collected(o) => Slot::Collected(o.settings()),
            _ => self.account_public_access_block.clone(),
        }
    }
}

/// A kind of evidence: what `Rule::needs` names and what a [`Missing`](crate::analysis::Missing)
/// piece of evidence is, so that rules never match display text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EvidenceKind {
    /// [`Evidence::caller`].
    Caller,
    /// [`Evidence::identity`].
    Identity,
    /// [`Evidence::session_policy`].
    SessionPolicy,
    /// The bucket's owner account ([`BucketEvidence::owner_account`]).
    BucketOwner,
    /// [`BucketEvidence::policy`].
    BucketPolicy,
    /// [`BucketEvidence::acl`].
    BucketAcl,
    /// The bucket's default encryption ([`BucketEvidence::encryption`]).
    BucketEncryption,
    /// The bucket's Object Ownership ([`BucketEvidence::ownership`]).
    BucketOwnership,
    /// The bucket's Block Public Access settings.
    BucketPublicAccessBlock,
    /// The bucket owner account's Block Public Access settings, as they are in effect (see
    /// [`Evidence::effective_account_public_access_block`]).
    AccountPublicAccessBlock,
    /// The organization's S3 policy for the bucket owner's account ([`Evidence::org_s3_policy`]).
    OrganizationS3Policy,
    /// The KMS key the upload uses ([`Evidence::kms_key`]).
    KmsKey,
    /// The caller's organization ([`Evidence::caller_org`]).
    CallerOrganization,
    /// The bucket owner's organization ([`Evidence::bucket_org`]).
    BucketOrganization,
    /// [`Evidence::vpc_endpoint_policy`].
    VpcEndpointPolicy,
    /// The bucket's Requester Pays setting.
    BucketRequestPayment,
    /// The KMS key's key policy.
    KmsKeyPolicy,
    /// The KMS key's grants.
    KmsGrants,
    /// The SCPs along the caller's organization path.
    ServiceControlPolicies,
    /// The access point the request goes through ([`Evidence::access_point`]).
    AccessPoint,
    /// The access point's policy.
    AccessPointPolicy,

    /// The RCPs along the resource owner's organization path.
    ResourceControlPolicies,
}

impl EvidenceKind {
    /// The Block Public Access settings of the bucket and of its owner's account, which act
    /// together.
    pub const PUBLIC_ACCESS_BLOCKS: [EvidenceKind; 2] = [
        EvidenceKind::BucketPublicAccessBlock,
        EvidenceKind::AccountPublicAccessBlock,
    ];

    /// Whether the analysis could read this evidence.
    pub fn is_known(self, a: &crate::analysis::Analysis) -> bool {
        let e = &a.evidence;
        match self {
            EvidenceKind::Caller => a.principal.is_some(),
            EvidenceKind::Identity => e.identity.is_known(),
            EvidenceKind::SessionPolicy => e.session_policy.is_known(),
            EvidenceKind::BucketOwner => e.bucket.owner_account.is_known(),
            EvidenceKind::BucketPolicy => e.bucket.policy.is_known(),
            EvidenceKind::BucketAcl => e.bucket.acl.is_known(),
            EvidenceKind::BucketEncryption => e.bucket.encryption.is_known(),
            EvidenceKind::BucketOwnership => e.bucket.ownership.is_known(),
            EvidenceKind::BucketPublicAccessBlock => e.bucket.public_access_block.is_known(),
            EvidenceKind::AccountPublicAccessBlock => {
                e.effective_account_public_access_block().is_known()
            }
            EvidenceKind::OrganizationS3Policy => e.org_s3_policy.is_known(),
            EvidenceKind::KmsKey => e.kms_key.is_known(),
            EvidenceKind::VpcEndpointPolicy => e.vpc_endpoint_policy.is_known(),
            EvidenceKind::BucketRequestPayment => e.bucket.request_payer.is_known(),
            EvidenceKind::KmsKeyPolicy => e.kms_key.get().is_none_or(|k| k.policy.is_known()),
            EvidenceKind::KmsGrants => e.kms_key.get().is_none_or(|k| k.grants.is_known()),
            EvidenceKind::CallerOrganization => e.caller_org.is_known(),
            EvidenceKind::BucketOrganization => e.bucket_org.is_known(),
            EvidenceKind::ServiceControlPolicies => {
                e.caller_org.get().is_none_or(|o| o.scps.is_known())
            }
            EvidenceKind::ResourceControlPolicies => {
                e.bucket_org.get().is_none_or(|o| o.rcps.is_known())
            }
            EvidenceKind::AccessPoint => e.access_point.is_known(),
            EvidenceKind::AccessPointPolicy => {
                e.access_point.get().is_none_or(|ap| ap.policy.is_known())
            }
        }
    }
}

impl std::fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl Caller {
    /// The caller as `sts get-caller-identity` gives it: its ARN (the account is read from
    /// it) and its user id (`AIDA...`, or `AROA...:session` for a role session).
    pub fn new(arn: &str, user_id: &str) -> Caller {
        Caller {
            account: crate::pattern::split_arn(arn)
                .map(|p| p[4].to_owned())
                .unwrap_or_default(),
            arn: arn.to_owned(),
            user_id: user_id.to_owned(),
        }
    }
}

impl Identity {
    /// An IAM user or role from its ARN (`arn:aws:iam::<account>:user/<path/>name` or
    /// `role/...`) and unique id, with no policies yet.
    pub fn from_arn(arn: &str, id: &str) -> Identity {
        let resource = crate::pattern::split_arn(arn).map_or("", |p| p[5]);
        let (kind, rest) = match resource.split_once('/') {
            Some(("role", rest)) => (IdentityKind::Role, rest),
            Some((_, rest)) => (IdentityKind::User, rest),
            None => (IdentityKind::User, resource),
        };
        let (path, name) = match rest.rsplit_once('/') {
            Some((p, n)) => (format!("/{p}/"), n),
            None => ("/".to_owned(), rest),
        };
        Identity {
            kind,
            arn: arn.to_owned(),
            name: name.to_owned(),
            path,
            id: id.to_owned(),
            tags: BTreeMap::new(),
            policies: Vec::new(),
            groups: Vec::new(),
            boundary: None,
        }
    }

    /// The identity with one more policy (inline, attached or from a group).
    pub fn with_policy(mut self, policy: Policy) -> Identity {
        self.policies.push(policy);
        self
    }
}

/// The reason of the slots an [`EvidenceBuilder`] was not given.
const NOT_GIVEN: &str = "not given to the evidence builder";

impl Evidence {
    /// Builds evidence from facts a program already has: give what was read, then say what
    /// the rest is with [`EvidenceBuilder::rest_absent`] or
    /// [`EvidenceBuilder::rest_unavailable`], so that the assumption is visible.
    pub fn builder(bucket: &str) -> EvidenceBuilder {
        let mut ev = Evidence::unknown(bucket);
        for_each_slot(&mut ev, |s| {
            if let Some(u) = s.unavailable_mut() {
                u.reason = NOT_GIVEN.to_owned();
            }
        });
        EvidenceBuilder { ev }
    }
}

/// Applies `f` to every slot of the evidence, whatever its value type.
fn for_each_slot(ev: &mut Evidence, mut f: impl FnMut(&mut dyn SlotState)) {
    f(&mut ev.caller);
    f(&mut ev.identity);
    f(&mut ev.session_policy);
    f(&mut ev.bucket.region);
    f(&mut ev.bucket.owner_account);
    f(&mut ev.bucket.policy);
    f(&mut ev.bucket.acl);
    f(&mut ev.bucket.encryption);
    f(&mut ev.bucket.ownership);
    f(&mut ev.bucket.public_access_block);
    f(&mut ev.bucket.request_payer);
    f(&mut ev.access_point);
    f(&mut ev.account_public_access_block);
    f(&mut ev.org_s3_policy);
    f(&mut ev.kms_key);
    f(&mut ev.caller_org);
    f(&mut ev.bucket_org);
    f(&mut ev.vpc_endpoint_policy);
}

/// The state of a slot, whatever its value type.
trait SlotState {
    fn unavailable_mut(&mut self) -> Option<&mut Unavailable>;
    fn set_absent(&mut self);
}

impl<T> SlotState for Slot<T> {
    fn unavailable_mut(&mut self) -> Option<&mut Unavailable> {
        match self {
            Slot::Unavailable(u) => Some(u),
            _ => None,
        }
    }

    fn set_absent(&mut self) {
        *self = Slot::Absent;
    }
}

impl dyn SlotState + '_ {
    fn not_given(&mut self) -> bool {
        self.unavailable_mut()
            .is_some_and(|u| u.reason == NOT_GIVEN)
    }
}

/// Evidence under construction; see [`Evidence::builder`].
#[derive(Debug, Clone)]
#[must_use = "finish with `rest_absent()` or `rest_unavailable(reason)`"]
pub struct EvidenceBuilder {
    ev: Evidence,
}

impl EvidenceBuilder {
    /// Who called (`sts get-caller-identity`).
    pub fn caller(mut self, caller: Caller) -> Self {
        self.ev.caller = Slot::Collected(caller);
        self
    }

    /// The caller's IAM user or role with its policies and boundary.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.ev.identity = Slot::Collected(identity);
        self
    }

    /// The account that owns the bucket.
    pub fn bucket_owner(mut self, account: &str) -> Self {
        self.ev.bucket.owner_account = Slot::Collected(account.to_owned());
        self
    }

    /// The bucket's Region.
    pub fn region(mut self, region: &str) -> Self {
        self.ev.bucket.region = Slot::Collected(region.to_owned());
        self
    }

    /// The bucket policy.
    pub fn bucket_policy(mut self, policy: Policy) -> Self {
        self.ev.bucket.policy = Slot::Collected(policy);
        self
    }

    /// The access point the request goes through.
    pub fn access_point(mut self, ap: AccessPoint) -> Self {
        self.ev.access_point = Slot::Collected(ap);
        self
    }

    /// The KMS key the upload uses.
    pub fn kms_key(mut self, key: KmsKey) -> Self {
        self.ev.kms_key = Slot::Collected(key);
        self
    }

    /// Sets anything else directly (Block Public Access, the ACL, organizations...).
    pub fn with(mut self, f: impl FnOnce(&mut Evidence)) -> Self {
        f(&mut self.ev);
        self
    }

    /// Everything not given does not exist: no bucket policy, ACL grant, Object Ownership
    /// setting, default encryption, Block Public Access, Requester Pays, session policy or
    /// organization. The caller, the identity, the bucket's owner and Region and the KMS key
    /// always exist: when not given they stay unavailable (the diagnosis says what would read
    /// them).
    pub fn rest_absent(mut self) -> Evidence {
        let ev = &mut self.ev;
        let must_exist: [&mut dyn SlotState; 5] = [
            &mut ev.caller,
            &mut ev.identity,
            &mut ev.bucket.region,
            &mut ev.bucket.owner_account,
            &mut ev.kms_key,
        ];
        for s in must_exist {
            if let Some(u) = s.unavailable_mut()
                && u.reason == NOT_GIVEN
            {
                u.reason = format!("{NOT_GIVEN} (it always exists)");
            }
        }
        for_each_slot(ev, |s| {
            if s.not_given() {
                s.set_absent();
            }
        });
        self.ev
    }

    /// Everything not given could not be read, for `reason`; the diagnosis is indeterminate
    /// where it matters and names what would read it.
    pub fn rest_unavailable(mut self, reason: &str) -> Evidence {
        for_each_slot(&mut self.ev, |s| {
            if let Some(u) = s.unavailable_mut()
                && u.reason == NOT_GIVEN
            {
                u.reason = reason.to_owned();
            }
        });
        self.ev
    }
}
