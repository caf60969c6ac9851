//! The collection: which reads wait for which, and how their answers become the request and
//! the [`Evidence`].
//!
//! Round 1 needs nothing: the caller (`GetCallerIdentity`), the bucket's Region
//! (`HeadBucket`), the organization (`DescribeOrganization`, `ListRoots`) and the credentials'
//! canonical id (`ListBuckets`). Round 2 needs the caller or the Region: the caller's entity
//! and its policy lists, every bucket configuration read, the account's Block Public Access,
//! the organization path, and the KMS key when the request's headers name it. Round 3: the
//! policies the lists name (`GetPolicy` of each managed one) and the key named by the bucket's
//! default encryption; round 4: each managed policy's default version and the key's policy.
//! A single-account diagnosis takes 3 or 4 rounds whatever the account's size (5 when a
//! user's group has a managed policy; more only when the identity falls back to the paged
//! authorization details, see `identity.rs`).
//!
//! An upload through an access point named by its ARN reads the access point and its policy
//! in round 1 (`access_point.rs`): it names the bucket, so every bucket read, and the reads
//! that wait for them, come one round later.

use std::time::{Instant, SystemTime};

use aws_smithy_types::date_time::{DateTime, Format};
use why403_core::evidence::{BucketEvidence, Caller, Evidence, IdentityKind, Slot, Unavailable};
use why403_core::upload::{AccessPointRef, Credentials, Target, UploadRequest};

use crate::call::{Api, CallOutcome, Tracker, classify, slot};
use crate::config::Clients;
use crate::session::{Session, once};
use crate::who::Who;
use crate::{CollectError, Collected, Stats, access_point, bucket, identity, kms, org};

const OWNER_NEEDS: &[&str] = &["s3:GetBucketAcl", "s3:ListAllMyBuckets"];

/// One collection through `s`: every read goes through the session's cache (see
/// [`crate::Session`]), so it is made here only if no collection of the session made it or is
/// making it.
pub(crate) async fn run(
    s: &Session,
    target: &UploadRequest,
    principal: Option<&str>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Collected, CollectError> {
    let start = Instant::now();
    let c = s.clients();
    let cache = &s.cache;
    let tr = Tracker::new(progress, Some((s.calls(), s.notes())));
    let given = principal
        .map(|p| Who::parse(p).map_err(|message| CollectError::Principal { message }))
        .transpose()?;
    // An upload through an access point named by its ARN: the access point names the bucket
    // every bucket read is about, so those reads come one round later.
    let ap_and_region = async {
        let ap = match &target.target {
            Target::AccessPoint(AccessPointRef::Arn {
                arn,
                region,
                account,
                name,
            }) => {
                let named = access_point::Named {
                    arn,
                    region,
                    account,
                    name,
                };
                Some(Box::pin(read_access_point(&tr, c, named, &target.bucket)).await?)
            }
            _ => None,
        };
        let name = ap
            .as_ref()
            .map_or_else(|| target.bucket.clone(), |a| a.bucket.clone());
        let round = 1 + u32::from(ap.is_some());
        let region = cache
            .region
            .get(name.clone(), Box::pin(bucket::region(&tr, c, &name, round)))
            .await;
        Ok::<_, CollectError>((ap, name, region))
    };

    // The reads are boxed (the cache's cells take them boxed): joined unboxed, their futures
    // nest into one that overflows a thread's stack in debug builds. Without the caller nothing else can be read: its
    // failure (an endpoint that does not answer, within one call's time) ends the collection
    // at once instead of waiting for the other reads to time out too, one after the other.
    let others = async {
        Ok(tokio::join!(
            Box::pin(ap_and_region),
            once(&cache.org_view, Box::pin(org::describe(&tr, c, 1))),
            once(&cache.root, Box::pin(org::root(&tr, c, 1))),
            once(
                &cache.canonical,
                Box::pin(bucket::own_canonical_id(&tr, c, 1))
            ),
        ))
    };
    let (me, (ap_and_region, org_info, root, own_canonical)) = futures_util::future::try_join(
        once(&cache.caller, Box::pin(caller(&tr, c, 1))),
        Box::pin(others),
    )
    .await?;
    let (ap_read, name, region) = ap_and_region?;
    let name = name.as_str();
    let after_ap = u32::from(ap_read.is_some());
    let region = region?;
    let who = match given {
        Some(w) => w,
        None => Who::parse(&me.arn).map_err(|m| CollectError::Principal {
            message: format!(
                "the credentials' caller `{}` cannot be diagnosed ({m}); name the uploader with --principal",
                me.arn
            ),
        })?,
    };
    let bucket_region = region.as_ref().ok().map(String::as_str);

    let bucket_and_key = async {
        match kms::from_headers(target) {
            Some(used) => {
                tokio::join!(
                    Box::pin(bucket_reads(s, &tr, name, bucket_region, 2 + after_ap)),
                    Box::pin(key(s, &tr, used, bucket_region, 2 + after_ap))
                )
            }
            None => {
                let b = Box::pin(bucket_reads(s, &tr, name, bucket_region, 2 + after_ap)).await;
                let enc = slot(b.encryption.clone());
                let from_default = kms::from_default(&enc);
                let key = Box::pin(key(s, &tr, from_default, bucket_region, 3 + after_ap)).await;
                (b, key)
            }
        }
    };
    let caller_org = async {
        match org_info.of(who.account(), &me.account) {
            org::OrgOf::Read { info, member } => {
                let got = org_path(s, &tr, info, who.account(), member, &root, 2);
                match Box::pin(got).await {
                    Ok(o) => Slot::Collected(o),
                    Err(u) => Slot::Unavailable(Unavailable {
                        reason: format!(
                            "the caller's account `{}` may not be in organization `{}`: {}",
                            who.account(),
                            info.id,
                            u.reason
                        ),
                        needs: u.needs,
                    }),
                }
            }
            org::OrgOf::NotInAny => Slot::Absent,
            org::OrgOf::Unavailable(u) => Slot::Unavailable(u),
        }
    };
    // The S3 policy in effect for the credentials' own account is read alongside, as its
    // Block Public Access is: the bucket is usually that account's.
    let own_s3_policy = async {
        match org_info.of(&me.account, &me.account) {
            org::OrgOf::NotInAny => Ok(None),
            _ => {
                let read = org::s3_policy(&tr, &c.organizations, None, 2);
                cache
                    .org_s3_policy
                    .get(me.account.clone(), Box::pin(read))
                    .await
            }
        }
    };
    let (identity, (b, kms_key), account_pab, caller_org, own_s3_policy) = tokio::join!(
        cache.identity.get(
            who.identity_key(),
            Box::pin(identity::read(s, &tr, &who, &me.account, 2))
        ),
        Box::pin(bucket_and_key),
        cache.account_pab.get(
            me.account.clone(),
            Box::pin(bucket::account_public_access_block(&tr, c, &me.account, 2))
        ),
        Box::pin(caller_org),
        Box::pin(own_s3_policy),
    );

    let mut canonical_ids = std::collections::BTreeMap::new();
    if let Ok(id) = &own_canonical {
        canonical_ids.insert(id.clone(), me.account.clone());
    }
    let owner_account = owner(&b, &canonical_ids, &me.account);
    let account_public_access_block = match owner_account.get() {
        Some(o) if *o == me.account => slot(account_pab),
        Some(o) => Slot::Unavailable(Unavailable {
            reason: format!(
                "the bucket is in account `{o}`; its account-level Block Public Access can be \
                 read only with credentials of that account"
            ),
            needs: vec!["s3:GetAccountPublicAccessBlock".to_owned()],
        }),
        None => Slot::Unavailable(Unavailable {
            reason: "the bucket owner's account is unknown, so its account-level Block Public Access cannot be read".to_owned(),
            needs: vec!["s3:GetAccountPublicAccessBlock".to_owned()],
        }),
    };
    let bucket_org = match owner_account.get() {
        Some(o) if o == who.account() => Slot::NotApplicable,
        Some(o) => match org_info.of(o, &me.account) {
            // Only the credentials' organizations can be read; the owner may be in one.
            org::OrgOf::Read { info, member } => {
                match Box::pin(org_path(s, &tr, info, o, member, &root, 3 + after_ap)).await {
                    Ok(got) => Slot::Collected(got),
                    Err(u) => Slot::Unavailable(Unavailable {
                        reason: format!(
                            "the bucket owner's account `{o}` may not be in organization `{}`: {}",
                            info.id, u.reason
                        ),
                        needs: u.needs,
                    }),
                }
            }
            org::OrgOf::NotInAny => Slot::Absent,
            org::OrgOf::Unavailable(u) => Slot::Unavailable(u),
        },
        None => Slot::Unavailable(Unavailable {
            reason: "the bucket owner's account is unknown, so its organization cannot be read"
                .to_owned(),
            needs: vec!["organizations:DescribeOrganization".to_owned()],
        }),
    };

    let org_s3_policy = match owner_account.get() {
        Some(o) => {
            let owner_org = if o == who.account() {
                &caller_org
            } else {
                &bucket_org
            };
            let read = if *o == me.account {
                Some(own_s3_policy)
            } else if let Some(admin) = &c.org_admin {
                let read = org::s3_policy(&tr, admin, Some(o.as_str()), 3 + after_ap);
                Some(cache.org_s3_policy.get(o.clone(), Box::pin(read)).await)
            } else {
                None
            };
            match (owner_org, read) {
                // An account in no organization has no S3 policy, nor has one whose
                // organization's root does not list the policy type.
                (Slot::Absent, _) => Slot::Absent,
                (Slot::Collected(theirs), _) if theirs.s3_policies_off() => Slot::Absent,
                (_, Some(Ok(Some(v)))) => Slot::Collected(v),
                (_, Some(Ok(None))) => Slot::Absent,
                (_, Some(Err(f))) => f.slot(),
                (_, None) => Slot::Unavailable(Unavailable {
                    reason: format!(
                        "the bucket is in account `{o}`; the organization's S3 policy in effect for it can be read only with credentials of that account, or of its organization's management account (`--org-profile`)"
                    ),
                    needs: vec!["organizations:DescribeEffectivePolicy".to_owned()],
                }),
            }
        }
        None => Slot::Unavailable(Unavailable {
            reason: "the bucket owner's account is unknown, so the organization's S3 policy in effect for it cannot be read".to_owned(),
            needs: vec!["organizations:DescribeEffectivePolicy".to_owned()],
        }),
    };

    let caller = match principal {
        None => Slot::Collected(me.clone()),
        Some(_) => given_caller(&who, &identity),
    };
    let session_policy = if who.has_session() {
        Slot::Unavailable(Unavailable {
            reason: "session policies cannot be read from AWS".to_owned(),
            needs: Vec::new(),
        })
    } else {
        Slot::NotApplicable
    };

    let evidence = Evidence {
        caller,
        identity,
        session_policy,
        bucket: BucketEvidence {
            name: name.to_owned(),
            region: slot(region),
            owner_account,
            policy: slot(b.policy),
            acl: slot(b.acl),
            encryption: slot(b.encryption),
            ownership: slot(b.ownership),
            public_access_block: slot(b.public_access_block),
            request_payer: slot(b.request_payer),
        },
        // Access point aliases and Multi-Region Access Points are not read live yet
        // (docs/scenario-format.md has their sections).
        access_point: match ap_read {
            Some(ap) => Slot::Collected(ap),
            None if target.target.is_access_point() => Slot::missing(
                "the live source reads access points named by their ARN only",
                &["s3:GetAccessPoint", "s3:GetAccessPointPolicy"],
            ),
            None => Slot::NotApplicable,
        },
        account_public_access_block,
        org_s3_policy,
        kms_key,
        caller_org,
        bucket_org,
        vpc_endpoint_policy: Slot::NotApplicable,
        canonical_ids,
    };

    let mut request = target.clone();
    request.bucket = name.to_owned();
    request.principal = Some(who.arn());
    request.credentials = if who.has_session() {
        Credentials::Temporary
    } else {
        Credentials::LongTerm
    };
    if request.time.is_none() {
        request.time = Some(now());
    }

    let (per_call, notes) = tr.into_parts();
    let stats = Stats {
        calls: per_call.len(),
        rounds: per_call.iter().map(|c| c.round).max().unwrap_or(0),
        elapsed: start.elapsed(),
        per_call,
        notes,
    };
    Ok(Collected {
        request,
        evidence,
        stats,
    })
}

/// The access point `named` (by its ARN) and its policy. Without it the bucket is unknown,
/// which ends the collection.
async fn read_access_point(
    tr: &Tracker<'_>,
    c: &Clients,
    named: access_point::Named<'_>,
    given_bucket: &str,
) -> Result<why403_core::evidence::AccessPoint, CollectError> {
    let arn = named.arn.to_owned();
    let got = access_point::read(tr, c, named, 1)
        .await
        .map_err(|f| CollectError::AccessPoint {
            arn: arn.clone(),
            message: f.reason,
        })?;
    if !given_bucket.is_empty() && given_bucket != got.bucket {
        return Err(CollectError::AccessPoint {
            arn: arn.clone(),
            message: format!(
                "it is attached to bucket `{}`, not `{given_bucket}`",
                got.bucket
            ),
        });
    }
    Ok(got)
}

/// The bucket's configuration reads, once per session. The bucket's Region, which they are
/// read in, is itself read once per session, so the bucket's name is the whole key.
async fn bucket_reads(
    s: &Session,
    tr: &Tracker<'_>,
    name: &str,
    bucket_region: Option<&str>,
    round: u32,
) -> bucket::BucketReads {
    let read = Box::pin(bucket::read(tr, s.clients(), name, bucket_region, round));
    s.cache.bucket.get(name.to_owned(), read).await
}

/// The KMS key the upload uses, once per session for each key and Region it is read in.
async fn key(
    s: &Session,
    tr: &Tracker<'_>,
    used: kms::KeyUse,
    bucket_region: Option<&str>,
    round: u32,
) -> Slot<why403_core::evidence::KmsKey> {
    let kms::KeyUse::Kms(configured) = &used else {
        // No key, or unknown: nothing to read.
        return Box::pin(kms::read(tr, s.clients(), used, bucket_region, round)).await;
    };
    let at = (
        configured.clone(),
        kms::region(configured.as_deref(), bucket_region).map(str::to_owned),
    );
    let read = Box::pin(kms::read(
        tr,
        s.clients(),
        used.clone(),
        bucket_region,
        round,
    ));
    s.cache.keys.get(at, read).await
}

/// The organization path of `account`, once per session for each account.
async fn org_path(
    s: &Session,
    tr: &Tracker<'_>,
    info: &org::OrgInfo,
    account: &str,
    member: bool,
    root: &crate::call::Read<org::RootRead>,
    round: u32,
) -> Result<why403_core::evidence::Organization, Unavailable> {
    let read = Box::pin(org::organization(tr, s, info, account, member, root, round));
    s.cache.org_path.get(account.to_owned(), read).await
}

/// The credentials' caller. Failing here means nothing else can be read either.
async fn caller(tr: &Tracker<'_>, c: &Clients, round: u32) -> Result<Caller, CollectError> {
    let sts = &c.sts;
    let api = Api::new("sts", "GetCallerIdentity", "sts:GetCallerIdentity");
    tr.progress(&api.name());
    let start = Instant::now();
    let out = match sts.get_caller_identity().send().await {
        Ok(out) => {
            tr.record_call(api, round, CallOutcome::Ok, start.elapsed());
            out
        }
        Err(e) => {
            let f = classify(api, &[], &e);
            tr.record_call(api, round, f.outcome, start.elapsed());
            return Err(match e {
                aws_sdk_sts::error::SdkError::DispatchFailure(_)
                | aws_sdk_sts::error::SdkError::TimeoutError(_) => {
                    CollectError::Endpoint { message: f.reason }
                }
                aws_sdk_sts::error::SdkError::ResponseError(_)
                    if f.outcome != CallOutcome::Denied =>
                {
                    CollectError::Response { message: f.reason }
                }
                _ => CollectError::InvalidCredentials { message: f.reason },
            });
        }
    };
    match (out.account(), out.arn(), out.user_id()) {
        (Some(account), Some(arn), Some(user_id)) => Ok(Caller {
            account: account.to_owned(),
            arn: arn.to_owned(),
            user_id: user_id.to_owned(),
        }),
        _ => Err(CollectError::Endpoint {
            message: "sts:GetCallerIdentity answered without `Account`, `Arn` or `UserId`"
                .to_owned(),
        }),
    }
}

/// The caller named by `--principal`: its unique id comes from its identity.
fn given_caller(who: &Who, identity: &Slot<why403_core::evidence::Identity>) -> Slot<Caller> {
    let user_id = match (who, identity.get()) {
        (Who::User { .. }, Some(i)) if i.kind == IdentityKind::User => Some(i.id.clone()),
        (Who::Session { session, .. }, Some(i)) if i.kind == IdentityKind::Role => {
            Some(format!("{}:{session}", i.id))
        }
        (Who::Root { account }, _) => Some(account.clone()),
        _ => None,
    };
    match user_id {
        Some(user_id) => Slot::Collected(Caller {
            account: who.account().to_owned(),
            arn: who.arn(),
            user_id,
        }),
        None => Slot::Unavailable(Unavailable {
            reason: format!(
                "the unique id of `{}` comes from its IAM identity, which could not be read",
                who.arn()
            ),
            needs: vec![identity::entity_action(who).to_owned()],
        }),
    }
}

/// The bucket owner's account: the credentials' account when the ACL's owner is their
/// canonical id, or when the bucket policy could be read (S3 answers `GetBucketPolicy` only to
/// the owner's account; others get 405).
fn owner(
    b: &bucket::BucketReads,
    canonical: &std::collections::BTreeMap<String, String>,
    creds_account: &str,
) -> Slot<String> {
    if let Ok(acl) = &b.acl
        && let Some(a) = canonical.get(&acl.owner_id.to_ascii_lowercase())
    {
        return Slot::Collected(a.clone());
    }
    let policy_read = match &b.policy {
        Ok(_) => true,
        Err(f) => f.outcome == CallOutcome::Absent,
    };
    if policy_read {
        return Slot::Collected(creds_account.to_owned());
    }
    let reason = match &b.acl {
        Ok(acl) => format!(
            "the bucket's owner (canonical id `{}`) is not the account `{creds_account}` the \
             credentials belong to, and S3 does not tell other accounts' ids",
            acl.owner_id
        ),
        Err(f) => format!("the bucket's ACL names its owner: {}", f.reason),
    };
    Slot::Unavailable(Unavailable {
        reason,
        needs: OWNER_NEEDS.iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// Now, as ISO 8601 UTC to the second.
fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    DateTime::from_secs(secs)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| why403_core::analysis::DEFAULT_TIME.to_owned())
}
