//! Criterion benchmark of a careless or hostile policy: 5,000 deny statements that all match the
//! upload, in the bucket policy or in an identity policy (unconditional, each fixed by removing
//! it; or fixed by one header for all; or each by a header of its own, where the number of
//! fixes verified is bounded), diagnosed with every rule and rendered
//! for people and as JSON (issue 11's target: under 1 s and under 100 MB of output). Each
//! statement is a cause with a fix; the fixes' verifications and the statements listed under
//! each finding once made this quadratic (26 s and 488 MB for 2,000 statements).
//!
//! `cargo bench -p why403-rules --bench many_denies`; the output sizes are printed first.

#[path = "../tests/data/many_denies.rs"]
mod data;

use data::Denies;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use why403_core::finding::diagnose;
use why403_core::render::{HumanOptions, human, json as json_value, json_text};

// The allocator the `why403` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const STATEMENTS: usize = 5_000;

/// Reads, diagnoses and renders a scenario for people and as JSON: the output sizes.
fn run(text: &str, registry: &why403_core::rule::Registry) -> (usize, usize) {
    let s = why403_fixtures_source::parse("many-denies.json", text)
        .unwrap_or_else(|e| panic!("the generated scenario does not load: {e}"));
    let d = diagnose(s.request, s.evidence, registry);
    let human = human(&d, &HumanOptions::new(false));
    let json = json_text(&json_value(&d));
    (human.len(), json.len())
}

fn benches(c: &mut Criterion) {
    let registry = why403_rules::registry();
    let mut g = c.benchmark_group("many_denies");
    g.sample_size(10);
    for (name, in_bucket, denies) in [
        ("bucket_policy", true, Denies::Unconditional),
        ("identity_policy", false, Denies::Unconditional),
        ("same_fix", true, Denies::SameHeader),
        ("a_fix_each", true, Denies::HeaderEach),
    ] {
        let text = data::scenario(STATEMENTS, in_bucket, denies);
        let (human, json) = run(&text, &registry);
        eprintln!(
            "many_denies/{name}: {STATEMENTS} matching denies: human output {:.1} MB, JSON {:.1} MB",
            human as f64 / 1e6,
            json as f64 / 1e6
        );
        g.bench_function(name, |b| {
            b.iter(|| run(black_box(&text), black_box(&registry)))
        });
    }
    g.finish();
}

criterion_group!(many_denies, benches);
criterion_main!(many_denies);
