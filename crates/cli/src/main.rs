//! The `why403` binary: the command line of the `why403` library with the built-in rules.

// `why403 eval` allocates many small strings per line; mimalloc makes that markedly cheaper
// than the system allocator (see `cargo xtask bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    why403::main()
}
