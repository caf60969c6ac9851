//! Batch evaluation of JSON Lines requests (the `why403 eval` format, see
//! `../shared/conformance/README.md`): one request and its policies per line, one JSON result
//! per line, in input order.
//!
//! Lines usually repeat the same policies, so the `policies` object is compiled once per
//! distinct text and cached; a line costs a structural scan, a hash lookup, the parse of its
//! small `request`, and the evaluation. [`eval_stream`] runs workers on all cores over
//! bounded chunks, so memory stays constant however long the input is.

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
        let recent = &self.recent;
        let hit = std::cell::Cell::new(None);
        // A cached text is a complete JSON value, so if the line repeats it at this place the
        // value ends exactly where the text does.
        let hint = |b: &[u8], i: usize| {
            let k = recent
                .iter()
                .position(|(t, _)| b.get(i..i + t.len()) == Some(t.as_bytes()))?;
            hit.set(Some(k));
            Some(i + recent[k].0.len())
        };
        let members = scan::top_level_members_with(line, &hint).map_err(|e| (None, e))?;
        let find = |k: &str| members.iter().find(|m| m.key == k);
        let id = find("id").map(|m| &line[m.value.clone()]);
        let fail = |msg: String| (id, msg);
        // The members we do not read were checked by the scan (structure, strings, literals
        // and numbers), so a malformed line is an error.
        let req_m = find("request").ok_or_else(|| fail("the record has no `request`".into()))?;
        let mut request = record::parse_request(&line[req_m.value.clone()])
            .map_err(|e| fail(format!("`/request`: {e}")))?;
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
        let (req, restrict) = request;
        let eval = if restrict != compiled.set.restrict_public_buckets {
            let mut set = compiled.set.clone();
            set.restrict_public_buckets = restrict;
            set.evaluate(&req)
        } else {
            compiled.set.evaluate(&req)
        };
        Ok((id.unwrap_or("null"), eval, compiled))
    }
}

/// Appends `s` as a JSON string literal.
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
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
/// order, using `threads` workers. The calling thread reads, the workers parse and evaluate,
/// and a writer thread puts the results back in order; channels are bounded, so memory stays
/// constant whatever the input's length.
pub fn eval_stream(
    mut input: impl Read,
    mut output: impl Write + Send,
    threads: usize,
) -> io::Result<BatchStats> {
    use std::sync::mpsc::{SyncSender, sync_channel};
    let threads = threads.max(1);
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = sync_channel::<(u64, String)>(threads * 2);
        // Chunk buffers go back to the reader: fresh pages cost more than the copy.
        let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(threads * 4);
        let mut job_txs: Vec<SyncSender<(u64, u64, Vec<u8>)>> = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (tx, rx) = sync_channel::<(u64, u64, Vec<u8>)>(2);
            job_txs.push(tx);
            let done = done_tx.clone();
            let spare = spare_tx.clone();
            handles.push(scope.spawn(move || worker(rx, done, spare)));
        }
        drop(spare_tx);
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
        // Read whole lines in chunks and deal them out round-robin.
        let mut seq = 0u64;
        let mut line_no = 1u64;
        let mut carry: Vec<u8> = Vec::new();
        let mut read_error = None;
        loop {
            let mut buf = spare_rx.try_recv().unwrap_or_default();
            buf.clear();
            buf.extend_from_slice(&carry);
            carry.clear();
            buf.reserve(CHUNK_BYTES + (1 << 20));
            let mut eof = false;
            // Fill a chunk, and keep reading while it holds no line end.
            while buf.len() < CHUNK_BYTES || memchr::memrchr(b'\n', &buf).is_none() {
                // `read_to_end` on a `take` fills spare capacity without zeroing it first.
                match (&mut input).take(256 << 10).read_to_end(&mut buf) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        read_error = Some(e);
                        eof = true;
                        break;
                    }
                }
            }
            // Hand over whole lines only; a partial last line waits for more input.
            if !eof && let Some(i) = memchr::memrchr(b'\n', &buf) {
                carry.extend_from_slice(&buf[i + 1..]);
                buf.truncate(i + 1);
            }
            if !buf.is_empty() {
                let lines = memchr::memchr_iter(b'\n', &buf).count() as u64
                    + u64::from(!buf.ends_with(b"\n"));
                let target = &job_txs[(seq % threads as u64) as usize];
                if target.send((seq, line_no, buf)).is_err() {
                    break;
                }
                seq += 1;
                line_no += lines;
            }
            if eof {
                break;
            }
        }
        drop(job_txs);
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
        match read_error {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    })
}

fn worker(
    jobs: std::sync::mpsc::Receiver<(u64, u64, Vec<u8>)>,
    done: std::sync::mpsc::SyncSender<(u64, String)>,
    spare: std::sync::mpsc::SyncSender<Vec<u8>>,
) -> BatchStats {
    let mut w = BatchEvaluator::new();
    for (seq, first_line, bytes) in jobs {
        // Invalid UTF-8 is replaced, so that the line fails JSON parsing with a message
        // instead of aborting the run.
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let mut out = String::with_capacity(text.len() / 16);
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
            w.eval_line(l, line_no, &mut out);
            start = end + 1;
        }
        // The buffer is reused when the reader has room for it; otherwise it is dropped.
        let _ = spare.try_send(text.into_bytes());
        if done.send((seq, out)).is_err() {
            break;
        }
    }
    w.stats
}

#[cfg(test)]
mod tests;
