//! Limit windows kept in this process's memory, for the one endpoint that must stay
//! cheap under a flood (`POST /v1/recovery/challenge`): counting costs no database
//! write. They are per server: behind N servers a client gets N windows' worth of
//! challenges — harmless, since a challenge proves nothing by itself; what an attacker
//! can do with them is bounded by the shared, database-kept limits of the complete
//! endpoint (failed proofs per client and account, password mails per day).

use std::collections::HashMap;
use std::sync::Mutex;

/// Above this many keys, windows that ended are dropped.
const TIDY_ABOVE: usize = 50_000;
/// The most keys kept: memory stays bounded under a flood of made-up identities. When
/// the table is full, ended windows go, then the emptiest (fewest hits, oldest first),
/// a tenth of the table at a time: forgetting a window only ever lets a client through
/// sooner, so a full table refuses no one, and a client that earned its refusal (its
/// window is among the fullest) keeps it.
const MOST_KEYS: usize = 500_000;
/// Windows dropped at once when the table is full (amortises the pass over the table).
const EVICT: usize = MOST_KEYS / 10;

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
            inner.windows.retain(|_, (start, _, window)| *start + *window > now);
            if inner.windows.len() >= MOST_KEYS {
                let mut by_use: Vec<(i64, i64, String)> =
                    inner.windows.iter().map(|(k, (start, count, _))| (*count, *start, k.clone())).collect();
                let evict = EVICT.min(by_use.len() - 1);
                by_use.select_nth_unstable(evict);
                for (_, _, k) in &by_use[..evict] {
                    inner.windows.remove(k);
                }
                tracing::warn!(
                    keys = inner.windows.len(),
                    dropped = evict,
                    "challenge limit windows full: the emptiest were dropped"
                );
            }
        }
        let entry = inner.windows.entry(key.to_string()).or_insert((now, 0, window_secs));
        if entry.0 <= now - window_secs {
            *entry = (now, 0, window_secs);
        }
        entry.1 += 1;
        (entry.1, entry.0)
    }

    /// The count in `key`'s current window (0 when it has none or it ended), counting
    /// nothing.
    pub fn count(&self, key: &str, now: i64) -> i64 {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match guard.windows.get(key) {
            Some((start, count, window)) if *start + *window > now => *count,
            _ => 0,
        }
    }

    /// Forgets `key`'s window.
    pub fn forget(&self, key: &str) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).windows.remove(key);
    }

    /// Forgets the windows whose key starts with `prefix` (a proof of ownership, the
    /// desk's unlock).
    pub fn clear_prefix(&self, prefix: &str) -> usize {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let before = guard.windows.len();
        guard.windows.retain(|k, _| !k.starts_with(prefix));
        before - guard.windows.len()
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
#[allow(clippy::unwrap_used, clippy::expect_used)]
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
        // A client that earned its refusal: its window is among the fullest.
        for _ in 0..20 {
            m.hit("client:flooder", 900, 1000);
        }
        for i in 1..MOST_KEYS {
            m.hit(&format!("user:{i}"), 900, 1000);
        }
        assert_eq!(m.len(), MOST_KEYS);
        // Full of current windows: a new key still counts from one (nobody is refused
        // for the table being full); the emptiest windows went, the fullest stayed.
        assert_eq!(m.hit("user:new", 900, 1001), (1, 1001));
        assert_eq!(m.len(), MOST_KEYS - EVICT + 1);
        assert_eq!(m.hit("client:flooder", 900, 1001).0, 21, "the flooder's window is kept");
        // Once those windows end they are dropped.
        assert_eq!(m.hit("user:newer", 900, 1900), (1, 1900));
        assert_eq!(m.hit("user:new", 900, 1901), (1, 1901));
    }

    #[test]
    fn a_prefix_is_forgotten() {
        let m = MemoryLimits::default();
        m.hit("user:a:client:1:challenge", 900, 1000);
        m.hit("user:a:challenge", 900, 1000);
        m.hit("user:ab:challenge", 900, 1000);
        assert_eq!(m.clear_prefix("user:a:"), 2);
        assert_eq!(m.hit("user:a:challenge", 900, 1001), (1, 1001));
        assert_eq!(m.hit("user:ab:challenge", 900, 1001), (2, 1000));
    }
}
