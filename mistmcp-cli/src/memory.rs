//! Gives memory back to the system once a burst of work is over: glibc's allocator keeps what
//! threads freed in its arenas, so a server that served 400 sessions stayed at its peak RSS after
//! they all closed (issue 18). [`Keeper`] watches for activity and, after a quiet interval that
//! follows some, asks the allocator to return its free pages.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counts activity (requests, closed sessions) and gives memory back when it stops.
#[derive(Debug, Default)]
pub struct Keeper {
    activity: AtomicU64,
}

/// How long the server must be quiet after some activity before memory is given back.
pub const QUIET: Duration = Duration::from_secs(1);

/// When memory is given back a second time in a quiet period: after the connections to Mist
/// kept for reuse have timed out ([`crate::transport::IDLE_CONNECTION_TIMEOUT`]).
pub const LATER: Duration =
    Duration::from_secs(crate::transport::IDLE_CONNECTION_TIMEOUT.as_secs() + 2);

impl Keeper {
    /// Notes some activity: memory is given back after the next quiet interval.
    pub fn touch(&self) {
        self.activity.fetch_add(1, Ordering::Relaxed);
    }

    /// Gives memory back after each burst of activity, once [`QUIET`] passed without any, and
    /// again at [`LATER`] (what was kept for a while after the burst is gone by then).
    pub async fn run(self: Arc<Self>) {
        let mut seen = self.activity.load(Ordering::Relaxed);
        // Quiet seconds since the last activity; `None` until some activity.
        let mut quiet: Option<Duration> = None;
        loop {
            tokio::time::sleep(QUIET).await;
            let now = self.activity.load(Ordering::Relaxed);
            if now != seen {
                seen = now;
                quiet = Some(Duration::ZERO);
                continue;
            }
            let Some(was) = quiet else { continue };
            let is = was + QUIET;
            if is == QUIET || is == LATER {
                let released = give_back();
                tracing::debug!(released, "gave free memory back to the system");
            }
            quiet = (is < LATER).then_some(is);
        }
    }
}

/// Asks the allocator to return its free pages to the system; whether it gave any back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn give_back() -> bool {
    // SAFETY: malloc_trim takes no pointer and only rearranges glibc's own free lists, under
    // the locks of each arena; it never touches live allocations.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Elsewhere (musl, macOS) the allocator returns free pages itself: nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn give_back() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_memory_goes_back_to_the_system() {
        fn resident_kib() -> u64 {
            std::fs::read_to_string("/proc/self/status")
                .expect("procfs")
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .expect("VmRSS")
        }
        // 64 MiB in small blocks (below the mmap threshold: they live in an arena), touched,
        // freed in an order that leaves the top of the heap in use.
        let mut blocks: Vec<Vec<u8>> = (0..16_384).map(|_| vec![1u8; 4096]).collect();
        let keep = blocks.pop();
        let before_free = resident_kib();
        drop(blocks);
        give_back();
        let after = resident_kib();
        drop(keep);
        assert!(
            before_free - after > 32 * 1024,
            "RSS went from {before_free} KiB to {after} KiB"
        );
    }
}
