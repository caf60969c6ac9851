//! `examples/org-rules`, an organization's rule crate and binary outside this workspace, builds
//! and passes its own tests (its rules' cases and snapshots with why403's test kit, and its
//! binary listing the built-in rules and its own, its SCP rule superseding `scp-denies-s3`).
//! It is a workspace of its own, so it is built by a nested `cargo test` in `target/org-rules`,
//! offline, from a copy of this workspace's `Cargo.lock` (so it builds the very versions this
//! workspace is tested with; cargo only adds the example's own package to it).

use std::path::Path;
use std::process::Command;

#[test]
fn the_organization_example_builds_and_passes_its_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    std::fs::copy(
        root.join("Cargo.lock"),
        root.join("examples/org-rules/Cargo.lock"),
    )
    .expect("the lock file is copied");
    let out = Command::new(cargo)
        .args(["test", "--offline", "--manifest-path"])
        .arg(root.join("examples/org-rules/Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target/org-rules"))
        .env("INSTA_UPDATE", "no")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "examples/org-rules failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
