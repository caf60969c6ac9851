//! CloudTrail records in every wrapping triage reads (docs/triage.md#input-formats): a record
//! (from a `Records` file or alone), a `lookup-events` event with the record as a JSON string
//! in `CloudTrailEvent`, an EventBridge event with the record in `detail`, and a CloudTrail
//! Lake result row. Each element is parsed once into borrowed fields; only a selected record
//! (an upload call) is parsed further and copied.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::record::{Call, Caller, Format, Record, RecordId};

/// What one element is.
#[derive(Debug)]
pub(crate) enum Item {
    /// An upload call to S3, refused (with a code) or allowed.
    Upload(Box<Record>),
    /// A record of another call, or a refusal with a code triage does not explain; `true`
    /// when it is an S3 object-level (data) event.
    Other(bool),
}

/// Why an element is not a record.
#[derive(Debug)]
pub(crate) enum Bad {
    /// Not valid JSON, or a field of the wrong type.
    Json(serde_json::Error),
    /// Valid JSON that is not a CloudTrail record in any known wrapping.
    NotARecord(&'static str),
    /// The record inside a wrapping (a `CloudTrailEvent` string, a Lake row) is malformed.
    Wrapped(String),
}

fn wrapped(b: Bad) -> Bad {
    match b {
        Bad::Json(e) => Bad::Wrapped(format!("the record it wraps is malformed: {e}")),
        other => other,
    }
}

type S<'a> = Option<Cow<'a, str>>;

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "eventSource", borrow, default)]
    event_source: S<'a>,
    #[serde(rename = "eventName", borrow, default)]
    event_name: S<'a>,
    #[serde(rename = "errorCode", borrow, default)]
    error_code: S<'a>,
    #[serde(rename = "errorMessage", borrow, default)]
    error_message: S<'a>,
    #[serde(rename = "eventTime", borrow, default)]
    event_time: S<'a>,
    #[serde(rename = "eventID", borrow, default)]
    event_id: S<'a>,
    #[serde(rename = "requestID", borrow, default)]
    request_id: S<'a>,
    #[serde(rename = "eventCategory", borrow, default)]
    category: S<'a>,
    #[serde(rename = "awsRegion", borrow, default)]
    aws_region: S<'a>,
    #[serde(rename = "sourceIPAddress", borrow, default)]
    source_ip: S<'a>,
    #[serde(rename = "userAgent", borrow, default)]
    user_agent: S<'a>,
    #[serde(rename = "vpcEndpointId", borrow, default)]
    vpc_endpoint: S<'a>,
    #[serde(rename = "recipientAccountId", borrow, default)]
    recipient: S<'a>,
    /// Parsed only for an upload call (most records are not).
    #[serde(rename = "userIdentity", borrow, default)]
    user_identity: Option<&'a RawValue>,
    #[serde(rename = "requestParameters", borrow, default)]
    request_parameters: Option<&'a RawValue>,
    #[serde(rename = "additionalEventData", borrow, default)]
    additional: Option<&'a RawValue>,
    #[serde(rename = "tlsDetails", borrow, default)]
    tls_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    resources: Option<&'a RawValue>,
    /// `lookup-events`: the record as a JSON string.
    #[serde(rename = "CloudTrailEvent", borrow, default)]
    cloudtrail_event: S<'a>,
    /// EventBridge: the record.
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(rename = "detail-type", borrow, default)]
    detail_type: S<'a>,
}

#[derive(Deserialize, Default)]
struct Identity<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: S<'a>,
    #[serde(borrow, default)]
    arn: S<'a>,
    #[serde(rename = "accessKeyId", borrow, default)]
    access_key_id: S<'a>,
    #[serde(rename = "invokedBy", borrow, default)]
    invoked_by: S<'a>,
    #[serde(rename = "accountId", borrow, default)]
    account_id: S<'a>,
    #[serde(rename = "sessionContext", borrow, default)]
    session: Option<SessionContext<'a>>,
}

#[derive(Deserialize, Default)]
struct SessionContext<'a> {
    #[serde(borrow, default)]
    attributes: Option<Attributes<'a>>,
    #[serde(rename = "sessionIssuer", borrow, default)]
    issuer: Option<Issuer<'a>>,
}

#[derive(Deserialize, Default)]
struct Attributes<'a> {
    #[serde(rename = "mfaAuthenticated", borrow, default)]
    mfa: S<'a>,
}

#[derive(Deserialize, Default)]
struct Issuer<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: S<'a>,
    #[serde(borrow, default)]
    arn: S<'a>,
}

/// Reads one element of a JSON log file.
pub(crate) fn element(bytes: &[u8]) -> Result<Item, Bad> {
    match bytes.first() {
        Some(b'[') => return lake_row(bytes),
        Some(b'{') => {}
        _ => return Err(Bad::NotARecord("not a JSON object")),
    }
    let ev: Event<'_> = serde_json::from_slice(bytes).map_err(Bad::Json)?;
    if let Some(inner) = &ev.cloudtrail_event {
        return record(inner.as_bytes(), Format::LookupEvents).map_err(wrapped);
    }
    if let Some(detail) = ev.detail
        && ev.detail_type.is_some()
    {
        // `AWS API Call via CloudTrail` (some partitions name the service differently).
        if !ev
            .detail_type
            .as_deref()
            .is_some_and(|t| t.ends_with("API Call via CloudTrail"))
        {
            return Ok(Item::Other(false));
        }
        return record(detail.get().as_bytes(), Format::EventBridge);
    }
    if ev.event_name.is_none() && ev.event_source.is_none() {
        return Err(Bad::NotARecord(
            "a JSON object that is not a CloudTrail record (no `eventName` or `eventSource`)",
        ));
    }
    from_event(ev, Format::CloudTrail)
}

fn record(bytes: &[u8], format: Format) -> Result<Item, Bad> {
    let ev: Event<'_> = serde_json::from_slice(bytes).map_err(Bad::Json)?;
    if ev.event_name.is_none() && ev.event_source.is_none() {
        return Err(Bad::NotARecord(
            "the wrapped event is not a CloudTrail record (no `eventName` or `eventSource`)",
        ));
    }
    from_event(ev, format)
}

fn from_event(ev: Event<'_>, format: Format) -> Result<Item, Bad> {
    if ev.event_source.as_deref() != Some("s3.amazonaws.com") {
        return Ok(Item::Other(false));
    }
    let call = ev.event_name.as_deref().and_then(Call::from_event_name);
    let data = call.is_some() || ev.category.as_deref() == Some("Data");
    let Some(call) = call else {
        return Ok(Item::Other(data));
    };
    let code = ev.error_code.as_deref().map(str::to_owned);
    let http_status = code.as_deref().and_then(why403_errors::status_of_code);
    if code.is_some() && http_status.is_none() {
        // An error triage does not explain (NoSuchUpload, SlowDown, InternalError...).
        return Ok(Item::Other(true));
    }
    let id: Identity<'_> = match ev.user_identity {
        Some(raw) => serde_json::from_str::<Option<Identity<'_>>>(raw.get())
            .map_err(Bad::Json)?
            .unwrap_or_default(),
        None => Identity::default(),
    };
    let session = id.session.unwrap_or_default();
    let caller = Caller {
        arn: id.arn.map(Cow::into_owned),
        canonical_id: None,
        role_arn: session
            .issuer
            .filter(|i| i.kind.as_deref() == Some("Role"))
            .and_then(|i| i.arn.map(Cow::into_owned)),
        kind: id.kind.map(Cow::into_owned),
        access_key_id: id.access_key_id.map(Cow::into_owned),
        mfa: session
            .attributes
            .and_then(|a| a.mfa.map(|m| m.eq_ignore_ascii_case("true"))),
        invoked_by: id.invoked_by.map(Cow::into_owned),
        account_id: id.account_id.map(Cow::into_owned),
    };
    let time = ev.event_time.map(Cow::into_owned).unwrap_or_default();
    if code.is_none() {
        // An allowed upload is only counted: its caller, bucket, key and time.
        let (bucket, key) = bucket_and_key(ev.request_parameters)?;
        if bucket.is_empty() {
            return Ok(Item::Other(true));
        }
        return Ok(Item::Upload(Box::new(Record {
            format,
            id: RecordId::Text("".into()),
            request_id: None,
            call,
            time,
            caller,
            bucket,
            key,
            code: None,
            http_status: None,
            message: None,
            region: None,
            source_ip: None,
            vpc_endpoint: None,
            tls: None,
            user_agent: None,
            presigned: false,
            access_point: None,
            headers: BTreeMap::new(),
            recipient_account: None,
            acl_required: false,
        })));
    }
    let params = request_parameters(ev.request_parameters)?;
    if params.bucket.is_empty() {
        return Err(Bad::NotARecord(
            "a refused upload without a bucket (`requestParameters.bucketName`)",
        ));
    }
    let additional = additional(ev.additional)?;
    let access_point = access_point(ev.resources)?;
    // `tlsDetails` with a version: HTTPS. Without one, or without `tlsDetails`: not known
    // (older records have none).
    let tls = match ev.tls_details {
        Some(t) => tls_version(t)?.map(|_| true),
        None => None,
    };
    Ok(Item::Upload(Box::new(Record {
        format,
        id: ev
            .event_id
            .as_deref()
            .or(ev.request_id.as_deref())
            .map_or_else(|| RecordId::Text("".into()), RecordId::new),
        request_id: ev.request_id.map(Cow::into_owned),
        call,
        time,
        caller,
        bucket: params.bucket,
        key: params.key,
        code,
        http_status,
        message: ev.error_message.map(Cow::into_owned),
        region: ev.aws_region.map(Cow::into_owned),
        source_ip: ev.source_ip.map(Cow::into_owned),
        vpc_endpoint: ev.vpc_endpoint.map(Cow::into_owned),
        tls,
        user_agent: ev.user_agent.map(Cow::into_owned),
        presigned: additional.presigned,
        access_point,
        headers: params.headers,
        recipient_account: ev.recipient.map(Cow::into_owned),
        acl_required: false,
    })))
}

/// Only the bucket and key of `requestParameters`.
fn bucket_and_key(raw: Option<&RawValue>) -> Result<(String, String), Bad> {
    #[derive(Deserialize)]
    struct P<'a> {
        #[serde(rename = "bucketName", borrow, default)]
        bucket: S<'a>,
        #[serde(borrow, default)]
        key: S<'a>,
    }
    let Some(raw) = raw else {
        return Ok((String::new(), String::new()));
    };
    let p: Option<P<'_>> = serde_json::from_str(raw.get()).map_err(Bad::Json)?;
    Ok(p.map_or_else(Default::default, |p| {
        (
            p.bucket.map(Cow::into_owned).unwrap_or_default(),
            p.key.map(Cow::into_owned).unwrap_or_default(),
        )
    }))
}

#[derive(Default)]
struct Params {
    bucket: String,
    key: String,
    headers: BTreeMap<String, String>,
}

/// The bucket, key and request headers of `requestParameters`.
fn request_parameters(raw: Option<&RawValue>) -> Result<Params, Bad> {
    let Some(raw) = raw else {
        return Ok(Params::default());
    };
    let map: Option<BTreeMap<String, serde_json::Value>> =
        serde_json::from_str(raw.get()).map_err(Bad::Json)?;
    let mut p = Params::default();
    for (k, v) in map.unwrap_or_default() {
        let text = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Array(a) if a.len() == 1 => match &a[0] {
                serde_json::Value::String(s) => s.clone(),
                _ => continue,
            },
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => continue,
        };
        match k.as_str() {
            "bucketName" => p.bucket = text,
            "key" => p.key = text,
            _ => {
                let lower = k.to_ascii_lowercase();
                if lower.starts_with("x-amz-") && lower != "x-amz-date" {
                    p.headers.insert(lower, text);
                }
            }
        }
    }
    Ok(p)
}

struct Additional {
    presigned: bool,
}

fn additional(raw: Option<&RawValue>) -> Result<Additional, Bad> {
    #[derive(Deserialize)]
    struct A<'a> {
        #[serde(rename = "AuthenticationMethod", borrow, default)]
        auth: S<'a>,
    }
    let Some(raw) = raw else {
        return Ok(Additional { presigned: false });
    };
    let a: Option<A<'_>> = serde_json::from_str(raw.get()).map_err(Bad::Json)?;
    Ok(Additional {
        presigned: a.and_then(|a| a.auth).as_deref() == Some("QueryString"),
    })
}

/// The access point ARN among the record's `resources`.
fn access_point(raw: Option<&RawValue>) -> Result<Option<String>, Bad> {
    #[derive(Deserialize)]
    struct R<'a> {
        #[serde(rename = "ARN", borrow, default)]
        arn: S<'a>,
    }
    let Some(raw) = raw else {
        return Ok(None);
    };
    let rs: Option<Vec<R<'_>>> = serde_json::from_str(raw.get()).map_err(Bad::Json)?;
    Ok(rs.unwrap_or_default().into_iter().find_map(|r| {
        r.arn
            .filter(|a| a.contains(":accesspoint/"))
            .map(|a| match a.split_once("/object/") {
                Some((ap, _)) => ap.to_owned(),
                None => a.into_owned(),
            })
    }))
}

fn tls_version(raw: &RawValue) -> Result<Option<String>, Bad> {
    #[derive(Deserialize)]
    struct T<'a> {
        #[serde(rename = "tlsVersion", borrow, default)]
        version: S<'a>,
    }
    let t: Option<T<'_>> = serde_json::from_str(raw.get()).map_err(Bad::Json)?;
    Ok(t.and_then(|t| t.version).map(Cow::into_owned))
}

/// A CloudTrail Lake result row: a list of one-key objects, column name to value. Struct
/// columns (`userIdentity`, `requestParameters`...) come as text in the query engine's map
/// notation (`{type=AssumedRole, arn=arn:aws:sts::...}`), read by [`lake_value`].
fn lake_row(bytes: &[u8]) -> Result<Item, Bad> {
    let row: Vec<BTreeMap<String, Option<serde_json::Value>>> =
        serde_json::from_slice(bytes).map_err(Bad::Json)?;
    let mut ev = serde_json::Map::new();
    for cell in row {
        for (k, v) in cell {
            let k = canonical(&k);
            let mut v = match v {
                // Only struct columns are in map notation: a user agent `[aws-cli/2...]` is
                // text.
                Some(serde_json::Value::String(s)) if STRUCT_COLUMNS.contains(&k.as_str()) => {
                    lake_value(&s)
                }
                Some(other) => other,
                None => continue,
            };
            if k == "eventTime"
                && let Some(t) = v.as_str().and_then(lake_time)
            {
                v = t.into();
            }
            rename_keys(&mut v, 0);
            ev.insert(k, v);
        }
    }
    // Scalar paths a query may select instead of the structs (`userIdentity.arn`,
    // `requestParameters['bucketName']`), named by their last part.
    for (alias, parent, field) in [
        ("arn", "userIdentity", "arn"),
        ("bucketName", "requestParameters", "bucketName"),
        ("key", "requestParameters", "key"),
    ] {
        if let Some(v) = ev.remove(alias) {
            let p = ev
                .entry(parent.to_owned())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            if let Some(m) = p.as_object_mut() {
                m.entry(field.to_owned()).or_insert(v);
            }
        }
    }
    if !ev.contains_key("eventName") && !ev.contains_key("eventSource") {
        return Err(Bad::NotARecord(
            "a result row without `eventName` or `eventSource` (select them in the query)",
        ));
    }
    // A query may leave out eventSource: an upload call's name says S3.
    if !ev.contains_key("eventSource")
        && ev
            .get("eventName")
            .and_then(|n| n.as_str())
            .and_then(Call::from_event_name)
            .is_some()
    {
        ev.insert("eventSource".into(), "s3.amazonaws.com".into());
    }
    let text = serde_json::Value::Object(ev).to_string();
    record(text.as_bytes(), Format::Lake).map_err(wrapped)
}

/// The struct and map columns of a CloudTrail Lake event data store that triage reads.
const STRUCT_COLUMNS: &[&str] = &[
    "userIdentity",
    "requestParameters",
    "additionalEventData",
    "tlsDetails",
    "resources",
];

/// The field names triage reads, by their lower-case form: Lake writes struct fields in lower
/// case, and columns as the query names them.
const FIELDS: &[&str] = &[
    "eventSource",
    "eventName",
    "errorCode",
    "errorMessage",
    "eventTime",
    "eventID",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "vpcEndpointId",
    "recipientAccountId",
    "userIdentity",
    "requestParameters",
    "additionalEventData",
    "tlsDetails",
    "resources",
    "type",
    "arn",
    "accessKeyId",
    "invokedBy",
    "sessionContext",
    "attributes",
    "mfaAuthenticated",
    "sessionIssuer",
    "bucketName",
    "key",
    "tlsVersion",
    "accountId",
    "AuthenticationMethod",
    "ARN",
];

fn canonical(k: &str) -> String {
    FIELDS
        .iter()
        .find(|f| f.eq_ignore_ascii_case(k))
        .map_or_else(|| k.to_owned(), |f| (*f).to_owned())
}

fn rename_keys(v: &mut serde_json::Value, depth: u8) {
    if depth > 16 {
        return;
    }
    match v {
        serde_json::Value::Object(m) => {
            let old = std::mem::take(m);
            for (k, mut x) in old {
                rename_keys(&mut x, depth + 1);
                // Header names in requestParameters keep their case.
                let k = if k.starts_with("x-amz-") {
                    k
                } else {
                    canonical(&k)
                };
                m.insert(k, x);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| rename_keys(x, depth + 1)),
        _ => {}
    }
}

/// Lake's `2026-03-02 08:58:02.000` as ISO 8601 UTC.
fn lake_time(t: &str) -> Option<String> {
    let b = t.as_bytes();
    if b.len() >= 19 && b[10] == b' ' && b[4] == b'-' && b[13] == b':' {
        Some(format!("{}T{}Z", &t[..10], &t[11..19]))
    } else {
        None
    }
}

/// A Lake cell: a map (`{k=v, ...}`) or a list (`[a, b]`) in the query engine's notation
/// becomes JSON; anything else stays text.
pub(crate) fn lake_value(s: &str) -> serde_json::Value {
    let t = s.trim();
    if (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']')) {
        let mut p = LakeParser {
            s: t.as_bytes(),
            i: 0,
        };
        if let Some(v) = p.value(0, false)
            && p.i == t.len()
        {
            return v;
        }
    }
    serde_json::Value::String(s.to_owned())
}

/// Whether `s` starts with `name=` (a map entry's name: letters, digits, `_`, `-`, `$`, `:`).
fn next_is_name(s: &[u8]) -> bool {
    let n = s
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'$' | b':'))
        .count();
    n > 0 && s.get(n) == Some(&b'=')
}

struct LakeParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl LakeParser<'_> {
    /// A value; `in_map` when it is a map's value (a scalar there runs up to `, name=` or the
    /// map's end, so that text with `, `, `]` or `}` in it, such as an object key, is kept).
    fn value(&mut self, depth: u8, in_map: bool) -> Option<serde_json::Value> {
        if depth > 16 {
            return None;
        }
        match self.s.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut m = serde_json::Map::new();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Some(m.into());
                }
                loop {
                    let start = self.i;
                    while *self.s.get(self.i)? != b'=' {
                        self.i += 1;
                    }
                    let key = String::from_utf8_lossy(&self.s[start..self.i])
                        .trim()
                        .to_owned();
                    self.i += 1;
                    let v = self.value(depth + 1, true)?;
                    m.insert(key, v);
                    match self.s.get(self.i)? {
                        b'}' => {
                            self.i += 1;
                            return Some(m.into());
                        }
                        b',' => {
                            self.i += 1;
                            while self.s.get(self.i) == Some(&b' ') {
                                self.i += 1;
                            }
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Some(a.into());
                }
                loop {
                    a.push(self.value(depth + 1, false)?);
                    match self.s.get(self.i)? {
                        b']' => {
                            self.i += 1;
                            return Some(a.into());
                        }
                        b',' => {
                            self.i += 1;
                            while self.s.get(self.i) == Some(&b' ') {
                                self.i += 1;
                            }
                        }
                        _ => return None,
                    }
                }
            }
            _ => {
                // A scalar: up to the separator before the next entry, or a closing bracket
                // that ends its container (followed by the end, `,`, `}` or `]`).
                let start = self.i;
                while let Some(&b) = self.s.get(self.i) {
                    let closes = (b == b'}' || b == b']')
                        && matches!(self.s.get(self.i + 1), None | Some(b',' | b'}' | b']'));
                    let separates = b == b','
                        && self.s.get(self.i + 1) == Some(&b' ')
                        && (!in_map || next_is_name(&self.s[self.i + 2..]));
                    if closes || separates {
                        break;
                    }
                    self.i += 1;
                }
                let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                Some(if text == "null" {
                    serde_json::Value::Null
                } else {
                    serde_json::Value::String(text)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lake_maps_become_json() {
        let v = lake_value(
            "{type=AssumedRole, arn=arn:aws:sts::111122223333:assumed-role/R/s, sessioncontext={attributes={mfaauthenticated=false}}, list=[a, b], empty={}}",
        );
        assert_eq!(v["type"], "AssumedRole");
        assert_eq!(v["arn"], "arn:aws:sts::111122223333:assumed-role/R/s");
        assert_eq!(
            v["sessioncontext"]["attributes"]["mfaauthenticated"],
            "false"
        );
        assert_eq!(v["list"][1], "b");
        assert_eq!(
            lake_value("plain text, with a comma"),
            "plain text, with a comma"
        );
        assert_eq!(lake_value("{broken"), "{broken");
    }

    #[test]
    fn a_lake_row_with_lower_case_struct_fields_is_a_record() {
        let row = br#"[{"eventTime":"2026-03-02 08:58:02.000"},{"eventName":"PutObject"},{"userIdentity":"{type=AssumedRole, arn=arn:aws:sts::111122223333:assumed-role/R/alice, sessioncontext={attributes={mfaauthenticated=true}, sessionissuer={type=Role, arn=arn:aws:iam::111122223333:role/R}}}"},{"requestParameters":"{bucketName=amzn-s3-demo-bucket, key=reports/q3.csv}"},{"errorCode":"AccessDenied"},{"eventID":"3038ebd2-c98a-4c65-9b6e-e22506292313"}]"#;
        let Ok(Item::Upload(r)) = element(row) else {
            panic!("not read")
        };
        assert_eq!(r.format, Format::Lake);
        assert_eq!(r.time, "2026-03-02T08:58:02Z");
        assert_eq!(r.caller.mfa, Some(true));
        assert_eq!(
            r.caller.role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/R")
        );
        assert_eq!(r.key, "reports/q3.csv");
    }

    /// A refused PutObject with `bucketName` and, when given, `resources`.
    fn through(bucket: &str, resource: Option<&str>) -> why403_core::upload::UploadRequest {
        let resources = resource.map_or_else(String::new, |arn| {
            format!(r#","resources":[{{"type":"AWS::S3::AccessPoint","ARN":"{arn}"}}]"#)
        });
        let rec = format!(
            r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice"}},"eventTime":"2026-12-05T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","errorCode":"AccessDenied","requestParameters":{{"bucketName":"{bucket}","key":"reports/q3.csv"}}{resources}}}"#
        );
        let Ok(Item::Upload(r)) = element(rec.as_bytes()) else {
            panic!("not read as an upload: {rec}")
        };
        crate::model::request_of(&r).0
    }

    #[test]
    fn an_upload_through_an_access_point_names_it_as_its_target() {
        use why403_core::upload::{AccessPointRef, Target};
        let ap = "arn:aws:s3:eu-west-1:111122223333:accesspoint/finance-ap";
        let req = through(
            "amzn-s3-demo-bucket",
            Some(&format!("{ap}/object/reports/q3.csv")),
        );
        assert!(
            matches!(&req.target, Target::AccessPoint(AccessPointRef::Arn { arn, name, .. }) if arn == ap && name == "finance-ap"),
            "{:?}",
            req.target
        );
        assert_eq!(
            (req.bucket.as_str(), req.key.as_str()),
            ("amzn-s3-demo-bucket", "reports/q3.csv")
        );
        // Named by its alias, the bucket is the access point's to say.
        let alias = "finance-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias";
        let req = through(alias, None);
        assert_eq!(
            req.target,
            Target::AccessPoint(AccessPointRef::Alias(alias.to_owned()))
        );
        assert_eq!(req.bucket, "");
        let req = through(alias, Some(ap));
        assert!(matches!(
            req.target,
            Target::AccessPoint(AccessPointRef::Arn { .. })
        ));
        assert_eq!(req.bucket, "");
        // A Multi-Region Access Point: the record's bucket is the one the request was routed to.
        let mrap = "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap";
        let req = through("amzn-s3-demo-bucket", Some(mrap));
        assert_eq!(
            req.target,
            Target::MultiRegionAccessPoint {
                account: "111122223333".to_owned(),
                alias: "mfzwi23gnjvgw.mrap".to_owned()
            }
        );
        assert_eq!(req.bucket, "amzn-s3-demo-bucket");
        // A directory bucket, and a bucket.
        let req = through("amzn-s3-demo-bucket--usw2-az1--x-s3", None);
        assert_eq!(req.target, Target::DirectoryBucket);
        assert_eq!(req.bucket, "amzn-s3-demo-bucket--usw2-az1--x-s3");
        assert_eq!(through("amzn-s3-demo-bucket", None).target, Target::Bucket);
    }

    #[test]
    fn a_refused_put_is_read_with_its_facts() {
        let rec = br#"{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Uploader/alice","accessKeyId":"ASIAIOSFODNN7EXAMPLE","sessionContext":{"attributes":{"mfaAuthenticated":"true"},"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/team/Uploader"}}},"eventTime":"2026-12-05T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.10","userAgent":"[aws-cli/2.22.0]","errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":{"bucketName":"amzn-s3-demo-bucket","key":"reports/q3.csv","x-amz-acl":"public-read","Host":"amzn-s3-demo-bucket.s3.amazonaws.com"},"additionalEventData":{"AuthenticationMethod":"AuthHeader"},"tlsDetails":{"tlsVersion":"TLSv1.3"},"eventID":"3038ebd2-c98a-4c65-9b6e-e22506292313","vpcEndpointId":"vpce-1a2b3c4d"}"#;
        let Ok(Item::Upload(r)) = element(rec) else {
            panic!("not read as an upload")
        };
        assert_eq!(r.call, Call::PutObject);
        assert_eq!(r.bucket, "amzn-s3-demo-bucket");
        assert_eq!(r.key, "reports/q3.csv");
        assert_eq!(r.code.as_deref(), Some("AccessDenied"));
        assert_eq!(r.http_status, Some(403));
        assert_eq!(r.caller.mfa, Some(true));
        assert_eq!(
            r.caller.role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/team/Uploader")
        );
        assert_eq!(
            r.headers.get("x-amz-acl").map(String::as_str),
            Some("public-read")
        );
        assert!(!r.headers.contains_key("host"));
        assert_eq!(r.tls, Some(true));
        assert_eq!(r.vpc_endpoint.as_deref(), Some("vpce-1a2b3c4d"));
        // The same record wrapped by lookup-events and EventBridge.
        let text = String::from_utf8_lossy(rec);
        let lookup = serde_json::json!({"EventId": "x", "CloudTrailEvent": text}).to_string();
        assert!(
            matches!(element(lookup.as_bytes()), Ok(Item::Upload(r)) if r.format == Format::LookupEvents)
        );
        let eb = format!(
            r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{text}}}"#
        );
        assert!(
            matches!(element(eb.as_bytes()), Ok(Item::Upload(r)) if r.format == Format::EventBridge)
        );
    }

    #[test]
    fn other_records_and_bad_ones_are_told_apart() {
        assert!(matches!(
            element(br#"{"eventSource":"sts.amazonaws.com","eventName":"AssumeRole"}"#),
            Ok(Item::Other(_))
        ));
        assert!(matches!(
            element(br#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied"}"#),
            Ok(Item::Other(_))
        ));
        assert!(matches!(
            element(br#"{"eventSource":"s3.amazonaws.com","eventName":"PutObject","errorCode":"SlowDown"}"#),
            Ok(Item::Other(_))
        ));
        assert!(matches!(
            element(br#"{"hello":1}"#),
            Err(Bad::NotARecord(_))
        ));
        assert!(matches!(element(b"42"), Err(Bad::NotARecord(_))));
        assert!(matches!(
            element(br#"{"eventSource":"s3.amazonaws.com","eventName":7}"#),
            Err(Bad::Json(_))
        ));
    }
}
