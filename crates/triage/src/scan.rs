//! A streaming splitter for JSON log files: finds the records of a file without holding the
//! file in memory, whatever its size, and hands each one over as a byte slice with the line it
//! starts on, to be parsed on its own.
//!
//! What counts as a record ("element"):
//! - each value of a top-level object's `Records` (a CloudTrail file), `Events`
//!   (`lookup-events` output) or `QueryResultRows` (CloudTrail Lake results) array;
//! - each value of a top-level array;
//! - a whole top-level object that has none of those arrays (one event, an EventBridge event);
//! - and so each line of JSON Lines, or each of several concatenated values.
//!
//! The splitter checks only the structure (brackets, strings); each element is then parsed by
//! serde_json, which reports a malformed element with its own line and column.

use std::io::{self, Read};

/// The most one element (one record) may take; CloudTrail records are a few KB.
pub(crate) const MAX_ELEMENT: usize = 32 * 1024 * 1024;

const CHUNK: usize = 256 * 1024;

/// The arrays of a top-level object whose values are records.
const RECORD_ARRAYS: &[&[u8]] = &[b"Records", b"Events", b"QueryResultRows"];

/// Why a file's structure could not be followed; what came before was handed over.
#[derive(Debug)]
pub(crate) enum ScanError {
    /// Reading failed (a truncated gzip stream, a device error).
    Io(io::Error),
    /// The structure is broken at this line: the rest of the file cannot be split.
    Syntax { line: u64, what: String },
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

/// One element: its bytes and the line it starts on (1-based).
pub(crate) type Sink<'s> = dyn FnMut(&[u8], u64) + 's;

pub(crate) struct Splitter<R> {
    r: R,
    /// Input read and not yet dropped is `buf[..end]`; the rest is room to read into.
    buf: Vec<u8>,
    end: usize,
    /// The first byte still needed; bytes before it may be dropped.
    keep: usize,
    pos: usize,
    eof: bool,
    /// The line of `pos`.
    line: u64,
    /// Bytes read from the reader.
    pub(crate) bytes: u64,
    /// While set, `keep` stays at the start of a top-level object that may be one record.
    pinned: bool,
}

impl<R: Read> Splitter<R> {
    pub(crate) fn new(r: R) -> Self {
        Splitter {
            r,
            buf: Vec::new(),
            end: 0,
            keep: 0,
            pos: 0,
            eof: false,
            line: 1,
            bytes: 0,
            pinned: false,
        }
    }

    /// Starts after bytes already read (a peeked head): they come first.
    pub(crate) fn with_head(r: R, head: Vec<u8>) -> Self {
        let mut s = Splitter::new(r);
        s.bytes = head.len() as u64;
        s.end = head.len();
        s.buf = head;
        s
    }

    /// Reads more input, dropping what is no longer needed. False at the end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.keep > 0 && self.keep >= self.end / 2 {
            self.buf.copy_within(self.keep..self.end, 0);
            self.end -= self.keep;
            self.pos -= self.keep;
            self.keep = 0;
        }
        // Room to read into, made (and zeroed) only when it runs low: a reader that gives a
        // few bytes at a time costs no more than one that fills the room.
        if self.buf.len() - self.end < CHUNK / 4 {
            self.buf.resize(self.end + CHUNK, 0);
        }
        let n = loop {
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.end += n;
        self.bytes += n as u64;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// The byte at `pos + rel`, reading more when needed; `None` at the end of input.
    fn byte_at(&mut self, rel: usize) -> io::Result<Option<u8>> {
        while self.pos + rel >= self.end {
            if !self.fill()? {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos + rel]))
    }

    /// Moves `pos` forward by `n` bytes, counting lines.
    fn advance(&mut self, n: usize) {
        let end = self.pos + n;
        self.line += memchr::memchr_iter(b'\n', &self.buf[self.pos..end]).count() as u64;
        self.pos = end;
        if !self.pinned {
            self.keep = self.pos;
        }
    }

    fn syntax(&self, what: impl Into<String>) -> ScanError {
        ScanError::Syntax {
            line: self.line,
            what: what.into(),
        }
    }

    /// Skips whitespace; the next byte, or `None` at the end of input.
    fn next_token(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.byte_at(0)? {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.advance(1),
                // A byte order mark at the start of a file.
                Some(0xEF) if self.bytes_at_is_bom()? => self.advance(3),
                other => return Ok(other),
            }
        }
    }

    fn bytes_at_is_bom(&mut self) -> io::Result<bool> {
        Ok(self.byte_at(1)? == Some(0xBB) && self.byte_at(2)? == Some(0xBF))
    }

    /// The length of the value starting at `pos` (which must be its first byte), reading more
    /// when needed. Only the structure is checked.
    fn value_len(&mut self) -> Result<usize, ScanError> {
        let first = self
            .byte_at(0)?
            .ok_or_else(|| self.syntax("the input ends early"))?;
        match first {
            b'"' => self.string_len(0),
            b'{' | b'[' => self.nested_len(),
            _ => {
                // A number, `true`, `false` or `null`: up to the next delimiter.
                let mut rel = 0;
                while let Some(b) = self.byte_at(rel)? {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    rel += 1;
                    if rel > 1024 {
                        return Err(self.syntax("not JSON"));
                    }
                }
                if !matches!(first, b'-' | b'0'..=b'9' | b't' | b'f' | b'n') {
                    return Err(self.syntax(format!(
                        "not JSON (found `{}`)",
                        String::from_utf8_lossy(&self.buf[self.pos..self.pos + rel.max(1)])
                            .chars()
                            .take(20)
                            .collect::<String>()
                    )));
                }
                Ok(rel)
            }
        }
    }

    /// The length of the string starting at `pos + from` (its opening quote), quotes included.
    fn string_len(&mut self, from: usize) -> Result<usize, ScanError> {
        let mut rel = from + 1;
        loop {
            if self.pos + rel >= self.end && !self.fill()? {
                return Err(self.syntax("the input ends inside a string"));
            }
            if rel - from > MAX_ELEMENT {
                return Err(self.syntax(format!(
                    "a string longer than {} MiB: not a log record",
                    MAX_ELEMENT >> 20
                )));
            }
            let hay = &self.buf[self.pos + rel..self.end];
            match memchr::memchr2(b'"', b'\\', hay) {
                Some(i) if hay[i] == b'"' => return Ok(rel + i + 1 - from),
                Some(i) => {
                    // An escape: skip it and the escaped byte.
                    rel += i + 2;
                }
                None => rel += hay.len(),
            }
        }
    }

    /// The length of the object or array starting at `pos`.
    fn nested_len(&mut self) -> Result<usize, ScanError> {
        let mut depth = 0usize;
        let mut rel = 0;
        loop {
            if self.pos + rel >= self.end && !self.fill()? {
                return Err(self.syntax("the input ends inside an object or array"));
            }
            if rel > MAX_ELEMENT {
                return Err(self.syntax(format!(
                    "one value is larger than {} MiB: not a log record",
                    MAX_ELEMENT >> 20
                )));
            }
            let b = self.buf[self.pos + rel];
            match b {
                b'"' => {
                    rel += self.string_len(rel)?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(rel + 1);
                    }
                }
                _ => {}
            }
            rel += 1;
        }
    }

    /// Hands every element of the input to `sink`, in order.
    pub(crate) fn run(&mut self, sink: &mut Sink<'_>) -> Result<(), ScanError> {
        while let Some(b) = self.next_token()? {
            match b {
                b'{' => self.object(sink)?,
                b'[' => self.array(sink)?,
                _ => {
                    let _ = self.value_len()?;
                    return Err(self.syntax("expected a JSON object or array"));
                }
            }
        }
        Ok(())
    }

    /// Each value of the array at `pos` is an element.
    fn array(&mut self, sink: &mut Sink<'_>) -> Result<(), ScanError> {
        self.advance(1);
        loop {
            match self.next_token()? {
                Some(b']') => {
                    self.advance(1);
                    return Ok(());
                }
                Some(b',') => self.advance(1),
                Some(_) => self.element(sink)?,
                None => return Err(self.syntax("the input ends inside an array")),
            }
        }
    }

    /// One element at `pos`: handed over, then skipped.
    fn element(&mut self, sink: &mut Sink<'_>) -> Result<(), ScanError> {
        let len = self.value_len()?;
        let line = self.line;
        sink(&self.buf[self.pos..self.pos + len], line);
        self.advance(len);
        Ok(())
    }

    /// A top-level object: its record arrays are streamed; without one, the whole object is
    /// one element.
    fn object(&mut self, sink: &mut Sink<'_>) -> Result<(), ScanError> {
        // Held until a record array is found: the object may be a record itself. `keep`
        // stays at its start (reading more input moves both).
        let start_line = self.line;
        self.pinned = true;
        self.keep = self.pos;
        let mut streamed = false;
        self.advance(1);
        loop {
            match self.next_token()? {
                Some(b'}') => {
                    self.advance(1);
                    break;
                }
                Some(b',') => self.advance(1),
                Some(b'"') => {
                    let klen = self.string_len(0)?;
                    let is_records = {
                        let key = &self.buf[self.pos + 1..self.pos + klen - 1];
                        RECORD_ARRAYS.contains(&key)
                    };
                    self.advance(klen);
                    if self.next_token()? != Some(b':') {
                        return Err(self.syntax("expected `:` after a key"));
                    }
                    self.advance(1);
                    match self.next_token()? {
                        Some(b'[') if is_records => {
                            if !streamed {
                                streamed = true;
                                self.pinned = false;
                                self.keep = self.pos;
                            }
                            self.array(sink)?;
                        }
                        Some(_) => {
                            let len = self.value_len()?;
                            self.advance(len);
                        }
                        None => return Err(self.syntax("the input ends inside an object")),
                    }
                }
                Some(_) => return Err(self.syntax("expected a key")),
                None => return Err(self.syntax("the input ends inside an object")),
            }
            if !streamed && self.pos - self.keep > MAX_ELEMENT {
                return Err(self.syntax(format!(
                    "an object larger than {} MiB without a `Records` array: not a log file",
                    MAX_ELEMENT >> 20
                )));
            }
        }
        if !streamed {
            self.pinned = false;
            sink(&self.buf[self.keep..self.pos], start_line);
        }
        self.keep = self.pos;
        Ok(())
    }
}
