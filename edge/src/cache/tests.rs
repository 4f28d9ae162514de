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
