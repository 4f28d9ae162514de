//! Cache tags among 1,000,000 cached objects (250,000 paths × 4 variants),
//! in process, through `DiskCache` (the calls `POST /_purge` makes):
//! - a tag purge of 1,000 objects, as 1,000 single variants (2 of the 4 of
//!   500 paths) and as 250 whole paths, beside a path purge of the same 250
//!   paths (its peer: one directory rename each, under the index lock). The
//!   tag purge's time includes writing its list of files (`purged/`); the
//!   deletions themselves run after the answer;
//! - the dry run (`DiskCache::count`) of each;
//! - the index's memory per object: untagged, with those two tags, and with
//!   every object carrying 3 tags. Heap bytes live (a counting allocator:
//!   what was asked of malloc, without its per-chunk overhead) and resident
//!   set growth (`VmRSS`), each scenario in a fresh process.
//!
//! The 998,000 untagged objects are indexed as the start-up scan indexes
//! files (`DiskCache::adopt`), without writing them; the 2,000 tagged ones
//! are stored (written to disk) before every round, so the purges remove
//! real files. `BENCH_SMALL=1`: 20,000 objects, a smoke run.
//!
//! Run with `bench/run.sh tags` (or `cargo bench -p edge --bench tags`).

#[path = "support/timing.rs"]
mod timing;

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};
use timing::{median, timed};

use edge::cache::{DiskCache, Meta, Selection};
use imgflush::domain::OriginPath;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const VARIANTS: [&str; 4] = ["w=300", "q=70&w=600", "w=1200", "force_format=webp&w=300"];
const HOST: &str = "images.example.com";
/// 2 of the 4 variants of every 500th path: 1,000 single files.
const RED: &str = "colour-red";
/// All 4 variants of 250 other paths: 250 whole paths.
const SALE: &str = "summer-sale";
const ROUNDS: usize = 7;
const COUNTS: usize = 21;

#[derive(Clone, Copy, PartialEq)]
enum Scenario {
    Untagged,
    Bench,
    ThreeTags,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Untagged => "untagged",
            Scenario::Bench => "bench",
            Scenario::ThreeTags => "three-tags",
        }
    }
}

fn objects() -> usize {
    if std::env::var("BENCH_SMALL").is_ok_and(|v| v == "1") {
        20_000
    } else {
        1_000_000
    }
}

fn path(p: usize) -> String {
    format!("/{HOST}/catalogue/{:03}/{p:07}.jpg", p % 1000)
}

fn is_red(p: usize, v: usize) -> bool {
    p.is_multiple_of(500) && v < 2
}

fn is_sale(p: usize) -> bool {
    p % 1000 == 250
}

fn meta(p: usize, v: usize, scenario: Scenario) -> Meta {
    let tags = match scenario {
        Scenario::Untagged => Vec::new(),
        Scenario::Bench if is_red(p, v) => vec![RED.to_owned()],
        Scenario::Bench if is_sale(p) => vec![SALE.to_owned()],
        Scenario::Bench => Vec::new(),
        Scenario::ThreeTags => {
            vec![format!("product-{p}"), format!("category-{}", p % 1000), format!("brand-{}", p % 50)]
        }
    };
    Meta {
        token: "bench".into(),
        path: path(p),
        variant: VARIANTS[v].into(),
        status: 200,
        content_type: "image/jpeg".into(),
        etag: format!("\"{:032x}\"", (p * 4 + v) as u128 * 0x9e37_79b9_7f4a_7c15),
        stored_at: 1_700_000_000,
        ttl: 31_536_000,
        body_len: 15_000,
        tags,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--scenario" {
            let name = args.next().expect("--scenario NAME");
            let s = [Scenario::Untagged, Scenario::Bench, Scenario::ThreeTags]
                .into_iter()
                .find(|s| s.name() == name)
                .expect("a known scenario");
            return child(s);
        }
    }
    let n = objects();
    let mut memory = Vec::new();
    let mut timings = Vec::new();
    for s in [Scenario::Untagged, Scenario::Bench, Scenario::ThreeTags] {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--scenario", s.name()])
            .output()
            .expect("the benchmark runs itself per scenario");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}: {text}\n{}", s.name(), String::from_utf8_lossy(&out.stderr));
        for line in text.lines() {
            if let Some(m) = line.strip_prefix("MEMORY ") {
                let v: Vec<f64> = m.split(' ').map(|x| x.parse().unwrap()).collect();
                memory.push((s, v[0], v[1]));
            } else if line.starts_with('|') {
                timings.push(line.to_owned());
            }
        }
    }
    println!("| figure | measured | peer | peer figure | ratio | goal |");
    println!("|---|---|---|---|---|---|");
    for t in timings {
        println!("{t}");
    }
    let base = memory.iter().find(|m| m.0 == Scenario::Untagged).map(|m| (m.1, m.2)).unwrap();
    for (s, heap, rss) in &memory {
        let (what, goal) = match s {
            Scenario::Untagged => ("index memory per object, untagged (heap / RSS)", ""),
            Scenario::Bench => ("  with the 2 tags above (2 in 1,000 objects tagged)", ""),
            Scenario::ThreeTags => {
                ("  every object carrying 3 tags (`product-{path}`, `category-{1,000}`, `brand-{50}`)", "")
            }
        };
        let extra = if *s == Scenario::Untagged {
            String::new()
        } else {
            format!("+{:.0} / +{:.0} B", heap - base.0, rss - base.1)
        };
        println!(
            "| {what}, {n} objects | {heap:.0} / {rss:.0} B | untagged | {:.0} / {:.0} B | {extra} | {goal} |",
            base.0, base.1
        );
    }
}

/// One scenario in a fresh process: its memory, and for `Bench` the timings.
fn child(scenario: Scenario) {
    let n = objects();
    let paths = n / VARIANTS.len();
    let dir = tempfile::tempdir().unwrap();
    // No hot tier: the figure is the index, not cached bodies.
    let cache = DiskCache::open(dir.path(), u64::MAX, 0).unwrap();
    let (heap0, rss0) = (LIVE.load(Ordering::Relaxed), rss());
    let tagged = |p: usize, v: usize| scenario == Scenario::Bench && (is_red(p, v) || is_sale(p));
    let t = Instant::now();
    for p in 0..paths {
        for v in 0..VARIANTS.len() {
            if !tagged(p, v) {
                cache.adopt(meta(p, v, scenario)).unwrap();
            }
        }
    }
    let fill = t.elapsed();
    let store_tagged = || {
        let body = bytes::Bytes::from_static(&[7u8; 64]);
        for p in (0..paths).filter(|p| p.is_multiple_of(500) || is_sale(*p)) {
            for v in (0..VARIANTS.len()).filter(|v| tagged(p, *v)) {
                let m = Meta { body_len: body.len() as u64, ..meta(p, v, scenario) };
                cache.store(m, &body, cache.epoch("bench")).unwrap();
            }
        }
    };
    if scenario == Scenario::Bench {
        store_tagged();
    }
    assert_eq!(cache.stats().0 as usize, paths * VARIANTS.len());
    let (heap, rss) = (LIVE.load(Ordering::Relaxed) - heap0, rss() - rss0);
    println!("MEMORY {} {}", heap as f64 / n as f64, rss as f64 / n as f64);
    eprintln!("{}: {n} objects indexed in {:.0} ms", scenario.name(), fill.as_secs_f64() * 1e3);
    if scenario != Scenario::Bench {
        return;
    }

    let (red, sale) = (Selection::Tags(vec![RED.into()]), Selection::Tags(vec![SALE.into()]));
    let sale_paths: Vec<OriginPath> =
        (0..paths).filter(|p| is_sale(*p)).map(|p| OriginPath::parse(&path(p)).unwrap()).collect();
    let want = (n / 1000, (paths / 1000) * 4);
    let times = |what: &Selection, expect: usize| -> Duration {
        median((0..COUNTS).map(|_| timed(|| assert_eq!(cache.count("bench", what).removed as usize, expect))).collect())
    };
    let (count_red, count_sale) = (times(&red, want.0), times(&sale, want.1));
    let (mut purge_red, mut purge_sale, mut purge_paths) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        store_tagged();
        // The previous round's files are deleted in the background: let them go first.
        settle(dir.path());
        purge_red.push(timed(|| assert_eq!(cache.purge("bench", &red).removed as usize, want.0)));
        purge_sale.push(timed(|| assert_eq!(cache.purge("bench", &sale).removed as usize, want.1)));
        store_tagged();
        settle(dir.path());
        let by_path = Selection::Paths(sale_paths.clone());
        purge_paths.push(timed(|| assert_eq!(cache.purge("bench", &by_path).removed as usize, want.1)));
    }
    let (purge_red, purge_sale, purge_paths) = (median(purge_red), median(purge_sale), median(purge_paths));
    let row = |what: String, t: Duration, peer: &str, p: Option<Duration>, goal: &str| {
        let (pv, ratio) =
            p.map_or((String::new(), String::new()), |p| (ms(p), format!("{:.2}x", t.as_secs_f64() / p.as_secs_f64())));
        println!("| {what} | {} | {peer} | {pv} | {ratio} | {goal} |", ms(t));
    };
    let among = format!("among {n}");
    row(
        format!("tag purge, {} variants of {} paths (2 of 4 each), {among} (median of {ROUNDS})", want.0, want.0 / 2),
        purge_red,
        "",
        None,
        "<= 10 ms",
    );
    row(format!("  its dry run (median of {COUNTS})"), count_red, "", None, "<= 5 ms");
    row(
        format!("tag purge, {} whole paths ({} variants), {among}", want.1 / 4, want.1),
        purge_sale,
        "path purge of the same paths",
        Some(purge_paths),
        "<= 10 ms",
    );
    row("  its dry run".to_owned(), count_sale, "", None, "<= 5 ms");
    eprintln!("index fill {:.0} ms", fill.as_secs_f64() * 1e3);
}

/// Waits until the background deletions (`purged/` lists, `trash/`) are done,
/// so they neither race the next fill nor share the CPU with the next timing.
fn settle(root: &std::path::Path) {
    let busy = |d: &str| std::fs::read_dir(root.join(d)).is_ok_and(|mut r| r.next().is_some());
    let start = Instant::now();
    while (busy("purged") || busy("trash")) && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(50));
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Resident set size in bytes.
fn rss() -> isize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: isize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb * 1024
}
