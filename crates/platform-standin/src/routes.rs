//! The platform's routes and what each answers: sign-in, the auth middleware's refusals,
//! create (with its 30-day retention), the `.sql`-only list, download, restore (no
//! confirmation, no safety backup), delete, and the schedule's validation as the platform
//! does it (`HH:MM:SS` only, `retention_days` 0 taken as absent).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::http::{Reply, Request};
use crate::platform;
use crate::{
    iso, token, PeerState, StoredBackup, ADMIN_EMAIL, ADMIN_PASSWORD, DATABASE_NAME,
    RETENTION_DAYS, SECRET, USER_EMAIL, USER_PASSWORD,
};

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

/// What the Azure SDK's error says for a blob that is not there; the platform passes it on.
fn blob_not_found() -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "The specified blob does not exist.\nRequestId:{:08x}-001e-0043-2f4e-3a1c4b000000\nTime:{}",
        now.nanosecond(),
        now.format(&Rfc3339).unwrap_or_default()
    )
}

pub(crate) fn route(state: &Arc<Mutex<PeerState>>, request: &Request) -> Reply {
    let (method, path) = (request.method.as_str(), request.path.as_str());
    if (method, path) == ("POST", "/api/auth/login") {
        return login(&request.body);
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segments.len() < 2 || segments[..2] != ["api", "backups"] {
        return reply(404, json!({"error": "Not found"}));
    }
    if let Err(refusal) = authenticate(&request.headers) {
        return refusal;
    }
    if let ("POST", [name, "restore"]) = (method, &segments[2..]) {
        return restore(state, name);
    }
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    match (method, &segments[2..]) {
        ("GET", ["schedule", "config"]) => reply(200, json!({"success": true, "data": s.schedule})),
        ("PUT", ["schedule", "config"]) => put_schedule(&mut s, &request.body),
        ("POST", []) => create(&mut s),
        ("GET", []) => list(&s),
        ("GET", [name, "download"]) => with_backup(
            &mut s,
            name,
            "Failed to download backup",
            download_reply(&request.headers),
        ),
        ("DELETE", [name]) => with_backup(&mut s, name, &blob_not_found(), |s, name| {
            s.backups.remove(name);
            reply(
                200,
                json!({"success": true, "message": "Backup deleted successfully", "filename": name}),
            )
        }),
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

/// The platform's restore: no confirmation is read, no safety backup is taken, and with a
/// database attached the file goes through `psql < file` without `ON_ERROR_STOP`, whose
/// errors do not make it fail.
fn restore(state: &Arc<Mutex<PeerState>>, name: &str) -> Reply {
    let (bytes, database) = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        let mut found = None;
        let refused = with_backup(&mut s, name, &blob_not_found(), |s, name| {
            found = Some(s.backups[name].bytes.clone());
            reply(200, Value::Null)
        });
        let Some(bytes) = found else {
            return refused;
        };
        if let Some(error) = s.restore_failure.clone() {
            return failure(500, &error);
        }
        (bytes, s.database.clone())
    };
    if let Some(database) = database {
        let password = database.password.as_deref();
        match platform::psql_from_stdin(&database.psql, &database.url, password, &bytes) {
            Ok(run) => state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .restores
                .push(run),
            Err(e) => return failure(500, &format!("Failed to restore backup: {e}")),
        }
    }
    reply(
        200,
        json!({"success": true, "message": format!("Database restored successfully from {name}"),
            "filename": name, "safetyBackup": null}),
    )
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

/// A backup, then the platform's retention: blobs older than 30 days go.
fn create(s: &mut PeerState) -> Reply {
    let now = OffsetDateTime::now_utc();
    let timestamp = iso(now);
    let filename = crate::backup_name(now);
    let bytes = b"-- PostgreSQL database dump\nSELECT 1;\n".to_vec();
    let size = bytes.len();
    s.backups
        .insert(filename.clone(), StoredBackup::new(bytes, now, "manual"));
    let cutoff = now - time::Duration::days(RETENTION_DAYS);
    s.backups.retain(|_, b| {
        OffsetDateTime::parse(&b.created_at, &Rfc3339).map_or(true, |t| t >= cutoff)
    });
    reply(
        201,
        json!({"success": true, "message": "Backup created successfully",
        "data": {"filename": filename, "timestamp": timestamp, "size": size,
                 "databaseName": DATABASE_NAME, "status": "completed"}}),
    )
}

fn list(s: &PeerState) -> Reply {
    let data: Vec<Value> = s
        .backups
        .iter()
        .filter(|(name, _)| platform::lists(name))
        .map(|(name, b)| {
            let mut entry = json!({"name": name, "size": b.bytes.len(), "createdAt": b.created_at,
                "url": format!("/api/backups/{name}/download"), "type": b.kind, "status": b.status,
                "duration_seconds": 1.5, "initiated_by": b.initiated_by});
            if s.ours {
                let sha = if s.wrong_sha256 {
                    "0".repeat(64)
                } else {
                    hex::encode(Sha256::digest(&b.bytes))
                };
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

/// `HH:MM:SS` with a real hour, minute and second, as the platform's check.
fn is_hh_mm_ss(time: &str) -> bool {
    let parts: Vec<&str> = time.split(':').collect();
    let two_digits = |p: &&str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() != 3 || !parts.iter().all(two_digits) {
        return false;
    }
    let n = |i: usize| parts[i].parse::<u32>().unwrap_or(99);
    n(0) < 24 && n(1) < 60 && n(2) < 60
}

fn put_schedule(s: &mut PeerState, body: &Value) -> Reply {
    let Some(enabled) = body.get("enabled").and_then(Value::as_bool) else {
        return failure(400, "enabled is required and must be a boolean");
    };
    let time = body.get("schedule_time").filter(|v| !v.is_null());
    if let Some(time) = time {
        if !time.as_str().is_some_and(is_hh_mm_ss) {
            return failure(400, "schedule_time must be in HH:MM:SS format");
        }
    }
    // `if (retention_days)`: JavaScript takes 0 for "not given".
    let days = body
        .get("retention_days")
        .filter(|v| !v.is_null() && v.as_f64() != Some(0.0));
    if let Some(days) = days {
        match days.as_u64() {
            Some(d) if (1..=90).contains(&d) => s.schedule["retention_days"] = json!(d),
            _ => return failure(400, "retention_days must be between 1 and 90"),
        }
    }
    if let Some(time) = time {
        s.schedule["schedule_time"] = time.clone();
    }
    s.schedule["enabled"] = json!(enabled);
    s.schedule["updated_at"] = json!(iso(OffsetDateTime::now_utc()));
    reply(
        200,
        json!({"success": true, "message": "Backup schedule updated", "data": s.schedule}),
    )
}

#[cfg(test)]
mod tests {
    use super::is_hh_mm_ss;

    #[test]
    fn schedule_times_are_hh_mm_ss_only() {
        for ok in ["00:00:00", "03:15:00", "23:59:59"] {
            assert!(is_hh_mm_ss(ok), "{ok}");
        }
        for bad in [
            "03:15", "3:15:00", "25:00:00", "12:60:00", "12:00:60", "", "aa:bb:cc",
        ] {
            assert!(!is_hh_mm_ss(bad), "{bad}");
        }
    }
}
