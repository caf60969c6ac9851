//! Reading log input: files, folders (recursively) and standard input, gzip or not, each
//! recognised by its content; every record handed to a [`Triage`], every problem counted and
//! kept with its place, never stopping at one.

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::group::{Options, Triage};
use crate::record::RecordId;
use crate::scan::{ScanError, Splitter};
use crate::{accesslog, cloudtrail};

/// Input that was skipped: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `file:line` (or `file`, or `standard input:line`).
    pub place: String,
    /// What is wrong, in words.
    pub what: String,
}

/// What was read, for progress and `--stats`. Shared by the reading threads.
#[derive(Debug, Default)]
pub struct Progress {
    /// Records read (every record, selected or not).
    pub records: AtomicU64,
    /// Bytes read (after decompression).
    pub bytes: AtomicU64,
    /// Files finished.
    pub files: AtomicU64,
    /// Groups found so far (an estimate while reading in parallel: the largest of the
    /// threads' counts).
    pub groups: AtomicUsize,
}

/// Where the input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or a folder (read recursively, in name order).
    Path(PathBuf),
    /// Standard input.
    Stdin,
}

/// The files under `inputs`, in order (folders expanded recursively, by name), and the
/// problems of the paths that cannot be listed.
pub fn expand(inputs: &[Input]) -> (Vec<Input>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for i in inputs {
        match i {
            Input::Stdin => files.push(Input::Stdin),
            Input::Path(p) => walk(p, 0, &mut files, &mut problems),
        }
    }
    (files, problems)
}

fn walk(p: &Path, depth: usize, files: &mut Vec<Input>, problems: &mut Vec<Problem>) {
    let meta = match fs::metadata(p) {
        Ok(m) => m,
        Err(e) => {
            problems.push(Problem {
                place: p.display().to_string(),
                what: format!("cannot be read: {e}"),
            });
            return;
        }
    };
    if !meta.is_dir() {
        files.push(Input::Path(p.to_owned()));
        return;
    }
    if depth > 32 {
        problems.push(Problem {
            place: p.display().to_string(),
            what: "folders nested more than 32 deep (a link loop?) are not read".into(),
        });
        return;
    }
    let mut entries = match fs::read_dir(p) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect::<Vec<_>>(),
        Err(e) => {
            problems.push(Problem {
                place: p.display().to_string(),
                what: format!("cannot be listed: {e}"),
            });
            return;
        }
    };
    entries.sort();
    for e in entries {
        walk(&e, depth + 1, files, problems);
    }
}

impl Input {
    /// The input's name in messages.
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "standard input".to_owned(),
        }
    }
}

/// Reads `files` with up to `threads` threads (files are shared out; one file is read by one
/// thread) into one triage.
pub fn read_all(files: &[Input], opts: &Options, threads: usize, progress: &Progress) -> Triage {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let threads = threads.clamp(1, files.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut t = Triage::new(opts.clone());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    read_one(f, i as u32, &mut t, progress);
                    progress.files.fetch_add(1, Ordering::Relaxed);
                }
                results.lock().unwrap_or_else(|e| e.into_inner()).push(t);
            });
        }
    });
    let mut all = Triage::new(opts.clone());
    for t in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        all.merge(t);
    }
    all.sort_ids();
    all
}

/// Reads one input into `t`.
pub fn read_one(input: &Input, index: u32, t: &mut Triage, progress: &Progress) {
    let name = input.name();
    match input {
        Input::Stdin => read_stream(io::stdin().lock(), &name, index, t, progress),
        Input::Path(p) => match fs::File::open(p) {
            Ok(f) => read_stream(f, &name, index, t, progress),
            Err(e) => t.problem(name, format!("cannot be read: {e}")),
        },
    }
}

/// Reads a stream: gzip or not, then CloudTrail JSON or access log lines, by content.
pub fn read_stream(r: impl Read, name: &str, index: u32, t: &mut Triage, progress: &Progress) {
    let mut r = BufReader::with_capacity(256 * 1024, r);
    let gz = match r.fill_buf() {
        Ok(head) => head.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            t.problem(name.to_owned(), format!("cannot be read: {e}"));
            return;
        }
    };
    if gz {
        let d = flate2::bufread::MultiGzDecoder::new(r);
        read_plain(d, name, index, t, progress, true);
    } else {
        read_plain(r, name, index, t, progress, false);
    }
}

fn read_plain(
    mut r: impl Read,
    name: &str,
    index: u32,
    t: &mut Triage,
    progress: &Progress,
    gz: bool,
) {
    // Enough of the start to recognise the format.
    let mut head: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let first = loop {
        match r.read(&mut chunk) {
            Ok(0) => break head.iter().copied().find(|b| !b.is_ascii_whitespace()),
            Ok(n) => {
                head.extend_from_slice(&chunk[..n]);
                if let Some(b) = head.iter().copied().find(|b| !b.is_ascii_whitespace()) {
                    // The first line whole, for access logs.
                    if b == b'{' || b == b'[' || head.contains(&b'\n') || head.len() > 64 * 1024 {
                        break Some(b);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                t.problem(name.to_owned(), read_error(&e, gz, 0));
                return;
            }
        }
    };
    match first {
        None => t.problem(name.to_owned(), "is empty".to_owned()),
        Some(b'{' | b'[' | 0xEF) => json(r, head, name, index, t, progress, gz),
        Some(_) => {
            let mut first = head
                .split(|&b| b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
            let first_line = String::from_utf8_lossy(first.next().unwrap_or_default()).into_owned();
            // The first line may be the broken one: any of the first few recognised will do.
            let recognised = std::iter::once(first_line.as_bytes())
                .chain(first.take(4))
                .any(|l| accesslog::looks_like(String::from_utf8_lossy(l).trim_end_matches('\r')));
            if recognised {
                lines(io::Cursor::new(head).chain(r), name, index, t, progress, gz);
            } else {
                t.problem(
                    format!("{name}:1"),
                    format!(
                        "not a format triage reads (CloudTrail JSON or S3 server access logs): `{}`",
                        excerpt(&first_line)
                    ),
                );
            }
        }
    }
}

fn read_error(e: &io::Error, gz: bool, after: u64) -> String {
    if gz {
        format!(
            "the gzip data is cut off or corrupt after {after} bytes ({e}); what came before was read"
        )
    } else {
        format!("cannot be read after {after} bytes: {e}; what came before was read")
    }
}

fn json(
    r: impl Read,
    head: Vec<u8>,
    name: &str,
    index: u32,
    t: &mut Triage,
    progress: &Progress,
    gz: bool,
) {
    let mut s = Splitter::with_head(r, head);
    let mut n = 0u64;
    let result = {
        let mut sink = |bytes: &[u8], line: u64| {
            n += 1;
            t.counts.records += 1;
            progress.records.fetch_add(1, Ordering::Relaxed);
            match cloudtrail::element(bytes) {
                Ok(cloudtrail::Item::Upload(mut rec)) => {
                    t.counts.cloudtrail_records += 1;
                    t.counts.s3_data_events += 1;
                    if rec.id == RecordId::Text("".into()) {
                        rec.id = RecordId::Text(format!("{name}:{line}").into());
                    }
                    t.add(*rec, index);
                }
                Ok(cloudtrail::Item::Other(data)) => {
                    t.counts.cloudtrail_records += 1;
                    t.counts.s3_data_events += u64::from(data);
                }
                Err(cloudtrail::Bad::Json(e)) => {
                    let line = line + e.line() as u64 - 1;
                    t.problem(
                        format!("{name}:{line}:{}", e.column()),
                        format!("record {n} is malformed: {e}"),
                    );
                }
                Err(cloudtrail::Bad::Wrapped(why)) => {
                    t.problem(
                        format!("{name}:{line}"),
                        format!("record {n} is skipped: {why}"),
                    );
                }
                Err(cloudtrail::Bad::NotARecord(why)) => {
                    t.problem(
                        format!("{name}:{line}"),
                        format!("record {n} is skipped: {why}"),
                    );
                }
            }
        };
        s.run(&mut sink)
    };
    t.counts.bytes += s.bytes;
    progress.bytes.fetch_add(s.bytes, Ordering::Relaxed);
    match result {
        Ok(()) => {}
        Err(ScanError::Io(e)) => t.problem(name.to_owned(), read_error(&e, gz, s.bytes)),
        Err(ScanError::Syntax { line, what }) => t.problem(
            format!("{name}:{line}"),
            format!("{what}; the rest of the file is skipped"),
        ),
    }
    progress
        .groups
        .fetch_max(t.group_count(), Ordering::Relaxed);
}

fn lines(r: impl Read, name: &str, index: u32, t: &mut Triage, progress: &Progress, gz: bool) {
    let mut r = BufReader::with_capacity(256 * 1024, r);
    let mut buf = Vec::with_capacity(1024);
    let mut line_no = 0u64;
    let mut bytes = 0u64;
    let mut file_bytes = 0u64;
    loop {
        buf.clear();
        match read_line(&mut r, &mut buf) {
            Ok((0, _)) => break,
            Ok((n, too_long)) => {
                bytes += n as u64;
                file_bytes += n as u64;
                line_no += 1;
                if too_long {
                    t.counts.records += 1;
                    t.problem(
                        format!("{name}:{line_no}"),
                        format!(
                            "a line longer than {} KiB: not an access log line",
                            MAX_LINE >> 10
                        ),
                    );
                    continue;
                }
                let text = String::from_utf8_lossy(&buf);
                let text = text.trim_end_matches(['\n', '\r']);
                if text.trim().is_empty() {
                    continue;
                }
                t.counts.records += 1;
                progress.records.fetch_add(1, Ordering::Relaxed);
                match accesslog::line(text) {
                    Ok(accesslog::Line::Upload(rec)) => t.add(*rec, index),
                    Ok(accesslog::Line::Other) => {}
                    Err(why) => t.problem(
                        format!("{name}:{line_no}"),
                        format!("not an access log line ({why}): `{}`", excerpt(text)),
                    ),
                }
                if line_no.is_multiple_of(4096) {
                    progress.bytes.fetch_add(bytes, Ordering::Relaxed);
                    t.counts.bytes += bytes;
                    bytes = 0;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                t.problem(
                    format!("{name}:{}", line_no + 1),
                    read_error(&e, gz, file_bytes),
                );
                break;
            }
        }
    }
    progress.bytes.fetch_add(bytes, Ordering::Relaxed);
    t.counts.bytes += bytes;
    progress
        .groups
        .fetch_max(t.group_count(), Ordering::Relaxed);
}

/// The longest access log line read; a longer one is skipped (real lines are under 4 KiB).
const MAX_LINE: usize = 1024 * 1024;

/// Reads one line (its `\n` included) into `buf`, keeping at most [`MAX_LINE`] bytes: the
/// bytes read, and whether the line was longer (the rest of it is skipped).
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<(usize, bool)> {
    let mut n = 0;
    let mut too_long = false;
    loop {
        let (done, used) = {
            let avail = match r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok((n, too_long));
            }
            let (done, used) = match memchr::memchr(b'\n', avail) {
                Some(i) => (true, i + 1),
                None => (false, avail.len()),
            };
            if buf.len() + used <= MAX_LINE {
                buf.extend_from_slice(&avail[..used]);
            } else {
                too_long = true;
            }
            (done, used)
        };
        r.consume(used);
        n += used;
        if done {
            return Ok((n, too_long));
        }
    }
}

/// The start of a text for messages: at most 80 characters.
pub(crate) fn excerpt(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() <= 80 {
        return s.to_owned();
    }
    let cut: String = s.chars().take(80).collect();
    format!("{cut}…")
}
