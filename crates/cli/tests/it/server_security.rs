//! The hardened `rythm-backup serve`, as a real process on loopback: 200 parallel logins
//! keep the per-address limit (counted from the server's own log, one `password checked`
//! line per check) and its peak memory (`VmHWM`) under 100 MB; `rythm-backup admin revoke`
//! and `admin remove` in another process end the admin's tokens on the running server; a
//! token with a future
//! `nbf` and a token in the query string get 401, and the latter appears in no log; half a
//! request head then silence is disconnected within `HTTP_HEADER_TIMEOUT`.
//!
//! HTTP is spoken over raw sockets so each client can pick its source address: loopback
//! answers on all of 127.0.0.0/8, which lets one test be 200 different clients.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpStream as StdTcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::support::{random_hex, Cli};

const ADMIN: &str = "ops@example.com";
/// The peak memory the server may reach in the login bursts.
const MAX_RSS_BYTES: u64 = 100 * 1000 * 1000;

/// `rythm-backup serve` on a free port with its own admin file, local storage and a log
/// file (LOG_LEVEL=debug: request lines too, so the redaction is tested).
struct Server {
    child: Child,
    addr: SocketAddr,
    cli: Cli,
    secret: String,
    password: String,
    log: PathBuf,
    _state: TempDir,
}

impl Server {
    fn start() -> Server {
        let state = tempfile::tempdir().unwrap();
        let secret = format!("{}{}{}", random_hex(), random_hex(), random_hex());
        let password = format!("pw-{}", random_hex());
        let cli = Cli::bare()
            .env(
                "ADMINS_FILE",
                state.path().join("admins.json").to_str().unwrap(),
            )
            .env(
                "SCHEDULE_FILE",
                state.path().join("schedule.json").to_str().unwrap(),
            )
            .env("BACKUP_DIR", state.path().join("backups").to_str().unwrap())
            .env("JWT_SECRET", &secret)
            .env("LOG_LEVEL", "debug")
            .env("HTTP_HEADER_TIMEOUT", "1.5");
        let mut add = cli
            .command(&["admin", "add", ADMIN, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        add.stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        assert!(add.wait().unwrap().success(), "admin add");

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = state.path().join("server.log");
        let child = cli
            .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the server starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while StdTcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "the server did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            child,
            addr,
            cli,
            secret,
            password,
            log,
            _state: state,
        }
    }

    /// Everything the server logged so far, without colour codes.
    fn log(&self) -> String {
        strip_ansi(&std::fs::read_to_string(&self.log).unwrap())
    }

    /// How many passwords the server checked for `client`, from its log.
    fn checks_for(&self, clients: &[IpAddr]) -> usize {
        self.log()
            .lines()
            .filter(|line| line.contains("password checked"))
            .filter_map(|line| {
                line.split_whitespace()
                    .find_map(|word| word.strip_prefix("client="))
                    .and_then(|ip| ip.parse::<IpAddr>().ok())
            })
            .filter(|ip| clients.contains(ip))
            .count()
    }

    /// The server's peak resident memory so far, in bytes.
    fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .and_then(|v| v.trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kib * 1024
    }

    fn login_body(&self, password: &str) -> String {
        json!({"email": ADMIN, "password": password}).to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// One answer: status, headers (lowercased names) and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

/// One HTTP/1.1 request from `source` (a loopback address), `Connection: close`.
async fn request(
    server: SocketAddr,
    source: IpAddr,
    method: &str,
    target: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Answer {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(120), stream.read_to_end(&mut raw))
        .await
        .expect("an answer within 120 s")
        .expect("reads the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Sends all `logins` (source address, body) at once and returns their answers.
async fn burst(server: SocketAddr, logins: Vec<(IpAddr, String)>) -> Vec<Answer> {
    let tasks: Vec<_> = logins
        .into_iter()
        .map(|(source, body)| {
            tokio::spawn(async move {
                request(server, source, "POST", "/api/auth/login", None, Some(&body)).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn count(answers: &[Answer], status: u16) -> usize {
    answers.iter().filter(|a| a.status == status).count()
}

#[test]
fn two_hundred_parallel_logins_keep_the_limit_and_the_memory_bound() {
    let server = Server::start();
    let at_start = server.peak_rss();
    let rt = runtime();
    let block = [rand::random_range(10..250u8), rand::random_range(0..250u8)];

    // From one address: at most the 5 allowed passwords are checked; the rest get 429.
    let attacker = IpAddr::from([127, block[0], block[1], 1]);
    let wrong = server.login_body("wrong password");
    let answers = rt.block_on(burst(
        server.addr,
        (0..200).map(|_| (attacker, wrong.clone())).collect(),
    ));
    let (refused, limited) = (count(&answers, 401), count(&answers, 429));
    assert_eq!(refused + limited, 200, "{answers:?}");
    assert!(
        (1..=5).contains(&refused),
        "{refused} wrong passwords checked"
    );
    assert!(answers
        .iter()
        .filter(|a| a.status == 429)
        .all(|a| a.header("retry-after").is_some()));
    assert_eq!(server.checks_for(&[attacker]), refused);

    // From 200 addresses (no per-address limit applies): the global bound on password
    // checks answers the overflow with 503 instead of hashing it all at once.
    let clients: Vec<IpAddr> = (0..200u8)
        .map(|i| IpAddr::from([127, block[0], block[1].wrapping_add(1), i + 1]))
        .collect();
    let answers = rt.block_on(burst(
        server.addr,
        clients.iter().map(|c| (*c, wrong.clone())).collect(),
    ));
    let (refused, busy) = (count(&answers, 401), count(&answers, 503));
    assert_eq!(refused + busy, 200, "{answers:?}");
    assert_eq!(server.checks_for(&clients), refused);

    let peak = server.peak_rss();
    eprintln!(
        "peak RSS of rythm-backup serve: {:.1} MB at start, {:.1} MB after 2 x 200 parallel \
         logins ({refused} checked, {busy} answered 503 in the second burst)",
        at_start as f64 / 1e6,
        peak as f64 / 1e6
    );
    assert!(peak < MAX_RSS_BYTES, "peak RSS {peak} bytes");

    // The server still logs in a legitimate client afterwards.
    let ok = rt.block_on(request(
        server.addr,
        IpAddr::from([127, 0, 0, 1]),
        "POST",
        "/api/auth/login",
        None,
        Some(&server.login_body(&server.password)),
    ));
    assert_eq!(ok.status, 200, "{ok:?}");
}

#[test]
fn removed_admins_future_nbf_and_query_string_tokens_get_401() {
    let server = Server::start();
    let rt = runtime();
    let local = IpAddr::from([127, 0, 0, 1]);
    let get = |target: &str, token: Option<&str>| {
        rt.block_on(request(server.addr, local, "GET", target, token, None))
    };
    let login = rt.block_on(request(
        server.addr,
        local,
        "POST",
        "/api/auth/login",
        None,
        Some(&server.login_body(&server.password)),
    ));
    assert_eq!(login.status, 200, "{login:?}");
    let token = login.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(get("/api/backups", Some(&token)).status, 200);

    // A token in the query string: 401, even with a valid header beside it.
    for target in [
        format!("/api/backups?token={token}"),
        format!("/api/backups?access_token={token}"),
        format!("/api/health?jwt={token}"),
    ] {
        assert_eq!(get(&target, None).status, 401, "{target}");
        assert_eq!(get(&target, Some(&token)).status, 401, "{target}");
    }

    // A token with a future nbf, otherwise valid (this admin, this generation).
    let claims = {
        let payload = token.split('.').nth(1).unwrap();
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };
    let sign = |claims: &Value| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(server.secret.as_bytes()),
        )
        .unwrap()
    };
    let mut not_yet = claims.clone();
    not_yet["nbf"] = json!(claims["iat"].as_i64().unwrap() + 3600);
    assert_eq!(get("/api/backups", Some(&sign(&not_yet))).status, 401);
    let mut resigned = claims.clone();
    resigned["nbf"] = json!(claims["iat"].as_i64().unwrap() - 10);
    let resigned = sign(&resigned);
    assert_eq!(get("/api/backups", Some(&resigned)).status, 200);

    // `rythm-backup admin revoke`, then `admin remove`, in other processes: the running
    // server refuses the admin's earlier tokens at once.
    let first = token.clone();
    let revoked = server.cli.run(&["admin", "revoke", ADMIN, "--json"]);
    assert_eq!(revoked.json()["result"], "tokens revoked");
    assert_eq!(get("/api/backups", Some(&first)).status, 401);
    assert_eq!(get("/api/backups", Some(&resigned)).status, 401);
    let again = rt.block_on(request(
        server.addr,
        local,
        "POST",
        "/api/auth/login",
        None,
        Some(&server.login_body(&server.password)),
    ));
    assert_eq!(again.status, 200, "the password still works: {again:?}");
    let token = again.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(get("/api/backups", Some(&token)).status, 200);
    let removed = server.cli.run(&["admin", "remove", ADMIN]);
    assert_eq!(removed.code, Some(0), "{removed:?}");
    let answer = get("/api/backups", Some(&token));
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(answer.json()["error"], "Invalid or expired token");

    // Give the log a moment, then: requests were logged, tokens and queries never.
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log();
    assert!(log.contains("/api/backups"), "request lines are logged");
    for token in [&first, &token, &resigned] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!log.contains(signature), "a token was logged");
    }
    assert!(!log.contains("token="), "a query string was logged");
}

#[test]
fn half_a_request_head_then_silence_is_disconnected_within_the_header_timeout() {
    let server = Server::start();
    let mut stream = StdTcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-")
        .unwrap();
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 1024];
    let read = std::io::Read::read(&mut stream, &mut buf);
    let after = started.elapsed();
    assert!(
        matches!(read, Ok(0))
            || matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "expected the server to close the connection, got {read:?} after {after:?}"
    );
    // HTTP_HEADER_TIMEOUT=1.5, with room for a loaded machine.
    assert!(after >= Duration::from_millis(1400), "{after:?}");
    assert!(after < Duration::from_secs(6), "{after:?}");
}
