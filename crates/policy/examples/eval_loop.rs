//! Runs one evaluation of the benchmark's data set many times, for `perf stat` instruction
//! counts that do not depend on how busy the machine is:
//! `perf stat -e instructions:u target/release/examples/eval_loop 200000`.

#[path = "../benches/data/mod.rs"]
mod data;

use std::hint::black_box;

// The allocator the `why403` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let set = data::compile(&data::texts());
    let req = data::put_request(data::KMS_KEY);
    let start = std::time::Instant::now();
    for _ in 0..n {
        black_box(black_box(&set).evaluate(black_box(&req)));
    }
    let per = start.elapsed().as_nanos() as f64 / n as f64;
    let e = set.evaluate(&req);
    let traces: Vec<_> = e
        .layers
        .iter()
        .flat_map(|l| e.statements(&set, &req, l))
        .collect();
    let by_action = traces
        .iter()
        .filter(|t| matches!(t.result, why403_policy::eval::Match::Miss(m) if m.element == why403_policy::eval::Element::Action))
        .count();
    println!(
        "{} statements, {} rejected by Action, {} layers",
        traces.len(),
        by_action,
        e.layers.len()
    );
    println!("{n} evaluations, {per:.0} ns each (wall clock; use perf stat for instructions)");
}
