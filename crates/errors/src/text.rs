//! Pasted text with its whitespace normalised and its line breaks remembered, and a keyword
//! matcher that reads through the line breaks a terminal or a log viewer puts anywhere, even in
//! the middle of a word or an ARN.

/// Text whose whitespace runs are single spaces. A space that stood for a run containing a
/// line break is *soft*: it may be an artefact of wrapping, so keywords match across it and
/// ARNs are joined over it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Text {
    s: String,
    /// One flag per byte of `s`: the byte is a soft space.
    soft: Vec<bool>,
}

/// Builds a [`Text`] byte by byte (for unescaped XML and JSON strings).
#[derive(Debug, Default)]
pub(crate) struct Builder {
    bytes: Vec<u8>,
    soft: Vec<bool>,
    /// A space is pending (not written until something follows it).
    pending: Option<bool>,
}

impl Builder {
    /// Adds a character; whitespace collapses with its neighbours.
    pub(crate) fn push(&mut self, c: char, line_break: bool) {
        if c.is_whitespace() {
            let brk = line_break || c == '\n' || c == '\r';
            self.pending = Some(self.pending.unwrap_or(false) || brk);
            return;
        }
        if let Some(brk) = self.pending.take()
            && !self.bytes.is_empty()
        {
            self.bytes.push(b' ');
            self.soft.push(brk);
        }
        let mut buf = [0u8; 4];
        for b in c.encode_utf8(&mut buf).bytes() {
            self.bytes.push(b);
            self.soft.push(false);
        }
    }

    /// Adds a space, soft or hard.
    pub(crate) fn space(&mut self, soft: bool) {
        self.pending = Some(self.pending.unwrap_or(false) || soft);
    }

    pub(crate) fn finish(self) -> Text {
        // Only whole characters were pushed, so the bytes are UTF-8.
        let s = String::from_utf8(self.bytes).unwrap_or_default();
        let soft = if s.is_empty() { Vec::new() } else { self.soft };
        Text { s, soft }
    }
}

/// Words that follow an ARN in AWS messages and never continue one, so a line break before
/// them ends the ARN.
const STOPWORDS: &[&str] = &[
    "go", "for", "or", "and", "with", "because", "on", "is", "the", "to", "at", "in", "an", "a",
    "status", "request", "caused", "error", "api", "upload", "please", "see",
];

impl Text {
    /// Normalises pasted text: trims it and collapses every whitespace run to one space, soft
    /// when the run held a line break.
    pub(crate) fn new(raw: &str) -> Text {
        let mut b = Builder::default();
        for c in raw.chars() {
            b.push(c, false);
        }
        b.finish()
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.s
    }

    pub(crate) fn len(&self) -> usize {
        self.s.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.s.is_empty()
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.s.as_bytes().get(i).copied()
    }

    pub(crate) fn is_soft(&self, i: usize) -> bool {
        self.soft.get(i).copied().unwrap_or(false)
    }

    /// Where `pat` (ASCII, case-insensitive) ends when it matches at `i`. A space in the
    /// pattern matches one space or none; soft spaces in the text are skipped anywhere.
    pub(crate) fn match_at(&self, i: usize, pat: &str) -> Option<usize> {
        let mut j = i;
        for p in pat.bytes() {
            if p == b' ' {
                if self.byte(j) == Some(b' ') {
                    j += 1;
                }
                continue;
            }
            while self.byte(j) == Some(b' ') && self.is_soft(j) {
                j += 1;
            }
            if !self.byte(j)?.eq_ignore_ascii_case(&p) {
                return None;
            }
            j += 1;
        }
        Some(j)
    }

    /// The first match of `pat` starting in `from..to` and ending by `to`, as (start, end).
    /// A pattern that starts with a letter or digit only matches at the start of a word.
    pub(crate) fn find(&self, from: usize, to: usize, pat: &str) -> Option<(usize, usize)> {
        let word = pat
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
        self.find_from(from, to, pat, word)
    }

    /// Like [`Text::find`], but also inside a word (`AmazonS3Exception:` for `Exception:`).
    pub(crate) fn find_raw(&self, from: usize, to: usize, pat: &str) -> Option<(usize, usize)> {
        self.find_from(from, to, pat, false)
    }

    fn find_from(&self, from: usize, to: usize, pat: &str, word: bool) -> Option<(usize, usize)> {
        let bytes = self.s.as_bytes();
        let to = to.min(bytes.len());
        let first = *pat.as_bytes().first()?;
        let mut i = from;
        while i < to {
            let b = bytes[i];
            if b.eq_ignore_ascii_case(&first)
                && (!word || i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
                && let Some(end) = self.match_at(i, pat)
                && end <= to
            {
                return Some((i, end));
            }
            i += 1;
        }
        None
    }

    /// The last match of `pat` that starts in `from..to` and ends by `to`, inside words too.
    pub(crate) fn rfind(&self, from: usize, to: usize, pat: &str) -> Option<(usize, usize)> {
        let mut last = None;
        let mut at = from;
        while let Some((s, e)) = self.find_raw(at, to, pat) {
            last = Some((s, e));
            at = s + 1;
        }
        last
    }

    /// Whether `pat` occurs anywhere.
    pub(crate) fn contains(&self, pat: &str) -> bool {
        self.find(0, self.len(), pat).is_some()
    }

    /// The character at byte `i` and its length, if `i` starts one.
    pub(crate) fn char_at(&self, i: usize) -> Option<(char, usize)> {
        let c = self.s.get(i..)?.chars().next()?;
        Some((c, c.len_utf8()))
    }

    /// The position after the spaces at `i`.
    pub(crate) fn skip_spaces(&self, mut i: usize) -> usize {
        while self.byte(i) == Some(b' ') {
            i += 1;
        }
        i
    }

    /// The text of `a..b` with every space removed (for ARNs, actions, codes and ids, which
    /// never contain one).
    pub(crate) fn compact(&self, a: usize, b: usize) -> String {
        self.collect(a, b, |_, _| false)
    }

    /// The text of `a..b` with soft spaces removed and hard ones kept (for S3 object keys,
    /// which may contain spaces), trimmed.
    pub(crate) fn unwrap(&self, a: usize, b: usize) -> String {
        self.collect(a, b, |t, i| !t.is_soft(i)).trim().to_owned()
    }

    /// The text of `a..b` as normalised (every space kept), trimmed.
    pub(crate) fn plain(&self, a: usize, b: usize) -> String {
        self.collect(a, b, |_, _| true).trim().to_owned()
    }

    fn collect(&self, a: usize, b: usize, keep_space: impl Fn(&Text, usize) -> bool) -> String {
        let b = b.min(self.len());
        let mut out = Vec::with_capacity(b.saturating_sub(a));
        for i in a..b {
            let c = self.s.as_bytes()[i];
            if c != b' ' || keep_space(self, i) {
                out.push(c);
            }
        }
        // Only ASCII spaces were dropped, and `a`/`b` fall on ASCII bytes or the ends, so the
        // rest is UTF-8; a lossy conversion keeps this panic-free whatever the positions.
        String::from_utf8_lossy(&out).into_owned()
    }

    /// A copy of `a..b`, soft spaces kept.
    pub(crate) fn slice(&self, a: usize, b: usize) -> Text {
        let b = b.min(self.len());
        if a >= b {
            return Text::default();
        }
        let mut t = Builder::default();
        let mut i = a;
        while i < b {
            let c = self.s.as_bytes()[i];
            if c == b' ' {
                t.space(self.is_soft(i));
                i += 1;
                continue;
            }
            // Copy one whole character.
            let len = utf8_len(c);
            let end = (i + len).min(b);
            if let Some(ch) = self.s.get(i..end).and_then(|s| s.chars().next()) {
                t.push(ch, false);
            }
            i = end;
        }
        t.finish()
    }

    /// An ARN or id at `i`: the bytes up to a space or a stop byte, joined over soft spaces
    /// when what follows the line break still looks like part of it. Returns the token and
    /// where it ends.
    pub(crate) fn token(&self, i: usize, stops: &[u8]) -> (String, usize) {
        let bytes = self.s.as_bytes();
        let stop = |b: u8| b == b' ' || stops.contains(&b);
        let mut out = String::new();
        let mut j = i;
        loop {
            let start = j;
            while j < bytes.len() && !stop(bytes[j]) {
                j += 1;
            }
            out.push_str(&self.compact(start, j));
            if j >= bytes.len() || bytes[j] != b' ' || !self.is_soft(j) || out.ends_with('.') {
                break;
            }
            let next = j + 1;
            let mut k = next;
            while k < bytes.len() && !stop(bytes[k]) {
                k += 1;
            }
            let frag = self.s.get(next..k).unwrap_or_default();
            let arnish = !frag.is_empty()
                && frag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@/:-*".contains(&b));
            // A stop word ends the token, unless the token cannot end here (it ends with
            // `-`, `:` or `/`) or the word is itself cut by another line break: a wrap can
            // leave `a` or `in` alone on a line in the middle of an ARN.
            let cut_again = k < bytes.len() && bytes[k] == b' ' && self.is_soft(k);
            let open = out.ends_with(['-', ':', '/']);
            let stop_word = STOPWORDS.iter().any(|w| frag.eq_ignore_ascii_case(w));
            if !arnish || (stop_word && !open && !cut_again) {
                break;
            }
            j = next;
        }
        (out, j)
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::Text;

    #[test]
    fn whitespace_collapses_and_line_breaks_are_soft() {
        let t = Text::new("  a \t b\n  c  ");
        assert_eq!(t.as_str(), "a b c");
        assert!(!t.is_soft(1));
        assert!(t.is_soft(3));
    }

    #[test]
    fn keywords_match_through_line_breaks_anywhere() {
        let t = Text::new("User: x is not autho\nrized to perform: s3:PutObject");
        assert!(
            t.find(0, t.len(), "is not authorized to perform:")
                .is_some()
        );
        let t = Text::new("with an explicit\ndeny in a resource-\nbased policy");
        assert!(t.contains("with an explicit deny in a resource-based policy"));
        // A hard space inside a word is a different word.
        assert!(!Text::new("autho rized").contains("authorized"));
    }

    #[test]
    fn matching_is_case_insensitive_and_starts_at_words() {
        let t = Text::new("xUser: a USER: b");
        assert_eq!(t.find(0, t.len(), "user:"), Some((9, 14)));
    }

    #[test]
    fn tokens_join_over_line_breaks_but_stop_at_words() {
        let t = Text::new(
            "arn:aws:organizations::111122223333:policy/o-a1b2c3d4e5/service_con\ntrol_policy/p-12345678. Go to",
        );
        let (tok, _) = t.token(0, b"\"<");
        assert_eq!(
            tok,
            "arn:aws:organizations::111122223333:policy/o-a1b2c3d4e5/service_control_policy/p-12345678."
        );
        let t = Text::new("arn:aws:iam::111122223333:policy/Deny\nGo to the console");
        assert_eq!(t.token(0, b"").0, "arn:aws:iam::111122223333:policy/Deny");
    }

    #[test]
    fn slices_keep_soft_spaces_and_multibyte_text() {
        let t = Text::new("é a\nb ü");
        let s = t.slice(0, t.len());
        assert_eq!(s, t);
        assert_eq!(t.compact(0, t.len()), "éabü");
        assert_eq!(t.unwrap(0, t.len()), "é ab ü");
    }
}
