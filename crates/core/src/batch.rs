//! Batch evaluation of JSON Lines requests (the `why403 eval` format, see
//! `../shared/conformance/README.md`): one request and its policies per line, one JSON result
//! per line, in input order.
//!
//! Lines usually repeat the same policies, so the `policies` object is compiled once per
//! distinct text and cached; a line costs a structural scan, a hash lookup, the parse of its
//! small `request`, and the evaluation. [`eval_stream`] runs workers on all cores over
//! bounded chunks, so memory stays constant however long the input is.

mod fast;
mod record;
mod scan;

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::eval::{Evaluation, PolicySet};
pub use record::{CompiledPolicies, parse_policies};

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
    pub stats: BatchStats,
}

/// Counters for one run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchStats {
    pub lines: u64,
    pub errors: u64,
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
            Err((id, msg)) => {
                self.stats.errors += 1;
                out.push_str("{\"id\":");
                out.push_str(id.unwrap_or("null"));
                out.push_str(",\"line\":");
                out.push_str(&line_no.to_string());
                out.push_str(",\"error\":");
                push_json_str(out, &format!("line {line_no}: {msg}"));
                out.push_str("}\n");
                false
            }
        }
    }

    /// Finds or compiles a policies text, and makes it the most recent.
    fn lookup(
        &mut self,
        text: &str,
        line: &str,
        start: usize,
    ) -> Result<Arc<CompiledPolicies>, String> {
        let c = match self.cache.get(text) {
            Some(c) => c.clone(),
            None => {
                self.stats.cache_misses += 1;
                let c = Arc::new(parse_policies(text).map_err(|e| e.locate(line, start))?);
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
    ) -> Result<(&'l str, Evaluation, Arc<CompiledPolicies>), (Option<&'l str>, String)> {
        // The previous request's context, emptied, lends its buffers to this one.
        let spare = std::cell::Cell::new(Some(std::mem::take(&mut self.spare_context)));
        let recent = &self.recent;
        let hit = std::cell::Cell::new(None);
        let fast_request = std::cell::Cell::new(None);
        let hint = |key: &str, b: &[u8], i: usize| match key {
            // A cached text is a complete JSON value, so if the line repeats it at this place
            // the value ends exactly where the text does.
            "policies" => {
                let k = recent
                    .iter()
                    .position(|(t, _)| b.get(i..i + t.len()) == Some(t.as_bytes()))?;
                hit.set(Some(k));
                Some(i + recent[k].0.len())
            }
            // Read in the same pass when it has the common shape; serde reads it otherwise.
            "request" => {
                let ctx = spare.take().unwrap_or_default();
                let (req, end) = fast::request(line, i, ctx)?;
                fast_request.set(Some(req));
                Some(end)
            }
            _ => None,
        };
        let members = scan::top_level_members_with(line, &hint).map_err(|e| (None, e))?;
        let find = |k: &str| members.iter().find(|m| m.key == k);
        let id = find("id").map(|m| &line[m.value.clone()]);
        let fail = |msg: String| (id, msg);
        // The members we do not read were checked by the scan (structure, strings, literals
        // and numbers), so a malformed line is an error.
        let req_m = find("request").ok_or_else(|| fail("the record has no `request`".into()))?;
        // A request member given twice is read (and rejected) by serde.
        let twice = members.iter().filter(|m| m.key == "request").count() > 1;
        let mut request = match fast_request.take() {
            Some(req) if !twice => (req, false),
            _ => record::parse_request(&line[req_m.value.clone()])
                .map_err(|e| fail(format!("`/request`: {e}")))?,
        };
        let pol_m = find("policies").ok_or_else(|| fail("the record has no `policies`".into()))?;
        let text = &line[pol_m.value.clone()];
        let compiled = match hit.get() {
            Some(0) => self.recent[0].1.clone(),
            Some(i) => {
                let e = self.recent.remove(i);
                let c = e.1.clone();
                self.recent.insert(0, e);
                c
            }
            None => self.lookup(text, line, pol_m.value.start).map_err(fail)?,
        };
        if let Some(s) = find("settings") {
            request.1 = record::restrict_public_buckets(&line[s.value.clone()])
                .map_err(|e| fail(format!("`/settings`: {e}")))?;
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
pub fn push_json_str(out: &mut String, s: &str) {
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

/// Reads JSON Lines from `input`, writes one result line per request to `output` in input
/// order, using `threads` workers. Workers take turns reading a chunk of whole lines (under a
/// lock), evaluate it, and hand the results to a writer thread that restores input order;
/// channels are bounded, so memory stays constant whatever the input's length.
pub fn eval_stream(
    input: impl Read + Send,
    mut output: impl Write + Send,
    threads: usize,
) -> io::Result<BatchStats> {
    use std::sync::Mutex;
    use std::sync::mpsc::sync_channel;
    let threads = threads.max(1);
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
        let mut handles = Vec::with_capacity(threads);
        for _ in 0..threads {
            let done = done_tx.clone();
            let reader = &reader;
            handles.push(scope.spawn(move || {
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
            }));
        }
        drop(done_tx);
        let writer = scope.spawn(move || -> io::Result<()> {
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
        });
        let mut stats = BatchStats::default();
        for h in handles {
            stats.add(
                h.join()
                    .map_err(|_| io::Error::other("a worker thread panicked"))?,
            );
        }
        writer
            .join()
            .map_err(|_| io::Error::other("the writer thread panicked"))??;
        let error = reader
            .lock()
            .map_err(|_| io::Error::other("a worker thread panicked"))?
            .error
            .take();
        match error {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    })
}

/// The shared input: hands out chunks of whole lines with their sequence and line numbers.
struct ChunkReader<R> {
    input: R,
    seq: u64,
    line_no: u64,
    carry: Vec<u8>,
    eof: bool,
    error: Option<io::Error>,
}

impl<R: Read> ChunkReader<R> {
    /// Fills `buf` with the next chunk; `None` at the end of the input (or after an error).
    fn next_chunk(&mut self, buf: &mut Vec<u8>) -> Option<(u64, u64)> {
        buf.clear();
        buf.append(&mut self.carry);
        // A fixed capacity, so that buffers are not reallocated: reads stop at the chunk size
        // plus one read, and only an overlong line grows a buffer.
        let target = CHUNK_BYTES + (512 << 10);
        if buf.capacity() < target {
            buf.reserve_exact(target - buf.len());
        }
        // Fill a chunk, and keep reading while it holds no line end.
        while !self.eof && (buf.len() < CHUNK_BYTES || memchr::memrchr(b'\n', buf).is_none()) {
            // `read_to_end` on a `take` fills spare capacity without zeroing it first.
            match (&mut self.input).take(256 << 10).read_to_end(buf) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(e);
                    self.eof = true;
                }
            }
        }
        // Hand over whole lines only; a partial last line waits for more input.
        if !self.eof
            && let Some(i) = memchr::memrchr(b'\n', buf)
        {
            self.carry.extend_from_slice(&buf[i + 1..]);
            buf.truncate(i + 1);
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
    /// Evaluates a chunk of lines (invalid UTF-8 is replaced, so that its line fails JSON
    /// parsing with a message instead of aborting the run).
    fn eval_chunk(&mut self, bytes: &[u8], first_line: u64) -> String {
        // SIMD validation (the chunk is mostly ASCII policy text).
        let text = match simdutf8::basic::from_utf8(bytes) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        let mut out = String::with_capacity(text.len() / 32);
        let mut start = 0;
        // Lines split with a SIMD search (`str::lines` searches byte-wise).
        let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
        for (line_no, end) in (first_line..).zip(ends) {
            if start >= text.len() {
                break;
            }
            let l = text[start..end]
                .strip_suffix('\r')
                .unwrap_or(&text[start..end]);
            self.eval_line(l, line_no, &mut out);
            start = end + 1;
        }
        out
    }
}

#[cfg(test)]
mod tests;
