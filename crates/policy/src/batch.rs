//! Batch evaluation of JSON Lines requests (the `why403 eval` format, see
//! `docs/eval-format.md`): one request and its policies per line, one JSON result per line, in
//! input order.
//!
//! Lines usually repeat the same policies, so the `policies` object is compiled once per
//! distinct text and cached; a line costs a structural scan, a hash lookup, the parse of its
//! small `request`, and the evaluation. [`eval_stream`] runs workers on all cores over
//! bounded chunks, so memory stays constant however long the input is; a line longer than
//! [`MAX_LINE_BYTES`] stops it.

mod fast;
mod record;
mod scan;

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::eval::{Evaluation, PolicySet};
use record::{CompiledPolicies, parse_policies};
use scan::LineError;

/// Policies texts tried by direct comparison before a line is scanned.
const RECENT: usize = 8;

/// Distinct policy sets kept per worker before the cache is cleared (bounds memory).
const CACHE_LIMIT: usize = 4096;

/// Evaluates lines one at a time, caching compiled policy sets by their exact text.
#[derive(Debug, Default)]
pub struct BatchEvaluator {
    cache: FxHashMap<Box<str>, Arc<CompiledPolicies>>,
    /// The most recently used policies texts, most recent first: a line that repeats one of
    /// them at its `policies` member is recognised by one comparison, without a scan.
    recent: Vec<(Box<str>, Arc<CompiledPolicies>)>,
    /// The last request's context, emptied: its buffers serve the next request.
    spare_context: crate::context::RequestContext,
    /// What this evaluator has seen so far.
    pub stats: BatchStats,
    /// Tests only: no hints, so every member is scanned and the request read by serde (the
    /// differential test holds both ways equal).
    slow_only: bool,
}

/// Counters for one run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchStats {
    /// Lines read, blank lines not counted.
    pub lines: u64,
    /// Lines that gave an error record instead of a result.
    pub errors: u64,
    /// `policies` texts compiled: a text counts once per worker that compiles it, and again
    /// after that worker's full cache was cleared.
    pub cache_misses: u64,
}

impl BatchStats {
    fn add(&mut self, o: BatchStats) {
        self.lines += o.lines;
        self.errors += o.errors;
        self.cache_misses += o.cache_misses;
    }
}

impl BatchEvaluator {
    /// An evaluator with an empty cache and zero counts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Evaluates one line and appends one JSON line (with `\n`) to `out`. Blank lines are
    /// skipped. Returns false when the line produced an error record.
    pub fn eval_line(&mut self, line: &str, line_no: u64, out: &mut String) -> bool {
        if line.trim().is_empty() {
            return true;
        }
        self.stats.lines += 1;
        match self.eval_record(line) {
            Ok((id, eval, set)) => {
                write_result(out, id, &eval, &set.set);
                true
            }
            Err((id, e)) => {
                self.error_record(out, id, line_no, &e.render(line));
                false
            }
        }
    }

    /// Appends an error record: the id when it was read, the line and the message (values it
    /// quotes cut to a readable length).
    fn error_record(&mut self, out: &mut String, id: Option<&str>, line_no: u64, msg: &str) {
        self.stats.errors += 1;
        out.push_str("{\"id\":");
        out.push_str(id.unwrap_or("null"));
        out.push_str(",\"line\":");
        out.push_str(&line_no.to_string());
        out.push_str(",\"error\":");
        push_json_str(
            out,
            &crate::json::cut_long_values(&format!("line {line_no}: {msg}")),
        );
        out.push_str("}\n");
    }

    /// Finds or compiles a policies text, and makes it the most recent.
    fn lookup(&mut self, text: &str, start: usize) -> Result<Arc<CompiledPolicies>, LineError> {
        let c = match self.cache.get(text) {
            Some(c) => c.clone(),
            None => {
                self.stats.cache_misses += 1;
                let c = Arc::new(parse_policies(text).map_err(|e| e.at(start))?);
                if self.cache.len() >= CACHE_LIMIT {
                    self.cache.clear();
                }
                self.cache.insert(text.into(), c.clone());
                c
            }
        };
        self.recent.insert(0, (text.into(), c.clone()));
        self.recent.truncate(RECENT);
        Ok(c)
    }

    #[expect(
        clippy::type_complexity,
        reason = "a private helper's pair of outcomes"
    )]
    fn eval_record<'l>(
        &mut self,
        line: &'l str,
    ) -> Result<(&'l str, Evaluation, Arc<CompiledPolicies>), (Option<&'l str>, LineError)> {
        // The previous request's context, emptied, lends its buffers to this one.
        let spare = std::cell::Cell::new(Some(std::mem::take(&mut self.spare_context)));
        let recent = &self.recent;
        let hit = std::cell::Cell::new(None);
        let fast_request = std::cell::Cell::new(None);
        let fast = !self.slow_only;
        let hint = |key: &str, b: &[u8], i: usize| match key {
            // A cached text is a complete JSON value, so if the line repeats it at this place
            // the value ends exactly where the text does.
            "policies" if fast => {
                let k = recent
                    .iter()
                    .position(|(t, _)| b.get(i..i + t.len()) == Some(t.as_bytes()))?;
                hit.set(Some(k));
                Some(i + recent[k].0.len())
            }
            // Read in the same pass when it has the common shape; serde reads it otherwise.
            "request" if fast => {
                let ctx = spare.take().unwrap_or_default();
                let (req, end) = fast::request(line, i, ctx)?;
                fast_request.set(Some(req));
                Some(end)
            }
            _ => None,
        };
        let mut members = Vec::with_capacity(12);
        let scanned = scan::top_level_members_with(line, &hint, &mut members);
        let find = |k: &str| members.iter().find(|m| m.key == k);
        // An id read before an error is still echoed, once it is valid JSON: the scan does
        // not check escapes inside strings, and the id is copied to the output as written.
        let id_m = find("id");
        let id = id_m.map(|m| &line[m.value.clone()]);
        if let (Some(m), Some(text)) = (id_m, id)
            && let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text)
        {
            return Err((
                None,
                LineError::new(m.value.start, format!("`id` is not valid JSON: {e}")),
            ));
        }
        let fail = |e: LineError| (id, e);
        scanned.map_err(fail)?;
        // A member given twice would leave the reader to pick one: an error, as in scenario
        // files. (The hints above may have seen either copy; nothing they read is used then.)
        if let Some(i) = crate::json::first_repeated(&members, |m| &*m.key) {
            let m = &members[i];
            return Err(fail(LineError::new(
                m.key_at,
                format!("`{}` appears twice in the record", scan::pointer(&m.key)),
            )));
        }
        // The members we do not read were checked by the scan (structure, strings, literals
        // and numbers), so a malformed line is an error.
        let record_at = scan::skip_ws(line.as_bytes(), 0);
        let missing = |what: &str| {
            fail(LineError::new(
                record_at,
                format!("the record has no `{what}`"),
            ))
        };
        let req_m = find("request").ok_or_else(|| missing("request"))?;
        let mut request = match fast_request.take() {
            Some(req) => (req, false),
            None => record::parse_request(&line[req_m.value.clone()])
                .map_err(|e| fail(e.shift(req_m.value.start)))?,
        };
        let pol_m = find("policies").ok_or_else(|| missing("policies"))?;
        let text = &line[pol_m.value.clone()];
        let compiled = match hit.get() {
            Some(0) => self.recent[0].1.clone(),
            Some(i) => {
                let e = self.recent.remove(i);
                let c = e.1.clone();
                self.recent.insert(0, e);
                c
            }
            None => self.lookup(text, pol_m.value.start).map_err(fail)?,
        };
        if let Some(s) = find("settings") {
            request.1 = record::restrict_public_buckets(&line[s.value.clone()])
                .map_err(|e| fail(e.shift(s.value.start)))?;
        }
        let (mut req, restrict) = request;
        let eval = if restrict != compiled.set.restrict_public_buckets {
            let mut set = compiled.set.clone();
            set.restrict_public_buckets = restrict;
            set.evaluate(&req)
        } else {
            compiled.set.evaluate(&req)
        };
        let mut ctx = std::mem::take(&mut req.context);
        ctx.recycle();
        self.spare_context = ctx;
        Ok((id.unwrap_or("null"), eval, compiled))
    }
}

/// Appends `s` as a JSON string literal.
fn push_json_str(out: &mut String, s: &str) {
    crate::json::write_string(s, out);
}

fn write_result(out: &mut String, id: &str, eval: &Evaluation, set: &PolicySet) {
    out.push_str("{\"id\":");
    out.push_str(id);
    out.push_str(",\"decision\":\"");
    out.push_str(eval.decision.as_str());
    out.push_str("\",\"deciding\":[");
    let mut first = true;
    for at in &eval.deciding {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str("{\"layer\":\"");
        out.push_str(at.layer.as_str());
        out.push('"');
        if at.layer.has_levels() {
            out.push_str(",\"level\":");
            out.push_str(&at.level.to_string());
        }
        out.push_str(",\"policy\":");
        out.push_str(&at.policy.to_string());
        out.push_str(",\"statement\":");
        out.push_str(&at.statement.to_string());
        if let Some(sid) = set
            .policy(*at)
            .and_then(|p| p.statements.get(at.statement as usize)?.sid.as_deref())
        {
            out.push_str(",\"sid\":");
            push_json_str(out, sid);
        }
        out.push('}');
    }
    out.push(']');
    if !eval.blocked_by.is_empty() {
        out.push_str(",\"blocked_by\":[");
        for (i, b) in eval.blocked_by.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"layer\":\"");
            out.push_str(b.layer.as_str());
            out.push('"');
            if b.layer.has_levels() {
                out.push_str(",\"level\":");
                out.push_str(&b.level.to_string());
            }
            out.push('}');
        }
        out.push(']');
    }
    out.push_str("}\n");
}

/// Bytes of whole lines handed to a worker at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// The longest line `eval` reads, in bytes (without its line end). A record holds one request
/// and the policies that apply to it, and AWS caps those: a bucket policy at 20 KB, an SCP or
/// RCP at 5 KB (five per organization level), a managed policy at 6 KB (ten to twenty per
/// role), a VPC endpoint policy at 20 KB: about 600 KB together at most, on one line. A longer
/// line is not a record but a mistake (or `/dev/zero`): `eval` stops there with a message
/// instead of buffering it without end. Each worker holds at most one such line, and the
/// parsed tree of a policy costs up to about 20 times its text (an array of small numbers), so
/// the limit also bounds a worker's memory (about 100 MB at worst, `cargo xtask
/// bench-limits`).
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// The most worker threads [`eval_stream`] runs. One worker reads the input at a time and one
/// thread writes the output, so more workers than this add no speed, only memory (up to
/// [`MAX_LINE_BYTES`] and a chunk each).
pub const MAX_THREADS: usize = 64;

/// Why [`eval_stream`] stopped before the end of its input. The results of the lines before
/// have been written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The input could not be read.
    #[error("cannot read the input: {0}")]
    Read(io::Error),
    /// The results could not be written (`BrokenPipe`: the reader went away).
    #[error("cannot write the results: {0}")]
    Write(io::Error),
    /// A line is longer than [`MAX_LINE_BYTES`]; nothing from it on was evaluated.
    #[error(
        "line {line} is longer than {} MiB, the limit of an eval line (one request and its \
         policies); the lines before it were evaluated, none from it on",
        MAX_LINE_BYTES >> 20
    )]
    LineTooLong {
        /// The 1-based number of the line.
        line: u64,
    },
    /// A thread could not be started; nothing was read.
    #[error("cannot start {what}: {source}")]
    Spawn {
        /// The thread, in words (`the writer thread`, `worker thread 3 of 8`).
        what: String,
        /// The error from the operating system.
        source: io::Error,
    },
    /// A worker or the writer panicked (a bug).
    #[error("the {0} thread panicked")]
    Panicked(&'static str),
}

/// Reads JSON Lines from `input`, writes one result line per request to `output` in input
/// order, using `threads` workers (at most [`MAX_THREADS`]). Workers take turns reading a
/// chunk of whole lines (under a lock), evaluate it, and hand the results to a writer thread
/// that restores input order; channels are bounded, so memory stays constant whatever the
/// input's length.
pub fn eval_stream(
    input: impl Read + Send,
    output: impl Write + Send,
    threads: usize,
) -> Result<BatchStats, StreamError> {
    stream(input, output, threads, None)
}

/// [`eval_stream`]; tests make the spawn of worker `fail_spawn` (from 0) fail.
fn stream(
    input: impl Read + Send,
    mut output: impl Write + Send,
    threads: usize,
    fail_spawn: Option<usize>,
) -> Result<BatchStats, StreamError> {
    use std::sync::Mutex;
    use std::sync::mpsc::sync_channel;
    let threads = threads.clamp(1, MAX_THREADS);
    let reader = Mutex::new(ChunkReader {
        input,
        seq: 0,
        line_no: 1,
        carry: Vec::new(),
        eof: false,
        error: None,
    });
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = sync_channel::<(u64, String)>(threads * 2);
        let writer = std::thread::Builder::new()
            .name("eval-writer".into())
            .spawn_scoped(scope, move || -> io::Result<()> {
                let mut pending = std::collections::BTreeMap::new();
                let mut next = 0u64;
                for (seq, out) in done_rx {
                    pending.insert(seq, out);
                    while let Some(out) = pending.remove(&next) {
                        output.write_all(out.as_bytes())?;
                        next += 1;
                    }
                }
                output.flush()
            })
            .map_err(|source| StreamError::Spawn {
                what: "the writer thread".into(),
                source,
            })?;
        // The workers wait for this lock before their first chunk: if one of them cannot be
        // started, none has read anything, and the input is closed to them all.
        let mut gate = reader.lock().map_err(|_| StreamError::Panicked("worker"))?;
        let mut handles = Vec::with_capacity(threads);
        let mut spawn_error = None;
        for n in 0..threads {
            let done = done_tx.clone();
            let reader = &reader;
            let mut builder = std::thread::Builder::new().name(format!("eval-{n}"));
            if fail_spawn == Some(n) {
                // A stack larger than the address space cannot be had.
                builder = builder.stack_size(1 << 60);
            }
            let spawned = builder.spawn_scoped(scope, move || {
                let mut w = BatchEvaluator::new();
                let mut buf = Vec::new();
                loop {
                    let job = {
                        let Ok(mut r) = reader.lock() else { break };
                        r.next_chunk(&mut buf)
                    };
                    let Some((seq, first_line)) = job else { break };
                    let out = w.eval_chunk(&buf, first_line);
                    if done.send((seq, out)).is_err() {
                        break;
                    }
                }
                w.stats
            });
            match spawned {
                Ok(h) => handles.push(h),
                Err(source) => {
                    gate.eof = true;
                    spawn_error = Some(StreamError::Spawn {
                        what: format!("worker thread {} of {threads}", n + 1),
                        source,
                    });
                    break;
                }
            }
        }
        drop(gate);
        drop(done_tx);
        let mut stats = BatchStats::default();
        let mut panicked = None;
        for h in handles {
            match h.join() {
                Ok(s) => stats.add(s),
                Err(_) => panicked = Some(StreamError::Panicked("worker")),
            }
        }
        let written = writer.join();
        if let Some(e) = spawn_error.or(panicked) {
            return Err(e);
        }
        written
            .map_err(|_| StreamError::Panicked("writer"))?
            .map_err(StreamError::Write)?;
        let error = reader
            .lock()
            .map_err(|_| StreamError::Panicked("worker"))?
            .error
            .take();
        match error {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    })
}

/// Whether the line `buf[start..end]` is longer than [`MAX_LINE_BYTES`], a `\r` before its
/// `\n` not counted.
fn over_limit(buf: &[u8], start: usize, end: usize) -> bool {
    let cr = end > start && buf[end - 1] == b'\r';
    end - start - usize::from(cr) > MAX_LINE_BYTES
}

/// The shared input: hands out chunks of whole lines with their sequence and line numbers.
struct ChunkReader<R> {
    input: R,
    seq: u64,
    line_no: u64,
    /// The start of a line that the last chunk did not end (no line end in it).
    carry: Vec<u8>,
    eof: bool,
    error: Option<StreamError>,
}

impl<R: Read> ChunkReader<R> {
    /// Stops at the line starting at `line_start` in `buf`, which is too long: the lines
    /// before it are handed over, nothing from it on is read.
    fn too_long(&mut self, buf: &mut Vec<u8>, line_start: usize) {
        let before = memchr::memchr_iter(b'\n', &buf[..line_start]).count() as u64;
        self.error = Some(StreamError::LineTooLong {
            line: self.line_no + before,
        });
        self.eof = true;
        buf.truncate(line_start);
    }

    /// Fills `buf` with the next chunk; `None` at the end of the input (or after an error).
    /// Each byte is searched for a line end once, so a long line costs linear time.
    fn next_chunk(&mut self, buf: &mut Vec<u8>) -> Option<(u64, u64)> {
        buf.clear();
        buf.append(&mut self.carry);
        // A fixed capacity, so that buffers are not reallocated: reads stop at the chunk size
        // plus one read, and only an overlong line grows a buffer.
        let target = CHUNK_BYTES + (512 << 10);
        if buf.capacity() < target {
            buf.reserve_exact(target - buf.len());
        }
        // The carried bytes hold no line end; `line_start` is where the last line begins.
        let mut line_start = 0;
        let mut has_end = false;
        // Fill a chunk, and keep reading while it holds no line end.
        while !self.eof && (buf.len() < CHUNK_BYTES || !has_end) {
            let old = buf.len();
            // `read_to_end` on a `take` fills spare capacity without zeroing it first.
            match (&mut self.input).take(256 << 10).read_to_end(buf) {
                Ok(0) => self.eof = true,
                Ok(_) => {
                    if let Some(first) = memchr::memchr(b'\n', &buf[old..]) {
                        // The line that this read ends; the lines after it are shorter than
                        // a read.
                        if over_limit(buf, line_start, old + first) {
                            self.too_long(buf, line_start);
                            break;
                        }
                        let last = memchr::memrchr(b'\n', &buf[old..]).unwrap_or(first);
                        line_start = old + last + 1;
                        has_end = true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(StreamError::Read(e));
                    self.eof = true;
                }
            }
            // The line still open (its `\n` may come after a `\r`), or at the end of the
            // input the last line.
            if buf.len() - line_start > MAX_LINE_BYTES + 1
                || (self.eof && over_limit(buf, line_start, buf.len()))
            {
                self.too_long(buf, line_start);
            }
        }
        // Hand over whole lines only; a partial last line waits for more input.
        if !self.eof && has_end {
            self.carry.extend_from_slice(&buf[line_start..]);
            buf.truncate(line_start);
        }
        if buf.is_empty() {
            return None;
        }
        let lines =
            memchr::memchr_iter(b'\n', buf).count() as u64 + u64::from(!buf.ends_with(b"\n"));
        let job = (self.seq, self.line_no);
        self.seq += 1;
        self.line_no += lines;
        Some(job)
    }
}

impl BatchEvaluator {
    /// Evaluates a chunk of lines. A line that is not UTF-8 is an error record that locates the
    /// first invalid byte (nothing is replaced: a policy must not match bytes it does not
    /// name). A UTF-8 byte order mark at the start of the input is skipped, as editors do.
    fn eval_chunk(&mut self, bytes: &[u8], first_line: u64) -> String {
        let bytes = match first_line {
            1 => bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes),
            _ => bytes,
        };
        // SIMD validation (the chunk is mostly ASCII policy text); lines are checked one by
        // one only when the chunk is not UTF-8.
        let text = simdutf8::basic::from_utf8(bytes).ok();
        let mut out = String::with_capacity(bytes.len() / 32);
        let mut start = 0;
        // Lines split with a SIMD search (`str::lines` searches byte-wise).
        let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
        for (line_no, end) in (first_line..).zip(ends) {
            if start >= bytes.len() {
                break;
            }
            let raw = &bytes[start..end];
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let line = match text {
                Some(t) => Ok(&t[start..start + raw.len()]),
                None => std::str::from_utf8(raw),
            };
            match line {
                Ok(l) => {
                    self.eval_line(l, line_no, &mut out);
                }
                Err(e) => {
                    self.stats.lines += 1;
                    let valid = &raw[..e.valid_up_to()];
                    // The prefix is valid UTF-8 by definition.
                    let column = String::from_utf8_lossy(valid).chars().count() + 1;
                    let byte = raw[e.valid_up_to()];
                    self.error_record(
                        &mut out,
                        None,
                        line_no,
                        &format!(
                            "column {column}: the line is not UTF-8 text (byte 0x{byte:02X}); \
                             save the file as UTF-8"
                        ),
                    );
                }
            }
            start = end + 1;
        }
        out
    }
}

#[cfg(test)]
mod tests;
