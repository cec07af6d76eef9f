//! A recorded copy of the RYTHM platform's backup API (DESIGN.md, "The RYTHM platform's real
//! API"): the same routes, status codes, body shapes and error texts, on a loopback port. It
//! signs real HS256 tokens. With `ours` set it behaves as our server where the two differ
//! (Range support, sha256 in the list, 404 for a missing backup).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const SECRET: &[u8] = b"peer-test-secret-of-at-least-32-bytes";
pub const ADMIN_EMAIL: &str = "admin@rythm.test";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
pub const USER_EMAIL: &str = "user@rythm.test";
pub const USER_PASSWORD: &str = "user password";

/// A token as the peer signs them; `exp` is `expires_in` seconds from now.
pub fn token(secret: &[u8], role: &str, email: &str, expires_in: i64) -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"userId": 7, "tenantId": null, "role": role, "email": email,
        "iat": now, "exp": now + expires_in});
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign a test token")
}

pub struct StoredBackup {
    pub bytes: Vec<u8>,
    pub created_at: String,
    pub kind: &'static str,
    pub initiated_by: &'static str,
}

/// One request as the peer saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    pub body: Value,
}

#[derive(Default)]
pub struct PeerState {
    pub backups: BTreeMap<String, StoredBackup>,
    pub schedule: Value,
    pub seen: Vec<Seen>,
    /// Behave as our server: Range, sha256 in the list, 404 for a missing backup.
    pub ours: bool,
    /// Our server's list: this sha256 instead of the real one.
    pub wrong_sha256: bool,
    /// Answer the restore of an existing backup with this 500 error text.
    pub restore_failure: Option<String>,
    /// Cut the next download's body after this many bytes.
    pub cut_next_download_after: Option<usize>,
}

pub struct Peer {
    pub url: String,
    pub state: Arc<Mutex<PeerState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Peer {
    pub async fn start() -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let mut state = PeerState {
            schedule: json!({"schedule_id": 1, "enabled": true, "schedule_time": "02:00:00",
                "retention_days": 10, "last_run_at": "2026-01-16T02:00:00.000Z",
                "next_run_at": "2026-01-17T02:00:00.000Z", "created_at": "2025-12-01T00:00:00.000Z",
                "updated_at": "2025-12-01T00:00:00.000Z"}),
            ..PeerState::default()
        };
        for (i, (name, created_at, kind, by)) in [
            (
                "rythm-backup-2026-01-15T10-30-00-851Z.sql",
                "2026-01-15T10:30:00.851Z",
                "manual",
                ADMIN_EMAIL,
            ),
            (
                "rythm-backup-2026-01-16T02-00-00-000Z.sql",
                "2026-01-16T02:00:00.000Z",
                "scheduled",
                "system",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let bytes = crate::support::test_bytes(300_000 + i * 1000, i as u64 + 1);
            state.backups.insert(
                name.into(),
                StoredBackup {
                    bytes,
                    created_at: created_at.into(),
                    kind,
                    initiated_by: by,
                },
            );
        }
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, state).await;
                });
            }
        });
        Peer {
            url: format!("http://{addr}"),
            state,
            task,
        }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut PeerState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Requests to the backup routes so far (login excluded).
    pub fn backup_requests(&self) -> Vec<Seen> {
        self.with(|s| {
            s.seen
                .iter()
                .filter(|r| r.path.starts_with("/api/backups"))
                .cloned()
                .collect()
        })
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    cut_after: Option<usize>,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type", "application/json; charset=utf-8".into())],
        body: body.to_string().into_bytes(),
        cut_after: None,
    }
}

fn failure(status: u16, error: &str) -> Reply {
    reply(status, json!({"success": false, "error": error}))
}

async fn serve(mut socket: TcpStream, state: Arc<Mutex<PeerState>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let mut chunk = [0u8; 8192];
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 8192];
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = {
        let mut state = state.lock().unwrap();
        state.seen.push(Seen {
            method: method.clone(),
            path: path.clone(),
            range: headers.get("range").cloned(),
            body: body.clone(),
        });
        route(&mut state, &method, &path, &headers, &body)
    };
    let mut out = format!("HTTP/1.1 {} Peer\r\n", answer.status);
    for (name, value) in &answer.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        answer.body.len()
    ));
    socket.write_all(out.as_bytes()).await?;
    let sent = answer
        .cut_after
        .unwrap_or(answer.body.len())
        .min(answer.body.len());
    socket.write_all(&answer.body[..sent]).await?;
    socket.flush().await?;
    socket.shutdown().await
}

fn route(
    s: &mut PeerState,
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: &Value,
) -> Reply {
    if (method, path) == ("POST", "/api/auth/login") {
        return login(body);
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segments.len() < 2 || segments[..2] != ["api", "backups"] {
        return reply(404, json!({"error": "Not found"}));
    }
    if let Err(refusal) = authenticate(headers) {
        return refusal;
    }
    match (method, &segments[2..]) {
        ("GET", ["schedule", "config"]) => reply(200, json!({"success": true, "data": s.schedule})),
        ("PUT", ["schedule", "config"]) => put_schedule(s, body),
        ("POST", []) => create(s),
        ("GET", []) => list(s),
        ("GET", [name, "download"]) => with_backup(
            s,
            name,
            "Failed to download backup",
            download_reply(headers),
        ),
        ("POST", [name, "restore"]) => {
            if let Some(error) = s
                .restore_failure
                .clone()
                .filter(|_| s.backups.contains_key(*name))
            {
                return failure(500, &error);
            }
            with_backup(s, name, "Failed to restore backup", |_, name| {
                reply(
                    200,
                    json!({"success": true,
                    "message": format!("Database restored successfully from {name}"), "filename": name}),
                )
            })
        }
        ("DELETE", [name]) => {
            with_backup(s, name, "The specified blob does not exist.", |s, name| {
                s.backups.remove(name);
                reply(
                    200,
                    json!({"success": true, "message": "Backup deleted successfully", "filename": name}),
                )
            })
        }
        _ => reply(404, json!({"error": "Not found"})),
    }
}

fn login(body: &Value) -> Reply {
    let field = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let (Some(email), Some(password)) = (field("email"), field("password")) else {
        return reply(400, json!({"error": "Missing required fields"}));
    };
    let role = match (email, password) {
        (ADMIN_EMAIL, ADMIN_PASSWORD) => "system_admin",
        (USER_EMAIL, USER_PASSWORD) => "tenant_admin",
        _ => return reply(401, json!({"error": "Invalid credentials"})),
    };
    reply(
        200,
        json!({"token": token(SECRET, role, email, 7 * 24 * 3600),
        "user": {"id": 7, "email": email, "role": role, "firstName": "Ada", "lastName": "Admin",
                 "tenantId": null}}),
    )
}

fn authenticate(headers: &HashMap<String, String>) -> Result<(), Reply> {
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Err(reply(401, json!({"error": "Access token required"})));
    };
    let key = DecodingKey::from_secret(SECRET);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &Validation::new(Algorithm::HS256))
        .map_err(|_| reply(403, json!({"error": "Invalid or expired token"})))?
        .claims;
    if claims["role"] != "system_admin" {
        return Err(reply(403, json!({"error": "Admin access required"})));
    }
    Ok(())
}

fn with_backup(
    s: &mut PeerState,
    name: &str,
    missing: &str,
    then: impl FnOnce(&mut PeerState, &str) -> Reply,
) -> Reply {
    if !name.ends_with(".sql") {
        return failure(400, "Invalid backup filename");
    }
    if !s.backups.contains_key(name) {
        return if s.ours {
            failure(404, &format!("backup {name} does not exist"))
        } else {
            failure(500, missing)
        };
    }
    then(s, name)
}

fn download_reply(
    headers: &HashMap<String, String>,
) -> impl FnOnce(&mut PeerState, &str) -> Reply + '_ {
    move |s, name| {
        let bytes = s.backups[name].bytes.clone();
        let mut answer = Reply {
            status: 200,
            headers: vec![
                ("Content-Type", "application/octet-stream".into()),
                (
                    "Content-Disposition",
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            body: bytes.clone(),
            cut_after: s.cut_next_download_after.take(),
        };
        let start = headers
            .get("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|r| r.parse::<usize>().ok());
        if let (true, Some(start)) = (s.ours, start) {
            if start >= bytes.len() {
                return failure(416, "range not satisfiable");
            }
            answer.status = 206;
            answer.headers.push((
                "Content-Range",
                format!("bytes {start}-{}/{}", bytes.len() - 1, bytes.len()),
            ));
            answer.body = bytes[start..].to_vec();
        }
        answer
    }
}

fn create(s: &mut PeerState) -> Reply {
    let timestamp = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    // JavaScript's toISOString(): milliseconds and a Z.
    let timestamp = format!("{}Z", &timestamp[..23]);
    let filename = format!("rythm-backup-{}.sql", timestamp.replace([':', '.'], "-"));
    let bytes = b"-- PostgreSQL database dump\nSELECT 1;\n".to_vec();
    let size = bytes.len();
    s.backups.insert(
        filename.clone(),
        StoredBackup {
            bytes,
            created_at: timestamp.clone(),
            kind: "manual",
            initiated_by: ADMIN_EMAIL,
        },
    );
    reply(
        201,
        json!({"success": true, "message": "Backup created successfully",
        "data": {"filename": filename, "timestamp": timestamp, "size": size,
                 "databaseName": "rythm", "status": "completed"}}),
    )
}

fn list(s: &PeerState) -> Reply {
    let data: Vec<Value> = s
        .backups
        .iter()
        .map(|(name, b)| {
            let mut entry = json!({"name": name, "size": b.bytes.len(), "createdAt": b.created_at,
                "url": format!("/api/backups/{name}/download"), "type": b.kind, "status": "completed",
                "duration_seconds": 1.5, "initiated_by": b.initiated_by});
            if s.ours {
                let sha = if s.wrong_sha256 { "0".repeat(64) } else { hex::encode(Sha256::digest(&b.bytes)) };
                entry["sha256"] = json!(sha);
            }
            entry
        })
        .collect();
    reply(
        200,
        json!({"success": true, "count": data.len(), "data": data}),
    )
}

fn put_schedule(s: &mut PeerState, body: &Value) -> Reply {
    let Some(enabled) = body.get("enabled").and_then(Value::as_bool) else {
        return failure(400, "enabled is required and must be a boolean");
    };
    if let Some(days) = body.get("retention_days").filter(|v| !v.is_null()) {
        match days.as_u64() {
            Some(d) if (1..=90).contains(&d) => s.schedule["retention_days"] = json!(d),
            _ => return failure(400, "retention_days must be between 1 and 90"),
        }
    }
    if let Some(time) = body.get("schedule_time").and_then(Value::as_str) {
        s.schedule["schedule_time"] = json!(time);
    }
    s.schedule["enabled"] = json!(enabled);
    reply(
        200,
        json!({"success": true, "message": "Backup schedule updated", "data": s.schedule}),
    )
}
