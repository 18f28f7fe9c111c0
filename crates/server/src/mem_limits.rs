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

#[derive(Debug, Default)]
pub struct MemoryLimits {
    windows: Mutex<HashMap<String, (i64, i64)>>,
}

impl MemoryLimits {
    /// Counts one hit on `key` in a fixed window of `window_secs`: the count in the
    /// current window and when it started (as [`crate::store::Store::hit`]).
    pub fn hit(&self, key: &str, window_secs: i64, now: i64) -> (i64, i64) {
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if w.len() > TIDY_ABOVE {
            w.retain(|_, (start, _)| *start > now - window_secs.max(86_400));
        }
        let entry = w.entry(key.to_string()).or_insert((now, 0));
        if entry.0 <= now - window_secs {
            *entry = (now, 0);
        }
        entry.1 += 1;
        (entry.1, entry.0)
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
}
