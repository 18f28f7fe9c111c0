//! Passwords and session tokens: generation, argon2id hashing, constant-shape checks.
//!
//! Hashing is CPU- and memory-bound (≈26 ms and 19 MiB a hash here), so it runs on a
//! few dedicated threads, one per core, behind four bounded queues (proven users, then
//! the desk's logins, then logins from a client the account's owner used lately, then
//! every other login): a burst of logins is answered `SERVER_BUSY` instead of building
//! a backlog that outlives it, a flood of wrong passwords waits behind the owner's, and
//! each thread reuses its own 19 MiB instead of every thread of a large blocking pool
//! keeping one (measured: 1.3 GB resident under load with `spawn_blocking`, see the load
//! benchmark).
//!
//! The threads per core run below the request threads (nice 10), so a flood of public
//! logins never slows a request that needs no hash; they hash a stranger's password at
//! `SCHED_IDLE`, where they leave a core at once to any other thread that wakes (see
//! `set_idle`). One more thread, at the request threads' own priority, takes only the
//! first three lanes: the owner's, the desk's and a proven user's hash neither waits for
//! a stranger's to finish nor yields the CPU to the flood's requests. A second one takes
//! only the owner's and the desk's logins, so that both hashes of such a login (the
//! password and the temporary one, or its dummy) run at once at that priority, not one
//! of them on a thread the flood keeps off the CPU; it leaves the recoveries' hashes
//! alone (two threads at the requests' priority busy with a burst of recoveries slowed
//! every request: resets' p95 114 → 282 ms).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use crate::config::Argon2Config;

/// Characters of a temporary password: no look-alikes (0/O/o, 1/l/I, 5/S, 2/Z, 8/B).
const UPPER: &[u8] = b"ACDEFGHJKMNPQRTUVWXY";
const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
const DIGITS: &[u8] = b"34679";
const SYMBOLS: &[u8] = b"#%+=?@";
/// Length of a temporary password.
pub const TEMP_PASSWORD_LEN: usize = 14;

/// A hash to compute; it returns its [`Reply`].
type Job = Box<dyn FnOnce(&Argon2<'static>, &mut Vec<Block>) -> Reply + Send>;
/// What a computed job then does: its metrics and the waking of its request (which takes
/// the runtime's and the metrics' locks), never at `SCHED_IDLE` (see [`hashing_thread`]).
type Reply = Box<dyn FnOnce() + Send>;

/// Which budget a hash is queued under. Recoveries (a proven token, the portal's
/// temporary password, staff resets) are served first and queue apart from logins, so
/// an unauthenticated login flood cannot starve them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Proven users: a recovery's temporary password, a staff reset, the change of a
    /// logged-in session's password (the forced change after a recovery among them).
    Recovery,
    /// The support desk's logins: a budget of their own, so a flood of public logins
    /// never keeps the desk out while it helps the people it floods.
    Staff,
    /// Public logins from a client that logged in to, or proved, this account lately
    /// (the owner's own computer, most often): they never wait behind a flood of
    /// strangers' wrong passwords.
    KnownLogin,
    /// Public logins, from anyone.
    Login,
}

impl Lane {
    /// Its name in metrics.
    pub fn name(self) -> &'static str {
        match self {
            Lane::Recovery => "recovery",
            Lane::Staff => "staff",
            Lane::KnownLogin => "known_login",
            Lane::Login => "login",
        }
    }
}

/// Why a hash was not computed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The lane's queue is full: answer `SERVER_BUSY` rather than build a backlog.
    #[error("the {0:?} argon2 queue is full")]
    Busy(Lane),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

struct Queues {
    recovery: VecDeque<Job>,
    staff: VecDeque<Job>,
    known: VecDeque<Job>,
    login: VecDeque<Job>,
    /// Threads at the request threads' priority waiting for a job: [`Serves::Trusted`]'s,
    /// [`Serves::Logins`]'.
    idle: [usize; 2],
    /// Places kept per lane for requests whose hashes are still to come ([`Place`]),
    /// by [`Lane`]'s order.
    kept: [usize; 4],
    closed: bool,
}

impl Queues {
    fn lane(&mut self, lane: Lane) -> &mut VecDeque<Job> {
        match lane {
            Lane::Recovery => &mut self.recovery,
            Lane::Staff => &mut self.staff,
            Lane::KnownLogin => &mut self.known,
            Lane::Login => &mut self.login,
        }
    }
}

/// A place kept in a lane's queue for one request's hashes ([`Hasher::place`]), taken
/// before the request spends any other work on them: a request answered `SERVER_BUSY`
/// is answered before its counts, lookups and writes (a flood's surplus costs next to
/// nothing), and one that holds a place is never refused its hashes. Given back when
/// its hashes are queued, or when it is dropped unused.
pub struct Place {
    shared: Arc<Shared>,
    lane: Lane,
    /// Its jobs are queued: the place went back with them, under the same lock.
    given_back: bool,
}

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Place").field("lane", &self.lane).finish_non_exhaustive()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if !self.given_back {
            self.shared.queues.lock().unwrap_or_else(|p| p.into_inner()).kept[self.lane as usize] -= 1;
        }
    }
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
    /// Most jobs waiting per lane.
    max_queued: usize,
    /// Jobs skipped because their caller had gone.
    skipped: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// Keeps a place in `lane`, or `Busy` (counted) when its jobs and the places kept
    /// in it already make `max_queued`.
    fn keep(self: &Arc<Shared>, lane: Lane) -> Result<Place, HashError> {
        let mut q = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if q.lane(lane).len() + q.kept[lane as usize] >= self.max_queued {
            crate::metrics::metrics().argon2_rejected.with_label_values(&[lane.name()]).inc();
            return Err(HashError::Busy(lane));
        }
        q.kept[lane as usize] += 1;
        Ok(Place { shared: self.clone(), lane, given_back: false })
    }

    /// Queues a request's `jobs` together in the place it kept: a request's hashes are
    /// admitted or refused as a whole (a lane may then hold one more than `max_queued`).
    /// The place becomes its jobs at one instant (under one lock): never counted both,
    /// which would refuse a request racing it for the lane's last place.
    fn admit(&self, mut place: Place, jobs: Vec<Job>) {
        {
            let mut q = self.queues.lock().unwrap_or_else(|p| p.into_inner());
            q.lane(place.lane).extend(jobs);
            q.kept[place.lane as usize] -= 1;
            place.given_back = true;
        }
        // Every thread: the one woken must be one that serves this lane.
        self.ready.notify_all();
    }

    /// Empty queues of at most `max_queued` jobs each.
    fn new(max_queued: usize) -> Shared {
        Shared {
            queues: Mutex::new(Queues {
                recovery: VecDeque::new(),
                staff: VecDeque::new(),
                known: VecDeque::new(),
                login: VecDeque::new(),
                idle: [0, 0],
                kept: [0; 4],
                closed: false,
            }),
            ready: Condvar::new(),
            max_queued,
            skipped: Default::default(),
        }
    }
}

/// Closes the queues when the last [`Hasher`] clone goes: the threads then end.
struct Handle(Arc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.queues.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        self.0.ready.notify_all();
    }
}

/// argon2id with the configured cost, on its own threads, behind four bounded queues.
#[derive(Clone)]
pub struct Hasher {
    handle: Arc<Handle>,
    /// A real hash of a random password, verified against when an account does not
    /// exist or has no password, so that answer takes the same time.
    dummy: Arc<String>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").finish_non_exhaustive()
    }
}

impl Hasher {
    /// A hasher with the given cost, one thread per core and the trusted lanes' two; the threads end when the
    /// last clone of the hasher is dropped. Each thread owns one working area of
    /// `memory_kib` and reuses it for every hash: the allocator never sees a 19 MiB
    /// allocation per request (which glibc kept: 361 MiB after 128 hashes). At most
    /// `max_queued` jobs wait per lane; a job whose caller has gone is skipped.
    pub fn new(cfg: &Argon2Config) -> anyhow::Result<Hasher> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut scratch = vec![Block::default(); params.block_count()];
        let dummy = hash_with(&argon2, &mut scratch, &temporary_password())?;
        drop(scratch);
        let shared = Arc::new(Shared::new(cfg.max_queued.max(1)));
        let threads = crate::standing::cores();
        let strangers_idle = may_leave_idle();
        for i in 0..threads + TRUSTED_THREADS {
            let shared = shared.clone();
            let argon2 = argon2.clone();
            let blocks = params.block_count();
            // The last ones are the proven users' and the owner's own (see the module's notes).
            let serves = if i < threads {
                Serves::All
            } else if i == threads {
                Serves::Trusted
            } else {
                Serves::Logins
            };
            let name = if serves == Serves::All { format!("argon2-{i}") } else { "argon2-trusted".to_string() };
            std::thread::Builder::new().name(name).spawn(move || {
                hashing_thread(&shared, serves, strangers_idle && serves == Serves::All, &argon2, blocks)
            })?;
        }
        Ok(Hasher { handle: Arc::new(Handle(shared)), dummy: Arc::new(dummy) })
    }

    async fn run<T: Send + 'static>(
        &self,
        lane: Lane,
        f: impl FnOnce(&Argon2<'static>, &mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let place = self.place(lane)?;
        let (job, rx) = self.job(lane, f);
        self.handle.0.admit(place, vec![job]);
        crate::standing::end_turn();
        rx.await.map_err(|_| HashError::Failed(anyhow::anyhow!("argon2 threads are gone")))
    }

    /// A job for the hashing threads, and where its result arrives.
    fn job<T: Send + 'static>(
        &self,
        lane: Lane,
        f: impl FnOnce(&Argon2<'static>, &mut Vec<Block>) -> T + Send + 'static,
    ) -> (Job, oneshot::Receiver<T>) {
        let (tx, rx) = oneshot::channel();
        let shared = self.handle.0.clone();
        let queued_at = std::time::Instant::now();
        let job: Job = Box::new(move |a, m| {
            // The caller has gone (timed out, disconnected): no work for nobody.
            if tx.is_closed() {
                shared.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Box::new(|| ());
            }
            let started = std::time::Instant::now();
            let out = f(a, m);
            let (waited, took) = (started - queued_at, started.elapsed());
            Box::new(move || {
                let m_ = crate::metrics::metrics();
                m_.argon2_wait_seconds.with_label_values(&[lane.name()]).observe(waited.as_secs_f64());
                m_.argon2_seconds.with_label_values(&[lane.name()]).observe(took.as_secs_f64());
                let _ = tx.send(out);
            })
        });
        (job, rx)
    }

    /// A place in `lane` for a request's hashes, or `Busy` when the lane's jobs and the
    /// places already kept make `max_queued` ([`Place`]).
    pub fn place(&self, lane: Lane) -> Result<Place, HashError> {
        self.handle.0.keep(lane)
    }

    /// Hashes a password off the async threads.
    pub async fn hash(&self, lane: Lane, password: Zeroizing<String>) -> Result<String, HashError> {
        Ok(self.run(lane, move |a, m| hash_with(a, m, &password)).await??)
    }

    /// Verifies a password against a stored hash (or against the dummy when `hash` is
    /// `None`, returning false after the same work).
    pub async fn verify(
        &self,
        lane: Lane,
        password: Zeroizing<String>,
        hash: Option<String>,
    ) -> Result<bool, HashError> {
        let (hash, real) = match hash {
            Some(h) => (h, true),
            None => ((*self.dummy).clone(), false),
        };
        let ok = self.run(lane, move |_, m| verify_with(m, &password, &hash)).await?;
        Ok(ok && real)
    }

    /// Verifies a password against two stored hashes at once (a login's long-term and
    /// temporary ones; each `None` against the dummy, false after the same work), side
    /// by side when two threads are free, in the `place` the request kept for them.
    pub async fn verify_both(
        &self,
        place: Place,
        password: Zeroizing<String>,
        hashes: [Option<String>; 2],
    ) -> Result<[bool; 2], HashError> {
        let lane = place.lane;
        let [(a, real_a), (b, real_b)] = hashes.map(|h| match h {
            Some(h) => (h, true),
            None => ((*self.dummy).clone(), false),
        });
        let p = password.clone();
        let (job_a, rx_a) = self.job(lane, move |_, m| verify_with(m, &p, &a));
        let (job_b, rx_b) = self.job(lane, move |_, m| verify_with(m, &password, &b));
        self.handle.0.admit(place, vec![job_a, job_b]);
        crate::standing::end_turn();
        let gone = |_| HashError::Failed(anyhow::anyhow!("argon2 threads are gone"));
        let (ok_a, ok_b) = tokio::join!(rx_a, rx_b);
        Ok([ok_a.map_err(gone)? && real_a, ok_b.map_err(gone)? && real_b])
    }

    /// Jobs waiting in each lane.
    pub fn queued(&self) -> [(Lane, usize); 4] {
        let q = self.handle.0.queues.lock().unwrap_or_else(|p| p.into_inner());
        [
            (Lane::Recovery, q.recovery.len()),
            (Lane::Staff, q.staff.len()),
            (Lane::KnownLogin, q.known.len()),
            (Lane::Login, q.login.len()),
        ]
    }

    /// Jobs waiting per lane (recovery, login), and jobs skipped so far because their
    /// caller had gone.
    pub fn stats(&self) -> (usize, usize, u64) {
        let q = self.handle.0.queues.lock().unwrap_or_else(|p| p.into_inner());
        (q.recovery.len(), q.login.len(), self.handle.0.skipped.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// A hashing thread's life: the jobs of the lanes it `serves` until the hasher is
/// dropped, in one working area of `blocks`. With `strangers_idle` (given to the threads
/// below the requests only) it computes a stranger's hash at `SCHED_IDLE` (see
/// [`set_idle`]), and only the hash: it takes the next job from the queues and replies
/// at nice 10, so a thread the scheduler keeps off the CPU never holds a lock the
/// request threads wait for.
fn hashing_thread(shared: &Shared, serves: Serves, strangers_idle: bool, argon2: &Argon2<'static>, blocks: usize) {
    if serves == Serves::All {
        below_requests();
    }
    let mut memory = vec![Block::default(); blocks];
    while let Some((lane, job)) = next_job(shared, serves) {
        let idle = strangers_idle && lane == Lane::Login && set_idle(true) == Some(true);
        let reply = job(argon2, &mut memory);
        if idle {
            set_idle(false);
        }
        reply();
    }
}

/// Puts the calling hashing thread below the threads that answer requests (nice 10 on
/// Linux; each thread has its own there): when the cores are busy hashing a flood of
/// passwords, a request that needs no hash (a challenge, a proof, a page) still gets
/// the CPU at once, and the hashes take what is left. Without the right to (never
/// needed to lower a priority) it stays as it was.
fn below_requests() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), HASH_NICE) {
        tracing::warn!(error = %e, "the argon2 thread keeps its priority");
    }
}

/// Puts the calling thread below the requests at `SCHED_IDLE` (`on`) or back at the
/// normal policy, keeping its nice of [`HASH_NICE`]; the policy it then has (`Some(true)`
/// at `SCHED_IDLE`), `None` where it cannot be read.
///
/// A thread at `SCHED_IDLE` runs only on a core no other thread wants: a request's or a
/// trusted hash's thread that wakes takes that core at once, and finds it as free as an
/// idle one (measured with a flood's hashes at nice 10 beside them, the owner's token
/// recovery hashed in 24 ms against 17.5 quiet; at `SCHED_IDLE`, 20.5). A thread at
/// `SCHED_IDLE` leaves it only with the right to a nice of 10 (`RLIMIT_NICE` of 10, as
/// the service's unit gives, or `CAP_SYS_NICE`): [`may_leave_idle`] tries it first.
#[cfg(target_os = "linux")]
fn set_idle(on: bool) -> Option<bool> {
    use thread_priority::{NormalThreadSchedulePolicy as Normal, ThreadPriority, ThreadSchedulePolicy as Policy};
    let policy = Policy::Normal(if on { Normal::Idle } else { Normal::Other });
    // The crate sets a nice with the policy (0 or 19, after the policy): a thread without
    // the right to 0 is refused that alone, and the nice is set back to ours below.
    let _ = thread_priority::set_thread_priority_and_policy(
        thread_priority::thread_native_id(),
        ThreadPriority::Min,
        policy,
    );
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), HASH_NICE);
    match thread_priority::thread_schedule_policy().ok()? {
        Policy::Normal(Normal::Idle) => Some(true),
        Policy::Normal(Normal::Other) => Some(false),
        _ => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn set_idle(_on: bool) -> Option<bool> {
    None
}

/// Whether the threads below the requests may hash strangers' passwords at `SCHED_IDLE`:
/// a thread of its own goes there and back (see [`set_idle`]). Without the right to come
/// back they stay at nice 10, since a trusted hash they take must not run at
/// `SCHED_IDLE` while the requests keep the cores busy.
fn may_leave_idle() -> bool {
    let probe = std::thread::Builder::new().name("argon2-probe".into()).spawn(|| {
        below_requests();
        set_idle(true) == Some(true) && set_idle(false) == Some(false)
    });
    let may = probe.ok().and_then(|t| t.join().ok()).unwrap_or(false);
    if !may {
        tracing::info!("strangers' hashes run at nice 10 (no right to leave SCHED_IDLE: LimitNICE=10)");
    }
    may
}

/// The nice of the hashing threads (0 is the request threads').
#[cfg(target_os = "linux")]
const HASH_NICE: i32 = 10;

/// The threads at the request threads' priority: one [`Serves::Trusted`], one
/// [`Serves::Logins`] (both hashes of the owner's login run at once at that priority).
const TRUSTED_THREADS: usize = 2;

/// Which lanes a hashing thread takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Serves {
    /// Every lane, in order (the threads per core, below the request threads).
    All,
    /// All but [`Lane::Login`] (a thread at the request threads' priority).
    Trusted,
    /// The desk's logins and the owner's ([`Lane::Staff`], [`Lane::KnownLogin`]): the
    /// other thread at the request threads' priority.
    Logins,
}

/// The next job for a hashing thread: recoveries first, then the desk's, then logins
/// from known clients, then (unless it serves only those) every other login; `None`
/// once closed. A thread below the requests takes a trusted lane's job only when every
/// thread at the requests' priority that serves that lane is busy: otherwise the owner's
/// hash would run at the flood's priority on a thread that had just finished a
/// stranger's (measured before: the owner's login hashes took 25 ms under a flood, 17 quiet).
fn next_job(shared: &Shared, serves: Serves) -> Option<(Lane, Job)> {
    let mut q = shared.queues.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let [idle_trusted, idle_logins] = q.idle;
        let (recovery, others) = match serves {
            Serves::All => (idle_trusted == 0, idle_trusted + idle_logins == 0),
            Serves::Trusted => (true, true),
            Serves::Logins => (false, true),
        };
        let pop =
            |queue: &mut VecDeque<Job>, lane, may| if may { queue.pop_front().map(|job| (lane, job)) } else { None };
        let job = pop(&mut q.recovery, Lane::Recovery, recovery);
        let job = job.or_else(|| pop(&mut q.staff, Lane::Staff, others));
        let job = job.or_else(|| pop(&mut q.known, Lane::KnownLogin, others));
        if let Some(job) = job.or_else(|| pop(&mut q.login, Lane::Login, serves == Serves::All)) {
            // This thread is busy now: a trusted job still waiting may be for the threads
            // below the requests, which left it to this one.
            if serves != Serves::All && !(q.recovery.is_empty() && q.staff.is_empty() && q.known.is_empty()) {
                shared.ready.notify_all();
            }
            return Some(job);
        }
        if q.closed {
            return None;
        }
        let waiting = match serves {
            Serves::All => None,
            Serves::Trusted => Some(0),
            Serves::Logins => Some(1),
        };
        if let Some(i) = waiting {
            q.idle[i] += 1;
        }
        q = shared.ready.wait(q).unwrap_or_else(|p| p.into_inner());
        if let Some(i) = waiting {
            q.idle[i] -= 1;
        }
    }
}

/// `$argon2id$v=19$m=…,t=…,p=…$salt$hash` (PHC string, standard base64 without padding).
fn hash_with(argon2: &Argon2<'_>, memory: &mut [Block], password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let mut out = [0u8; 32];
    argon2
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let p = argon2.params();
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        p.m_cost(),
        p.t_cost(),
        p.p_cost(),
        b64.encode(salt),
        b64.encode(out)
    ))
}

/// Recomputes a stored PHC hash's output with its own parameters and compares in
/// constant time. The working area grows (once) if a stored hash is costlier.
fn verify_with(memory: &mut Vec<Block>, password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    if parsed.algorithm.as_str() != "argon2id" {
        return false;
    }
    let (Ok(params), Some(salt), Some(expected)) = (Params::try_from(&parsed), parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    if argon2.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..]).is_err() {
        return false;
    }
    out.iter().zip(expected.as_bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// A fresh temporary password from the OS CSPRNG: 14 characters, at least one of
/// each class (so it meets the long-term policy's character rules), no look-alikes.
pub fn temporary_password() -> String {
    let mut rng = OsRng;
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    let mut chars: Vec<u8> = vec![
        UPPER[rng.gen_range(0..UPPER.len())],
        LOWER[rng.gen_range(0..LOWER.len())],
        DIGITS[rng.gen_range(0..DIGITS.len())],
        SYMBOLS[rng.gen_range(0..SYMBOLS.len())],
    ];
    while chars.len() < TEMP_PASSWORD_LEN {
        chars.push(all[rng.gen_range(0..all.len())]);
    }
    // Fisher–Yates, so the guaranteed classes are not always in front.
    for i in (1..chars.len()).rev() {
        chars.swap(i, rng.gen_range(0..=i));
    }
    String::from_utf8(chars).unwrap_or_default()
}

/// A new random session token (sent to the client once) and its hash (stored).
pub fn session_token() -> (bhxh_protocol::Secret, String) {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut *bytes);
    let token = bhxh_protocol::Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(*bytes));
    let hash = token_hash(token.expose());
    (token, hash)
}

/// The stored form of a session token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn small(max_queued: usize) -> Hasher {
        Hasher::new(&Argon2Config { memory_kib: 64, iterations: 1, parallelism: 1, max_queued }).unwrap()
    }

    /// Holds every hashing thread with a job that waits for `gate`.
    async fn occupy(h: &Hasher, gate: &Arc<(Mutex<bool>, Condvar)>) -> Vec<tokio::task::JoinHandle<()>> {
        // Recoveries hold the threads per core and the trusted one (the owner's logins'
        // thread takes none), then the owner's login holds that one.
        let mut held = occupy_with(h, gate, Lane::Recovery, crate::standing::cores() + 1).await;
        held.extend(occupy_with(h, gate, Lane::KnownLogin, TRUSTED_THREADS - 1).await);
        held
    }

    /// Holds `threads` hashing threads with jobs of `lane` that wait for `gate`.
    async fn occupy_with(
        h: &Hasher,
        gate: &Arc<(Mutex<bool>, Condvar)>,
        lane: Lane,
        threads: usize,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut held = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        for n in 0..threads {
            // One at a time, each taken before the next (the lane's queue may be short).
            while started.load(std::sync::atomic::Ordering::SeqCst) < n {
                assert!(std::time::Instant::now() < deadline, "the hashing threads never took the held jobs");
                tokio::task::yield_now().await;
            }
            let (h, gate, started) = (h.clone(), gate.clone(), started.clone());
            held.push(tokio::spawn(async move {
                h.run(lane, move |_, _| {
                    started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let (lock, cv) = &*gate;
                    let mut open = lock.lock().unwrap();
                    while !*open {
                        open = cv.wait(open).unwrap();
                    }
                })
                .await
                .unwrap();
            }));
        }
        while started.load(std::sync::atomic::Ordering::SeqCst) < threads {
            assert!(std::time::Instant::now() < deadline, "the hashing threads never took the held jobs");
            tokio::task::yield_now().await;
        }
        held
    }

    fn open(gate: &Arc<(Mutex<bool>, Condvar)>) {
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
    }

    /// Waits until the hasher's queues say `cond`.
    async fn until(h: &Hasher, cond: impl Fn((usize, usize, u64)) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !cond(h.stats()) {
            assert!(std::time::Instant::now() < deadline, "hasher never reached {:?}", h.stats());
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_login_queue_answers_busy_and_recoveries_still_queue_and_go_first() {
        let h = small(2);
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let held = occupy(&h, &gate).await;
        let mut logins = Vec::new();
        for _ in 0..2 {
            let h = h.clone();
            logins.push(tokio::spawn(async move { h.verify(Lane::Login, Zeroizing::new("x".into()), None).await }));
        }
        until(&h, |(_, login, _)| login == 2).await;
        // The login budget is spent: refused at once, nothing queued.
        assert!(matches!(
            h.verify(Lane::Login, Zeroizing::new("x".into()), None).await,
            Err(HashError::Busy(Lane::Login))
        ));
        // The recovery budget is its own.
        let recovery = {
            let h = h.clone();
            tokio::spawn(async move { h.hash(Lane::Recovery, Zeroizing::new("Mua-thu-2026!".into())).await })
        };
        until(&h, |(recovery, _, _)| recovery == 1).await;
        // So is the desk's: a staff login still queues during the flood.
        let staff = {
            let h = h.clone();
            tokio::spawn(async move { h.verify(Lane::Staff, Zeroizing::new("x".into()), None).await })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while h.handle.0.queues.lock().unwrap().staff.len() != 1 {
            assert!(std::time::Instant::now() < deadline, "the staff login never queued");
            tokio::task::yield_now().await;
        }
        // And the owner's, from a client known to the account.
        let known = {
            let h = h.clone();
            tokio::spawn(async move { h.verify(Lane::KnownLogin, Zeroizing::new("x".into()), None).await })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while h.handle.0.queues.lock().unwrap().known.len() != 1 {
            assert!(std::time::Instant::now() < deadline, "the known client's login never queued");
            tokio::task::yield_now().await;
        }
        {
            let q = h.handle.0.queues.lock().unwrap();
            assert_eq!((q.recovery.len(), q.staff.len(), q.known.len(), q.login.len()), (1, 1, 1, 2));
        }
        open(&gate);
        assert!(recovery.await.unwrap().unwrap().starts_with("$argon2id$"));
        assert!(!staff.await.unwrap().unwrap());
        assert!(!known.await.unwrap().unwrap());
        for l in logins {
            assert!(!l.await.unwrap().unwrap());
        }
        for t in held {
            t.await.unwrap();
        }
    }

    #[test]
    fn the_next_job_is_a_recovery_when_one_waits() {
        let shared = Shared::new(4);
        let order = Arc::new(Mutex::new(Vec::new()));
        for (lane, name) in [
            (Lane::Login, "login-1"),
            (Lane::KnownLogin, "owner"),
            (Lane::Staff, "staff"),
            (Lane::Recovery, "recovery"),
            (Lane::Login, "login-2"),
        ] {
            let order = order.clone();
            let job: Job = Box::new(move |_, _| {
                order.lock().unwrap().push(name);
                Box::new(|| ())
            });
            let mut q = shared.queues.lock().unwrap();
            match lane {
                Lane::Recovery => q.recovery.push_back(job),
                Lane::Staff => q.staff.push_back(job),
                Lane::KnownLogin => q.known.push_back(job),
                Lane::Login => q.login.push_back(job),
            }
        }
        shared.queues.lock().unwrap().closed = true;
        let argon2 = Argon2::default();
        let mut memory = Vec::new();
        // The owner's logins' thread takes the desk's and the owner's, and leaves the
        // recovery; the trusted thread takes that and leaves the strangers' logins.
        while let Some((_, job)) = next_job(&shared, Serves::Logins) {
            job(&argon2, &mut memory)();
        }
        assert_eq!(*order.lock().unwrap(), ["staff", "owner"]);
        while let Some((_, job)) = next_job(&shared, Serves::Trusted) {
            job(&argon2, &mut memory)();
        }
        assert_eq!(*order.lock().unwrap(), ["staff", "owner", "recovery"]);
        assert_eq!(shared.queues.lock().unwrap().login.len(), 2);
        while let Some((_, job)) = next_job(&shared, Serves::All) {
            job(&argon2, &mut memory)();
        }
        assert_eq!(*order.lock().unwrap(), ["staff", "owner", "recovery", "login-1", "login-2"]);
    }

    /// A thread below the requests leaves the owner's and the desk's hashes to an idle
    /// thread at the requests' priority (it would run them at the flood's), and takes
    /// them when those threads are busy (they would wait).
    #[test]
    fn the_threads_below_the_requests_leave_trusted_hashes_to_an_idle_trusted_thread() {
        let shared = Shared::new(4);
        shared.queues.lock().unwrap().idle = [1, 1];
        let order = Arc::new(Mutex::new(Vec::new()));
        let job = |name: &'static str| -> Job {
            let order = order.clone();
            Box::new(move |_, _| {
                order.lock().unwrap().push(name);
                Box::new(|| ())
            })
        };
        {
            let mut q = shared.queues.lock().unwrap();
            q.recovery.push_back(job("recovery"));
            q.known.push_back(job("owner"));
            q.login.push_back(job("stranger"));
        }
        let argon2 = Argon2::default();
        let mut memory = Vec::new();
        next_job(&shared, Serves::All).unwrap().1(&argon2, &mut memory)();
        assert_eq!(*order.lock().unwrap(), ["stranger"], "both trusted threads idle");
        // The owner's logins' thread busy, the trusted one idle: the recovery is left
        // to it, and the owner's login too (the trusted thread takes it).
        shared.queues.lock().unwrap().idle = [1, 0];
        shared.queues.lock().unwrap().login.push_back(job("stranger-2"));
        next_job(&shared, Serves::All).unwrap().1(&argon2, &mut memory)();
        assert_eq!(*order.lock().unwrap(), ["stranger", "stranger-2"]);
        // Both busy: the hashes that would wait are taken below.
        shared.queues.lock().unwrap().idle = [0, 0];
        next_job(&shared, Serves::All).unwrap().1(&argon2, &mut memory)();
        next_job(&shared, Serves::All).unwrap().1(&argon2, &mut memory)();
        assert_eq!(*order.lock().unwrap(), ["stranger", "stranger-2", "recovery", "owner"]);
    }

    /// A place kept for a request counts as its hashes would: the lane's next request
    /// past `max_queued` is busy before it does anything; a place is given back when its
    /// hashes are queued, or when it is dropped unused (its request refused for
    /// something else).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_kept_place_counts_until_its_hashes_are_queued_or_it_is_dropped() {
        let h = small(2);
        let (a, b) = (h.place(Lane::Login).unwrap(), h.place(Lane::Login).unwrap());
        assert!(matches!(h.place(Lane::Login), Err(HashError::Busy(Lane::Login))));
        let other = h.place(Lane::KnownLogin).expect("each lane keeps its own places");
        drop(a);
        let c = h.place(Lane::Login).expect("the place dropped unused was given back");
        assert!(!h.verify_both(c, Zeroizing::new("x".into()), [None, None]).await.unwrap().contains(&true));
        let d = h.place(Lane::Login).expect("the place whose hashes were queued was given back");
        drop((b, d, other));
        assert_eq!(h.handle.0.queues.lock().unwrap().kept, [0; 4]);
    }

    /// A place becomes its jobs at one instant: while a request's jobs go in, its place
    /// is not also counted, so a request racing it for the lane's last place is not
    /// refused. Two requests that each hold a place or a queued job, never both, in a
    /// lane of two: neither is ever busy (the project CI saw a login refused so on stop 40).
    #[test]
    fn a_place_and_its_jobs_are_never_counted_both() {
        let shared = Arc::new(Shared::new(2));
        let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (shared, busy) = (shared.clone(), busy.clone());
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        match shared.keep(Lane::Login) {
                            Ok(place) => shared.admit(place, vec![Box::new(|_, _| Box::new(|| ()))]),
                            Err(_) => {
                                busy.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                continue;
                            }
                        }
                        // Its job leaves the queue (a hashing thread took one).
                        let taken = shared.queues.lock().unwrap().login.pop_front();
                        assert!(taken.is_some(), "its job was queued");
                    }
                })
            })
            .collect();
        for r in racers {
            r.join().unwrap();
        }
        assert_eq!(busy.load(std::sync::atomic::Ordering::Relaxed), 0, "a request was refused a free place");
        let q = shared.queues.lock().unwrap();
        assert_eq!((q.login.len(), q.kept), (0, [0; 4]));
    }

    /// A login's two hashes are one request: with a waiting place left both queue (the
    /// lane may then hold one more than `max_queued`), with none neither does (no hash
    /// is spent on a login that will be answered busy).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_logins_two_hashes_are_admitted_or_refused_together() {
        let h = small(2);
        let hash = h.hash(Lane::Recovery, Zeroizing::new("Mua-thu-2026".into())).await.unwrap();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let held = occupy(&h, &gate).await;
        // One waiting place left (one of two taken): the pair goes in whole, both jobs
        // (one at a time, its second would have been refused).
        let single = {
            let h = h.clone();
            tokio::spawn(async move { h.verify(Lane::Login, Zeroizing::new("x".into()), None).await })
        };
        until(&h, |(_, login, _)| login == 1).await;
        let pair = {
            let (h, hash) = (h.clone(), hash.clone());
            tokio::spawn(async move {
                let place = h.place(Lane::Login)?;
                h.verify_both(place, Zeroizing::new("Mua-thu-2026".into()), [Some(hash), None]).await
            })
        };
        until(&h, |(_, login, _)| login == 3).await;
        assert!(matches!(h.place(Lane::Login), Err(HashError::Busy(Lane::Login))));
        assert_eq!(h.stats().1, 3, "the refused pair queued nothing");
        open(&gate);
        assert!(!single.await.unwrap().unwrap());
        assert_eq!(pair.await.unwrap().unwrap(), [true, false], "the right password, and the dummy's false");
        for t in held {
            t.await.unwrap();
        }
    }

    /// With every thread per core hashing a stranger's login, the owner's login, the
    /// desk's and a proven user's hash still run at once (on the trusted lanes' threads),
    /// and the strangers' next login waits for a thread per core.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_owners_hash_never_waits_for_a_strangers() {
        let h = small(8);
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let held = occupy_with(&h, &gate, Lane::Login, crate::standing::cores()).await;
        let stranger = {
            let h = h.clone();
            tokio::spawn(async move { h.verify(Lane::Login, Zeroizing::new("x".into()), None).await })
        };
        until(&h, |(_, login, _)| login == 1).await;
        for lane in [Lane::KnownLogin, Lane::Staff, Lane::Recovery] {
            let done = tokio::time::timeout(
                std::time::Duration::from_secs(30),
                h.verify(lane, Zeroizing::new("x".into()), None),
            )
            .await;
            assert!(matches!(done, Ok(Ok(false))), "{lane:?} waited behind the strangers' logins");
        }
        assert_eq!(h.stats().1, 1, "the stranger's login still waits");
        // One of the owner's hashes held too: its login's other hash (the temporary
        // one's dummy) still runs, on the other thread at the requests' priority, not on
        // a thread per core that the flood keeps off the CPU.
        let owner_held = occupy_with(&h, &gate, Lane::KnownLogin, 1).await;
        let done = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            h.verify(Lane::KnownLogin, Zeroizing::new("x".into()), None),
        )
        .await;
        assert!(matches!(done, Ok(Ok(false))), "the owner's second hash waited for the first");
        open(&gate);
        assert!(!stranger.await.unwrap().unwrap());
        for t in owner_held {
            t.await.unwrap();
        }
        for t in held {
            t.await.unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_whose_caller_has_gone_is_skipped() {
        let h = small(4);
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let held = occupy(&h, &gate).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r = ran.clone();
        // The caller waits a moment and leaves (a client that hung up, a request timeout).
        let left = tokio::time::timeout(
            std::time::Duration::from_millis(20),
            h.run(Lane::Login, move |_, _| r.store(true, std::sync::atomic::Ordering::SeqCst)),
        )
        .await;
        assert!(left.is_err(), "the threads are all held: it cannot have run");
        open(&gate);
        until(&h, |(_, _, skipped)| skipped == 1).await;
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
        for t in held {
            t.await.unwrap();
        }
    }

    /// A thread's scheduling policy (field 41 of its `/proc` stat line; 5 is `SCHED_IDLE`)
    /// and nice (field 19). Its name, in parentheses, may hold spaces; the fields after
    /// it do not.
    #[cfg(target_os = "linux")]
    fn policy_and_nice(stat: &str) -> (u32, i32) {
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        (fields[38].parse().unwrap(), fields[16].parse().unwrap())
    }

    /// The hashing threads per core run below the request threads: every `argon2-<n>`
    /// thread of this process has the nice of [`HASH_NICE`] (field 19 of its `/proc`
    /// stat line), and every `argon2-trusted` the request threads' own (this thread's).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_hashing_threads_run_below_the_request_threads() {
        let _h = small(1);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let threads = crate::standing::cores();
        let nice_of = |stat: &str| policy_and_nice(stat).1;
        let own = nice_of(&std::fs::read_to_string("/proc/thread-self/stat").unwrap());
        loop {
            let mut nices = Vec::new();
            let mut trusted = Vec::new();
            for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
                let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
                // pid (comm) state ppid …: comm may hold spaces, the fields after it do not.
                let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
                match &stat[open + 1..close] {
                    "argon2-trusted" => trusted.push(nice_of(&stat)),
                    name if name.starts_with("argon2-") => nices.push(nice_of(&stat)), // field 19
                    _ => {}
                }
            }
            // Each thread sets its own nice as it starts: wait until all have.
            if nices.len() >= threads && nices.iter().all(|n| *n == HASH_NICE) && !trusted.is_empty() {
                assert!(trusted.iter().all(|n| *n == own), "the trusted lanes' threads: {trusted:?}, requests': {own}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "argon2 threads' nices: {nices:?}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// A thread below the requests hashes a stranger's password at `SCHED_IDLE` and
    /// comes back to the normal policy for its reply (the request's wakeup) and for a
    /// trusted hash it takes (all at nice 10), where this process may (root, or an
    /// `RLIMIT_NICE` of 10 as in the service's unit); where it may not, both run at nice
    /// 10 under the normal policy. (Policy: field 41 of the thread's `/proc` stat line, 5
    /// for `SCHED_IDLE`; nice: field 19.)
    #[cfg(target_os = "linux")]
    #[test]
    fn strangers_hashes_run_at_sched_idle_and_trusted_ones_taken_below_do_not() {
        let shared = Arc::new(Shared::new(4));
        shared.queues.lock().unwrap().idle = [0, 0]; // the trusted threads busy
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sched = || policy_and_nice(&std::fs::read_to_string("/proc/thread-self/stat").unwrap());
        let trusted: Job = {
            let seen = seen.clone();
            Box::new(move |_, _| {
                seen.lock().unwrap().push(("recovery", sched()));
                Box::new(|| ())
            })
        };
        // The stranger's hash queues a recovery behind it: the thread goes there and back.
        let stranger: Job = {
            let (seen, shared) = (seen.clone(), shared.clone());
            Box::new(move |_, _| {
                seen.lock().unwrap().push(("stranger", sched()));
                // Its reply: the thread is back at the normal policy.
                Box::new(move || {
                    seen.lock().unwrap().push(("reply", sched()));
                    shared.queues.lock().unwrap().recovery.push_back(trusted);
                })
            })
        };
        {
            let mut q = shared.queues.lock().unwrap();
            q.login.push_back(stranger);
            q.closed = true; // it ends when the queues are empty
        }
        let may = may_leave_idle();
        let thread = {
            let shared = shared.clone();
            std::thread::spawn(move || hashing_thread(&shared, Serves::All, may, &Argon2::default(), 0))
        };
        thread.join().unwrap();
        let stranger_policy = if may { 5 } else { 0 };
        assert_eq!(
            *seen.lock().unwrap(),
            [("stranger", (stranger_policy, HASH_NICE)), ("reply", (0, HASH_NICE)), ("recovery", (0, HASH_NICE))]
        );
        // The probe's answer is the kernel's rule (the CI's root has CAP_SYS_NICE: there
        // the stranger's hash ran at SCHED_IDLE).
        let cap =
            rustix::thread::capabilities(None).unwrap().effective.contains(rustix::thread::CapabilitySet::SYS_NICE);
        // A nice of n takes an RLIMIT_NICE of 20 - n (setpriority(2)).
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nice)
            .current
            .is_none_or(|n| n >= 20 - HASH_NICE as u64);
        assert_eq!(may, cap || limit);
    }

    #[test]
    fn temporary_passwords_have_every_class_and_no_look_alikes() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let p = temporary_password();
            assert_eq!(p.chars().count(), TEMP_PASSWORD_LEN);
            assert!(p.bytes().any(|b| UPPER.contains(&b)));
            assert!(p.bytes().any(|b| LOWER.contains(&b)));
            assert!(p.bytes().any(|b| DIGITS.contains(&b)));
            assert!(p.bytes().any(|b| SYMBOLS.contains(&b)));
            assert!(!p.contains(['0', 'O', 'o', '1', 'l', 'I', '5', 'S', '2', 'Z', '8', 'B']));
            assert!(bhxh_protocol::domain::password_policy(&p, "someone").is_empty());
            assert!(seen.insert(p));
        }
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = Hasher::new(&Argon2Config::default()).unwrap();
        let hash = h.hash(Lane::Login, Zeroizing::new("Mua-thu-2026".into())).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(h.verify(Lane::Login, Zeroizing::new("Mua-thu-2026".into()), Some(hash.clone())).await.unwrap());
        assert!(!h.verify(Lane::Login, Zeroizing::new("mua-thu-2026".into()), Some(hash)).await.unwrap());
        assert!(!h.verify(Lane::Login, Zeroizing::new("anything".into()), None).await.unwrap());
        // Interoperable with the reference implementation in both directions.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
        let ours = h.hash(Lane::Login, Zeroizing::new("Mua-thu-2026".into())).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"Mua-thu-2026", &parsed).is_ok());
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19456, 2, 1, None).unwrap())
            .hash_password(b"Dong-chi-2027#", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(h.verify(Lane::Login, Zeroizing::new("Dong-chi-2027#".into()), Some(theirs)).await.unwrap());
    }

    #[test]
    fn session_tokens_are_random_and_hashed() {
        let (t1, h1) = session_token();
        let (t2, _) = session_token();
        assert_ne!(t1, t2);
        assert_eq!(h1, token_hash(t1.expose()));
        assert_ne!(h1, t1.expose());
    }
}
