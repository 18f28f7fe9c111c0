//! Limit windows kept in this process's memory, for the one endpoint that must stay
//! cheap under a flood (`POST /v1/recovery/challenge`): counting costs no database
//! write. They are per server: behind N servers a client gets N windows' worth of
//! challenges — harmless, since a challenge proves nothing by itself; what an attacker
//! can do with them is bounded by the shared, database-kept limits of the complete
//! endpoint (failed proofs per account, password mails per day).

use std::collections::HashMap;
use std::sync::Mutex;

/// Above this many keys, windows that ended are dropped.
const TIDY_ABOVE: usize = 50_000;
/// The most keys kept. Past it a key not yet counted is refused (its count reads as
/// over any limit) until windows end: memory stays bounded under a flood of made-up
/// identities, and the per-client limit, counted first, means one client cannot fill it.
const MOST_KEYS: usize = 500_000;

#[derive(Debug, Default)]
pub struct MemoryLimits {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// key → (window start, count, window length)
    windows: HashMap<String, (i64, i64, i64)>,
    /// When ended windows were last dropped (at most once a second: a pass is O(keys)).
    tidied_at: i64,
}

impl MemoryLimits {
    /// Counts one hit on `key` in a fixed window of `window_secs`: the count in the
    /// current window and when it started (as [`crate::store::Store::hit`]).
    pub fn hit(&self, key: &str, window_secs: i64, now: i64) -> (i64, i64) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *guard;
        if inner.windows.len() > TIDY_ABOVE && inner.tidied_at != now && !inner.windows.contains_key(key) {
            inner.windows.retain(|_, (start, _, window)| *start + *window > now);
            inner.tidied_at = now;
        }
        if inner.windows.len() >= MOST_KEYS && !inner.windows.contains_key(key) {
            tracing::warn!(keys = inner.windows.len(), "challenge limit windows full: new identities refused until windows end");
            return (i64::MAX, now);
        }
        let entry = inner.windows.entry(key.to_string()).or_insert((now, 0, window_secs));
        if entry.0 <= now - window_secs {
            *entry = (now, 0, window_secs);
        }
        entry.1 += 1;
        (entry.1, entry.0)
    }

    /// Keys kept now.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).windows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_and_roll_over() {
        let m = MemoryLimits::default();
        assert_eq!(m.hit("a", 60, 1000), (1, 1000));
        assert_eq!(m.hit("a", 60, 1030), (2, 1000));
        assert_eq!(m.hit("b", 60, 1030), (1, 1030));
        assert_eq!(m.hit("a", 60, 1060), (1, 1060), "a new window");
    }

    #[test]
    fn memory_stays_bounded_under_made_up_identities() {
        let m = MemoryLimits::default();
        for i in 0..MOST_KEYS {
            m.hit(&format!("user:{i}"), 900, 1000);
        }
        // Full of current windows: a new key is refused, a known one still counts.
        assert_eq!(m.hit("user:new", 900, 1001).0, i64::MAX);
        assert_eq!(m.hit("user:7", 900, 1001).0, 2);
        assert_eq!(m.len(), MOST_KEYS);
        // Once those windows end they are dropped and new keys count again.
        assert_eq!(m.hit("user:new", 900, 1900), (1, 1900));
        assert_eq!(m.len(), 1);
    }
}
