//! Unit tests of batch evaluation (`why403 eval`, docs/eval-format.md): one result line per
//! request, error records that locate the problem, the compiled-policy cache, and the
//! multi-threaded stream keeping input order.

use serde_json::{Value, json};

use super::{BatchEvaluator, eval_stream};

const USER: &str = "arn:aws:iam::111122223333:user/alice";
const EXT_USER: &str = "arn:aws:iam::444455556666:user/dave";
const ACCOUNT: &str = "111122223333";
const OBJECT: &str = "arn:aws:s3:::amzn-s3-demo-bucket/uploads/report.csv";
const OBJECTS: &str = "arn:aws:s3:::amzn-s3-demo-bucket/*";

fn put_request(principal: Option<&str>) -> Value {
    json!({
        "principal": principal,
        "anonymous": principal.is_none(),
        "action": "s3:PutObject",
        "resource": OBJECT,
        "resource_account": ACCOUNT,
        "context": {}
    })
}

fn identity_allowing_put() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AllowUpload", "Effect": "Allow", "Action": "s3:PutObject", "Resource": OBJECTS}]
    })
}

/// Policies under which alice may upload, with every member of the format present.
fn allowing_policies() -> Value {
    json!({
        "identity": [identity_allowing_put()],
        "resource": null,
        "scp": [],
        "rcp": [],
        "boundary": null,
        "session": null,
        "vpc_endpoint": null
    })
}

fn line(id: Value, request: Value, policies: Value) -> String {
    json!({"id": id, "request": request, "policies": policies}).to_string()
}

/// Evaluates one line and returns whether it succeeded and the parsed output record.
fn eval_one(b: &mut BatchEvaluator, text: &str, line_no: u64) -> (bool, Value) {
    let mut out = String::new();
    let ok = b.eval_line(text, line_no, &mut out);
    assert!(out.ends_with('\n'), "{out:?}");
    assert_eq!(out.matches('\n').count(), 1, "{out:?}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (ok, v)
}

/// The 1-based column of the first occurrence of `needle` in an ASCII line.
fn column_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in {text}"))
        + 1
}

fn error_of(v: &Value) -> &str {
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error record: {v}"))
}

#[test]
fn a_well_formed_line_gives_the_decision_and_the_deciding_statements() {
    let mut b = BatchEvaluator::new();
    let text = line(
        json!("put-ok"),
        put_request(Some(USER)),
        allowing_policies(),
    );
    let (ok, v) = eval_one(&mut b, &text, 1);
    assert!(ok);
    assert_eq!(
        v,
        json!({
            "id": "put-ok",
            "decision": "Allowed",
            "deciding": [{"layer": "identity", "policy": 0, "statement": 0, "sid": "AllowUpload"}]
        })
    );
    assert_eq!(b.stats.lines, 1);
    assert_eq!(b.stats.errors, 0);
}

#[test]
fn explicit_deny_names_the_level_policy_statement_and_sid() {
    // AWS §C.1 step 1 and 3: the Deny of the second SCP of level 1 decides.
    let mut policies = allowing_policies();
    let full = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let deny_s3 = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "DenyS3Writes", "Effect": "Deny", "Action": "s3:Put*", "Resource": "*"}
        ]
    });
    policies["scp"] = json!([[full], [full, deny_s3]]);
    let mut b = BatchEvaluator::new();
    let (ok, v) = eval_one(
        &mut b,
        &line(json!(7), put_request(Some(USER)), policies),
        1,
    );
    assert!(ok);
    assert_eq!(
        v,
        json!({
            "id": 7,
            "decision": "ExplicitlyDenied",
            "deciding": [{"layer": "scp", "level": 1, "policy": 1, "statement": 1, "sid": "DenyS3Writes"}]
        })
    );
}

#[test]
fn implicit_deny_lists_the_blocking_layers() {
    // AWS §C.2: cross-account, neither the bucket policy nor the identity policy allows.
    let mut request = put_request(Some(EXT_USER));
    request["resource_account"] = json!(ACCOUNT);
    let mut policies = allowing_policies();
    policies["identity"] = json!([]);
    policies["scp"] = json!([[]]);
    let mut b = BatchEvaluator::new();
    let (ok, v) = eval_one(&mut b, &line(json!({"case": 3}), request, policies), 1);
    assert!(ok);
    assert_eq!(
        v,
        json!({
            "id": {"case": 3},
            "decision": "ImplicitlyDenied",
            "deciding": [],
            "blocked_by": [{"layer": "scp", "level": 0}, {"layer": "resource"}, {"layer": "identity"}]
        })
    );
}

#[test]
fn anonymous_requests_policies_given_as_strings_and_url_encoded() {
    // A policy may be given as a JSON string holding the document, raw or URL-encoded as IAM
    // returns it.
    let bucket = json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicUpload", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": OBJECTS}]
    })
    .to_string();
    let encoded: String = bucket
        .bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect();
    let mut b = BatchEvaluator::new();
    for resource in [bucket, encoded] {
        let mut policies = allowing_policies();
        policies["identity"] = json!([]);
        policies["resource"] = json!(resource);
        let (ok, v) = eval_one(&mut b, &line(json!("anon"), put_request(None), policies), 1);
        assert!(ok, "{v}");
        assert_eq!(
            v,
            json!({
                "id": "anon",
                "decision": "Allowed",
                "deciding": [{"layer": "resource", "policy": 0, "statement": 0, "sid": "PublicUpload"}]
            })
        );
    }
}

#[test]
fn settings_turn_on_restrict_public_buckets() {
    // AWS §G.4: with RestrictPublicBuckets, an anonymous request through a public policy is
    // rejected.
    let mut policies = allowing_policies();
    policies["resource"] = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": OBJECTS}]
    });
    let mut b = BatchEvaluator::new();
    let mut record = json!({"id": "bpa", "request": put_request(None), "policies": policies});
    let (_, v) = eval_one(&mut b, &record.to_string(), 1);
    assert_eq!(v["decision"], "Allowed");
    record["settings"] = json!({"s3_block_public_access": true});
    let (ok, v) = eval_one(&mut b, &record.to_string(), 2);
    assert!(ok);
    assert_eq!(v["decision"], "ExplicitlyDenied");
    assert_eq!(v["deciding"], json!([]));
    // Same policies text: compiled once.
    assert_eq!(b.stats.cache_misses, 1);
}

#[test]
fn restrict_public_buckets_rejection_names_block_public_access() {
    let mut policies = allowing_policies();
    policies["resource"] = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": OBJECTS}]
    });
    let record = json!({
        "id": "bpa",
        "request": put_request(None),
        "policies": policies,
        "settings": {"s3_block_public_access": true}
    });
    let (_, v) = eval_one(&mut BatchEvaluator::new(), &record.to_string(), 1);
    assert_eq!(v["decision"], "ExplicitlyDenied");
    assert_eq!(
        v["blocked_by"],
        json!([{"layer": "s3_block_public_access"}])
    );
}

// ---------------------------------------------------------------------------------------------
// Error records
// ---------------------------------------------------------------------------------------------

#[test]
fn a_line_that_is_not_json_is_an_error_record() {
    let mut b = BatchEvaluator::new();
    let (ok, v) = eval_one(&mut b, "this is not json", 3);
    assert!(!ok);
    assert_eq!(v["id"], Value::Null);
    assert_eq!(v["line"], 3);
    assert_eq!(
        error_of(&v),
        "line 3: column 1: expected a JSON object (`{`) for the record"
    );

    // Broken structure after a readable id: the id is not trusted either.
    let (ok, v) = eval_one(&mut b, r#"{"id": "x", "request": {"action": }"#, 4);
    assert!(!ok);
    assert_eq!(v["line"], 4);
    let e = error_of(&v);
    assert!(e.starts_with("line 4: column "), "{e}");
    assert_eq!(b.stats.lines, 2);
    assert_eq!(b.stats.errors, 2);
}

#[test]
fn a_policy_that_is_not_json_is_located_in_the_line() {
    let mut policies = allowing_policies();
    policies["identity"] = json!(["{\"Version\": \"2012-10-17\", \"Statement\": "]);
    let text = line(json!("bad-policy"), put_request(Some(USER)), policies);
    let mut b = BatchEvaluator::new();
    let (ok, v) = eval_one(&mut b, &text, 12);
    assert!(!ok);
    assert_eq!(v["id"], "bad-policy");
    assert_eq!(v["line"], 12);
    // A policy given as a string is located at the start of the string.
    let col = column_of(&text, r#""{\"Version\""#);
    let e = error_of(&v);
    assert!(
        e.starts_with(&format!(
            "line 12: column {col}: `/policies/identity/0/Statement`: "
        )),
        "{e}"
    );
    assert!(e.contains("expected a JSON value"), "{e}");
}

#[test]
fn a_policy_object_that_is_not_a_policy_is_located_in_the_line() {
    // The `policies` member itself has the wrong shape.
    let mut policies = allowing_policies();
    policies["identity"] = json!({"not": "a list"});
    let text = line(json!("bad-shape"), put_request(Some(USER)), policies);
    let (ok, v) = eval_one(&mut BatchEvaluator::new(), &text, 2);
    assert!(!ok);
    let e = error_of(&v);
    assert!(e.starts_with("line 2: column "), "{e}");
    assert!(e.contains("`/policies`:"), "{e}");
}

#[test]
fn an_invalid_effect_is_located_in_the_line() {
    // AWS §D.1: Effect is `Allow` or `Deny`, case-sensitive.
    let mut policies = allowing_policies();
    policies["identity"][0]["Statement"][0]["Effect"] = json!("allow");
    let text = line(
        json!("lower-case-effect"),
        put_request(Some(USER)),
        policies,
    );
    let mut b = BatchEvaluator::new();
    let (ok, v) = eval_one(&mut b, &text, 5);
    assert!(!ok);
    let col = column_of(&text, r#""allow""#);
    assert_eq!(
        error_of(&v),
        format!(
            "line 5: column {col}: `/policies/identity/0/Statement/0/Effect`: `Effect` must be \"Allow\" or \"Deny\", found \"allow\""
        )
    );
    assert_eq!(v["id"], "lower-case-effect");
    assert_eq!(b.stats.errors, 1);
}

#[test]
fn an_unknown_operator_is_located_in_the_line() {
    // AWS §D.3: operator names are a fixed, case-sensitive set.
    let mut policies = allowing_policies();
    policies["resource"] = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": OBJECTS,
            "Condition": {"StringEqualz": {"s3:x-amz-acl": "public-read"}}
        }]
    });
    let text = line(json!("typo"), put_request(Some(USER)), policies);
    let (ok, v) = eval_one(&mut BatchEvaluator::new(), &text, 9);
    assert!(!ok);
    let col = column_of(&text, r#""StringEqualz""#);
    let e = error_of(&v);
    assert!(
        e.starts_with(&format!(
            "line 9: column {col}: `/policies/resource/Statement/0/Condition/StringEqualz`: unknown condition operator"
        )),
        "{e}"
    );
}

#[test]
fn records_without_a_request_or_policies_are_errors() {
    let mut b = BatchEvaluator::new();
    let (ok, v) = eval_one(
        &mut b,
        &json!({"id": 1, "policies": allowing_policies()}).to_string(),
        1,
    );
    assert!(!ok);
    assert_eq!(error_of(&v), "line 1: the record has no `request`");
    let (ok, v) = eval_one(
        &mut b,
        &json!({"id": 2, "request": put_request(Some(USER))}).to_string(),
        2,
    );
    assert!(!ok);
    assert_eq!(error_of(&v), "line 2: the record has no `policies`");
    let mut request = put_request(Some(USER));
    request["action"] = json!(5);
    let (ok, v) = eval_one(&mut b, &line(json!(3), request, allowing_policies()), 3);
    assert!(!ok);
    assert!(error_of(&v).starts_with("line 3: `/request`: "), "{v}");
}

// ---------------------------------------------------------------------------------------------
// Cache, blank lines, streams
// ---------------------------------------------------------------------------------------------

#[test]
fn the_same_policies_text_is_compiled_once() {
    let mut b = BatchEvaluator::new();
    let mut out = String::new();
    let policies = allowing_policies();
    assert!(b.eval_line(
        &line(json!(1), put_request(Some(USER)), policies.clone()),
        1,
        &mut out
    ));
    assert!(b.eval_line(
        &line(json!(2), put_request(None), policies.clone()),
        2,
        &mut out
    ));
    assert_eq!(b.stats.cache_misses, 1);
    assert_eq!(b.stats.lines, 2);
    let mut other = policies;
    other["identity"] = json!([]);
    assert!(b.eval_line(&line(json!(3), put_request(Some(USER)), other), 3, &mut out));
    assert_eq!(b.stats.cache_misses, 2);
    assert_eq!(out.lines().count(), 3);
}

#[test]
fn blank_lines_are_skipped() {
    let mut b = BatchEvaluator::new();
    let mut out = String::new();
    assert!(b.eval_line("", 1, &mut out));
    assert!(b.eval_line("   \t ", 2, &mut out));
    assert!(out.is_empty());
    assert_eq!(b.stats.lines, 0);
}

/// Runs `eval_stream` and returns the parsed output records and the stats.
fn stream(input: &str, threads: usize) -> (Vec<Value>, super::BatchStats) {
    let mut out = Vec::new();
    let stats = eval_stream(input.as_bytes(), &mut out, threads).unwrap();
    let text = String::from_utf8(out).unwrap();
    let records = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (records, stats)
}

#[test]
fn eval_stream_keeps_input_order_and_counts() {
    let allow = allowing_policies();
    let mut deny = allowing_policies();
    deny["identity"] = json!([]);
    let input = [
        line(json!("a"), put_request(Some(USER)), allow.clone()),
        String::new(),
        line(json!("b"), put_request(Some(USER)), deny.clone()),
        "{not json".to_owned(),
        "   ".to_owned(),
        line(json!("c"), put_request(Some(USER)), allow.clone()),
        line(json!("d"), put_request(Some(USER)), deny),
        line(json!("e"), put_request(Some(USER)), allow),
    ]
    .join("\n")
        + "\n";
    for threads in [1, 2, 3, 16] {
        let (records, stats) = stream(&input, threads);
        let ids: Vec<&Value> = records.iter().map(|r| &r["id"]).collect();
        assert_eq!(
            ids,
            [
                &json!("a"),
                &json!("b"),
                &Value::Null,
                &json!("c"),
                &json!("d"),
                &json!("e")
            ],
            "{threads}"
        );
        let decisions: Vec<&Value> = records.iter().map(|r| &r["decision"]).collect();
        assert_eq!(
            decisions,
            [
                &json!("Allowed"),
                &json!("ImplicitlyDenied"),
                &Value::Null,
                &json!("Allowed"),
                &json!("ImplicitlyDenied"),
                &json!("Allowed")
            ]
        );
        // The bad line is named by its line number in the input, blank lines included.
        assert_eq!(records[2]["line"], 4, "{threads}");
        assert!(
            error_of(&records[2]).starts_with("line 4: "),
            "{}",
            records[2]
        );
        assert_eq!(stats.lines, 6, "{threads}");
        assert_eq!(stats.errors, 1, "{threads}");
        // Each worker compiles each distinct policies text at most once.
        assert!(
            (2..=2 * threads.min(6) as u64).contains(&stats.cache_misses),
            "{stats:?}"
        );
        if threads == 1 {
            assert_eq!(stats.cache_misses, 2);
        }
    }
}

#[test]
fn eval_stream_on_a_tiny_input() {
    // One line, no trailing newline, more workers than lines.
    let one = line(json!("only"), put_request(Some(USER)), allowing_policies());
    let (records, stats) = stream(&one, 2);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["id"], "only");
    assert_eq!(records[0]["decision"], "Allowed");
    assert_eq!((stats.lines, stats.errors, stats.cache_misses), (1, 0, 1));

    // Nothing at all, or only blank lines.
    for input in ["", "\n\n  \n"] {
        let (records, stats) = stream(input, 2);
        assert!(records.is_empty());
        assert_eq!(stats, super::BatchStats::default());
    }

    // Zero threads means one.
    let (records, _) = stream(&one, 0);
    assert_eq!(records.len(), 1);
}

#[test]
fn eval_stream_keeps_order_across_many_lines_and_workers() {
    let allow = allowing_policies();
    let mut deny = allowing_policies();
    deny["identity"] = json!([]);
    let input: String = (0..500)
        .map(|i| {
            let p = if i % 3 == 0 { &deny } else { &allow };
            line(json!(i), put_request(Some(USER)), p.clone()) + "\n"
        })
        .collect();
    let (records, stats) = stream(&input, 4);
    assert_eq!(records.len(), 500);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["id"], i, "{r}");
        let want = if i % 3 == 0 {
            "ImplicitlyDenied"
        } else {
            "Allowed"
        };
        assert_eq!(r["decision"], want, "{r}");
    }
    assert_eq!((stats.lines, stats.errors), (500, 0));
}

/// The one-pass reader of `request` and serde agree on every request the fast reader accepts,
/// and the fast reader declines what it does not handle (serde then reads it or reports it).
#[test]
fn the_fast_request_reader_agrees_with_serde() {
    let cases = [
        // (text, whether the fast reader takes it)
        (
            r#"{"principal":"arn:aws:iam::111122223333:user/alice","action":"s3:PutObject","resource":"arn:aws:s3:::b/k","context":{}}"#,
            true,
        ),
        (
            r#" { "anonymous" : true , "principal" : "arn:aws:iam::1:user/x", "action":"s3:GetObject","resource":"*","resource_account":"444455556666","wildcard_only_action":true,"extra":{"a":[1,{"b":null}]} } "#,
            true,
        ),
        (
            r#"{"principal":null,"action":"a:b","resource":"r","resource_account":null}"#,
            true,
        ),
        (
            r#"{"action":"s3:PutObject","resource":"r","context":{"aws:SourceIp":"10.0.0.1","aws:SecureTransport":true,"aws:MultiFactorAuthPresent":false,"s3:TlsVersion":1.3,"n":42,"z":0,"neg":-5,"f":1.30,"e":1e2,"d":1.3,"d2":123456789.123456,"d3":0.5,"d4":10.25,"d5":1.000001,"d6":-2.5,"big":123456789012345678901234,"gone":null}}"#,
            true,
        ),
        (
            r#"{"action":"s3:PutObject","resource":"r","context":{"aws:TagKeys":["a","b",null,3,true],"empty":[],"AWS:SourceIp":"1.1.1.1","aws:sourceip":"2.2.2.2"}}"#,
            true,
        ),
        // Declined: escapes, nested arrays in a multivalued key, an object value, duplicates,
        // wrong types, a missing action.
        (r#"{"action":"s3:Put\u004fbject","resource":"r"}"#, false),
        (
            r#"{"action":"s3:PutObject","resource":"r","context":{"k":[["x"],"y"]}}"#,
            false,
        ),
        (
            r#"{"action":"s3:PutObject","resource":"r","context":{"k":{"x":1}}}"#,
            false,
        ),
        (
            r#"{"action":"s3:PutObject","action":"s3:GetObject","resource":"r"}"#,
            false,
        ),
        (
            r#"{"action":"s3:PutObject","resource":"r","anonymous":"yes"}"#,
            false,
        ),
        (r#"{"resource":"r"}"#, false),
        (
            r#"{"action":"s3:PutObject","resource":"r","context":{"k":"a	b"}}"#,
            false,
        ),
    ];
    for (text, fast_takes) in cases {
        let fast = super::fast::request(text, 0, crate::context::RequestContext::new());
        let slow = super::record::parse_request(text);
        assert_eq!(fast.is_some(), fast_takes, "{text}");
        let Some((f, end)) = fast else { continue };
        assert_eq!(
            text[end..].trim(),
            "",
            "the reader stops after the object: {text}"
        );
        let (s, _) =
            slow.unwrap_or_else(|e| panic!("serde rejects what the fast reader took: {e}\n{text}"));
        assert_eq!(f.principal, s.principal, "{text}");
        assert_eq!(f.action, s.action, "{text}");
        assert_eq!(f.resource, s.resource, "{text}");
        assert_eq!(f.resource_account, s.resource_account, "{text}");
        assert_eq!(f.wildcard_only_action, s.wildcard_only_action, "{text}");
        assert_eq!(f.context, s.context, "{text}");
    }
}

/// A line whose request the fast reader declines is still evaluated (by serde) or rejected
/// with serde's message.
#[test]
fn requests_the_fast_reader_declines_are_read_by_serde() {
    let policies = json!({"identity": [identity_allowing_put()]});
    let escaped = format!(
        r#"{{"id":1,"request":{{"principal":"{USER}","action":"s3:Put\u004fbject","resource":"{OBJECT}","resource_account":"{ACCOUNT}"}},"policies":{policies}}}"#
    );
    let twice = format!(
        r#"{{"id":2,"request":{{"principal":"{USER}","action":"s3:PutObject","action":"s3:GetObject","resource":"{OBJECT}"}},"policies":{policies}}}"#
    );
    let mut b = BatchEvaluator::new();
    let mut out = String::new();
    assert!(b.eval_line(&escaped, 1, &mut out));
    assert!(!b.eval_line(&twice, 2, &mut out));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["decision"], "Allowed");
    let err = lines[1]["error"].as_str().unwrap();
    assert!(
        err.contains("line 2") && err.contains("duplicate field `action`"),
        "{err}"
    );
}

/// Each line's request context is its own: a key of one line is never seen by the next, even
/// though the batch reuses the context's buffers from line to line.
#[test]
fn a_line_never_sees_the_context_of_the_line_before() {
    let policies = json!({"identity": [{
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": OBJECTS,
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]
    }]});
    let mut with_ip = put_request(Some(USER));
    with_ip["context"] = json!({"aws:SourceIp": "10.1.2.3", "aws:SecureTransport": true});
    let mut without = put_request(Some(USER));
    without["context"] = json!({"aws:SecureTransport": true});
    let mut b = BatchEvaluator::new();
    let mut out = String::new();
    for (i, req) in [&with_ip, &without, &with_ip].iter().enumerate() {
        let line = json!({"id": i, "request": req, "policies": policies}).to_string();
        assert!(b.eval_line(&line, i as u64 + 1, &mut out));
    }
    let decisions: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["decision"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(decisions, ["Allowed", "ImplicitlyDenied", "Allowed"]);
}

/// Decimal context values read back exactly as serde writes them, over many shapes.
#[test]
fn decimal_context_values_read_like_serde() {
    let ints = [
        "1",
        "7",
        "10",
        "42",
        "99999",
        "123456789",
        "0",
        "00",
        "1234567890",
    ];
    let fracs = [
        "1", "3", "25", "5", "000001", "999999", "1000", "10", "0", "1234567",
    ];
    for i in ints {
        for f in fracs {
            let n = format!("{i}.{f}");
            let text = format!(r#"{{"action":"a:b","resource":"r","context":{{"k":{n}}}}}"#);
            let slow = super::record::parse_request(&text);
            let fast = super::fast::request(&text, 0, crate::context::RequestContext::new());
            match (fast, slow) {
                (Some((f, _)), Ok((s, _))) => assert_eq!(f.context, s.context, "{n}"),
                (None, _) => {}
                (Some(_), Err(e)) => panic!("serde rejects {n}: {e}"),
            }
        }
    }
}
