//! Orders' locks held in this process, for SQLite: there the database's
//! own lock on an order is its one writer connection, which every other
//! write of every order waits for. Work that must keep an order locked
//! across a call to Stripe holds one of these instead while it waits, and
//! takes the writer only to write. SQLite is for one process (README), so
//! a lock in the process is a lock on the order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

type Locks = Mutex<HashMap<String, Arc<AsyncMutex<()>>>>;

#[derive(Clone, Default)]
pub struct OrderLocks(Arc<Locks>);

/// Holds an order's lock until dropped.
pub struct OrderLockGuard {
    locks: Arc<Locks>,
    order_id: String,
    held: Option<OwnedMutexGuard<()>>,
}

impl OrderLocks {
    /// Waits for the order's lock, first come first served.
    pub async fn lock(&self, order_id: &str) -> OrderLockGuard {
        let lock = {
            let mut locks = self.0.lock().expect("order locks");
            // Entries nobody holds or waits for: the last holder leaves
            // the entry to a waiter, and a waiter given up (its request
            // went away) before it took the lock leaves it behind.
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            Arc::clone(locks.entry(order_id.to_string()).or_default())
        };
        OrderLockGuard {
            locks: Arc::clone(&self.0),
            order_id: order_id.to_string(),
            held: Some(lock.lock_owned().await),
        }
    }

    /// How many orders have a lock entry (held or waited for).
    pub fn len(&self) -> usize {
        self.0.lock().expect("order locks").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for OrderLockGuard {
    /// Releases the lock, and forgets the order once nobody holds or waits
    /// for it (waiters clone the entry under the map's lock, so none can
    /// appear between the count and the removal).
    fn drop(&mut self) {
        drop(self.held.take());
        let mut locks = self.locks.lock().expect("order locks");
        if locks
            .get(&self.order_id)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.order_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_order_at_a_time_others_free_and_nothing_kept_after() {
        let locks = OrderLocks::default();
        let first = locks.lock("ord_1").await;
        // Another order is not held up.
        let other = locks.lock("ord_2").await;
        drop(other);
        // The same order waits until the first is released.
        let waiting = tokio::spawn({
            let locks = locks.clone();
            async move { locks.lock("ord_1").await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the order's lock is held");
        drop(first);
        let second = waiting.await.unwrap();
        assert_eq!(locks.len(), 1);
        drop(second);
        assert!(locks.is_empty(), "no entry left behind");
    }
}
