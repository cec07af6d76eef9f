//! Downloads: the whole backup with its headers and checksum, single ranges (206, 416),
//! If-Range, on both stores; and ten parallel downloads that all verify.

use reqwest::StatusCode;

use crate::support::{sha256_hex, Backend, Options, TestServer};

async fn check_downloads(backend: Backend) {
    let server = TestServer::start_with(Options {
        backend,
        ..Options::default()
    })
    .await;
    server.db.fill(2000);
    let token = server.token().await;
    let created = server.create_backup(&token).await;
    let name = created["name"].as_str().unwrap().to_owned();
    let listed = server.list(&token).await;
    let expected_sha = listed[0]["sha256"].as_str().unwrap().to_owned();
    let size = listed[0]["size"].as_u64().unwrap();
    assert!(size > 100, "{size}");
    let url = server.url(&format!("/api/backups/{name}/download"));

    let response = server
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-length"], size.to_string().as_str());
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"{name}\"").as_str()
    );
    assert_eq!(headers["accept-ranges"], "bytes");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let full = response.bytes().await.unwrap();
    assert_eq!(full.len() as u64, size);
    assert_eq!(sha256_hex(&full), expected_sha);

    // HEAD: the same headers, no body.
    let response = server
        .http
        .head(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-length"],
        size.to_string().as_str()
    );
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert!(response.bytes().await.unwrap().is_empty());

    let ranged = |range: String| {
        let request = server
            .http
            .get(&url)
            .bearer_auth(&token)
            .header("range", range);
        async move { request.send().await.unwrap() }
    };
    for (range, start, end) in [
        ("bytes=0-9".to_owned(), 0, 9),
        ("bytes=10-".to_owned(), 10, size - 1),
        ("bytes=-7".to_owned(), size - 7, size - 1),
        (format!("bytes=5-{}", size + 100), 5, size - 1),
        (
            format!("bytes={}-{}", size - 1, size - 1),
            size - 1,
            size - 1,
        ),
    ] {
        let response = ranged(range.clone()).await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            response.headers()["content-range"],
            format!("bytes {start}-{end}/{size}").as_str(),
            "{range}"
        );
        assert_eq!(
            response.headers()["content-length"],
            (end - start + 1).to_string().as_str()
        );
        let body = response.bytes().await.unwrap();
        assert_eq!(&body[..], &full[start as usize..=end as usize], "{range}");
    }

    for range in [
        format!("bytes={size}-"),
        format!("bytes={}-{}", size + 5, size + 10),
        "bytes=-0".into(),
    ] {
        let response = ranged(range.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::RANGE_NOT_SATISFIABLE,
            "{range}"
        );
        assert_eq!(
            response.headers()["content-range"],
            format!("bytes */{size}").as_str()
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["success"], false);
    }

    // If-Range: the current ETag keeps the range; another one gets the whole backup.
    let response = server
        .http
        .get(&url)
        .bearer_auth(&token)
        .header("range", "bytes=0-3")
        .header("if-range", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    let response = server
        .http
        .get(&url)
        .bearer_auth(&token)
        .header("range", "bytes=0-3")
        .header("if-range", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(sha256_hex(&response.bytes().await.unwrap()), expected_sha);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_with_ranges_from_azure() {
    check_downloads(Backend::Azure).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_with_ranges_from_a_local_folder() {
    check_downloads(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_parallel_downloads_all_verify() {
    let server = TestServer::start().await;
    server.db.fill_big(4);
    let token = server.token().await;
    let name = server.create_backup(&token).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected = server.list(&token).await[0]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = server.url(&format!("/api/backups/{name}/download"));
    let downloads = (0..10).map(|_| {
        let request = server.http.get(&url).bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            sha256_hex(&response.bytes().await.unwrap())
        }
    });
    for sha in futures::future::join_all(downloads).await {
        assert_eq!(sha, expected);
    }
}
