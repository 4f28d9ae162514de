//! Purges of one target that jobs make at the same time, packed into shared
//! calls: a provider allows a few calls a second but takes up to a hundred
//! tags (or 256 keys) in each, so a backlog of one-path invalidations is
//! purged a call per hundred paths, not a call per path.
//!
//! The first caller for a target becomes its sender: it waits for the
//! account's next call slot (meanwhile other jobs' items queue), sends as
//! many queued items as one call takes, hands each job its answer, and goes
//! on while items wait; then it steps down. A caller whose items are queued
//! waits for its answer, and takes over as sender if the sender went away
//! (its job was stopped).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::report::PurgeError;
use crate::domain::count;

/// What the shared calls carrying a job's items answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shared {
    /// Each call's note (the provider's purge ID), in order.
    pub notes: Vec<String>,
    /// The most jobs one of these calls carried (this one included).
    pub jobs: usize,
}

impl Shared {
    pub fn add(&mut self, other: Shared) {
        self.notes.extend(other.notes);
        self.jobs = self.jobs.max(other.jobs);
    }

    /// ` in 2 calls shared with up to 37 other invalidations`.
    pub fn calls_text(&self) -> String {
        let calls = count(self.notes.len() as u64, "call", "calls");
        match self.jobs {
            0 | 1 => format!(" in {calls}"),
            j => format!(
                " in {calls} shared with up to {}",
                count(j as u64 - 1, "other invalidation", "other invalidations")
            ),
        }
    }

    /// "purge ID" or "purge IDs", as many as there are notes.
    pub fn ids_label(&self) -> &'static str {
        if self.notes.len() == 1 {
            "purge ID"
        } else {
            "purge IDs"
        }
    }

    pub fn notes_text(&self) -> String {
        if self.notes.is_empty() {
            "-".to_owned()
        } else {
            self.notes.join(", ")
        }
    }
}

/// One call's future: the provider's note.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<String, PurgeError>> + Send + 'a>>;

/// Sends one call with these items.
pub type SendFn<'a> = dyn Fn(Vec<String>) -> SendFuture<'a> + Send + Sync + 'a;

type Reply = oneshot::Sender<Result<Shared, PurgeError>>;

#[derive(Default)]
struct Queue {
    waiting: Mutex<Vec<(Vec<String>, Reply)>>,
    sender: tokio::sync::Mutex<()>,
}

/// The queues of every target being purged in this process.
#[derive(Default)]
pub struct Coalescer {
    queues: Mutex<HashMap<String, Arc<Queue>>>,
}

impl Coalescer {
    /// Purges `items` (at most `per_call` of them) on the target named by
    /// `key` (target, call shape: its soft flag, its action), in a call
    /// shared with other jobs' items for the same key.
    pub async fn purge(
        &self,
        key: &str,
        items: Vec<String>,
        per_call: usize,
        send: &SendFn<'_>,
    ) -> Result<Shared, PurgeError> {
        let queue = {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            queues.entry(key.to_owned()).or_default().clone()
        };
        let (tx, mut rx) = oneshot::channel();
        queue.waiting.lock().unwrap_or_else(|e| e.into_inner()).push((items, tx));
        loop {
            if let Ok(_sending) = queue.sender.try_lock() {
                drain(&queue, per_call.max(1), send).await;
            }
            // Items queued while the last sender stepped down are sent by
            // whoever comes next; ask again soon if this answer is not in.
            match tokio::time::timeout(Duration::from_millis(50), &mut rx).await {
                Ok(Ok(answer)) => return answer,
                Ok(Err(_)) => {
                    return Err(PurgeError::Other("the shared call carrying this purge was interrupted".into()))
                }
                Err(_) => continue,
            }
        }
    }
}

/// Sends calls while items wait, each with as many as `per_call` allows
/// (whole jobs; a job never has more than `per_call`).
async fn drain(queue: &Queue, per_call: usize, send: &SendFn<'_>) {
    loop {
        let batch: Vec<(Vec<String>, Reply)> = {
            let mut waiting = queue.waiting.lock().unwrap_or_else(|e| e.into_inner());
            let mut taken = 0;
            let mut n = 0;
            while n < waiting.len() && (n == 0 || taken + waiting[n].0.len() <= per_call) {
                taken += waiting[n].0.len();
                n += 1;
            }
            waiting.drain(..n).collect()
        };
        if batch.is_empty() {
            return;
        }
        let mut items: Vec<String> = Vec::new();
        for (job_items, _) in &batch {
            for item in job_items {
                if !items.contains(item) {
                    items.push(item.clone());
                }
            }
        }
        let answer = send(items).await;
        let jobs = batch.len();
        for (_, reply) in batch {
            let _ = reply.send(answer.clone().map(|note| Shared { notes: vec![note], jobs }));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_purges_share_calls_up_to_the_cap() {
        let coalescer = Arc::new(Coalescer::default());
        let calls = Arc::new(Mutex::new(Vec::<Vec<String>>::new()));
        let sent = Arc::new(AtomicUsize::new(0));
        let mut jobs = Vec::new();
        for i in 0..25 {
            let (coalescer, calls, sent) = (coalescer.clone(), calls.clone(), sent.clone());
            jobs.push(tokio::spawn(async move {
                let send = move |items: Vec<String>| {
                    let (calls, sent) = (calls.clone(), sent.clone());
                    Box::pin(async move {
                        // A slow provider call: others queue meanwhile.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        sent.fetch_add(1, Ordering::SeqCst);
                        calls.lock().unwrap().push(items);
                        Ok("ok".to_owned())
                    }) as SendFuture<'static>
                };
                coalescer.purge("t1", vec![format!("k{i}"), "shared".into()], 10, &send).await.unwrap()
            }));
        }
        let mut shared = 0;
        for job in jobs {
            shared = shared.max(job.await.unwrap().jobs);
        }
        let calls = calls.lock().unwrap();
        let carried: usize = calls.iter().map(|c| c.iter().filter(|i| i.starts_with('k')).count()).sum();
        assert_eq!(carried, 25, "every job's item went out once");
        assert!(calls.iter().all(|c| c.len() <= 10), "{calls:?}");
        assert!(calls.len() < 25 && shared > 1, "{} calls for 25 jobs", calls.len());
        assert_eq!(sent.load(Ordering::SeqCst), calls.len());
    }
}
