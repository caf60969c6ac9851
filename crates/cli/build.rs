//! Records the commit the binary is built from, for `why403 --version`: `git describe` of the
//! checkout when there is one (with `-dirty` for uncommitted changes), else `unknown commit`
//! (a build from a published crate). `WHY403_COMMIT` in the environment takes precedence.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=WHY403_COMMIT");
    let commit = std::env::var("WHY403_COMMIT").ok().or_else(git_commit);
    println!(
        "cargo:rustc-env=WHY403_COMMIT={}",
        commit.unwrap_or_else(|| "unknown commit".to_owned())
    );
}

fn git_commit() -> Option<String> {
    // Rebuild when HEAD moves (its file, and the ref it points to).
    let git_dir = run(&["rev-parse", "--git-dir"])?;
    println!("cargo:rerun-if-changed={git_dir}/HEAD");
    if let Some(head_ref) = run(&["symbolic-ref", "-q", "HEAD"]) {
        println!("cargo:rerun-if-changed={git_dir}/{head_ref}");
    }
    println!("cargo:rerun-if-changed={git_dir}/index");
    let hash = run(&["rev-parse", "--short=12", "HEAD"])?;
    let date = run(&["log", "-1", "--format=%cs", "HEAD"]).unwrap_or_default();
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(format!(
        "commit {hash}{}{}",
        if dirty { "-dirty" } else { "" },
        if date.is_empty() {
            String::new()
        } else {
            format!(", {date}")
        }
    ))
}

fn run(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
