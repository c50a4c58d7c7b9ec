//! A fixed set of threads that compute every password hash a request needs
//! (login, registration, password change), with a bounded queue in front.
//!
//! Why not `spawn_blocking`: a flood of logins then runs as many Argon2
//! hashes at once as there are blocking threads (up to 512), each with
//! 19 MiB of memory, and the allocator keeps those blocks in per-thread
//! arenas long after: RSS grew to gigabytes and stayed. Here each worker
//! keeps one buffer while there is work, so memory is at most `threads x 19
//! MiB` however hard the door is knocked on, and a request that finds the
//! queue full is told to come back (429) instead of waiting without bound.
//! A worker that finds nothing queued after a hash gives its buffer back:
//! held between logins, it was 19 MiB of every idle process's resident
//! memory (half of it during a webhook flood), for a few page faults saved
//! per lone login.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use rocket::tokio::sync::oneshot;
use serde::Deserialize;

use super::password::PasswordWork;

/// `password_hash_threads` and `password_hash_queue` in Rocket.toml (or
/// `ROCKET_PASSWORD_HASH_THREADS`, `ROCKET_PASSWORD_HASH_QUEUE`).
#[derive(Debug, Clone, Deserialize)]
pub struct HashPoolSettings {
    /// Hashing threads; 0 (the default) means half the CPU cores, at least one.
    #[serde(default)]
    pub password_hash_threads: usize,
    /// Requests that may wait for a thread; beyond them, 429 `hashing_busy`.
    #[serde(default = "default_queue")]
    pub password_hash_queue: usize,
}

fn default_queue() -> usize {
    32
}

/// Seconds a client is told to wait when the queue is full: a hash takes
/// tens of milliseconds, so the queue drains within about a second.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("every hashing thread is busy and the queue is full")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

enum Work {
    Hash(String),
    /// `None`: an unknown account, checked against a throwaway hash so it
    /// costs the same time as a known one.
    Verify(String, Option<String>),
}

enum Outcome {
    Hashed(Result<String, String>),
    Verified(bool),
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Outcome>,
    /// Held until the worker is done with the job, even if the request that
    /// asked for it has gone away.
    _place: Place,
}

/// One of the pool's places (running or queued); gives itself back on drop.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A place in the pool, taken by [`HashPool::admit`].
pub struct Ticket<'a> {
    pool: &'a HashPool,
    place: Place,
}

impl Ticket<'_> {
    pub async fn hash(self, password: String) -> Result<String, HashError> {
        match self.run(Work::Hash(password)).await? {
            Outcome::Hashed(result) => result.map_err(HashError::Failed),
            Outcome::Verified(_) => Err(HashError::Failed("unexpected outcome".into())),
        }
    }

    /// Whether `password` matches `stored`; `None` costs the same and is false.
    pub async fn verify(self, password: String, stored: Option<String>) -> Result<bool, HashError> {
        match self.run(Work::Verify(password, stored)).await? {
            Outcome::Verified(ok) => Ok(ok),
            Outcome::Hashed(_) => Err(HashError::Failed("unexpected outcome".into())),
        }
    }

    async fn run(self, work: Work) -> Result<Outcome, HashError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            work,
            reply,
            _place: self.place,
        };
        self.pool
            .jobs
            .lock()
            .map_err(|_| HashError::Failed("hashing queue poisoned".into()))?
            .send(job)
            .map_err(|_| HashError::Failed("hashing threads are gone".into()))?;
        answer
            .await
            .map_err(|_| HashError::Failed("hashing thread dropped the job".into()))
    }
}

pub struct HashPool {
    jobs: Mutex<mpsc::Sender<Job>>,
    taken: Arc<AtomicUsize>,
    capacity: usize,
    /// Argon2 blocks the workers hold between jobs, all together.
    held: Arc<AtomicUsize>,
}

impl HashPool {
    /// Starts the threads. They end when the pool is dropped.
    pub fn start(settings: &HashPoolSettings) -> std::io::Result<HashPool> {
        let threads = match settings.password_hash_threads {
            // Half the cores: with every core hashing, a login flood took the
            // CPU from every other route (their p99 went to 100-200 ms).
            0 => std::thread::available_parallelism().map_or(1, |n| (usize::from(n) / 2).max(1)),
            n => n,
        };
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let taken = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(AtomicUsize::new(0));
        for i in 0..threads {
            let worker = Worker {
                jobs: Arc::clone(&receiver),
                taken: Arc::clone(&taken),
                held: Arc::clone(&held),
            };
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || worker.run())?;
        }
        Ok(HashPool {
            jobs: Mutex::new(sender),
            taken,
            capacity: threads + settings.password_hash_queue,
            held,
        })
    }

    /// Argon2 blocks (1 KiB each) the workers hold between jobs.
    pub fn held_blocks(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// Takes a place in the queue now, for a hash to be run later: a login
    /// learns it must come back before it touches the database.
    pub fn admit(&self) -> Result<Ticket<'_>, HashError> {
        let place = self.take_place().ok_or(HashError::Busy)?;
        Ok(Ticket { pool: self, place })
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.admit()?.hash(password).await
    }

    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        self.admit()?.verify(password, stored).await
    }

    fn take_place(&self) -> Option<Place> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                (taken < self.capacity).then_some(taken + 1)
            })
            .ok()
            .map(|_| Place(Arc::clone(&self.taken)))
    }
}

struct Worker {
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    /// The pool's places taken (queued or running jobs).
    taken: Arc<AtomicUsize>,
    held: Arc<AtomicUsize>,
}

impl Worker {
    /// Takes jobs until the pool (the sender) is gone.
    fn run(self) {
        let mut memory = PasswordWork::default();
        while let Some(job) = self.next_job() {
            let Job {
                work,
                reply,
                _place: place,
            } = job;
            let outcome = compute(&mut memory, work);
            // Free the place before answering, so whoever hears back can hash
            // again at once; with no other place taken, nothing is queued.
            drop(place);
            if self.taken.load(Ordering::Acquire) == 0 {
                memory.release();
            }
            self.held.store(memory.held_blocks(), Ordering::Release);
            // The requester may have gone away; the work is done either way.
            let _ = reply.send(outcome);
        }
    }

    fn next_job(&self) -> Option<Job> {
        self.jobs.lock().ok()?.recv().ok()
    }
}

fn compute(memory: &mut PasswordWork, work: Work) -> Outcome {
    match work {
        Work::Hash(password) => Outcome::Hashed(memory.hash(&password).map_err(|e| e.to_string())),
        Work::Verify(password, Some(stored)) => {
            Outcome::Verified(memory.verify(&password, &stored))
        }
        Work::Verify(password, None) => {
            let dummy = dummy_hash(memory);
            let _ = memory.verify(&password, dummy);
            Outcome::Verified(false)
        }
    }
}

fn dummy_hash(memory: &mut PasswordWork) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| memory.hash("orderpay-dummy-password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize, queue: usize) -> HashPool {
        HashPool::start(&HashPoolSettings {
            password_hash_threads: threads,
            password_hash_queue: queue,
        })
        .unwrap()
    }

    #[rocket::async_test]
    async fn hashes_and_verifies_on_its_threads() {
        let pool = pool(1, 0);
        let hash = pool.hash("correct horse".into()).await.unwrap();
        assert!(pool
            .verify("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!pool.verify("wrong horse".into(), Some(hash)).await.unwrap());
        assert!(!pool.verify("correct horse".into(), None).await.unwrap());
    }

    #[rocket::async_test]
    async fn refuses_work_beyond_its_places_and_frees_them_afterwards() {
        let pool = pool(1, 1);
        let first = pool.take_place().unwrap();
        let second = pool.take_place().unwrap();
        assert!(matches!(
            pool.verify("x".into(), None).await,
            Err(HashError::Busy)
        ));
        drop((first, second));
        assert!(!pool.verify("x".into(), None).await.unwrap());
        assert_eq!(pool.taken.load(Ordering::Acquire), 0);
    }

    #[rocket::async_test]
    async fn an_idle_worker_gives_its_argon2_memory_back() {
        let pool = pool(1, 0);
        pool.hash("correct horse".into()).await.unwrap();
        assert_eq!(pool.held_blocks(), 0);
    }

    #[rocket::async_test]
    async fn a_worker_keeps_its_memory_while_work_is_queued() {
        let pool = pool(1, 1);
        // A place taken (as by a request between `admit` and its hash) is
        // work still to come: the buffer stays for it.
        let queued = pool.take_place().unwrap();
        pool.hash("correct horse".into()).await.unwrap();
        assert!(pool.held_blocks() >= 19 * 1024, "{}", pool.held_blocks());
        drop(queued);
    }
}
