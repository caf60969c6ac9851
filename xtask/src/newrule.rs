//! `cargo xtask new-rule ID`: scaffolds a rule crate under `crates/rules/ID` from the templates
//! in `xtask/templates/` (docs with a `FIXME` in every section, an empty `check`, one fires and
//! one clear case, the snapshot test) and links it into the bundle at `crates/bundle`.

use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::{Context as _, bail};

use why403_core::rule::RuleLayer;

use crate::check::{MIN_CLEAR, MIN_FIRES};
use crate::util;

const CARGO_TOML: &str = include_str!("../templates/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("../templates/lib.rs.tmpl");
const OUTSIDE_CARGO_TOML: &str = include_str!("../templates/outside/Cargo.toml.tmpl");
const OUTSIDE_RULES_RS: &str = include_str!("../templates/outside/rules.rs.tmpl");
/// A scenario the new rule must be made to fire on (denied: no identity policy allows the upload).
pub const FIRES_CASE: &str = include_str!("../templates/fires.json");
/// A scenario the new rule must stay silent on (an allowed upload).
pub const CLEAR_CASE: &str = include_str!("../templates/clear.json");

/// The file name of the two case stubs; `cargo xtask check` reports it until it is renamed.
const CASE_STUB: &str = "FIXME-example.json";

/// The longest id the registry tests accept.
const MAX_ID_LEN: usize = 48;

/// Leading words that make an id name a fix or an activity instead of the cause as found.
const FIX_WORDS: &[&str] = &[
    "add", "allow", "attach", "change", "check", "create", "detach", "detect", "disable", "enable",
    "ensure", "find", "fix", "give", "grant", "make", "remove", "require", "send", "set", "update",
    "use", "validate", "verify",
];

/// What `new-rule` was asked for.
#[derive(Debug)]
pub struct Options {
    pub id: String,
    pub layer: Option<String>,
    pub summary: Option<String>,
    /// The scope of a rule of one's own (`acme`); `builtin` when not given.
    pub scope: Option<String>,
    /// Scaffold an outside crate in this new folder instead of a built-in rule.
    pub into: Option<std::path::PathBuf>,
}

pub fn run(opts: &Options) -> anyhow::Result<ExitCode> {
    let root = util::workspace_root()?;
    let id = opts.id.as_str();
    validate_id(id)?;
    let layer = match &opts.layer {
        Some(l) => l.parse::<RuleLayer>()?,
        None => RuleLayer::of_id(id).with_context(|| {
            format!(
                "`{id}` does not start with the layer its cause lives in (`bucket-policy-`, \
                 `identity-policy-`, `kms-`, `scp-`, ...): rename it, or give `--layer` (one of: {})",
                RuleLayer::ALL.map(RuleLayer::as_str).join(", ")
            )
        })?,
    };
    if let Some(s) = &opts.summary {
        validate_summary(s)?;
    }
    if RuleLayer::of_id(id).is_none() {
        eprintln!(
            "xtask: note: `{id}` does not start with the layer the cause lives in (`{}`); ids group better when they do",
            layer.id_prefixes().join("`, `")
        );
    }

    let summary = opts.summary.as_ref().map_or_else(
        || "\"FIXME one line: what refuses the upload, lower-case, no final period\"".to_owned(),
        |s| format!("{s:?}"),
    );
    if let Some(into) = &opts.into {
        let scope = opts
            .scope
            .as_deref()
            .context("`--into` scaffolds a rule of your own: give its `--scope` (e.g. `acme`)")?;
        return outside(&root, id, scope, layer, summary, into);
    }
    if let Some(s) = opts.scope.as_deref().filter(|s| *s != "builtin") {
        bail!(
            "a rule in scope `{s}` lives in its own crate outside this repository: add `--into DIR`"
        );
    }

    let rules = util::rules_dir(&root);
    let dir = rules.join(id);
    if dir.exists() {
        bail!(
            "`{}` already exists; pick another id or remove it",
            util::rel(&root, &dir)
        );
    }
    // Check the bundle before writing anything, so a failure leaves nothing behind.
    let (manifest_path, lib_path) = util::bundle_files(&root);
    let manifest = read(&manifest_path)?;
    let lib = read(&lib_path)?;
    let new_manifest = insert_sorted_dep(&manifest, id)?;
    let new_lib = insert_sorted_use(&lib, id)?;

    let vars = Vars {
        id,
        scope: "builtin".to_owned(),
        pascal: pascal_case(id),
        lib: util::rule_lib_name(id),
        layer: format!("{layer:?}"),
        summary,
        why403: String::new(),
    };
    // `create_dir` (not `create_dir_all`) fails if another process created it meanwhile.
    fs::create_dir(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let files: [(&str, String); 4] = [
        ("Cargo.toml", vars.fill(CARGO_TOML)),
        ("src/lib.rs", vars.fill(LIB_RS)),
        (
            "tests/cases/fires/FIXME-example.json",
            FIRES_CASE.to_owned(),
        ),
        (
            "tests/cases/clear/FIXME-example.json",
            CLEAR_CASE.to_owned(),
        ),
    ];
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        create_new(&path, text)?;
    }
    write(&manifest_path, &new_manifest)?;
    write(&lib_path, &new_lib)?;
    for (rel, _) in &files {
        println!("created  {}", util::rel(&root, &dir.join(rel)));
    }
    println!("updated  {}", util::rel(&root, &manifest_path));
    println!("updated  {}", util::rel(&root, &lib_path));

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let package = format!("why403-rule-{id}");
    let fmt = Command::new(&cargo)
        .current_dir(&root)
        .args(["fmt", "-p", &package])
        .status();
    match fmt {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("xtask: warning: `cargo fmt -p {package}` failed ({s})"),
        Err(e) => eprintln!("xtask: warning: cannot run `cargo fmt -p {package}`: {e}"),
    }

    let d = format!("crates/rules/{id}");
    print!(
        "
next steps:
  1. fill in every FIXME in {d}/src/lib.rs:
     the doc sections (Cause, How AWS evaluates it, Example, Fix, References), the layer and
     summary, and `check()` (override `needs()` if the rule can say nothing without some
     evidence)
  2. write at least {MIN_FIRES} scenarios in {d}/tests/cases/fires/
     and {MIN_CLEAR} in tests/cases/clear/, named after the scenario (kebab-case), and delete the
     two {CASE_STUB} stubs
  3. INSTA_UPDATE=always WHY403_RULE={id} cargo test -p why403-rules --test cases
  4. review every new snapshot in {d}/tests/snapshots/ like code
  5. cargo xtask docs
  6. cargo xtask check, then cargo test --workspace (the registry tests fail while a FIXME is
     left in the docs)
"
    );
    Ok(ExitCode::SUCCESS)
}

/// Scaffolds the crate of a rule of one's own in `into` (a new folder): its manifest with path
/// dependencies on this checkout's crates, the rule with its scope, the case stubs and the test
/// that runs them with the kit. Nothing of this repository is changed.
fn outside(
    root: &std::path::Path,
    id: &str,
    scope: &str,
    layer: RuleLayer,
    summary: String,
    into: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    validate_id(scope).with_context(|| format!("scope `{scope}`"))?;
    if scope == "builtin" {
        bail!("scope `builtin` is why403's own; give your organization's (e.g. `acme`)");
    }
    if into.exists() {
        bail!("`{}` already exists; give a new folder", into.display());
    }
    let why403 = root
        .canonicalize()
        .with_context(|| format!("cannot resolve `{}`", root.display()))?;
    let vars = Vars {
        id,
        scope: scope.to_owned(),
        pascal: pascal_case(id),
        lib: format!("{}_rule_{}", scope.replace('-', "_"), id.replace('-', "_")),
        layer: format!("{layer:?}"),
        summary,
        why403: why403.to_string_lossy().replace('\\', "/"),
    };
    fs::create_dir_all(into).with_context(|| format!("cannot create `{}`", into.display()))?;
    let files = [
        ("Cargo.toml", vars.fill(OUTSIDE_CARGO_TOML)),
        ("src/lib.rs", vars.fill(LIB_RS)),
        ("tests/rules.rs", vars.fill(OUTSIDE_RULES_RS)),
        (
            "tests/cases/fires/FIXME-example.json",
            outside_case(FIRES_CASE),
        ),
        (
            "tests/cases/clear/FIXME-example.json",
            outside_case(CLEAR_CASE),
        ),
    ];
    for (rel, text) in &files {
        let path = into.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        create_new(&path, text)?;
        println!("created  {}", path.display());
    }
    let d = into.display();
    print!(
        "
next steps, in {d}:
  1. fill in every FIXME in src/lib.rs (the doc sections, the summary, the messages, check())
  2. write scenarios in tests/cases/fires/ and tests/cases/clear/, and delete the two stubs
  3. INSTA_UPDATE=always cargo test, then review every snapshot in tests/snapshots/
  4. link the crate into your binary (`use {lib} as _;`) and run `why403::App` (docs/extending.md)
",
        lib = vars.lib
    );
    Ok(ExitCode::SUCCESS)
}

/// A case stub without the `$schema` path of the repository's layout.
fn outside_case(case: &str) -> String {
    case.lines()
        .filter(|l| !l.trim_start().starts_with("\"$schema\""))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The values substituted into the templates.
struct Vars<'a> {
    id: &'a str,
    /// The rule's scope (`builtin` for the built-in rules).
    scope: String,
    /// The path of this checkout, for an outside crate's dependencies.
    why403: String,
    pascal: String,
    lib: String,
    /// A `RuleLayer` variant.
    layer: String,
    /// A Rust string literal.
    summary: String,
}

impl Vars<'_> {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{{id}}", self.id)
            .replace("{{scope}}", &self.scope)
            .replace("{{why403}}", &self.why403)
            .replace("{{Struct}}", &self.pascal)
            .replace("{{lib}}", &self.lib)
            .replace("{{layer}}", &self.layer)
            .replace("{{summary}}", &self.summary)
    }
}

/// Kebab-case ASCII, starting with a letter, at most 48 characters, naming a cause.
pub fn validate_id(id: &str) -> anyhow::Result<()> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        bail!(
            "rule id `{id}` must be 1 to {MAX_ID_LEN} characters long (it has {})",
            id.len()
        );
    }
    if !is_kebab(id) {
        bail!(
            "rule id `{id}` must be kebab-case: lower-case ASCII letters and digits in words \
             joined by single `-`, starting with a letter (e.g. `bucket-policy-explicit-deny`)"
        );
    }
    let first = id.split('-').next().unwrap_or(id);
    if FIX_WORDS.contains(&first) || id.ends_with("-fix") {
        bail!(
            "rule id `{id}` names a fix or an activity; name the cause as it is found in the \
             configuration instead (e.g. `kms-key-policy-missing-generate-data-key`, not \
             `add-kms-permission`)"
        );
    }
    if id == "unexplained-deny" {
        bail!(
            "`unexplained-deny` is reserved for the finding core emits when no rule explains a deny"
        );
    }
    Ok(())
}

fn validate_summary(s: &str) -> anyhow::Result<()> {
    if s.contains('\n') || s.chars().count() > 80 {
        bail!("the summary must be one line of at most 80 characters");
    }
    if !s.starts_with(|c: char| c.is_lowercase()) || s.ends_with('.') {
        bail!(
            "the summary must start lower-case and have no final period (like a finding's message)"
        );
    }
    Ok(())
}

fn is_kebab(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `bucket-policy-explicit-deny` -> `BucketPolicyExplicitDeny`.
pub fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut cs = w.chars();
            cs.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + cs.as_str()
            })
        })
        .collect()
}

/// Adds the rule crate to the `[dependencies]` of the bundle's manifest, among the other rule
/// crates in sorted order.
pub fn insert_sorted_dep(manifest: &str, id: &str) -> anyhow::Result<String> {
    let line = util::bundle_dep_line(id);
    let existing = util::bundle_dep_lines(manifest);
    let at = match existing.iter().find(|(_, l)| l.trim() > line.as_str()) {
        Some((i, _)) => *i,
        None => match existing.last() {
            Some((i, _)) => i + 1,
            None => {
                // No rule yet: right after the `[dependencies]` header.
                manifest
                    .lines()
                    .position(|l| l.trim() == "[dependencies]")
                    .context("crates/bundle/Cargo.toml has no [dependencies] table")?
                    + 1
            }
        },
    };
    Ok(insert_line(manifest, at, &line))
}

/// Adds `use why403_rule_<id> as _;` to the bundle's `lib.rs`, among the other such lines in
/// sorted order.
pub fn insert_sorted_use(lib: &str, id: &str) -> anyhow::Result<String> {
    let line = util::bundle_use_line(id);
    let existing = util::bundle_use_lines(lib);
    let at = match existing.iter().find(|(_, l)| l.trim() > line.as_str()) {
        Some((i, _)) => *i,
        None => match existing.last() {
            Some((i, _)) => i + 1,
            None => bail!(
                "crates/bundle/src/lib.rs has no `use why403_rule_... as _;` line to insert next to"
            ),
        },
    };
    Ok(insert_line(lib, at, &line))
}

fn insert_line(text: &str, at: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(at.min(lines.len()), line);
    let mut out = lines.join("\n");
    if text.ends_with('\n') || text.is_empty() {
        out.push('\n');
    }
    out
}

fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
}

fn create_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        for ok in [
            "bucket-policy-explicit-deny",
            "kms-key-policy-missing-generate-data-key",
            "scp-denies-s3",
        ] {
            validate_id(ok).unwrap();
        }
        for bad in [
            "",
            "Bucket-policy",
            "bucket_policy",
            "bucket--policy",
            "-bucket",
            "bucket-",
            "3-bucket",
            "add-kms-permission",
            "check-bucket-policy",
            "bucket-policy-fix",
            "unexplained-deny",
            "a-very-long-rule-id-that-goes-on-and-on-past-the-limit",
        ] {
            assert!(validate_id(bad).is_err(), "`{bad}` was accepted");
        }
    }

    #[test]
    fn names_follow_the_id() {
        assert_eq!(
            pascal_case("kms-key-policy-missing-generate-data-key"),
            "KmsKeyPolicyMissingGenerateDataKey"
        );
        assert_eq!(
            RuleLayer::of_id("scp-denies-s3"),
            Some(RuleLayer::Organizations)
        );
        assert_eq!(
            RuleLayer::of_id("kms-key-policy-missing-decrypt"),
            Some(RuleLayer::Kms)
        );
        assert_eq!(RuleLayer::of_id("object-lock-header-denied"), None);
    }

    #[test]
    fn bundle_lines_are_inserted_sorted() {
        let manifest = "[package]\nname = \"x\"\n\n[dependencies]\nwhy403-core.workspace = true\n\
                        why403-rule-a-rule = { path = \"../rules/a-rule\" }\n\
                        why403-rule-c-rule = { path = \"../rules/c-rule\" }\n\n[lints]\nworkspace = true\n";
        let out = insert_sorted_dep(manifest, "b-rule").unwrap();
        let deps: Vec<&str> = util::bundle_dep_lines(&out)
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        assert_eq!(
            deps,
            [
                "why403-rule-a-rule = { path = \"../rules/a-rule\" }",
                "why403-rule-b-rule = { path = \"../rules/b-rule\" }",
                "why403-rule-c-rule = { path = \"../rules/c-rule\" }",
            ]
        );
        let out = insert_sorted_dep(manifest, "d-rule").unwrap();
        assert!(out.contains(
            "c-rule\" }\nwhy403-rule-d-rule = { path = \"../rules/d-rule\" }\n\n[lints]"
        ));

        let lib = "//! Bundle.\n\nuse why403_rule_b as _;\n\nuse why403_core::rule::Registry;\n";
        let out = insert_sorted_use(lib, "a").unwrap();
        assert_eq!(
            out,
            "//! Bundle.\n\nuse why403_rule_a as _;\nuse why403_rule_b as _;\n\nuse why403_core::rule::Registry;\n"
        );
        let out = insert_sorted_use(lib, "c").unwrap();
        assert!(out.contains("use why403_rule_b as _;\nuse why403_rule_c as _;\n\n"));
    }

    #[test]
    fn templates_substitute_everything() {
        let vars = Vars {
            id: "bucket-policy-example",
            scope: "builtin".to_owned(),
            why403: "/src/why403".to_owned(),
            pascal: pascal_case("bucket-policy-example"),
            lib: util::rule_lib_name("bucket-policy-example"),
            layer: "BucketPolicy".to_owned(),
            summary: "\"a summary\"".to_owned(),
        };
        for t in [CARGO_TOML, LIB_RS, OUTSIDE_CARGO_TOML, OUTSIDE_RULES_RS] {
            let out = vars.fill(t);
            assert!(!out.contains("{{"), "unfilled placeholder in:\n{out}");
            assert!(out.starts_with("//!") || out.starts_with("[package]"));
        }
        let lib = vars.fill(LIB_RS);
        for s in [
            "## Cause",
            "## How AWS evaluates it",
            "## Example",
            "## Fix",
            "## References",
        ] {
            assert!(
                lib.contains(&format!("/// {s}\n")),
                "the template lacks `{s}`"
            );
        }
    }

    /// The case stubs must stay valid scenarios as the format evolves, and decide as their
    /// descriptions say.
    #[test]
    fn case_stubs_are_valid_scenarios() {
        use why403_core::analysis::Verdict;
        use why403_core::finding::diagnose;
        let registry = why403_rules::registry();
        for (name, text, denied) in [("fires", FIRES_CASE, true), ("clear", CLEAR_CASE, false)] {
            let s = why403_fixtures_source::parse(name, text)
                .unwrap_or_else(|e| panic!("the {name} case stub does not load: {e}"));
            let d = diagnose(s.request, s.evidence, &registry);
            assert_eq!(
                d.verdict,
                if denied {
                    Verdict::Denied
                } else {
                    Verdict::Allowed
                },
                "the {name} case stub decides {}",
                d.verdict
            );
        }
    }

    /// `--scope acme --into DIR` writes a crate of one's own there and nothing in the
    /// repository: the rule in its scope, path dependencies on this checkout, the kit's test.
    #[test]
    fn an_outside_rule_is_scaffolded_in_its_own_folder() {
        let root = util::workspace_root().unwrap();
        let dir = std::env::temp_dir().join(format!("why403-outside-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        outside(
            &root,
            "scp-requires-cost-center",
            "acme",
            RuleLayer::Organizations,
            "\"a summary\"".to_owned(),
            &dir,
        )
        .unwrap();
        let lib = fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("scope: \"acme\","), "{lib}");
        assert!(lib.contains("layer: Organizations,"), "{lib}");
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"acme-rule-scp-requires-cost-center\""));
        assert!(manifest.contains("/crates/core\" }"), "{manifest}");
        let test = fs::read_to_string(dir.join("tests/rules.rs")).unwrap();
        assert!(
            test.contains("use acme_rule_scp_requires_cost_center as _;"),
            "{test}"
        );
        let case = fs::read_to_string(dir.join("tests/cases/fires/FIXME-example.json")).unwrap();
        assert!(!case.contains("$schema"), "{case}");
        // A second run does not overwrite it.
        assert!(
            outside(
                &root,
                "x-y",
                "acme",
                RuleLayer::Request,
                "\"s\"".into(),
                &dir
            )
            .is_err()
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
