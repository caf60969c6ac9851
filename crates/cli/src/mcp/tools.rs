//! The tools of `why403 mcp`, apart from the protocol: each tool's parameters (from which both
//! its JSON Schema and the checking of a call's arguments are made), and what a call answers.
//! Every answer is what the matching command prints, so the assistant and the person at the
//! terminal see the same diagnosis.

use std::path::Path;

use serde_json::{Map, Value, json};
use why403_core::Registry;
use why403_core::client::Client;
use why403_core::render::{HumanOptions, human, json as diagnosis_json};
use why403_fixtures_source::{MAX_SCENARIO_BYTES, ScenarioError};
use why403_policy::batch::{BatchEvaluator, MAX_LINE_BYTES};

use crate::diagnose::{Job, Upload, diagnosis};
use crate::live::{LiveArgs, Shared, UploadOptions};

/// The longest pasted error read, as `explain` reads at most this much of a file.
const MAX_TEXT: usize = crate::input::MAX_ERROR_INPUT as usize;
/// The longest target, principal, profile, Region, path or rule id.
const MAX_NAME: usize = 4096;
/// The most request headers given to `diagnose_live`, and the longest.
const MAX_HEADERS: usize = 64;
const MAX_HEADER: usize = 16 * 1024;

/// The kind of value a parameter takes.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Str,
    Bool,
    /// A non-negative integer.
    Count,
    /// A list of strings.
    Strs,
    /// A JSON object, or the same as JSON text.
    ObjectOrText,
    /// One of these strings.
    OneOf(&'static [&'static str]),
}

/// One parameter of a tool.
#[derive(Debug)]
struct Param {
    name: &'static str,
    kind: Kind,
    required: bool,
    /// The longest value: bytes of a string (or of the JSON text of an object), items of a list.
    max: usize,
    description: &'static str,
}

const fn param(
    name: &'static str,
    kind: Kind,
    required: bool,
    max: usize,
    description: &'static str,
) -> Param {
    Param {
        name,
        kind,
        required,
        max,
        description,
    }
}

const CLIENTS: &[&str] = &["console", "cli", "sdk"];

const CLIENT: Param = param(
    "client",
    Kind::OneOf(CLIENTS),
    false,
    0,
    "The client that sent the upload (`console`, `cli` for `aws s3 cp`, `sdk`): what it sends is \
     modelled, as `diagnose --client`.",
);
const SIZE: Param = param(
    "size",
    Kind::Count,
    false,
    0,
    "The object's size in bytes; with `client`, decides one PutObject or a multipart upload.",
);
const ERROR: Param = param(
    "error",
    Kind::Str,
    false,
    MAX_TEXT,
    "The error the upload failed with, as pasted (it fills what the upload leaves out, and a \
     finding it contradicts is flagged), as `diagnose --error`.",
);

/// A tool: its name, what it does, its parameters.
#[derive(Debug)]
pub(super) struct Tool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    params: &'static [Param],
    /// Reads from AWS: offered only with `--allow-live`.
    pub live: bool,
}

pub(super) const TOOLS: &[Tool] = &[
    Tool {
        name: "explain_error",
        title: "Explain an AWS error",
        description: "Explain a pasted AWS error about an S3 upload (an AccessDenied message, a CLI \
                      transcript, an S3 XML error body, a CloudTrail event): what the message \
                      proves, which causes it rules in or out, and the next step (often the \
                      `why403 diagnose` command to run). The result is `why403 explain --format \
                      json` (schema why403.explanation/v1).",
        params: &[param(
            "text",
            Kind::Str,
            true,
            MAX_TEXT,
            "The error as pasted (at most 16 MiB).",
        )],
        live: false,
    },
    Tool {
        name: "diagnose_scenario",
        title: "Diagnose a scenario",
        description: "Diagnose an upload from a why403 scenario (the upload and the evidence about \
                      it: policies, settings, keys; see docs/scenario-format.md): the verdict, \
                      the cause in its source, and a fix verified by re-evaluation. Give the \
                      scenario itself (`scenario`) or the path of a scenario file on this \
                      machine (`path`). The result is `why403 diagnose --scenario FILE --format \
                      json` (schema why403.diagnosis/v1).",
        params: &[
            param(
                "scenario",
                Kind::ObjectOrText,
                false,
                MAX_SCENARIO_BYTES as usize,
                "The scenario, as a JSON object or as its JSON text (at most 16 MiB).",
            ),
            param(
                "path",
                Kind::Str,
                false,
                MAX_NAME,
                "Instead of `scenario`: the path of a scenario file, read by this server \
                 (relative paths from the directory the server was started in).",
            ),
            ERROR,
            CLIENT,
            SIZE,
        ],
        live: false,
    },
    Tool {
        name: "diagnose_live",
        title: "Diagnose an upload read live from AWS",
        description: "Diagnose an upload `s3://bucket/key` by reading its evidence from AWS with \
                      the credentials this server was started with (read-only calls: Get, List, \
                      Describe, Head): the verdict, the cause in its source, and a verified fix; \
                      what could not be read is named with the permission that reads it. The \
                      result is `why403 diagnose s3://bucket/key --format json` (schema \
                      why403.diagnosis/v1).",
        params: &[
            param(
                "target",
                Kind::Str,
                true,
                MAX_NAME,
                "The upload, `s3://bucket/key`.",
            ),
            param(
                "principal",
                Kind::Str,
                false,
                MAX_NAME,
                "Diagnose this caller instead of the one whose credentials read: an IAM user, \
                 an assumed-role session or an account root ARN.",
            ),
            param(
                "headers",
                Kind::Strs,
                false,
                MAX_HEADERS,
                "Request headers the upload sends, each `NAME:VALUE` (e.g. \
                 `x-amz-server-side-encryption:aws:kms`).",
            ),
            param(
                "multipart",
                Kind::Bool,
                false,
                0,
                "The upload is a multipart upload, not one PutObject.",
            ),
            param(
                "mrap_bucket",
                Kind::Str,
                false,
                MAX_NAME,
                "For a Multi-Region Access Point target: the bucket the request was routed to \
                 (needed when the access point has several buckets and more than one Region \
                 is active).",
            ),
            param(
                "session_mode",
                Kind::OneOf(&["ReadWrite", "ReadOnly"]),
                false,
                MAX_NAME,
                "For a directory bucket target: the `SessionMode` of the client's \
                 `CreateSession` session, `ReadWrite` (the default) or `ReadOnly`.",
            ),
            param(
                "profile",
                Kind::Str,
                false,
                MAX_NAME,
                "The AWS profile to read with (default: the server's).",
            ),
            param(
                "region",
                Kind::Str,
                false,
                MAX_NAME,
                "The Region for the first calls (bucket calls go to the bucket's Region).",
            ),
            param(
                "fresh",
                Kind::Bool,
                false,
                0,
                "Read everything from AWS afresh. Without it, reads made for other uploads or \
                 callers in the last few minutes are reused; the same upload asked about again \
                 is always read afresh, so a re-check after a fix needs no `fresh`.",
            ),
            ERROR,
            CLIENT,
            SIZE,
        ],
        live: true,
    },
    Tool {
        name: "evaluate_request",
        title: "Evaluate an authorization request",
        description: "Evaluate one authorization request with its policies (one record of `why403 \
                      eval`, see docs/eval-format.md): the decision (allowed, implicitly denied, \
                      explicitly denied) and the deciding statements. The result is the line \
                      `why403 eval` prints for it.",
        params: &[param(
            "request",
            Kind::ObjectOrText,
            true,
            MAX_LINE_BYTES,
            "The record, as a JSON object or as its JSON text (at most 4 MiB).",
        )],
        live: false,
    },
    Tool {
        name: "list_rules",
        title: "List the rules",
        description: "List the rules this server knows (each a cause of a refused upload): id, \
                      layer and summary, as `why403 rules`; an organization's own rules are \
                      included when the server is the organization's binary.",
        params: &[],
        live: false,
    },
    Tool {
        name: "rule_doc",
        title: "A rule's documentation",
        description: "One rule's documentation (Markdown): what it finds, why AWS refuses, how it \
                      is fixed, as `why403 rules ID`. The same text is the resource \
                      `why403://rules/SCOPE/ID`.",
        params: &[param(
            "id",
            Kind::Str,
            true,
            MAX_NAME,
            "The rule id, `bucket-policy-explicit-deny` or `builtin/bucket-policy-explicit-deny`.",
        )],
        live: false,
    },
];

impl Tool {
    /// The JSON Schema of the tool's arguments.
    pub(super) fn input_schema(&self) -> Map<String, Value> {
        let mut properties = Map::new();
        for p in self.params {
            let mut s = match p.kind {
                Kind::Str => json!({ "type": "string", "maxLength": p.max }),
                Kind::Bool => json!({ "type": "boolean" }),
                Kind::Count => json!({ "type": "integer", "minimum": 0 }),
                Kind::Strs => json!({
                    "type": "array",
                    "items": { "type": "string", "maxLength": MAX_HEADER },
                    "maxItems": p.max,
                }),
                Kind::ObjectOrText => json!({ "type": ["object", "string"] }),
                Kind::OneOf(values) => json!({ "type": "string", "enum": values }),
            };
            s["description"] = Value::from(p.description);
            properties.insert(p.name.to_owned(), s);
        }
        let required: Vec<&str> = self
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name)
            .collect();
        let mut schema = Map::new();
        schema.insert("type".into(), "object".into());
        schema.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            schema.insert("required".into(), json!(required));
        }
        schema.insert("additionalProperties".into(), false.into());
        schema
    }

    /// The arguments of a call checked against the parameters: every problem is named with its
    /// JSON pointer in the arguments.
    fn check<'a>(&self, args: &'a Map<String, Value>) -> Result<Args<'a>, String> {
        for name in args.keys() {
            if !self.params.iter().any(|p| p.name == name) {
                let known: Vec<String> = self
                    .params
                    .iter()
                    .map(|p| format!("`{}`", p.name))
                    .collect();
                return Err(format!(
                    "argument /{}: `{}` takes no such argument{}",
                    pointer_token(name),
                    self.name,
                    if known.is_empty() {
                        " (it takes none)".to_owned()
                    } else {
                        format!(" (it takes {})", known.join(", "))
                    }
                ));
            }
        }
        for p in self.params {
            let Some(v) = args.get(p.name) else {
                if p.required {
                    return Err(format!(
                        "argument /{}: missing; {} needs it: {}",
                        p.name, self.name, p.description
                    ));
                }
                continue;
            };
            check_value(p, v)?;
        }
        Ok(Args(args))
    }
}

/// A name as a JSON pointer token (RFC 6901).
fn pointer_token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn check_value(p: &Param, v: &Value) -> Result<(), String> {
    let at = format!("argument /{}", p.name);
    let type_error =
        |expected: &str| Err(format!("{at}: expected {expected}, found {}", json_type(v)));
    match (p.kind, v) {
        (Kind::Str, Value::String(s)) | (Kind::ObjectOrText, Value::String(s)) => {
            if s.len() > p.max {
                return Err(format!(
                    "{at}: {} bytes, more than the {} this tool reads",
                    s.len(),
                    size(p.max)
                ));
            }
        }
        (Kind::Str, _) => return type_error("a string"),
        (Kind::ObjectOrText, Value::Object(_)) => {}
        (Kind::ObjectOrText, _) => return type_error("a JSON object or its text"),
        (Kind::Bool, Value::Bool(_)) => {}
        (Kind::Bool, _) => return type_error("true or false"),
        (Kind::Count, Value::Number(n)) if n.as_u64().is_some() => {}
        (Kind::Count, _) => return type_error("a whole number of 0 or more"),
        (Kind::Strs, Value::Array(items)) => {
            if items.len() > p.max {
                return Err(format!(
                    "{at}: {} items, more than the {} this tool reads",
                    items.len(),
                    p.max
                ));
            }
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if s.len() <= MAX_HEADER => {}
                    Value::String(s) => {
                        return Err(format!(
                            "{at}/{i}: {} bytes, more than the {} this tool reads",
                            s.len(),
                            size(MAX_HEADER)
                        ));
                    }
                    other => {
                        return Err(format!(
                            "{at}/{i}: expected a string, found {}",
                            json_type(other)
                        ));
                    }
                }
            }
        }
        (Kind::Strs, _) => return type_error("a list of strings"),
        (Kind::OneOf(values), Value::String(s)) if values.contains(&s.as_str()) => {}
        (Kind::OneOf(values), _) => {
            let names: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
            return Err(format!(
                "{at}: expected one of {}, found {}",
                names.join(", "),
                short(v)
            ));
        }
    }
    Ok(())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value quoted in a message, cut to a readable length.
fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

/// A call's arguments, checked.
struct Args<'a>(&'a Map<String, Value>);

impl Args<'_> {
    fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    fn bool(&self, name: &str) -> bool {
        self.0.get(name).and_then(Value::as_bool).unwrap_or(false)
    }

    fn count(&self, name: &str) -> Option<u64> {
        self.0.get(name).and_then(Value::as_u64)
    }

    fn strs(&self, name: &str) -> Vec<String> {
        self.0
            .get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn client(&self) -> Option<Client> {
        match self.str("client")? {
            "console" => Some(Client::Console),
            "cli" => Some(Client::Cli),
            "sdk" => Some(Client::Sdk),
            _ => None,
        }
    }
}

/// What a call answers: the structured result, and text for people. `failed` marks an answer
/// that is a tool error (the arguments are wrong, the input cannot be read), not a result.
#[derive(Debug)]
pub(super) struct Answer {
    pub structured: Option<Value>,
    pub text: String,
    pub failed: bool,
    /// One word for the server's log: the verdict, the decision, `error`.
    pub outcome: String,
}

impl Answer {
    fn ok(structured: Value, text: String, outcome: &str) -> Answer {
        Answer {
            structured: Some(structured),
            text,
            failed: false,
            outcome: outcome.to_owned(),
        }
    }

    pub(super) fn error(message: String) -> Answer {
        Answer {
            structured: None,
            text: message,
            failed: true,
            outcome: "error".to_owned(),
        }
    }
}

/// What the tools need: the rules, and when live reading is allowed, its options and the
/// reads its calls share.
#[derive(Debug)]
pub(super) struct Tools {
    pub registry: Registry,
    pub live: Option<(LiveArgs, Shared)>,
}

impl Tools {
    /// The tools offered: all but `diagnose_live` unless live reading is allowed.
    pub(super) fn offered(&self) -> impl Iterator<Item = &'static Tool> + '_ {
        TOOLS.iter().filter(|t| !t.live || self.live.is_some())
    }

    /// Answers a call of tool `name`; `None` when there is no such tool.
    pub(super) fn call(&self, name: &str, args: &Map<String, Value>) -> Option<Answer> {
        let tool = TOOLS.iter().find(|t| t.name == name)?;
        if tool.live && self.live.is_none() {
            return Some(Answer::error(format!(
                "`{name}` reads from AWS, and this server was started without `--allow-live`: \
                 restart it as `why403 mcp --allow-live` to allow it, or capture the upload \
                 (`why403 capture s3://BUCKET/KEY > scenario.json`) and call \
                 `diagnose_scenario`"
            )));
        }
        let args = match tool.check(args) {
            Ok(a) => a,
            Err(e) => return Some(Answer::error(e)),
        };
        Some(match name {
            "explain_error" => self.explain(&args),
            "diagnose_scenario" => self.diagnose_scenario(&args),
            "diagnose_live" => self.diagnose_live(&args),
            "evaluate_request" => evaluate(&args),
            "list_rules" => self.list_rules(),
            "rule_doc" => match self.rule_doc(args.str("id").unwrap_or_default()) {
                Ok(a) => a,
                Err(e) => Answer::error(e),
            },
            _ => return None,
        })
    }

    fn explain(&self, args: &Args<'_>) -> Answer {
        let parsed = why403_errors::parse(args.str("text").unwrap_or_default());
        let x = why403_errors::explain(&parsed, &self.registry);
        let outcome = if parsed.is_recognised() {
            "recognised"
        } else {
            "not recognised"
        };
        Answer::ok(
            why403_errors::json(&parsed, &x),
            why403_errors::human(&parsed, &x),
            outcome,
        )
    }

    fn diagnose_scenario(&self, args: &Args<'_>) -> Answer {
        let read = match (args.0.get("scenario"), args.str("path")) {
            (Some(_), Some(_)) => {
                return Answer::error(
                    "argument /path: give `scenario` or `path`, not both".to_owned(),
                );
            }
            (None, None) => {
                return Answer::error(
                    "argument /scenario: missing; give the scenario (`scenario`) or the path of \
                     a scenario file (`path`)"
                        .to_owned(),
                );
            }
            (None, Some(path)) => why403_fixtures_source::load(Path::new(path))
                .map_err(|e| format!("cannot diagnose `{path}`: {e}")),
            (Some(Value::String(text)), None) => why403_fixtures_source::parse("scenario", text)
                .map_err(|e| {
                    format!("argument /scenario (its JSON text; `scenario:LINE:COLUMN`): {e}")
                }),
            (Some(object), None) => scenario_object(object),
        };
        let scenario = match read {
            Ok(s) => s,
            Err(e) => return Answer::error(e),
        };
        self.diagnose(
            Upload::Read(Box::new((scenario.request, scenario.evidence))),
            args,
            None,
        )
    }

    fn diagnose_live(&self, args: &Args<'_>) -> Answer {
        let Some((live, shared)) = &self.live else {
            return Answer::error("the live mode is off".to_owned());
        };
        let live = live.for_upload(UploadOptions {
            principal: args.str("principal").map(str::to_owned),
            headers: args.strs("headers"),
            multipart: args.bool("multipart"),
            mrap_bucket: args.str("mrap_bucket").map(str::to_owned),
            session_mode: args.str("session_mode").map(str::to_owned),
            profile: args.str("profile").map(str::to_owned),
            region: args.str("region").map(str::to_owned),
        });
        let target = args.str("target").unwrap_or_default().to_owned();
        self.diagnose(
            Upload::Live(target),
            args,
            Some((&live, shared, args.bool("fresh"))),
        )
    }

    fn diagnose(
        &self,
        upload: Upload,
        args: &Args<'_>,
        live: Option<(&LiveArgs, &Shared, bool)>,
    ) -> Answer {
        let none = LiveArgs::default();
        let job = Job {
            upload,
            live: live.map_or(&none, |l| l.0),
            error: args.str("error").map(str::to_owned),
            client: args.client(),
            size: args.count("size"),
            quiet: true,
            shared: live.map(|l| l.1),
            fresh: live.is_some_and(|l| l.2),
        };
        match diagnosis(job, &self.registry) {
            Ok(d) => {
                let structured = diagnosis_json(&d);
                let text = summary(&structured, &human(&d, &HumanOptions::new(false)));
                let verdict = structured["verdict"].as_str().unwrap_or("?").to_owned();
                Answer::ok(structured, text, &verdict)
            }
            // The message names the file, the call or the option; never a credential.
            Err(e) => Answer::error(crate::message(&e)),
        }
    }

    fn list_rules(&self) -> Answer {
        let mut metas: Vec<_> = self.registry.rules().iter().map(|r| r.meta()).collect();
        metas.sort_by_key(|m| crate::rules::full_id(m));
        let rules: Vec<Value> = metas
            .iter()
            .map(|m| {
                json!({
                    "id": crate::rules::full_id(m),
                    "layer": m.layer.to_string(),
                    "summary": m.summary,
                    "resource": resource_uri(m),
                })
            })
            .collect();
        let text = metas
            .iter()
            .map(|m| format!("{}: {}\n", crate::rules::full_id(m), m.summary))
            .collect();
        Answer::ok(
            json!({ "rules": rules }),
            text,
            &format!("{} rules", metas.len()),
        )
    }

    /// `rule_doc`, and the text of a rule's resource.
    pub(super) fn rule_doc(&self, id: &str) -> Result<Answer, String> {
        let Some(rule) = self.registry.get(id) else {
            return Err(format!(
                "argument /id: no rule `{id}`; `list_rules` lists them"
            ));
        };
        let m = rule.meta();
        let doc = crate::rules::doc(m);
        Ok(Answer::ok(
            json!({
                "id": crate::rules::full_id(m),
                "layer": m.layer.to_string(),
                "summary": m.summary,
                "markdown": doc,
            }),
            doc,
            "found",
        ))
    }

    /// Every rule as a resource: its URI, name, and summary.
    pub(super) fn resources(&self) -> Vec<(String, String, String)> {
        let mut metas: Vec<_> = self.registry.rules().iter().map(|r| r.meta()).collect();
        metas.sort_by_key(|m| crate::rules::full_id(m));
        metas
            .iter()
            .map(|m| {
                (
                    resource_uri(m),
                    crate::rules::full_id(m),
                    m.summary.to_owned(),
                )
            })
            .collect()
    }

    /// The documentation a resource URI names.
    pub(super) fn resource(&self, uri: &str) -> Option<String> {
        let id = uri.strip_prefix(RESOURCE_PREFIX)?;
        let rule = self.registry.get(id)?;
        (resource_uri(rule.meta()) == uri).then(|| crate::rules::doc(rule.meta()))
    }
}

/// Where rule documents are, as resources.
pub(super) const RESOURCE_PREFIX: &str = "why403://rules/";

fn resource_uri(m: &why403_core::rule::RuleMeta) -> String {
    format!("{RESOURCE_PREFIX}{}", crate::rules::full_id(m))
}

/// A scenario given as a JSON object: read from its pretty-printed text, and its errors named
/// by their JSON pointer (lines of a text the caller never saw would mean nothing).
fn scenario_object(object: &Value) -> Result<why403_fixtures_source::Scenario, String> {
    let text = serde_json::to_string_pretty(object)
        .map_err(|e| format!("argument /scenario: cannot be written as JSON text: {e}"))?;
    if text.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(format!(
            "argument /scenario: {} bytes as JSON text, more than the {} MiB of a scenario",
            text.len(),
            MAX_SCENARIO_BYTES >> 20
        ));
    }
    why403_fixtures_source::parse("scenario", &text).map_err(|e| object_error(&e))
}

/// A scenario error, located by JSON pointer under `/scenario`.
fn object_error(e: &ScenarioError) -> String {
    let message = e.to_string();
    match e.location() {
        Some(at) => {
            let rest = message
                .strip_prefix(&at.to_string())
                .map(|r| r.trim_start_matches(':').trim_start())
                .unwrap_or(&message);
            format!("argument /scenario{}: {rest}", at.pointer)
        }
        None => format!("argument /scenario: {message}"),
    }
}

/// `evaluate_request`: the line `why403 eval` prints for the record.
fn evaluate(args: &Args<'_>) -> Answer {
    let line = match args.0.get("request") {
        Some(Value::String(text)) => {
            if text.contains('\n') {
                // `eval` reads one record per line; the record's text may be pretty-printed.
                match serde_json::from_str::<Value>(text) {
                    Ok(v) => v.to_string(),
                    Err(e) => {
                        return Answer::error(format!(
                            "argument /request: not valid JSON at line {}, column {}: {e}",
                            e.line(),
                            e.column()
                        ));
                    }
                }
            } else {
                text.clone()
            }
        }
        Some(v) => v.to_string(),
        None => String::new(),
    };
    if line.len() > MAX_LINE_BYTES {
        return Answer::error(format!(
            "argument /request: {} bytes as one line, more than the {} MiB of an `eval` record",
            line.len(),
            MAX_LINE_BYTES >> 20
        ));
    }
    let mut out = String::new();
    let ok = BatchEvaluator::new().eval_line(&line, 1, &mut out);
    let result: Value = match serde_json::from_str(out.trim_end()) {
        Ok(v) => v,
        Err(e) => return Answer::error(format!("the evaluator's answer is not JSON: {e}")),
    };
    if !ok {
        let message = result["error"]
            .as_str()
            .unwrap_or("invalid record")
            .to_owned();
        return Answer::error(format!("argument /request: {message}"));
    }
    let decision = result["decision"].as_str().unwrap_or("?").to_owned();
    let text = format!("{decision}\n{}", out.trim_end());
    Answer::ok(result, text, &decision)
}

/// The short summary above the full human rendering: the verdict, and each cause with its fix
/// and what re-evaluating the fix gave.
fn summary(d: &Value, rendering: &str) -> String {
    let mut out = String::new();
    let verdict = d["verdict"].as_str().unwrap_or("?");
    match d["cause"].as_str() {
        Some(cause) => out.push_str(&format!("{verdict}: {cause}\n")),
        None => out.push_str(&format!("{verdict}\n")),
    }
    for f in d["findings"].as_array().into_iter().flatten() {
        if f["role"] != "cause" {
            continue;
        }
        let rule = f["rule"].as_str().unwrap_or("?");
        if let Some(fix) = f["fix"]["description"].as_str() {
            let verified = f["fix"]["verified"]["status"]
                .as_str()
                .map_or_else(|| "not verified".to_owned(), |s| s.replace('_', " "));
            out.push_str(&format!("fix ({rule}): {fix} (verified: {verified})\n"));
        }
    }
    out.push('\n');
    out.push_str(rendering);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Tools {
        Tools {
            registry: why403_rules::registry(),
            live: None,
        }
    }

    fn call(name: &str, args: Value) -> Answer {
        let Value::Object(args) = args else {
            panic!("arguments are an object")
        };
        tools().call(name, &args).expect("a tool")
    }

    #[test]
    fn every_schema_is_an_object_schema_naming_its_required_arguments() {
        for t in TOOLS {
            let s = t.input_schema();
            assert_eq!(s["type"], "object", "{}", t.name);
            for r in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let r = r.as_str().unwrap();
                assert!(s["properties"].get(r).is_some(), "{}: {r}", t.name);
            }
        }
    }

    #[test]
    fn wrong_arguments_are_named_by_their_pointer() {
        let a = call("explain_error", json!({}));
        assert!(
            a.failed && a.text.starts_with("argument /text: missing"),
            "{}",
            a.text
        );
        let a = call("explain_error", json!({ "text": 3 }));
        assert!(
            a.failed && a.text.contains("/text: expected a string, found a number"),
            "{}",
            a.text
        );
        let a = call("explain_error", json!({ "text": "x", "txt": "y" }));
        assert!(
            a.failed
                && a.text
                    .contains("/txt: `explain_error` takes no such argument"),
            "{}",
            a.text
        );
        let a = call(
            "diagnose_scenario",
            json!({ "path": "x", "client": "browser" }),
        );
        assert!(
            a.failed
                && a.text.contains(
                    "/client: expected one of `console`, `cli`, `sdk`, found \"browser\""
                ),
            "{}",
            a.text
        );
        let a = call("diagnose_scenario", json!({ "path": "x", "size": -1 }));
        assert!(
            a.failed && a.text.contains("/size: expected a whole number"),
            "{}",
            a.text
        );
        let a = call("explain_error", json!({ "text": "x".repeat(MAX_TEXT + 1) }));
        assert!(
            a.failed && a.text.contains("more than the 16 MiB"),
            "{}",
            a.text
        );
    }

    #[test]
    fn a_scenario_object_error_is_named_by_its_pointer() {
        let a = call(
            "diagnose_scenario",
            json!({ "scenario": { "scenario": 1, "request": { "bucket": 7 } } }),
        );
        assert!(a.failed, "{}", a.text);
        assert!(
            a.text.starts_with("argument /scenario/request"),
            "{}",
            a.text
        );
        assert!(
            !a.text.contains("scenario:"),
            "no line of a text never seen: {}",
            a.text
        );
        // As text, the line and column are the caller's.
        let a = call(
            "diagnose_scenario",
            json!({ "scenario": "{\n  \"scenario\": 1,\n  ]" }),
        );
        assert!(a.failed && a.text.contains("scenario:3:"), "{}", a.text);
    }

    #[test]
    fn live_reading_is_refused_unless_allowed() {
        let t = tools();
        assert!(t.offered().all(|t| t.name != "diagnose_live"));
        let a = call("diagnose_live", json!({ "target": "s3://b/k" }));
        assert!(a.failed && a.text.contains("--allow-live"), "{}", a.text);
        assert!(tools().call("no_such_tool", &Map::new()).is_none());
    }

    #[test]
    fn an_eval_record_that_is_not_one_says_so() {
        let a = call("evaluate_request", json!({ "request": { "id": 1 } }));
        assert!(
            a.failed && a.text.starts_with("argument /request: line 1:"),
            "{}",
            a.text
        );
        let a = call("evaluate_request", json!({ "request": "{\n\"id\": " }));
        assert!(a.failed && a.text.contains("line 2"), "{}", a.text);
    }

    #[test]
    fn rule_documents_are_resources() {
        let t = tools();
        let all = t.resources();
        assert!(all.len() > 10);
        for (uri, id, _) in &all {
            let doc = t.resource(uri).unwrap();
            assert!(doc.starts_with(&format!("# {id}\n")), "{doc}");
        }
        assert!(t.resource("why403://rules/builtin/nope").is_none());
        assert!(t.resource("file:///etc/passwd").is_none());
    }
}
