//! Login bursts: 200 parallel wrong logins from one address check at most the allowed
//! number of passwords (the others get 429 with Retry-After at once), and 200 parallel
//! logins from 200 addresses never run more password checks than the server's bound (the
//! overflow gets 503 with Retry-After). Checks are counted from the server's log, one
//! `password checked` line each; each client uses its own 127.x.y.z source address, which
//! loopback routes like 127.0.0.1, so the counts of parallel tests stay apart.

use std::collections::BTreeMap;
use std::net::IpAddr;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{captured_logs, Options, TestServer};

/// A loopback address no other test uses: 127.<random>.<random>.<n>.
fn loopback_block() -> [u8; 2] {
    [rand::random_range(10..250u8), rand::random_range(0..250u8)]
}

fn client_from(address: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(address)
        .build()
        .unwrap()
}

/// How many passwords the server checked for each of `addresses`, from its log.
fn checks_by_address(addresses: &[IpAddr]) -> BTreeMap<IpAddr, usize> {
    let mut counts: BTreeMap<IpAddr, usize> = addresses.iter().map(|a| (*a, 0)).collect();
    for line in captured_logs()
        .lines()
        .filter(|l| l.contains("password checked"))
    {
        let client = line
            .split_whitespace()
            .find_map(|word| word.strip_prefix("client="))
            .and_then(|ip| ip.parse::<IpAddr>().ok());
        if let Some(count) = client.and_then(|ip| counts.get_mut(&ip)) {
            *count += 1;
        }
    }
    counts
}

/// Sends every login at once (one task each) and returns (status, Retry-After) per answer.
async fn burst(
    logins: Vec<(reqwest::Client, serde_json::Value)>,
    url: String,
) -> Vec<(StatusCode, Option<u64>)> {
    let tasks: Vec<_> = logins
        .into_iter()
        .map(|(client, body)| {
            let url = url.clone();
            tokio::spawn(async move {
                let response = client.post(url).json(&body).send().await.unwrap();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                (response.status(), retry_after)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_parallel_logins_from_one_address_check_at_most_the_limit() {
    let server = TestServer::start().await;
    let [b, c] = loopback_block();
    let address = IpAddr::from([127, b, c, 1]);
    let client = client_from(address);
    let wrong = json!({"email": server.admin_email, "password": "wrong password"});
    let answers = burst(
        (0..200).map(|_| (client.clone(), wrong.clone())).collect(),
        server.url("/api/auth/login"),
    )
    .await;

    let allowed = server.config.login_limit.max_failures as usize;
    let refused = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    let limited: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(refused + limited.len(), 200, "{answers:?}");
    assert!(
        (1..=allowed).contains(&refused),
        "{refused} wrong passwords were checked"
    );
    assert!(limited.iter().all(|(_, wait)| wait.is_some_and(|w| w >= 1)));
    let checks = checks_by_address(&[address])[&address];
    assert_eq!(
        checks, refused,
        "one password check per 401, none for the 429s"
    );
    assert!(checks <= allowed);

    // The right password waits too; another address is not affected.
    let right = json!({"email": server.admin_email, "password": server.admin_password});
    let response = client
        .post(server.url("/api/auth/login"))
        .json(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = client_from(IpAddr::from([127, b, c, 2]));
    let response = other
        .post(server.url("/api/auth/login"))
        .json(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_parallel_logins_from_many_addresses_stay_within_the_global_bound() {
    let server = TestServer::start_with(Options {
        backend: crate::support::Backend::Local,
        configure: |config| {
            config.password_checks.workers = 1;
            config.password_checks.queue = 2;
        },
        ..Options::default()
    })
    .await;
    let [b, _] = loopback_block();
    let addresses: Vec<IpAddr> = (0..200u32)
        .map(|i| IpAddr::from([127, b, (i / 250) as u8 + 1, (i % 250) as u8 + 1]))
        .collect();
    // Half know the right password: a busy server must not let them in unchecked either.
    let logins = addresses
        .iter()
        .enumerate()
        .map(|(i, address)| {
            let password = if i % 2 == 0 {
                server.admin_password.clone()
            } else {
                "wrong password".to_owned()
            };
            let body = json!({"email": server.admin_email, "password": password});
            (client_from(*address), body)
        })
        .collect();
    let answers = burst(logins, server.url("/api/auth/login")).await;

    let count = |status| answers.iter().filter(|(s, _)| *s == status).count();
    let (ok, refused) = (count(StatusCode::OK), count(StatusCode::UNAUTHORIZED));
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(ok + refused + busy.len(), 200, "{answers:?}");
    assert!(
        !busy.is_empty(),
        "200 logins at once overflowed 1 worker and 2 places"
    );
    assert!(busy.iter().all(|(_, wait)| *wait == Some(1)));
    let checks: usize = checks_by_address(&addresses).values().sum();
    assert_eq!(
        checks,
        ok + refused,
        "a check for every 200 and 401, none for a 503"
    );

    // Once the burst is over, the places are free again.
    let response = client_from(IpAddr::from([127, b, 250, 250]))
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": server.admin_email, "password": server.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
