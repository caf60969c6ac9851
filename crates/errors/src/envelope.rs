//! The envelopes around an AWS error (docs/aws-model.md#envelopes): each detector recognises one client's
//! or log's wrapping, fills in the fields it carries (code, operation, status, request ids,
//! bucket and key) and hands back the message inside for the grammar.

use serde_json::Value;

use super::errors::is_known_code;
use super::text::{Builder, Text};
use super::{Envelope, Parsed};

/// Tries every text envelope, most specific first; returns the message inside the first one
/// that matches.
pub(super) fn detect(t: &Text, p: &mut Parsed) -> Option<Text> {
    let found = cloudtrail_text(t, p)
        .or_else(|| s3_xml(t, p))
        .or_else(|| java(t, p))
        .or_else(|| go_v2(t, p))
        .or_else(|| aws_cli(t, p))
        .or_else(|| go_v1(t, p))
        .or_else(|| code_prefixed(t, p));
    if found.is_some() {
        p.recognised.insert(0, "envelope");
    }
    found
}

/// A CloudTrail event given as valid JSON: one event, a `Records` file, or
/// `aws cloudtrail lookup-events` output (events as JSON strings in `CloudTrailEvent`).
pub(super) fn cloudtrail_json(raw: &str, p: &mut Parsed) -> Option<Text> {
    let trimmed = raw.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    let v: Value = serde_json::from_str(trimmed).ok()?;
    let ev = find_event(&v, 0)?;
    p.envelope = Envelope::CloudTrail;
    p.note("envelope");
    let s = |path: &[&str]| -> Option<String> {
        let mut at = &ev;
        for k in path {
            at = at.get(k)?;
        }
        at.as_str().map(str::to_owned)
    };
    if let Some(c) = s(&["errorCode"]) {
        Parsed::set(&mut p.code, c);
        p.note("code");
    }
    set_noted(
        p,
        |p| &mut p.principal,
        s(&["userIdentity", "arn"]),
        "principal",
    );
    set_noted(p, |p| &mut p.operation, s(&["eventName"]), "operation");
    set_noted(p, |p| &mut p.request_id, s(&["requestID"]), "request-id");
    set_noted(
        p,
        |p| &mut p.bucket,
        s(&["requestParameters", "bucketName"]),
        "bucket",
    );
    set_noted(p, |p| &mut p.key, s(&["requestParameters", "key"]), "key");
    set_noted(
        p,
        |p| &mut p.host_id,
        s(&["additionalEventData", "x-amz-id-2"]),
        "host-id",
    );
    let d = &mut p.details;
    d.vpc_endpoint_id = s(&["vpcEndpointId"]);
    d.event_source = s(&["eventSource"]);
    d.aws_region = s(&["awsRegion"]);
    d.source_ip = s(&["sourceIPAddress"]);
    d.kms_key = s(&["requestParameters", "keyId"]);
    if s(&["additionalEventData", "AuthenticationMethod"]).as_deref() == Some("QueryString") {
        d.presigned = true;
    }
    // A KMS event made for S3 names the object (or, with an S3 Bucket Key, the bucket).
    if let Some(arn) = s(&["requestParameters", "encryptionContext", "aws:s3:arn"])
        && let Some(rest) = arn
            .strip_prefix("arn:aws:s3:::")
            .or_else(|| arn.split_once(":s3:::").map(|x| x.1))
    {
        let (b, k) = rest.split_once('/').unwrap_or((rest, ""));
        set_noted(p, |p| &mut p.bucket, Some(b.to_owned()), "bucket");
        set_noted(p, |p| &mut p.key, Some(k.to_owned()), "key");
    }
    Some(s(&["errorMessage"]).map_or_else(Text::default, |m| Text::new(&m)))
}

fn set_noted(
    p: &mut Parsed,
    field: impl Fn(&mut Parsed) -> &mut Option<String>,
    v: Option<String>,
    what: &'static str,
) {
    if let Some(v) = v
        && Parsed::set(field(p), v)
    {
        p.note(what);
    }
}

/// The first object with `errorCode` or `errorMessage`, looking into `Records`, `Events`,
/// arrays and `CloudTrailEvent` strings.
fn find_event(v: &Value, depth: u8) -> Option<Value> {
    if depth > 4 {
        return None;
    }
    match v {
        Value::Object(o) => {
            if o.contains_key("errorCode") || o.contains_key("errorMessage") {
                return Some(v.clone());
            }
            if let Some(Value::String(inner)) = o.get("CloudTrailEvent")
                && let Ok(inner) = serde_json::from_str::<Value>(inner)
                && let Some(e) = find_event(&inner, depth + 1)
            {
                return Some(e);
            }
            ["Records", "Events", "events", "records"]
                .iter()
                .filter_map(|k| o.get(*k))
                .find_map(|x| find_event(x, depth + 1))
        }
        Value::Array(a) => a.iter().find_map(|x| find_event(x, depth + 1)),
        _ => None,
    }
}

/// CloudTrail JSON that is no longer valid (wrapped inside strings, cut off): its fields read
/// from the text.
fn cloudtrail_text(t: &Text, p: &mut Parsed) -> Option<Text> {
    if !(t.contains("\"errorCode\"") || t.contains("\"errorMessage\"")) {
        return None;
    }
    p.envelope = Envelope::CloudTrail;
    if let Some(c) = json_field(t, 0, "errorCode") {
        Parsed::set(&mut p.code, c.compact(0, c.len()));
        p.note("code");
    }
    if let Some((_, e)) = t.find(0, t.len(), "\"userIdentity\"") {
        set_noted(
            p,
            |p| &mut p.principal,
            json_field(t, e, "arn").map(|x| x.compact(0, x.len())),
            "principal",
        );
    }
    let field = |k: &str| json_field(t, 0, k).map(|x| x.compact(0, x.len()));
    set_noted(p, |p| &mut p.operation, field("eventName"), "operation");
    set_noted(p, |p| &mut p.request_id, field("requestID"), "request-id");
    set_noted(p, |p| &mut p.bucket, field("bucketName"), "bucket");
    if let Some((_, e)) = t.find(0, t.len(), "\"requestParameters\"") {
        set_noted(
            p,
            |p| &mut p.key,
            json_field(t, e, "key").map(|x| x.unwrap(0, x.len())),
            "key",
        );
    }
    p.details.vpc_endpoint_id = field("vpcEndpointId");
    p.details.event_source = field("eventSource");
    p.details.aws_region = field("awsRegion");
    p.details.source_ip = field("sourceIPAddress");
    Some(json_field(t, 0, "errorMessage").unwrap_or_default())
}

/// The string value of `"key": "..."` after `from`, unescaped.
fn json_field(t: &Text, from: usize, key: &str) -> Option<Text> {
    let (_, e) = t.find(from, t.len(), &format!("\"{key}\""))?;
    let e = t.skip_spaces(e);
    let colon = t.match_at(e, ":")?;
    let start = t.match_at(t.skip_spaces(colon), "\"")?;
    let mut b = Builder::default();
    let mut i = start;
    while let Some((c, len)) = t.char_at(i) {
        match c {
            '"' => return Some(b.finish()),
            ' ' => b.space(t.is_soft(i)),
            '\\' => {
                // A line break may fall between the backslash and what it escapes.
                while t.as_str().as_bytes().get(i + 1) == Some(&b' ') && t.is_soft(i + 1) {
                    i += 1;
                }
                let (n, nlen) = t.char_at(i + 1)?;
                i += nlen;
                match n {
                    'n' | 'r' | 't' => b.space(true),
                    'u' => {
                        let hex = t.as_str().get(i + 1..i + 5)?;
                        if let Some(ch) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                        {
                            b.push(ch, false);
                        }
                        i += 4;
                    }
                    other => b.push(other, false),
                }
            }
            c => b.push(c, false),
        }
        i += len;
    }
    Some(b.finish())
}

/// `<Error><Code>...</Code><Message>...</Message>...</Error>`.
fn s3_xml(t: &Text, p: &mut Parsed) -> Option<Text> {
    let code = xml_field(t, "Code")?;
    p.envelope = Envelope::S3Xml;
    Parsed::set(&mut p.code, code.compact(0, code.len()));
    p.note("code");
    let tag = |name: &str| xml_field(t, name).map(|x| x.compact(0, x.len()));
    set_noted(p, |p| &mut p.request_id, tag("RequestId"), "request-id");
    set_noted(p, |p| &mut p.host_id, tag("HostId"), "host-id");
    set_noted(
        p,
        |p| &mut p.bucket,
        tag("BucketName").or_else(|| tag("Bucket")),
        "bucket",
    );
    set_noted(
        p,
        |p| &mut p.key,
        xml_field(t, "Key").map(|x| x.unwrap(0, x.len())),
        "key",
    );
    let d = &mut p.details;
    d.expires = tag("Expires").or_else(|| tag("X-Amz-Expires"));
    d.server_time = tag("ServerTime");
    d.request_time = tag("RequestTime");
    d.access_key_id = tag("AWSAccessKeyId");
    d.region_expected = tag("Region");
    d.endpoint = tag("Endpoint");
    // Only query-string authentication (a presigned URL) has an expiry.
    d.presigned = d.expires.is_some();
    Some(xml_field(t, "Message").unwrap_or_default())
}

/// The content of `<name>...</name>`, entities decoded.
fn xml_field(t: &Text, name: &str) -> Option<Text> {
    let (_, start) = t.find(0, t.len(), &format!("<{name}>"))?;
    let (end, _) = t.find(start, t.len(), &format!("</{name}>"))?;
    let mut b = Builder::default();
    let mut i = start;
    while i < end {
        let Some((c, len)) = t.char_at(i) else {
            i += 1;
            continue;
        };
        if c == ' ' {
            b.space(t.is_soft(i));
        } else if c == '&' {
            let entity = [
                ("&quot;", '"'),
                ("&amp;", '&'),
                ("&lt;", '<'),
                ("&gt;", '>'),
                ("&apos;", '\''),
                ("&#34;", '"'),
                ("&#39;", '\''),
            ]
            .into_iter()
            .find_map(|(e, ch)| t.match_at(i, e).map(|after| (after, ch)));
            match entity {
                Some((after, ch)) => {
                    b.push(ch, false);
                    i = after;
                    continue;
                }
                None => b.push('&', false),
            }
        } else {
            b.push(c, false);
        }
        i += len;
    }
    Some(b.finish())
}

/// `<message> (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: ...;
/// S3 Extended Request ID: ...)` (v1) or `(Service: S3, Status Code: 403, Request ID: ..., ...)` (v2).
fn java(t: &Text, p: &mut Parsed) -> Option<Text> {
    let (open, body) = t.find(0, t.len(), "(Service:")?;
    let close = t.find(body, t.len(), ")").map_or(t.len(), |x| x.0);
    let v1 = t.find(body, close, "Error Code:").is_some();
    p.envelope = if v1 {
        Envelope::JavaV1
    } else {
        Envelope::JavaV2
    };
    let mut i = body;
    // Skip the service name.
    i = next_separator(t, i, close);
    while i < close {
        let seg_end = next_separator(t, i, close);
        let seg = t.slice(i, seg_end);
        if let Some((_, colon)) = seg.find(0, seg.len(), ":") {
            let name = seg.compact(0, colon - 1).to_ascii_lowercase();
            let value = seg
                .compact(colon, seg.len())
                .trim_end_matches([';', ','])
                .to_owned();
            match name.as_str() {
                "statuscode" => set_status(p, &value),
                "errorcode" => {
                    Parsed::set(&mut p.code, value);
                    p.note("code");
                }
                "requestid" => set_noted(p, |p| &mut p.request_id, Some(value), "request-id"),
                "s3extendedrequestid" | "extendedrequestid" => {
                    set_noted(p, |p| &mut p.host_id, Some(value), "host-id");
                }
                _ => {}
            }
        }
        i = seg_end;
    }
    // The message follows the exception class (`...AmazonS3Exception: `), if it is there.
    let start = t.rfind(0, open, "Exception:").map_or(0, |x| x.1);
    Some(t.slice(start, open))
}

/// The position after the next `;` or `,` in `i..end` (or `end`).
fn next_separator(t: &Text, i: usize, end: usize) -> usize {
    let semi = t.find(i, end, ";").map(|x| x.1);
    let comma = t.find(i, end, ",").map(|x| x.1);
    match (semi, comma) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => end,
    }
}

fn set_status(p: &mut Parsed, value: &str) {
    let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
    if let Ok(n) = digits.parse::<u16>()
        && p.http_status.is_none()
    {
        p.http_status = Some(n);
        p.note("http-status");
    }
}

/// `operation error S3: PutObject, https response error StatusCode: 403, RequestID: ...,
/// HostID: ..., api error AccessDenied: <message>`.
fn go_v2(t: &Text, p: &mut Parsed) -> Option<Text> {
    let (_, after) = t.find(0, t.len(), "operation error ")?;
    p.envelope = Envelope::GoV2;
    if let Some((_, svc_end)) = t.find(after, t.len(), ":") {
        let op_end = t.find(svc_end, t.len(), ",").map_or(t.len(), |x| x.0);
        set_noted(
            p,
            |p| &mut p.operation,
            Some(t.compact(svc_end, op_end)),
            "operation",
        );
    }
    let value = |pat: &str| -> Option<String> {
        let (_, s) = t.find(after, t.len(), pat)?;
        let e = t.find(s, t.len(), ",").map_or(t.len(), |x| x.0);
        Some(t.compact(s, e))
    };
    if let Some(v) = value("StatusCode:") {
        set_status(p, &v);
    }
    set_noted(p, |p| &mut p.request_id, value("RequestID:"), "request-id");
    set_noted(p, |p| &mut p.host_id, value("HostID:"), "host-id");
    let Some((_, code_start)) = t.find(after, t.len(), "api error ") else {
        return Some(Text::default());
    };
    let colon = t.find(code_start, t.len(), ":").map_or(t.len(), |x| x.0);
    Parsed::set(&mut p.code, t.compact(code_start, colon));
    p.note("code");
    Some(t.slice(colon + 1, t.len()))
}

/// `An error occurred (Code) when calling the Op operation: <message>`, and around it the
/// `aws s3 cp` (`upload failed: <file> to s3://b/k`) and boto3 `upload_file` (`Failed to
/// upload <file> to b/k: `) prefixes.
fn aws_cli(t: &Text, p: &mut Parsed) -> Option<Text> {
    // With several errors (a Python traceback, `aws s3 sync` lines), the last is explained: a
    // traceback ends with the one that matters.
    let (start, code_start) = t.rfind(0, t.len(), "An error occurred (")?;
    p.envelope = Envelope::AwsCli;
    let code_end = t.find(code_start, t.len(), ")").map_or(t.len(), |x| x.0);
    Parsed::set(&mut p.code, t.compact(code_start, code_end));
    p.note("code");
    let mut i = code_end + 1;
    if let Some(op_start) = t.match_at(i, " when calling the ")
        && let Some((op_end, after)) = t.find(op_start, t.len(), " operation")
    {
        set_noted(
            p,
            |p| &mut p.operation,
            Some(t.compact(op_start, op_end)),
            "operation",
        );
        i = after;
    }
    if let Some(after) = t.match_at(i, " (reached max retries:") {
        i = t.find(after, t.len(), ")").map_or(after, |x| x.1);
    }
    let msg_start = t.match_at(i, " :").unwrap_or(i);
    // `aws s3 sync` prints one line per failed file: the message ends where the next begins.
    let msg_end = [
        "upload failed:",
        "move failed:",
        "copy failed:",
        "download failed:",
        "An error occurred (",
    ]
    .iter()
    .filter_map(|pat| t.find(msg_start, t.len(), pat).map(|x| x.0))
    .min()
    .unwrap_or(t.len());
    transfer(t, start, p);
    Some(t.slice(msg_start, msg_end))
}

fn transfer(t: &Text, cli_start: usize, p: &mut Parsed) {
    let s3 = ["upload failed:", "move failed:", "copy failed:"]
        .iter()
        .filter_map(|pat| t.rfind(0, cli_start, pat))
        .max();
    if let Some((_, after)) = s3
        && let Some((to, url)) = t.find(after, cli_start, " to s3://")
    {
        p.envelope = Envelope::S3Transfer;
        p.details.local_file = Some(t.unwrap(after, to)).filter(|s| !s.is_empty());
        let target = t.unwrap(url, cli_start);
        bucket_key(p, &target);
        return;
    }
    if let Some((_, after)) = t.rfind(0, cli_start, "Failed to upload ")
        && let Some((colon, _)) = t.rfind(after, cli_start, ":")
        && let Some((to, bk)) = t.rfind(after, colon, " to ")
    {
        p.envelope = Envelope::S3Transfer;
        p.details.local_file = Some(t.unwrap(after, to)).filter(|s| !s.is_empty());
        bucket_key(p, &t.unwrap(bk, colon));
    }
}

fn bucket_key(p: &mut Parsed, target: &str) {
    let (b, k) = target.split_once('/').unwrap_or((target, ""));
    set_noted(p, |p| &mut p.bucket, Some(b.to_owned()), "bucket");
    set_noted(p, |p| &mut p.key, Some(k.to_owned()), "key");
}

/// `AccessDenied: Access Denied status code: 403, request id: ..., host id: ...`.
fn go_v1(t: &Text, p: &mut Parsed) -> Option<Text> {
    let (status_start, after) = t.find(0, t.len(), "status code: ")?;
    let (_, rid) = t.find(after, t.len(), ", request id:")?;
    p.envelope = Envelope::GoV1;
    let status_end = t.find(after, t.len(), ",").map_or(t.len(), |x| x.0);
    set_status(p, &t.compact(after, status_end));
    let rid_end = t.find(rid, t.len(), ",").map_or(t.len(), |x| x.0);
    set_noted(
        p,
        |p| &mut p.request_id,
        Some(t.compact(rid, rid_end)),
        "request-id",
    );
    if let Some((_, hid)) = t.find(rid_end, t.len(), "host id:") {
        let hid = t.skip_spaces(hid);
        let hid_end = t.find(hid, t.len(), " ").map_or(t.len(), |x| x.0);
        set_noted(
            p,
            |p| &mut p.host_id,
            Some(t.compact(hid, hid_end)),
            "host-id",
        );
    }
    match known_code_before(t, status_start) {
        Some((code, msg_start)) => {
            Parsed::set(&mut p.code, code);
            p.note("code");
            Some(t.slice(msg_start, status_start))
        }
        None => Some(t.slice(0, status_start)),
    }
}

/// `Code: message` where `Code` is a known S3 error code (Node.js, .NET and many logs print
/// errors this way).
fn code_prefixed(t: &Text, p: &mut Parsed) -> Option<Text> {
    let (code, msg_start) = known_code_before(t, t.len())?;
    p.envelope = Envelope::Bare;
    Parsed::set(&mut p.code, code);
    p.note("code");
    Some(t.slice(msg_start, t.len()))
}

/// The first `<known code>:` before `end`: the code and where its message starts.
fn known_code_before(t: &Text, end: usize) -> Option<(String, usize)> {
    let bytes = t.as_str().as_bytes();
    let mut from = 0;
    while let Some((colon, after)) = t.find(from, end, ":") {
        // The word before the colon; a line break may cut it, so a few pieces before the
        // nearest break are tried too.
        let mut start = colon;
        for _ in 0..4 {
            while start > 0 && !(bytes[start - 1] == b' ' || b"([\"':".contains(&bytes[start - 1]))
            {
                start -= 1;
            }
            let word = t.compact(start, colon);
            if is_known_code(&word) {
                return Some((word, after));
            }
            if start == 0 || !t.is_soft(start - 1) {
                break;
            }
            start -= 1;
        }
        from = after;
    }
    None
}

/// An HTTP status line (`HTTP/1.1 403 Forbidden`) anywhere in the text.
pub(super) fn http_status_line(t: &Text, p: &mut Parsed) {
    if p.http_status.is_some() {
        return;
    }
    let mut from = 0;
    while let Some((_, after)) = t.find(from, t.len(), "HTTP/") {
        let sp = t.find(after, (after + 5).min(t.len()), " ").map(|x| x.1);
        if let Some(sp) = sp {
            let digits: String = t
                .as_str()
                .get(sp..)
                .unwrap_or_default()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if digits.len() == 3 {
                set_status(p, &digits);
                return;
            }
        }
        from = after;
    }
}

/// Query-string authentication in the text: the request was a presigned URL.
pub(super) fn presigned(t: &Text, p: &mut Parsed) {
    if [
        "X-Amz-Signature=",
        "X-Amz-Credential=",
        "&Signature=",
        "?AWSAccessKeyId=",
        "<X-Amz-Expires>",
    ]
    .iter()
    .any(|pat| t.contains(pat))
    {
        p.details.presigned = true;
    }
}
