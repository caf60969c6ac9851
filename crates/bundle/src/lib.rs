//! The rule bundle: links every built-in rule crate so that its rules register, and gives the
//! registry of all of them. Keep the `use` lines sorted; `cargo xtask new-rule` adds them.
//!
//! ```
//! let registry = why403_rules::registry();
//! let ids: Vec<&str> = registry.rules().iter().map(|r| r.meta().id).collect();
//! assert!(ids.contains(&"bucket-policy-explicit-deny"));
//! assert!(ids.contains(&"kms-key-policy-missing-generate-data-key"));
//! // The built-in rules are in scope `builtin`; an organization's rules have their own.
//! let scp = registry.rules().iter().find(|r| r.meta().id == "scp-denies-s3").unwrap();
//! assert_eq!(scp.meta().scope, "builtin");
//! ```

#![warn(missing_docs, unreachable_pub)]

use why403_rule_access_point_blocks_public_acl as _;
use why403_rule_access_point_cross_account_not_delegated as _;
use why403_rule_access_point_policy_explicit_deny as _;
use why403_rule_access_point_policy_missing_allow as _;
use why403_rule_access_point_vpc_origin_outside_vpc as _;
use why403_rule_account_bpa_enforced_by_organization as _;
use why403_rule_block_public_acls_rejects_public_acl as _;
use why403_rule_bucket_acl_missing_write as _;
use why403_rule_bucket_owner_full_control_required as _;
use why403_rule_bucket_policy_denies_access_point_request as _;
use why403_rule_bucket_policy_explicit_deny as _;
use why403_rule_bucket_policy_missing_access_point_delegation as _;
use why403_rule_bucket_policy_missing_cross_account_grant as _;
use why403_rule_bucket_policy_not_principal_deny as _;
use why403_rule_bucket_policy_session_arn_form as _;
use why403_rule_bucket_policy_stale_principal as _;
use why403_rule_cross_account_aws_managed_key as _;
use why403_rule_directory_bucket_session_not_allowed as _;
use why403_rule_expected_bucket_owner_mismatch as _;
use why403_rule_identity_policy_explicit_deny as _;
use why403_rule_identity_policy_grants_bucket_not_access_point as _;
use why403_rule_identity_policy_missing_object_lock as _;
use why403_rule_identity_policy_missing_put_object as _;
use why403_rule_identity_policy_missing_put_object_tagging as _;
use why403_rule_ignore_public_acls_voids_grant as _;
use why403_rule_kms_key_asymmetric as _;
use why403_rule_kms_key_disabled as _;
use why403_rule_kms_key_in_another_account_by_alias as _;
use why403_rule_kms_key_in_another_region as _;
use why403_rule_kms_key_not_found as _;
use why403_rule_kms_key_pending_deletion as _;
use why403_rule_kms_key_policy_condition_unmet as _;
use why403_rule_kms_key_policy_missing_generate_data_key as _;
use why403_rule_kms_key_unusable_state as _;
use why403_rule_object_ownership_enforced_acl_header as _;
use why403_rule_permissions_boundary_explicit_deny as _;
use why403_rule_permissions_boundary_missing_allow as _;
use why403_rule_policy_variable_in_old_version as _;
use why403_rule_rcp_denies_kms as _;
use why403_rule_rcp_denies_s3 as _;
use why403_rule_requester_pays_header_missing as _;
use why403_rule_restrict_public_buckets_blocks_cross_account as _;
use why403_rule_scp_denies_s3 as _;
use why403_rule_session_policy_explicit_deny as _;
use why403_rule_session_policy_missing_allow as _;
use why403_rule_sse_c_blocked_on_bucket as _;
use why403_rule_username_variable_for_role as _;
use why403_rule_vpc_endpoint_policy_explicit_deny as _;
use why403_rule_vpc_endpoint_policy_missing_allow as _;

use why403_core::rule::Registry;

/// Every built-in rule (and any other rule crate linked into the program).
pub fn registry() -> Registry {
    // Ids are unique by construction: the registry test below and `cargo xtask check` guard it.
    Registry::linked().unwrap_or_else(|e| unreachable!("built-in rules are unique: {e}"))
}
