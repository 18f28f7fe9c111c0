//! argon2id needs 19 MiB a hash. The server's memory must not grow with the number of
//! requests: each hashing thread reuses one working area. (Alone in its test binary so
//! that nothing else allocates while it measures.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise
#![cfg(target_os = "linux")]

use bhxh_server::config::Argon2Config;
use bhxh_server::passwords::{Hasher, Lane};
use zeroize::Zeroizing;

fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap().to_string();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

async fn burst(h: &Hasher, tasks: usize, each: usize) {
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let h = h.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..each {
                h.hash(Lane::Recovery, Zeroizing::new("Mua-thu-2026!".into())).await.unwrap();
                assert!(!h.verify(Lane::Login, Zeroizing::new("sai".into()), None).await.unwrap());
            }
        }));
    }
    for t in handles {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hashing_memory_does_not_grow_with_requests() {
    let h = Hasher::new(&Argon2Config::default()).unwrap();
    burst(&h, 8, 2).await; // every hashing thread has touched its working area
    let warm = rss_mib();
    burst(&h, 16, 8).await; // 256 more argon2 runs from 16 concurrent requests
    let after = rss_mib();
    eprintln!("RSS warm {warm} MiB, after 256 more hashes {after} MiB");
    assert!(after <= warm + 24, "memory grew by {} MiB with requests", after - warm);
}
