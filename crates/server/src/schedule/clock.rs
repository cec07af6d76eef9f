//! Time for the scheduler: `SystemClock` in production, `ManualClock` in tests, which moves
//! only when told so a test drives a scheduled run without waiting for it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::watch;

/// A future that completes once the clock reaches a time.
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// The current time, UTC.
    fn now(&self) -> OffsetDateTime;
    /// Completes once `now() >= deadline`.
    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep<'_>;
}

/// The wall clock. Sleeps in steps of at most a minute, so a wall-clock jump (suspend,
/// NTP) delays a run by a minute at most.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep<'_> {
        Box::pin(async move {
            loop {
                let left = deadline - OffsetDateTime::now_utc();
                if left <= time::Duration::ZERO {
                    return;
                }
                let step = std::time::Duration::try_from(left)
                    .unwrap_or_default()
                    .min(std::time::Duration::from_secs(60));
                tokio::time::sleep(step).await;
            }
        })
    }
}

/// A clock that stands still until `set` or `advance` moves it.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<OffsetDateTime>,
}

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Arc<Self> {
        Arc::new(ManualClock {
            now: watch::Sender::new(start),
        })
    }

    pub fn set(&self, now: OffsetDateTime) {
        self.now.send_replace(now);
    }

    pub fn advance(&self, by: time::Duration) {
        self.now.send_modify(|t| *t += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep<'_> {
        let mut receiver = self.now.subscribe();
        Box::pin(async move {
            let _ = receiver.wait_for(|now| *now >= deadline).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_when_moved() {
        let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep_until(datetime!(2026-01-01 02:00 UTC)).await })
        };
        tokio::task::yield_now().await;
        clock.advance(time::Duration::hours(1));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.set(datetime!(2026-01-01 02:00 UTC));
        tokio::time::timeout(std::time::Duration::from_secs(5), sleeper)
            .await
            .unwrap()
            .unwrap();
    }
}
