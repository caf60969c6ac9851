//! Standard output, the same way for every subcommand: the reader going away (`| head`) ends
//! the output quietly, and any other failure (`> /dev/full`) is an error message, never a
//! panic (as `print!` would give).

use std::io::{self, Write};

use anyhow::Context as _;

/// Writes `text` to standard output and flushes it.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    written(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// Writes `bytes` to standard output and flushes it.
pub(crate) fn print_bytes(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    written(out.write_all(bytes).and_then(|()| out.flush()))
}

/// The outcome of a write to standard output.
pub(crate) fn written(result: io::Result<()>) -> anyhow::Result<()> {
    match result {
        // The reader went away: nothing left to tell it.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}
