//! Failed-login limiting per client address: after `max_failures` failures within `window`,
//! logins from that address get 429 with `Retry-After` until the oldest failure ages out.
//! A successful login clears the address's record. Memory is bounded.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::LoginLimit;

/// Addresses remembered at most; past this, addresses with no recent failure are forgotten
/// first, then the map is cleared (an attacker with that many addresses gains little).
const MAX_TRACKED: usize = 10_000;

#[derive(Debug)]
pub struct LoginLimiter {
    limit: LoginLimit,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(limit: LoginLimit) -> Self {
        LoginLimiter {
            limit,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when `client` must wait before trying again.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        self.check_at(client, Instant::now())
    }

    pub fn failed(&self, client: IpAddr) {
        self.failed_at(client, Instant::now());
    }

    pub fn succeeded(&self, client: IpAddr) {
        self.lock().remove(&client);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut map = self.lock();
        let Some(times) = map.get_mut(&client) else {
            return Ok(());
        };
        expire(times, now, self.limit.window);
        if times.len() < self.limit.max_failures as usize {
            return Ok(());
        }
        let oldest = *times.front().expect("at least max_failures entries");
        Err(self.limit.window.saturating_sub(now.duration_since(oldest)))
    }

    fn failed_at(&self, client: IpAddr, now: Instant) {
        let mut map = self.lock();
        if map.len() >= MAX_TRACKED && !map.contains_key(&client) {
            let window = self.limit.window;
            map.retain(|_, times| {
                expire(times, now, window);
                !times.is_empty()
            });
            if map.len() >= MAX_TRACKED {
                map.clear();
            }
        }
        let times = map.entry(client).or_default();
        expire(times, now, self.limit.window);
        times.push_back(now);
        while times.len() > self.limit.max_failures as usize {
            times.pop_front();
        }
    }
}

fn expire(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_and_unlocks_after_the_window() {
        let limiter = LoginLimiter::new(LoginLimit {
            max_failures: 3,
            window: Duration::from_secs(60),
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(limiter.check_at(ip, t0).is_ok());
            limiter.failed_at(ip, t0 + Duration::from_secs(i));
        }
        let wait = limiter
            .check_at(ip, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(limiter.check_at(other, t0).is_ok());
        assert!(limiter.check_at(ip, t0 + Duration::from_secs(61)).is_ok());
        limiter.failed_at(ip, t0 + Duration::from_secs(62));
        limiter.succeeded(ip);
        assert!(limiter.check_at(ip, t0 + Duration::from_secs(62)).is_ok());
    }
}
