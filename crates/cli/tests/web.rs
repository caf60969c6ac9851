//! `why403 serve`, from outside: the security checks over real HTTP, and the page in a real
//! browser (headless Chromium driven over WebDriver). The browser tests print a notice and
//! pass when `chromedriver` is not installed (`.ci/run` installs it when it can); each saves
//! screenshots under `target/web-screenshots/`.

#![cfg(feature = "web")]

mod serve_support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serve_support::{Server, http};

use base64::Engine as _;
use serde_json::{Value, json};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example(name: &str) -> String {
    std::fs::read_to_string(workspace().join("examples/scenarios").join(name)).unwrap()
}

#[test]
fn the_server_refuses_what_does_not_come_from_its_page() {
    let server = Server::start();
    let addr = server.addr;
    let token = server.token.as_str();
    let scenario = example("bucket-policy-kms-deny.json");

    // The page: only with the token.
    assert_eq!(http(addr, "GET", "/", &[], b"").0, 403);
    assert_eq!(http(addr, "GET", "/?token=0000", &[], b"").0, 403);
    let (status, page) = http(addr, "GET", &format!("/?token={token}"), &[], b"");
    assert_eq!(status, 200);
    assert!(page.contains("<title>why403</title>"));
    assert!(
        !page.contains(token),
        "the page does not carry the token itself"
    );
    assert!(!page.contains("https://") && !page.contains("http://"));

    let with_token = [("X-Why403-Token", token)];
    let (status, body) = http(
        addr,
        "POST",
        "/api/diagnose",
        &with_token,
        scenario.as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["verdict"], "denied");

    // No token, a foreign origin, another Host (DNS rebinding), a cross-site fetch.
    for headers in [
        vec![],
        vec![("X-Why403-Token", token), ("Origin", "http://evil.example")],
        vec![("X-Why403-Token", token), ("Host", "evil.example")],
        vec![("X-Why403-Token", token), ("Sec-Fetch-Site", "cross-site")],
    ] {
        let (status, body) = http(addr, "POST", "/api/diagnose", &headers, scenario.as_bytes());
        assert_eq!(status, 403, "{headers:?}: {body}");
        assert!(!body.contains("verdict"), "{body}");
    }

    // A body above the limit is refused; bad input says where; the server goes on.
    let huge = vec![b' '; 17 * 1024 * 1024];
    assert_eq!(
        http(addr, "POST", "/api/diagnose", &with_token, &huge).0,
        413
    );
    let (status, body) = http(
        addr,
        "POST",
        "/api/diagnose?name=mine.json",
        &with_token,
        b"{\n \"request\": }",
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ok"], false);
    assert!(
        v["error"].as_str().unwrap().starts_with("mine.json:2:"),
        "{v}"
    );
    let (status, body) = http(addr, "POST", "/api/diagnose", &with_token, b"\xff\xfe");
    assert_eq!(status, 422, "{body}");
    let (status, body) = http(
        addr,
        "POST",
        "/api/explain",
        &with_token,
        b"An error occurred (AccessDenied) when calling the PutObject operation: Access Denied",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"recognised\":true"), "{body}");
}

// ---------------------------------------------------------------------------------------------
// The browser.

fn chromedriver() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromedriver"))
        .find(|p| p.is_file())
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// A WebDriver session on a chromedriver of its own.
struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
}

impl Browser {
    fn start(driver: &Path, binary: &Path) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut b = Browser {
            driver: child,
            addr,
            session: String::new(),
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1100"]
            }
        }}});
        let v = b.cmd("POST", "/session", caps);
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        b
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let body = if method == "GET" {
            String::new()
        } else {
            body.to_string()
        };
        let (status, text) = http(
            self.addr,
            method,
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert!(status < 400, "{method} {path}: {status} {v}");
        v["value"].clone()
    }

    fn session(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    fn go(&self, url: &str) {
        self.cmd("POST", &self.session("/url"), json!({ "url": url }));
    }

    fn run(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            &self.session("/execute/sync"),
            json!({ "script": script, "args": args }),
        )
    }

    fn text(&self, id: &str) -> String {
        self.run(
            "const e = document.getElementById(arguments[0]); return e ? e.textContent : null;",
            json!([id]),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Types `text` into the element `id` as a person would.
    fn type_into(&self, id: &str, text: &str) {
        let e = self.cmd(
            "POST",
            &self.session("/element"),
            json!({"using": "css selector", "value": format!("#{id}")}),
        );
        let element = e
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_owned();
        self.cmd(
            "POST",
            &self.session(&format!("/element/{element}/value")),
            json!({ "text": text }),
        );
    }

    /// Puts `text` into the textarea `id` at once, as a paste does.
    fn paste(&self, id: &str, text: &str) {
        self.run(
            "const e = document.getElementById(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('input', {bubbles: true}));",
            json!([id, text]),
        );
    }

    /// Waits until `f` holds, up to 20 seconds.
    fn wait(&self, what: &str, f: impl Fn(&Browser) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !f(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn screenshot(&self, name: &str) {
        let png = self.cmd("GET", &self.session("/screenshot"), Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = workspace().join("target/web-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(
                self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                b"",
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[test]
fn the_page_explains_diagnoses_and_answers_what_if_in_a_real_browser() {
    let (Some(driver), Some(binary)) = (chromedriver(), chromium()) else {
        eprintln!(
            "notice: chromedriver or chromium is not installed; the browser test is skipped (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let server = Server::start();
    let b = Browser::start(&driver, &binary);
    b.go(&server.url());
    b.wait("the page", |b| {
        b.text("verdict").contains("Load a scenario")
    });

    // Paste an error: it is explained at once.
    b.type_into(
        "error",
        "An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket/reports/q3.csv\" with an explicit deny in a resource-based policy",
    );
    b.wait("the explanation", |b| {
        b.text("explanation")
            .contains("bucket-policy-explicit-deny")
    });
    b.screenshot("explain");

    // Load the seed scenario: denied by the bucket policy's condition.
    let scenario = example("bucket-policy-kms-deny.json");
    b.paste("scenario", &scenario);
    b.wait("the verdict", |b| b.text("verdict") == "denied");
    let human = b.text("human");
    assert!(human.contains("bucket-policy-explicit-deny"), "{human}");
    assert!(
        human.contains("StringNotLikeIfExists"),
        "the condition is shown: {human}"
    );
    b.screenshot("diagnosis");

    // What-if: drop the Deny from the bucket policy; the verdict turns to allowed.
    let mut v: Value = serde_json::from_str(&scenario).unwrap();
    v["evidence"]["bucket_policy"]["Policy"] = json!(r#"{"Version":"2012-10-17","Statement":[]}"#);
    b.paste("scenario", &serde_json::to_string_pretty(&v).unwrap());
    b.wait("the what-if verdict", |b| b.text("verdict") == "allowed");
    assert_eq!(b.text("edited"), "edited: what-if");
    b.screenshot("what-if");

    // A broken edit is shown with its place; the text typed stays; the original is one click away.
    let broken = "{\n  \"request\": {,\n}";
    b.paste("scenario", broken);
    b.wait("the problem", |b| b.text("problem").contains(":2:"));
    let kept = b.run(
        "return document.getElementById('scenario').value;",
        json!([]),
    );
    assert_eq!(kept.as_str(), Some(broken));
    b.screenshot("bad-input");
    b.run("document.getElementById('reset').click();", json!([]));
    b.wait("the original verdict", |b| {
        b.text("verdict") == "denied" && b.text("problem").is_empty()
    });

    // One section at a time: the bucket policy, decoded from its JSON string, edited in place.
    b.run(
        "const s = document.getElementById('section'); s.value = 'evidence.bucket_policy'; s.dispatchEvent(new Event('change'));",
        json!([]),
    );
    let part = b.run("return document.getElementById('part').value;", json!([]));
    let part = part.as_str().unwrap_or_default();
    assert!(
        part.contains("\"Effect\": \"Deny\""),
        "the policy is shown decoded: {part}"
    );
    let allow_all = part.replace("\"Effect\": \"Deny\"", "\"Effect\": \"Allow\"");
    b.paste("part", &allow_all);
    b.wait("the section what-if verdict", |b| {
        b.text("verdict") == "allowed"
    });
    let edited: Value = serde_json::from_str(
        b.run(
            "return document.getElementById('scenario').value;",
            json!([]),
        )
        .as_str()
        .unwrap(),
    )
    .unwrap();
    let policy = edited["evidence"]["bucket_policy"]["Policy"]
        .as_str()
        .unwrap();
    assert!(
        policy.contains("\"Effect\":\"Allow\""),
        "written back as a JSON string: {policy}"
    );
    b.screenshot("section-what-if");

    // A fix that edits a policy offers its new document to download, named as the printed
    // command reads it.
    b.paste("scenario", &example("two-causes.json"));
    b.wait("the download of the new policy", |b| {
        b.run(
            "return Array.from(document.querySelectorAll('#fix-files button')).map(b => b.textContent).join('|');",
            json!([]),
        )
        .as_str()
        .is_some_and(|t| t.contains("Download ReportUploads.json"))
    });

    // From the page, a request without the token is refused.
    let status = b.cmd(
        "POST",
        &b.session("/execute/async"),
        json!({"script": "const done = arguments[0]; fetch('/api/explain', {method: 'POST', body: 'x'}).then(r => done(r.status));", "args": []}),
    );
    assert_eq!(status, 403);
}
