//! Request bodies over the limit (64 KiB): refused with 413, announced or chunked, before
//! anything runs.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::TestServer;

const TEN_MB: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
enum Body {
    /// `Content-Length: n` and n bytes.
    Announced(usize),
    /// `Transfer-Encoding: chunked`, n bytes in 64 KiB chunks.
    Chunked(usize),
}

/// Sends the head of a request, then writes the body in a task while the answer is read (a
/// server that refuses early may close before reading it all, which a client library would
/// report as a broken pipe instead of the answer).
async fn send_big(
    server: &TestServer,
    method: &str,
    path: &str,
    token: &str,
    body: Body,
) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let (framing, len, chunked) = match body {
        Body::Announced(n) => (format!("Content-Length: {n}"), n, false),
        Body::Chunked(n) => ("Transfer-Encoding: chunked".to_owned(), n, true),
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\n{framing}\r\n\r\n",
        server.addr
    );
    let writing = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < len {
            let n = chunk.len().min(len - sent);
            if chunked {
                writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
            }
            writer.write_all(&chunk[..n]).await?;
            if chunked {
                writer.write_all(b"\r\n").await?;
            }
            sent += n;
        }
        if chunked {
            writer.write_all(b"0\r\n\r\n").await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the head and the JSON body are in (the server may keep reading or close).
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head.lines().find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                });
                if length.is_some_and(|n| body.len() >= n) {
                    break;
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 30 s");
    writing.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_megabyte_bodies_are_refused_with_413() {
    let server = TestServer::start().await;
    let token = server.token().await;
    for (method, path) in [
        ("POST", "/api/auth/login"),
        ("POST", "/api/backups"),
        ("PUT", "/api/backups/schedule/config"),
        (
            "POST",
            "/api/backups/rythm-backup-2026-01-01T00-00-00-000Z.sql/restore",
        ),
    ] {
        let (status, body) = send_big(&server, method, path, &token, Body::Announced(TEN_MB)).await;
        assert_eq!(status, 413, "{method} {path}: {body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], "payload_too_large");
    }
    // Just over the limit counts too; nothing ran.
    let (status, _) = send_big(
        &server,
        "POST",
        "/api/backups",
        &token,
        Body::Announced(64 * 1024 + 1),
    )
    .await;
    assert_eq!(status, 413);
    assert!(
        server.stored_names().await.is_empty(),
        "no backup was taken"
    );
    assert!(!server.config.schedule_file.exists());

    // A chunked body (no Content-Length) is cut off at the limit as it is read.
    let (status, body) = send_big(
        &server,
        "POST",
        "/api/auth/login",
        &token,
        Body::Chunked(TEN_MB),
    )
    .await;
    assert_eq!(status, 413, "{body}");
}
