use imgflush::domain::PurgeAnswer;

use super::*;

fn meta(token: &str, path: &str, variant: &str, body: &[u8]) -> Meta {
    Meta {
        token: token.into(),
        path: path.into(),
        variant: variant.into(),
        status: 200,
        content_type: "image/jpeg".into(),
        etag: "\"x\"".into(),
        stored_at: 1,
        ttl: 100,
        body_len: body.len() as u64,
        tags: Vec::new(),
    }
}

fn key(token: &str, path: &str, variant: &str) -> Key {
    Key { token: token.into(), path: path.into(), variant: variant.into() }
}

fn put(c: &DiskCache, token: &str, path: &str, variant: &str) {
    let body = Bytes::from(format!("{token}{path}{variant}").into_bytes());
    assert_eq!(c.store(meta(token, path, variant, &body), &body, c.epoch("demo")).unwrap(), Stored::Yes);
}

fn has(c: &DiskCache, token: &str, path: &str, variant: &str) -> bool {
    c.lookup(&key(token, path, variant)).and_then(|f| c.read(&f)).is_some()
}

fn paths(list: &[&str]) -> Vec<OriginPath> {
    list.iter().map(|p| OriginPath::parse(p).unwrap()).collect()
}

#[test]
fn store_read_purge_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let c = DiskCache::open(dir.path(), 1 << 20, 0).unwrap();
    for v in ["w=1", "w=2", "vh=3"] {
        put(&c, "demo", "/h/a/1.jpg", v);
    }
    put(&c, "demo", "/h/a/2.jpg", "w=1");
    put(&c, "demo", "/h/b/1.jpg", "w=1");
    put(&c, "other", "/h/a/1.jpg", "w=1");
    let f = c.lookup(&key("demo", "/h/a/1.jpg", "w=2")).unwrap();
    assert_eq!(&c.read(&f).unwrap()[..], b"demo/h/a/1.jpgw=2");

    assert_eq!(c.purge_paths("demo", &paths(&["/h/a/1.jpg"])).removed, 3);
    assert!(!has(&c, "demo", "/h/a/1.jpg", "w=1") && !has(&c, "demo", "/h/a/1.jpg", "vh=3"));
    assert!(has(&c, "demo", "/h/a/2.jpg", "w=1") && has(&c, "other", "/h/a/1.jpg", "w=1"));

    drop(c);
    let c = DiskCache::open(dir.path(), 1 << 20, 0).unwrap();
    assert_eq!(c.stats().0, 3, "rebuilt from disk");
    assert!(has(&c, "demo", "/h/b/1.jpg", "w=1"));
    assert_eq!(c.purge_paths("demo", &paths(&["/h/a/*"])).removed, 1);
    assert!(has(&c, "demo", "/h/b/1.jpg", "w=1"));
    assert_eq!(c.purge_token("demo").removed, 1);
    assert_eq!(c.purge_token("demo").removed, 0);
    assert!(has(&c, "other", "/h/a/1.jpg", "w=1"));
    assert_eq!(c.stats().0, 1);
}

#[test]
fn lru_eviction_and_purge_race() {
    let dir = tempfile::tempdir().unwrap();
    let one = {
        let body = b"demo/h/0.jpgv".to_vec();
        (file::header(&meta("demo", "/h/0.jpg", "v", &body)).unwrap().len() + body.len()) as u64
    };
    let c = DiskCache::open(dir.path(), one * 3, 1 << 20).unwrap();
    for i in 0..3 {
        put(&c, "demo", &format!("/h/{i}.jpg"), "v");
    }
    assert!(has(&c, "demo", "/h/0.jpg", "v")); // now most recently used
    put(&c, "demo", "/h/3.jpg", "v");
    assert!(has(&c, "demo", "/h/0.jpg", "v") && !has(&c, "demo", "/h/1.jpg", "v"));
    assert_eq!(c.stats(), (3, one * 3, 1));

    let (epoch, other) = (c.epoch("demo"), c.epoch("other"));
    c.purge_paths("demo", &paths(&["/nothing.jpg"]));
    assert_eq!(c.epoch("other"), other, "another token's purge");
    let body = Bytes::from_static(b"stale");
    assert_eq!(c.store(meta("demo", "/h/9.jpg", "v", &body), &body, epoch).unwrap(), Stored::PurgedMeanwhile);
    let big = Bytes::from(vec![0u8; (one * 4) as usize]);
    assert_eq!(c.store(meta("demo", "/h/9.jpg", "v", &big), &big, c.epoch("demo")).unwrap(), Stored::TooLarge);
}

#[test]
fn hot_bodies_stay_within_their_budget_and_go_with_purges() {
    let dir = tempfile::tempdir().unwrap();
    let c = DiskCache::open(dir.path(), 1 << 20, 40).unwrap();
    for p in ["/h/a.jpg", "/h/b.jpg", "/h/c.jpg"] {
        put(&c, "demo", p, "v1"); // 14-byte bodies: the third pushes the first out of memory
    }
    assert_eq!(c.lock().hot_bytes, 28);
    assert!(DiskCache::is_in_memory(&c.lookup(&key("demo", "/h/c.jpg", "v1")).unwrap()));
    let cold = c.lookup(&key("demo", "/h/a.jpg", "v1")).unwrap();
    assert!(!DiskCache::is_in_memory(&cold));
    assert_eq!(&c.read(&cold).unwrap()[..], b"demo/h/a.jpgv1");
    assert!(DiskCache::is_in_memory(&c.lookup(&key("demo", "/h/a.jpg", "v1")).unwrap()), "promoted by the read");
    assert!(c.lock().hot_bytes <= 40);
    c.purge_token("demo");
    assert_eq!(c.lock().hot_bytes, 0);
}

fn put_tagged(c: &DiskCache, token: &str, path: &str, variant: &str, tags: &[&str]) {
    let body = Bytes::from(format!("{token}{path}{variant}").into_bytes());
    let m = Meta { tags: tags.iter().map(|t| t.to_string()).collect(), ..meta(token, path, variant, &body) };
    assert_eq!(c.store(m, &body, c.epoch(token)).unwrap(), Stored::Yes);
}

fn tags(list: &[&str]) -> Selection {
    Selection::Tags(list.iter().map(|t| t.to_string()).collect())
}

/// A shop: `a.jpg` in three variants (two tagged), `b.jpg` and `c.jpg`
/// tagged, and another project with the same tag names.
fn shop(c: &DiskCache) {
    put_tagged(c, "demo", "/h/a.jpg", "w=1", &["products", "shoes"]);
    put_tagged(c, "demo", "/h/a.jpg", "w=2", &["shoes"]);
    put(c, "demo", "/h/a.jpg", "w=3");
    put_tagged(c, "demo", "/h/b.jpg", "w=1", &["products"]);
    put_tagged(c, "demo", "/h/c.jpg", "w=1", &["sale"]);
    put_tagged(c, "other", "/h/a.jpg", "w=1", &["products"]);
}

#[test]
fn a_tag_purge_removes_exactly_the_tagged_variants_and_its_count_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let c = DiskCache::open(dir.path(), 1 << 20, 1 << 20).unwrap();
    shop(&c);
    let before = c.stats();
    let epoch = c.epoch("demo");
    let counted = c.count("demo", &tags(&["products"]));
    assert_eq!(
        (counted.removed, counted.paths.clone(), counted.paths_complete),
        (2, vec!["/h/a.jpg".to_owned(), "/h/b.jpg".to_owned()], true)
    );
    assert_eq!(c.stats(), before, "a count removes nothing");
    assert_eq!(c.epoch("demo"), epoch, "nor bumps the epoch");
    assert!(has(&c, "demo", "/h/a.jpg", "w=1") && has(&c, "demo", "/h/b.jpg", "w=1"));

    let tagged_file = c.object_path(&key("demo", "/h/a.jpg", "w=1"));
    let purged = c.purge_tags("demo", &["products".to_owned()]);
    assert_eq!(purged, counted, "the dry run said exactly what the purge did");
    assert_eq!(purged.bytes, before.1 - c.stats().1);
    assert!(purged.bytes > 0);
    assert!(c.epoch("demo") > epoch, "a fill in flight cannot store what was purged");
    assert!(gone_soon(&tagged_file) && gone_soon(&c.object_path(&key("demo", "/h/b.jpg", "w=1"))), "files deleted");
    assert!(c.object_path(&key("demo", "/h/a.jpg", "w=2")).exists());
    assert!(!has(&c, "demo", "/h/a.jpg", "w=1") && !has(&c, "demo", "/h/b.jpg", "w=1"));
    assert!(has(&c, "demo", "/h/a.jpg", "w=2") && has(&c, "demo", "/h/a.jpg", "w=3"), "untagged variants stay");
    assert!(has(&c, "demo", "/h/c.jpg", "w=1") && has(&c, "other", "/h/a.jpg", "w=1"), "other tags and tokens stay");
    c.lock().check();

    // Two tags: a variant carrying either goes, once.
    let both = tags(&["shoes", "sale", "nothing"]);
    let counted = c.count("demo", &both);
    assert_eq!(c.purge("demo", &both), counted);
    assert_eq!(counted.removed, 2);
    assert_eq!(c.purge_tags("demo", &["products".to_owned()]).removed, 0);
    assert_eq!(c.stats().0, 2);
    assert!(has(&c, "demo", "/h/a.jpg", "w=3") && has(&c, "other", "/h/a.jpg", "w=1"));
    c.lock().check();
}

#[test]
fn tags_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let c = DiskCache::open(dir.path(), 1 << 20, 0).unwrap();
    shop(&c);
    drop(c);
    let c = DiskCache::open(dir.path(), 1 << 20, 0).unwrap();
    c.lock().check();
    let f = c.lookup(&key("demo", "/h/a.jpg", "w=1")).unwrap();
    assert_eq!(f.meta.tags, ["products", "shoes"]);
    assert_eq!(c.purge_tags("demo", &["shoes".to_owned()]).removed, 2);
    assert!(has(&c, "demo", "/h/a.jpg", "w=3") && has(&c, "demo", "/h/b.jpg", "w=1"));
    // A file written before tags existed has no `tags` field: it loads untagged.
    let json = r#"{"token":"demo","path":"/h/x.jpg","variant":"v","status":200,"content_type":"image/jpeg","etag":"\"x\"","stored_at":1,"ttl":100,"body_len":0}"#;
    let old: Meta = serde_json::from_str(json).unwrap();
    assert!(old.tags.is_empty());
    assert_eq!(serde_json::to_string(&old).unwrap(), json, "untagged objects are written as before");
}

#[test]
fn the_tag_index_stays_exact_through_replacements_evictions_and_other_purges() {
    let dir = tempfile::tempdir().unwrap();
    let one = {
        let body = b"demo/h/p/00.jpgv".to_vec();
        let m = Meta { tags: vec!["t0".into(), "all".into()], ..meta("demo", "/h/p/00.jpg", "v", &body) };
        (file::header(&m).unwrap().len() + body.len()) as u64
    };
    let c = DiskCache::open(dir.path(), one * 10, 1 << 20).unwrap();
    for i in 0..30 {
        put_tagged(&c, "demo", &format!("/h/p/{i:02}.jpg"), "v", &[&format!("t{}", i % 3), "all"]);
        c.lock().check();
    }
    assert_eq!(c.stats().2, 20, "evicted");
    let all = c.count("demo", &tags(&["all"]));
    assert_eq!(all.removed, 10, "evicted objects left the tag index");
    assert_eq!(all.paths.first().map(String::as_str), Some("/h/p/20.jpg"));

    // A replacement with other tags moves the variant between tags.
    put_tagged(&c, "demo", "/h/p/29.jpg", "v", &["t9", "all"]);
    assert_eq!(c.count("demo", &tags(&["t2"])).removed, 3);
    assert_eq!(c.count("demo", &tags(&["t9"])).removed, 1);
    c.lock().check();

    // A file gone from under the index drops its entry, tags included.
    std::fs::remove_file(c.object_path(&key("demo", "/h/p/28.jpg", "v"))).unwrap();
    c.lock().hot_max = 0;
    let cold = c.lookup(&key("demo", "/h/p/28.jpg", "v")).unwrap();
    let cold = Found { hot: None, ..cold };
    assert!(c.read(&cold).is_none());
    assert_eq!(c.count("demo", &tags(&["t1"])).removed, 2);
    c.lock().check();

    // Path, prefix and token purges take the tags of what they remove.
    c.purge_paths("demo", &paths(&["/h/p/20.jpg"]));
    c.lock().check();
    c.purge_paths("demo", &paths(&["/h/p/2*"]));
    c.lock().check();
    assert_eq!(c.count("demo", &tags(&["all"])).removed, 0);
    put_tagged(&c, "demo", "/h/q.jpg", "v", &["all"]);
    c.purge_token("demo");
    c.lock().check();
    assert_eq!(c.count("demo", &tags(&["all"])), c.count("demo", &Selection::Token));
    assert_eq!(c.stats().0, 0);
}

#[test]
fn a_dry_run_of_each_scope_counts_what_the_purge_then_removes() {
    let dir = tempfile::tempdir().unwrap();
    let one = {
        let body = b"demo/h/a/1.jpgw=1".to_vec();
        (file::header(&meta("demo", "/h/a/1.jpg", "w=1", &body)).unwrap().len() + body.len()) as u64
    };
    // Room for 7 (the other token's object is 2 bytes larger).
    let c = DiskCache::open(dir.path(), one * 7 + 16, 0).unwrap();
    for (p, v) in [("/h/a/1.jpg", "w=1"), ("/h/a/1.jpg", "w=2"), ("/h/a/2.jpg", "w=1"), ("/h/b/1.jpg", "w=1")] {
        put(&c, "demo", p, v);
    }
    put(&c, "other", "/h/a/1.jpg", "w=1");
    let overlapping = Selection::Paths(paths(&["/h/a/*", "/h/a/1.jpg", "/h/none.jpg"]));
    let counted = c.count("demo", &overlapping);
    assert_eq!((counted.removed, counted.urls.len()), (3, 3), "a path named twice counts once");

    // The count did not make its objects recently used: the oldest one
    // (/h/a/1.jpg w=1) is still the first evicted.
    for p in ["/h/c/1.jpg", "/h/d/1.jpg", "/h/e/1.jpg"] {
        put(&c, "demo", p, "w=1");
    }
    assert_eq!(c.stats().2, 1, "one evicted");
    assert!(!has(&c, "demo", "/h/a/1.jpg", "w=1") && has(&c, "demo", "/h/a/1.jpg", "w=2"));

    let counted = c.count("demo", &overlapping);
    assert_eq!(c.purge("demo", &overlapping), counted);
    assert_eq!(counted.removed, 2);
    let token = c.count("demo", &Selection::Token);
    assert_eq!((token.removed, token.bytes), (4, one * 4));
    assert_eq!(c.purge("demo", &Selection::Token), token);
    assert_eq!(c.count("other", &Selection::Token).removed, 1);
    c.lock().check();
}

#[test]
fn an_answer_stays_under_its_byte_limit() {
    let long = |i: usize| Arc::<str>::from(format!("/h/{i:04}/{}", "x".repeat(1000)));
    let tally = Tally { objects: 5000, bytes: 1, paths: (0..5000).map(long).collect(), ..Tally::default() };
    let purged = Purged::new(tally);
    assert!(!purged.paths_complete && purged.paths.len() < 5000 && purged.paths.len() > 400);
    let json = serde_json::to_vec(&PurgeAnswer::from(purged)).unwrap();
    assert!(json.len() <= PurgeAnswer::MAX_BYTES, "{}", json.len());

    let short = |i: usize| Arc::<str>::from(format!("/h/{i}.jpg"));
    let purged = Purged::new(Tally { objects: 3001, paths: (0..3001).map(short).collect(), ..Tally::default() });
    assert_eq!((purged.paths.len(), purged.paths_complete), (PurgeAnswer::MAX_PATHS, false));
    let purged = Purged::new(Tally { objects: 3000, paths: (0..3000).map(short).collect(), ..Tally::default() });
    assert_eq!((purged.paths.len(), purged.paths_complete), (3000, true));
}

/// Whether `file` is deleted within a few seconds (tag purges delete in the background).
fn gone_soon(file: &Path) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while file.exists() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    true
}

#[test]
fn a_purge_list_left_behind_is_finished_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let c = DiskCache::open(dir.path(), 1 << 20, 0).unwrap();
    shop(&c);
    // As if the process stopped between a tag purge's answer and its deletions.
    let variant = format!("demo/{}/{}", shard(&digest("/h/a.jpg")), digest("w=1"));
    let path = format!("demo/{}", shard(&digest("/h/b.jpg")));
    purged::record(dir.path(), "1-1", &[variant, path, "../../outside".into(), "demo/../other".into()]).unwrap();
    drop(c);
    let c = DiskCache::open(dir.path(), 1 << 20, 0).unwrap();
    assert!(!has(&c, "demo", "/h/a.jpg", "w=1") && !has(&c, "demo", "/h/b.jpg", "w=1"));
    assert!(has(&c, "demo", "/h/a.jpg", "w=2") && has(&c, "other", "/h/a.jpg", "w=1"), "bad lines are ignored");
    assert_eq!(c.stats().0, 4);
    assert_eq!(std::fs::read_dir(dir.path().join("purged")).unwrap().count(), 0);
    c.lock().check();
}

#[test]
fn heads_stay_with_entries_in_memory_and_follow_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let c = DiskCache::open(dir.path(), 1 << 20, 1 << 20).unwrap();
    put(&c, "demo", "/h/a.jpg", "v1");
    let meta = c.lookup(&key("demo", "/h/a.jpg", "v1")).unwrap().meta;
    let (none, cdn) = (Vec::new(), vec!["cache-tag".to_owned()]);
    let first = c.head(&meta, &none, 60, 120);
    assert!(Arc::ptr_eq(&first, &c.head(&meta, &none, 60, 120)), "built once");
    assert_eq!(first.cache_control, "public, max-age=60, s-maxage=120");
    let names: Vec<&str> = first.keys.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["xkey", "x-imgflush-token", "x-imgflush-path"]);
    assert_eq!(first.keys[0].1, imgflush::domain::cache_key::xkey_value::<&str>("demo", "/h/a.jpg", &[]));
    // Another tag header list or other ages: built again, and kept instead.
    let tagged = c.head(&meta, &cdn, 60, 120);
    assert!(!Arc::ptr_eq(&first, &tagged));
    assert_eq!(tagged.keys[1].0, "cache-tag");
    assert!(Arc::ptr_eq(&tagged, &c.head(&meta, &cdn, 60, 120)));
    assert_eq!(c.head(&meta, &cdn, 1, 2).cache_control, "public, max-age=1, s-maxage=2");
    // A copy the index does not hold (a miss's) gets one, not kept.
    let copy = Arc::new((*meta).clone());
    assert!(!Arc::ptr_eq(&c.head(&copy, &none, 60, 120), &c.head(&copy, &none, 60, 120)));
    assert!(c.lock().hot_bytes > meta.body_len, "a head counts in the memory budget");
    c.purge_token("demo");
    assert_eq!(c.lock().hot_bytes, 0);
}

#[test]
fn large_bodies_are_mapped_not_copied_and_outlive_their_file() {
    let dir = tempfile::tempdir().unwrap();
    let c = DiskCache::open(dir.path(), 1 << 30, 1 << 20).unwrap();
    let body = Bytes::from((0..600_000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let k = key("demo", "/h/big.jpg", "v");
    assert_eq!(c.store(meta("demo", "/h/big.jpg", "v", &body), &body, c.epoch("demo")).unwrap(), Stored::Yes);
    let cold = c.lookup(&k).unwrap();
    assert!(!DiskCache::is_in_memory(&cold), "never copied to the heap");
    assert_eq!(c.read(&cold).unwrap(), body);
    assert_eq!(c.lock().hot_bytes, MAPPED_COST, "the mapping is kept");
    let kept = c.lookup(&k).unwrap();
    assert!(DiskCache::is_in_memory(&kept));
    c.purge_token("demo");
    assert_eq!(c.lock().hot_bytes, 0);
    assert!(!c.object_path(&k).exists());
    let _ = std::fs::remove_dir_all(dir.path().join("trash")); // or the background deletion did
    assert_eq!(c.read(&kept).unwrap(), body, "a mapping outlives its file");
    assert!(c.lookup(&k).is_none());
}
