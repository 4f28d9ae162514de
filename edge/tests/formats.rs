//! Output formats end to end, with a real origin on 127.0.0.1: AVIF (`q`,
//! alpha), the automatic choice from `Accept` with one cache entry per
//! format class and `Vary: Accept`, purges of every format variant, and
//! downscaling in linear light.

mod common;

use common::*;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use imgflush::domain::{OriginPath, Tag, TagRule};
use serde_json::json;

const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
const FIREFOX: &str = "image/avif,image/webp,*/*";
const SAFARI_14: &str = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";
const WEBP_ONLY: &str = "image/webp,*/*";

/// `demo` chooses formats automatically and tags `/{origin}/f/*` with
/// `formats`; `signed` resizes in linear light; `other` keeps the defaults.
async fn harness() -> Harness {
    Harness::start_with(|c| {
        let edge::SettingsConfig::Static(list) = &mut c.settings else { unreachable!() };
        let origin = list[0].allowed_origin_hosts[0].clone();
        list[0].auto_format = true;
        list[0].tag_rules = vec![TagRule {
            pattern: OriginPath::parse(&format!("/{origin}/f/*")).unwrap(),
            tag: Tag::parse("formats").unwrap(),
        }];
        let linear = list.iter_mut().find(|p| p.token == "strict").unwrap();
        linear.linear_light = true;
        linear.allow_private_origins = true;
    })
    .await
}

/// A photo-like JPEG: gradients and texture, so encoders have work to do.
fn photo(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| {
        let t = ((x * 31 + y * 17) ^ (x / 3 * y / 7)) % 64;
        Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, (96 + t) as u8])
    });
    encode(DynamicImage::ImageRgb8(img), ImageFormat::Jpeg)
}

async fn get(h: &Harness, url: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = h.client.get(url);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    req.send().await.unwrap()
}

/// Content type, X-Cache and Vary of a response.
fn seen(res: &reqwest::Response) -> (String, String, String) {
    (header(res, "content-type"), x_cache(res), header(res, "vary"))
}

fn s(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.to_owned(), b.to_owned(), c.to_owned())
}

#[tokio::test]
async fn accept_picks_one_entry_per_format_class_and_every_answer_varies() {
    let h = harness().await;
    h.origin.state.put("/f/a.jpg", Answer::Body(photo(640, 480)));
    let url = h.url("demo", "/f/a.jpg?w=200");

    let avif = get(&h, &url, Some(CHROME)).await;
    assert_eq!(seen(&avif), s("image/avif", "MISS", "Accept"));
    assert_eq!(avif_dimensions(&avif.bytes().await.unwrap()), Some((200, 150)));
    assert_eq!(seen(&get(&h, &url, Some(FIREFOX)).await), s("image/avif", "HIT", "Accept"));
    assert_eq!(seen(&get(&h, &url, Some(SAFARI_14)).await), s("image/webp", "MISS", "Accept"));
    assert_eq!(seen(&get(&h, &url, Some(WEBP_ONLY)).await), s("image/webp", "HIT", "Accept"));
    let jpeg = get(&h, &url, Some("*/*")).await;
    assert_eq!(seen(&jpeg), s("image/jpeg", "MISS", "Accept"));
    let etag = header(&jpeg, "etag");
    assert_eq!(seen(&get(&h, &url, None).await), s("image/jpeg", "HIT", "Accept"));
    assert_eq!(seen(&get(&h, &url, Some("image/avif;q=0,image/*")).await), s("image/jpeg", "HIT", "Accept"));
    assert_eq!(h.origin.state.hits(), 3, "one origin fetch per format class");

    let not_modified = h.client.get(&url).header("accept", "*/*").header("if-none-match", &etag).send().await.unwrap();
    assert_eq!((not_modified.status().as_u16(), header(&not_modified, "vary")), (304, "Accept".to_owned()));

    // A forced format is the same entry as the automatic choice, and does not vary.
    let forced = get(&h, &format!("{url}&force_format=avif"), Some("*/*")).await;
    assert_eq!(seen(&forced), s("image/avif", "HIT", ""));
    // `f=auto` (the source format) stays apart from an explicit `force_format=jpg`, as before.
    assert_eq!(seen(&get(&h, &format!("{url}&force_format=jpg"), Some(CHROME)).await), s("image/jpeg", "MISS", ""));
    // A project without automatic formats answers the source format, without Vary.
    let plain = get(&h, &h.url("other", "/f/a.jpg?w=200"), Some(CHROME)).await;
    assert_eq!(seen(&plain), s("image/jpeg", "MISS", ""));
}

#[tokio::test]
async fn path_prefix_and_tag_purges_remove_every_format_variant() {
    let h = harness().await;
    h.origin.state.put("/f/b.jpg", Answer::Body(photo(320, 240)));
    let url = h.url("demo", "/f/b.jpg?w=100");
    let fill = || async {
        for accept in [CHROME, SAFARI_14, "*/*"] {
            assert_eq!(x_cache(&get(&h, &url, Some(accept)).await), "MISS", "{accept}");
        }
    };
    fill().await;
    // The purge answer names each variant by a query selecting it again.
    let path = h.origin_path("/f/b.jpg");
    let (_, dry) = h.purge(json!({"token": "demo", "scope": "original", "paths": [path], "dry_run": true})).await;
    let mut urls: Vec<String> = serde_json::from_value(dry["urls"].clone()).unwrap();
    urls.sort();
    let q = |f: &str| format!("{path}?w=100{f}");
    assert_eq!(urls, [q(""), q("&force_format=avif"), q("&force_format=webp")]);
    for u in &urls {
        let again = get(&h, &format!("http://{}/demo{u}", h.addr), Some("*/*")).await;
        assert_eq!(x_cache(&again), "HIT", "{u}");
    }

    assert_eq!(h.purge_paths("demo", std::slice::from_ref(&path)).await, 3);
    fill().await;
    assert_eq!(h.purge_paths("demo", &[h.origin_path("/f/*")]).await, 3);
    fill().await;
    let (status, body) = h.purge(json!({"token": "demo", "scope": "tag", "tags": ["formats"]})).await;
    assert_eq!((status, body["removed"].as_u64()), (200, Some(3)), "{body}");
    fill().await;
}

#[tokio::test]
async fn avif_keeps_alpha_and_honours_q() {
    let h = harness().await;
    let cut_out = RgbaImage::from_fn(300, 200, |x, y| {
        let inside = (x as i32 - 150).pow(2) + (y as i32 - 100).pow(2) < 80 * 80;
        Rgba([(x % 256) as u8, (y * 3 % 256) as u8, 120, if inside { 255 } else { 0 }])
    });
    h.origin.state.put("/f/logo.png", Answer::Body(encode(DynamicImage::ImageRgba8(cut_out), ImageFormat::Png)));
    let res = get(&h, &h.url("demo", "/f/logo.png?w=150"), Some(CHROME)).await;
    assert_eq!(header(&res, "content-type"), "image/avif");
    let body = res.bytes().await.unwrap();
    assert!(avif_has_alpha(&body), "the transparent corners stay transparent");
    assert_eq!(avif_dimensions(&body), Some((150, 100)));

    h.origin.state.put("/f/photo.jpg", Answer::Body(photo(640, 480)));
    let mut sizes = Vec::new();
    for q in [20, 50, 90] {
        let res = get(&h, &h.url("other", &format!("/f/photo.jpg?w=300&force_format=avif&q={q}")), None).await;
        assert_eq!(header(&res, "content-type"), "image/avif");
        sizes.push(res.bytes().await.unwrap().len());
    }
    assert!(sizes[0] < sizes[1] && sizes[1] < sizes[2], "higher q, larger file: {sizes:?}");
}

#[tokio::test]
async fn linear_light_averages_fine_stripes_to_their_brightness() {
    let h = harness().await;
    let stripes = RgbImage::from_fn(64, 64, |x, _| if x % 2 == 0 { Rgb([0, 0, 0]) } else { Rgb([255, 255, 255]) });
    h.origin.state.put("/f/stripes.png", Answer::Body(encode(DynamicImage::ImageRgb8(stripes), ImageFormat::Png)));
    let mut greys = Vec::new();
    for token in ["strict", "other"] {
        let res = h.get(&h.url(token, "/f/stripes.png?w=32")).await;
        greys.push(inspect(&res.bytes().await.unwrap()).2[0]);
    }
    let (linear, gamma) = (greys[0], greys[1]);
    assert!((183..=193).contains(&linear), "linear light: {linear}");
    assert!((123..=133).contains(&gamma), "gamma space: {gamma}");
}

/// Width and height from the AVIF's first `ispe` box.
fn avif_dimensions(avif: &[u8]) -> Option<(u32, u32)> {
    let at = avif.windows(4).position(|w| w == b"ispe")? + 8;
    let be = |i: usize| Some(u32::from_be_bytes(avif.get(i..i + 4)?.try_into().ok()?));
    Some((be(at)?, be(at + 4)?))
}

/// An auxiliary alpha image (`auxC` naming the alpha URN) is present.
fn avif_has_alpha(avif: &[u8]) -> bool {
    const URN: &[u8] = b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha";
    avif.windows(URN.len()).any(|w| w == URN)
}
