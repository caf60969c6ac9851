//! `cargo xtask differential`: differential testing of the policy evaluator against a second
//! engine. Generated cases (`diffgen`) go through `why403 eval` and through the peer engine
//! `@cloud-copilot/iam-simulate`, installed with npm under `target/peer/` and called by
//! `xtask/peer/driver.cjs` in a node process of its own (the peer is AGPL-licensed: it is an
//! oracle we run, never code or tests we keep). Every disagreement is kept; a sample of them is
//! minimised (a delta minimiser over layers, policies, statements, condition operators, keys,
//! values and context keys that keeps the two decisions), the minimised cases are grouped into
//! classes by the feature left in them, and `target/differential/report.md` lists the classes
//! with one minimised case each (also in `target/differential/minimised.jsonl`).
//!
//! Classes fall into triage groups (`GROUPS`), each triaged in docs/conformance.md
//! ("Differential testing"); `--strict` fails when a class is in no triaged group.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::diffgen;
use crate::util;

/// The peer engine's npm package and the version the results were triaged with.
pub const PEER_PACKAGE: &str = "@cloud-copilot/iam-simulate";
pub const PEER_VERSION: &str = "0.1.173";

/// How many cases go to the engines at once.
const BATCH: u64 = 50_000;
/// How many disagreements are kept for minimising, per pair of decisions.
const KEEP_PER_PAIR: usize = 150;

#[derive(Debug)]
pub struct Options {
    pub cases: u64,
    pub seed: u64,
    pub start: u64,
    pub debug: bool,
    pub strict: bool,
    /// Instead of generating cases, replay these (a run's `disagreements.jsonl`, with the
    /// current engines: how many still disagree, and their classes).
    pub replay: Option<PathBuf>,
}

/// One engine's answer for one case.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Decision(String),
    Error(String),
    /// The peer changed the request (it dropped context keys): not comparable.
    Skip(String),
}

impl Outcome {
    fn label(&self) -> String {
        match self {
            Outcome::Decision(d) => d.clone(),
            Outcome::Error(_) => "error".into(),
            Outcome::Skip(_) => "skip".into(),
        }
    }
}

pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let root = util::workspace_root()?;
    let out_dir = root.join("target").join("differential");
    fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let peer_dir = ensure_peer(&root)?;
    let profile = if opts.debug {
        util::Profile::Debug
    } else {
        util::Profile::Release
    };
    let exe = util::build_why403(&root, profile)?;
    let driver = root.join("xtask").join("peer").join("driver.cjs");
    let engines = Engines {
        exe,
        driver,
        peer_dir,
        work: out_dir.clone(),
    };

    let started = Instant::now();
    let mut stats = Stats::default();
    let mut kept: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    let all_name = if opts.replay.is_some() {
        "disagreements-replayed.jsonl"
    } else {
        "disagreements.jsonl"
    };
    let mut all = BufWriter::new(File::create(out_dir.join(all_name))?);
    let replayed: Vec<Value> = match &opts.replay {
        Some(file) => read_cases(file)?,
        None => Vec::new(),
    };
    let mut next = opts.start;
    let end = match &opts.replay {
        Some(_) => replayed.len() as u64,
        None => opts.start + opts.cases,
    };
    while next < end {
        let n = BATCH.min(end - next);
        let cases: Vec<Value> = if opts.replay.is_some() {
            replayed[next as usize..(next + n) as usize].to_vec()
        } else {
            (next..next + n)
                .map(|i| diffgen::case(opts.seed, i))
                .collect()
        };
        let (ours, peer) = engines.run(&cases, "batch")?;
        for ((case, o), p) in cases.into_iter().zip(ours).zip(peer) {
            stats.cases += 1;
            if let Outcome::Skip(_) = p {
                stats.skipped += 1;
                continue;
            }
            if o == p || (matches!(o, Outcome::Error(_)) && matches!(p, Outcome::Error(_))) {
                stats.agree += 1;
                continue;
            }
            let pair = (o.label(), p.label());
            *stats.pairs.entry(pair.clone()).or_default() += 1;
            if stats.disagree < 20_000 {
                let mut line = case.clone();
                line["ours"] = Value::String(describe(&o));
                line["peer"] = Value::String(describe(&p));
                writeln!(all, "{line}")?;
            }
            stats.disagree += 1;
            let bucket = kept.entry(pair).or_default();
            if bucket.len() < KEEP_PER_PAIR {
                bucket.push(case);
            }
        }
        next += n;
        eprintln!(
            "xtask: {} of {} cases, {} disagreements, {:.0} s",
            next - opts.start,
            end - opts.start,
            stats.disagree,
            started.elapsed().as_secs_f64()
        );
    }
    all.flush()?;
    let run_time = started.elapsed();

    // Minimise the kept disagreements, then group them by what is left in them.
    let min_started = Instant::now();
    let mut to_min: Vec<(Value, (String, String))> = Vec::new();
    for (pair, cases) in kept {
        for c in cases {
            to_min.push((c, pair.clone()));
        }
    }
    let minimised = minimise(&engines, to_min)?;
    let min_time = min_started.elapsed();
    // One more run gives the error messages of the minimised cases, for their class.
    let final_cases: Vec<Value> = minimised.iter().map(|(c, _)| c.clone()).collect();
    let (ours, peer) = if final_cases.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        engines.run(&final_cases, "minimised-check")?
    };
    let mut classes: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (((mut case, pair), o), p) in minimised.into_iter().zip(ours).zip(peer) {
        let class = match (&o, &p) {
            (_, Outcome::Error(e)) => format!("ours={} peer=error: {}", pair.0, error_kind(e)),
            (Outcome::Error(e), _) => format!("ours=error peer={}: {}", pair.1, error_kind(e)),
            _ => classify(&case, &pair),
        };
        case["ours"] = Value::String(describe(&o));
        case["peer"] = Value::String(describe(&p));
        classes.entry(class).or_default().push(case);
    }
    let triage = fs::read_to_string(root.join("docs").join("conformance.md")).unwrap_or_default();
    let untriaged: Vec<&String> = classes
        .keys()
        .filter(|k| {
            let g = group_of(k);
            g == "other" || !triage.contains(&format!("`{g}`"))
        })
        .collect();

    let report = render_report(&opts, &stats, &classes, &untriaged, run_time, min_time);
    fs::write(out_dir.join("report.md"), &report)?;
    let mut mins = BufWriter::new(File::create(out_dir.join("minimised.jsonl"))?);
    for (class, cases) in &classes {
        let mut c = smallest(cases).clone();
        c["class"] = Value::String(class.clone());
        c["count"] = Value::from(cases.len());
        writeln!(mins, "{c}")?;
    }
    mins.flush()?;

    println!(
        "differential: {} cases (seed {}, from {}) in {:.1} s: {} agree, {} disagree, {} not comparable",
        stats.cases,
        opts.seed,
        opts.start,
        run_time.as_secs_f64(),
        stats.agree,
        stats.disagree,
        stats.skipped
    );
    for ((o, p), n) in &stats.pairs {
        println!("  {n:>8}  ours={o}  peer={p}");
    }
    println!(
        "classes ({} minimised in {:.1} s):",
        classes.values().map(Vec::len).sum::<usize>(),
        min_time.as_secs_f64()
    );
    let mut groups: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, v) in &classes {
        *groups.entry(group_of(k)).or_default() += v.len();
        let mark = if untriaged.contains(&k) {
            "  (not triaged)"
        } else {
            ""
        };
        println!("  {:>5}  [{}] {k}{mark}", v.len(), group_of(k));
    }
    println!("groups:");
    for (g, n) in &groups {
        println!("  {n:>5}  {g}");
    }
    println!("report: {}", out_dir.join("report.md").display());
    if opts.strict && !untriaged.is_empty() {
        eprintln!(
            "xtask: {} disagreement class(es) are not triaged in docs/conformance.md",
            untriaged.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The cases of a JSON Lines file, without the `ours`/`peer` members a report adds.
fn read_cases(file: &Path) -> anyhow::Result<Vec<Value>> {
    let text =
        fs::read_to_string(file).with_context(|| format!("cannot read `{}`", file.display()))?;
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let mut v: Value = serde_json::from_str(line)
            .with_context(|| format!("line {} of `{}`", i + 1, file.display()))?;
        if let Some(m) = v.as_object_mut() {
            for k in ["ours", "peer", "class", "count"] {
                m.remove(k);
            }
        }
        out.push(v);
    }
    Ok(out)
}

#[derive(Debug, Default)]
struct Stats {
    cases: u64,
    agree: u64,
    disagree: u64,
    skipped: u64,
    pairs: BTreeMap<(String, String), u64>,
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Decision(d) => d.clone(),
        Outcome::Error(e) => format!("error: {e}"),
        Outcome::Skip(s) => format!("skip: {s}"),
    }
}

/// Installs the peer engine under `target/peer/` with npm unless the pinned version is there.
fn ensure_peer(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = root.join("target").join("peer");
    let manifest = dir
        .join("node_modules")
        .join("@cloud-copilot")
        .join("iam-simulate")
        .join("package.json");
    let installed = fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned));
    if installed.as_deref() == Some(PEER_VERSION) {
        return Ok(dir);
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        bail!("`node` is needed to run the peer engine (install Node.js 20 or later)");
    }
    fs::create_dir_all(&dir)?;
    fs::write(dir.join("package.json"), "{\"private\": true}\n")?;
    let spec = format!("{PEER_PACKAGE}@{PEER_VERSION}");
    eprintln!("xtask: npm install {spec} (into {})", dir.display());
    let status = Command::new("npm")
        .current_dir(&dir)
        .args(["install", "--no-audit", "--no-fund", "--save-exact", &spec])
        .status()
        .context("cannot run `npm`")?;
    if !status.success() {
        bail!("`npm install {spec}` failed ({status})");
    }
    Ok(dir)
}

/// The two engines and where their inputs go.
#[derive(Debug)]
struct Engines {
    exe: PathBuf,
    driver: PathBuf,
    peer_dir: PathBuf,
    work: PathBuf,
}

impl Engines {
    /// Writes `cases` to a file and runs both engines on it at once (the peer, single-threaded,
    /// in two processes of half the cases each).
    fn run(&self, cases: &[Value], name: &str) -> anyhow::Result<(Vec<Outcome>, Vec<Outcome>)> {
        let write = |path: &Path, cases: &[Value]| -> anyhow::Result<()> {
            let mut w = BufWriter::new(File::create(path)?);
            for c in cases {
                writeln!(w, "{c}")?;
            }
            w.flush()?;
            Ok(())
        };
        let input = self.work.join(format!("{name}.jsonl"));
        write(&input, cases)?;
        let half = cases.len().div_ceil(2);
        let parts: Vec<&[Value]> = if cases.len() > 64 {
            vec![&cases[..half], &cases[half..]]
        } else {
            vec![cases]
        };
        let ours_out = self.work.join(format!("{name}.ours.jsonl"));
        let mut ours = Command::new(&self.exe)
            .arg("eval")
            .arg(&input)
            .stdin(Stdio::null())
            .stdout(File::create(&ours_out)?)
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot run `{}`", self.exe.display()))?;
        let mut peers = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let part_in = self.work.join(format!("{name}.peer-in-{i}.jsonl"));
            write(&part_in, part)?;
            let part_out = self.work.join(format!("{name}.peer-{i}.jsonl"));
            let child = Command::new("node")
                .arg(&self.driver)
                .arg(&self.peer_dir)
                .stdin(File::open(&part_in)?)
                .stdout(File::create(&part_out)?)
                .stderr(Stdio::inherit())
                .spawn()
                .context("cannot run `node`")?;
            peers.push((child, part_in, part_out, part.len()));
        }
        let s1 = ours.wait()?;
        if !matches!(s1.code(), Some(0 | 1)) {
            bail!("`why403 eval` failed ({s1})");
        }
        let mut peer = Vec::with_capacity(cases.len());
        for (mut child, part_in, part_out, n) in peers {
            let s2 = child.wait()?;
            if !s2.success() {
                bail!("the peer driver failed ({s2})");
            }
            peer.extend(read_outcomes(&part_out, n, true)?);
            let _ = fs::remove_file(part_in);
        }
        let ours = read_outcomes(&ours_out, cases.len(), false)?;
        Ok((ours, peer))
    }
}

fn read_outcomes(path: &Path, n: usize, peer: bool) -> anyhow::Result<Vec<Outcome>> {
    let mut out = Vec::with_capacity(n);
    for line in BufReader::new(File::open(path)?).lines() {
        let v: Value = serde_json::from_str(&line?)
            .with_context(|| format!("unreadable result in {}", path.display()))?;
        let o = if let Some(s) = v["skip"].as_str().filter(|_| peer) {
            Outcome::Skip(s.to_owned())
        } else if let Some(e) = v["error"].as_str() {
            Outcome::Error(e.to_owned())
        } else if let Some(d) = v["decision"].as_str() {
            Outcome::Decision(d.to_owned())
        } else {
            bail!("a result without decision or error in {}", path.display());
        };
        out.push(o);
    }
    if out.len() != n {
        bail!("{} has {} results for {n} cases", path.display(), out.len());
    }
    Ok(out)
}

/// Delta minimisation of many cases at once: each round tries, for every case still shrinking,
/// every one-step reduction, in one run of each engine, and keeps the first reduction that
/// keeps the case's pair of decisions.
fn minimise(
    engines: &Engines,
    mut cases: Vec<(Value, (String, String))>,
) -> anyhow::Result<Vec<(Value, (String, String))>> {
    let mut active: Vec<bool> = vec![true; cases.len()];
    for _round in 0..80 {
        let mut batch = Vec::new();
        let mut ranges = Vec::new();
        for (i, (case, _)) in cases.iter().enumerate() {
            if !active[i] {
                ranges.push(0..0);
                continue;
            }
            let start = batch.len();
            batch.extend(reductions(case));
            ranges.push(start..batch.len());
        }
        if batch.is_empty() {
            break;
        }
        let (ours, peer) = engines.run(&batch, "minimise")?;
        let mut progressed = false;
        for (i, range) in ranges.into_iter().enumerate() {
            if range.is_empty() {
                active[i] = false;
                continue;
            }
            let pair = &cases[i].1;
            let found = range.clone().find(|&k| {
                !matches!(peer[k], Outcome::Skip(_))
                    && ours[k].label() == pair.0
                    && peer[k].label() == pair.1
            });
            match found {
                Some(k) => {
                    cases[i].0 = batch[k].clone();
                    progressed = true;
                }
                None => active[i] = false,
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(cases)
}

/// Every one-step reduction of a case.
fn reductions(case: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut with = |ptr: &str, f: &dyn Fn(&mut Value) -> bool| {
        let mut c = case.clone();
        if let Some(v) = c.pointer_mut(ptr)
            && f(v)
        {
            out.push(c);
        }
    };
    // Whole layers.
    for (layer, empty) in [
        ("identity", Value::Array(vec![])),
        ("resource", Value::Null),
        ("scp", Value::Array(vec![])),
        ("rcp", Value::Array(vec![])),
        ("boundary", Value::Null),
        ("session", Value::Null),
        ("vpc_endpoint", Value::Null),
    ] {
        let action = case["request"]["action"].as_str().unwrap_or("");
        if layer == "resource" && (action.starts_with("kms:") || action.starts_with("sts:")) {
            // A key always has a key policy and a role a trust policy.
            continue;
        }
        let ptr = format!("/policies/{layer}");
        with(&ptr, &|v| {
            let non_empty = match v {
                Value::Null => false,
                Value::Array(a) => !a.is_empty(),
                _ => true,
            };
            if non_empty {
                *v = empty.clone();
            }
            non_empty
        });
    }
    if case.get("settings").is_some() {
        let mut c = case.clone();
        if let Some(m) = c.as_object_mut() {
            m.remove("settings");
        }
        out.push(c);
    }
    // Policies within lists, and levels.
    for ptr in ["/policies/identity", "/policies/scp", "/policies/rcp"] {
        remove_each(case, ptr, &mut out);
    }
    for lv in ["/policies/scp", "/policies/rcp"] {
        if let Some(levels) = case.pointer(lv).and_then(Value::as_array) {
            for i in 0..levels.len() {
                remove_each(case, &format!("{lv}/{i}"), &mut out);
            }
        }
    }
    // Statements and their parts.
    for doc in policy_pointers(case) {
        let stmts = format!("{doc}/Statement");
        remove_each(case, &stmts, &mut out);
        let n = case
            .pointer(&stmts)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        // The current language, when the case does not depend on the old one.
        if case.pointer(&format!("{doc}/Version")) != Some(&Value::from("2012-10-17")) {
            let mut c = case.clone();
            if let Some(Value::Object(m)) = c.pointer_mut(&doc) {
                m.insert("Version".into(), Value::from("2012-10-17"));
                out.push(c);
            }
        }
        for k in 0..n {
            let s = format!("{stmts}/{k}");
            for member in ["Sid", "Condition"] {
                remove_member(case, &s, member, &mut out);
            }
            for member in ["Action", "NotAction", "Resource", "NotResource"] {
                remove_each(case, &format!("{s}/{member}"), &mut out);
            }
            for member in ["Principal", "NotPrincipal"] {
                let p = format!("{s}/{member}");
                if let Some(Value::Object(m)) = case.pointer(&p) {
                    if m.len() > 1 {
                        for key in m.keys() {
                            remove_member(case, &p, key, &mut out);
                        }
                    }
                    for key in m.keys() {
                        remove_each(case, &format!("{p}/{}", escape(key)), &mut out);
                    }
                }
            }
            let c = format!("{s}/Condition");
            if let Some(Value::Object(ops)) = case.pointer(&c) {
                for (op, block) in ops {
                    let opp = format!("{c}/{}", escape(op));
                    if ops.len() > 1 {
                        remove_member(case, &c, op, &mut out);
                    }
                    if let Value::Object(keys) = block {
                        for key in keys.keys() {
                            if keys.len() > 1 {
                                remove_member(case, &opp, key, &mut out);
                            }
                            remove_each(case, &format!("{opp}/{}", escape(key)), &mut out);
                        }
                    }
                }
            }
        }
    }
    // Context keys and values.
    if let Some(Value::Object(ctx)) = case.pointer("/request/context") {
        for key in ctx.keys() {
            remove_member(case, "/request/context", key, &mut out);
            remove_each(case, &format!("/request/context/{}", escape(key)), &mut out);
        }
    }
    out
}

/// JSON pointer escaping of one reference token.
fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// One reduction per element of the array at `ptr` (when it has more than one).
fn remove_each(case: &Value, ptr: &str, out: &mut Vec<Value>) {
    let Some(Value::Array(a)) = case.pointer(ptr) else {
        return;
    };
    if a.len() < 2 {
        return;
    }
    for i in 0..a.len() {
        let mut c = case.clone();
        if let Some(Value::Array(a)) = c.pointer_mut(ptr) {
            a.remove(i);
            out.push(c);
        }
    }
}

fn remove_member(case: &Value, ptr: &str, member: &str, out: &mut Vec<Value>) {
    let mut c = case.clone();
    if let Some(Value::Object(m)) = c.pointer_mut(ptr)
        && m.remove(member).is_some()
    {
        out.push(c);
    }
}

/// The JSON pointers of every policy document in a case.
fn policy_pointers(case: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let p = &case["policies"];
    for (layer, leveled) in [
        ("identity", false),
        ("scp", true),
        ("rcp", true),
        ("boundary", false),
        ("vpc_endpoint", false),
    ] {
        if let Some(a) = p[layer].as_array() {
            for (i, x) in a.iter().enumerate() {
                if leveled {
                    for j in 0..x.as_array().map_or(0, Vec::len) {
                        out.push(format!("/policies/{layer}/{i}/{j}"));
                    }
                } else {
                    out.push(format!("/policies/{layer}/{i}"));
                }
            }
        }
    }
    for layer in ["resource", "session"] {
        if p[layer].is_object() {
            out.push(format!("/policies/{layer}"));
        }
    }
    out
}

/// The class of a minimised disagreement: the two decisions and the feature left in the case
/// that the difference is about: the conditions left (operator family, negation, qualifiers,
/// how the request gives the key, a policy variable in the values), else `NotPrincipal`, else
/// policy variables in `Resource`/`NotResource`, else the caller and the layers.
fn classify(case: &Value, pair: &(String, String)) -> String {
    let mut conds = BTreeSet::new();
    let mut vars = BTreeSet::new();
    let mut principals = BTreeSet::new();
    let mut not_principal = false;
    let mut old_version = false;
    for ptr in policy_pointers(case) {
        let doc = case.pointer(&ptr).unwrap_or(&Value::Null);
        let v2012 = doc["Version"] == "2012-10-17";
        for s in doc["Statement"].as_array().into_iter().flatten() {
            // Statements of the default full-access policies say nothing.
            if is_full_access(s) {
                continue;
            }
            if !v2012 {
                old_version = true;
            }
            if let Some(Value::Object(c)) = s.get("Condition") {
                for (op, block) in c {
                    for (key, values) in block.as_object().into_iter().flatten() {
                        let mut strings = Vec::new();
                        collect_strings(Some(values), &mut strings);
                        let variable = v2012 && strings.iter().any(|t| t.contains("${"));
                        conds.insert(condition_shape(op, key_trait(case, key), variable));
                    }
                }
            }
            for el in ["Resource", "NotResource"] {
                let mut strings = Vec::new();
                collect_strings(s.get(el), &mut strings);
                for t in strings {
                    if t.contains("${") {
                        vars.insert(format!("{} in {el}", variable_kind(t, v2012)));
                    }
                }
            }
            if let Some(p) = s.get("NotPrincipal") {
                not_principal = true;
                principals.insert(principal_form(p));
            }
            if let Some(p) = s.get("Principal") {
                principals.insert(principal_form(p));
            }
        }
    }
    let (ours, peer) = pair;
    let version = if old_version {
        " (2008-10-17 or no Version)"
    } else {
        ""
    };
    let caller = caller_kind(case);
    let join = |set: BTreeSet<String>| set.into_iter().collect::<Vec<_>>().join(" + ");
    let layers = non_empty_layers(case);
    let session_capped = ours == "Allowed"
        && peer == "ImplicitlyDenied"
        && layers.contains(&"resource")
        && layers.contains(&"session");
    let feature = if session_capped {
        // Whatever else is left, the question is whether the session policy caps the grant.
        format!(
            "layers resource+session: a resource grant ({}) and a session policy that does not allow",
            join(principals)
        )
    } else if !conds.is_empty() {
        format!("condition {}", join(conds))
    } else if not_principal {
        format!("NotPrincipal {} (caller {caller})", join(principals))
    } else if !vars.is_empty() {
        format!("variable {}", join(vars))
    } else if question_mark_in_resource(case) {
        "a `?` in Resource or NotResource".to_owned()
    } else if caller.starts_with("root") {
        "caller is an account root user".to_owned()
    } else if caller.starts_with("federated-user") && principals.iter().any(|p| p.contains("user"))
    {
        "federated user session and an IAM user principal".to_owned()
    } else {
        let principal = if principals.is_empty() {
            String::new()
        } else {
            format!(" principal {}", join(principals))
        };
        format!("layers {} caller {caller}{principal}", layers.join("+"))
    };
    format!("ours={ours} peer={peer}: {feature}{version}")
}

/// Whether a statement's `Resource` or `NotResource` has a `?` wildcard.
fn question_mark_in_resource(case: &Value) -> bool {
    policy_pointers(case).iter().any(|ptr| {
        let doc = case.pointer(ptr).unwrap_or(&Value::Null);
        doc["Statement"].as_array().into_iter().flatten().any(|s| {
            let mut strings = Vec::new();
            collect_strings(s.get("Resource"), &mut strings);
            collect_strings(s.get("NotResource"), &mut strings);
            strings
                .iter()
                .any(|t| t.contains('?') && !t.contains("${?}"))
        })
    })
}

/// The triage groups of disagreement classes, in the order they are tried; each is triaged
/// under its name in docs/conformance.md ("Differential testing"). `other` is not triaged.
const GROUPS: &[(&str, &[&str])] = &[
    ("peer-rejects-input", &["peer=error"]),
    ("we-reject-input", &["ours=error"]),
    ("root-user", &["caller is an account root user"]),
    ("notprincipal-deny", &[": NotPrincipal"]),
    (
        "foranyvalue-ifexists-missing-key",
        &[
            "ForAnyValue IfExists on a missing key",
            "ForAnyValue IfExists on an empty",
        ],
    ),
    ("empty-multivalued-key", &["on an empty multivalued key"]),
    (
        "single-valued-operator-multivalued-key",
        &["on a multivalued key"],
    ),
    (
        "unresolved-variable-in-condition",
        &["with a policy variable"],
    ),
    ("date-epoch-and-iso", &["condition Date"]),
    ("ip-ranges", &["condition Ip"]),
    ("numeric-non-number", &["condition Numeric"]),
    ("variable-in-resource", &["variable "]),
    ("question-mark-in-resource", &["a `?` in Resource"]),
    (
        "federated-user-principal",
        &["federated user session", "caller federated-user"],
    ),
    (
        "star-principal-arn-if-exists",
        &["Arn IfExists on a missing key"],
    ),
    ("policy-version-2008", &["(2008-10-17 or no Version)"]),
    ("block-public-access", &["+bpa"]),
    ("session-policy-and-resource-grant", &["resource+session"]),
];

/// The triage group of a class (`other` when none fits).
fn group_of(class: &str) -> &'static str {
    GROUPS
        .iter()
        .find(|(_, needles)| needles.iter().any(|n| class.contains(n)))
        .map_or("other", |(g, _)| g)
}

/// A condition in general terms: `Ip negated, ForAnyValue, IfExists on a missing key`.
fn condition_shape(op: &str, key: &str, variable: bool) -> String {
    let (set, rest) = match op.split_once(':') {
        Some((set, rest)) => (Some(set), rest),
        None => (None, op),
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let family = if base == "Null" {
        "Null"
    } else if base.contains("IpAddress") {
        "Ip"
    } else if base.starts_with("String") {
        "String"
    } else if base.starts_with("Numeric") {
        "Numeric"
    } else if base.starts_with("Date") {
        "Date"
    } else if base.starts_with("Arn") {
        "Arn"
    } else if base == "Bool" {
        "Bool"
    } else {
        "Binary"
    };
    let mut out = family.to_owned();
    if base.contains("Not") {
        out.push_str(" negated");
    }
    if let Some(set) = set {
        let _ = write!(out, " {set}");
    }
    if if_exists {
        out.push_str(" IfExists");
    }
    let _ = write!(out, " on {key}");
    if variable {
        out.push_str(" with a policy variable");
    }
    out
}

/// An engine's error message without the parts that vary from case to case (line and column,
/// policy names and indices, quoted values).
fn error_kind(e: &str) -> String {
    // The peer's validation messages: the first `"message"`.
    if let Some(i) = e.find("\"message\":\"") {
        let rest = &e[i + 11..];
        let end = rest
            .find("\"}")
            .or_else(|| rest.find('"'))
            .unwrap_or(rest.len());
        return rest[..end].replace("\\\"", "'");
    }
    // Ours: `line N: column M: `/pointer`: message`.
    let msg = e.rsplit("`: ").next().unwrap_or(e);
    let mut out = String::new();
    let mut quoted = false;
    for ch in msg.chars() {
        match ch {
            '"' | '`' => {
                quoted = !quoted;
                if quoted {
                    out.push('…');
                }
            }
            _ if quoted => {}
            c if c.is_ascii_digit() => {}
            c => out.push(c),
        }
    }
    out.chars().take(120).collect()
}

/// How the request gives a condition key: missing, single-valued, multivalued or empty.
fn key_trait(case: &Value, key: &str) -> &'static str {
    let ctx = case["request"]["context"].as_object();
    let v = ctx.and_then(|m| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    });
    match v {
        None => "a missing key",
        Some(Value::Array(a)) if a.is_empty() => "an empty multivalued key",
        Some(Value::Array(_)) => "a multivalued key",
        Some(_) => "a single-valued key",
    }
}

fn is_full_access(s: &Value) -> bool {
    s["Effect"] == "Allow"
        && s["Action"] == "*"
        && s["Resource"] == "*"
        && s.get("Condition").is_none()
}

fn collect_strings<'a>(v: Option<&'a Value>, out: &mut Vec<&'a str>) {
    match v {
        Some(Value::String(s)) => out.push(s),
        Some(Value::Array(a)) => a.iter().for_each(|x| collect_strings(Some(x), out)),
        Some(Value::Object(m)) => m.values().for_each(|x| collect_strings(Some(x), out)),
        _ => {}
    }
}

fn variable_kind(t: &str, v2012: bool) -> String {
    if !v2012 {
        return "${…} in 2008-10-17".into();
    }
    if t.contains("${*}") || t.contains("${?}") || t.contains("${$}") {
        "escape ${*} ${?} ${$}".into()
    } else if t.contains(", '") {
        "with default".into()
    } else {
        "${key}".into()
    }
}

fn principal_form(p: &Value) -> String {
    match p {
        Value::String(s) if s == "*" => "\"*\"".into(),
        Value::Object(m) => {
            let mut forms = BTreeSet::new();
            for (k, v) in m {
                let mut vals = Vec::new();
                collect_strings(Some(v), &mut vals);
                for s in vals {
                    let f = if k != "AWS" {
                        k.clone()
                    } else if s == "*" {
                        "AWS *".into()
                    } else if !s.contains(':') {
                        "account id".into()
                    } else if s.ends_with(":root") {
                        "account root".into()
                    } else if s.contains(":assumed-role/") {
                        "session".into()
                    } else if s.contains(":role/") {
                        "role".into()
                    } else if s.contains(":federated-user/") {
                        "federated user".into()
                    } else {
                        "user".into()
                    };
                    forms.insert(f);
                }
            }
            forms.into_iter().collect::<Vec<_>>().join("/")
        }
        other => other.to_string(),
    }
}

fn non_empty_layers(case: &Value) -> Vec<&'static str> {
    let p = &case["policies"];
    let mut out = Vec::new();
    for layer in [
        "identity",
        "resource",
        "scp",
        "rcp",
        "boundary",
        "session",
        "vpc_endpoint",
    ] {
        let present = match &p[layer] {
            Value::Null => false,
            Value::Array(a) => !a.is_empty(),
            _ => true,
        };
        if present {
            out.push(layer);
        }
    }
    if case.get("settings").is_some() {
        out.push("bpa");
    }
    if out.is_empty() {
        out.push("none");
    }
    out
}

fn caller_kind(case: &Value) -> String {
    let r = &case["request"];
    if r["anonymous"] == true {
        return "anonymous".into();
    }
    let p = r["principal"].as_str().unwrap_or("");
    let kind = if !p.starts_with("arn:") {
        "service"
    } else if p.ends_with(":root") {
        "root"
    } else if p.contains(":assumed-role/") {
        "session"
    } else if p.contains(":federated-user/") {
        "federated-user"
    } else if p.contains(":role/") {
        "role"
    } else {
        "user"
    };
    let account = p.split(':').nth(4).unwrap_or("");
    let cross = if kind != "service" && account != r["resource_account"].as_str().unwrap_or("") {
        " cross-account"
    } else {
        ""
    };
    format!("{kind}{cross}")
}

fn smallest(cases: &[Value]) -> &Value {
    cases
        .iter()
        .min_by_key(|c| c.to_string().len())
        .expect("a class has a case")
}

fn render_report(
    opts: &Options,
    stats: &Stats,
    classes: &BTreeMap<String, Vec<Value>>,
    untriaged: &[&String],
    run_time: std::time::Duration,
    min_time: std::time::Duration,
) -> String {
    let mut r = String::new();
    let _ = writeln!(
        r,
        "# Differential run: why403 eval vs {PEER_PACKAGE} {PEER_VERSION}\n"
    );
    let _ = writeln!(
        r,
        "- cases: {} (seed {}, indices {}..{})\n- time: {:.1} s for both engines ({:.0} cases/s); minimising: {:.1} s\n- agree: {}\n- disagree: {}\n- not comparable (the peer dropped context keys): {}\n",
        stats.cases,
        opts.seed,
        opts.start,
        opts.start + opts.cases,
        run_time.as_secs_f64(),
        stats.cases as f64 / run_time.as_secs_f64().max(1e-9),
        min_time.as_secs_f64(),
        stats.agree,
        stats.disagree,
        stats.skipped
    );
    let _ = writeln!(
        r,
        "## Disagreements by decisions\n\n| ours | peer | cases |\n| --- | --- | --- |"
    );
    for ((o, p), n) in &stats.pairs {
        let _ = writeln!(r, "| {o} | {p} | {n} |");
    }
    let _ = writeln!(
        r,
        "\n## Classes\n\nUp to {KEEP_PER_PAIR} disagreements per pair of decisions were minimised; the count is of minimised cases. Triage: docs/conformance.md, \"Differential testing\".\n"
    );
    let mut groups: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (class, cases) in classes {
        let e = groups.entry(group_of(class)).or_default();
        e.0 += 1;
        e.1 += cases.len();
    }
    let _ = writeln!(
        r,
        "| group (docs/conformance.md) | classes | minimised cases |\n| --- | --- | --- |"
    );
    for (g, (c, n)) in &groups {
        let _ = writeln!(r, "| `{g}` | {c} | {n} |");
    }
    let _ = writeln!(r);
    for (class, cases) in classes {
        let mark = if untriaged.contains(&class) {
            " (not triaged)"
        } else {
            ""
        };
        let _ = writeln!(
            r,
            "### `{class}`{mark}\n\nGroup `{}`; {} minimised cases; the smallest:\n",
            group_of(class),
            cases.len()
        );
        let c = smallest(cases);
        let _ = writeln!(
            r,
            "```json\n{}\n```\n",
            serde_json::to_string_pretty(c).unwrap_or_default()
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reductions_are_smaller_and_valid_json_shapes() {
        let c = diffgen::case(3, 5);
        let rs = reductions(&c);
        assert!(!rs.is_empty());
        for r in rs {
            assert_ne!(r, c);
            assert_eq!(r["id"], c["id"]);
        }
    }

    #[test]
    fn classes_name_the_feature_left() {
        let case = serde_json::json!({
            "request": {"principal": "arn:aws:iam::111122223333:user/alice", "resource_account": "111122223333"},
            "policies": {"identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"DateEquals": {"aws:CurrentTime": "2024-01-01"}}}]}],
                          "resource": null, "scp": [], "rcp": [], "boundary": null, "session": null, "vpc_endpoint": null}
        });
        let pair = ("Allowed".to_owned(), "ImplicitlyDenied".to_owned());
        assert_eq!(
            classify(&case, &pair),
            "ours=Allowed peer=ImplicitlyDenied: condition Date on a missing key"
        );
    }
}
