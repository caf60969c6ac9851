//! Client profiles: what the S3 console, `aws s3 cp` and the AWS SDKs send for an upload, so
//! that a diagnosis can model the request a person actually made. [`apply`] adjusts the
//! request (single PUT or multipart, credential kind) and returns notes stating each
//! assumption; docs/clients.md gives their sources.

use crate::upload::{Credentials, Operation, UploadRequest};

/// The client that sent the upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// The S3 console in a browser.
    Console,
    /// The AWS CLI high-level commands (`aws s3 cp`, `mv`, `sync`).
    Cli,
    /// An AWS SDK calling `PutObject` directly (no transfer manager).
    Sdk,
}

impl Client {
    /// The client in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Client::Console => "the S3 console",
            Client::Cli => "`aws s3 cp`",
            Client::Sdk => "an AWS SDK",
        }
    }
}

/// S3's largest single `PutObject` (5 GiB); larger objects must be uploaded in parts.
pub const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// `aws s3` default `multipart_threshold` (`8MB`, read as MiB by the CLI).
pub const CLI_MULTIPART_THRESHOLD: u64 = 8 * 1024 * 1024;

/// `aws s3` default `multipart_chunksize` (`8MB`).
pub const CLI_MULTIPART_CHUNKSIZE: u64 = 8 * 1024 * 1024;

/// The threshold assumed for the console (undocumented): the AWS SDK for JavaScript's
/// managed upload default part size (5 MiB), above which it uploads in parts.
pub const CONSOLE_MULTIPART_THRESHOLD: u64 = 5 * 1024 * 1024;

/// Models the upload as `client` sends it, for an object of `size` bytes when known: sets
/// single PUT or multipart, and for the console temporary credentials with MFA (unless the
/// request already says temporary credentials without MFA). Headers are left as given: each
/// client sends encryption and ACL headers only when asked to. Returns one note per
/// assumption, in house style.
pub fn apply(request: &mut UploadRequest, client: Client, size: Option<u64>) -> Vec<String> {
    let mut notes = Vec::new();
    let name = client.describe();
    let threshold = match client {
        Client::Console => Some(CONSOLE_MULTIPART_THRESHOLD),
        Client::Cli => Some(CLI_MULTIPART_THRESHOLD),
        Client::Sdk => None,
    };
    match (size, threshold) {
        (Some(s), Some(t)) => {
            let multipart = s >= t;
            request.operation = if multipart {
                Operation::Multipart
            } else {
                Operation::PutObject
            };
            let source = match client {
                Client::Console => {
                    "an assumption: the console's threshold is undocumented; why403 takes the AWS SDK for JavaScript's 5 MiB part size"
                }
                _ => "the AWS CLI's default `multipart_threshold` of `8MB`",
            };
            notes.push(format!(
                "{name} uploads {s} bytes {} ({} {t} bytes, {source})",
                if multipart {
                    "as a multipart upload"
                } else {
                    "with one `PutObject`"
                },
                if multipart { "at or above" } else { "below" },
            ));
        }
        (Some(s), None) if s > MAX_SINGLE_PUT => {
            request.operation = Operation::Multipart;
            notes.push(format!(
                "{name} must upload {s} bytes in parts: one `PutObject` takes at most 5 GiB"
            ));
        }
        (Some(_), None) => {
            request.operation = Operation::PutObject;
            notes.push(format!(
                "{name} sends one `PutObject` unless the caller uses a transfer manager (give `--multipart` or a scenario `operation` for that)"
            ));
        }
        (None, _) => notes.push(format!(
            "the object's size is not given (`--size`): the upload is kept as a {}",
            request.operation.as_str()
        )),
    }
    if request.operation == Operation::Multipart {
        notes.push(
            "a multipart upload to an SSE-KMS bucket also needs `kms:Decrypt` (each `UploadPart` decrypts the upload's data key)"
                .to_owned(),
        );
    }
    match client {
        Client::Console => {
            if request.credentials != Credentials::Temporary {
                request.credentials = Credentials::TemporaryWithMfa;
            }
            notes.push(format!(
                "the console signs with the signed-in session's temporary credentials ({})",
                if request.credentials == Credentials::TemporaryWithMfa {
                    "assumed signed in with MFA: `aws:MultiFactorAuthPresent` is `true`"
                } else {
                    "without MFA, as the request says"
                }
            ));
            if request.header("x-amz-server-side-encryption").is_none() {
                notes.push(
                    "with encryption set to \"use bucket settings\" the console sends no `x-amz-server-side-encryption` header"
                        .to_owned(),
                );
            }
        }
        Client::Cli => notes.push(
            "`aws s3 cp` sends encryption, ACL and other headers only for the options given (`--sse`, `--sse-kms-key-id`, `--acl`...): the request's headers are taken as those options"
                .to_owned(),
        ),
        Client::Sdk => notes.push(
            "an SDK sends only the headers the caller sets: the request's headers are taken as those"
                .to_owned(),
        ),
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_uses_multipart_from_8_mib() {
        let mut r = UploadRequest::new("b", "k");
        apply(&mut r, Client::Cli, Some(CLI_MULTIPART_THRESHOLD - 1));
        assert_eq!(r.operation, Operation::PutObject);
        apply(&mut r, Client::Cli, Some(20_000_000));
        assert_eq!(r.operation, Operation::Multipart);
    }

    #[test]
    fn the_console_signs_with_mfa_session_credentials() {
        let mut r = UploadRequest::new("b", "k");
        let notes = apply(&mut r, Client::Console, None);
        assert_eq!(r.credentials, Credentials::TemporaryWithMfa);
        assert!(notes.iter().any(|n| n.contains("use bucket settings")));
        let mut r = UploadRequest {
            credentials: Credentials::Temporary,
            ..UploadRequest::new("b", "k")
        };
        apply(&mut r, Client::Console, None);
        assert_eq!(r.credentials, Credentials::Temporary);
    }

    #[test]
    fn an_sdk_sends_one_put_unless_too_large() {
        let mut r = UploadRequest::new("b", "k");
        apply(&mut r, Client::Sdk, Some(100_000_000));
        assert_eq!(r.operation, Operation::PutObject);
        apply(&mut r, Client::Sdk, Some(MAX_SINGLE_PUT + 1));
        assert_eq!(r.operation, Operation::Multipart);
    }
}
