//! How the service is doing: per-operation counts, errors by kind and latency percentiles kept
//! in memory, and the [`Service`] a frontend offers to the diagnostic tools (uptime, sessions,
//! the rate budget left, device command streams).

use crate::security::Limits;
use crate::session::Session;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// Latencies kept per operation for the percentiles (the most recent ones).
const WINDOW: usize = 1024;

#[derive(Debug, Default)]
struct Stats {
    calls: u64,
    errors: BTreeMap<&'static str, u64>,
    latencies_us: VecDeque<u64>,
}

/// Counters of the calls a server answered, by operation (or tool, for local tools).
#[derive(Debug, Default)]
pub struct Metrics {
    stats: Mutex<HashMap<String, Stats>>,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

fn latency_summary(mut us: Vec<u64>) -> Value {
    us.sort_unstable();
    json!({
        "p50_ms": percentile(&us, 0.50),
        "p90_ms": percentile(&us, 0.90),
        "p95_ms": percentile(&us, 0.95),
        "p99_ms": percentile(&us, 0.99),
        "samples": us.len(),
    })
}

impl Metrics {
    /// Records one call of `name` that took `elapsed`; `error` is its kind when it failed.
    pub fn record(&self, name: &str, elapsed: Duration, error: Option<&'static str>) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let s = stats.entry(name.to_string()).or_default();
        s.calls += 1;
        if let Some(kind) = error {
            *s.errors.entry(kind).or_default() += 1;
        }
        if s.latencies_us.len() == WINDOW {
            s.latencies_us.pop_front();
        }
        s.latencies_us.push_back(elapsed.as_micros() as u64);
    }

    /// Totals, errors by kind, latency percentiles overall and per operation.
    pub fn snapshot(&self) -> Value {
        let stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let mut calls = 0;
        let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
        let mut all = Vec::new();
        let mut per = Map::new();
        let mut names: Vec<&String> = stats.keys().collect();
        names.sort();
        for name in names {
            let s = &stats[name];
            calls += s.calls;
            for (k, n) in &s.errors {
                *errors.entry(k).or_default() += n;
            }
            all.extend(s.latencies_us.iter().copied());
            per.insert(
                name.clone(),
                json!({
                    "calls": s.calls,
                    "errors": s.errors,
                    "latency": latency_summary(s.latencies_us.iter().copied().collect()),
                }),
            );
        }
        json!({
            "calls": calls,
            "errors": errors,
            "latency": latency_summary(all),
            "operations": per,
        })
    }
}

/// What the host of a session offers the diagnostic tools beyond one call.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Service: Send + Sync {
    /// Uptime, counters, sessions and the rate budget left for this session's token.
    fn health(&self, session: &Session) -> Value;
    /// A monotonic time, to measure a request.
    fn now(&self) -> Duration;
    /// The longest a device command's output is read.
    fn command_deadline(&self) -> Duration {
        crate::stream::MAX_DURATION
    }
    /// The limits of the token security analysis.
    fn security_limits(&self) -> Limits {
        Limits::default()
    }
    /// Device commands over the Mist WebSocket stream, where the host can open one.
    fn devices(&self) -> Option<&dyn crate::stream::DeviceStreams> {
        None
    }
}

/// A host that keeps no counters and cannot open streams (tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoService;

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl Service for NoService {
    fn health(&self, _session: &Session) -> Value {
        json!({ "note": "this host keeps no service counters" })
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_errors_by_kind() {
        let m = Metrics::default();
        for ms in 1..=100 {
            m.record("listOrgSites", Duration::from_millis(ms), None);
        }
        m.record("getSelf", Duration::from_millis(5), Some("timeout"));
        let s = m.snapshot();
        assert_eq!(s["calls"], 101);
        assert_eq!(s["errors"]["timeout"], 1);
        let sites = &s["operations"]["listOrgSites"]["latency"];
        assert_eq!(sites["p50_ms"], 50.0);
        assert_eq!(sites["p90_ms"], 90.0);
        assert_eq!(sites["p99_ms"], 99.0);
    }
}
