//! Timing helpers the in-process benchmarks share
//! (`#[path = "support/timing.rs"] mod timing;`); each uses what it needs.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// How long `f` took.
pub fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// The middle of `v` (the upper one of an even count).
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
