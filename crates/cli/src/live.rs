//! Reading an upload's evidence live from AWS, for `diagnose s3://...` and `capture`: the
//! shared options, the `s3://bucket/key` target, the tokio runtime, the progress line on
//! standard error and `--stats`.
//!
//! All of it but the options needs the `live` feature (the AWS SDK). Without it the options are
//! still parsed, hidden from help, and reading says that this build has no live source.

#[cfg(feature = "live")]
pub(crate) use aws::{Shared, collect, triage};

use why403_core::evidence::Evidence;
use why403_core::upload::UploadRequest;

/// Whether this build reads from AWS (the `live` feature).
pub(crate) const ENABLED: bool = cfg!(feature = "live");

/// What reading from AWS gave.
#[derive(Debug)]
pub(crate) struct Read {
    /// The upload, with the caller, its credentials kind and the time filled in.
    pub request: UploadRequest,
    pub evidence: Evidence,
    /// How many calls it took.
    pub calls: usize,
    /// What the diagnosis should say about the reading (evidence shared with earlier ones).
    pub notes: Vec<String>,
}

/// Where and as whom to read, and the upload's own options.
#[derive(Debug, Default, Clone, clap::Args)]
pub(crate) struct LiveArgs {
    /// Diagnose this caller instead of the one whose credentials read: an IAM user
    /// (`arn:aws:iam::<account>:user/<name>`), an assumed-role session
    /// (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) or an account root.
    #[arg(long, value_name = "ARN", hide = !ENABLED)]
    principal: Option<String>,
    /// A request header the upload sends, e.g. `x-amz-server-side-encryption:aws:kms`;
    /// repeat for several.
    #[arg(long = "header", value_name = "NAME:VALUE", hide = !ENABLED)]
    headers: Vec<String>,
    /// The upload is a multipart upload (CreateMultipartUpload, UploadPart,
    /// CompleteMultipartUpload), not one PutObject.
    #[arg(long, hide = !ENABLED)]
    multipart: bool,
    /// For an upload through a Multi-Region Access Point: the bucket the request was routed to,
    /// one of the access point's (needed when it has several: AWS does not say which one
    /// served the request).
    #[arg(long, value_name = "NAME", hide = !ENABLED)]
    mrap_bucket: Option<String>,
    /// For an upload to a directory bucket: the `SessionMode` of the `CreateSession` session
    /// the client uploads with [default: ReadWrite, the SDKs' default].
    #[arg(long, value_name = "MODE", value_parser = ["ReadWrite", "ReadOnly"], hide = !ENABLED)]
    session_mode: Option<String>,
    /// The AWS profile to read with (default: `AWS_PROFILE`, then `default`).
    #[arg(long, value_name = "PROFILE", hide = !ENABLED)]
    profile: Option<String>,
    /// A profile of the organization's management or delegated administrator account, to read
    /// SCPs and RCPs.
    #[arg(long, value_name = "PROFILE", hide = !ENABLED)]
    org_profile: Option<String>,
    /// The Region for the first calls (bucket calls go to the bucket's Region).
    #[arg(long, value_name = "REGION", hide = !ENABLED)]
    region: Option<String>,
    /// Send every call to this endpoint (a local emulator); `AWS_ENDPOINT_URL` also works.
    #[arg(long, value_name = "URL", hide = !ENABLED)]
    endpoint_url: Option<String>,
    /// Seconds one AWS call may take, retries included [default: 30].
    #[arg(long, value_name = "SECONDS", hide = !ENABLED)]
    timeout: Option<u64>,
    /// Print how many calls and rounds of calls the reading took, on standard error.
    #[arg(long, hide = !ENABLED)]
    stats: bool,
}

impl LiveArgs {
    /// `--stats`.
    pub(crate) fn stats(&self) -> bool {
        self.stats
    }

    /// These options, with one upload's own (given per call by `mcp`): the caller, headers,
    /// multipart, the routed bucket of a Multi-Region Access Point, and the profile and Region
    /// when given.
    #[cfg(feature = "mcp")]
    pub(crate) fn for_upload(&self, upload: UploadOptions) -> LiveArgs {
        let mut a = self.clone();
        a.principal = upload.principal;
        a.headers = upload.headers;
        a.multipart = upload.multipart;
        a.mrap_bucket = upload.mrap_bucket;
        a.session_mode = upload.session_mode;
        if upload.profile.is_some() {
            a.profile = upload.profile;
        }
        if upload.region.is_some() {
            a.region = upload.region;
        }
        a
    }

    /// The first option given that describes one upload (not for `triage`, whose records
    /// describe each).
    pub(crate) fn first_given_per_upload(&self) -> Option<&'static str> {
        first_of(&[
            (self.principal.is_some(), "--principal"),
            (!self.headers.is_empty(), "--header"),
            (self.multipart, "--multipart"),
        ])
        .or_else(|| self.target_option_given())
    }

    /// `--mrap-bucket` or `--session-mode`, which describe one upload through a Multi-Region
    /// Access Point or to a directory bucket, when given.
    pub(crate) fn target_option_given(&self) -> Option<&'static str> {
        first_of(&[
            (self.mrap_bucket.is_some(), "--mrap-bucket"),
            (self.session_mode.is_some(), "--session-mode"),
        ])
    }

    /// The first option given that only reading from AWS uses.
    pub(crate) fn first_given(&self) -> Option<&'static str> {
        self.first_given_per_upload().or_else(|| {
            first_of(&[
                (self.profile.is_some(), "--profile"),
                (self.org_profile.is_some(), "--org-profile"),
                (self.region.is_some(), "--region"),
                (self.endpoint_url.is_some(), "--endpoint-url"),
                (self.timeout.is_some(), "--timeout"),
                (self.stats, "--stats"),
            ])
        })
    }
}

/// The name of the first option given among `options` (each: given, its name).
fn first_of(options: &[(bool, &'static str)]) -> Option<&'static str> {
    options
        .iter()
        .find_map(|&(given, name)| given.then_some(name))
}

/// How long a server's live diagnoses share what they read (`serve --live`,
/// `mcp --allow-live`).
#[derive(Debug, Default, Clone, clap::Args)]
pub(crate) struct ReuseArgs {
    /// For how many seconds the server's live diagnoses share what they read from AWS, so that
    /// diagnosing other uploads or callers does not read the same policies again (0: never)
    /// [default: 300]. The same question asked again (upload, caller, headers) always reads
    /// everything afresh.
    #[arg(long, value_name = "SECONDS", hide = !ENABLED)]
    reuse_seconds: Option<u64>,
}

impl ReuseArgs {
    /// The reuse window.
    #[cfg_attr(not(any(feature = "web", feature = "mcp")), expect(dead_code))]
    pub(crate) fn window(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.reuse_seconds.unwrap_or(300))
    }

    /// `--reuse-seconds`, when given.
    pub(crate) fn given(&self) -> Option<&'static str> {
        self.reuse_seconds.map(|_| "--reuse-seconds")
    }
}

/// One upload's own live options (see `LiveArgs::for_upload`).
#[cfg(feature = "mcp")]
#[derive(Debug, Default, Clone)]
pub(crate) struct UploadOptions {
    pub principal: Option<String>,
    pub headers: Vec<String>,
    pub multipart: bool,
    pub mrap_bucket: Option<String>,
    pub session_mode: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// Without the live source: the servers' shared reading cannot be made, and says why.
#[cfg(not(feature = "live"))]
#[derive(Debug)]
pub(crate) struct Shared;

#[cfg(not(feature = "live"))]
impl Shared {
    #[cfg_attr(not(any(feature = "web", feature = "mcp")), expect(dead_code))]
    pub(crate) fn new(_reuse: std::time::Duration) -> anyhow::Result<Shared> {
        Ok(Shared)
    }

    pub(crate) fn collect(
        &self,
        target: &str,
        args: &LiveArgs,
        _fresh: bool,
    ) -> anyhow::Result<Read> {
        collect(target, args, true)
    }
}

/// Without the live source: `triage --live` is refused with what to do instead.
#[cfg(not(feature = "live"))]
pub(crate) fn triage(
    _groups: &[why403_triage::Group],
    _args: &LiveArgs,
    _concurrency: usize,
    _stats: bool,
    _registry: &why403_core::rule::Registry,
) -> anyhow::Result<Vec<why403_triage::Outcome>> {
    anyhow::bail!(
        "this build of why403 has no live source (it was built without the cargo feature `live`), \
         so `triage --live` cannot read from AWS; diagnose the groups from capture files with \
         `--scenarios DIR`, or from the records alone without either option"
    )
}

/// Without the live source: every live command is refused with what to do instead.
#[cfg(not(feature = "live"))]
pub(crate) fn collect(target: &str, _args: &LiveArgs, _quiet: bool) -> anyhow::Result<Read> {
    anyhow::bail!(
        "this build of why403 has no live source (it was built without the cargo feature `live`), \
         so it cannot read `{target}` from AWS; diagnose a scenario file with `--scenario <FILE>`, \
         or install a build with the live source from a checkout of why403: \
         `cargo install --path crates/cli --locked` (default features)"
    )
}

/// The live source proper: the target, the AWS SDK's options, the runtime, progress and stats.
#[cfg(feature = "live")]
mod aws {
    use std::io::{IsTerminal, Write};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use anyhow::{Context as _, bail};
    use why403_aws_source::{LiveOptions, Stats};
    use why403_core::upload::{Operation, UploadRequest};

    use super::{LiveArgs, Read};

    /// Splits `s3://bucket/key`, `s3://<access point ARN or alias>/<key>`,
    /// `s3://<Multi-Region Access Point ARN>/<key>` or `s3://<directory bucket>/<key>` into what
    /// the upload names, its bucket (empty for an access point: the access point names it) and
    /// its key (`why403_core::upload::parse_destination`).
    pub(crate) fn parse_target(
        target: &str,
    ) -> anyhow::Result<(why403_core::upload::Target, String, String)> {
        let Some(rest) = target.strip_prefix("s3://") else {
            bail!("expected `s3://<bucket>/<key>`, found `{target}`");
        };
        why403_core::upload::parse_destination(rest).map_err(|e| {
            anyhow::anyhow!(
                "expected `s3://<bucket>/<key>` with a bucket and an object key, found `{target}`: {e}"
            )
        })
    }

    /// The upload as the arguments describe it.
    pub(crate) fn request(target: &str, args: &LiveArgs) -> anyhow::Result<UploadRequest> {
        let (dest, bucket, key) = parse_target(target)?;
        let mut req = UploadRequest::new(&bucket, &key);
        if let Some(b) = &args.mrap_bucket {
            if !matches!(
                dest,
                why403_core::upload::Target::MultiRegionAccessPoint { .. }
            ) {
                bail!(
                    "`--mrap-bucket` names the bucket behind a Multi-Region Access Point, and `{target}` names none (`s3://arn:aws:s3::<account>:accesspoint/<alias>.mrap/<key>`)"
                );
            }
            req.bucket = b.clone();
        }
        if let Some(mode) = &args.session_mode {
            if !matches!(dest, why403_core::upload::Target::DirectoryBucket) {
                bail!(
                    "`--session-mode` is the session of an upload to a directory bucket, and `{target}` names none (`s3://<base>--<zone-id>--x-s3/<key>`)"
                );
            }
            req.session_mode = match mode.as_str() {
                "ReadOnly" => why403_core::upload::SessionMode::ReadOnly,
                _ => why403_core::upload::SessionMode::ReadWrite,
            };
        }
        req.target = dest;
        for h in &args.headers {
            let Some((name, value)) = h.split_once(':') else {
                bail!("expected `--header NAME:VALUE`, found `{h}`");
            };
            let name = name.trim().to_ascii_lowercase();
            if name.is_empty() {
                bail!("expected `--header NAME:VALUE` with a header name, found `{h}`");
            }
            if req.headers.contains_key(&name) {
                bail!("header `{name}` is given twice (header names are case-insensitive)");
            }
            req.headers.insert(name, value.trim().to_owned());
        }
        if args.multipart {
            req.operation = Operation::Multipart;
        }
        Ok(req)
    }

    fn options(args: &LiveArgs) -> LiveOptions {
        LiveOptions {
            profile: args.profile.clone(),
            org_profile: args.org_profile.clone(),
            region: args.region.clone(),
            endpoint_url: args.endpoint_url.clone(),
            principal: args.principal.clone(),
            timeout: args.timeout.map(|t| Duration::from_secs(t.max(1))),
        }
    }

    /// Reads the evidence about `target`. `quiet` hides the progress line (it is also hidden
    /// when standard error is not a terminal).
    pub(crate) fn collect(target: &str, args: &LiveArgs, quiet: bool) -> anyhow::Result<Read> {
        let req = request(target, args)?;
        let opts = options(args);
        let runtime = runtime()?;
        let progress = Progress::new(!quiet && std::io::stderr().is_terminal());
        let report = |call: &str| progress.show(call);
        let got = runtime.block_on(why403_aws_source::collect(&opts, &req, &report));
        progress.clear();
        let got = got.with_context(|| format!("cannot read `{target}` from AWS"))?;
        if args.stats {
            print_stats(&got.stats);
        }
        Ok(Read::of(got, Vec::new()))
    }

    impl Read {
        /// What a collection read, with the notes the diagnosis should carry.
        fn of(got: why403_aws_source::Collected, notes: Vec<String>) -> Read {
            Read {
                request: got.request,
                evidence: got.evidence,
                calls: got.stats.calls,
                notes,
            }
        }
    }

    /// The live reading of a server (`serve --live`, `mcp --allow-live`): one runtime for the
    /// process, and sessions shared by its diagnoses for a while (`why403_aws_source::SessionPool`:
    /// never for the same question twice).
    #[derive(Debug)]
    pub(crate) struct Shared {
        /// Always `Some` but in `drop`.
        runtime: Option<tokio::runtime::Runtime>,
        pool: why403_aws_source::SessionPool,
    }

    impl Drop for Shared {
        fn drop(&mut self) {
            // A server drops it from inside its own runtime, where a blocking shutdown panics.
            if let Some(r) = self.runtime.take() {
                r.shutdown_background();
            }
        }
    }

    impl Shared {
        /// Sessions shared for at most `reuse` (zero: never).
        #[cfg_attr(not(any(feature = "web", feature = "mcp")), expect(dead_code))]
        pub(crate) fn new(reuse: Duration) -> anyhow::Result<Shared> {
            Ok(Shared {
                runtime: Some(runtime()?),
                pool: why403_aws_source::SessionPool::new(reuse),
            })
        }

        /// Reads the evidence about `target` as `args` say, through the kept session when it
        /// may be shared (`fresh`: never). Callable from many threads at once; not from inside
        /// an async runtime.
        pub(crate) fn collect(
            &self,
            target: &str,
            args: &LiveArgs,
            fresh: bool,
        ) -> anyhow::Result<Read> {
            let req = request(target, args)?;
            let opts = options(args);
            // One question: the upload, its caller, its headers and its operation.
            let question = format!(
                "{target}\n{}\n{:?}\n{:?}\n{:?}\n{:?}",
                req.bucket, opts.principal, req.headers, req.operation, req.session_mode
            );
            let runtime = self
                .runtime
                .as_ref()
                .context("the live reading has stopped")?;
            let got = runtime.block_on(async {
                let lease = self.pool.lease(&opts, &question, fresh).await?;
                let principal = opts.principal.as_deref().or(req.principal.as_deref());
                let got = lease.session.collect(&req, principal, &|_| {}).await?;
                Ok::<_, why403_aws_source::CollectError>((got, lease.note()))
            });
            let (got, note) = got.with_context(|| format!("cannot read `{target}` from AWS"))?;
            Ok(Read::of(got, note.into_iter().collect()))
        }
    }

    fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")
    }

    /// Reads the evidence of every diagnosable group in one session (each distinct read once,
    /// `concurrency` groups at a time) and diagnoses each; a group whose reading fails is
    /// explained from its records, saying why.
    pub(crate) fn triage(
        groups: &[why403_triage::Group],
        args: &LiveArgs,
        concurrency: usize,
        stats: bool,
        registry: &why403_core::rule::Registry,
    ) -> anyhow::Result<Vec<why403_triage::Outcome>> {
        use why403_triage::{Basis, diagnosable, diagnose_request, explain, request_of};
        let opts = options(args);
        let runtime = runtime()?;
        let progress = Progress::new(std::io::stderr().is_terminal());
        let report = |call: &str| progress.show(call);
        // Groups read live: uploads by a named caller (an anonymous or canonical-id caller
        // has no principal to read).
        let live: Vec<(usize, UploadRequest, Vec<String>)> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| diagnosable(g) && g.latest.caller.arn.is_some())
            .map(|(i, g)| {
                let (req, notes) = request_of(&g.latest);
                (i, req, notes)
            })
            .collect();
        let (results, session_stats) = runtime.block_on(async {
            let session = why403_aws_source::Session::load(&opts)
                .await
                .context("cannot read from AWS")?;
            let got = session
                .collect_many(
                    live.iter().map(|(_, r, _)| (r, r.principal.as_deref())),
                    concurrency,
                    &report,
                )
                .await;
            anyhow::Ok((got, session.stats()))
        })?;
        progress.clear();
        if stats {
            eprintln!(
                "triage: {} groups read live ({} diagnosable by a named caller)",
                live.len(),
                groups.iter().filter(|g| diagnosable(g)).count()
            );
            print_stats(&session_stats);
        }
        let mut out: Vec<Option<why403_triage::Outcome>> = vec![None; groups.len()];
        for ((i, req, notes), got) in live.into_iter().zip(results) {
            let g = &groups[i];
            out[i] = Some(match got {
                Ok(c) => diagnose_request(g, req, c.evidence, Basis::Live, notes, registry),
                Err(e) => {
                    let why = format!(
                        "cannot read `s3://{}/{}` from AWS: {}; explained from the records alone",
                        req.target
                            .access_point_name()
                            .unwrap_or_else(|| req.bucket.clone()),
                        req.key,
                        why403_core::render::escape(&e.to_string())
                    );
                    explain(g, registry, Some(why))
                }
            });
        }
        Ok(out
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                o.unwrap_or_else(|| {
                    // Only an anonymous or canonical-id caller of an upload is left here (the
                    // other groups cannot be diagnosed from evidence, and say why).
                    let why = "the caller is anonymous or named only by a canonical id: nothing to read live for it; explained from the records alone";
                    explain(&groups[i], registry, Some(why.to_owned()))
                })
            })
            .collect())
    }

    /// The one-line progress indicator: how many calls so far and the latest one.
    struct Progress {
        on: bool,
        calls: AtomicUsize,
        line: Mutex<()>,
    }

    impl Progress {
        fn new(on: bool) -> Progress {
            Progress {
                on,
                calls: AtomicUsize::new(0),
                line: Mutex::new(()),
            }
        }

        fn show(&self, what: &str) {
            if !self.on {
                return;
            }
            let n = if what.contains(':') {
                self.calls.fetch_add(1, Ordering::Relaxed) + 1
            } else {
                self.calls.load(Ordering::Relaxed)
            };
            let _guard = self.line.lock().unwrap_or_else(|e| e.into_inner());
            let mut err = std::io::stderr().lock();
            // `\r` and erase-line keep it on one line; errors writing progress do not matter.
            let what = why403_core::render::escape(what);
            let _ = write!(err, "\r\x1b[2Kreading from AWS: {n} calls, {what}");
            let _ = err.flush();
        }

        fn clear(&self) {
            if self.on {
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K");
                let _ = err.flush();
            }
        }
    }

    fn print_stats(s: &Stats) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "read {} calls in {} rounds, {:.2} s",
            s.calls,
            s.rounds,
            s.elapsed.as_secs_f64()
        );
        for note in &s.notes {
            let _ = writeln!(err, "  note: {note}");
        }
        let mut calls = s.per_call.clone();
        calls.sort_by(|a, b| a.round.cmp(&b.round).then_with(|| a.api.cmp(&b.api)));
        for c in &calls {
            let _ = writeln!(
                err,
                "  round {}  {:<44} {:<7} {:>6} ms",
                c.round,
                c.api,
                format!("{:?}", c.outcome).to_ascii_lowercase(),
                c.elapsed.as_millis()
            );
        }
    }
}
