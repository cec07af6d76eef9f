//! What the notification tests send to: a real SMTP server (aiosmtpd, started from
//! `scripts/lib/smtp_server.py` with the Python that `scripts/test.sh` installs) requiring
//! STARTTLS and AUTH, and a small loopback HTTP server that records requests and answers
//! as told (a webhook, or Azure Communication Services checking each request's signature).

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::support::required_env;

/// aiosmtpd on a free port, with its own certificate, user and maildir.
pub struct SmtpServer {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub user: String,
    pub password: String,
    child: Child,
    _stdin: ChildStdin,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let python = required_env("RYTHM_TEST_SMTP_PYTHON");
        let script = required_env("RYTHM_TEST_SMTP_SERVER");
        let dir = tempfile::tempdir().unwrap();
        let user = "notifier".to_owned();
        let password = format!("smtp-pw-{}", crate::support::random_hex());
        let mut child = Command::new(python)
            .arg(script)
            .arg(dir.path())
            .arg(&user)
            .arg(&password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the SMTP server starts");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"));
        SmtpServer {
            port,
            dir,
            user,
            password,
            child,
            _stdin: stdin,
        }
    }

    /// The variables that point the CLI at this server (STARTTLS, AUTH, its CA).
    pub fn vars(&self, recipients: &str) -> Vec<(&'static str, String)> {
        vec![
            ("SMTP_HOST", "127.0.0.1".into()),
            ("SMTP_PORT", self.port.to_string()),
            ("SMTP_TLS", "starttls".into()),
            ("SMTP_USERNAME", self.user.clone()),
            ("SMTP_PASSWORD", self.password.clone()),
            ("SMTP_FROM", "rythm-backup@example.test".into()),
            (
                "SMTP_CA_FILE",
                self.dir.path().join("ca.pem").display().to_string(),
            ),
            ("NOTIFY_EMAIL_TO", recipients.into()),
            ("NOTIFY_RETRY_DELAY_MS", "100".into()),
        ]
    }

    /// Every message received, decoded enough to search (quoted-printable undone).
    pub fn messages(&self) -> Vec<Mail> {
        let mut mails = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail").join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let raw = std::fs::read_to_string(entry.path()).unwrap();
                mails.push(Mail::parse(&raw));
            }
        }
        mails
    }

    /// Waits until `n` messages arrived (and a moment more, to catch extra ones).
    pub fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.messages().len() < n {
            assert!(
                Instant::now() < deadline,
                "{} of {n} mails arrived",
                self.messages().len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(500));
        self.messages()
    }

    pub fn auth_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("auth.log")).unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received mail.
#[derive(Debug, Clone)]
pub struct Mail {
    pub headers: BTreeMap<String, String>,
    /// The whole message, quoted-printable soft breaks and escapes undone.
    pub text: String,
}

impl Mail {
    fn parse(raw: &str) -> Mail {
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        let mut last: Option<String> = None;
        for line in raw.lines() {
            if line.is_empty() {
                break;
            }
            // A folded header goes on after whitespace.
            if line.starts_with([' ', '\t']) {
                if let Some(value) = last.as_ref().and_then(|k| headers.get_mut(k)) {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                let key = k.trim().to_ascii_lowercase();
                last = (!headers.contains_key(&key)).then(|| key.clone());
                headers.entry(key).or_insert_with(|| v.trim().to_owned());
            }
        }
        Mail {
            headers,
            text: decode_qp(raw),
        }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

fn decode_qp(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request the HTTP receiver got.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// An answer: status, extra headers, body. `{port}` in a header value is replaced.
pub type Answer = (u16, Vec<(&'static str, String)>, String);

/// A loopback HTTP/1.1 server on its own thread: records every request and answers with
/// `answer(request)`.
pub struct HttpReceiver {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl HttpReceiver {
    pub fn start(answer: impl Fn(&Request) -> Answer + Send + 'static) -> HttpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(request) = read_request(&stream) {
                    let (status, headers, body) = answer(&request);
                    seen.lock().unwrap().push(request);
                    let mut head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                        body.len()
                    );
                    for (name, value) in headers {
                        head.push_str(&format!(
                            "{name}: {}\r\n",
                            value.replace("{port}", &port.to_string())
                        ));
                    }
                    head.push_str("\r\n");
                    let mut stream = stream;
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(body.as_bytes());
                }
            }
        });
        HttpReceiver { port, requests }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// An Azure Communication Services stand-in that checks every request's HMAC signature as
/// the service does (401 when it does not match), answers the first sends with the given
/// statuses, then 202 with an operation that reports `Succeeded`.
pub struct AcsService {
    pub http: HttpReceiver,
    pub key: Vec<u8>,
    pub bad_signatures: Arc<Mutex<Vec<String>>>,
}

impl AcsService {
    pub fn start(first_answers: Vec<u16>) -> AcsService {
        let key: Vec<u8> = (0..32).map(|i| (i * 7 + 3) as u8).collect();
        let bad = Arc::new(Mutex::new(Vec::new()));
        let scripted = Arc::new(Mutex::new(VecDeque::from(first_answers)));
        let (k, b) = (key.clone(), bad.clone());
        let http = HttpReceiver::start(move |request| {
            if let Err(why) = check_signature(request, &k) {
                b.lock().unwrap().push(why.clone());
                return (
                    401,
                    vec![],
                    format!("{{\"error\":{{\"message\":\"{why}\"}}}}"),
                );
            }
            if request.method == "GET" {
                return (200, vec![], r#"{"id":"op1","status":"Succeeded"}"#.into());
            }
            if let Some(status) = scripted.lock().unwrap().pop_front() {
                return (
                    status,
                    vec![("Retry-After", "1".into())],
                    "{\"error\":{\"message\":\"scripted\"}}".into(),
                );
            }
            (
                202,
                vec![(
                    "Operation-Location",
                    "http://127.0.0.1:{port}/emails/operations/op1?api-version=2023-03-31".into(),
                )],
                r#"{"id":"op1","status":"Running"}"#.into(),
            )
        });
        AcsService {
            http,
            key,
            bad_signatures: bad,
        }
    }

    pub fn connection_string(&self) -> String {
        format!(
            "endpoint=http://127.0.0.1:{}/;accesskey={}",
            self.http.port,
            base64::engine::general_purpose::STANDARD.encode(&self.key)
        )
    }
}

/// The service's check: the content hash, a fresh date, and the HMAC over
/// `METHOD\npath?query\ndate;host;hash` with the decoded key.
fn check_signature(request: &Request, key: &[u8]) -> Result<(), String> {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&request.body));
    if request.header("x-ms-content-sha256") != hash {
        return Err("content hash mismatch".into());
    }
    let date = request.header("x-ms-date");
    let parsed = httpdate_parse(date).ok_or("bad x-ms-date")?;
    if (time::OffsetDateTime::now_utc() - parsed).abs() > time::Duration::minutes(15) {
        return Err("x-ms-date too far off".into());
    }
    let to_sign = format!(
        "{}\n{}\n{date};{};{hash}",
        request.method,
        request.target,
        request.header("host")
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(to_sign.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let authorization = request.header("authorization");
    let wanted = format!(
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={expected}"
    );
    if authorization != wanted {
        return Err("signature mismatch".into());
    }
    Ok(())
}

fn httpdate_parse(text: &str) -> Option<time::OffsetDateTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text, &format)
        .ok()
        .map(|t| t.assume_utc())
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, computed here independently.
pub fn expected_webhook_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A file of the SMTP server, for debugging failures.
#[allow(dead_code)]
pub fn path_of(server: &SmtpServer, name: &str) -> PathBuf {
    server.dir.path().join(name)
}
