//! Unit tests of the policy parser: what AWS accepts (docs/aws-model.md#policy-documents), the spans and JSON
//! pointers kept for every element, and located errors for what AWS rejects.

use crate::condition::{BaseOp, SetOp};
use crate::json::Span;
use crate::policy::{
    AwsPrincipal, Effect, Policy, PolicyError, PolicyKind, PrincipalValue, ResourcePattern,
    Version, url_decode,
};

fn parse(kind: PolicyKind, text: &str) -> Policy {
    Policy::parse("test.json", kind, text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn parse_err(kind: PolicyKind, text: &str) -> PolicyError {
    match Policy::parse("test.json", kind, text) {
        Ok(p) => panic!(
            "expected an error, parsed {} statements\n{text}",
            p.statements.len()
        ),
        Err(e) => e,
    }
}

/// A multi-line document from its lines, so that line and column numbers are easy to read.
fn doc(lines: &[&str]) -> String {
    lines.join("\n")
}

/// Percent-encodes everything but unreserved characters, as IAM returns documents.
fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn snippet(p: &Policy, span: Span) -> &str {
    p.snippet(span)
}

// ---------------------------------------------------------------------------------------------
// Accepted shapes (docs/aws-model.md#policy-documents)
// ---------------------------------------------------------------------------------------------

#[test]
fn statement_may_be_a_single_object() {
    // AWS §D.1: `Statement` is an object or an array of objects.
    let p = parse(
        PolicyKind::Identity,
        r#"{"Version":"2012-10-17","Statement":{"Sid":"One","Effect":"Allow","Action":"s3:PutObject","Resource":"*"}}"#,
    );
    assert_eq!(p.statements.len(), 1);
    let st = &p.statements[0];
    assert_eq!(st.index, 0);
    assert_eq!(st.pointer, "/Statement");
    assert_eq!(st.sid.as_deref(), Some("One"));
    assert_eq!(st.label(), "One");
    assert_eq!(st.action.pointer, "/Statement/Action");
    assert!(snippet(&p, st.span).starts_with(r#"{"Sid":"One""#));
    assert!(snippet(&p, st.span).ends_with(r#""Resource":"*"}"#));
}

#[test]
fn statement_may_be_an_array() {
    // AWS §D.1: `Statement` is an object or an array of objects.
    let p = parse(
        PolicyKind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
    );
    assert_eq!(p.statements.len(), 2);
    assert_eq!(p.statements[0].pointer, "/Statement/0");
    assert_eq!(p.statements[1].pointer, "/Statement/1");
    assert_eq!(p.statements[1].index, 1);
    assert_eq!(p.statements[1].effect, Effect::Deny);
    // Without a Sid a statement is labelled by its index.
    assert_eq!(p.statements[1].sid, None);
    assert_eq!(p.statements[1].label(), "#1");
}

#[test]
fn elements_may_appear_in_any_order() {
    // AWS §D.1: elements may appear in any order.
    let p = parse(
        PolicyKind::Identity,
        r#"{"Statement":[{"Resource":"*","Action":"s3:PutObject","Effect":"Allow"}],"Version":"2012-10-17","Id":"doc-1"}"#,
    );
    assert_eq!(p.version, Version::V2012_10_17);
    assert_eq!(p.id.as_deref(), Some("doc-1"));
    assert_eq!(p.statements[0].effect, Effect::Allow);
}

#[test]
fn action_may_be_a_string_or_an_array() {
    // AWS §D.1: single values may be written as a string or an array.
    let p = parse(
        PolicyKind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"},{"Effect":"Allow","Action":["s3:GetObject","S3:Put*"],"Resource":"*"}]}"#,
    );
    let one = &p.statements[0].action;
    assert!(!one.negated);
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0].raw, "s3:PutObject");
    assert_eq!(one.items[0].pointer, "/Statement/0/Action");
    assert_eq!(snippet(&p, one.items[0].span), r#""s3:PutObject""#);
    // Actions are case-insensitive: compiled lower-case, kept as written in `raw`.
    assert!(one.items[0].value.matches("s3:putobject"));
    assert!(!one.items[0].value.matches("s3:PutObject"));

    let two = &p.statements[1].action;
    assert_eq!(two.items.len(), 2);
    assert_eq!(two.pointer, "/Statement/1/Action");
    assert_eq!(two.items[0].pointer, "/Statement/1/Action/0");
    assert_eq!(two.items[1].pointer, "/Statement/1/Action/1");
    assert_eq!(two.items[1].raw, "S3:Put*");
    assert!(two.items[1].value.matches("s3:putobjectacl"));
    assert_eq!(snippet(&p, two.span), r#"["s3:GetObject","S3:Put*"]"#);
    assert_eq!(snippet(&p, two.items[1].span), r#""S3:Put*""#);
}

#[test]
fn resource_may_be_a_string_or_an_array() {
    // AWS §D.1: single values may be written as a string or an array.
    let p = parse(
        PolicyKind::Identity,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::c/*"]}]}"#,
    );
    let one = p.statements[0].resource.as_ref().unwrap();
    assert!(!one.negated);
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0].pointer, "/Statement/0/Resource");
    assert_eq!(one.items[0].raw, "arn:aws:s3:::b/*");
    let two = p.statements[1].resource.as_ref().unwrap();
    assert_eq!(two.items.len(), 2);
    assert_eq!(two.items[1].pointer, "/Statement/1/Resource/1");
    assert_eq!(snippet(&p, two.items[1].span), r#""arn:aws:s3:::c/*""#);
}

#[test]
fn resource_values_compile_by_shape() {
    // AWS §D.1 / §D.4: `*`, ARNs split in six parts, and variables only under 2012-10-17.
    let text = |version: &str| {
        format!(
            r#"{{{version}"Statement":{{"Effect":"Allow","Action":"s3:*","Resource":["*","arn:aws:s3:::b/*","arn:aws:s3:::b/${{aws:username}}/*","bucket-name"]}}}}"#
        )
    };
    let p = parse(PolicyKind::Identity, &text(r#""Version":"2012-10-17","#));
    let items = &p.statements[0].resource.as_ref().unwrap().items;
    assert_eq!(items[0].value, ResourcePattern::Star);
    assert!(matches!(&items[1].value, ResourcePattern::Arn(segs) if segs.len() == 6));
    assert!(matches!(&items[2].value, ResourcePattern::Template(t) if t.has_variables()));
    assert!(matches!(&items[3].value, ResourcePattern::Other(_)));

    // 2008-10-17 and a missing Version: `${...}` is literal text.
    for version in [r#""Version":"2008-10-17","#, ""] {
        let p = parse(PolicyKind::Identity, &text(version));
        let items = &p.statements[0].resource.as_ref().unwrap().items;
        assert!(
            matches!(&items[2].value, ResourcePattern::Arn(segs) if segs.len() == 6),
            "{:?}",
            items[2].value
        );
        assert_eq!(items[2].raw, "arn:aws:s3:::b/${aws:username}/*");
    }
}

#[test]
fn every_principal_form_is_classified() {
    // AWS §D.1: `"*"`, and the map keys AWS (account id, root ARN, user, role, assumed-role,
    // federated-user ARNs, `*`), Service, Federated and CanonicalUser.
    let canonical = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[
{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}},
{{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"s3:GetObject"}},
{{"Effect":"Allow","Principal":{{"AWS":["111122223333","arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/dept/alice","arn:aws:iam::111122223333:role/path/uploader","arn:aws:sts::111122223333:assumed-role/uploader/session-1","arn:aws:sts::111122223333:federated-user/bob","AROAEXAMPLEUNIQUEID"]}},"Action":"s3:GetObject"}},
{{"Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com","Federated":["cognito-identity.amazonaws.com","arn:aws:iam::111122223333:saml-provider/corp"],"CanonicalUser":"{canonical}"}},"Action":"s3:GetObject"}}
]}}"#
    );
    let p = parse(PolicyKind::Resource, &text);

    let star = p.statements[0].principal.as_ref().unwrap();
    assert!(!star.negated);
    assert_eq!(star.pointer, "/Statement/0/Principal");
    assert_eq!(star.items.len(), 1);
    assert_eq!(star.items[0].value, PrincipalValue::Any);
    assert_eq!(star.items[0].pointer, "/Statement/0/Principal");
    assert_eq!(snippet(&p, star.span), r#""*""#);

    let aws_star = p.statements[1].principal.as_ref().unwrap();
    assert_eq!(aws_star.items[0].value, PrincipalValue::Any);
    assert_eq!(aws_star.items[0].pointer, "/Statement/1/Principal/AWS");
    assert_eq!(snippet(&p, aws_star.span), r#"{"AWS":"*"}"#);

    let aws = &p.statements[2].principal.as_ref().unwrap().items;
    let values: Vec<&PrincipalValue> = aws.iter().map(|l| &l.value).collect();
    let account = PrincipalValue::Aws(AwsPrincipal::Account {
        account: "111122223333".into(),
    });
    assert_eq!(values[0], &account);
    assert_eq!(values[1], &account);
    assert_eq!(
        values[2],
        &PrincipalValue::Aws(AwsPrincipal::User {
            arn: "arn:aws:iam::111122223333:user/dept/alice".into(),
            account: "111122223333".into()
        })
    );
    assert_eq!(
        values[3],
        &PrincipalValue::Aws(AwsPrincipal::Role {
            arn: "arn:aws:iam::111122223333:role/path/uploader".into(),
            account: "111122223333".into(),
            name: "uploader".into()
        })
    );
    assert_eq!(
        values[4],
        &PrincipalValue::Aws(AwsPrincipal::AssumedRole {
            arn: "arn:aws:sts::111122223333:assumed-role/uploader/session-1".into(),
            account: "111122223333".into(),
            role_name: "uploader".into(),
            session: "session-1".into()
        })
    );
    assert_eq!(
        values[5],
        &PrincipalValue::Aws(AwsPrincipal::FederatedUser {
            arn: "arn:aws:sts::111122223333:federated-user/bob".into(),
            account: "111122223333".into(),
            name: "bob".into()
        })
    );
    // A unique id left behind by a deleted role.
    assert_eq!(
        values[6],
        &PrincipalValue::Aws(AwsPrincipal::Other {
            value: "AROAEXAMPLEUNIQUEID".into()
        })
    );
    assert_eq!(aws[3].pointer, "/Statement/2/Principal/AWS/3");
    assert_eq!(
        snippet(&p, aws[3].span),
        r#""arn:aws:iam::111122223333:role/path/uploader""#
    );

    let other = &p.statements[3].principal.as_ref().unwrap().items;
    assert_eq!(other.len(), 4);
    assert_eq!(
        other[0].value,
        PrincipalValue::Service("cloudtrail.amazonaws.com".into())
    );
    assert_eq!(other[0].pointer, "/Statement/3/Principal/Service");
    assert_eq!(
        other[1].value,
        PrincipalValue::Federated("cognito-identity.amazonaws.com".into())
    );
    assert_eq!(other[1].pointer, "/Statement/3/Principal/Federated/0");
    assert_eq!(
        other[2].value,
        PrincipalValue::Federated("arn:aws:iam::111122223333:saml-provider/corp".into())
    );
    assert_eq!(
        other[3].value,
        PrincipalValue::CanonicalUser(canonical.into())
    );
    assert_eq!(other[3].pointer, "/Statement/3/Principal/CanonicalUser");
}

#[test]
fn not_principal_is_negated() {
    // AWS §D.1: `NotPrincipal` (with Deny) names the principals the statement does not cover.
    let p = parse(
        PolicyKind::Resource,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/alice"]},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}"#,
    );
    let np = p.statements[0].principal.as_ref().unwrap();
    assert!(np.negated);
    assert_eq!(np.pointer, "/Statement/0/NotPrincipal");
    assert_eq!(np.items.len(), 2);
    assert_eq!(np.items[1].pointer, "/Statement/0/NotPrincipal/AWS/1");
}

#[test]
fn not_action_and_not_resource_are_negated() {
    // AWS §D.1: exactly one of Action/NotAction and one of Resource/NotResource.
    let p = parse(
        PolicyKind::Identity,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":["arn:aws:s3:::secret","arn:aws:s3:::secret/*"]}]}"#,
    );
    let st = &p.statements[0];
    assert!(st.action.negated);
    assert_eq!(st.action.pointer, "/Statement/0/NotAction");
    let r = st.resource.as_ref().unwrap();
    assert!(r.negated);
    assert_eq!(r.pointer, "/Statement/0/NotResource");
    assert_eq!(r.items[1].pointer, "/Statement/0/NotResource/1");
}

#[test]
fn resource_based_and_endpoint_policies_may_omit_resource_and_endpoint_policies_principal() {
    // A bucket policy without Resource covers the resource it is attached to; a VPC endpoint
    // policy without Principal covers every principal.
    let p = parse(
        PolicyKind::Resource,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}}"#,
    );
    assert!(p.statements[0].resource.is_none());
    let p = parse(
        PolicyKind::VpcEndpoint,
        r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
    );
    assert!(p.statements[0].principal.is_none());
}

#[test]
fn version_2012_2008_and_missing() {
    // AWS §D.1 / §D.4: 2012-10-17 is current; 2008-10-17 and a missing Version have no policy
    // variables.
    let body = r#""Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#;
    let v12 = parse(
        PolicyKind::Identity,
        &format!(r#"{{"Version":"2012-10-17",{body}}}"#),
    );
    assert_eq!(v12.version, Version::V2012_10_17);
    assert!(v12.version.allows_variables());
    let v08 = parse(
        PolicyKind::Identity,
        &format!(r#"{{"Version":"2008-10-17",{body}}}"#),
    );
    assert_eq!(v08.version, Version::V2008_10_17);
    assert!(!v08.version.allows_variables());
    let none = parse(PolicyKind::Identity, &format!("{{{body}}}"));
    assert_eq!(none.version, Version::Missing);
    assert!(!none.version.allows_variables());

    let e = parse_err(
        PolicyKind::Identity,
        &format!(r#"{{"Version":"2012-10-18",{body}}}"#),
    );
    assert_eq!(e.pointer, "/Version");
    assert_eq!((e.line, e.column), (1, 12));
    assert!(e.message.contains("2012-10-17"), "{}", e.message);
}

#[test]
fn conditions_have_one_entry_per_operator_and_key_in_document_order() {
    // AWS §D.2: operators AND, keys under one operator AND, values OR. The model keeps one
    // entry per operator and key, in the order written.
    let text = doc(&[
        r#"{"Version": "2012-10-17", "Statement": [{"#,
        r#"  "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*","#,
        r#"  "Condition": {"#,
        r#"    "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d", "aws:PrincipalTag/team": ["red", "blue"]},"#,
        r#"    "ForAnyValue:StringLike": {"aws:TagKeys": "team*"},"#,
        r#"    "NumericLessThanEquals": {"s3:max-keys": 10},"#,
        r#"    "Bool": {"aws:SecureTransport": true},"#,
        r#"    "IpAddressIfExists": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.7"]},"#,
        r#"    "ForAllValues:StringEquals": {"aws:RequestTag/a~b": "x"}"#,
        r#"  }"#,
        r#"}]}"#,
    ]);
    let p = parse(PolicyKind::Identity, &text);
    let st = &p.statements[0];
    let c = &st.conditions;
    let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "aws:SourceVpce",
            "aws:PrincipalTag/team",
            "aws:TagKeys",
            "s3:max-keys",
            "aws:SecureTransport",
            "aws:SourceIp",
            "aws:RequestTag/a~b",
        ]
    );
    let ops: Vec<String> = c.iter().map(|c| c.op.to_string()).collect();
    assert_eq!(
        ops,
        [
            "StringEquals",
            "StringEquals",
            "ForAnyValue:StringLike",
            "NumericLessThanEquals",
            "Bool",
            "IpAddressIfExists",
            "ForAllValues:StringEquals",
        ]
    );
    assert_eq!(c[2].op.set, Some(SetOp::ForAnyValue));
    assert_eq!(c[2].op.base, BaseOp::StringLike);
    assert!(c[5].op.if_exists);
    assert_eq!(c[5].op.base, BaseOp::IpAddress);
    assert_eq!(c[6].op.set, Some(SetOp::ForAllValues));

    // Key names are case-insensitive: a lower-cased copy is kept for lookups.
    assert_eq!(c[0].key_lower, "aws:sourcevpce");

    // Pointers, with RFC 6901 escaping of `/` (`~1`) and `~` (`~0`) in key names.
    assert_eq!(c[0].op_pointer, "/Statement/0/Condition/StringEquals");
    assert_eq!(
        c[0].key_pointer,
        "/Statement/0/Condition/StringEquals/aws:SourceVpce"
    );
    assert_eq!(
        c[1].key_pointer,
        "/Statement/0/Condition/StringEquals/aws:PrincipalTag~1team"
    );
    assert_eq!(
        c[1].values[1].pointer,
        "/Statement/0/Condition/StringEquals/aws:PrincipalTag~1team/1"
    );
    assert_eq!(
        c[2].key_pointer,
        "/Statement/0/Condition/ForAnyValue:StringLike/aws:TagKeys"
    );
    assert_eq!(
        c[6].key_pointer,
        "/Statement/0/Condition/ForAllValues:StringEquals/aws:RequestTag~1a~0b"
    );

    // Spans slice the text as written.
    assert_eq!(snippet(&p, c[0].op_span), r#""StringEquals""#);
    assert_eq!(snippet(&p, c[0].key_span), r#""aws:SourceVpce""#);
    assert_eq!(snippet(&p, c[0].values[0].span), r#""vpce-1a2b3c4d""#);
    assert_eq!(snippet(&p, c[1].values[1].span), r#""blue""#);
    assert_eq!(snippet(&p, c[3].values[0].span), "10");
    assert_eq!(snippet(&p, c[4].values[0].span), "true");
    assert_eq!(p.line_col(c[0].key_span.start as usize), (4, 22));
    assert_eq!(p.line_col(c[3].op_span.start as usize), (6, 5));
    let cond = snippet(&p, st.condition_span.unwrap());
    assert!(cond.starts_with("{\n    \"StringEquals\""), "{cond}");
    assert!(cond.ends_with("\"x\"}\n  }"), "{cond}");

    // Numbers and booleans are kept as their text.
    assert_eq!(c[3].values[0].raw, "10");
    assert_eq!(c[4].values[0].raw, "true");
    assert_eq!(c[5].values.len(), 2);
    assert_eq!(c[5].values[1].raw, "203.0.113.7");
}

#[test]
fn spans_and_pointers_locate_every_element() {
    let text = doc(&[
        r#"{"#,
        r#"  "Version": "2012-10-17","#,
        r#"  "Statement": ["#,
        r#"    {"Sid": "AllowPut", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"},"#,
        r#"    {"#,
        r#"      "Sid": "DenyInsecure","#,
        r#"      "Effect": "Deny","#,
        r#"      "Action": "s3:*","#,
        r#"      "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],"#,
        r#"      "Condition": {"Bool": {"aws:SecureTransport": "false"}}"#,
        r#"    }"#,
        r#"  ]"#,
        r#"}"#,
    ]);
    let p = parse(PolicyKind::Identity, &text);
    assert_eq!(p.name, "test.json");
    assert_eq!(p.kind, PolicyKind::Identity);
    assert_eq!(&*p.text, text.as_str());

    let st = &p.statements[1];
    assert_eq!(st.sid.as_deref(), Some("DenyInsecure"));
    // The span of statement 1's Effect value slices exactly `"Deny"`; its element's pointer
    // is `/Statement/1/Effect`.
    assert_eq!(&p.text[st.effect_span.range()], r#""Deny""#);
    assert_eq!(format!("{}/Effect", st.pointer), "/Statement/1/Effect");
    assert_eq!(p.line_col(st.effect_span.start as usize), (7, 17));
    // The statement span runs from its `{` to its `}`.
    assert_eq!(p.line_col(st.span.start as usize), (5, 5));
    assert_eq!(p.line_col(st.span.end as usize - 1), (11, 5));

    let r = st.resource.as_ref().unwrap();
    assert_eq!(r.pointer, "/Statement/1/Resource");
    assert_eq!(
        snippet(&p, r.span),
        r#"["arn:aws:s3:::b", "arn:aws:s3:::b/*"]"#
    );
    assert_eq!(p.line_col(r.items[1].span.start as usize), (9, 38));
    assert_eq!(
        st.conditions[0].key_pointer,
        "/Statement/1/Condition/Bool/aws:SecureTransport"
    );
    assert_eq!(
        p.line_col(st.conditions[0].key_span.start as usize),
        (10, 30)
    );

    let first = &p.statements[0];
    assert_eq!(&p.text[first.effect_span.range()], r#""Allow""#);
    assert_eq!(
        p.line_col(first.action.items[0].span.start as usize),
        (4, 54)
    );
}

#[test]
fn url_encoded_document_decodes_and_spans_refer_to_the_decoded_text() {
    // IAM returns policy documents URL-encoded (`%7B%22Version%22...`).
    let plain = doc(&[
        r#"{"Version": "2012-10-17","#,
        r#" "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"},"#,
        r#"  {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}"#,
    ]);
    let encoded = url_encode(&plain);
    assert!(encoded.starts_with("%7B%22Version%22"), "{encoded}");
    let p = parse(PolicyKind::Identity, &encoded);
    assert_eq!(&*p.text, plain.as_str());
    assert_eq!(p.version, Version::V2012_10_17);
    let st = &p.statements[1];
    assert_eq!(p.snippet(st.effect_span), r#""Deny""#);
    assert_eq!(p.line_col(st.effect_span.start as usize), (3, 14));
    assert_eq!(
        p.snippet(p.statements[0].action.items[0].span),
        r#""s3:PutObject""#
    );

    // Lower-case escapes and leading white space are accepted too.
    let lower = format!("  {}", encoded.replace("%7B", "%7b"));
    assert_eq!(&*parse(PolicyKind::Identity, &lower).text, plain.as_str());

    // Errors in an encoded document are located in the decoded text.
    let bad = url_encode(&plain.replace(r#""Deny""#, r#""deny""#));
    let e = parse_err(PolicyKind::Identity, &bad);
    assert_eq!((e.line, e.column), (3, 14));
    assert_eq!(e.pointer, "/Statement/1/Effect");

    // A broken escape is reported as such.
    let e = parse_err(PolicyKind::Identity, "%7B%22Version%2");
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.contains("URL-encoded"), "{}", e.message);
}

#[test]
fn url_decode_handles_escapes() {
    assert_eq!(
        url_decode("%7B%22a%22%3A%201%7D").as_deref(),
        Some(r#"{"a": 1}"#)
    );
    // `+` is not a space in IAM's encoding.
    assert_eq!(url_decode("a+b").as_deref(), Some("a+b"));
    // Multi-byte UTF-8 sequences decode.
    assert_eq!(url_decode("caf%C3%A9").as_deref(), Some("café"));
    assert_eq!(url_decode("%zz"), None);
    assert_eq!(url_decode("%4"), None);
    // Invalid UTF-8 after decoding.
    assert_eq!(url_decode("%FF"), None);
}

// ---------------------------------------------------------------------------------------------
// Rejected documents: line:column, pointer, message
// ---------------------------------------------------------------------------------------------

/// A statement on lines 4 to 8 of a document; `body` is the statement's member lines.
fn with_statement(body: &[&str]) -> String {
    let mut lines = vec![
        "{",
        r#"  "Version": "2012-10-17","#,
        r#"  "Statement": ["#,
        "    {",
    ];
    lines.extend_from_slice(body);
    lines.extend_from_slice(&["    }", "  ]", "}"]);
    doc(&lines)
}

fn assert_error(e: &PolicyError, line: usize, column: usize, pointer: &str, message: &str) {
    assert_eq!((e.line, e.column), (line, column), "{e}");
    assert_eq!(e.pointer, pointer, "{e}");
    assert!(e.message.contains(message), "expected `{message}` in: {e}");
    assert_eq!(e.name, "test.json");
}

#[test]
fn error_invalid_effect() {
    // AWS §D.1: Effect is `Allow` or `Deny`, case-sensitive.
    let text = with_statement(&[
        r#"      "Effect": "allow","#,
        r#"      "Action": "s3:PutObject","#,
        r#"      "Resource": "*""#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        5,
        17,
        "/Statement/0/Effect",
        r#"`Effect` must be "Allow" or "Deny", found "allow""#,
    );
    // The byte offset and the Display form agree with line:column.
    assert_eq!(&text[e.offset..e.offset + 7], r#""allow""#);
    assert_eq!(
        e.to_string(),
        r#"test.json:5:17: at `/Statement/0/Effect`: `Effect` must be "Allow" or "Deny", found "allow""#
    );

    let e = parse_err(
        PolicyKind::Identity,
        r#"{"Statement":{"Effect":true,"Action":"s3:*","Resource":"*"}}"#,
    );
    assert_error(&e, 1, 24, "/Statement/Effect", "found a boolean");
}

#[test]
fn error_missing_effect() {
    let text = with_statement(&[
        r#"      "Action": "s3:PutObject","#,
        r#"      "Resource": "*""#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(&e, 4, 5, "/Statement/0", "no `Effect`");
}

#[test]
fn error_both_action_and_not_action() {
    // AWS §D.1: exactly one of Action/NotAction.
    let text = with_statement(&[
        r#"      "Effect": "Allow","#,
        r#"      "Action": "s3:PutObject","#,
        r#"      "NotAction": "s3:GetObject","#,
        r#"      "Resource": "*""#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        7,
        7,
        "/Statement/0/NotAction",
        "`Action` or `NotAction`, not both",
    );
}

#[test]
fn error_both_resource_and_not_resource_and_both_principals() {
    let text = with_statement(&[
        r#"      "Effect": "Allow", "Action": "s3:*","#,
        r#"      "NotResource": "arn:aws:s3:::a", "Resource": "*""#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        40,
        "/Statement/0/Resource",
        "`NotResource` or `Resource`, not both",
    );

    let text = with_statement(&[
        r#"      "Effect": "Deny", "Action": "s3:*","#,
        r#"      "Principal": "*", "NotPrincipal": {"AWS": "111122223333"}"#,
    ]);
    let e = parse_err(PolicyKind::Resource, &text);
    assert_error(&e, 6, 25, "/Statement/0/NotPrincipal", "not both");
}

#[test]
fn error_neither_action_nor_not_action() {
    // AWS §D.1: exactly one of Action/NotAction.
    let text = with_statement(&[r#"      "Effect": "Allow","#, r#"      "Resource": "*""#]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        4,
        5,
        "/Statement/0",
        "the statement has no `Action` or `NotAction`",
    );
}

#[test]
fn error_missing_resource_in_an_identity_policy() {
    // AWS §D.1: exactly one of Resource/NotResource (identity-based policies).
    let text = with_statement(&[r#"      "Effect": "Allow","#, r#"      "Action": "s3:*""#]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(&e, 4, 5, "/Statement/0", "no `Resource` or `NotResource`");
}

#[test]
fn error_unknown_condition_operator() {
    // AWS §D.3: operator names are a fixed, case-sensitive set.
    let text = with_statement(&[
        r#"      "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*","#,
        r#"      "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}, "StringEqualz": {"s3:x-amz-acl": "private"}}"#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        67,
        "/Statement/0/Condition/StringEqualz",
        "unknown condition operator `StringEqualz`",
    );

    // A wrong case is named with a hint.
    let text = with_statement(&[
        r#"      "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*","#,
        r#"      "Condition": {"stringequals": {"aws:SourceVpce": "vpce-1"}}"#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        21,
        "/Statement/0/Condition/stringequals",
        "did you mean `StringEquals`?",
    );

    // `Null` has no IfExists form.
    let text = with_statement(&[
        r#"      "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*","#,
        r#"      "Condition": {"NullIfExists": {"aws:SourceVpce": "true"}}"#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        21,
        "/Statement/0/Condition/NullIfExists",
        "`Null` has no `IfExists` form",
    );
}

#[test]
fn error_empty_condition_block() {
    let text = with_statement(&[
        r#"      "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*","#,
        r#"      "Condition": {"StringEquals": {}}"#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        37,
        "/Statement/0/Condition/StringEquals",
        "no condition keys",
    );
}

#[test]
fn error_unknown_element() {
    // AWS §D.1: a statement has only Sid, Effect, (Not)Principal, (Not)Action,
    // (Not)Resource and Condition.
    let text = with_statement(&[
        r#"      "Effect": "Allow","#,
        r#"      "Action": "s3:PutObject","#,
        r#"      "Resources": "*""#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        7,
        7,
        "/Statement/0/Resources",
        "unknown statement element `Resources`",
    );

    let e = parse_err(
        PolicyKind::Identity,
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statements\": []\n}",
    );
    assert_error(
        &e,
        3,
        3,
        "/Statements",
        "unknown policy element `Statements`",
    );
}

#[test]
fn error_unknown_principal_type() {
    let text = with_statement(&[
        r#"      "Effect": "Allow", "Action": "s3:*","#,
        r#"      "Principal": {"Aws": "111122223333"}"#,
    ]);
    let e = parse_err(PolicyKind::Resource, &text);
    assert_error(
        &e,
        6,
        21,
        "/Statement/0/Principal/Aws",
        "unknown principal type `Aws`",
    );
}

#[test]
fn error_duplicate_key() {
    // AWS §D.1: a key may not repeat within a block; the second occurrence is reported.
    let text = with_statement(&[
        r#"      "Effect": "Allow","#,
        r#"      "Action": "s3:PutObject","#,
        r#"      "Effect": "Deny","#,
        r#"      "Resource": "*""#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        7,
        7,
        "/Statement/0/Effect",
        "`Effect` appears twice in a statement",
    );

    // Also inside a Condition operator block, with the key's pointer escaped.
    let text = with_statement(&[
        r#"      "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*","#,
        r#"      "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a", "aws:PrincipalTag/team": "b"}}"#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        68,
        "/Statement/0/Condition/StringEquals/aws:PrincipalTag~1team",
        "`aws:PrincipalTag/team` appears twice",
    );

    // And at the top level.
    let e = parse_err(
        PolicyKind::Identity,
        r#"{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}"#,
    );
    assert_error(
        &e,
        1,
        25,
        "/Version",
        "`Version` appears twice in a policy document",
    );
}

#[test]
fn error_principal_in_an_identity_policy() {
    // AWS §D.1: Principal/NotPrincipal are forbidden in identity-based policies.
    let text = with_statement(&[
        r#"      "Effect": "Allow","#,
        r#"      "Principal": "*","#,
        r#"      "Action": "s3:PutObject","#,
        r#"      "Resource": "*""#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        7,
        "/Statement/0/Principal",
        "an identity-based policy must not have `Principal`",
    );
    // So are they in permissions boundaries, session policies and SCPs.
    for kind in [PolicyKind::Boundary, PolicyKind::Session, PolicyKind::Scp] {
        let e = parse_err(kind, &text);
        assert_eq!(e.pointer, "/Statement/0/Principal", "{kind:?}");
    }
}

#[test]
fn error_missing_principal_in_a_resource_policy() {
    // AWS §D.1: resource-based policies need exactly one of Principal/NotPrincipal.
    let text = with_statement(&[
        r#"      "Effect": "Allow","#,
        r#"      "Action": "s3:PutObject","#,
        r#"      "Resource": "arn:aws:s3:::b/*""#,
    ]);
    let e = parse_err(PolicyKind::Resource, &text);
    assert_error(
        &e,
        4,
        5,
        "/Statement/0",
        "a statement in a resource-based policy needs `Principal` or `NotPrincipal`",
    );
    let e = parse_err(PolicyKind::KeyPolicy, &text);
    assert!(e.message.contains("a KMS key policy"), "{e}");
}

#[test]
fn error_not_json() {
    let e = parse_err(PolicyKind::Identity, "this is not a policy");
    assert_error(&e, 1, 1, "", "expected a JSON value");
    let e = parse_err(PolicyKind::Identity, "{\n  'Version': '2012-10-17'\n}");
    assert_error(&e, 2, 3, "", "expected a member name in double quotes");
    let e = parse_err(PolicyKind::Identity, "");
    assert_error(&e, 1, 1, "", "found the end of the text");
    // JSON, but not an object.
    let e = parse_err(PolicyKind::Identity, "[]");
    assert_error(
        &e,
        1,
        1,
        "",
        "a policy document must be an object, found an array",
    );
    // An object without Statement.
    let e = parse_err(PolicyKind::Identity, r#"{"Version": "2012-10-17"}"#);
    assert_error(&e, 1, 1, "", "no `Statement`");
    // Statement that is neither an object nor an array.
    let e = parse_err(PolicyKind::Identity, r#"{"Statement": "Allow"}"#);
    assert_error(&e, 1, 15, "/Statement", "found a string");
}

#[test]
fn error_trailing_comma() {
    let text = with_statement(&[
        r#"      "Effect": "Allow","#,
        r#"      "Action": ["s3:PutObject", ],"#,
        r#"      "Resource": "*""#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        34,
        "/Statement/0/Action",
        "trailing comma before `]`",
    );

    let text = with_statement(&[
        r#"      "Effect": "Allow","#,
        r#"      "Action": "s3:PutObject","#,
        r#"      "Resource": "*","#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(&e, 8, 5, "/Statement/0", "trailing comma before `}`");
}

#[test]
fn error_empty_action_array() {
    let text = with_statement(&[
        r#"      "Effect": "Allow","#,
        r#"      "Action": [],"#,
        r#"      "Resource": "*""#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        17,
        "/Statement/0/Action",
        "`Action` must not be an empty array",
    );
}

#[test]
fn error_action_without_a_service_prefix() {
    // AWS §D.1: an action is `service:Name` (or `*`).
    let text = with_statement(&[
        r#"      "Effect": "Allow","#,
        r#"      "Action": ["s3:GetObject", "PutObject"],"#,
        r#"      "Resource": "*""#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        34,
        "/Statement/0/Action/1",
        "`PutObject` is not an action",
    );
}

#[test]
fn error_wrong_value_types() {
    let text = with_statement(&[
        r#"      "Effect": "Allow","#,
        r#"      "Action": "s3:PutObject","#,
        r#"      "Resource": ["*", 7]"#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        7,
        25,
        "/Statement/0/Resource/1",
        "must be a string, found a number",
    );

    let text = with_statement(&[
        r#"      "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*","#,
        r#"      "Condition": {"StringEquals": {"aws:SourceVpce": {"a": 1}}}"#,
    ]);
    let e = parse_err(PolicyKind::Identity, &text);
    assert_error(
        &e,
        6,
        56,
        "/Statement/0/Condition/StringEquals/aws:SourceVpce",
        "a condition value must be a string, number or boolean, found an object",
    );
}
