//! The live source under faults (issue 16): `why403 diagnose s3://...` reads through a small
//! HTTP proxy in front of the moto server that injects one fault at a time: a 500 on one call,
//! a burst of throttling answers, an answer slower than `--timeout`, and the server going away
//! in the middle of the reading. Whatever the fault, the verdict is the fault-free one or
//! indeterminate naming what could not be read, or a clear error; never the other certainty,
//! and never a wait beyond the documented timeout. Skipped, with a notice, when
//! `MOTO_ENDPOINT` is not set. Needs the `live` feature (on by default).

#![cfg(feature = "live")]

#[path = "../../../tests/moto/support.rs"]
// The redaction comparison is for the capture tests.
#[expect(dead_code)]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use support::{endpoint, say, seed, tag, text};

/// What the proxy does to a request.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Answers a request whose first line contains the text with HTTP 500, every time.
    Fail500(&'static str),
    /// Answers the first N requests whose first line or body contains the text with a 400
    /// `Throttling` error, then passes them on.
    Throttle(&'static str, usize),
    /// Holds the answer to a request whose first line contains the text for this long.
    Slow(&'static str, Duration),
    /// After N requests, closes every connection without an answer (the server went away).
    StopAfter(usize),
}

struct Proxy {
    url: String,
    stop: Arc<AtomicBool>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

/// A proxy to `upstream` (`http://host:port`) with `fault`.
fn proxy(upstream: &str, fault: Fault) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicUsize::new(0));
    let matched = Arc::new(AtomicUsize::new(0));
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (upstream, seen, matched) = (upstream.clone(), seen.clone(), matched.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &upstream, fault, &seen, &matched);
                });
            }
        });
    }
    Proxy {
        url: format!("http://{addr}"),
        stop,
    }
}

/// One request on `conn`: read it, apply the fault, forward it with `Connection: close`, and
/// relay the answer; the connection is closed after it (the SDK opens another).
fn serve(
    mut conn: TcpStream,
    upstream: &str,
    fault: Fault,
    seen: &AtomicUsize,
    matched: &AtomicUsize,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") {
            continue;
        }
        let end = line == "\r\n";
        if end {
            head.extend_from_slice(b"Connection: close\r\n");
        }
        head.extend_from_slice(line.as_bytes());
        if end {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let first =
        String::from_utf8_lossy(&head[..head.iter().position(|&b| b == b'\n').unwrap_or(0)])
            .into_owned();
    let n = seen.fetch_add(1, Ordering::SeqCst);
    let hit =
        |needle: &str| first.contains(needle) || String::from_utf8_lossy(&body).contains(needle);
    let answer = |conn: &mut TcpStream, status: &str, code: &str| {
        let text = format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error><RequestId>why403-fault</RequestId></ErrorResponse>"
        );
        write!(
            conn,
            "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        )
    };
    match fault {
        Fault::StopAfter(k) if n >= k => return Ok(()),
        Fault::Fail500(needle) if hit(needle) => {
            return answer(&mut conn, "500 Internal Server Error", "InternalError");
        }
        Fault::Throttle(needle, k) if hit(needle) && matched.fetch_add(1, Ordering::SeqCst) < k => {
            return answer(&mut conn, "400 Bad Request", "Throttling");
        }
        Fault::Slow(needle, d) if hit(needle) => std::thread::sleep(d),
        _ => {}
    }
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(&head)?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    conn.write_all(&answer)?;
    conn.flush()
}

struct Shared {
    endpoint: String,
    worlds: Value,
    dir: std::path::PathBuf,
}

fn shared(test: &str) -> Option<&'static Shared> {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    let endpoint = endpoint(test)?;
    Some(SHARED.get_or_init(|| {
        let tag = tag();
        let worlds = seed(&endpoint, &tag, &["allowed", "identity"], false);
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("live-faults-{tag}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut creds = String::new();
        for name in ["allowed", "identity"] {
            let u = &worlds["worlds"][name]["uploader"];
            creds.push_str(&format!(
                "[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n",
                text(u, "/access_key_id"),
                text(u, "/secret_access_key")
            ));
        }
        std::fs::write(dir.join("credentials"), creds).unwrap();
        Shared {
            endpoint,
            worlds,
            dir,
        }
    }))
}

/// `why403 diagnose` of world `name` through `url` with `--timeout 2`: the exit code, the
/// report (when there is one), standard error and the wall time.
fn diagnose(s: &Shared, name: &str, url: &str) -> (i32, Option<Value>, String, Duration) {
    let w = &s.worlds["worlds"][name];
    let mut cmd = cargo_bin_cmd!("why403");
    for var in [
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", s.dir.join("credentials"))
        .env("AWS_CONFIG_FILE", s.dir.join("no-config"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .timeout(Duration::from_secs(180));
    let started = Instant::now();
    let out = cmd
        .args([
            "diagnose",
            "--format",
            "json",
            "--timeout",
            "2",
            "--region",
            "us-east-1",
        ])
        .args(["--profile", name, "--endpoint-url", url])
        .arg(format!("s3://{}/{}", text(w, "/bucket"), text(w, "/key")))
        .output()
        .unwrap();
    let took = started.elapsed();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).ok(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        took,
    )
}

/// The verdict's exit code of each world without faults.
fn fault_free(name: &str) -> i32 {
    match name {
        "allowed" => 0,
        _ => 2,
    }
}

/// What every faulty reading must be: the fault-free verdict, or indeterminate naming what
/// could not be read, or a clear error (exit 1 with a message).
fn acceptable(name: &str, fault: Fault, got: &(i32, Option<Value>, String, Duration)) {
    let (code, report, err, _) = got;
    match code {
        3 => {
            let r = report
                .as_ref()
                .unwrap_or_else(|| panic!("{fault:?}: no report\n{err}"));
            let missing = r
                .pointer("/verdict/missing")
                .or_else(|| r.pointer("/missing"));
            assert!(
                r.to_string().contains("needs") || missing.is_some(),
                "{name} {fault:?}: indeterminate without saying what is missing: {r:#}"
            );
        }
        1 => assert!(
            err.contains("error:"),
            "{name} {fault:?}: exit 1 without a message"
        ),
        c => assert_eq!(
            *c,
            fault_free(name),
            "{name} {fault:?}: wrong certainty\n{err}"
        ),
    }
}

#[test]
fn faults_give_the_same_verdict_indeterminate_or_a_clear_error() {
    let Some(s) = shared("faults_give_the_same_verdict_indeterminate_or_a_clear_error") else {
        return;
    };
    let faults = [
        Fault::Fail500("?policy"),
        Fault::Fail500("Action=ListUserPolicies"),
        // One throttle: with `--timeout 2`, the SDK's backoff before its first retry is at
        // most 1 s, before its second at most 2 s, so a longer burst may outlast the timeout
        // (and a throttled targeted read does not fall back to the heavier, more throttled
        // GetAccountAuthorizationDetails).
        Fault::Throttle("Action=ListUserPolicies", 1),
        Fault::Slow("?acl", Duration::from_secs(5)),
        Fault::StopAfter(3),
    ];
    for name in ["allowed", "identity"] {
        // Through a proxy without faults: the verdicts as documented.
        let p = proxy(&s.endpoint, Fault::StopAfter(usize::MAX));
        let clean = diagnose(s, name, &p.url);
        assert_eq!(
            clean.0,
            fault_free(name),
            "{name} through the proxy:\n{}",
            clean.2
        );
        for fault in faults {
            let p = proxy(&s.endpoint, fault);
            let got = diagnose(s, name, &p.url);
            acceptable(name, fault, &got);
            // A throttling burst the SDK retries through changes nothing.
            if matches!(fault, Fault::Throttle(..)) {
                assert_eq!(got.0, fault_free(name), "{name} {fault:?}:\n{}", got.2);
            }
            // A slow answer: unreadable after the 2 s timeout (and its retries), not waited for.
            if matches!(fault, Fault::Slow(..)) {
                assert!(
                    got.3 < Duration::from_secs(40),
                    "{name} {fault:?} took {:?}",
                    got.3
                );
                let report = got.1.as_ref().map(Value::to_string).unwrap_or_default();
                assert!(report.contains("timed out"), "{name} {fault:?}: {report}");
            }
            // A 500 on the bucket policy leaves it unreadable, named with its action.
            if matches!(fault, Fault::Fail500("?policy")) {
                assert_eq!(got.0, 3, "{name} {fault:?}:\n{}", got.2);
                let report = got.1.as_ref().map(Value::to_string).unwrap_or_default();
                assert!(
                    report.contains("s3:GetBucketPolicy"),
                    "{name} {fault:?}: {report}"
                );
            }
            say(&format!(
                "moto faults: `{name}` with {fault:?}: exit {} in {:.1} s",
                got.0,
                got.3.as_secs_f64()
            ));
        }
    }
}
