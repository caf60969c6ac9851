//! `acme-why403`: why403 with Acme's rules.

// Links Acme's rules into the registry (the registry finds rules through the linker; without
// this line they are silently absent, and `tests/registry.rs` fails).
use acme_why403 as _;

fn main() -> std::process::ExitCode {
    why403::App::new(
        "acme-why403",
        concat!(env!("CARGO_PKG_VERSION"), " (Acme rules)"),
    )
    .run()
}
