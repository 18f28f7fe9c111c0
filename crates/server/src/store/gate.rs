//! The writer's queue, in two lanes: the owner's writes go first.
//!
//! SQLite has one writer, and the store gives it one connection, so every write waits for
//! the writes queued before it. Under a flood of failed proofs and wrong passwords (each
//! one or more writes: a window's hit, a count, the challenge used up, the audit line)
//! the owner's login or recovery waited behind hundreds of them: 20–30 ms a write, several
//! writes a journey. A request that has shown it is the owner's — a client known to the
//! account with no wrong password in its window, a proof that verified, a right password,
//! a signed-in session, the desk — marks itself with [`serve_first`], and its writes then
//! wait only for the write in progress, never for strangers' queue. Strangers' writes keep
//! their order among themselves and are never dropped; they wait longer while an owner
//! writes. (PostgreSQL gets the same lanes over its pool of writers.)
//!
//! The lane is the request's own ([`in_request`] scopes it; the context layer wraps every
//! request in it): a task spawned from a request and a call outside any request (the
//! operators' commands, tests) write in the ordinary lane; the server's own workers in
//! the first ([`own_worker`]), but for the purge's bulk deletes.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

/// Which queue a write waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Everyone's, in arrival order.
    Ordinary,
    /// The owner's, the desk's and a signed-in user's: served before any ordinary write.
    First,
}

tokio::task_local! {
    static LANE: Cell<Lane>;
}

/// Runs one request with its own lane, ordinary until [`serve_first`] says otherwise (the
/// purge runs in it too, from the outbox worker: bulk work never goes first).
pub async fn in_request<F: std::future::Future>(f: F) -> F::Output {
    LANE.scope(Cell::new(Lane::Ordinary), f).await
}

/// Runs one of the server's own workers (the outbox, the CRL refresher, the email-change
/// settler) with its writes in the first lane: the owner's new password is mailed, and
/// what the owner's proof reads kept current, without waiting behind a flood.
pub async fn own_worker<F: std::future::Future>(f: F) -> F::Output {
    LANE.scope(Cell::new(Lane::First), f).await
}

/// From now on, this request's writes go first: call it only once the request has shown
/// it is the owner's or the desk's (see the module's list). Outside a request, nothing.
pub fn serve_first() {
    let _ = LANE.try_with(|lane| lane.set(Lane::First));
}

/// The lane of the request this runs in (ordinary outside any request).
pub fn current_lane() -> Lane {
    LANE.try_with(Cell::get).unwrap_or(Lane::Ordinary)
}

/// A counting semaphore whose waiters of [`Lane::First`] are served before any of
/// [`Lane::Ordinary`], each lane in arrival order.
#[derive(Clone, Debug)]
pub(super) struct Gate {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    free: usize,
    first: VecDeque<oneshot::Sender<()>>,
    ordinary: VecDeque<oneshot::Sender<()>>,
}

/// One writer's turn; the next waiter's begins when it is dropped.
#[derive(Debug)]
pub(super) struct Turn {
    gate: Gate,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.gate.release();
    }
}

/// A waiter given up (timed out, or its request dropped) that was handed a turn in the
/// meantime hands it on.
struct Waiting {
    gate: Gate,
    rx: oneshot::Receiver<()>,
    served: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.served {
            return;
        }
        self.rx.close();
        if self.rx.try_recv().is_ok() {
            self.gate.release();
        } else {
            // Its place in the queue goes (with any other given up).
            let mut st = self.gate.state.lock().unwrap_or_else(|p| p.into_inner());
            st.first.retain(|tx| !tx.is_closed());
            st.ordinary.retain(|tx| !tx.is_closed());
        }
    }
}

impl Gate {
    pub(super) fn new(writers: usize) -> Gate {
        let state = State { free: writers, first: VecDeque::new(), ordinary: VecDeque::new() };
        Gate { state: Arc::new(Mutex::new(state)) }
    }

    /// Waits for a turn in `lane`, at most `timeout` (then `PoolTimedOut`, an outage
    /// like a pool's own timeout).
    pub(super) async fn turn(&self, lane: Lane, timeout: Duration) -> Result<Turn, sqlx::Error> {
        let rx = {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if st.free > 0 {
                st.free -= 1;
                return Ok(Turn { gate: self.clone() });
            }
            let (tx, rx) = oneshot::channel();
            match lane {
                Lane::First => st.first.push_back(tx),
                Lane::Ordinary => st.ordinary.push_back(tx),
            }
            rx
        };
        let mut waiting = Waiting { gate: self.clone(), rx, served: false };
        match tokio::time::timeout(timeout, &mut waiting.rx).await {
            Ok(Ok(())) => {
                waiting.served = true;
                Ok(Turn { gate: self.clone() })
            }
            _ => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// Hands the turn to the first waiter still waiting, `First` lane before `Ordinary`;
    /// with none, the turn is free.
    fn release(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let next = match st.first.pop_front() {
                Some(tx) => tx,
                None => match st.ordinary.pop_front() {
                    Some(tx) => tx,
                    None => {
                        st.free += 1;
                        return;
                    }
                },
            };
            if next.send(()).is_ok() {
                return;
            }
        }
    }

    /// How many wait in each lane (first, ordinary).
    #[cfg(test)]
    fn waiting(&self) -> (usize, usize) {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        (st.first.len(), st.ordinary.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(30);

    /// Waits until the gate has `first` and `ordinary` waiters (the spawned tasks queued).
    async fn until_waiting(gate: &Gate, want: (usize, usize)) {
        let deadline = std::time::Instant::now() + LONG;
        while gate.waiting() != want {
            assert!(std::time::Instant::now() < deadline, "waiters: {:?}, wanted {want:?}", gate.waiting());
            tokio::task::yield_now().await;
        }
    }

    /// With the writer busy, three ordinary writes queue, then the owner's: the owner's
    /// goes next, then the ordinary ones in their order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_owners_write_goes_before_the_queue_of_strangers() {
        let gate = Gate::new(1);
        let busy = gate.turn(Lane::Ordinary, LONG).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, lane) in [Lane::Ordinary, Lane::Ordinary, Lane::Ordinary, Lane::First].into_iter().enumerate() {
            let (waiter, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = waiter.turn(lane, LONG).await.unwrap();
                order.lock().unwrap().push(format!("{lane:?}-{i}"));
            }));
            let queued = if lane == Lane::First { (1, 3) } else { (0, i + 1) };
            until_waiting(&gate, queued).await;
        }
        drop(busy);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["First-3", "Ordinary-0", "Ordinary-1", "Ordinary-2"]);
        assert_eq!(gate.waiting(), (0, 0));
    }

    /// A write that gives up waiting is an outage (`PoolTimedOut`), and a waiter that
    /// goes after it was handed the turn hands it on: no turn is ever lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiter_that_gives_up_loses_no_turn() {
        let gate = Gate::new(1);
        let busy = gate.turn(Lane::Ordinary, LONG).await.unwrap();
        let timed_out = gate.turn(Lane::First, Duration::from_millis(20)).await;
        assert!(matches!(timed_out, Err(sqlx::Error::PoolTimedOut)), "{timed_out:?}");
        // Queued, handed the turn as the writer finishes, and dropped before it looked.
        let mut waiter = Box::pin(gate.turn(Lane::Ordinary, LONG));
        assert!(tokio::time::timeout(Duration::from_millis(5), &mut waiter).await.is_err(), "it waits");
        assert_eq!(gate.waiting(), (0, 1));
        drop(busy);
        drop(waiter);
        let again = tokio::time::timeout(LONG, gate.turn(Lane::Ordinary, LONG)).await;
        assert!(matches!(again, Ok(Ok(_))), "the dropped waiter's turn came back");
        assert_eq!(gate.state.lock().unwrap().free, 0, "one writer, in use");
    }

    /// A request's lane is its own: ordinary until it says otherwise; nothing outside a
    /// request is first but the server's own workers.
    #[tokio::test]
    async fn the_lane_is_the_requests_own() {
        assert_eq!(current_lane(), Lane::Ordinary);
        serve_first();
        assert_eq!(current_lane(), Lane::Ordinary, "outside a request nothing changes");
        let (a, b) = tokio::join!(
            in_request(async {
                serve_first();
                tokio::task::yield_now().await;
                current_lane()
            }),
            in_request(async {
                tokio::task::yield_now().await;
                current_lane()
            })
        );
        assert_eq!((a, b), (Lane::First, Lane::Ordinary));
        assert_eq!(own_worker(async { current_lane() }).await, Lane::First, "the server's own workers");
    }
}
