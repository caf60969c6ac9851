//! A change of the request in the terms of the client that sends it (docs/clients.md gives the
//! sources): the S3 console's upload dialog, the AWS CLI (`aws s3 cp`, `aws s3api
//! put-object`), the SDKs' `PutObject` parameters and boto3's `ExtraArgs`.

use crate::analysis::Analysis;
use crate::client::Client;
use crate::finding::Change;

use super::{Actor, ActorKind, ClientStep, Step};

/// What one request header is in each client.
struct Header {
    /// The header, lower case; a name ending in `*` is a prefix (`x-amz-meta-*`).
    name: &'static str,
    /// The `PutObject` parameter (the API's member name, which the SDKs and boto3 use).
    member: &'static str,
    /// The `aws s3api put-object` option.
    s3api: &'static str,
    /// The `aws s3 cp` option, when it has one; `=` after it takes the value.
    cp: Option<&'static str>,
    /// Where the console's upload dialog sets it; `None` when it does not.
    console: Option<&'static str>,
}

const HEADERS: &[Header] = &[
    Header {
        name: "x-amz-server-side-encryption",
        member: "ServerSideEncryption",
        s3api: "--server-side-encryption",
        cp: Some("--sse"),
        console: Some(
            "Properties → Server-side encryption → \"Specify an encryption key\" → \"Override bucket settings for default encryption\" → Encryption type",
        ),
    },
    Header {
        name: "x-amz-server-side-encryption-aws-kms-key-id",
        member: "SSEKMSKeyId",
        s3api: "--ssekms-key-id",
        cp: Some("--sse-kms-key-id"),
        console: Some(
            "Properties → Server-side encryption → \"Specify an encryption key\" → \"Override bucket settings for default encryption\" → AWS KMS key → \"Enter AWS KMS key ARN\"",
        ),
    },
    Header {
        name: "x-amz-server-side-encryption-bucket-key-enabled",
        member: "BucketKeyEnabled",
        s3api: "--bucket-key-enabled",
        cp: None,
        console: Some("Properties → Server-side encryption → Bucket Key"),
    },
    Header {
        name: "x-amz-server-side-encryption-context",
        member: "SSEKMSEncryptionContext",
        s3api: "--ssekms-encryption-context",
        cp: None,
        console: None,
    },
    Header {
        name: "x-amz-server-side-encryption-customer-algorithm",
        member: "SSECustomerAlgorithm",
        s3api: "--sse-customer-algorithm",
        cp: Some("--sse-c"),
        console: None,
    },
    Header {
        name: "x-amz-server-side-encryption-customer-key",
        member: "SSECustomerKey",
        s3api: "--sse-customer-key",
        cp: Some("--sse-c-key"),
        console: None,
    },
    Header {
        name: "x-amz-server-side-encryption-customer-key-md5",
        member: "SSECustomerKeyMD5",
        s3api: "--sse-customer-key-md5",
        cp: None,
        console: None,
    },
    Header {
        name: "x-amz-acl",
        member: "ACL",
        s3api: "--acl",
        cp: Some("--acl"),
        console: Some("Permissions → Access control list (ACL)"),
    },
    Header {
        name: "x-amz-grant-full-control",
        member: "GrantFullControl",
        s3api: "--grant-full-control",
        cp: None,
        console: Some("Permissions → Access control list (ACL)"),
    },
    Header {
        name: "x-amz-grant-read",
        member: "GrantRead",
        s3api: "--grant-read",
        cp: None,
        console: Some("Permissions → Access control list (ACL)"),
    },
    Header {
        name: "x-amz-grant-read-acp",
        member: "GrantReadACP",
        s3api: "--grant-read-acp",
        cp: None,
        console: Some("Permissions → Access control list (ACL)"),
    },
    Header {
        name: "x-amz-grant-write-acp",
        member: "GrantWriteACP",
        s3api: "--grant-write-acp",
        cp: None,
        console: Some("Permissions → Access control list (ACL)"),
    },
    Header {
        name: "x-amz-request-payer",
        member: "RequestPayer",
        s3api: "--request-payer",
        cp: Some("--request-payer"),
        console: None,
    },
    Header {
        name: "x-amz-expected-bucket-owner",
        member: "ExpectedBucketOwner",
        s3api: "--expected-bucket-owner",
        cp: None,
        console: None,
    },
    Header {
        name: "x-amz-storage-class",
        member: "StorageClass",
        s3api: "--storage-class",
        cp: Some("--storage-class"),
        console: Some("Properties → Storage class"),
    },
    Header {
        name: "x-amz-tagging",
        member: "Tagging",
        s3api: "--tagging",
        cp: None,
        console: Some("Properties → Tags"),
    },
    Header {
        name: "x-amz-object-lock-mode",
        member: "ObjectLockMode",
        s3api: "--object-lock-mode",
        cp: None,
        console: None,
    },
    Header {
        name: "x-amz-object-lock-retain-until-date",
        member: "ObjectLockRetainUntilDate",
        s3api: "--object-lock-retain-until-date",
        cp: None,
        console: None,
    },
    Header {
        name: "x-amz-object-lock-legal-hold",
        member: "ObjectLockLegalHoldStatus",
        s3api: "--object-lock-legal-hold-status",
        cp: None,
        console: None,
    },
    Header {
        name: "x-amz-sdk-checksum-algorithm",
        member: "ChecksumAlgorithm",
        s3api: "--checksum-algorithm",
        cp: Some("--checksum-algorithm"),
        console: Some("Properties → Checksums"),
    },
    Header {
        name: "content-md5",
        member: "ContentMD5",
        s3api: "--content-md5",
        cp: None,
        console: None,
    },
    Header {
        name: "content-type",
        member: "ContentType",
        s3api: "--content-type",
        cp: Some("--content-type"),
        console: Some("Properties → Metadata → Content-Type"),
    },
    Header {
        name: "if-none-match",
        member: "IfNoneMatch",
        s3api: "--if-none-match",
        cp: None,
        console: None,
    },
    Header {
        name: "x-amz-meta-*",
        member: "Metadata",
        s3api: "--metadata",
        cp: Some("--metadata"),
        console: Some("Properties → Metadata → User defined"),
    },
];

/// The row of a header name.
fn header(name: &str) -> Option<&'static Header> {
    let lower = name.to_ascii_lowercase();
    HEADERS.iter().find(|h| match h.name.strip_suffix('*') {
        Some(prefix) => lower.starts_with(prefix),
        None => lower == h.name,
    })
}

/// One header to send (`Some(value)`) or to stop sending (`None`).
struct Want {
    name: String,
    value: Option<String>,
}

/// The request's changes as one step, in the terms of `client` (without one: the headers and
/// the AWS CLI).
pub(super) fn request_step(
    analysis: &Analysis,
    changes: &[&Change],
    client: Option<Client>,
) -> Step {
    let mut wants: Vec<Want> = Vec::new();
    let mut https = false;
    // Where the upload comes from, and the directory bucket session: not headers.
    let mut vpc: Option<&str> = None;
    let mut session: Option<&str> = None;
    for c in changes {
        match c {
            Change::SetHeader { name, value } => wants.push(Want {
                name: name.to_ascii_lowercase(),
                value: Some(value.clone()),
            }),
            Change::RemoveHeader { name } => wants.push(Want {
                name: name.to_ascii_lowercase(),
                value: None,
            }),
            Change::UseKmsKey { arn, .. } => wants.push(Want {
                name: "x-amz-server-side-encryption-aws-kms-key-id".to_owned(),
                value: Some(arn.clone()),
            }),
            Change::UseHttps => https = true,
            Change::SendFromVpc { vpc: v } => vpc = Some(v),
            Change::UseSessionMode { mode } => session = Some(mode.as_str()),
            _ => {}
        }
    }
    let clients: &[Client] = match client {
        Some(Client::Console) => &[Client::Console],
        Some(Client::Cli) => &[Client::Cli],
        Some(Client::Sdk) => &[Client::Sdk],
        None => &[],
    };
    let mut out = Vec::new();
    if clients.is_empty() {
        // The step's summary is the header form.
        out.extend(cli(analysis, &wants, https));
    }
    for c in clients {
        match c {
            Client::Console => out.extend(console(analysis, &wants, https)),
            Client::Cli => out.extend(cli(analysis, &wants, https)),
            Client::Sdk => out.extend(sdk(&wants, https)),
        }
    }
    if let Some(v) = vpc {
        out.push(ClientStep {
            client: "network".to_owned(),
            text: format!(
                "send the upload from inside `{v}`, through an S3 VPC endpoint there: run the AWS CLI or the SDK on a host in that VPC (the console's upload, made from your browser, does not come from inside it)"
            ),
        });
    }
    if let Some(mode) = session {
        let bucket = &analysis.request.bucket;
        let text = match client {
            Some(Client::Console) => format!(
                "the console creates its own sessions; upload with the AWS CLI, whose `aws s3 cp` to a directory bucket makes `{mode}` sessions"
            ),
            Some(Client::Sdk) => format!(
                "let the SDK create the session (it asks for `{mode}` to upload), or call CreateSession with `SessionMode` = `{mode}`"
            ),
            _ => format!(
                "use a `{mode}` session: `aws s3 cp` makes one itself; by hand, `aws s3api create-session --bucket {bucket} --session-mode {mode}`"
            ),
        };
        out.push(ClientStep {
            client: "session".to_owned(),
            text,
        });
    }
    let mut summary: Vec<String> = wants
        .iter()
        .map(|w| match &w.value {
            Some(v) => format!("send `{}: {v}`", w.name),
            None => format!("stop sending `{}`", w.name),
        })
        .collect();
    if https {
        summary.push("send the upload over HTTPS".to_owned());
    }
    if let Some(v) = vpc {
        summary.push(format!("send it from inside `{v}`"));
    }
    if let Some(mode) = session {
        summary.push(format!("make the directory bucket session `{mode}`"));
    }
    Step {
        summary: format!("change the upload: {}", summary.join(", ")),
        actor: Actor {
            kind: ActorKind::Uploader,
            account: None,
            callers_account: None,
        },
        client: out,
        document: None,
        commands: Vec::new(),
        notes: Vec::new(),
    }
}

/// The console's upload dialog (Upload → Add files, then the sections named below).
fn console(analysis: &Analysis, wants: &[Want], https: bool) -> Vec<ClientStep> {
    let mut steps = Vec::new();
    let mut unsupported = Vec::new();
    // Encryption is one choice in the dialog: the type, then the key.
    let sse = wants
        .iter()
        .find(|w| w.name == "x-amz-server-side-encryption")
        .and_then(|w| w.value.as_deref());
    let key = wants
        .iter()
        .find(|w| w.name == "x-amz-server-side-encryption-aws-kms-key-id")
        .and_then(|w| w.value.as_deref());
    let kms_type = match sse {
        Some("aws:kms:dsse") => {
            "\"Dual-layer server-side encryption with AWS Key Management Service keys (DSSE-KMS)\""
        }
        _ => "\"Server-side encryption with AWS Key Management Service keys (SSE-KMS)\"",
    };
    let combined = match (sse, key) {
        (Some("aws:kms" | "aws:kms:dsse") | None, Some(arn)) => Some(format!(
            "in the upload dialog, Properties → Server-side encryption → \"Specify an encryption key\" → \"Override bucket settings for default encryption\" → Encryption type: {kms_type} → AWS KMS key: \"Enter AWS KMS key ARN\" → `{arn}`"
        )),
        _ => None,
    };
    let merged = combined.is_some();
    if let Some(text) = combined {
        steps.push(ClientStep {
            client: "console".to_owned(),
            text,
        });
    }
    for w in wants {
        if merged
            && w.value.is_some()
            && matches!(
                w.name.as_str(),
                "x-amz-server-side-encryption" | "x-amz-server-side-encryption-aws-kms-key-id"
            )
        {
            continue;
        }
        let Some(h) = header(&w.name).filter(|h| h.console.is_some()) else {
            unsupported.push(w);
            continue;
        };
        let place = h.console.unwrap_or_default();
        let text = match (h.name, w.value.as_deref()) {
            ("x-amz-server-side-encryption", Some("aws:kms")) => format!(
                "{place}: \"Server-side encryption with AWS Key Management Service keys (SSE-KMS)\""
            ),
            ("x-amz-server-side-encryption", Some("aws:kms:dsse")) => format!(
                "{place}: \"Dual-layer server-side encryption with AWS Key Management Service keys (DSSE-KMS)\""
            ),
            ("x-amz-server-side-encryption", Some("AES256")) => {
                format!("{place}: \"Server-side encryption with Amazon S3 managed keys (SSE-S3)\"")
            }
            ("x-amz-server-side-encryption", None) => {
                "Properties → Server-side encryption: \"Do not specify an encryption key\" (the bucket's default encryption applies)".to_owned()
            }
            ("x-amz-server-side-encryption-aws-kms-key-id", Some(arn)) => {
                format!("{place}: `{arn}`")
            }
            ("x-amz-server-side-encryption-bucket-key-enabled", Some(v)) => format!(
                "{place}: {}",
                if v.eq_ignore_ascii_case("true") {
                    "Enable"
                } else {
                    "Disable"
                }
            ),
            ("x-amz-acl", Some("bucket-owner-full-control")) => format!(
                "{place}: grant the bucket owner's account Full control (\"Specify individual ACL permissions\")"
            ),
            ("x-amz-acl", None) | ("x-amz-grant-read", None) | ("x-amz-grant-full-control", None) => {
                format!(
                    "{place}: \"Private (recommended)\" — do not grant public-read access or other grants"
                )
            }
            (_, Some(v)) => format!("{place}: `{v}`"),
            (_, None) => format!("{place}: leave it unset"),
        };
        steps.push(ClientStep {
            client: "console".to_owned(),
            text: format!("in the upload dialog, {text}"),
        });
    }
    if https {
        steps.push(ClientStep {
            client: "console".to_owned(),
            text: "the console always uploads over HTTPS: the upload that was refused was not sent by the console".to_owned(),
        });
    }
    if !unsupported.is_empty() {
        let names: Vec<String> = unsupported
            .iter()
            .map(|w| format!("`{}`", w.name))
            .collect();
        steps.push(ClientStep {
            client: "console".to_owned(),
            text: format!(
                "the console's upload dialog has no setting for {}: upload with the AWS CLI instead",
                names.join(", ")
            ),
        });
        let owned: Vec<Want> = unsupported
            .iter()
            .map(|w| Want {
                name: w.name.clone(),
                value: w.value.clone(),
            })
            .collect();
        steps.extend(cli(analysis, &owned, false));
    }
    steps
}

/// `aws s3 cp` when it has options for every header, else `aws s3api put-object`.
fn cli(analysis: &Analysis, wants: &[Want], https: bool) -> Vec<ClientStep> {
    let req = &analysis.request;
    let target = format!("s3://{}/{}", req.bucket, req.key);
    let all_cp = wants
        .iter()
        .all(|w| header(&w.name).is_some_and(|h| h.cp.is_some()));
    let mut steps = Vec::new();
    if all_cp {
        let mut opts = Vec::new();
        let mut drop = Vec::new();
        for w in wants {
            let Some(h) = header(&w.name) else { continue };
            let opt = h.cp.unwrap_or_default();
            match &w.value {
                Some(v) if h.name == "x-amz-meta-*" => opts.push(format!(
                    "{opt} {}={}",
                    w.name.trim_start_matches("x-amz-meta-"),
                    shell(v)
                )),
                Some(v) if h.name == "x-amz-server-side-encryption-customer-algorithm" => {
                    opts.push(format!("{opt} {}", shell(v)));
                }
                Some(v) => opts.push(format!("{opt} {}", shell(v))),
                None => drop.push(opt),
            }
        }
        let set = (!opts.is_empty()).then(|| format!("aws s3 cp FILE {target} {}", opts.join(" ")));
        let text = set_and_leave_out(set, &drop);
        if !text.is_empty() {
            steps.push(ClientStep {
                client: "aws s3 cp".to_owned(),
                text,
            });
        }
    } else if !wants.is_empty() {
        let mut opts = Vec::new();
        let mut drop = Vec::new();
        let mut unknown = Vec::new();
        for w in wants {
            match (header(&w.name), &w.value) {
                (Some(h), Some(v)) if h.name == "x-amz-meta-*" => opts.push(format!(
                    "--metadata {}={}",
                    w.name.trim_start_matches("x-amz-meta-"),
                    shell(v)
                )),
                (Some(h), Some(v))
                    if h.name == "x-amz-server-side-encryption-bucket-key-enabled" =>
                {
                    opts.push(if v.eq_ignore_ascii_case("true") {
                        "--bucket-key-enabled".to_owned()
                    } else {
                        "--no-bucket-key-enabled".to_owned()
                    });
                }
                (Some(h), Some(v)) => opts.push(format!("{} {}", h.s3api, shell(v))),
                (Some(h), None) => drop.push(h.s3api),
                (None, _) => unknown.push(w.name.clone()),
            }
        }
        let mut text = format!(
            "aws s3api put-object --bucket {} --key {} --body FILE {}",
            shell(&req.bucket),
            shell(&req.key),
            opts.join(" ")
        )
        .trim_end()
        .to_owned();
        if !drop.is_empty() {
            text.push_str(&format!("; leave out {}", drop.join(", ")));
        }
        steps.push(ClientStep {
            client: "aws s3api put-object".to_owned(),
            text,
        });
        if wants
            .iter()
            .any(|w| header(&w.name).is_some_and(|h| h.cp.is_none()) && w.value.is_some())
        {
            steps.push(ClientStep {
                client: "aws s3 cp".to_owned(),
                text: "`aws s3 cp` has no option for this header: use `aws s3api put-object` as above (it sends one PutObject; for files of 5 GiB or more, `aws s3api create-multipart-upload` takes the same options)".to_owned(),
            });
        }
        if !unknown.is_empty() {
            steps.push(ClientStep {
                client: "aws s3api put-object".to_owned(),
                text: format!(
                    "the AWS CLI has no option for {}: send it from an SDK (a custom header) instead",
                    unknown.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    if https {
        steps.push(ClientStep {
            client: "aws s3 cp".to_owned(),
            text: "send it to an `https://` endpoint: remove an `http://` `--endpoint-url` (or `endpoint_url` in the profile); the AWS CLI uses HTTPS by default".to_owned(),
        });
    }
    steps
}

/// The `PutObject` parameters by name, and boto3's `ExtraArgs`.
fn sdk(wants: &[Want], https: bool) -> Vec<ClientStep> {
    let mut params = Vec::new();
    let mut extra = Vec::new();
    let mut drop = Vec::new();
    for w in wants {
        match (header(&w.name), &w.value) {
            (Some(h), Some(v)) if h.name == "x-amz-meta-*" => {
                let k = w.name.trim_start_matches("x-amz-meta-");
                params.push(format!("`Metadata` = {{{k}: {v}}}"));
                extra.push(format!("'Metadata': {{'{k}': '{v}'}}"));
            }
            (Some(h), Some(v)) if h.member == "BucketKeyEnabled" => {
                let b = v.eq_ignore_ascii_case("true");
                params.push(format!("`BucketKeyEnabled` = {b}"));
                extra.push(format!(
                    "'BucketKeyEnabled': {}",
                    if b { "True" } else { "False" }
                ));
            }
            (Some(h), Some(v)) => {
                params.push(format!("`{}` = `{v}`", h.member));
                extra.push(format!("'{}': '{v}'", h.member));
            }
            (Some(h), None) => drop.push(format!("`{}`", h.member)),
            (None, Some(v)) => params.push(format!("the header `{}: {v}`", w.name)),
            (None, None) => drop.push(format!("the header `{}`", w.name)),
        }
    }
    let mut steps = Vec::new();
    let set =
        (!params.is_empty()).then(|| format!("set the PutObject parameters {}", params.join(", ")));
    let text = set_and_leave_out(set, &drop);
    if !text.is_empty() {
        steps.push(ClientStep {
            client: "SDK".to_owned(),
            text: format!(
                "{text} (CreateMultipartUpload takes the same ones for a multipart upload)"
            ),
        });
    }
    if !extra.is_empty() {
        steps.push(ClientStep {
            client: "boto3".to_owned(),
            text: format!(
                "s3.upload_file(FILE, BUCKET, KEY, ExtraArgs={{{}}})",
                extra.join(", ")
            ),
        });
    }
    if https {
        steps.push(ClientStep {
            client: "SDK".to_owned(),
            text: "use an `https://` endpoint (the SDKs' default): remove an `http://` endpoint override".to_owned(),
        });
    }
    steps
}

/// "SET; leave out A, B": what to set (when anything) and what to leave out (when anything).
fn set_and_leave_out(set: Option<String>, drop: &[impl AsRef<str>]) -> String {
    let mut text = set.unwrap_or_default();
    if !drop.is_empty() {
        if !text.is_empty() {
            text.push_str("; ");
        }
        let names: Vec<&str> = drop.iter().map(AsRef::as_ref).collect();
        text.push_str(&format!("leave out {}", names.join(", ")));
    }
    text
}

/// A word for a POSIX shell: quoted when it holds anything but letters, digits and
/// `-_.:/=,@+`.
pub(super) fn shell(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/=,@+".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
