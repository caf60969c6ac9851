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

/// Distinct policy sets kept per worker before the cache is cleared (bounds memory).
const CACHE_LIMIT: usize = 4096;

/// Evaluates lines one at a time, caching compiled policy sets by their exact text.
#[derive(Debug, Default)]
pub struct BatchEvaluator {
    cache: FxHashMap<Box<str>, Arc<CompiledPolicies>>,
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

    #[expect(clippy::type_complexity, reason = "a private helper's pair of outcomes")]
    fn eval_record<'l>(
        &mut self,
        line: &'l str,
    ) -> Result<(&'l str, Evaluation, Arc<CompiledPolicies>), (Option<&'l str>, String)> {
        let members = scan::top_level_members(line).map_err(|e| (None, e))?;
        let find = |k: &str| members.iter().find(|m| m.key == k);
        let id = find("id").map(|m| &line[m.value.clone()]);
        let fail = |msg: String| (id, msg);
        // Validate the small members we do not otherwise read, so a malformed line is an error.
        for m in &members {
            if !matches!(m.key.as_str(), "policies" | "request") {
                serde_json::from_str::<serde::de::IgnoredAny>(&line[m.value.clone()])
                    .map_err(|e| fail(format!("member `{}`: {e}", m.key)))?;
            }
        }
        let req_m = find("request").ok_or_else(|| fail("the record has no `request`".into()))?;
        let mut request = record::parse_request(&line[req_m.value.clone()])
            .map_err(|e| fail(format!("`/request`: {e}")))?;
        let pol_m = find("policies").ok_or_else(|| fail("the record has no `policies`".into()))?;
        let text = &line[pol_m.value.clone()];
        let compiled = match self.cache.get(text) {
            Some(c) => c.clone(),
            None => {
                self.stats.cache_misses += 1;
                let c = Arc::new(parse_policies(text).map_err(|e| e.locate(line, pol_m.value.start)));
                if self.cache.len() >= CACHE_LIMIT {
                    self.cache.clear();
                }
                let c = match Arc::try_unwrap(c) {
                    Ok(Ok(p)) => Arc::new(p),
                    Ok(Err(msg)) => return Err(fail(msg)),
                    Err(_) => unreachable!("a fresh Arc has one owner"),
                };
                self.cache.insert(text.into(), c.clone());
                c
            }
        };
        if let Some(s) = find("settings") {
            request.1 = record::restrict_public_buckets(&line[s.value.clone()]).map_err(|e| fail(format!("`/settings`: {e}")))?;
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
        if let Some(sid) = set.policy(*at).and_then(|p| p.statements.get(at.statement as usize)?.sid.as_deref()) {
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

/// Bytes of input handed to the workers at a time.
const CHUNK_BYTES: usize = 4 << 20;

/// Reads JSON Lines from `input`, writes one result line per request to `output` in input
/// order, using `threads` workers. Memory is bounded by the chunk size and the caches.
pub fn eval_stream(mut input: impl Read, mut output: impl Write, threads: usize) -> io::Result<BatchStats> {
    let threads = threads.max(1);
    let mut workers: Vec<BatchEvaluator> = (0..threads).map(|_| BatchEvaluator::new()).collect();
    let mut outs: Vec<String> = vec![String::new(); threads];
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES + (64 << 10));
    let mut line_no: u64 = 0;
    let mut eof = false;
    while !eof || !buf.is_empty() {
        while !eof && (buf.len() < CHUNK_BYTES || memrchr_newline(&buf).is_none()) {
            let len = buf.len();
            buf.resize(len + (1 << 20), 0);
            let n = loop {
                match input.read(&mut buf[len..]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r,
                }
            };
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    buf.truncate(len);
                    return Err(e);
                }
            };
            buf.truncate(len + n);
            eof = n == 0;
        }
        // Hand over whole lines only; a partial last line waits for more input.
        let cut = if eof { buf.len() } else { memrchr_newline(&buf).map_or(buf.len(), |i| i + 1) };
        let text = String::from_utf8_lossy(&buf[..cut]);
        let parts = split_lines(&text, threads);
        let first_line = line_no + 1;
        std::thread::scope(|s| {
            let mut start_no = first_line;
            for ((part, w), out) in parts.iter().zip(workers.iter_mut()).zip(outs.iter_mut()) {
                let n0 = start_no;
                start_no += part.lines().count() as u64;
                out.clear();
                let part: &str = part;
                s.spawn(move || {
                    for (i, l) in part.lines().enumerate() {
                        w.eval_line(l, n0 + i as u64, out);
                    }
                });
            }
        });
        for out in outs.iter().take(parts.len()) {
            output.write_all(out.as_bytes())?;
        }
        line_no += text.lines().count() as u64;
        drop(text);
        buf.drain(..cut);
    }
    output.flush()?;
    let mut stats = BatchStats::default();
    for w in &workers {
        stats.add(w.stats);
    }
    Ok(stats)
}

fn memrchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().rposition(|&c| c == b'\n')
}

/// Splits text into at most `n` parts of whole lines of similar size.
fn split_lines(text: &str, n: usize) -> Vec<&str> {
    let mut parts = Vec::with_capacity(n);
    let mut rest = text;
    for i in 0..n {
        if rest.is_empty() {
            break;
        }
        let target = rest.len() / (n - i);
        let cut = if i + 1 == n {
            rest.len()
        } else {
            match rest[target..].find('\n') {
                Some(j) => target + j + 1,
                None => rest.len(),
            }
        };
        parts.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    parts
}

#[cfg(test)]
mod tests;
