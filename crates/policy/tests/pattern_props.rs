//! Property tests for the wildcard matcher, policy-variable templates, the JSON parser and the
//! policy parser: matching agrees with an obviously-correct reference, and no input makes the
//! parsers panic.

use proptest::prelude::*;
use proptest::test_runner::Config;
use why403_policy::condition::Operator;
use why403_policy::context::RequestContext;
use why403_policy::json;
use why403_policy::pattern::{Glob, Template};
use why403_policy::policy::{Policy, PolicyKind};

/// Modest case counts keep the suite to a couple of seconds; failures are not persisted to
/// `proptest-regressions/` (the shrunk case is printed instead).
fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Reference wildcard matcher: a dynamic program over characters where `*` matches any run
/// (including none) and `?` exactly one character; everything else matches itself.
fn reference_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // m[i][j]: p[i..] matches t[j..].
    let mut m = vec![vec![false; t.len() + 1]; p.len() + 1];
    m[p.len()][t.len()] = true;
    for i in (0..p.len()).rev() {
        for j in (0..=t.len()).rev() {
            m[i][j] = match p[i] {
                '*' => m[i + 1][j] || (j < t.len() && m[i][j + 1]),
                '?' => j < t.len() && m[i + 1][j + 1],
                c => j < t.len() && t[j] == c && m[i + 1][j + 1],
            };
        }
    }
    m[0][0]
}

/// Replaces each `*` with a run from `fills` and each `?` with one character, so the
/// result always matches the pattern.
fn instantiate(pattern: &str, fills: &[String]) -> String {
    let mut out = String::new();
    for (i, c) in pattern.chars().enumerate() {
        let fill = &fills[i % fills.len()];
        match c {
            '*' => out.push_str(fill),
            '?' => out.push(fill.chars().next().unwrap_or('a')),
            c => out.push(c),
        }
    }
    out
}

/// A request with a few keys a template might name.
fn sample_context() -> RequestContext {
    let mut c = RequestContext::new();
    c.set("aws:username", "alice");
    c.set("aws:PrincipalTag/team", "r*d?");
    c.insert("aws:TagKeys", vec!["a".into(), "b".into()], true);
    c
}

const VALID_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Id": "p1",
  "Statement": [
    {
      "Sid": "DenyWrongKey",
      "Effect": "Deny",
      "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]},
      "Action": ["s3:PutObject", "s3:Put*"],
      "Resource": "arn:aws:s3:::bucket/${aws:username}/*",
      "Condition": {
        "StringNotLikeIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:*:111122223333:key/*"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]},
        "NumericLessThan": {"s3:TlsVersion": 1.3},
        "Bool": {"aws:SecureTransport": false},
        "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]},
        "DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
        "Null": {"s3:x-amz-acl": "true"}
      }
    },
    {"Effect": "Allow", "Principal": "*", "NotAction": "s3:Delete*", "NotResource": ["arn:aws:s3:::other/*"]}
  ]
}"#;

/// Characters that matter to JSON and to the policy grammar, for insertions.
const INSERTABLE: &[char] = &[
    '{',
    '}',
    '[',
    ']',
    '"',
    ':',
    ',',
    '\\',
    ' ',
    '\n',
    'u',
    '0',
    'a',
    '-',
    '.',
    '*',
    '$',
    '%',
    '/',
    'é',
    '\u{1F600}',
    '\t',
    'e',
    'E',
    '+',
    'n',
    't',
    'f',
];

/// One edit of a text: delete the character at `at`, or insert `c` before it (positions are
/// taken modulo the length, so every edit applies).
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, char),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), proptest::sample::select(INSERTABLE))
            .prop_map(|(at, c)| Edit::Insert(at, c)),
    ];
    proptest::collection::vec(edit, 1..8)
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        match *e {
            Edit::Delete(at) if !chars.is_empty() => {
                chars.remove(at % chars.len());
            }
            Edit::Delete(_) => {}
            Edit::Insert(at, c) => chars.insert(at % (chars.len() + 1), c),
        }
    }
    chars.into_iter().collect()
}

/// Percent-encodes every character outside a small safe set, as IAM returns documents.
fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.*".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// JSON errors point inside (or at the end of) the text, at line and column 1 or more.
fn check_json(text: &str) {
    if let Err(e) = json::parse(text) {
        assert!(
            e.offset <= text.len(),
            "offset {} past the end of {text:?}",
            e.offset
        );
        let (line, col) = json::line_col(text, e.offset);
        assert!(line >= 1 && col >= 1, "{line}:{col} for {text:?}");
    }
}

/// Policy errors have line and column 1 or more; for raw (not URL-encoded) documents they
/// agree with the offset.
fn check_policy(text: &str) {
    for kind in [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::Trust,
    ] {
        if let Err(e) = Policy::parse("prop", kind, text) {
            assert!(e.line >= 1 && e.column >= 1, "{e} for {text:?}");
            assert!(!e.message.is_empty());
            if !text
                .trim_start()
                .get(..3)
                .is_some_and(|p| p.eq_ignore_ascii_case("%7B"))
            {
                assert!(
                    e.offset <= text.len(),
                    "{e}: offset past the end of {text:?}"
                );
                assert_eq!((e.line, e.column), json::line_col(text, e.offset), "{e}");
            }
        }
    }
}

#[test]
fn reference_matcher_sanity() {
    assert!(reference_match("", ""));
    assert!(reference_match("*", ""));
    assert!(reference_match("a*b?", "axxbc"));
    assert!(!reference_match("a*b?", "axxb"));
    assert!(reference_match("?", "é"));
    assert!(!reference_match("a", "b"));
}

#[test]
fn valid_policy_parses() {
    let p = Policy::parse("ok", PolicyKind::Resource, VALID_POLICY).unwrap();
    assert_eq!(p.statements.len(), 2);
    assert_eq!(p.statements[0].conditions.len(), 7);
    let encoded = url_encode(VALID_POLICY);
    assert!(encoded.starts_with("%7B"));
    let q = Policy::parse("ok", PolicyKind::Resource, &encoded).unwrap();
    assert_eq!(q.statements, p.statements);
}

#[test]
// Regression: the URL-encoding sniff once sliced bytes and panicked here.
fn policy_parse_survives_a_multibyte_character_across_byte_3() {
    for text in ["🀰", "++é", "%7é", "  ab€{}", "\u{1F600}{\"Statement\":[]}"] {
        let result = std::panic::catch_unwind(|| Policy::parse("p", PolicyKind::Identity, text));
        let e = result
            .unwrap_or_else(|_| panic!("Policy::parse panicked on {text:?}"))
            .unwrap_err();
        assert!(e.line >= 1 && e.column >= 1);
    }
}

#[test]
fn very_deep_nesting_is_an_error_not_a_stack_overflow() {
    for open in ["[", "{\"a\":"] {
        let text = open.repeat(100_000);
        assert!(json::parse(&text).is_err());
        assert!(Policy::parse("deep", PolicyKind::Identity, &text).is_err());
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// `Glob::new(p).matches(t)` agrees with the reference matcher.
    #[test]
    fn glob_matches_like_the_reference(p in "[ab*?/:é]{0,10}", t in "[ab/:é]{0,12}") {
        prop_assert_eq!(Glob::new(&p).matches(&t), reference_match(&p, &t), "pattern {:?} text {:?}", p, t);
    }

    /// Texts made from the pattern by filling its wildcards always match.
    #[test]
    fn instantiated_patterns_match(
        p in "[ab*?/:é]{0,10}",
        fills in proptest::collection::vec("[ab/:é]{0,4}", 1..4),
    ) {
        let t = instantiate(&p, &fills);
        prop_assert!(reference_match(&p, &t));
        prop_assert!(Glob::new(&p).matches(&t), "pattern {:?} text {:?}", p, t);
    }

    /// A literal pattern matches exactly itself, wildcard characters included.
    #[test]
    fn literal_matches_only_itself(s in "[ab*?/:é]{0,8}", t in "[ab*?/:é]{0,8}") {
        let g = Glob::literal(&s);
        prop_assert!(g.is_literal());
        prop_assert!(g.matches(&s));
        prop_assert_eq!(g.matches(&t), s == t);
    }

    /// Without `*` or `?`, `Glob::new` is the literal pattern.
    #[test]
    fn pattern_without_wildcards_is_literal(s in "[ab/:é]{0,8}", t in "[ab/:é]{0,8}") {
        let g = Glob::new(&s);
        prop_assert!(g.is_literal());
        prop_assert_eq!(&g, &Glob::literal(&s));
        prop_assert_eq!(g.matches(&t), s == t);
    }

    /// Templates never panic; without variables (Version 2008-10-17) the text is kept as is.
    #[test]
    fn template_never_panics_on_arbitrary_strings(s in any::<String>()) {
        let ctx = sample_context();
        let t = Template::parse(&s, true);
        let _ = t.to_text(&ctx);
        let _ = t.to_glob(&ctx);
        let _ = t.to_text(&RequestContext::new());
        let old = Template::parse(&s, false);
        prop_assert_eq!(old.to_text(&ctx).unwrap(), s.clone());
        prop_assert!(!old.has_variables());
    }

    /// The same, on strings dense in `${`, `}`, `,`, quotes and wildcards.
    #[test]
    fn template_never_panics_on_variable_soup(
        s in "(\\$\\{|\\}|\\$|\\{|,|'| |\\*|\\?|aws:username|aws:PrincipalTag/team|aws:TagKeys|x|é){0,16}",
    ) {
        let ctx = sample_context();
        let t = Template::parse(&s, true);
        let _ = t.to_text(&ctx);
        let _ = t.to_glob(&ctx);
        if !s.contains("${") {
            prop_assert_eq!(t.to_text(&ctx).unwrap(), s.clone());
        }
    }

    /// A variable's value is substituted literally: wildcard characters in it match only
    /// themselves.
    #[test]
    fn variable_values_are_literal(v in "[ab*?/:é]{1,8}", t in "[ab*?/:é]{0,8}") {
        let mut ctx = RequestContext::new();
        ctx.set("aws:username", v.clone());
        let tpl = Template::parse("home/${aws:username}", true);
        let expected = format!("home/{v}");
        let other = format!("home/{t}");
        prop_assert_eq!(tpl.to_text(&ctx).unwrap(), expected.clone());
        let g = tpl.to_glob(&ctx).unwrap();
        prop_assert!(g.matches(&expected));
        prop_assert_eq!(g.matches(&other), t == v);
    }

    /// Operator names never panic, and a parsed name displays as written.
    #[test]
    fn operator_parse_round_trips(
        s in "(ForAllValues:|ForAnyValue:)?(String|Numeric|Date|Arn|Ip|Not|Equals|Like|LessThan|GreaterThan|IgnoreCase|Bool|Null|Binary|Address|IfExists|x){0,5}",
    ) {
        if let Ok(op) = Operator::parse(&s) {
            prop_assert_eq!(op.to_string(), s);
        }
    }

    /// The JSON and policy parsers never panic on arbitrary strings.
    #[test]
    fn parsers_never_panic_on_arbitrary_strings(s in any::<String>()) {
        check_json(&s);
        check_policy(&s);
    }

    /// ... nor on JSON-like character soup.
    #[test]
    fn parsers_never_panic_on_json_soup(s in "[\\[\\]{}\":,\\\\ \\n0-9.eE+\\-tfnrulaé%7B]{0,40}") {
        check_json(&s);
        check_policy(&s);
    }

    /// ... nor on a valid policy with characters deleted or inserted.
    #[test]
    fn parsers_never_panic_on_mutated_policies(edits in edits()) {
        let text = apply(VALID_POLICY, &edits);
        check_json(&text);
        check_policy(&text);
    }

    /// ... nor on a mutated URL-encoded policy.
    #[test]
    fn parsers_never_panic_on_mutated_encoded_policies(edits in edits()) {
        let text = apply(&url_encode(VALID_POLICY), &edits);
        check_json(&text);
        check_policy(&text);
    }

    /// ... nor on nesting of random depth and shape.
    #[test]
    fn parsers_never_panic_on_nesting(opens in proptest::collection::vec(any::<bool>(), 0..300)) {
        let text: String = opens.iter().map(|&array| if array { "[" } else { "{\"a\":" }).collect();
        check_json(&text);
        check_policy(&text);
    }
}

proptest! {
    #![proptest_config(Config::with_cases(2000))]

    /// An ARN splits into exactly the six parts of the reference definition (split at the first
    /// five colons; the resource keeps its colons), and non-ARNs do not split.
    #[test]
    fn arns_split_like_the_reference(
        parts in proptest::collection::vec("[a-z0-9:/*-]{0,12}", 1..8),
        prefix in prop_oneof![Just("arn:"), Just("arn"), Just("ARN:"), Just("")],
    ) {
        let text = format!("{prefix}{}", parts.join(":"));
        let mut it = text.splitn(6, ':');
        let reference: Option<[&str; 6]> = (|| {
            let p = [it.next()?, it.next()?, it.next()?, it.next()?, it.next()?, it.next()?];
            (p[0] == "arn").then_some(p)
        })();
        prop_assert_eq!(why403_policy::pattern::split_arn(&text), reference);
    }
}
