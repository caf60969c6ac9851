//! A session: the clients, loaded once, and a cache of every read shared by the collections
//! made through it, so that diagnosing many uploads reads each distinct fact once.
//!
//! Each distinct read is a cell in the cache, keyed by what it reads (the bucket's name, the
//! principal, the key and its Region, the account). The first collection that needs a read
//! makes it; a collection that needs it while it is in flight waits for that one answer; later
//! ones take the answer. What is cached is the outcome, refusals and failures included: a read
//! AWS denied stays denied for the rest of the session.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt as _;
use tokio::sync::OnceCell;
use why403_core::Policy;
use why403_core::evidence::{
    AccessPoint, Caller, Identity, KmsKey, OrgPublicAccessBlock, Organization, PublicAccessBlock,
    Slot, Unavailable,
};
use why403_core::upload::UploadRequest;

use crate::bucket::BucketReads;
use crate::call::{CallStat, Read};
use crate::config::Clients;
use crate::org::{self, OrgView, RootRead};
use crate::{CollectError, Collected, LiveOptions, Stats, collect};
use crate::{access_point, identity};

/// The clients and the reads of many collections: every distinct AWS read is made once per
/// session, however many collections need it.
///
/// Made once with [`Session::load`] (or [`Session::new`] with clients made elsewhere), then
/// shared: [`Session::collect`] takes `&self`, so collections run concurrently on one session
/// (with [`Session::collect_many`], or with the caller's own bound, e.g.
/// `futures_util::stream::iter(...).buffer_unordered(n)`). Collections that need the same read
/// at the same time wait for the one in flight instead of reading twice.
///
/// Shared reads: the credentials' caller (`GetCallerIdentity`), their organization
/// (`DescribeOrganization`, `ListRoots`) and canonical id (`ListBuckets`); per bucket, its
/// Region and its configuration reads; per access point, its configuration and policy; per
/// access point alias, the access point it names; per Multi-Region Access Point, its report,
/// its policy and its routes; per principal, its IAM identity (per role for
/// assumed-role sessions); per managed policy, its default version id (`GetPolicy`), and per
/// policy version its document (`GetPolicyVersion`); per group, its policies; per account,
/// the authorization details when they are read (only when targeted reads are refused); per
/// KMS key and Region, the key with its policy and grants; per account, its Block Public
/// Access, the organization's S3 policy in effect for it, and its organization path with the
/// SCPs and RCPs; per organization level (root, OU
/// or account), its parent, name and attached SCPs and RCPs, so accounts under one OU share
/// its reads.
///
/// Outcomes are cached as they are, failures included: a read AWS refused is
/// [`Unavailable`](why403_core::evidence::Slot::Unavailable) in every collection that needs it,
/// and a bucket that does not exist fails every collection of that bucket with
/// [`CollectError::NoSuchBucket`]. One collection's error never affects a collection of
/// another bucket. The caller is the exception that fails all: when `GetCallerIdentity` fails
/// (no endpoint, credentials refused), nothing can be read and every collection fails with
/// the same error.
///
/// ```no_run
/// # async fn f() -> Result<(), why403_aws_source::CollectError> {
/// use why403_aws_source::{LiveOptions, Session};
/// use why403_core::upload::UploadRequest;
///
/// let session = Session::load(&LiveOptions::default()).await?;
/// let uploads = [
///     UploadRequest::new("amzn-s3-demo-bucket", "a.csv"),
///     UploadRequest::new("amzn-s3-demo-bucket", "b.csv"),
/// ];
/// let bob = Some("arn:aws:iam::111122223333:user/bob");
/// let targets = [(&uploads[0], None), (&uploads[1], bob)];
/// for got in session.collect_many(targets, 8, &|_| {}).await {
///     match got {
///         Ok(c) => println!("{}: {} calls", c.request.key, c.stats.calls),
///         Err(e) => eprintln!("{e}"),
///     }
/// }
/// // The bucket was read once for both uploads.
/// println!("{} calls in all", session.stats().calls);
/// # Ok(()) }
/// ```
pub struct Session {
    clients: Clients,
    pub(crate) cache: Cache,
    calls: Mutex<Vec<CallStat>>,
    notes: Mutex<Vec<String>>,
    start: Instant,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let calls = self.calls.lock().map_or(0, |c| c.len());
        f.debug_struct("Session")
            .field("calls", &calls)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Loads the credentials and makes the clients for `opts`, once for the session.
    /// [`LiveOptions::principal`] is not used: each collection names its own principal.
    pub async fn load(opts: &LiveOptions) -> Result<Session, CollectError> {
        Ok(Session::new(Clients::load(opts).await?))
    }

    /// A session over clients made elsewhere (tests inject mocked clients here).
    pub fn new(clients: Clients) -> Session {
        Session {
            clients,
            cache: Cache::default(),
            calls: Mutex::new(Vec::new()),
            notes: Mutex::new(Vec::new()),
            start: Instant::now(),
        }
    }

    /// The session's clients.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// Reads the evidence about `target` (bucket, key, headers and operation) for `principal`
    /// (an IAM user, an assumed-role session, a federated user or an account root; `None`:
    /// the credentials' caller), taking every read another collection of this session already
    /// made or is making. `progress` is told the name of each call this collection starts.
    /// The answer's [`Collected::stats`] counts only the calls this collection made.
    pub async fn collect(
        &self,
        target: &UploadRequest,
        principal: Option<&str>,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<Collected, CollectError> {
        collect::run(self, target, principal, progress).await
    }

    /// Collects every `(target, principal)` with at most `concurrency` collections at a time
    /// (at least one), and gives their results in the order of `targets`. Each result is its
    /// own: an error of one collection (a bucket that does not exist, a principal that cannot
    /// be diagnosed) leaves the others as they would be without it.
    pub async fn collect_many<'t>(
        &self,
        targets: impl IntoIterator<Item = (&'t UploadRequest, Option<&'t str>)>,
        concurrency: usize,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Vec<Result<Collected, CollectError>> {
        // The futures are made up front (they hold only their arguments until polled): a
        // closure mapping them inside the stream would make this future not `Send`.
        let jobs: Vec<_> = targets
            .into_iter()
            .enumerate()
            .map(|(i, (target, principal))| async move {
                (i, self.collect(target, principal, progress).await)
            })
            .collect();
        let mut out: Vec<Option<Result<Collected, CollectError>>> =
            std::iter::repeat_with(|| None).take(jobs.len()).collect();
        let mut done = futures_util::stream::iter(jobs).buffer_unordered(concurrency.max(1));
        while let Some((i, got)) = done.next().await {
            out[i] = Some(got);
        }
        out.into_iter().flatten().collect()
    }

    /// Every call the session made, over all its collections: `calls` and `per_call` (in the
    /// order they finished) count each once; `rounds` is the highest round of any call (the
    /// longest chain of one collection); `elapsed` is the time since the session was made.
    pub fn stats(&self) -> Stats {
        let per_call = self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let notes = self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Stats {
            calls: per_call.len(),
            rounds: per_call.iter().map(|c| c.round).max().unwrap_or(0),
            elapsed: self.start.elapsed(),
            per_call,
            notes,
        }
    }

    /// The list each collection's tracker adds its calls to.
    pub(crate) fn calls(&self) -> &Mutex<Vec<CallStat>> {
        &self.calls
    }

    /// The list each collection's tracker adds its notes to.
    pub(crate) fn notes(&self) -> &Mutex<Vec<String>> {
        &self.notes
    }
}

/// The identity of a principal: a user by its ARN, an assumed-role session by its role (every
/// session of a role has the role's policies), others (which read nothing) by their ARN.
pub(crate) type IdentityKey = String;

/// Every read a session shares, by what it reads.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    pub caller: OnceCell<Result<Caller, CollectError>>,
    pub org_view: OnceCell<OrgView>,
    pub root: OnceCell<Read<RootRead>>,
    pub canonical: OnceCell<Read<String>>,
    /// By bucket name.
    pub region: Memo<String, Result<Read<String>, CollectError>>,
    /// By bucket name (a bucket's Region is itself read once).
    pub bucket: Memo<String, BucketReads>,
    /// An access point and its policy (`GetAccessPoint`, `GetAccessPointPolicy`), by its ARN.
    pub access_point: Memo<String, Read<AccessPoint>>,
    /// The access point an alias names (`ListAccessPoints`), by account, Region and alias,
    /// with the round of the last page.
    pub alias: Memo<(String, String, String), access_point::Lookup<access_point::Found>>,
    /// A Multi-Region Access Point (`ListMultiRegionAccessPoints`), by account and alias, with
    /// the round of the last page.
    pub mrap: Memo<(String, String), access_point::Lookup<access_point::MultiRegion>>,
    /// A Multi-Region Access Point's policy, by account and name.
    pub mrap_policy: Memo<(String, String), Slot<Policy>>,
    /// The buckets a Multi-Region Access Point's routes make active, by its ARN.
    pub mrap_routes: Memo<String, Read<Vec<String>>>,
    pub identity: Memo<IdentityKey, Slot<Identity>>,
    /// A managed policy's default version id (`GetPolicy`), by the policy's ARN.
    pub policy: Memo<String, Read<String>>,
    /// A managed policy version's document (`GetPolicyVersion`), by ARN and version id.
    pub policy_version: Memo<(String, String), Read<String>>,
    /// A group's inline policies and attached policies' documents, by account and name.
    pub group: Memo<(String, String), Read<identity::GroupRead>>,
    /// The account's authorization details (every page), by account and what they were
    /// filtered to (users and groups, or roles), when targeted reads are refused.
    pub details: Memo<(String, &'static str), Read<Arc<identity::Details>>>,
    /// By the key as configured (`None`: `aws/s3`) and the Region it is read in.
    pub keys: Memo<(Option<String>, Option<String>), Slot<KmsKey>>,
    /// By account.
    pub account_pab: Memo<String, Read<PublicAccessBlock>>,
    /// The S3 policy in effect (`DescribeEffectivePolicy`), by account.
    pub org_s3_policy: Memo<String, Read<Option<OrgPublicAccessBlock>>>,
    /// By account.
    pub org_path: Memo<String, Result<Organization, Unavailable>>,
    /// An organization level's parent (`ListParents`), by the level's id (account or OU).
    pub org_parent: Memo<String, Read<(String, bool)>>,
    /// An OU's name (`DescribeOrganizationalUnit`), by its id.
    pub ou_name: Memo<String, Option<String>>,
    /// The SCPs or RCPs attached to a level (`ListPoliciesForTarget`, `DescribePolicy`), by
    /// the level's id (root, OU or account) and the kind: accounts under one OU read it once.
    pub org_attached: Memo<(String, org::Kind), org::Attached>,
}

/// The answer of `cell`, reading it with `read` unless it is read or being read. The read
/// comes boxed: the reads' futures are large, and nested unboxed into the collection's they
/// overflow a thread's stack in debug builds.
pub(crate) async fn once<V: Clone, F: Future<Output = V>>(
    cell: &OnceCell<V>,
    read: Pin<Box<F>>,
) -> V {
    cell.get_or_init(|| read).await.clone()
}

/// One cell per key.
#[derive(Debug)]
pub(crate) struct Memo<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// The answer for `key`, reading it with `read` unless it is read or being read.
    pub(crate) async fn get<F: Future<Output = V>>(&self, key: K, read: Pin<Box<F>>) -> V {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(cells.entry(key).or_default())
        };
        once(&cell, read).await
    }
}
