//! `schema/scenario.schema.json` against the reader: the schema names exactly the fields the
//! reader accepts, and every scenario file shipped (tests/data, examples/scenarios) matches
//! it. A small validator covers the keywords the schema uses (`pattern` is not checked).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use why403_fixtures_source::{
    EVIDENCE_SECTIONS, NETWORK_FIELDS, REQUEST_FIELDS, TOP_LEVEL_FIELDS, load,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schema() -> Value {
    let text =
        std::fs::read_to_string(root().join("schema/scenario.schema.json")).expect("schema file");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// Keywords the validator checks, and annotations it may skip.
const CHECKED: &[&str] = &[
    "$ref",
    "type",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "anyOf",
    "const",
    "enum",
    "minLength",
    "minItems",
    "maxItems",
];
const SKIPPED: &[&str] = &["$schema", "$id", "$defs", "title", "description", "pattern"];

struct Validator<'s> {
    root: &'s Value,
}

impl Validator<'_> {
    fn resolve<'a>(&'a self, s: &'a Value) -> &'a Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r
                    .strip_prefix("#/$defs/")
                    .unwrap_or_else(|| panic!("unsupported $ref {r}"));
                self.resolve(&self.root["$defs"][name])
            }
            None => s,
        }
    }

    /// Errors as `pointer: message`.
    fn check(&self, s: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
        let s = self.resolve(s);
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => panic!("bad type at {at}"),
            };
            let ok = types.iter().any(|t| match *t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                "null" => v.is_null(),
                other => panic!("unknown type {other}"),
            });
            if !ok {
                out.push(format!("{at}: expected {types:?}"));
                return;
            }
        }
        if let Some(c) = s.get("const")
            && c != v
        {
            out.push(format!("{at}: expected {c}"));
        }
        if let Some(Value::Array(e)) = s.get("enum")
            && !e.contains(v)
        {
            out.push(format!("{at}: {v} not in {e:?}"));
        }
        if let (Some(n), Some(t)) = (s.get("minLength").and_then(Value::as_u64), v.as_str())
            && (t.chars().count() as u64) < n
        {
            out.push(format!("{at}: shorter than {n}"));
        }
        if let Some(items) = v.as_array() {
            if let Some(n) = s.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < n
            {
                out.push(format!("{at}: fewer than {n} items"));
            }
            if let Some(n) = s.get("maxItems").and_then(Value::as_u64)
                && (items.len() as u64) > n
            {
                out.push(format!("{at}: more than {n} items"));
            }
            if let Some(is) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.check(is, item, &format!("{at}/{i}"), out);
                }
            }
        }
        if let Some(o) = v.as_object() {
            self.object(s, o, at, out);
        }
        if let Some(Value::Array(alts)) = s.get("anyOf") {
            let ok = alts.iter().any(|a| {
                let mut e = Vec::new();
                self.check(a, v, at, &mut e);
                e.is_empty()
            });
            if !ok {
                out.push(format!("{at}: matches no alternative"));
            }
        }
    }

    fn object(&self, s: &Value, o: &Map<String, Value>, at: &str, out: &mut Vec<String>) {
        let empty = Map::new();
        let props = s
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap_or_default();
            if !o.contains_key(r) {
                out.push(format!("{at}: missing `{r}`"));
            }
        }
        for (k, v) in o {
            let child = format!("{at}/{k}");
            match (props.get(k), s.get("additionalProperties")) {
                (Some(ps), _) => self.check(ps, v, &child, out),
                (None, Some(Value::Bool(false))) => out.push(format!("{child}: not allowed")),
                (None, Some(extra)) if extra.is_object() => self.check(extra, v, &child, out),
                (None, _) => {}
            }
        }
    }

    fn errors(&self, v: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.check(self.root, v, "", &mut out);
        out
    }
}

fn keywords(s: &Value, in_props: bool, out: &mut Vec<String>) {
    match s {
        Value::Object(m) => {
            for (k, v) in m {
                if !in_props && !CHECKED.contains(&k.as_str()) && !SKIPPED.contains(&k.as_str()) {
                    out.push(k.clone());
                }
                // The members of `properties` and `$defs` are names, not keywords.
                keywords(v, !in_props && (k == "properties" || k == "$defs"), out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keywords(v, false, out)),
        _ => {}
    }
}

/// Property names, sorted.
fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect();
    n.sort();
    n
}

#[test]
fn the_validator_understands_every_keyword_of_the_schema() {
    let mut unknown = Vec::new();
    keywords(&schema(), false, &mut unknown);
    assert!(
        unknown.is_empty(),
        "keywords the validator does not check: {unknown:?}"
    );
}

#[test]
fn the_schema_names_exactly_the_readers_fields() {
    let s = schema();
    let defs = &s["$defs"];
    let own = |fields: &[&str]| {
        let mut v: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&s), own(TOP_LEVEL_FIELDS));
    assert_eq!(names(&defs["request"]), own(REQUEST_FIELDS));
    assert_eq!(names(&defs["network"]), own(NETWORK_FIELDS));
    assert_eq!(names(&defs["evidence"]), own(EVIDENCE_SECTIONS));
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
}

fn scenario_files() -> Vec<(PathBuf, bool)> {
    let mut files = Vec::new();
    for (dir, ours) in [
        (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"),
            true,
        ),
        (root().join("examples/scenarios"), false),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json") {
                files.push((p, ours));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_shipped_scenario_matches_the_schema() {
    let s = schema();
    let v = Validator { root: &s };
    let files = scenario_files();
    assert!(
        files.iter().any(|(_, ours)| *ours),
        "no test scenarios found"
    );
    for (path, ours) in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let errors = v.errors(&doc);
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        if ours {
            load(&path).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn the_schema_rejects_what_the_reader_rejects() {
    let s = schema();
    let v = Validator { root: &s };
    let ok = serde_json::json!({"scenario": 1, "request": {"bucket": "b", "key": "k", "credentials": "anonymous"}});
    assert!(v.errors(&ok).is_empty());
    let bad = |patch: Value| {
        let mut doc = ok.clone();
        for (k, val) in patch.as_object().unwrap() {
            let (outer, inner) = k.split_once('.').unwrap();
            doc[outer][inner] = val.clone();
        }
        let errors = v.errors(&doc);
        assert!(!errors.is_empty(), "accepted {doc}");
    };
    bad(serde_json::json!({"request.bukcet": "b"}));
    bad(serde_json::json!({"request.operation": "Copy"}));
    bad(serde_json::json!({"evidence.bucket_acl": {"$absent": "X"}}));
    bad(serde_json::json!({"evidence.bucket_policy": {"Polciy": "{}"}}));
    bad(serde_json::json!({"evidence.bucket_policy": {"$unavailable": {"why": "x"}}}));
    bad(serde_json::json!({"evidence.bucket_polcy": {"$absent": "NoSuchBucketPolicy"}}));
    bad(
        serde_json::json!({"evidence.bucket_ownership_controls": {"OwnershipControls": {"Rules": []}}}),
    );
}
