//! Shared by the tests that start `why403 serve`: the server as a child process, and a small
//! HTTP/1.1 client that reads answers by their length.

mod http;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// A running `why403 serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub token: String,
}

impl Server {
    /// `why403 serve` with no other option.
    pub fn start() -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_why403"));
        cmd.arg("serve");
        Server::start_with(cmd)
    }

    /// Runs `cmd` (a `why403 serve` command line) and reads the URL it prints.
    pub fn start_with(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("why403 serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"));
        let rest = url.strip_prefix("http://").unwrap();
        let (host, token) = rest.split_once("/?token=").unwrap();
        assert!(host.starts_with("127.0.0.1:"), "{host}");
        Server {
            child,
            addr: host.parse().unwrap(),
            token: token.to_owned(),
        }
    }

    /// The page's URL, token included.
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request; the status and the body as text.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let (status, body) = http::request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path} on {addr}: {e}"));
    (status, String::from_utf8_lossy(&body).into_owned())
}
