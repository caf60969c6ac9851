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
    assert!(e.contains("`/policies/identity`: invalid type: map"), "{e}");
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
    assert_eq!(
        error_of(&v),
        "line 1: column 1: the record has no `request`"
    );
    let (ok, v) = eval_one(
        &mut b,
        &json!({"id": 2, "request": put_request(Some(USER))}).to_string(),
        2,
    );
    assert!(!ok);
    assert_eq!(
        error_of(&v),
        "line 2: column 1: the record has no `policies`"
    );
    // serde's errors are located at the member, with its pointer and its column in the line.
    let mut request = put_request(Some(USER));
    request["action"] = json!(5);
    let text = line(json!(3), request, allowing_policies());
    let (ok, v) = eval_one(&mut b, &text, 3);
    assert!(!ok);
    let col = column_of(&text, "5,");
    assert_eq!(
        error_of(&v),
        format!(
            "line 3: column {col}: `/request/action`: invalid type: integer `5`, expected a string"
        ),
        "{v}"
    );
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
            r#" { "anonymous" : true , "principal" : "arn:aws:iam::1:user/x", "action":"s3:GetObject","resource":"*","resource_account":"444455556666","wildcard_only_action":true } "#,
            true,
        ),
        // Declined: a member it does not know (serde checks it is not given twice).
        (
            r#"{"action":"s3:PutObject","resource":"r","extra":{"a":[1,{"b":null}]}}"#,
            false,
        ),
        (
            r#"{"principal":null,"action":"a:b","resource":"r","resource_account":null}"#,
            true,
        ),
        (
            r#"{"action":"s3:PutObject","resource":"r","context":{"aws:SourceIp":"10.0.0.1","aws:SecureTransport":true,"aws:MultiFactorAuthPresent":false,"s3:TlsVersion":1.3,"n":42,"z":0,"neg":-5,"f":1.30,"e":1e2,"d":1.3,"d2":123456789.123456,"d3":0.5,"d4":10.25,"d5":1.000001,"d6":-2.5,"big":123456789012345678901234}}"#,
            true,
        ),
        (
            r#"{"action":"s3:PutObject","resource":"r","context":{"aws:TagKeys":["a","b",null,3,true],"empty":[],"AWS:SourceIp":"1.1.1.1"}}"#,
            true,
        ),
        // Declined: a null context value (serde checks the key is not given twice).
        (
            r#"{"action":"s3:PutObject","resource":"r","context":{"gone":null}}"#,
            false,
        ),
        // Declined, and an error for serde: a context key twice, in any case.
        (
            r#"{"action":"s3:PutObject","resource":"r","context":{"AWS:SourceIp":"1.1.1.1","aws:sourceip":"2.2.2.2"}}"#,
            false,
        ),
        (
            r#"{"action":"s3:PutObject","resource":"r","context":{"k":"1","k":["2"]}}"#,
            false,
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
        let (s, _) = slow
            .unwrap_or_else(|e| panic!("serde rejects what the fast reader took: {e:?}\n{text}"));
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
    let col = column_of(&twice, r#""action":"s3:GetObject""#);
    assert_eq!(
        err,
        format!("line 2: column {col}: `/request/action` appears twice")
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
                (Some(_), Err(e)) => panic!("serde rejects {n}: {e:?}"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile and careless input
// ---------------------------------------------------------------------------------------------

/// A member given twice is an error located at its second copy, and the decision never
/// depends on the line before: a record whose first `policies` is empty was ImplicitlyDenied
/// alone but Allowed after a normal line (the repeated text was recognised at the second copy).
#[test]
fn a_member_given_twice_is_an_error_whatever_the_line_before() {
    let normal = line(json!(0), put_request(Some(USER)), allowing_policies());
    let twice = format!(
        r#"{{"id":1,"request":{},"policies":{{}},"policies":{}}}"#,
        put_request(Some(USER)),
        allowing_policies()
    );
    let col = twice.rfind(r#""policies""#).unwrap() + 1;
    let want = format!("line 2: column {col}: `/policies` appears twice in the record");
    for before in [None, Some(&normal)] {
        let mut b = BatchEvaluator::new();
        if let Some(l) = before {
            assert!(eval_one(&mut b, l, 1).0);
        }
        let (ok, v) = eval_one(&mut b, &twice, 2);
        assert!(!ok, "{v}");
        assert_eq!(error_of(&v), want);
        assert_eq!(v["id"], 1);
    }
    // `id` and `request` too; the first `id` is echoed.
    let id_twice = format!(
        r#"{{"id":"a","request":{},"id":"b","policies":{}}}"#,
        put_request(Some(USER)),
        allowing_policies()
    );
    let request_twice = format!(
        r#"{{"id":"c","request":{},"policies":{},"request":{}}}"#,
        put_request(Some(USER)),
        allowing_policies(),
        put_request(None),
    );
    // Members of `policies` and `settings` as well.
    let policies_twice = format!(
        r#"{{"id":5,"request":{},"policies":{{"identity":[],"identity":[{}]}}}}"#,
        put_request(Some(USER)),
        identity_allowing_put()
    );
    let settings_twice = format!(
        r#"{{"id":6,"request":{},"policies":{},"settings":{{"s3_block_public_access":true,"s3_block_public_access":false}}}}"#,
        put_request(Some(USER)),
        allowing_policies()
    );
    let mut b = BatchEvaluator::new();
    for (text, key, message) in [
        (&id_twice, r#""id""#, "`/id` appears twice in the record"),
        (
            &request_twice,
            r#""request""#,
            "`/request` appears twice in the record",
        ),
        (
            &policies_twice,
            r#""identity""#,
            "`/policies/identity` appears twice",
        ),
        (
            &settings_twice,
            r#""s3_block"#,
            "`/settings/s3_block_public_access` appears twice",
        ),
    ] {
        let (ok, v) = eval_one(&mut b, text, 3);
        assert!(!ok);
        // The second copy's column.
        let col = text.rfind(key).unwrap() + 1;
        assert_eq!(error_of(&v), format!("line 3: column {col}: {message}"));
        if text == &id_twice {
            assert_eq!(v["id"], "a");
        }
    }
}

/// A context key given twice, also in another case (condition keys compare in any case), is an
/// error on the fast reader's lines as on serde's (it kept the last value).
#[test]
fn a_context_key_given_twice_in_any_case_is_an_error() {
    let policies = allowing_policies();
    for (context, second) in [
        (
            r#"{"aws:SourceIp":"10.0.0.1","aws:SourceIp":"10.0.0.2"}"#,
            r#""aws:SourceIp":"10.0.0.2""#,
        ),
        (
            r#"{"AWS:SourceIp":"10.0.0.1","aws:sourceip":"10.0.0.2"}"#,
            r#""aws:sourceip""#,
        ),
        // serde's reader (an escape sends the request there).
        (
            r#"{"aws:SourceIp":"10.0.0.\u0031","aws:SOURCEIP":["10.0.0.2"]}"#,
            r#""aws:SOURCEIP""#,
        ),
        (r#"{"k":null,"K":"x"}"#, r#""K""#),
    ] {
        let text = format!(
            r#"{{"id":1,"request":{{"principal":"{USER}","action":"s3:PutObject","resource":"{OBJECT}","context":{context}}},"policies":{policies}}}"#
        );
        let (ok, v) = eval_one(&mut BatchEvaluator::new(), &text, 1);
        assert!(!ok, "{text}");
        let err = error_of(&v);
        let col = column_of(&text, second);
        let key = &second[1..second[1..].find('"').unwrap() + 1];
        assert!(
            err.starts_with(&format!(
                "line 1: column {col}: `/request/context/{key}` appears twice"
            )),
            "{err}\n{text}"
        );
    }
}

/// A tiny deterministic generator (the mutations must be reproducible).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn below(&mut self, n: usize) -> usize {
        self.next() % n.max(1)
    }
}

/// Mutates a record the ways careless or hostile input does: members and context keys given
/// twice (in another case too), values of other types, escapes, nulls, bytes cut, replaced or
/// inserted.
fn mutate(text: &str, rng: &mut Lcg) -> String {
    let pick = |rng: &mut Lcg, options: &[&str]| options[rng.below(options.len())].to_owned();
    let insert_at = |text: &str, needle: &str, what: &str| match text.find(needle) {
        Some(i) => format!("{}{what}{}", &text[..i], &text[i..]),
        None => text.to_owned(),
    };
    match rng.below(12) {
        0 => insert_at(
            text,
            r#""policies""#,
            &pick(
                rng,
                &[
                    r#""policies":{},"#,
                    r#""id":7,"#,
                    r#""request":{"action":"a:b","resource":"r"},"#,
                    r#""settings":{},"#,
                ],
            ),
        ),
        1 => insert_at(
            text,
            r#""action""#,
            &pick(
                rng,
                &[
                    r#""action":"s3:GetObject","#,
                    r#""resource":"*","#,
                    r#""principal":null,"#,
                    r#""anonymous":true,"#,
                    r#""context":{},"#,
                    r#""extra":[1,{"x":null}],"#,
                ],
            ),
        ),
        2 => insert_at(
            text,
            r#""aws:SourceIp""#,
            &pick(
                rng,
                &[
                    r#""AWS:SOURCEIP":"10.1.1.1","#,
                    r#""aws:SourceIp":["10.1.1.1"],"#,
                    r#""aws:sourceip":null,"#,
                    r#""k":{"x":1},"#,
                    r#""k":[["x"],"y"],"#,
                    r#""k":1e400,"#,
                    r#""k":-0.0,"#,
                    r#""k":"\u0041","#,
                ],
            ),
        ),
        3 => text.replacen("10.0.0.1", &pick(rng, &["10.0.0.\\u0031", "10.0.0.1\t"]), 1),
        4 => text.replacen(
            r#""s3:PutObject""#,
            &pick(
                rng,
                &["5", "null", "[]", "{}", r#""s3:Put\u004fbject""#, "true"],
            ),
            1,
        ),
        5 => text.replacen(
            "true",
            &pick(rng, &["1", r#""true""#, "null", "tru", "false"]),
            1,
        ),
        6 => {
            // Cut the line short.
            let mut cut = rng.below(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_owned()
        }
        7 | 8 => {
            // Replace one byte with a structural character.
            let i = rng.below(text.len());
            if !text.is_char_boundary(i) || !text.is_char_boundary(i + 1) {
                return text.to_owned();
            }
            let c = pick(
                rng,
                &["{", "}", "[", "]", ",", ":", "\"", "\\", " ", "0", "x"],
            );
            format!("{}{c}{}", &text[..i], &text[i + 1..])
        }
        9 => text.replacen(
            r#""context":{"#,
            &pick(
                rng,
                &[
                    r#""context":null,"x":{"#,
                    r#""context":[],"x":{"#,
                    r#""context":{"#,
                ],
            ),
            1,
        ),
        10 => text.replacen(
            r#""Effect":"Allow""#,
            &pick(
                rng,
                &[r#""Effect":"allow""#, r#""Effect":"Allow","Effect":"Deny""#],
            ),
            1,
        ),
        _ => text.replacen(
            r#""identity""#,
            &pick(
                rng,
                &[r#""identity":[],"identity""#, r#""IDENTITY""#, r#""scp""#],
            ),
            1,
        ),
    }
}

/// The fast path (the one-pass request reader, the recently seen `policies` texts) and the
/// slow path (every member scanned, the request read by serde) give the same output, byte for
/// byte, on lines mutated from well-formed ones, whatever the lines before.
#[test]
fn fast_and_slow_paths_agree_on_mutated_lines() {
    let mut with_context = put_request(Some(USER));
    with_context["context"] = json!({"aws:SourceIp": "10.0.0.1", "aws:SecureTransport": true,
        "aws:TagKeys": ["a", "b"], "n": 1.5});
    let deny_ip = json!({"identity": [identity_allowing_put()], "resource": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": OBJECTS, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]
    }});
    let bases = [
        line(json!("a"), put_request(Some(USER)), allowing_policies()),
        line(json!({"n": [1]}), with_context.clone(), deny_ip.clone()),
        line(json!(3), put_request(None), allowing_policies()),
        json!({"id": 4, "request": with_context, "policies": deny_ip,
            "settings": {"s3_block_public_access": true}})
        .to_string(),
    ];
    let mut fast = BatchEvaluator::new();
    let mut slow = BatchEvaluator {
        slow_only: true,
        ..BatchEvaluator::default()
    };
    let mut rng = Lcg(11);
    let mut errors = 0;
    for n in 0..4000u64 {
        let base = &bases[rng.below(bases.len())];
        let mut text = mutate(base, &mut rng);
        if rng.below(3) == 0 {
            text = mutate(&text, &mut rng);
        }
        // The fast evaluator has just seen the well-formed line (its policies are recent).
        let mut ignored = String::new();
        fast.eval_line(base, n, &mut ignored);
        let (mut a, mut b) = (String::new(), String::new());
        let ok_fast = fast.eval_line(&text, n, &mut a);
        let ok_slow = slow.eval_line(&text, n, &mut b);
        assert_eq!(a, b, "{text}");
        assert_eq!(ok_fast, ok_slow);
        errors += usize::from(!ok_fast);
    }
    // The mutations reach both outcomes.
    assert!((500..3500).contains(&errors), "{errors} errors");
}

/// A line that is not UTF-8 is an error record locating the byte; it used to be evaluated with
/// U+FFFD in place of the byte, so a resource ending in 0xFF matched one ending in 0xFE.
#[test]
fn a_line_that_is_not_utf8_is_an_error_record() {
    let policy_fe = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/k"#;
    let mut input: Vec<u8> = Vec::new();
    input
        .extend_from_slice(line(json!(1), put_request(Some(USER)), allowing_policies()).as_bytes());
    input.push(b'\n');
    let request_ff = format!(
        r#"{{"id":2,"request":{{"principal":"{USER}","action":"s3:PutObject","resource":"arn:aws:s3:::b/k"#
    );
    input.extend_from_slice(request_ff.as_bytes());
    input.push(0xFF);
    input.extend_from_slice(br#""},"policies":{"identity":["#);
    input.extend_from_slice(policy_fe.as_bytes());
    input.push(0xFE);
    input.extend_from_slice(b"\"}]}]}}\n");
    input
        .extend_from_slice(line(json!(3), put_request(Some(USER)), allowing_policies()).as_bytes());
    let mut out = Vec::new();
    let stats = eval_stream(&input[..], &mut out, 2).unwrap();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!((stats.lines, stats.errors), (3, 1));
    assert_eq!(lines[0]["decision"], "Allowed");
    assert_eq!(lines[2]["decision"], "Allowed");
    let col = request_ff.chars().count() + 1;
    assert_eq!(
        error_of(&lines[1]),
        format!(
            "line 2: column {col}: the line is not UTF-8 text (byte 0xFF); save the file as UTF-8"
        )
    );
}

/// A UTF-8 byte order mark before the first line is skipped, as the scenario reader does.
#[test]
fn a_byte_order_mark_before_the_first_line_is_skipped() {
    let text = line(json!(1), put_request(Some(USER)), allowing_policies());
    let input = format!("\u{feff}{text}\n{text}\n");
    let (lines, stats) = stream(&input, 1);
    assert_eq!(stats.errors, 0, "{lines:?}");
    assert_eq!(lines[0]["decision"], "Allowed");
    // Anywhere else it is not JSON.
    let input = format!("{text}\n\u{feff}{text}\n");
    let (lines, stats) = stream(&input, 1);
    assert_eq!(stats.errors, 1);
    assert!(
        error_of(&lines[1]).starts_with("line 2: column 1: "),
        "{lines:?}"
    );
}

/// A line longer than the limit stops the stream with the line's number, after the results of
/// the lines before; endless input without a line end (`/dev/zero`) therefore ends too.
#[test]
fn a_line_over_the_limit_stops_the_stream() {
    let ok = line(json!(1), put_request(Some(USER)), allowing_policies());
    // At the limit: white space inside the record.
    let pad = super::MAX_LINE_BYTES - ok.len();
    let at_limit = format!("{}{}{}", &ok[..1], " ".repeat(pad), &ok[1..]);
    assert_eq!(at_limit.len(), super::MAX_LINE_BYTES);
    let over = format!(" {at_limit}");
    for (threads, end) in [(1, "\n"), (3, "\r\n")] {
        let input = format!("{ok}{end}{at_limit}{end}{over}{end}{ok}{end}");
        let mut out = Vec::new();
        let err = eval_stream(input.as_bytes(), &mut out, threads).unwrap_err();
        assert!(
            matches!(err, super::StreamError::LineTooLong { line: 3 }),
            "{err}"
        );
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(out.lines().all(|l| l.contains("Allowed")), "{out}");
    }
    // The last line, without a line end, too.
    let input = format!("{ok}\n{over}");
    let err = eval_stream(input.as_bytes(), std::io::sink(), 1).unwrap_err();
    assert!(
        matches!(err, super::StreamError::LineTooLong { line: 2 }),
        "{err}"
    );
    let (lines, _) = stream(&format!("{ok}\n{at_limit}"), 1);
    assert_eq!(lines.len(), 2);
    let err = eval_stream(std::io::repeat(0), std::io::sink(), 2).unwrap_err();
    assert!(
        matches!(err, super::StreamError::LineTooLong { line: 1 }),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("line 1 is longer than 4 MiB"),
        "{err}"
    );
}

/// A thread count past the bound is clamped to it, not an attempt to start 100000 threads.
#[test]
fn the_thread_count_is_bounded() {
    let text = line(json!(1), put_request(Some(USER)), allowing_policies());
    let (lines, stats) = stream(&format!("{text}\n{text}\n"), 100_000);
    assert_eq!((stats.lines, stats.errors), (2, 0), "{lines:?}");
}

/// A worker thread that cannot be started is an error before anything is read or written
/// (a failed spawn panicked inside the thread scope, which aborted the process).
#[test]
fn a_thread_that_cannot_start_is_an_error() {
    let text = line(json!(1), put_request(Some(USER)), allowing_policies());
    let input = format!("{text}\n{text}\n");
    let mut out = Vec::new();
    let err = super::stream(input.as_bytes(), &mut out, 4, Some(2)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot start worker thread 3 of 4: "),
        "{err}"
    );
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
}

/// An error in a deep value still echoes the id read before it.
#[test]
fn an_error_after_the_id_echoes_the_id() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let text = format!(
        r#"{{"id":"x","deep":{deep},"request":{},"policies":{}}}"#,
        put_request(Some(USER)),
        allowing_policies()
    );
    let (ok, v) = eval_one(&mut BatchEvaluator::new(), &text, 1);
    assert!(!ok);
    assert_eq!(v["id"], "x");
    assert!(error_of(&v).contains("`/deep`: nested too deeply"), "{v}");
}

/// A value quoted in a message is cut, with its length: a 10 MB value made a 10 MB message.
#[test]
fn long_values_are_cut_in_messages() {
    let long = "a".repeat(10 << 20);
    let mut request = put_request(Some(USER));
    request["anonymous"] = json!(long);
    let text = line(json!(1), request, allowing_policies());
    let (ok, v) = eval_one(&mut BatchEvaluator::new(), &text, 1);
    assert!(!ok);
    let err = error_of(&v);
    assert!(err.len() < 400, "{} bytes", err.len());
    assert!(
        err.contains("`/request/anonymous`: invalid type: string \"aaaa")
            && err.contains(&format!("… ({} bytes)", 10 << 20)),
        "{err}"
    );
}

/// Errors are located where they are: a structural error at its column (not the member's),
/// serde's errors at the member that holds them (a refused first byte too), a missing field at
/// its object; a member that must be an object is one (serde read `[]` as empty `policies`).
#[test]
fn errors_are_located_where_they_are() {
    let req = r#"{"action":"s3:PutObject","resource":"r"}"#;
    for (text, at, message) in [
        (
            format!(r#"{{"id":1,"request":{req},"policies":{{"identity":{{}}}}}}"#),
            r#"{}}}"#,
            "`/policies/identity`: invalid type: map, expected a sequence",
        ),
        (
            r#"{"id":2,"request":{"action":"s3:PutObject"},"policies":{}}"#.to_owned(),
            r#"{"action""#,
            "`/request`: missing field `resource`",
        ),
        (
            format!(r#"{{"id":3,"request":{req},"policies":[]}}"#),
            "[]",
            "`/policies` must be an object, found an array",
        ),
        (
            r#"{"id":4,"request":{"action":"a:b","resource":"r","context":{"k":[1,2}},"policies":{}}"#
                .to_owned(),
            "}},",
            "`/request`: expected `,` or a closing bracket",
        ),
        (
            format!(r#"{{"id":5,"request":{req},"policies":{{}},"settings":{{"s3_block_public_access":1}}}}"#),
            "1}",
            "`/settings/s3_block_public_access`: invalid type: integer `1`, expected a boolean",
        ),
    ] {
        let (ok, v) = eval_one(&mut BatchEvaluator::new(), &text, 1);
        assert!(!ok);
        let col = column_of(&text, at);
        assert_eq!(error_of(&v), format!("line 1: column {col}: {message}"), "{text}");
    }
}

#[test]
fn an_id_with_an_invalid_escape_or_a_control_character_is_an_error_and_not_echoed() {
    let mut b = BatchEvaluator::new();
    for id in [r#""a\qb""#, "\"a\u{1b}b\""] {
        let line = format!(
            r#"{{"id":{id},"request":{},"policies":{}}}"#,
            put_request(Some(USER)),
            allowing_policies()
        );
        let (ok, v) = eval_one(&mut b, &line, 1);
        assert!(!ok, "{v}");
        assert_eq!(v["id"], Value::Null, "{v}");
        let e = v["error"].as_str().unwrap_or_default();
        assert!(e.contains("`id` is not valid JSON"), "{e}");
    }
}
