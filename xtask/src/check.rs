//! `cargo xtask check`: the filesystem conventions no compiler checks. Every rule crate has
//! enough fires and clear cases, one reviewed snapshot per fires case and no other, and a test
//! file that links the rule; the bundle links every rule crate, sorted; every Rust file starts
//! with a `//!` line.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::util;

/// Minimum numbers of cases per rule crate (issue 3: "at least 3" fires, "at least 2" clear).
pub const MIN_FIRES: usize = 3;
pub const MIN_CLEAR: usize = 2;

/// One broken convention, at a path relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

pub fn run() -> anyhow::Result<ExitCode> {
    let root = util::workspace_root()?;
    let problems = problems(&root)?;
    if problems.is_empty() {
        println!("check: no problems");
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        println!("{p}");
    }
    eprintln!("xtask: check found {} problem(s)", problems.len());
    Ok(ExitCode::FAILURE)
}

/// Every problem in the workspace at `root`, sorted by path.
pub fn problems(root: &Path) -> anyhow::Result<Vec<Problem>> {
    let mut c = Checker {
        root,
        out: Vec::new(),
    };
    let ids = util::rule_crates(root)?;
    for id in &ids {
        c.rule_crate(id)?;
    }
    c.bundle(&ids)?;
    for dir in ["crates", "xtask"] {
        c.doc_lines(&root.join(dir))?;
    }
    c.out.sort();
    c.out.dedup();
    Ok(c.out)
}

struct Checker<'a> {
    root: &'a Path,
    out: Vec<Problem>,
}

impl Checker<'_> {
    fn report(&mut self, path: &Path, message: impl Into<String>) {
        self.out.push(Problem {
            path: util::rel(self.root, path),
            message: message.into(),
        });
    }

    fn rule_crate(&mut self, id: &str) -> anyhow::Result<()> {
        let dir = util::rules_dir(self.root).join(id);
        let manifest = dir.join("Cargo.toml");
        let text = read(&manifest)?;
        let package = format!("why403-rule-{id}");
        if !text
            .lines()
            .any(|l| l.trim() == format!("name = \"{package}\""))
        {
            self.report(
                &manifest,
                format!("the package must be named `{package}` after its directory"),
            );
        }

        // A crate that builds no test binary must have no unit tests that would never run.
        let lib_rs = fs::read_to_string(dir.join("src").join("lib.rs")).unwrap_or_default();
        if lib_rs.contains("#[cfg(test)]") && text.lines().any(|l| l.trim() == "test = false") {
            self.report(
                &manifest,
                "src/lib.rs has unit tests but `test = false` keeps them from running: remove it",
            );
        }

        let tests = dir.join("tests");
        let fires = self.cases(&tests.join("cases").join("fires"), "fires", MIN_FIRES)?;
        self.cases(&tests.join("cases").join("clear"), "clear", MIN_CLEAR)?;
        self.snapshots(&tests.join("snapshots"), &fires, id)?;
        self.pending_snapshots(&dir)?;

        let lib = dir.join("src").join("lib.rs");
        match fs::read_to_string(&lib) {
            Ok(text) => {
                let fixmes = text.lines().filter(|l| l.contains("FIXME")).count();
                if fixmes > 0 {
                    self.report(&lib, format!("{fixmes} line(s) with FIXME left"));
                }
            }
            Err(_) => self.report(&lib, "missing"),
        }
        Ok(())
    }

    /// Checks one case directory and returns the case file names.
    fn cases(&mut self, dir: &Path, kind: &str, min: usize) -> anyhow::Result<Vec<String>> {
        let mut names = Vec::new();
        for path in list(dir)? {
            let name = file_name(&path);
            if path.is_dir() || !name.ends_with(".json") {
                self.report(
                    &path,
                    format!("not a `*.json` file: the {kind} test does not read it"),
                );
                continue;
            }
            if name.contains("FIXME") {
                self.report(
                    &path,
                    "a case stub from `cargo xtask new-rule`: replace it with real scenarios",
                );
            } else if !is_kebab(name.trim_end_matches(".json")) {
                self.report(&path, "case names are kebab-case and describe the scenario");
            }
            names.push(name);
        }
        let real = names.iter().filter(|n| !n.contains("FIXME")).count();
        if real < min {
            self.report(
                dir,
                format!("{real} {kind} case(s); a rule needs at least {min}"),
            );
        }
        Ok(names)
    }

    /// One `rule__fires@<case>.snap` per fires case, and no other snapshot.
    fn snapshots(&mut self, dir: &Path, fires: &[String], id: &str) -> anyhow::Result<()> {
        let want: BTreeSet<String> = fires
            .iter()
            .map(|c| format!("rule__fires@{c}.snap"))
            .collect();
        let mut have = BTreeSet::new();
        for path in list(dir)? {
            let name = file_name(&path);
            if name.ends_with(".snap") {
                if !want.contains(&name) {
                    self.report(
                        &path,
                        "orphan snapshot: no fires case has this name; delete it",
                    );
                }
                have.insert(name);
            }
        }
        for case in fires.iter().filter(|c| !c.contains("FIXME")) {
            let snap = format!("rule__fires@{case}.snap");
            if !have.contains(&snap) {
                self.report(
                    &dir.join(snap),
                    format!(
                        "missing (fires case {case}): run `INSTA_UPDATE=always WHY403_RULE={id} cargo test -p why403-rules --test cases` and review it"
                    ),
                );
            }
        }
        Ok(())
    }

    /// Snapshots insta wrote but nobody accepted.
    fn pending_snapshots(&mut self, dir: &Path) -> anyhow::Result<()> {
        for path in walk(dir)? {
            let name = file_name(&path);
            if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
                self.report(
                    &path,
                    "unreviewed snapshot: review it (`cargo insta review`) and accept or delete it",
                );
            }
        }
        Ok(())
    }

    /// `crates/bundle/Cargo.toml` and `src/lib.rs` link exactly the rule crates, sorted.
    fn bundle(&mut self, ids: &[String]) -> anyhow::Result<()> {
        let (manifest_path, lib_path) = util::bundle_files(self.root);
        let manifest = read(&manifest_path)?;
        let deps: Vec<String> = util::bundle_dep_lines(&manifest)
            .into_iter()
            .map(|(_, l)| l.trim().to_owned())
            .collect();
        let want: Vec<String> = ids.iter().map(|id| util::bundle_dep_line(id)).collect();
        self.list_matches(&manifest_path, "dependency", &deps, &want);

        let lib = read(&lib_path)?;
        let uses: Vec<String> = util::bundle_use_lines(&lib)
            .into_iter()
            .map(|(_, l)| l.trim().to_owned())
            .collect();
        let want: Vec<String> = ids.iter().map(|id| util::bundle_use_line(id)).collect();
        self.list_matches(&lib_path, "`use` line", &uses, &want);
        Ok(())
    }

    fn list_matches(&mut self, path: &Path, what: &str, have: &[String], want: &[String]) {
        let have_set: BTreeSet<&String> = have.iter().collect();
        let want_set: BTreeSet<&String> = want.iter().collect();
        for w in want_set.difference(&have_set) {
            self.report(path, format!("missing {what} `{w}`"));
        }
        for h in have_set.difference(&want_set) {
            self.report(
                path,
                format!(
                    "{what} `{h}` names no rule crate under crates/rules (or not in this form)"
                ),
            );
        }
        if !have.is_sorted() {
            self.report(path, format!("the rule {what}s are not sorted"));
        }
        if have_set.len() != have.len() {
            self.report(path, format!("a rule {what} is repeated"));
        }
    }

    /// Every `.rs` file under `dir` starts with a `//!` line saying what it is for.
    fn doc_lines(&mut self, dir: &Path) -> anyhow::Result<()> {
        for path in walk(dir)? {
            if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path)
                    .with_context(|| format!("cannot read `{}`", path.display()))?;
                if !text.starts_with("//!") {
                    self.report(&path, "must start with a `//!` line saying what it is for");
                }
            }
        }
        Ok(())
    }
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The entries of `dir`, sorted; none if it does not exist.
fn list(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list `{}`", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        out.push(
            entry
                .with_context(|| format!("cannot list `{}`", dir.display()))?
                .path(),
        );
    }
    out.sort();
    Ok(out)
}

/// Every file under `dir`, skipping build output and hidden directories.
fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for path in list(&d)? {
            let name = file_name(&path);
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    stack.push(path);
                }
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test --workspace` fails on the problems `cargo xtask check` reports.
    #[test]
    fn workspace_follows_the_conventions() {
        let root = util::workspace_root().unwrap();
        let problems = problems(&root).unwrap();
        assert!(
            problems.is_empty(),
            "`cargo xtask check` problems:\n{}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
