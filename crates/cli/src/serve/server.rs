//! The server of `why403 serve` (cargo feature `web`): the routes, the checks every request
//! passes, and the answers.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use why403_core::analysis::Verdict;
use why403_core::client::Client;
use why403_core::render::{HumanOptions, html, human, json as diagnosis_json, verdict_word};
use why403_core::{Diagnoser, Registry};

use crate::diagnose::ClientArg;
use crate::live::{LiveArgs, Shared};

/// The page, with `{{NONCE}}` where the per-start script nonce goes.
const PAGE: &str = include_str!("page.html");

/// The largest body the server reads: a scenario file's limit (16 MiB) and a little more, so
/// that a file just over it gets the scenario reader's own message.
const MAX_BODY: usize = 16 * 1024 * 1024 + 1024;

/// The header that carries the token on API calls.
const TOKEN_HEADER: &str = "x-why403-token";

/// What every request needs: the token and the names the server answers to, checked by
/// [`guarded`], and the rules, linked once for every diagnosis.
#[derive(Debug)]
struct Guard {
    token: String,
    nonce: String,
    /// `host:port` forms a request's Host header may take.
    hosts: Vec<String>,
    /// With `--live`: the options of live reading (credentials come from the environment and
    /// never reach the page).
    live: Option<(LiveArgs, Shared)>,
    /// Every rule linked into the program.
    registry: Registry,
}

pub(crate) fn run(
    listen: Option<IpAddr>,
    port: u16,
    live: Option<(LiveArgs, Shared)>,
) -> anyhow::Result<ExitCode> {
    let ip = listen.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if !ip.is_loopback() {
        eprintln!(
            "why403: warning: listening on {ip}: other machines that reach it and learn the token can use this server"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    runtime.block_on(serve(SocketAddr::new(ip, port), live))
}

async fn serve(addr: SocketAddr, live: Option<(LiveArgs, Shared)>) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let guard = Arc::new(Guard {
        token: random_hex()?,
        nonce: random_hex()?,
        hosts: host_names(bound),
        live,
        registry: why403_rules::registry(),
    });
    let url = format!("http://{}/?token={}", display_host(bound), guard.token);
    crate::output::print(&format!(
        "why403 serve: open {url}\n(Ctrl-C stops the server)\n"
    ))?;
    axum::serve(listener, app(guard))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the server stopped")?;
    Ok(ExitCode::SUCCESS)
}

fn app(guard: Arc<Guard>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/explain", post(explain))
        .route("/api/diagnose", post(diagnose))
        .route("/api/live", post(live))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(guard.clone(), guarded))
        .with_state(guard)
}

/// Every request passes here before its route: the Host, Origin and token checks (the page
/// takes the token from its URL, every other request from `X-Why403-Token`); and every
/// answer, refusals included, leaves with the hardening headers.
async fn guarded(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let checked = if req.uri().path() == "/" {
        let token = Query::<PageQuery>::try_from_uri(req.uri())
            .ok()
            .and_then(|q| q.0.token);
        guard.check(req.headers(), token.as_deref())
    } else {
        guard.check(req.headers(), token_header(req.headers()))
    };
    let answer = match checked {
        Ok(()) => next.run(req).await,
        Err(r) => r.into_response(),
    };
    harden(answer)
}

/// 32 hexadecimal digits from the system's random source.
fn random_hex() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot read the system's random source: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The Host header values that name this server.
fn host_names(bound: SocketAddr) -> Vec<String> {
    let port = bound.port();
    let mut hosts = vec![format!("{}:{port}", display_ip(bound.ip()))];
    if bound.ip().is_loopback() {
        hosts.push(format!("localhost:{port}"));
    }
    hosts
}

fn display_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

fn display_host(bound: SocketAddr) -> String {
    format!("{}:{}", display_ip(bound.ip()), bound.port())
}

/// Why a request is refused, as a response.
fn refuse(status: StatusCode, why: &str) -> Response {
    Refused(status, why.to_owned()).into_response()
}

/// A refusal: the status and what to tell the page.
#[derive(Debug)]
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "ok": false, "error": self.1 }))).into_response()
    }
}

impl Guard {
    /// Checks the Host and Origin headers and the token (`given`); the refusal otherwise.
    fn check(&self, headers: &HeaderMap, given: Option<&str>) -> Result<(), Refused> {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if !host.is_some_and(|h| self.hosts.iter().any(|k| k.eq_ignore_ascii_case(h))) {
            return Err(Refused(
                StatusCode::FORBIDDEN,
                "the Host header does not name this server".into(),
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let ok = origin.to_str().ok().is_some_and(|o| {
                self.hosts
                    .iter()
                    .any(|k| o.eq_ignore_ascii_case(&format!("http://{k}")))
            });
            if !ok {
                return Err(Refused(
                    StatusCode::FORBIDDEN,
                    "requests from another origin are refused".into(),
                ));
            }
        } else if headers
            .get("sec-fetch-site")
            .is_some_and(|s| s != "same-origin" && s != "none")
        {
            return Err(Refused(
                StatusCode::FORBIDDEN,
                "requests from another site are refused".into(),
            ));
        }
        if !given.is_some_and(|t| constant_time_eq(t.as_bytes(), self.token.as_bytes())) {
            return Err(Refused(
                StatusCode::FORBIDDEN,
                "a valid token is needed: open the URL `why403 serve` printed".into(),
            ));
        }
        Ok(())
    }
}

/// Compares without returning early on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn token_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(TOKEN_HEADER).and_then(|t| t.to_str().ok())
}

/// The headers of every page and answer: no caching, no referrer (the URL holds the token),
/// no framing by other pages, and [`API_CSP`] unless the answer has a policy of its own.
fn harden(mut r: Response) -> Response {
    let h = r.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_CSP),
        );
    }
    r
}

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

#[derive(Debug, Deserialize)]
struct PageQuery {
    token: Option<String>,
}

async fn page(State(guard): State<Arc<Guard>>) -> Response {
    let body = PAGE
        .replace("{{NONCE}}", &guard.nonce)
        .replace("{{LIVE}}", if guard.live.is_some() { "" } else { "hidden" });
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{}'; style-src 'unsafe-inline'; connect-src 'self'; \
         img-src data:; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        guard.nonce
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CONTENT_SECURITY_POLICY, csp),
        ],
        body,
    )
        .into_response()
}

async fn not_found() -> Response {
    refuse(StatusCode::NOT_FOUND, "no such page")
}

/// The body as text: invalid UTF-8 is refused with where it starts.
fn body_text(body: &Bytes, what: &str) -> Result<String, Refused> {
    String::from_utf8(body.to_vec()).map_err(|e| {
        Refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{what} is not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

async fn explain(State(guard): State<Arc<Guard>>, body: Bytes) -> Response {
    let text = match body_text(&body, "the error") {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let answer = tokio::task::spawn_blocking(move || explain_answer(&text, &guard.registry)).await;
    answered(answer)
}

fn explain_answer(text: &str, registry: &Registry) -> serde_json::Value {
    let parsed = why403_errors::parse(text);
    let x = why403_errors::explain(&parsed, registry);
    json!({
        "ok": true,
        "recognised": parsed.is_recognised(),
        "human": why403_errors::human(&parsed, &x),
        "explanation": why403_errors::json(&parsed, &x),
    })
}

/// A blocking task's JSON answer, or the server's own failure.
fn answered(answer: Result<serde_json::Value, tokio::task::JoinError>) -> Response {
    match answer {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the diagnosis failed inside why403: {e}"),
        ),
    }
}

#[derive(Debug, Deserialize)]
struct DiagnoseQuery {
    /// The file name the scenario came from, for messages.
    name: Option<String>,
    /// `console`, `cli` or `sdk`.
    client: Option<String>,
}

async fn diagnose(
    State(guard): State<Arc<Guard>>,
    Query(q): Query<DiagnoseQuery>,
    body: Bytes,
) -> Response {
    let text = match body_text(&body, "the scenario") {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    // The names of `diagnose --client`.
    let client = match q.client.as_deref() {
        None | Some("") => None,
        Some(name) => match <ClientArg as clap::ValueEnum>::from_str(name, false) {
            Ok(c) => Some(Client::from(c)),
            Err(_) => {
                return refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &format!("unknown client `{name}` (console, cli or sdk)"),
                );
            }
        },
    };
    let name = q.name.unwrap_or_else(|| "scenario.json".to_owned());
    let answer =
        tokio::task::spawn_blocking(move || diagnose_answer(&name, &text, client, &guard.registry))
            .await;
    answered(answer)
}

/// `POST /api/live` with `s3://bucket/key` as the body: the upload read live from AWS and
/// diagnosed, when the server was started with `--live`.
async fn live(State(guard): State<Arc<Guard>>, body: Bytes) -> Response {
    if guard.live.is_none() {
        return refuse(
            StatusCode::NOT_FOUND,
            "the live mode is off: start the server with `why403 serve --live`",
        );
    }
    let target = match body_text(&body, "the target") {
        Ok(t) => t.trim().to_owned(),
        Err(r) => return r.into_response(),
    };
    // The live source runs its own runtime: a plain thread, outside this one.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let Some((args, shared)) = &guard.live else {
            return;
        };
        let start = Instant::now();
        let answer = match shared.collect(&target, args, false) {
            Ok(read) => answer(
                Diagnoser::new(&guard.registry)
                    .notes(read.notes)
                    .diagnose(read.request, read.evidence),
                start,
            ),
            // The message names the call that failed; never a credential.
            Err(e) => json!({ "ok": false, "error": format!("{e:#}") }),
        };
        let _ = tx.send(answer);
    });
    match rx.await {
        Ok(v) => axum::Json(v).into_response(),
        Err(_) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the live reading failed inside why403",
        ),
    }
}

/// The answer for a diagnosis that took since `start`.
fn answer(d: why403_core::Diagnosis, start: Instant) -> serde_json::Value {
    json!({
        "ok": true,
        "verdict": verdict_word(&d.verdict),
        "denied": matches!(d.verdict, Verdict::Denied),
        "human": human(&d, &HumanOptions::new(false)),
        "report": html(&d),
        "diagnosis": diagnosis_json(&d),
        "micros": start.elapsed().as_micros() as u64,
    })
}

/// The diagnosis of a scenario given as text, or where the text is wrong.
fn diagnose_answer(
    name: &str,
    text: &str,
    client: Option<Client>,
    registry: &Registry,
) -> serde_json::Value {
    let start = Instant::now();
    let scenario = match why403_fixtures_source::parse(name, text) {
        Ok(s) => s,
        Err(e) => return json!({ "ok": false, "error": e.to_string() }),
    };
    let mut diagnoser = Diagnoser::new(registry);
    if let Some(c) = client {
        diagnoser = diagnoser.client(c, None);
    }
    answer(
        diagnoser.diagnose(scenario.request, scenario.evidence),
        start,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard {
            token: "0123456789abcdef0123456789abcdef".into(),
            nonce: "n".into(),
            hosts: host_names(SocketAddr::from(([127, 0, 0, 1], 4403))),
            live: None,
            registry: Registry::default(),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn the_token_the_host_and_the_origin_are_all_checked() {
        let g = guard();
        let ok = headers(&[("host", "127.0.0.1:4403")]);
        assert!(g.check(&ok, Some(TOKEN)).is_ok());
        assert!(
            g.check(&headers(&[("host", "localhost:4403")]), Some(TOKEN))
                .is_ok()
        );
        // No token, a wrong one, one of another length.
        assert!(g.check(&ok, None).is_err());
        assert!(
            g.check(&ok, Some("0123456789abcdef0123456789abcdee"))
                .is_err()
        );
        assert!(g.check(&ok, Some("0123")).is_err());
        // DNS rebinding: a name that resolves here, but is not this server's.
        assert!(
            g.check(&headers(&[("host", "evil.example:4403")]), Some(TOKEN))
                .is_err()
        );
        assert!(g.check(&HeaderMap::new(), Some(TOKEN)).is_err());
        // Another port of the same machine is another origin.
        assert!(
            g.check(
                &headers(&[
                    ("host", "127.0.0.1:4403"),
                    ("origin", "http://127.0.0.1:8080")
                ]),
                Some(TOKEN)
            )
            .is_err()
        );
        assert!(
            g.check(
                &headers(&[
                    ("host", "127.0.0.1:4403"),
                    ("origin", "https://evil.example")
                ]),
                Some(TOKEN)
            )
            .is_err()
        );
        assert!(
            g.check(
                &headers(&[
                    ("host", "127.0.0.1:4403"),
                    ("origin", "http://127.0.0.1:4403")
                ]),
                Some(TOKEN)
            )
            .is_ok()
        );
        // A browser request without Origin from another site.
        assert!(
            g.check(
                &headers(&[("host", "127.0.0.1:4403"), ("sec-fetch-site", "cross-site")]),
                Some(TOKEN)
            )
            .is_err()
        );
    }

    #[test]
    fn tokens_are_random_and_long() {
        let a = random_hex().unwrap();
        let b = random_hex().unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn the_page_fetches_nothing_from_elsewhere() {
        for needle in ["http://", "https://", "//cdn", "@import", "src=\"//"] {
            assert!(!PAGE.contains(needle), "{needle}");
        }
        assert!(PAGE.contains("{{NONCE}}"));
        assert!(PAGE.len() < 150 * 1024);
    }

    #[test]
    fn a_bad_scenario_says_where() {
        let v = diagnose_answer("s.json", "{\n  \"request\": [}", None, &Registry::default());
        assert_eq!(v["ok"], false);
        let e = v["error"].as_str().unwrap();
        assert!(e.contains("s.json:2:"), "{e}");
    }
}
