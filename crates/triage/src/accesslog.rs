//! S3 server access log lines (docs/triage.md#s3-server-access-logs): space-separated fields,
//! the time in brackets, the Request-URI, referrer and user agent in quotes, `-` for an empty
//! field. Newer logs append fields (TLS version, access point ARN, `aclRequired`); fields AWS
//! adds later are accepted and ignored.

use crate::record::{Call, Caller, Format, Record, RecordId};

/// The operation names of the upload calls, as access logs write them.
const OPERATIONS: &[(&str, Call)] = &[
    ("REST.PUT.OBJECT", Call::PutObject),
    // A browser-based upload (an HTML form), allowed by s3:PutObject.
    ("REST.POST.OBJECT", Call::PutObject),
    ("REST.POST.UPLOADS", Call::CreateMultipartUpload),
    ("REST.PUT.PART", Call::UploadPart),
    ("REST.POST.UPLOAD", Call::CompleteMultipartUpload),
    ("REST.COPY.OBJECT", Call::CopyObject),
    ("REST.COPY.PART", Call::UploadPartCopy),
    ("REST.PUT.ACL", Call::PutObjectAcl),
    ("REST.PUT.OBJECT_TAGGING", Call::PutObjectTagging),
    ("REST.PUT.TAGGING", Call::PutObjectTagging),
    ("REST.PUT.OBJECT_RETENTION", Call::PutObjectRetention),
    ("REST.PUT.RETENTION", Call::PutObjectRetention),
    ("REST.PUT.OBJECT_LEGAL_HOLD", Call::PutObjectLegalHold),
    ("REST.PUT.LEGAL_HOLD", Call::PutObjectLegalHold),
];

/// What one line is.
#[derive(Debug)]
pub(crate) enum Line {
    /// An upload call, refused or allowed.
    Upload(Box<Record>),
    /// Another call, or an error triage does not explain.
    Other,
}

/// Whether a line looks like an access log line: an owner, a bucket, then `[dd/Mon/yyyy:`.
pub(crate) fn looks_like(line: &str) -> bool {
    let mut parts = line.splitn(3, ' ');
    let (Some(owner), Some(bucket), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !owner.is_empty() && !bucket.is_empty() && rest.starts_with('[') && time(rest).is_some()
}

/// Splits a line into its fields: a field in brackets or quotes is one field.
fn fields(line: &str) -> Result<Vec<&str>, &'static str> {
    let mut out = Vec::with_capacity(28);
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' => i += 1,
            b'[' => {
                let end = line[i..].find(']').ok_or("a `[` without its `]`")? + i;
                out.push(&line[i + 1..end]);
                i = end + 1;
            }
            b'"' => {
                // The closing quote is one not escaped (`\"`) and followed by a space or the
                // end of the line.
                let mut j = i + 1;
                let end = loop {
                    match line[j..].find('"') {
                        Some(k) => {
                            let at = j + k;
                            let escaped = at > 0 && b[at - 1] == b'\\';
                            if !escaped && (at + 1 == b.len() || b[at + 1] == b' ') {
                                break at;
                            }
                            j = at + 1;
                        }
                        None => return Err("a `\"` without its closing `\"`"),
                    }
                };
                out.push(&line[i + 1..end]);
                i = end + 1;
            }
            _ => {
                let end = line[i..].find(' ').map_or(b.len(), |k| i + k);
                out.push(&line[i..end]);
                i = end;
            }
        }
    }
    Ok(out)
}

/// An object setting call whose operation name AWS does not document, by its method and
/// sub-resource (`PUT /bucket/key?retention`).
fn by_uri(op: &str, uri: &str) -> Option<Call> {
    if !op.starts_with("REST.PUT.") {
        return None;
    }
    let query = uri.split(' ').nth(1)?.split_once('?')?.1;
    query.split('&').find_map(|q| match q.split('=').next()? {
        "retention" => Some(Call::PutObjectRetention),
        "legal-hold" => Some(Call::PutObjectLegalHold),
        "tagging" => Some(Call::PutObjectTagging),
        _ => None,
    })
}

fn opt(f: &str) -> Option<&str> {
    (f != "-" && !f.is_empty()).then_some(f)
}

/// Reads one line. `Err` says why it is not an access log line.
pub(crate) fn line(line: &str) -> Result<Line, String> {
    let f = fields(line)?;
    if f.len() < 18 {
        return Err(format!(
            "{} fields where an access log line has at least 18",
            f.len()
        ));
    }
    let time = time(&format!("[{}]", f[2])).ok_or_else(|| format!("`{}` is not a time", f[2]))?;
    let Some(call) = OPERATIONS
        .iter()
        .find(|(op, _)| *op == f[6])
        .map(|(_, c)| *c)
        .or_else(|| by_uri(f[6], f[8]))
    else {
        if !f[6].contains('.') {
            return Err(format!("`{}` is not an operation", f[6]));
        }
        return Ok(Line::Other);
    };
    // Field 20, when there, is the signature version: anything else means a quoted field was
    // split wrongly and every later field is in the wrong place.
    if let Some(sig) = f.get(19)
        && !matches!(*sig, "SigV2" | "SigV4" | "-")
    {
        return Err(format!(
            "field 20 is `{sig}` where the signature version (`SigV4`, `SigV2` or `-`) belongs: the fields are shifted"
        ));
    }
    let key = opt(f[7]).map(decode).unwrap_or_default();
    if key.is_empty() {
        // The bucket's ACL or tags (`PUT /?acl`, `PUT /?tagging`), not an object's.
        return Ok(Line::Other);
    }
    let status: u16 = f[9]
        .parse()
        .map_err(|_| format!("`{}` is not an HTTP status", f[9]))?;
    let code = opt(f[10]).map(str::to_owned);
    let http_status = Some(status);
    match &code {
        Some(c) if why403_errors::status_of_code(c).is_none() => return Ok(Line::Other),
        None if status >= 300 => return Ok(Line::Other),
        _ => {}
    }
    let requester = opt(f[4]);
    let caller = Caller {
        arn: requester
            .filter(|r| r.starts_with("arn:"))
            .map(str::to_owned),
        canonical_id: requester
            .filter(|r| !r.starts_with("arn:"))
            .map(str::to_owned),
        ..Caller::default()
    };
    let at = |i: usize| f.get(i).copied().and_then(opt);
    let cipher = at(20);
    let tls = match (at(23), f.len() > 20) {
        (Some(_), _) => Some(true),
        (None, true) => Some(cipher.is_some()),
        (None, false) => None,
    };
    Ok(Line::Upload(Box::new(Record {
        format: Format::AccessLog,
        id: RecordId::new(f[5]),
        request_id: Some(f[5].to_owned()),
        call,
        time,
        caller,
        bucket: f[1].to_owned(),
        key,
        code,
        http_status,
        message: None,
        region: at(22).and_then(region_of_host),
        source_ip: opt(f[3]).map(str::to_owned),
        vpc_endpoint: None,
        tls,
        user_agent: opt(f[16]).map(str::to_owned),
        presigned: at(21) == Some("QueryString"),
        access_point: at(24).map(str::to_owned),
        headers: Default::default(),
        recipient_account: None,
        acl_required: at(25) == Some("Yes"),
    })))
}

/// `%XX` escapes decoded (keys are URL-encoded in access logs); invalid UTF-8 is replaced.
fn decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The Region in an S3 host name: the label after `s3`, `s3-fips`, `s3-accesspoint` (and
/// `dualstack`), or the legacy `s3-REGION` label (`bucket.s3.us-west-1.amazonaws.com`,
/// `s3.dualstack.eu-west-1.amazonaws.com`, `s3-us-west-2.amazonaws.com`). The bucket's own
/// name, which comes first and may look like a Region, is never read as one.
fn region_of_host(host: &str) -> Option<String> {
    let host = host.split(':').next()?;
    let labels: Vec<&str> = host.split('.').collect();
    let at = labels.iter().position(|l| {
        matches!(
            *l,
            "s3" | "s3-fips" | "s3-accesspoint" | "s3-accesspoint-fips"
        ) || l.strip_prefix("s3-").is_some_and(is_region)
    })?;
    if let Some(r) = labels[at].strip_prefix("s3-").filter(|r| is_region(r)) {
        return Some(r.to_owned());
    }
    labels[at + 1..]
        .iter()
        .find(|l| **l != "dualstack")
        .filter(|l| is_region(l))
        .map(|l| (*l).to_owned())
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `us-iso-east-1`...
fn is_region(p: &str) -> bool {
    let parts: Vec<&str> = p.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 4
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|n| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `[06/Feb/2019:00:00:38 +0000]` as ISO 8601 UTC (`2019-02-06T00:00:38Z`).
fn time(s: &str) -> Option<String> {
    let inner = s.strip_prefix('[')?.split(']').next()?;
    let at = jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", inner)
        .ok()?
        .to_timestamp()
        .ok()?;
    Some(at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:sts::111122223333:assumed-role/Uploader/alice 3E57427F3EXAMPLE REST.PUT.OBJECT reports/q3%20final.csv "PUT /amzn-s3-demo-bucket1/reports/q3%20final.csv HTTP/1.1" 403 AccessDenied 243 - 7 - "-" "aws-cli/2.22.0 md/awscrt#0.23.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSv1.2 - Yes"#;

    #[test]
    fn a_refused_put_is_read() {
        assert!(looks_like(LINE));
        let Ok(Line::Upload(r)) = line(LINE) else {
            panic!("not read")
        };
        assert_eq!(r.call, Call::PutObject);
        assert_eq!(r.time, "2019-02-06T00:00:38Z");
        assert_eq!(r.key, "reports/q3 final.csv");
        assert_eq!(r.code.as_deref(), Some("AccessDenied"));
        assert_eq!(r.http_status, Some(403));
        assert_eq!(r.region.as_deref(), Some("us-west-1"));
        assert_eq!(r.tls, Some(true));
        assert!(r.acl_required);
        assert_eq!(r.caller.session_name(), Some("alice"));
        assert_eq!(
            r.user_agent.as_deref(),
            Some("aws-cli/2.22.0 md/awscrt#0.23.4")
        );
    }

    #[test]
    fn times_with_offsets_become_utc() {
        assert_eq!(
            time("[31/Dec/2026:23:30:00 -0100]").as_deref(),
            Some("2027-01-01T00:30:00Z")
        );
        assert_eq!(
            time("[01/Mar/2024:00:00:00 +0000]").as_deref(),
            Some("2024-03-01T00:00:00Z")
        );
        assert!(time("[32/Feb/2019:00:00:38 +0000]").is_none());
        assert!(time("[06/Foo/2019:00:00:38 +0000]").is_none());
    }

    #[test]
    fn other_lines_and_broken_ones() {
        let get = LINE.replace("REST.PUT.OBJECT", "REST.GET.OBJECT");
        assert!(matches!(line(&get), Ok(Line::Other)));
        assert!(line("a b [06/Feb/2019:00:00:38 +0000] \"unclosed").is_err());
        assert!(
            line("127.0.0.1 - - [06/Feb/2019:00:00:38 +0000] \"GET / HTTP/1.1\" 200 12").is_err()
        );
        let ok = LINE.replace(" 403 AccessDenied ", " 200 - ");
        assert!(matches!(line(&ok), Ok(Line::Upload(r)) if r.code.is_none()));
    }

    #[test]
    fn quoted_fields_with_escaped_quotes_and_shifted_fields() {
        let ua = "\"aws-cli/2.22.0 md/awscrt#0.23.4\"";
        let q = LINE.replace(ua, r#""Mozilla/5.0 \"x\" (Windows)""#);
        let Ok(Line::Upload(r)) = line(&q) else {
            panic!("not read: {q}")
        };
        assert_eq!(
            r.user_agent.as_deref(),
            Some(r#"Mozilla/5.0 \"x\" (Windows)"#)
        );
        assert_eq!(r.region.as_deref(), Some("us-west-1"));
        // An unescaped quote inside shifts the fields: refused, not misread.
        let shifted = LINE.replace(ua, r#""Mozilla/5.0 "x" (Windows)""#);
        assert!(line(&shifted).unwrap_err().contains("shifted"));
        // A bucket's tags are not an object's.
        let tags = LINE.replace(
            "REST.PUT.OBJECT reports/q3%20final.csv",
            "REST.PUT.TAGGING -",
        );
        assert!(matches!(line(&tags), Ok(Line::Other)));
    }

    #[test]
    fn regions_from_hosts() {
        for (h, r) in [
            ("b.s3.us-west-1.amazonaws.com", Some("us-west-1")),
            ("s3.dualstack.eu-west-1.amazonaws.com", Some("eu-west-1")),
            ("s3-us-gov-west-1.amazonaws.com", Some("us-gov-west-1")),
            ("b.s3.amazonaws.com", None),
            ("ab-data-2024.s3.us-west-1.amazonaws.com", Some("us-west-1")),
            ("ab-data-2.s3.amazonaws.com", None),
            (
                "my-ap-111122223333.s3-accesspoint.eu-west-1.amazonaws.com",
                Some("eu-west-1"),
            ),
        ] {
            assert_eq!(region_of_host(h).as_deref(), r, "{h}");
        }
    }
}
