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
//! What the upload names comes first when it is not the bucket (`access_point.rs`): an access
//! point named by its ARN is read in round 1; one named by its alias after the alias's Region
//! (round 1) and its lookup (`ListAccessPoints`, a round a page); a Multi-Region Access Point
//! after its lookup (`ListMultiRegionAccessPoints`), with its policy and, when needed, its
//! routes in the next round. The access point names the bucket, so every bucket read, and the
//! reads that wait for them, come after it. A directory bucket's Region is not read (it comes
//! from the bucket's name), so its two reads are in round 1.

use std::time::{Instant, SystemTime};

use aws_smithy_types::date_time::{DateTime, Format};
use why403_core::evidence::{
    AccessPoint, BucketEvidence, Caller, Evidence, IdentityKind, NetworkOrigin, Slot, Unavailable,
};
use why403_core::upload::{AccessPointRef, Credentials, Target, UploadRequest};

use crate::call::{Api, CallOutcome, Failure, Read, Tracker, classify, slot};
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
    // An upload through an access point: the access point names the bucket every bucket read
    // is about, so those reads come after it.
    let through_and_region = async {
        let t = Box::pin(through(s, &tr, target)).await?;
        let region = match (&t.region, &t.bucket) {
            (Some(r), _) => r.clone(),
            (None, Ok(name)) => {
                let read = Box::pin(bucket::region(&tr, c, name, t.last_round + 1));
                cache.region.get(name.clone(), read).await?
            }
            (None, Err(u)) => Err(Failure {
                outcome: CallOutcome::Failed,
                code: None,
                reason: u.reason.clone(),
                action: bucket::HEAD_BUCKET.action,
            }),
        };
        Ok::<_, CollectError>((t, region))
    };

    // The reads are boxed (the cache's cells take them boxed): joined unboxed, their futures
    // nest into one that overflows a thread's stack in debug builds. Without the caller nothing else can be read: its
    // failure (an endpoint that does not answer, within one call's time) ends the collection
    // at once instead of waiting for the other reads to time out too, one after the other.
    let others = async {
        Ok(tokio::join!(
            Box::pin(through_and_region),
            once(&cache.org_view, Box::pin(org::describe(&tr, c, 1))),
            once(&cache.root, Box::pin(org::root(&tr, c, 1))),
            once(
                &cache.canonical,
                Box::pin(bucket::own_canonical_id(&tr, c, 1))
            ),
        ))
    };
    let (me, (through_and_region, org_info, root, own_canonical)) = futures_util::future::try_join(
        once(&cache.caller, Box::pin(caller(&tr, c, 1))),
        Box::pin(others),
    )
    .await?;
    let (through, region) = through_and_region?;
    let name = through.name(target);
    let name = name.as_str();
    // The round of the bucket reads: after the bucket's Region, itself after what names the
    // bucket (a directory bucket's Region is not read: it comes from its name).
    let bucket_round = through.last_round + if through.region.is_some() { 1 } else { 2 };
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

    let reads = |round| Box::pin(bucket_reads(s, &tr, &through, name, bucket_region, round));
    let bucket_and_key = async {
        match kms::from_headers(target) {
            Some(used) => {
                tokio::join!(
                    reads(bucket_round),
                    Box::pin(key(s, &tr, used, bucket_region, bucket_round))
                )
            }
            None => {
                let b = reads(bucket_round).await;
                let enc = slot(b.encryption.clone());
                let from_default = kms::from_default(&enc);
                let key =
                    Box::pin(key(s, &tr, from_default, bucket_region, bucket_round + 1)).await;
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
                match Box::pin(org_path(s, &tr, info, o, member, &root, bucket_round + 1)).await {
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
                let read = org::s3_policy(&tr, admin, Some(o.as_str()), bucket_round + 1);
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
            acl: if b.directory {
                Slot::NotApplicable
            } else {
                slot(b.acl)
            },
            encryption: slot(b.encryption),
            ownership: slot(b.ownership),
            public_access_block: slot(b.public_access_block),
            request_payer: slot(b.request_payer),
        },
        access_point: through.ap.clone().unwrap_or(Slot::NotApplicable),
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

/// What the upload goes through: the access point (`None` when it names a bucket), the bucket
/// every bucket read is about (unknown when the access point could not be found), the bucket's
/// Region when it is not read with `HeadBucket` (a directory bucket's, from its name; an
/// unknown bucket's, from its access point alias), and the round of the last read it took
/// (0: none).
struct Through {
    ap: Option<Slot<AccessPoint>>,
    directory: bool,
    bucket: Result<String, Unavailable>,
    region: Option<Read<String>>,
    last_round: u32,
}

impl Through {
    fn bucket(target: &UploadRequest) -> Through {
        Through {
            ap: None,
            directory: false,
            bucket: Ok(target.bucket.clone()),
            region: None,
            last_round: 0,
        }
    }

    /// The bucket's name in the evidence: the one read, or what the request names when it is
    /// unknown.
    fn name(&self, target: &UploadRequest) -> String {
        match &self.bucket {
            Ok(b) => b.clone(),
            Err(_) => target
                .target
                .access_point_name()
                .unwrap_or_else(|| target.bucket.clone()),
        }
    }
}

/// Reads what the upload goes through (see [`Through`]).
async fn through(
    s: &Session,
    tr: &Tracker<'_>,
    target: &UploadRequest,
) -> Result<Through, CollectError> {
    let c = s.clients();
    match &target.target {
        Target::Bucket => Ok(Through::bucket(target)),
        Target::DirectoryBucket => Ok(Through {
            directory: true,
            region: Some(bucket::directory_region(&target.bucket, c)),
            ..Through::bucket(target)
        }),
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
            let ap = read_access_point(s, tr, named, &target.bucket, 1).await?;
            Ok(Through {
                bucket: Ok(ap.bucket.clone()),
                ap: Some(Slot::Collected(ap)),
                directory: false,
                region: None,
                last_round: 1,
            })
        }
        Target::AccessPoint(AccessPointRef::Alias(alias)) => {
            Box::pin(through_alias(s, tr, target, alias)).await
        }
        Target::MultiRegionAccessPoint { account, alias } => {
            Box::pin(through_mrap(s, tr, target, account, alias)).await
        }
    }
}

/// An access point named by its alias: its Region (`HeadBucket` on the alias, which S3 answers
/// for the access point's bucket), then its entry among the credentials' account's access
/// points there (`ListAccessPoints`), then the access point as if named by its ARN. An alias
/// that is not one of that account's is unknown, and so is the bucket: the alias does not say
/// its account, and only its owner's credentials can list it.
async fn through_alias(
    s: &Session,
    tr: &Tracker<'_>,
    target: &UploadRequest,
    alias: &str,
) -> Result<Through, CollectError> {
    let c = s.clients();
    let me = once(&s.cache.caller, Box::pin(caller(tr, c, 1))).await?;
    let region = s
        .cache
        .region
        .get(alias.to_owned(), Box::pin(bucket::region(tr, c, alias, 1)))
        .await?;
    let unknown = |reason: String, needs: &[&str], last_round: u32| Through {
        ap: Some(Slot::missing(&reason, needs)),
        directory: false,
        bucket: Err(Unavailable {
            reason: format!("the bucket of access point alias `{alias}` is unknown: {reason}"),
            needs: needs.iter().map(|n| (*n).to_owned()).collect(),
        }),
        region: Some(region.clone()),
        last_round,
    };
    let r = match &region {
        Ok(r) => r.clone(),
        Err(f) => {
            return Ok(unknown(
                format!(
                    "the Region of access point alias `{alias}`, where its access point would be \
                     listed, could not be read: {}",
                    f.reason
                ),
                &[f.action, access_point::LIST_ACCESS_POINTS.action],
                1,
            ));
        }
    };
    let key = (me.account.clone(), r.clone(), alias.to_owned());
    let read = Box::pin(access_point::find_alias(tr, c, alias, &me.account, &r, 2));
    let (found, last) = s.cache.alias.get(key, read).await;
    match found {
        Ok(Some(found)) => {
            let ap = read_access_point(s, tr, found.named(), &target.bucket, last + 1).await?;
            Ok(Through {
                bucket: Ok(ap.bucket.clone()),
                ap: Some(Slot::Collected(ap)),
                directory: false,
                region: None,
                last_round: last + 1,
            })
        }
        Ok(None) => Ok(unknown(
            format!(
                "`{alias}` is not the alias of an access point of account `{}` (the \
                 credentials' account) in {r} (s3control:ListAccessPoints); an alias does not \
                 say its account: if the access point is another account's, read with that \
                 account's credentials or name the access point by its ARN \
                 (`s3://arn:aws:s3:{r}:<account>:accesspoint/<name>/<key>`)",
                me.account
            ),
            &[
                access_point::LIST_ACCESS_POINTS.action,
                "s3:GetAccessPoint",
                "s3:GetAccessPointPolicy",
            ],
            last,
        )),
        Err(f) => Ok(unknown(
            format!(
                "the access point of alias `{alias}` could not be looked up: {}",
                f.reason
            ),
            &[f.action, "s3:GetAccessPoint", "s3:GetAccessPointPolicy"],
            last,
        )),
    }
}

/// A Multi-Region Access Point: found by its alias in its account
/// (`ListMultiRegionAccessPoints`), then its policy (`GetMultiRegionAccessPointPolicy`). The
/// bucket is the one the request was routed to, which AWS does not tell: the request's bucket
/// (`--mrap-bucket`) when given, which must be one of the access point's, else its only
/// bucket, else the only one its routes make active (`GetMultiRegionAccessPointRoutes`); with
/// several active and none given the collection ends, naming them.
async fn through_mrap(
    s: &Session,
    tr: &Tracker<'_>,
    target: &UploadRequest,
    account: &str,
    alias: &str,
) -> Result<Through, CollectError> {
    let c = s.clients();
    let arn = target.target.access_point_name().unwrap_or_default();
    let fail = |message: String| CollectError::MultiRegionAccessPoint {
        arn: arn.clone(),
        message,
    };
    let read = Box::pin(access_point::find_mrap(tr, c, alias, account, 1));
    let (found, last) = s
        .cache
        .mrap
        .get((account.to_owned(), alias.to_owned()), read)
        .await;
    let m = match found {
        Ok(Some(m)) => m,
        Ok(None) => {
            return Err(fail(format!(
                "account `{account}` has no Multi-Region Access Point with alias `{alias}` \
                 (s3control:ListMultiRegionAccessPoints)"
            )));
        }
        // Without the access point, the bucket the request was routed to is still known when
        // the request names it.
        Err(f) if !target.bucket.is_empty() => {
            return Ok(Through {
                ap: Some(f.slot()),
                directory: false,
                bucket: Ok(target.bucket.clone()),
                region: None,
                last_round: last,
            });
        }
        Err(f) => return Err(fail(format!("{}; it names the buckets", f.reason))),
    };
    let listed = |of: &mut dyn Iterator<Item = &String>| {
        of.map(|b| match m.buckets.iter().find(|(name, _, _)| name == b) {
            Some((_, r, _)) => format!("`{b}` ({r})"),
            None => format!("`{b}`"),
        })
        .collect::<Vec<_>>()
        .join(", ")
    };
    let all = || listed(&mut m.buckets.iter().map(|(b, _, _)| b));
    // Which of several buckets receive requests, when the request names none: both reads need
    // only the list.
    let routes = async {
        if target.bucket.is_empty() && m.buckets.len() > 1 {
            let read = Box::pin(access_point::active_buckets(tr, c, account, &arn, last + 1));
            Some(s.cache.mrap_routes.get(arn.clone(), read).await)
        } else {
            None
        }
    };
    let key = (account.to_owned(), m.name.clone());
    let read = Box::pin(access_point::mrap_policy(tr, c, account, &m.name, last + 1));
    let (routes, policy) = tokio::join!(routes, s.cache.mrap_policy.get(key, read));
    let named = if target.bucket.is_empty() {
        match (m.buckets.as_slice(), routes) {
            ([only], _) => only.0.clone(),
            (_, Some(Ok(active))) if active.len() == 1 => active[0].clone(),
            (_, routes) => {
                let why = match routes {
                    Some(Ok(active)) if active.is_empty() => {
                        "none of them is active in its routes".to_owned()
                    }
                    Some(Ok(active)) => format!(
                        "{} of them receive requests ({})",
                        active.len(),
                        listed(&mut active.iter())
                    ),
                    Some(Err(f)) => format!(
                        "its routes, which say the active ones, could not be read: {}",
                        f.reason
                    ),
                    None => String::new(),
                };
                return Err(fail(format!(
                    "it routes requests to {} buckets, {}; {why}; AWS does not say which one \
                     served (or refused) the upload: name it with `--mrap-bucket NAME` and \
                     diagnose each in turn if unsure",
                    m.buckets.len(),
                    all()
                )));
            }
        }
    } else {
        target.bucket.clone()
    };
    let Some(routed) = m.buckets.iter().find(|(b, _, _)| *b == named) else {
        return Err(fail(format!(
            "`{named}` is not one of its buckets: {}",
            all()
        )));
    };
    Ok(Through {
        directory: false,
        bucket: Ok(routed.0.clone()),
        ap: Some(Slot::Collected(AccessPoint {
            name: m.name.clone(),
            arn: arn.clone(),
            alias: Some(alias.to_owned()),
            account: account.to_owned(),
            bucket: routed.0.clone(),
            bucket_account: routed.2.clone(),
            network_origin: NetworkOrigin::Internet,
            public_access_block: m.public_access_block,
            policy,
            multi_region: true,
        })),
        region: None,
        last_round: last + 1,
    })
}

/// The access point `named` (by its ARN) and its policy, once per session. Without it the
/// bucket is unknown, which ends the collection.
async fn read_access_point(
    s: &Session,
    tr: &Tracker<'_>,
    named: access_point::Named<'_>,
    given_bucket: &str,
    round: u32,
) -> Result<AccessPoint, CollectError> {
    let arn = named.arn.to_owned();
    let read = Box::pin(access_point::read(tr, s.clients(), named, round));
    let got = s
        .cache
        .access_point
        .get(arn.clone(), read)
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
/// read in, is itself read once per session, so the bucket's name is the whole key. A bucket
/// that is unknown (behind an access point that could not be found) is not read: each of its
/// reads is unavailable for that reason.
async fn bucket_reads(
    s: &Session,
    tr: &Tracker<'_>,
    through: &Through,
    name: &str,
    bucket_region: Option<&str>,
    round: u32,
) -> bucket::BucketReads {
    if let Err(u) = &through.bucket {
        return bucket::BucketReads::unknown(u);
    }
    let (c, directory) = (s.clients(), through.directory);
    let read = Box::pin(async move {
        if directory {
            bucket::read_directory(tr, c, name, bucket_region, round).await
        } else {
            bucket::read(tr, c, name, bucket_region, round).await
        }
    });
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
    if let (true, Err(f)) = (b.directory, &b.policy) {
        // No ACL names a directory bucket's owner; only its owner's account can read its
        // policy (S3 API reference, GetBucketPolicy: cross-account access is not supported).
        return Slot::Unavailable(Unavailable {
            reason: format!(
                "a directory bucket's owner is known when the credentials' account can read its \
                 policy, and it could not: {}",
                f.reason
            ),
            needs: vec![f.action.to_owned()],
        });
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
