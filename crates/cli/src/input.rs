//! Reading a pasted AWS error (`explain`, `diagnose --error-file`): bounded, and saying so when
//! the input is cut.

use std::io::{self, Read};

/// Input larger than this is cut (error messages are short; CloudTrail files can be large).
pub(crate) const MAX_ERROR_INPUT: u64 = 16 * 1024 * 1024;

/// Reads up to [`MAX_ERROR_INPUT`] bytes of `what` (a file name or "standard input"); invalid
/// UTF-8 is replaced, not refused (an error message is read for its words). Says on standard
/// error when the rest was left unread.
pub(crate) fn read_error_text(r: impl Read, what: &str) -> io::Result<String> {
    let mut bytes = Vec::new();
    r.take(MAX_ERROR_INPUT + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_ERROR_INPUT {
        bytes.truncate(MAX_ERROR_INPUT as usize);
        eprintln!(
            "why403: warning: {what} is longer than {} MiB: only its first {} MiB are read",
            MAX_ERROR_INPUT >> 20,
            MAX_ERROR_INPUT >> 20
        );
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
