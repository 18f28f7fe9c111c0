//! Requests take turns by their client's standing. A client (an address, an IPv6 /64)
//! whose requests the API refused [`EARNED`] times within [`WINDOW_SECS`] — wrong
//! passwords, failed proofs, its own limits — has each further request wait for one of
//! a few turns (one per core) before any work is done for it; a client not seen to prove
//! anything lately (a stranger) waits for one of [`STRANGER_TURNS_PER_CORE`] per core; a
//! client whose login or token proof succeeded within [`GOOD_SECS`] and that earned no
//! refusals since never waits. A flood from many addresses then keeps a bounded number
//! of its requests in the request threads at once, and the owner's computer is never
//! queued behind it: its requests take the CPU as if the flood were elsewhere.
//!
//! Nobody is refused for it: a client is only slowed, and only when others of its kind
//! fill the turns; a wait longer than the request's own time is the request timing out,
//! as any request may. The marks are kept in memory, bounded like the challenge
//! endpoint's windows (when the table is full the emptiest go: forgetting one only moves
//! a client among the ways in), per server.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::mem_limits::MemoryLimits;

/// Refusals within the window after which a client's requests take the earned turns:
/// two mistakes of a person's own slow nothing.
pub const EARNED: i64 = 3;
/// The window refusals are counted in (the login and proof limits' own).
pub const WINDOW_SECS: i64 = 15 * 60;
/// How long a successful login or proof keeps a client in good standing.
pub const GOOD_SECS: i64 = 24 * 3600;
/// Strangers' turns per core: many more than the earned clients' (a burst of new
/// clients is served at the machine's pace), but bounded.
pub const STRANGER_TURNS_PER_CORE: usize = 4;

/// The machine's cores (2 where it cannot be read): the turns here, and the hashing
/// threads below the requests (`crate::passwords`), one per core.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

/// Where a client stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Proved an account lately (a login, a token proof) and earned no refusals since.
    Good,
    /// Neither.
    Stranger,
    /// [`EARNED`] refusals in the window.
    Earned,
}

impl Class {
    /// Its name in metrics.
    pub fn name(self) -> &'static str {
        match self {
            Class::Good => "good",
            Class::Stranger => "stranger",
            Class::Earned => "earned",
        }
    }
}

/// Who stands where, and the turns.
#[derive(Debug)]
pub struct Standing {
    marks: MemoryLimits,
    strangers: Arc<Semaphore>,
    earned: Arc<Semaphore>,
}

impl Default for Standing {
    fn default() -> Self {
        Standing::new(cores())
    }
}

impl Standing {
    /// Turns for a machine of `cores` cores.
    pub fn new(cores: usize) -> Standing {
        let cores = cores.max(1);
        Standing {
            marks: MemoryLimits::default(),
            strangers: Arc::new(Semaphore::new(cores * STRANGER_TURNS_PER_CORE)),
            earned: Arc::new(Semaphore::new(cores)),
        }
    }

    /// Where `client_key` stands now.
    pub fn class(&self, client_key: &str, now: i64) -> Class {
        if self.marks.count(&format!("refused:{client_key}"), now) >= EARNED {
            Class::Earned
        } else if self.marks.count(&format!("proved:{client_key}"), now) > 0 {
            Class::Good
        } else {
            Class::Stranger
        }
    }

    /// Counts one refusal of `client_key`; the [`EARNED`]th ends its good standing.
    pub fn refused(&self, client_key: &str, now: i64) {
        let (count, _) = self.marks.hit(&format!("refused:{client_key}"), WINDOW_SECS, now);
        if count >= EARNED {
            // One key, not a prefix: one client's mark, and no pass over the table.
            self.marks.forget(&format!("proved:{client_key}"));
        }
    }

    /// `client_key` logged in or proved an account.
    pub fn proved(&self, client_key: &str, now: i64) {
        self.marks.hit(&format!("proved:{client_key}"), GOOD_SECS, now);
    }

    /// Waits for a turn of `class`, in arrival order (none for [`Class::Good`]); the
    /// turn is the permit's life, or ends at [`end_turn`].
    pub async fn turn(&self, class: Class) -> Option<OwnedSemaphorePermit> {
        let started = std::time::Instant::now();
        let turn = match class {
            Class::Good => None,
            Class::Stranger => self.strangers.clone().acquire_owned().await.ok(),
            Class::Earned => self.earned.clone().acquire_owned().await.ok(),
        };
        let waited = started.elapsed().as_secs_f64();
        crate::metrics::metrics().turn_wait_seconds.with_label_values(&[class.name()]).observe(waited);
        turn
    }
}

tokio::task_local! {
    static TURN: RefCell<Option<OwnedSemaphorePermit>>;
}

/// Runs one request holding `turn` (see [`end_turn`]).
pub async fn holding<F: Future>(turn: Option<OwnedSemaphorePermit>, f: F) -> F::Output {
    TURN.scope(RefCell::new(turn), f).await
}

/// Ends the running request's turn: it waits for something that takes no CPU of the
/// request threads (its password's hash, on threads of their own; an OCSP responder or
/// a CRL's server), and the next client of its kind may go meanwhile.
pub fn end_turn() {
    let _ = TURN.try_with(|turn| turn.borrow_mut().take());
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_client_stands_by_its_own_answers_only_for_the_window() {
        let s = Standing::new(1);
        assert_eq!(s.class("198.51.100.7", 1000), Class::Stranger);
        s.proved("198.51.100.7", 1000);
        assert_eq!(s.class("198.51.100.7", 1000), Class::Good);
        for _ in 0..EARNED - 1 {
            s.refused("198.51.100.7", 1000);
        }
        assert_eq!(s.class("198.51.100.7", 1000), Class::Good, "a person's own mistakes slow nothing");
        s.refused("198.51.100.7", 1000);
        assert_eq!(s.class("198.51.100.7", 1000), Class::Earned);
        assert_eq!(s.class("198.51.100.8", 1000), Class::Stranger, "only the client that was refused");
        s.proved("198.51.100.70", 1000);
        for _ in 0..EARNED {
            s.refused("198.51.100.7", 1000);
        }
        assert_eq!(s.class("198.51.100.70", 1000), Class::Good, "another client whose key starts the same");
        s.proved("198.51.100.7", 1000);
        assert_eq!(s.class("198.51.100.7", 1000), Class::Earned, "a proof launders no refusals");
        assert_eq!(
            s.class("198.51.100.7", 1000 + WINDOW_SECS),
            Class::Good,
            "the window ended; the proof since stands"
        );
        assert_eq!(s.class("198.51.100.8", 1000), Class::Stranger);
        s.proved("198.51.100.9", 1000);
        assert_eq!(s.class("198.51.100.9", 1000 + GOOD_SECS - 1), Class::Good);
        assert_eq!(s.class("198.51.100.9", 1000 + GOOD_SECS), Class::Stranger);
    }

    #[tokio::test]
    async fn earned_requests_take_turns_in_arrival_order() {
        let s = std::sync::Arc::new(Standing::new(1));
        let first = s.turn(Class::Earned).await.unwrap();
        assert!(s.turn(Class::Good).await.is_none(), "good standing never waits");
        // A turn ended early (a request waiting for its hash) lets the next one go.
        let second = holding(s.turn(Class::Stranger).await, async {
            end_turn();
            s.strangers.available_permits()
        });
        assert_eq!(second.await, STRANGER_TURNS_PER_CORE);
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for i in 0..3 {
            let (s, order) = (s.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _turn = s.turn(Class::Earned).await.unwrap();
                order.lock().unwrap().push(i);
            }));
            // One thread: the task spawned runs as this one yields, up to its wait, so
            // each queues before the next is spawned.
            tokio::task::yield_now().await;
        }
        assert!(order.lock().unwrap().is_empty(), "no turn while the one is held");
        drop(first);
        for w in waiting {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
    }
}
