//! Recording purge targets: one loopback HTTP server answering
//! `POST /t/{name}` (the edge and webhook contracts: a JSON body naming the
//! invalidation). Every call is kept with its invalidation, target, caller
//! connection and start/end times; the end is taken when the answer is
//! ready or when the caller hung up (a SIGKILLed worker), so two calls for
//! the same invalidation and target that were in flight together show up.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::routing::post;
use axum::{Json, Router};

#[derive(Debug, Clone)]
pub struct Call {
    pub invalidation: String,
    pub target: String,
    /// The worker's connection (address and port) that made the call.
    pub peer: SocketAddr,
    pub start: Instant,
    pub end: Option<Instant>,
    pub answered: bool,
}

#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Call>>>);

struct InFlight {
    log: Log,
    index: usize,
    answered: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut calls = self.log.0.lock().unwrap();
        calls[self.index].end = Some(Instant::now());
        calls[self.index].answered = self.answered;
    }
}

async fn purge(
    State(log): State<Log>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(target): Path<String>,
    body: Bytes,
) -> Json<serde_json::Value> {
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let invalidation = parsed["invalidation_id"].as_str().unwrap_or("?").to_owned();
    let index = {
        let mut calls = log.0.lock().unwrap();
        calls.push(Call { invalidation, target, peer, start: Instant::now(), end: None, answered: false });
        calls.len() - 1
    };
    let mut guard = InFlight { log: log.clone(), index, answered: false };
    // A purge takes a moment, so a worker killed mid-call is a real case.
    tokio::time::sleep(Duration::from_millis(2 + rand::random::<u64>() % 13)).await;
    guard.answered = true;
    drop(guard);
    Json(serde_json::json!({"removed": 1, "urls": []}))
}

impl Log {
    /// Serves the targets on a free loopback port until the runtime ends.
    pub async fn serve(&self) -> anyhow::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new().route("/t/{name}", post(purge)).with_state(self.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        Ok(addr)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// Pairs of calls for the same invalidation and target that overlapped in time.
pub fn concurrent_duplicates(calls: &[Call]) -> usize {
    let mut by_pair: HashMap<(&str, &str), Vec<&Call>> = HashMap::new();
    for c in calls {
        by_pair.entry((&c.invalidation, &c.target)).or_default().push(c);
    }
    let far = Instant::now() + Duration::from_secs(3600);
    let mut overlaps = 0;
    for mut group in by_pair.into_values() {
        group.sort_by_key(|c| c.start);
        for (i, a) in group.iter().enumerate() {
            let a_end = a.end.unwrap_or(far);
            for b in group[i + 1..].iter().take_while(|b| b.start < a_end) {
                eprintln!(
                    "concurrent purges of {} on {}: from {} and {}, {:?} apart",
                    a.invalidation,
                    a.target,
                    a.peer,
                    b.peer,
                    b.start - a.start
                );
                overlaps += 1;
            }
        }
    }
    overlaps
}

/// (invalidation, target) pairs with at least one answered call.
pub fn purged(calls: &[Call]) -> HashSet<(String, String)> {
    calls.iter().filter(|c| c.answered).map(|c| (c.invalidation.clone(), c.target.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(inv: &str, target: &str, start_ms: u64, end_ms: Option<u64>, t0: Instant) -> Call {
        Call {
            invalidation: inv.into(),
            target: target.into(),
            peer: "127.0.0.1:1".parse().unwrap(),
            start: t0 + Duration::from_millis(start_ms),
            end: end_ms.map(|e| t0 + Duration::from_millis(e)),
            answered: end_ms.is_some(),
        }
    }

    #[test]
    fn only_overlapping_calls_for_the_same_invalidation_and_target_count() {
        let t0 = Instant::now();
        let calls = [
            call("a", "edge-1", 0, Some(10), t0),
            call("a", "edge-1", 10, Some(20), t0), // after the first: a repeat, not concurrent
            call("a", "hook-1", 5, Some(15), t0),  // another target
            call("b", "edge-1", 5, Some(15), t0),  // another invalidation
            call("c", "edge-1", 0, None, t0),      // never ended: overlaps what follows
            call("c", "edge-1", 50, Some(60), t0),
        ];
        assert_eq!(concurrent_duplicates(&calls), 1);
        assert_eq!(purged(&calls).len(), 4);
    }
}
