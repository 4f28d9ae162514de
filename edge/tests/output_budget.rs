//! The output budget: the bomb URLs of issue 24 are refused without a large
//! allocation. One test only: the allocator below watches the whole process.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::*;

/// The largest single allocation made while `ARMED`.
struct Watch;

static ARMED: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static WATCH: Watch = Watch;

/// Status, body and the largest allocation made while answering `url`.
async fn watched(h: &Harness, url: &str) -> (u16, String, usize) {
    LARGEST.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    let res = h.get(url).await;
    let status = res.status().as_u16();
    let body = res.bytes().await.unwrap();
    ARMED.store(false, Ordering::SeqCst);
    (status, String::from_utf8_lossy(&body).into_owned(), LARGEST.load(Ordering::SeqCst))
}

const LARGE: usize = 8 << 20;

#[tokio::test]
async fn output_bombs_are_refused_without_a_large_allocation() {
    let h = Harness::start().await;
    let s = &h.origin.state;
    s.put("/small.jpg", Answer::Body(jpeg(64, 64, RED)));
    s.put("/thin.png", Answer::Body(png(2, 1000, BLUE)));
    s.put("/strip.png", Answer::Body(png(4000, 1, GREEN)));

    // The URL: refused before the origin is even asked.
    for vh in 0..3 {
        let url = h.url("demo", &format!("/small.jpg?w=8192&h=8192&force_format=png&vh={vh}"));
        let (status, body, largest) = watched(&h, &url).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("invalid parameters w and h: the output would be 8192x8192"), "{body}");
        assert!(body.contains("the limit is 25000000 pixels"), "{body}");
        assert!(largest < LARGE, "{largest} bytes allocated");
    }
    assert_eq!(h.origin.state.hits(), 0);

    // One side on a thin image: 8192 x 4096000 once the other side follows.
    let (status, body, largest) = watched(&h, &h.url("demo", "/thin.png?w=8192")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid parameter w: the output would be 8192x4096000"), "{body}");
    assert!(largest < LARGE, "{largest} bytes allocated");

    // A strip stretched tall: a small output, but a 4000x8000 resize pass.
    let (status, body, largest) = watched(&h, &h.url("demo", "/strip.png?w=10&h=8000&func=cover")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("needs a buffer of 32000000 pixels"), "{body}");
    assert!(largest < LARGE, "{largest} bytes allocated");

    // The same box cropped resizes only the part it keeps.
    let (status, body, largest) = watched(&h, &h.url("demo", "/strip.png?w=10&h=8000")).await;
    assert_eq!(status, 200, "{body}");
    assert!(largest < LARGE, "{largest} bytes allocated");

    // The watch does see large buffers: a legitimate 2000x2000 output.
    let (status, _, largest) = watched(&h, &h.url("demo", "/small.jpg?w=2000&h=2000")).await;
    assert_eq!(status, 200);
    assert!(largest >= LARGE, "{largest} bytes allocated");
}
