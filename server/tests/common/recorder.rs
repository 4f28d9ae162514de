//! A real HTTP purge target for tests: it records every request it receives
//! and answers with a status the test can change. Each call is also kept as
//! an interval (start → answer, or → the client hanging up), so a test can
//! tell whether two calls for one invalidation were ever in flight together.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::Router;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

/// One call as the target saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// From the JSON body (edge, webhook) or `X-Invalidation-Id` (varnish).
    pub invalidation_id: Option<String>,
    pub start: Instant,
    /// When the answer was ready or the caller hung up; `None` while in flight.
    pub end: Option<Instant>,
    /// Whether it was answered (rather than abandoned by the caller).
    pub answered: bool,
}

#[derive(Clone)]
pub struct Recorder {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    calls: Arc<Mutex<Vec<Call>>>,
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
    hang: Arc<(AtomicU64, AtomicU64)>,
}

struct Shared {
    requests: Arc<Mutex<Vec<Recorded>>>,
    calls: Arc<Mutex<Vec<Call>>>,
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
    /// The next `.0` calls wait `.1` ms (on top of `delay_ms`).
    hang: Arc<(AtomicU64, AtomicU64)>,
}

/// Closes a call's interval when the handler finishes or is dropped (the
/// client went away: hyper drops the handler of a closed connection).
struct InFlight {
    calls: Arc<Mutex<Vec<Call>>>,
    index: usize,
    answered: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut calls = self.calls.lock().unwrap();
        calls[self.index].end = Some(Instant::now());
        calls[self.index].answered = self.answered;
    }
}

async fn record(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let body = String::from_utf8_lossy(&body).into_owned();
    let invalidation_id =
        headers.get("x-invalidation-id").and_then(|v| v.to_str().ok()).map(str::to_owned).or_else(|| {
            let json: serde_json::Value = serde_json::from_str(&body).ok()?;
            json["invalidation_id"].as_str().map(str::to_owned)
        });
    let index = {
        let mut calls = s.calls.lock().unwrap();
        calls.push(Call { invalidation_id, start: Instant::now(), end: None, answered: false });
        calls.len() - 1
    };
    let mut in_flight = InFlight { calls: s.calls.clone(), index, answered: false };
    s.requests.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers,
        body,
    });
    let hang = s.hang.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    let delay = s.delay_ms.load(Ordering::SeqCst) + if hang { s.hang.1.load(Ordering::SeqCst) } else { 0 };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    in_flight.answered = true;
    let status = StatusCode::from_u16(s.status.load(Ordering::SeqCst)).unwrap();
    let body = if status.is_success() { r#"{"removed":3}"#.to_owned() } else { "backend on fire".to_owned() };
    (status, body)
}

impl Recorder {
    /// Starts a listener on a free loopback port.
    pub async fn start() -> Recorder {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let hang = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let shared = Arc::new(Shared {
            requests: requests.clone(),
            calls: calls.clone(),
            status: status.clone(),
            delay_ms: delay_ms.clone(),
            hang: hang.clone(),
        });
        let app = Router::new().fallback(record).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Recorder { addr, requests, calls, status, delay_ms, hang }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn respond_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Makes every answer wait this long (after recording the request).
    pub fn delay(&self, ms: u64) {
        self.delay_ms.store(ms, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// Makes the next `calls` calls wait `ms` before answering (a hanging target).
    pub fn hang_next(&self, calls: u64, ms: u64) {
        self.hang.1.store(ms, Ordering::SeqCst);
        self.hang.0.store(calls, Ordering::SeqCst);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Calls in flight right now.
    pub fn in_flight(&self) -> usize {
        self.calls.lock().unwrap().iter().filter(|c| c.end.is_none()).count()
    }

    /// Pairs of calls for the same invalidation that were in flight at the
    /// same time (a call still in flight counts as lasting until now).
    pub fn overlapping(&self) -> Vec<(Call, Call)> {
        let calls = self.calls();
        let now = Instant::now();
        let mut pairs = Vec::new();
        for (i, a) in calls.iter().enumerate() {
            for b in &calls[i + 1..] {
                let same = a.invalidation_id.is_some() && a.invalidation_id == b.invalidation_id;
                if same && a.start < b.end.unwrap_or(now) && b.start < a.end.unwrap_or(now) {
                    pairs.push((a.clone(), b.clone()));
                }
            }
        }
        pairs
    }
}
