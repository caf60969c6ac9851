//! A one-pass reader of the `request` member for the common shape of a record: strings
//! without surprises, scalar context values. It returns `None` on anything else (a duplicate
//! member or context key, a member it does not know, a `null` context value, a type it does not expect, an escape it
//! would have to decode, a control character), and the caller then reads the member with
//! serde, which gives the same result or the proper error. So the two readers cannot disagree on what a valid request means.

use std::borrow::Cow;

use super::scan::{skip_number, skip_ws};
use crate::context::RequestContext;
use crate::eval::{Request, RequestPrincipal};

struct Rd<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Rd<'a> {
    #[inline(always)]
    fn ws(&mut self) {
        self.i = skip_ws(self.b, self.i);
    }

    #[inline(always)]
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// A string with no escapes, borrowed from the text.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        self.ws();
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        // Control characters (invalid in strings) are checked once for the whole request.
        let end = start + memchr::memchr2(b'"', b'\\', &self.b[start..])?;
        if self.b[end] != b'"' {
            return None;
        }
        self.i = end + 1;
        Some(&self.s[start..end])
    }

    /// `true`, `false` or `null` (as `None`).
    fn literal(&mut self) -> Option<Option<bool>> {
        self.ws();
        let rest = &self.b[self.i..];
        let (v, n) = if rest.starts_with(b"true") {
            (Some(true), 4)
        } else if rest.starts_with(b"false") {
            (Some(false), 5)
        } else if rest.starts_with(b"null") {
            (None, 4)
        } else {
            return None;
        };
        self.i += n;
        Some(v)
    }

    fn opt_string(&mut self) -> Option<Option<&'a str>> {
        match self.peek()? {
            b'"' => self.string().map(Some),
            b'n' => match self.literal()? {
                None => Some(None),
                Some(_) => None,
            },
            _ => None,
        }
    }

    fn bool(&mut self) -> Option<bool> {
        self.literal()?
    }

    /// A scalar context value as text (numbers as serde writes them back), `None` for null.
    fn scalar(&mut self) -> Option<Option<Cow<'a, str>>> {
        match self.peek()? {
            b'"' => self.string().map(|s| Some(Cow::Borrowed(s))),
            b't' | b'f' | b'n' => Some(
                self.literal()?
                    .map(|v| Cow::Borrowed(if v { "true" } else { "false" })),
            ),
            b'-' | b'0'..=b'9' => {
                let end = skip_number(self.b, self.i).ok()?;
                let text = &self.s[self.i..end];
                self.i = end;
                // Plain integers read back as written, and so do short decimals without trailing
                // zeros (`1.3`: at most 15 significant digits round-trip, and serde writes the
                // shortest form, in plain notation for these magnitudes). Anything else takes
                // serde's way.
                let plain = text.bytes().all(|c| c.is_ascii_digit())
                    && (text.len() == 1 || !text.starts_with('0'))
                    && text.len() < 19;
                let decimal = text.split_once('.').is_some_and(|(int, frac)| {
                    (1..=9).contains(&int.len())
                        && !int.starts_with('0')
                        && int.bytes().all(|c| c.is_ascii_digit())
                        && (1..=6).contains(&frac.len())
                        && frac.bytes().all(|c| c.is_ascii_digit())
                        && !frac.ends_with('0')
                });
                if plain || decimal {
                    Some(Some(Cow::Borrowed(text)))
                } else {
                    match serde_json::from_str::<super::record::ValueIn>(text).ok()? {
                        super::record::ValueIn::One(v) => Some(Some(Cow::Owned(v))),
                        _ => None,
                    }
                }
            }
            _ => None,
        }
    }

    fn context(&mut self, mut c: RequestContext) -> Option<RequestContext> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(c);
        }
        loop {
            let k = self.string()?;
            self.eat(b':')?;
            // A key given twice (in any case) is an error serde's reader reports: every key
            // must add an entry, and a `null` (which adds none) is left to serde too.
            let before = c.len();
            if self.peek()? == b'[' {
                self.i += 1;
                let mut vs = Vec::new();
                if self.eat(b']').is_none() {
                    loop {
                        // Nested arrays and objects are left to serde.
                        if let Some(v) = self.scalar()? {
                            vs.push(v);
                        }
                        match self.peek()? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                let refs: Vec<&str> = vs.iter().map(|v| &**v).collect();
                c.insert_strs(k, &refs, true);
            } else {
                let v = self.scalar()??;
                c.insert_strs(k, &[&v], false);
            }
            if c.len() == before {
                return None;
            }
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(c);
                }
                _ => return None,
            }
        }
    }
}

/// Reads the `request` object starting at `i` of `line`; returns the request and the index
/// after it, or `None` when serde must read it. `ctx` is an empty (possibly recycled) context
/// to fill.
pub(crate) fn request(line: &str, i: usize, ctx: RequestContext) -> Option<(Request, usize)> {
    let mut ctx = Some(ctx);
    let mut r = Rd {
        s: line,
        b: line.as_bytes(),
        i,
    };
    let mut principal = None;
    let mut anonymous = None;
    let mut action = None;
    let mut resource = None;
    let mut resource_account = None;
    let mut context = None;
    let mut wildcard_only = None;
    // A member given twice is an error for serde: leave it to serde.
    fn once<T>(slot: &mut Option<T>, v: T) -> Option<()> {
        slot.is_none().then(|| *slot = Some(v))
    }
    r.eat(b'{')?;
    if r.eat(b'}').is_none() {
        loop {
            let key = r.string()?;
            r.eat(b':')?;
            match key {
                "principal" => once(&mut principal, r.opt_string()?)?,
                "anonymous" => once(&mut anonymous, r.bool()?)?,
                "action" => once(&mut action, r.string()?)?,
                "resource" => once(&mut resource, r.string()?)?,
                "resource_account" => once(&mut resource_account, r.opt_string()?)?,
                "context" => once(&mut context, r.context(ctx.take()?)?)?,
                "wildcard_only_action" => once(&mut wildcard_only, r.bool()?)?,
                // Another member could be given twice, which is an error serde's reader
                // reports.
                _ => return None,
            }
            match r.peek()? {
                b',' => r.i += 1,
                b'}' => {
                    r.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    // A control character anywhere (even tab or CR between tokens) sends the request to
    // serde, which rejects those inside strings. One pass without early exit vectorises.
    if r.b[i..r.i].iter().fold(0u8, |a, &c| a | u8::from(c < 0x20)) != 0 {
        return None;
    }
    let principal = if anonymous.unwrap_or(false) {
        None
    } else {
        principal.flatten()
    };
    let mut req = Request::new(
        RequestPrincipal::parse(principal),
        action?,
        resource?,
        context.unwrap_or_default(),
    );
    req.resource_account = resource_account.flatten().map(str::to_owned);
    req.wildcard_only_action = wildcard_only.unwrap_or(false);
    Some((req, r.i))
}
