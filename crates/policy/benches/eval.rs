//! Criterion benchmarks of one authorization against pre-compiled policies (a principal with
//! five identity policies of 10-30 statements, a bucket policy that denies uploads without the
//! bucket's KMS key, two SCP levels and one RCP level), and of compiling those policies.

mod data;

use std::hint::black_box;

// The allocator the `why403` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, criterion_group, criterion_main};
use data::{IDENTITY_SIZES, KMS_KEY, compile, put_request, texts};
use why403_policy::Decision;

fn benches(c: &mut Criterion) {
    let t = texts();
    let set = compile(&t);
    let statements: usize = set.identity.iter().map(|p| p.statements.len()).sum();
    assert_eq!(statements, IDENTITY_SIZES.iter().sum::<usize>());

    let allowed = put_request(KMS_KEY);
    // Another key of the account: the bucket policy's Deny applies.
    let denied = put_request(&format!("{}ffff", &KMS_KEY[..KMS_KEY.len() - 4]));
    // The benchmarks are only meaningful if the requests decide as intended.
    assert_eq!(set.evaluate(&allowed).decision, Decision::Allowed);
    assert_eq!(set.evaluate(&denied).decision, Decision::ExplicitlyDenied);

    let mut g = c.benchmark_group("evaluate");
    g.bench_function("allowed_put", |b| {
        b.iter(|| black_box(&set).evaluate(black_box(&allowed)))
    });
    g.bench_function("denied_put", |b| {
        b.iter(|| black_box(&set).evaluate(black_box(&denied)))
    });
    g.finish();

    let mut g = c.benchmark_group("parse");
    g.bench_function("policy_set", |b| b.iter(|| compile(black_box(&t))));
    g.finish();
}

criterion_group!(eval, benches);
criterion_main!(eval);
