//! Sessions kept between the diagnoses of a long-running process (the web app's live mode, the
//! MCP server), so that diagnosing several uploads or callers in a row reads each shared fact
//! once, without ever answering a repeated question from old reads.
//!
//! A [`Session`] caches every read for its whole life, refusals included. That is right for
//! one batch (`triage`), whose answers describe one moment. A server lives for hours, and the
//! person using it changes the configuration between questions: "fix the policy, diagnose
//! again" must see the new policy. So a [`SessionPool`] hands out a session only while:
//!
//! - it is younger than the pool's reuse window (`max_age`; zero: never reuse);
//! - the caller does not ask for fresh reads;
//! - the same question (the same upload by the same caller with the same headers) was not
//!   already answered from it. Asking again is what one does after a change, so a repeated
//!   question starts a new session, and every later question shares that one.
//!
//! Otherwise it loads a new session, which replaces the old one for later questions. A
//! session is kept per set of reading options (profile, organization profile, Region,
//! endpoint, timeout): different credentials never share reads. A session past the window is
//! dropped at the next lease, whatever its options, so a long-running server holds at most the
//! sessions of the last window.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

// tokio's clock: the tests pause and advance it.
use tokio::time::Instant;

use crate::{CollectError, LiveOptions, Session};

/// Sessions shared by the diagnoses of one process, each for at most a reuse window; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct SessionPool {
    max_age: Duration,
    kept: tokio::sync::Mutex<HashMap<OptionsKey, Kept>>,
}

/// What a session was loaded with, but the principal (each collection names its own).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OptionsKey {
    profile: Option<String>,
    org_profile: Option<String>,
    region: Option<String>,
    endpoint_url: Option<String>,
    timeout: Option<Duration>,
}

impl OptionsKey {
    fn of(o: &LiveOptions) -> OptionsKey {
        OptionsKey {
            profile: o.profile.clone(),
            org_profile: o.org_profile.clone(),
            region: o.region.clone(),
            endpoint_url: o.endpoint_url.clone(),
            timeout: o.timeout,
        }
    }
}

#[derive(Debug)]
struct Kept {
    session: Arc<Session>,
    made: Instant,
    /// The questions answered from this session.
    asked: HashSet<String>,
}

/// A session handed out by [`SessionPool::lease`], and whether it is shared.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The session to collect through.
    pub session: Arc<Session>,
    /// Why the session is new, or for how long it has been reading.
    pub reuse: Reuse,
}

/// Whether a leased session is new or shared, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// A session made earlier, `age` ago, for other questions: reads made since then are
    /// taken from it.
    Shared {
        /// How long ago the session was made (its oldest reads are that old).
        age: Duration,
    },
    /// A new session, for this reason.
    Fresh(FreshBecause),
}

/// Why a leased session is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreshBecause {
    /// No session was made with these options yet.
    First,
    /// The caller asked for fresh reads.
    Asked,
    /// The pool does not reuse (its window is zero).
    NoReuse,
    /// The kept session was older than the reuse window.
    Expired,
    /// The same question was answered from the kept session: asked again, it is read afresh.
    Repeated,
}

impl SessionPool {
    /// A pool that shares a session for at most `max_age` (zero: a new session for every
    /// question).
    pub fn new(max_age: Duration) -> SessionPool {
        SessionPool {
            max_age,
            kept: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The reuse window.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// A session for `question` (any text that tells one question from another: the upload,
    /// its caller and its headers) read with `opts`: the kept one when it may be shared, else
    /// a new one (loaded with [`Session::load`]), kept for the next questions. `fresh` asks for
    /// a new one.
    pub async fn lease(
        &self,
        opts: &LiveOptions,
        question: &str,
        fresh: bool,
    ) -> Result<Lease, CollectError> {
        self.lease_with(opts, question, fresh, || Session::load(opts))
            .await
    }

    /// [`SessionPool::lease`] with the new session made by `load` (tests make sessions over
    /// mocked clients).
    pub async fn lease_with<F, Fut>(
        &self,
        opts: &LiveOptions,
        question: &str,
        fresh: bool,
        load: F,
    ) -> Result<Lease, CollectError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Session, CollectError>>,
    {
        let key = OptionsKey::of(opts);
        // Held while loading: two questions at once share the one new session.
        let mut kept = self.kept.lock().await;
        let now = Instant::now();
        let verdict = match kept.get(&key) {
            None => Err(FreshBecause::First),
            Some(_) if fresh => Err(FreshBecause::Asked),
            Some(_) if self.max_age.is_zero() => Err(FreshBecause::NoReuse),
            Some(k) if now.duration_since(k.made) >= self.max_age => Err(FreshBecause::Expired),
            Some(k) if k.asked.contains(question) => Err(FreshBecause::Repeated),
            Some(k) => Ok(now.duration_since(k.made)),
        };
        let reuse = match verdict {
            Ok(age) => Reuse::Shared { age },
            Err(why) => {
                let session = Arc::new(load().await?);
                kept.insert(
                    key.clone(),
                    Kept {
                        session,
                        made: Instant::now(),
                        asked: HashSet::new(),
                    },
                );
                Reuse::Fresh(why)
            }
        };
        // Sessions of other options that can no longer be shared are dropped with their reads.
        kept.retain(|k, v| *k == key || now.duration_since(v.made) < self.max_age);
        let k = kept
            .get_mut(&key)
            .expect("a session is kept for these options: found or just inserted");
        k.asked.insert(question.to_owned());
        Ok(Lease {
            session: Arc::clone(&k.session),
            reuse,
        })
    }
}

impl Lease {
    /// A sentence for the diagnosis when its evidence is shared with earlier questions (none
    /// for a new session): how old the oldest reads may be, and how to read afresh.
    pub fn note(&self) -> Option<String> {
        match self.reuse {
            Reuse::Shared { age } => Some(format!(
                "reads already made for earlier diagnoses in the last {} were reused, not read \
                 again; asking about the same upload again reads everything afresh",
                words(age)
            )),
            Reuse::Fresh(_) => None,
        }
    }
}

/// `age` in words, to the second.
fn words(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0 => "second".to_owned(),
        1 => "1 second".to_owned(),
        2..=119 => format!("{s} seconds"),
        _ => format!("{} minutes", s / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clients;

    fn session() -> Session {
        let conf = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        Session::new(Clients::from_sdk(&conf, None))
    }

    async fn lease(pool: &SessionPool, opts: &LiveOptions, q: &str, fresh: bool) -> Lease {
        pool.lease_with(opts, q, fresh, || async { Ok(session()) })
            .await
            .expect("a mocked session loads")
    }

    #[tokio::test]
    async fn other_questions_share_and_a_repeated_question_reads_afresh() {
        let pool = SessionPool::new(Duration::from_secs(300));
        let opts = LiveOptions::default();
        let a = lease(&pool, &opts, "s3://b/a", false).await;
        assert_eq!(a.reuse, Reuse::Fresh(FreshBecause::First));
        assert!(a.note().is_none());
        let b = lease(&pool, &opts, "s3://b/b", false).await;
        assert!(matches!(b.reuse, Reuse::Shared { .. }), "{:?}", b.reuse);
        assert!(Arc::ptr_eq(&a.session, &b.session));
        assert!(
            b.note()
                .expect("a shared session says so")
                .contains("afresh")
        );
        // Asked again (after a fix, say): a new session, which later questions share.
        let again = lease(&pool, &opts, "s3://b/a", false).await;
        assert_eq!(again.reuse, Reuse::Fresh(FreshBecause::Repeated));
        assert!(!Arc::ptr_eq(&a.session, &again.session));
        let c = lease(&pool, &opts, "s3://b/b", false).await;
        assert!(matches!(c.reuse, Reuse::Shared { .. }));
        assert!(Arc::ptr_eq(&again.session, &c.session));
    }

    #[tokio::test(start_paused = true)]
    async fn fresh_reads_when_asked_expired_or_not_reusing() {
        let opts = LiveOptions::default();
        let pool = SessionPool::new(Duration::from_secs(300));
        lease(&pool, &opts, "q1", false).await;
        let asked = lease(&pool, &opts, "q2", true).await;
        assert_eq!(asked.reuse, Reuse::Fresh(FreshBecause::Asked));

        let never = SessionPool::new(Duration::ZERO);
        lease(&never, &opts, "q1", false).await;
        let next = lease(&never, &opts, "q2", false).await;
        assert_eq!(next.reuse, Reuse::Fresh(FreshBecause::NoReuse));

        let short = SessionPool::new(Duration::from_millis(20));
        lease(&short, &opts, "q1", false).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
        let late = lease(&short, &opts, "q2", false).await;
        assert_eq!(late.reuse, Reuse::Fresh(FreshBecause::Expired));
        // An expired session of other options is dropped at the next lease, not kept forever.
        let audit = LiveOptions {
            profile: Some("audit".to_owned()),
            ..LiveOptions::default()
        };
        lease(&short, &audit, "q1", false).await;
        assert_eq!(short.kept.lock().await.len(), 2);
        tokio::time::sleep(Duration::from_millis(40)).await;
        lease(&short, &opts, "q3", false).await;
        assert_eq!(
            short.kept.lock().await.len(),
            1,
            "the audit session is dropped"
        );
    }

    #[tokio::test]
    async fn different_reading_options_never_share() {
        let pool = SessionPool::new(Duration::from_secs(300));
        let a = lease(&pool, &LiveOptions::default(), "q", false).await;
        let other = LiveOptions {
            profile: Some("audit".to_owned()),
            ..LiveOptions::default()
        };
        let b = lease(&pool, &other, "q", false).await;
        assert_eq!(b.reuse, Reuse::Fresh(FreshBecause::First));
        assert!(!Arc::ptr_eq(&a.session, &b.session));
        // The principal is each question's own: it does not make another session.
        let by_bob = LiveOptions {
            principal: Some("arn:aws:iam::111122223333:user/bob".to_owned()),
            ..LiveOptions::default()
        };
        let c = lease(&pool, &by_bob, "q-bob", false).await;
        assert!(Arc::ptr_eq(&a.session, &c.session));
    }

    #[test]
    fn ages_in_words() {
        assert_eq!(words(Duration::from_millis(300)), "second");
        assert_eq!(words(Duration::from_secs(1)), "1 second");
        assert_eq!(words(Duration::from_secs(42)), "42 seconds");
        assert_eq!(words(Duration::from_secs(300)), "5 minutes");
    }
}
