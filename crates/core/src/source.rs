//! The interface of an evidence source: what a program implements to feed its own uploads and
//! evidence to a [`Diagnoser`](crate::Diagnoser). Core does no I/O, so this is only the
//! contract; the sources are crates of their own (`why403-fixtures-source` reads scenario
//! files, `why403-aws-source` reads AWS) or code in the program that embeds why403.

use crate::evidence::Evidence;
use crate::upload::UploadRequest;

/// A source of one upload and the evidence about it.
///
/// A source knows which upload it describes: a scenario file holds it, a program's source is
/// made for it. [`read`](Source::read) returns the upload (with what the source knows about it
/// filled in: the caller, the headers, the time) and its [`Evidence`], ready for
/// [`Diagnoser::diagnose`](crate::Diagnoser::diagnose). A fact the source could not read is
/// [`Slot::Unavailable`](crate::evidence::Slot::Unavailable) with the reason, never "none"
/// ([`Evidence::builder`] ends with an explicit `rest_absent()` or `rest_unavailable(reason)`);
/// an error is for a failure that leaves nothing to diagnose.
///
/// The trait is synchronous: core has no async runtime, and a source that reads a file or
/// memory needs none. The live AWS source is async and stays outside it: an async program
/// awaits `why403_aws_source::collect` and hands its request and evidence to the
/// [`Diagnoser`](crate::Diagnoser) itself, as the `why403` binary does.
///
/// The [crate documentation](crate) has a source implemented in a few lines.
pub trait Source {
    /// Why nothing could be read.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Reads the upload and the evidence about it.
    fn read(&mut self) -> Result<(UploadRequest, Evidence), Self::Error>;
}
