//! Hostile input never panics and loses nothing that parses: random bytes, and the shipped
//! test records cut, spliced and corrupted at random places, each read as a file would be
//! (plain and gzip-compressed), every problem reported with a place.

use std::path::Path;

use proptest::prelude::*;
use why403_triage::{Options, Progress, Triage, read_stream};

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(rel),
    )
    .unwrap()
}

fn read(bytes: &[u8]) -> Triage {
    let mut t = Triage::new(Options::default());
    read_stream(bytes, "input", 0, &mut t, &Progress::default());
    t
}

const FIXTURES: &[&str] = &[
    "cloudtrail/records.json",
    "cloudtrail/lookup-events.json",
    "cloudtrail/lake-results.json",
    "cloudtrail/eventbridge.jsonl",
    "access-logs/new-format.log",
    "access-logs/old-format.log",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let t = read(&bytes);
        for p in &t.problems {
            prop_assert!(p.place.starts_with("input"));
        }
    }

    #[test]
    fn corrupted_records_never_panic(
        which in 0..FIXTURES.len(),
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        junk in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let clean = fixture(FIXTURES[which]);
        let whole = read(&clean);
        prop_assert_eq!(whole.counts.skipped, 0, "{:?}", whole.problems);
        // Junk spliced in somewhere, then the file cut somewhere.
        let mut bytes = clean.clone();
        let i = at.index(bytes.len() + 1);
        bytes.splice(i..i, junk.iter().copied());
        bytes.truncate(cut.index(bytes.len() + 1));
        let t = read(&bytes);
        // Never more records selected than the clean file has, and every skip has a place.
        prop_assert!(t.counts.selected <= whole.counts.selected + 1);
        for p in &t.problems {
            prop_assert!(p.place.starts_with("input"), "{:?}", p);
            prop_assert!(!p.what.is_empty());
        }
    }
}

#[test]
fn a_cut_gzip_keeps_what_came_before() {
    use std::io::Write as _;
    let clean = fixture("access-logs/new-format.log");
    let mut many = Vec::new();
    for _ in 0..200 {
        many.extend_from_slice(&clean);
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&many).unwrap();
    let gz = e.finish().unwrap();
    let whole = read(&gz);
    assert_eq!(whole.counts.skipped, 0);
    let t = read(&gz[..gz.len() / 2]);
    assert!(t.counts.selected > 0 && t.counts.selected < whole.counts.selected);
    assert_eq!(t.counts.skipped, 1);
    assert!(t.problems[0].what.contains("gzip"), "{:?}", t.problems);
}

/// A reader that gives at most `n` bytes per read, so that records straddle every boundary.
struct Trickle<'a> {
    bytes: &'a [u8],
    n: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.n.min(buf.len()).min(self.bytes.len());
        buf[..k].copy_from_slice(&self.bytes[..k]);
        self.bytes = &self.bytes[k..];
        Ok(k)
    }
}

#[test]
fn records_split_across_reads_are_read_the_same() {
    for f in FIXTURES {
        let clean = fixture(f);
        let whole = read(&clean).finish();
        for n in [1, 2, 3, 7, 64, 4097] {
            let mut t = Triage::new(Options::default());
            read_stream(
                Trickle { bytes: &clean, n },
                "input",
                0,
                &mut t,
                &Progress::default(),
            );
            let (groups, counts, problems) = t.finish();
            assert_eq!(counts, whole.1, "{f} in reads of {n}: {problems:?}");
            let keys: Vec<_> = groups.iter().map(|g| (&g.key, g.count)).collect();
            let want: Vec<_> = whole.0.iter().map(|g| (&g.key, g.count)).collect();
            assert_eq!(keys, want, "{f} in reads of {n}");
        }
    }
}

#[test]
fn huge_strings_and_lines_are_reported_not_held() {
    // A JSON string past the 32 MiB a record may take.
    let mut big = b"{\"Records\":[{\"eventName\":\"".to_vec();
    big.resize(big.len() + 33 * 1024 * 1024, b'a');
    big.extend_from_slice(b"\"}]}");
    let t = read(&big);
    assert_eq!(t.counts.skipped, 1);
    assert!(
        t.problems[0].what.contains("longer than 32 MiB"),
        "{:?}",
        t.problems
    );
    // An access log line past 1 MiB is skipped; the lines around it are read.
    let clean = fixture("access-logs/new-format.log");
    let first = clean.split(|&b| b == b'\n').next().unwrap();
    let mut log = first.to_vec();
    log.push(b'\n');
    log.extend(std::iter::repeat_n(b'x', 2 * 1024 * 1024));
    log.push(b'\n');
    log.extend_from_slice(first);
    log.push(b'\n');
    let t = read(&log);
    assert_eq!(t.counts.selected, 2, "{:?}", t.problems);
    assert_eq!(t.problems.len(), 1);
    assert_eq!(t.problems[0].place, "input:2");
}
