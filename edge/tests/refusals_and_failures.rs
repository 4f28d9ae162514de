//! Signed URLs, SSRF and resource guards, bad parameters, origin failures.

mod common;

use std::time::Duration;

use common::*;

async fn expect(h: &Harness, url: &str, status: u16, reason: &str) {
    let res = h.get(url).await;
    assert_eq!(res.status().as_u16(), status, "{url}");
    assert_eq!(header(&res, "cache-control"), "no-store");
    let text = res.text().await.unwrap();
    assert!(text.contains(reason), "{url}: {text:?} lacks {reason:?}");
    assert_eq!(text.lines().count(), 1, "one-line reason");
}

#[tokio::test]
async fn signed_and_sealed_urls() {
    let h = Harness::start().await;
    h.origin.state.put("/s.jpg", Answer::Body(jpeg(100, 100, RED)));
    let o = h.origin.host();
    let sig = edge::signature("salt", &format!("/{o}/s.jpg?w=50"), 18);
    let ok = h.get(&h.url("signed", &format!("/s.jpg?ci_sign={sig}&w=50"))).await;
    assert_eq!(ok.status(), 200);
    expect(&h, &h.url("signed", &format!("/s.jpg?ci_sign={sig}&w=60")), 403, "ci_sign").await;
    expect(&h, &h.url("signed", "/s.jpg?w=50"), 403, "not signed").await;

    let eqs = "dz01MA"; // base64url("w=50")
    let seal = edge::seal("salt", &format!("/{o}/s.jpg"), eqs, 18);
    let ok = h.get(&h.url("sealed", &format!("/s.jpg?ci_eqs={eqs}&ci_seal={seal}&w=999"))).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(inspect(&ok.bytes().await.unwrap()).0, 50, "sealed w wins over the open one");
    expect(&h, &h.url("sealed", &format!("/s.jpg?ci_eqs=dz02MA&ci_seal={seal}")), 403, "ci_seal").await;
}

/// The anchor's client signs the name as written (`my image.jpg`), and a
/// browser sends it percent-encoded: the edge verifies the decoded form and
/// asks the origin for the name once encoded (never `%2520`).
#[tokio::test]
async fn signed_urls_of_names_with_spaces_and_non_ascii_characters() {
    let h = Harness::start().await;
    let o = h.origin.host();
    for (written, sent) in
        [("/my image.jpg", "/my%20image.jpg"), ("/café/ünïcode.jpg", "/caf%C3%A9/%C3%BCn%C3%AFcode.jpg")]
    {
        h.origin.state.put(sent, Answer::Body(jpeg(100, 100, RED)));
        let before = h.origin.state.hits();
        let sig = edge::signature("salt", &format!("/{o}{written}?w=50"), 18);
        let ok = h.get(&h.url("signed", &format!("{sent}?ci_sign={sig}&w=50"))).await;
        assert_eq!(ok.status(), 200, "{written}");
        assert_eq!(inspect(&ok.bytes().await.unwrap()).0, 50, "{written}");
        assert_eq!(h.origin.state.hits(), before + 1, "{written}: the origin was asked for {sent}");
        expect(&h, &h.url("signed", &format!("{sent}?ci_sign={sig}&w=60")), 403, "ci_sign").await;

        let eqs = "dz01MA"; // base64url("w=50")
        let seal = edge::seal("salt", &format!("/{o}{written}"), eqs, 18);
        let sealed = h.get(&h.url("sealed", &format!("{sent}?ci_eqs={eqs}&ci_seal={seal}"))).await;
        assert_eq!(sealed.status(), 200, "{written} sealed");
        assert_eq!(inspect(&sealed.bytes().await.unwrap()).0, 50);
    }
    // `+` stays a plus (not a space): a signature over a space does not hold for it.
    h.origin.state.put("/a+b.jpg", Answer::Body(jpeg(100, 100, RED)));
    let sig = edge::signature("salt", &format!("/{o}/a b.jpg?w=50"), 18);
    expect(&h, &h.url("signed", &format!("/a+b.jpg?ci_sign={sig}&w=50")), 403, "ci_sign").await;
    let sig = edge::signature("salt", &format!("/{o}/a+b.jpg?w=50"), 18);
    assert_eq!(h.get(&h.url("signed", &format!("/a+b.jpg?ci_sign={sig}&w=50"))).await.status(), 200);
}

#[tokio::test]
async fn ssrf_and_resource_guards() {
    let h = Harness::start_with(|c| {
        c.limits.max_origin_bytes = 200_000;
        c.limits.max_pixels = 10_000_000;
    })
    .await;
    let s = &h.origin.state;
    s.put("/ok.jpg", Answer::Body(jpeg(64, 64, RED)));
    s.put("/moved.jpg", Answer::Redirect("http://example.com/x.jpg".into()));
    s.put("/big.bin", Answer::Body(vec![0xff; 300_000]));
    s.put("/bomb.png", Answer::Body(png_header_only(100_000, 100_000)));
    s.put("/page.html", Answer::Body(b"<html></html>".to_vec()));

    expect(&h, &format!("http://{}/demo/example.com/ok.jpg", h.addr), 403, "not allowed").await;
    expect(&h, &h.url("demo", "/moved.jpg"), 502, "origin redirected").await;
    expect(&h, &h.url("strict", "/ok.jpg"), 403, "private").await;
    let port = h.origin.addr.port();
    expect(&h, &format!("http://{}/strict/localhost:{port}/ok.jpg", h.addr), 403, "private").await;
    expect(&h, &format!("http://{}/strict/2130706433:{port}/ok.jpg", h.addr), 403, "private").await;
    expect(&h, &h.url("demo", "/big.bin"), 502, "larger than 200000 bytes").await;
    expect(&h, &h.url("demo", "/bomb.png?w=10"), 422, "100000x100000").await;
    expect(&h, &h.url("demo", "/page.html"), 422, "not a JPEG").await;
    expect(&h, &h.url("demo", "/ok.jpg?w=abc"), 400, "parameter w").await;
    expect(&h, &h.url("demo", "/ok.jpg?w=0"), 400, "parameter w").await;
    expect(&h, &h.url("demo", "/ok.jpg?force_format=tiff"), 400, "parameter force_format").await;
    expect(&h, &format!("http://{}/nobody/{}/ok.jpg", h.addr, h.origin.host()), 404, "unknown token").await;

    let ok = h.get(&h.url("demo", "/ok.jpg?force_format=webp&q=60")).await;
    assert_eq!((ok.status().as_u16(), header(&ok, "content-type")), (200, "image/webp".to_owned()));
    let png = h.get(&h.url("demo", "/ok.jpg?force_format=png&w=32&h=16&func=fit")).await;
    assert_eq!(inspect(&png.bytes().await.unwrap()).0, 32);
}

/// A PNG whose header claims `w`×`h` pixels, with almost no data behind it.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

#[tokio::test]
async fn expired_copy_is_served_while_the_origin_is_down_but_never_after_a_purge() {
    let mut h = Harness::start().await;
    h.origin.state.put("/e.jpg", Answer::Body(jpeg(64, 64, RED)));
    let url = h.url("demo", "/e.jpg?ci_cache=1");
    let first = h.get(&url).await;
    assert_eq!(header(&first, "cache-control"), "public, max-age=1, s-maxage=1");
    let body = first.bytes().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    h.origin.state.put("/e.jpg", Answer::Status(503));
    let stale = h.get(&url).await;
    assert_eq!((stale.status().as_u16(), x_cache(&stale)), (200, "HIT".to_owned()));
    assert!(header(&stale, "warning").contains("Stale"));
    assert_eq!(stale.bytes().await.unwrap(), body);

    let origin_path = h.origin_path("/e.jpg");
    let addr = h.origin.addr;
    // The origin process goes away entirely: still served.
    let gone_origin = std::mem::replace(&mut h.origin, OriginServer::start().await);
    gone_origin.stop().await;
    let down = h.get(&format!("http://{}/demo/{addr}/e.jpg?ci_cache=1", h.addr)).await;
    assert_eq!(down.status(), 200);
    assert_eq!(down.bytes().await.unwrap(), body);

    assert_eq!(h.purge_paths("demo", &[origin_path]).await, 1);
    let gone = h.get(&format!("http://{}/demo/{addr}/e.jpg?ci_cache=1", h.addr)).await;
    assert_eq!(gone.status(), 502, "a purged copy is never served");
}

#[tokio::test]
async fn origin_404_is_cached_briefly() {
    // 2 s: with whole-second timestamps an entry is fresh for at least 1 s.
    let h = Harness::start_with(|c| c.limits.not_found_ttl = Duration::from_secs(2)).await;
    let url = h.url("demo", "/late.jpg?w=10");
    let first = h.get(&url).await;
    assert_eq!(first.status(), 404);
    assert_eq!(header(&first, "cache-control"), "public, max-age=2, s-maxage=2");
    h.origin.state.put("/late.jpg", Answer::Body(jpeg(20, 20, RED)));
    let second = h.get(&url).await;
    assert_eq!((second.status().as_u16(), x_cache(&second)), (404, "HIT".to_owned()));
    assert_eq!(h.origin.state.hits(), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(h.get(&url).await.status(), 200);
}

#[tokio::test]
async fn a_tiny_cache_still_serves() {
    let h = Harness::start_with(|c| c.cache_max_bytes = 100).await;
    h.origin.state.put("/t.jpg", Answer::Body(jpeg(64, 64, RED)));
    for _ in 0..2 {
        let res = h.get(&h.url("demo", "/t.jpg")).await;
        assert_eq!((res.status().as_u16(), x_cache(&res)), (200, "MISS".to_owned()));
    }
    let metrics = h.get(&format!("http://{}/metrics", h.admin)).await.text().await.unwrap();
    assert!(metrics.contains("edge_cache_store_failures_total 2"), "{metrics}");
}

#[tokio::test]
async fn exif_rotated_jpeg_comes_out_upright_without_metadata() {
    let h = Harness::start().await;
    // Stored 200x100, left half red, right half blue; orientation 6 means
    // "rotate 90° clockwise to display", so upright it is 100x200, red on top.
    let img = image::RgbImage::from_fn(200, 100, |x, _| image::Rgb(if x < 100 { RED } else { BLUE }));
    let plain = encode(image::DynamicImage::ImageRgb8(img), image::ImageFormat::Jpeg);
    let tagged = with_exif(&plain, 6);
    assert!(tagged.windows(4).any(|w| w == b"Exif"));
    h.origin.state.put("/r.jpg", Answer::Body(tagged));

    for q in ["", "?w=50"] {
        let res = h.get(&h.url("demo", &format!("/r.jpg{q}"))).await;
        let body = res.bytes().await.unwrap();
        let img = image::load_from_memory(&body).unwrap().to_rgb8();
        let (w, hh) = img.dimensions();
        assert_eq!(hh, w * 2, "upright: portrait ({w}x{hh})");
        assert!(close(img.get_pixel(w / 2, hh / 4).0, RED) && close(img.get_pixel(w / 2, hh * 3 / 4).0, BLUE));
        assert!(!body.windows(4).any(|w| w == b"Exif"), "metadata stripped");
    }
}

/// Inserts an APP1 Exif segment (orientation + a GPS IFD) after SOI.
fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    let gps_offset: u32 = 8 + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&[0x88, 0x25, 0x00, 0x04, 0, 0, 0, 1]);
    tiff.extend_from_slice(&gps_offset.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&[0x00, 0x01, 0x00, 0x02, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}
