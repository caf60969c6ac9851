//! What an installed `why403` offers besides its work: `--version` with the commit it was
//! built from, shell completions and a manual page generated from the same definitions.

use assert_cmd::cargo::cargo_bin_cmd;

fn stdout(args: &[&str]) -> String {
    let out = cargo_bin_cmd!("why403")
        .args(args)
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn the_version_names_the_commit() {
    let v = stdout(&["--version"]);
    assert!(
        v.starts_with(&format!("why403 {} (", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    assert!(v.contains("commit"), "{v}");
}

#[test]
fn completions_and_the_manual_cover_every_subcommand() {
    let bash = stdout(&["completions", "bash"]);
    let zsh = stdout(&["completions", "zsh"]);
    let man = stdout(&["man"]);
    assert!(bash.contains("_why403()"), "{bash}");
    assert!(zsh.starts_with("#compdef why403"), "{zsh}");
    assert!(man.contains(".TH why403 1"), "{man}");
    // `capture` reads from AWS: a build without the `live` feature hides it.
    let capture = cfg!(feature = "live").then_some("capture");
    for sub in ["eval", "diagnose", "explain", "rules", "completions", "man"]
        .into_iter()
        .chain(capture)
    {
        assert!(bash.contains(sub), "bash completion lacks `{sub}`");
        assert!(man.contains(sub), "the manual lacks `{sub}`");
    }
    // An unknown shell is a usage error (exit 1), not a panic.
    cargo_bin_cmd!("why403")
        .args(["completions", "tcsh"])
        .assert()
        .code(1);
}
