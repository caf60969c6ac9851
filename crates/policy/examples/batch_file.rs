//! Runs the `why403 eval` engine over a JSON Lines file with output discarded, to measure
//! throughput without building the CLI: `batch_file FILE [THREADS]`.

use std::io::BufReader;

// The same allocator as the `why403` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "target/bench/eval-bench.jsonl".into());
    let threads = args.next().and_then(|t| t.parse().ok()).unwrap_or(2);
    let file = std::fs::File::open(&path)?;
    let size = file.metadata()?.len();
    let start = std::time::Instant::now();
    let stats = why403_policy::batch::eval_stream(BufReader::new(file), std::io::sink(), threads)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} requests ({} errors, {} policy sets) in {secs:.2} s: {:.0} requests/s, {:.0} MB/s, {threads} threads",
        stats.lines,
        stats.errors,
        stats.cache_misses,
        stats.lines as f64 / secs,
        size as f64 / secs / 1e6
    );
    Ok(())
}
