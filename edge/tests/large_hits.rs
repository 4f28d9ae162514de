//! Hits of large objects (above the heap tier's 256 KB: served from a
//! mapping of their file) and the headers prebuilt per object: the same
//! bytes and headers as a miss, HEAD, 304, keep-alive mixing sizes, purges.

mod common;

use std::collections::BTreeMap;

use common::*;
use futures::StreamExt;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Random pixels: a PNG of about 3 × side² bytes, whatever the encoder.
fn noise(side: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let img = RgbImage::from_fn(side, side, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let [r, g, b, _] = seed.to_le_bytes();
        Rgb([r, g, b])
    });
    encode(DynamicImage::ImageRgb8(img), ImageFormat::Png)
}

/// Every header but those that change from one answer to the next.
fn fixed(res: &reqwest::Response) -> BTreeMap<String, String> {
    res.headers()
        .iter()
        .filter(|(n, _)| !matches!(n.as_str(), "age" | "date" | "x-cache"))
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
        .collect()
}

async fn large(h: &Harness, side: u32) -> String {
    h.origin.state.put("/big.png", Answer::Body(noise(side)));
    h.url("demo", "/big.png")
}

#[tokio::test]
async fn a_large_hit_has_the_bytes_and_headers_of_its_miss() {
    let mut h = Harness::start().await;
    let url = large(&h, 400).await;
    let miss = h.get(&url).await;
    assert_eq!(x_cache(&miss), "MISS");
    let headers = fixed(&miss);
    let body = miss.bytes().await.unwrap();
    assert!(body.len() > 256 * 1024, "{} bytes: above the heap tier", body.len());
    let sum = crc32fast::hash(&body);
    // From the file, then from the kept mapping with the prebuilt headers.
    for _ in 0..3 {
        let hit = h.get(&url).await;
        assert_eq!(x_cache(&hit), "HIT");
        assert_eq!(fixed(&hit), headers);
        assert_eq!(crc32fast::hash(&hit.bytes().await.unwrap()), sum);
    }
    h.restart_edge().await;
    let hit = h.get(&h.url("demo", "/big.png")).await;
    assert_eq!(x_cache(&hit), "HIT", "from the file after a restart");
    assert_eq!(fixed(&hit), headers);
    assert_eq!(crc32fast::hash(&hit.bytes().await.unwrap()), sum);
    assert_eq!(h.origin.state.hits(), 1);
}

#[tokio::test]
async fn head_and_304_of_a_large_hit() {
    let h = Harness::start().await;
    let url = large(&h, 400).await;
    let body = h.get(&url).await.bytes().await.unwrap();
    h.get(&url).await.bytes().await.unwrap();
    let head = h.client.head(&url).send().await.unwrap();
    assert_eq!((head.status().as_u16(), x_cache(&head)), (200, "HIT".to_owned()));
    assert_eq!(header(&head, "content-length"), body.len().to_string());
    let etag = header(&head, "etag");
    assert!(head.bytes().await.unwrap().is_empty());
    let not_modified = h.client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(header(&not_modified, "etag"), etag);
    assert!(not_modified.headers().get("content-type").is_none());
    assert!(not_modified.bytes().await.unwrap().is_empty());
}

/// One HTTP/1.1 exchange on an open connection: (status, headers, body).
async fn exchange(
    conn: &mut BufReader<TcpStream>,
    method: &str,
    target: &str,
    extra: &str,
) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    let req = format!("{method} {target} HTTP/1.1\r\nhost: 127.0.0.1\r\n{extra}\r\n");
    conn.get_mut().write_all(req.as_bytes()).await.unwrap();
    let mut line = String::new();
    conn.read_line(&mut line).await.unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = BTreeMap::new();
    loop {
        line.clear();
        conn.read_line(&mut line).await.unwrap();
        let Some((n, v)) = line.trim_end().split_once(':') else { break };
        headers.insert(n.to_ascii_lowercase(), v.trim().to_owned());
    }
    let len = match (method, status) {
        ("HEAD", _) | (_, 304) => 0,
        _ => headers["content-length"].parse().unwrap(),
    };
    let mut body = vec![0; len];
    conn.read_exact(&mut body).await.unwrap();
    (status, headers, body)
}

#[tokio::test]
async fn one_connection_mixes_large_small_misses_head_and_304() {
    let h = Harness::start().await;
    let url = large(&h, 400).await;
    let body = h.get(&url).await.bytes().await.unwrap();
    h.origin.state.put("/small.jpg", Answer::Body(jpeg(64, 48, RED)));
    let target = |u: &str| format!("/{}", u.splitn(4, '/').nth(3).unwrap());
    let (big, small) = (target(&url), target(&h.url("demo", "/small.jpg")));
    let mut conn = BufReader::new(TcpStream::connect(h.addr).await.unwrap());
    let (s, hd, b) = exchange(&mut conn, "GET", &big, "").await;
    assert_eq!((s, hd["x-cache"].as_str(), b.len()), (200, "HIT", body.len()));
    assert_eq!(crc32fast::hash(&b), crc32fast::hash(&body));
    let (s, hd, small_body) = exchange(&mut conn, "GET", &small, "").await;
    assert_eq!((s, hd["x-cache"].as_str()), (200, "MISS"));
    let (_, hd, b) = exchange(&mut conn, "GET", &small, "").await;
    assert_eq!((hd["x-cache"].as_str(), b), ("HIT", small_body));
    let (s, hd, b) = exchange(&mut conn, "HEAD", &big, "").await;
    assert_eq!((s, hd["content-length"].clone(), b.len()), (200, body.len().to_string(), 0));
    let etag = hd["etag"].clone();
    let (s, _, b) = exchange(&mut conn, "GET", &big, &format!("if-none-match: {etag}\r\n")).await;
    assert_eq!((s, b.len()), (304, 0));
    let (s, hd, b) = exchange(&mut conn, "GET", &big, "").await;
    assert_eq!((s, hd["x-cache"].as_str()), (200, "HIT"));
    assert_eq!(crc32fast::hash(&b), crc32fast::hash(&body));
    let (s, hd, _) = exchange(&mut conn, "GET", &format!("{big}?w=10"), "").await;
    assert_eq!((s, hd["x-cache"].as_str()), (200, "MISS"));
}

#[tokio::test]
async fn a_purge_while_a_large_hit_is_sent_keeps_its_bytes_and_the_next_is_a_miss() {
    let h = Harness::start().await;
    let url = large(&h, 700).await;
    let body = h.get(&url).await.bytes().await.unwrap();
    h.get(&url).await.bytes().await.unwrap();
    let hit = h.get(&url).await;
    assert_eq!(x_cache(&hit), "HIT");
    let mut stream = hit.bytes_stream();
    let mut got = Vec::new();
    got.extend_from_slice(&stream.next().await.unwrap().unwrap());
    assert_eq!(h.purge_paths("demo", &[h.origin_path("/big.png")]).await, 1);
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(crc32fast::hash(&got), crc32fast::hash(&body), "the answer begun before the purge is whole");
    assert_eq!(x_cache(&h.get(&url).await), "MISS");
    assert_eq!(x_cache(&h.get(&url).await), "HIT");
}
