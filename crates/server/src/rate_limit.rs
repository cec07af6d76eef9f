//! Failed-login limiting per client address, race-free: an attempt takes its place in the
//! address's count (a reservation, under the lock) *before* its password is checked, so
//! however many requests arrive at once, at most `max_failures` passwords are checked per
//! address per `window`; the others get 429 with `Retry-After` without any hashing. A
//! failed check turns its reservation into a failure, a successful one clears the address's
//! failures, and a check that never happened gives its place back. Memory is bounded.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::LoginLimit;

/// Addresses remembered at most; past this, addresses with neither a recent failure nor an
/// attempt in progress are forgotten first, then those without an attempt in progress (an
/// attacker with that many addresses gains little).
const MAX_TRACKED: usize = 10_000;

/// How long a client is told to wait when the address's places are taken by attempts still
/// being checked (they end within a second or two).
const IN_PROGRESS_RETRY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Record {
    /// When each failure within the window happened, oldest first.
    failures: VecDeque<Instant>,
    /// Attempts holding a place while their password is being checked.
    in_progress: u32,
}

type Records = HashMap<IpAddr, Record>;

#[derive(Debug, Clone)]
pub struct LoginLimiter {
    limit: LoginLimit,
    records: Arc<Mutex<Records>>,
}

/// A place in an address's count, held while its password is checked. Resolve it with
/// `failed`, `succeeded` or `not_checked`; dropped unresolved (the request was abandoned
/// mid-check) it counts as a failure, so hanging up cannot be used to try for free.
#[derive(Debug)]
pub struct Attempt {
    limiter: LoginLimiter,
    client: IpAddr,
    resolved: bool,
}

impl LoginLimiter {
    pub fn new(limit: LoginLimit) -> Self {
        LoginLimiter {
            limit,
            records: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A place for one password check from `client`, or `Err(wait)` when the address has
    /// used up its failures (or its remaining places are taken by attempts in progress).
    pub fn reserve(&self, client: IpAddr) -> Result<Attempt, Duration> {
        self.reserve_at(client, Instant::now())
    }

    fn lock(&self) -> MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reserve_at(&self, client: IpAddr, now: Instant) -> Result<Attempt, Duration> {
        let window = self.limit.window;
        let max = self.limit.max_failures as usize;
        let mut records = self.lock();
        if records.len() >= MAX_TRACKED && !records.contains_key(&client) {
            make_room(&mut records, now, window);
        }
        let record = records.entry(client).or_default();
        expire(&mut record.failures, now, window);
        if record.failures.len() + record.in_progress as usize >= max {
            let wait = if record.failures.len() >= max {
                // The oldest failure that must age out before a place is free again.
                let oldest = record.failures[record.failures.len() - max];
                window.saturating_sub(now.duration_since(oldest))
            } else {
                IN_PROGRESS_RETRY
            };
            return Err(wait.max(Duration::from_secs(1)));
        }
        record.in_progress += 1;
        Ok(Attempt {
            limiter: self.clone(),
            client,
            resolved: false,
        })
    }

    fn resolve(&self, client: IpAddr, outcome: Outcome, now: Instant) {
        let mut records = self.lock();
        let Some(record) = records.get_mut(&client) else {
            // Forgotten under memory pressure meanwhile: nothing left to update.
            return;
        };
        record.in_progress = record.in_progress.saturating_sub(1);
        match outcome {
            Outcome::Failed => {
                expire(&mut record.failures, now, self.limit.window);
                record.failures.push_back(now);
                while record.failures.len() > self.limit.max_failures as usize {
                    record.failures.pop_front();
                }
            }
            Outcome::Succeeded => record.failures.clear(),
            Outcome::NotChecked => {}
        }
        if record.failures.is_empty() && record.in_progress == 0 {
            records.remove(&client);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Failed,
    Succeeded,
    NotChecked,
}

impl Attempt {
    /// The password was wrong (or the email unknown): the place becomes a failure.
    pub fn failed(mut self) {
        self.finish(Outcome::Failed);
    }

    /// The password was right: the address's failures are forgotten.
    pub fn succeeded(mut self) {
        self.finish(Outcome::Succeeded);
    }

    /// No password was checked (the server was too busy, or could not read its admin
    /// file): the place is given back.
    pub fn not_checked(mut self) {
        self.finish(Outcome::NotChecked);
    }

    fn finish(&mut self, outcome: Outcome) {
        self.finish_at(outcome, Instant::now());
    }

    fn finish_at(&mut self, outcome: Outcome, now: Instant) {
        if !self.resolved {
            self.resolved = true;
            self.limiter.resolve(self.client, outcome, now);
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.finish(Outcome::Failed);
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

fn make_room(records: &mut Records, now: Instant, window: Duration) {
    records.retain(|_, record| {
        expire(&mut record.failures, now, window);
        !record.failures.is_empty() || record.in_progress > 0
    });
    if records.len() >= MAX_TRACKED {
        records.retain(|_, record| record.in_progress > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(max_failures: u32) -> LoginLimiter {
        LoginLimiter::new(LoginLimit {
            max_failures,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn locks_after_the_limit_and_unlocks_after_the_window() {
        let limiter = limiter(3);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..3 {
            let mut attempt = limiter.reserve_at(ip, t0).unwrap();
            attempt.finish_at(Outcome::Failed, t0 + Duration::from_secs(i));
        }
        let wait = limiter
            .reserve_at(ip, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(limiter.reserve_at(other, t0).is_ok());
        let late = limiter
            .reserve_at(ip, t0 + Duration::from_secs(61))
            .unwrap();
        late.succeeded();
        assert!(
            limiter.lock().get(&ip).is_none(),
            "a success forgets the address"
        );
    }

    #[test]
    fn places_are_taken_before_the_check_so_a_burst_cannot_race_the_limit() {
        let limiter = limiter(5);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        // A burst: every request reserves before any check has finished.
        let burst: Vec<_> = (0..60).map(|_| limiter.reserve(ip)).collect();
        let admitted: Vec<Attempt> = burst.into_iter().filter_map(Result::ok).collect();
        assert_eq!(admitted.len(), 5);
        // The places of attempts in progress ask for a short wait.
        assert_eq!(limiter.reserve(ip).unwrap_err(), Duration::from_secs(1));
        for attempt in admitted {
            attempt.failed();
        }
        let wait = limiter.reserve(ip).unwrap_err();
        assert!(wait > Duration::from_secs(58), "{wait:?}");
    }

    #[test]
    fn unchecked_attempts_give_their_place_back_and_abandoned_ones_count() {
        let limiter = limiter(2);
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..10 {
            limiter.reserve(ip).unwrap().not_checked();
        }
        assert!(limiter.lock().get(&ip).is_none());
        drop(limiter.reserve(ip).unwrap());
        drop(limiter.reserve(ip).unwrap());
        assert!(
            limiter.reserve(ip).is_err(),
            "dropped attempts are failures"
        );
    }

    #[test]
    fn a_success_keeps_other_attempts_in_progress_counted() {
        let limiter = limiter(2);
        let ip: IpAddr = "10.0.0.3".parse().unwrap();
        let first = limiter.reserve(ip).unwrap();
        let second = limiter.reserve(ip).unwrap();
        assert!(limiter.reserve(ip).is_err());
        first.succeeded();
        assert!(limiter.reserve(ip).is_ok_and(|a| {
            a.not_checked();
            true
        }));
        second.failed();
        assert_eq!(limiter.lock()[&ip].failures.len(), 1);
    }

    #[test]
    fn memory_stays_bounded_without_dropping_attempts_in_progress() {
        let limiter = limiter(1);
        let held = limiter.reserve("192.168.0.1".parse().unwrap()).unwrap();
        for i in 0..(MAX_TRACKED as u32 + 50) {
            let ip = IpAddr::from((0x0a00_0000u32 + i).to_be_bytes());
            limiter.reserve(ip).unwrap().failed();
        }
        let records = limiter.lock();
        assert!(records.len() <= MAX_TRACKED, "{}", records.len());
        assert!(records.contains_key(&"192.168.0.1".parse::<IpAddr>().unwrap()));
        drop(records);
        held.not_checked();
    }
}
