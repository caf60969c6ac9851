//! `cargo xtask bench-limits`: the cost of hostile input at the limits of issue 11 — an
//! endless or overlong `eval` line, lines just under the line limit (4 MiB), `/dev/zero` and a
//! 200 MB file given as a scenario, a scenario just under the file limit (16 MiB) made of an
//! ignored array. Each case runs in a process of its own (this program, `--case NAME`), which
//! reports its wall time and its peak resident memory (`VmHWM`), so one case's memory does not
//! hide another's. Timings are for reading, not for correctness: the tests check the limits.

use std::fs;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context as _, bail};
use why403_fixtures_source::MAX_SCENARIO_BYTES;
use why403_policy::batch::{MAX_LINE_BYTES, eval_stream};

use crate::util;

/// The cases, in the order they are reported: name and description.
const CASES: &[(&str, &str)] = &[
    ("eval-256mb-line", "eval: one 256 MB line"),
    ("eval-dev-zero", "eval /dev/zero"),
    (
        "eval-8-lines-at-limit",
        "eval: 8 lines just under the limit",
    ),
    (
        "eval-array-policy-at-limit",
        "eval: line at the limit, array in a policy",
    ),
    ("scenario-dev-zero", "diagnose --scenario /dev/zero (load)"),
    ("scenario-200mb", "scenario: 200 MB file (load)"),
    (
        "scenario-array-at-limit",
        "scenario at the limit, ignored array (load)",
    ),
];

pub fn run(case: Option<&str>) -> anyhow::Result<ExitCode> {
    let root = util::workspace_root()?;
    let dir = util::target_dir(&root).join("bench").join("limits");
    if let Some(name) = case {
        return one(name, &dir);
    }
    if cfg!(debug_assertions) {
        // Time optimised code, as `why403` is shipped.
        util::rerun_release(&root, &["bench-limits"])?;
        return Ok(ExitCode::SUCCESS);
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let exe = std::env::current_exe().context("cannot find this program")?;
    println!(
        "{:<44} {:>9} {:>14}  outcome",
        "case", "wall (s)", "peak RSS (MB)"
    );
    for (name, what) in CASES {
        // Files are written here, so that neither their writing nor the text built for it
        // counts in the case's time and memory.
        let file = prepare(name, &dir)?;
        let out = Command::new(&exe)
            .args(["bench-limits", "--case", name])
            .output()
            .with_context(|| format!("cannot run `{}`", exe.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.trim().splitn(3, ' ');
        let (Some(secs), Some(kb), Some(outcome)) = (parts.next(), parts.next(), parts.next())
        else {
            bail!(
                "case `{name}` failed ({}): {}{}",
                out.status,
                text,
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let mb = kb.parse::<f64>().unwrap_or(f64::NAN) / 1024.0;
        println!("{what:<44} {secs:>9} {mb:>14.1}  {outcome}");
        if let Some(f) = file {
            let _ = fs::remove_file(f);
        }
    }
    let _ = fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

/// The file a case reads, written before it runs.
fn prepare(name: &str, dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let len = match name {
        "scenario-200mb" => 200_000_000,
        "scenario-array-at-limit" => MAX_SCENARIO_BYTES as usize - 1,
        _ => return Ok(None),
    };
    let head = r#"{"scenario": 1, "request": {"principal": "arn:aws:iam::111122223333:user/alice", "bucket": "amzn-s3-demo-bucket", "key": "k"}, "evidence": {"kms_key": {"KeyMetadata": {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "Arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "AWSAccountId": "111122223333", "KeyState": "Enabled", "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT", "KeyManager": "CUSTOMER", "Ignored": [0"#;
    let tail = "]}}}}\n";
    let mut text = Vec::with_capacity(len);
    io::copy(&mut array(head, len, tail), &mut text)?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let path = file_of(name, dir);
    fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(Some(path))
}

fn file_of(name: &str, dir: &Path) -> PathBuf {
    dir.join(format!("{name}.json"))
}

/// Runs one case and prints `seconds peak_kb outcome`.
fn one(name: &str, dir: &Path) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let outcome = match name {
        "eval-256mb-line" => eval(long_line(256_000_000))?,
        "eval-dev-zero" => eval(fs::File::open("/dev/zero").context("/dev/zero")?)?,
        "eval-8-lines-at-limit" => {
            let mut input: Box<dyn Read + Send> = Box::new(io::empty());
            for _ in 0..8 {
                input = Box::new(input.chain(long_line(MAX_LINE_BYTES - 1)));
            }
            eval(input)?
        }
        "eval-array-policy-at-limit" => {
            let head = r#"{"id":1,"request":{"principal":"arn:aws:iam::111122223333:user/alice","action":"s3:PutObject","resource":"arn:aws:s3:::amzn-s3-demo-bucket/k"},"policies":{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}],"Ignored":[0"#;
            eval(array(head, MAX_LINE_BYTES, "]}]}}\n"))?
        }
        "scenario-dev-zero" => load(Path::new("/dev/zero")),
        "scenario-200mb" | "scenario-array-at-limit" => load(&file_of(name, dir)),
        _ => bail!("unknown case `{name}`"),
    };
    let secs = start.elapsed().as_secs_f64();
    println!("{secs:.3} {} {outcome}", peak_kb()?);
    Ok(ExitCode::SUCCESS)
}

/// `head`, then `,0` as many times as fit, white space, and `tail`: `len` bytes in all.
fn array(head: &str, len: usize, tail: &str) -> impl Read + Send + use<> {
    let room = len - head.len() - tail.len();
    let pairs = (room / 2) as u64;
    let spaces = (room % 2) as u64;
    Cursor::new(head.to_owned())
        .chain(Pairs(2 * pairs))
        .chain(io::repeat(b' ').take(spaces))
        .chain(Cursor::new(tail.to_owned()))
}

/// `,0` repeated, without holding the text: the bytes left to give (an even number at the
/// start, so that the next byte is `,` whenever it is even).
struct Pairs(u64);

impl Read for Pairs {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(usize::try_from(self.0).unwrap_or(usize::MAX));
        for b in &mut buf[..n] {
            *b = if self.0.is_multiple_of(2) { b',' } else { b'0' };
            self.0 -= 1;
        }
        Ok(n)
    }
}

/// A record of exactly `len` bytes (and a line end): a request, the policies that allow it,
/// and an ignored member padded with `a`s.
fn long_line(len: usize) -> impl Read + Send {
    let head = r#"{"id":1,"request":{"principal":"arn:aws:iam::111122223333:user/alice","action":"s3:PutObject","resource":"arn:aws:s3:::amzn-s3-demo-bucket/k"},"policies":{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}]},"pad":""#;
    let tail = "\"}\n";
    let pad = len.saturating_sub(head.len() + tail.len() - 1) as u64;
    Cursor::new(head)
        .chain(io::repeat(b'a').take(pad))
        .chain(Cursor::new(tail))
}

fn eval(input: impl Read + Send) -> anyhow::Result<String> {
    Ok(match eval_stream(input, io::sink(), 2) {
        Ok(s) => format!("evaluated {} lines, {} errors", s.lines, s.errors),
        Err(e) => format!("refused: {e}"),
    })
}

fn load(path: &Path) -> String {
    match why403_fixtures_source::load(path) {
        Ok(_) => "loaded".to_owned(),
        Err(e) => {
            let e = e.to_string();
            let cut = e.char_indices().nth(110).map_or(e.len(), |(i, _)| i);
            format!("refused: {}", &e[..cut])
        }
    }
}

/// This process's peak resident memory in KiB (`VmHWM` in `/proc/self/status`).
fn peak_kb() -> anyhow::Result<u64> {
    let status = fs::read_to_string("/proc/self/status").context("/proc/self/status")?;
    util::vm_hwm_kb(&status).context("no VmHWM in /proc/self/status")
}
