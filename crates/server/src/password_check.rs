//! The global bound on argon2 password checks. Each check holds about 19 MiB for tens of
//! milliseconds, so unbounded parallel logins grow the server's memory without limit. Here
//! a fixed set of worker threads (`workers`) runs the checks; at most `queue` more wait;
//! any login beyond that is told at once that the server is busy, without hashing. Each
//! worker runs its checks in one block of memory of its own (`HashVerifier`), so the
//! memory of password checks is `workers` times 19 MiB, however many logins come.
//!
//! Every check is logged (`password checked`, with the client address), so how many
//! passwords were really checked can be counted from the log.

use std::net::IpAddr;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rythm_backup_core::secrets::Sensitive;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use crate::config::PasswordCheckLimits;
use crate::hash_verifier::HashVerifier;

/// Why a password could not be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("every password check slot is taken")]
    Busy,
    #[error("the password check workers have stopped")]
    Stopped,
}

struct Job {
    client: IpAddr,
    hash: String,
    password: Sensitive<String>,
    reply: oneshot::Sender<bool>,
    /// A place among the checks running or waiting; freed when the check ends.
    slot: OwnedSemaphorePermit,
}

/// The worker threads end when this (the last sender) is dropped with the server.
#[derive(Debug)]
pub struct PasswordChecks {
    slots: Arc<Semaphore>,
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl PasswordChecks {
    /// Starts `limits.workers` threads.
    pub fn start(limits: PasswordCheckLimits) -> std::io::Result<PasswordChecks> {
        let workers = limits.workers.max(1);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..workers {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("password-check-{index}"))
                .spawn(move || work(&receiver))?;
        }
        Ok(PasswordChecks {
            slots: Arc::new(Semaphore::new(workers + limits.queue)),
            jobs: Mutex::new(sender),
        })
    }

    /// Whether `password` matches the PHC string `hash`, checked on a worker; `Busy` at once
    /// when every worker and queue place is taken.
    pub async fn check(
        &self,
        client: IpAddr,
        hash: String,
        password: Sensitive<String>,
    ) -> Result<bool, CheckError> {
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| CheckError::Busy)?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            client,
            hash,
            password,
            reply,
            slot,
        };
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .map_err(|_| CheckError::Stopped)?;
        answer.await.map_err(|_| CheckError::Stopped)
    }
}

fn work(receiver: &Mutex<mpsc::Receiver<Job>>) {
    let mut verifier = HashVerifier::default();
    loop {
        let next = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(job) = next else {
            return;
        };
        if job.reply.is_closed() {
            // The request was abandoned while it waited: its attempt already counts as
            // failed, and nobody would see the answer.
            continue;
        }
        let ok = verifier.verify(&job.hash, job.password.expose().as_bytes());
        tracing::info!(client = %job.client, "password checked");
        // The place is free before the answer is, so a caller that got its answer can count
        // on it.
        drop(job.slot);
        let _ = job.reply.send(ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    fn hash(password: &str) -> String {
        let salt = SaltString::encode_b64(b"a fixed salt 16b").unwrap();
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_passwords_and_refuses_beyond_workers_and_queue_at_once() {
        let checks = Arc::new(
            PasswordChecks::start(PasswordCheckLimits {
                workers: 1,
                queue: 1,
            })
            .unwrap(),
        );
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let good = hash("right password");
        assert_eq!(
            checks
                .check(ip, good.clone(), Sensitive::new("right password".into()))
                .await,
            Ok(true)
        );
        assert_eq!(
            checks
                .check(ip, good.clone(), Sensitive::new("wrong".into()))
                .await,
            Ok(false)
        );
        // Every worker and queue place taken (held here as if by running checks): the next
        // login is refused, not checked (the right password would have answered true).
        let held = checks.slots.clone().try_acquire_many_owned(2).unwrap();
        assert_eq!(
            checks
                .check(ip, good.clone(), Sensitive::new("right password".into()))
                .await,
            Err(CheckError::Busy)
        );
        drop(held);
        // The slots are free again.
        assert_eq!(
            checks
                .check(ip, good, Sensitive::new("right password".into()))
                .await,
            Ok(true)
        );
    }
}
