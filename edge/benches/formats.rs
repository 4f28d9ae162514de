//! Output formats, each beside its peer measured in the same run
//! (`bench/run.sh formats`; needs `libvips-tools`, `webp`, `libavif-bin`):
//! - AVIF of a 500 px wide variant of a 4000×3000 JPEG: the edge's
//!   transform (rav1e) against `vipsthumbnail … -o x.avif[Q=..]` (libaom), at
//!   equal SSIM: the edge at its default q=80, vips's Q searched for the
//!   smallest that reaches the same SSIM. Both are compared with one
//!   reference, the generated image resized to 500 px with Lanczos3; SSIM is
//!   the mean over 8×8 windows (stride 4) of luma (BT.601, the goal's
//!   metric), and beside it of RGB (the mean of R, G and B's, which counts
//!   chroma too) with vips's bytes at equal RGB SSIM. AVIF is decoded with
//!   `avifdec`. `AVIF_SWEEP=1`: only a table of rav1e settings (preset,
//!   chroma, tiles, tune, q) against vips's curve, for README "Formats".
//! - the same for WebP against `cwebp -resize 500 0`;
//! - an AVIF miss over HTTP (origin and edge on 127.0.0.1, Chrome's Accept);
//! - the automatic format's savings on 20 generated images (JPEG photos and
//!   PNG cut-outs with alpha) at w=500.
//!
//! `BENCH_SMALL=1`: a smoke run in seconds on the debug build (where rav1e
//! is ~100× slower): an 800×600 source, 64 px outputs, one run, no search,
//! 2 images of each kind.

#[path = "support/timing.rs"]
mod timing;

use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use timing::{median, timed};

use edge::{render, Format, OutputRules, Params};
use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};

const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

struct Setup {
    small: bool,
    runs: usize,
    /// Output width: 500, or 64 in a smoke run.
    width: u32,
    dir: PathBuf,
}

fn main() {
    let small = std::env::var("BENCH_SMALL").is_ok_and(|v| v == "1");
    let tmp = tempfile::tempdir().unwrap();
    let s = Setup {
        small,
        runs: if small { 1 } else { 5 },
        width: if small { 64 } else { 500 },
        dir: tmp.path().to_owned(),
    };
    let (w, h) = if small { (800, 600) } else { (4000, 3000) };
    let photo = scene(w, h, 7);
    let jpeg = encode_jpeg(&photo, 90);
    let input = s.dir.join("in.jpg");
    std::fs::write(&input, &jpeg).unwrap();
    let reference = DynamicImage::ImageRgb8(photo).resize(s.width, u32::MAX, FilterType::Lanczos3).to_rgb8();
    println!("Source: a generated {w}x{h} photo-like JPEG (q=90, {} bytes); output {} px wide.", jpeg.len(), s.width);
    println!("SSIM against the generated image resized with Lanczos3 (8x8 windows, stride 4): of luma (BT.601), the");
    println!("goal's metric, and of RGB (the mean of R, G and B's), which also counts chroma.\n");
    println!("| figure | edge | peer | edge / peer | goal |");
    println!("|---|---|---|---|---|");
    // `strip`: the edge sends no metadata either (vips would add ~190 bytes of Exif).
    let avif = |q: u8, out: &Path| {
        run_tool(
            "vipsthumbnail",
            &[
                input.as_os_str(),
                "--size".as_ref(),
                format!("{}x", s.width).as_ref(),
                "-o".as_ref(),
                format!("{}[Q={q},strip]", out.display()).as_ref(),
            ],
        )
    };
    if std::env::var("AVIF_SWEEP").is_ok_and(|v| v == "1") {
        return sweep(&s, &jpeg, &reference, &avif);
    }
    compare(&s, &jpeg, &reference, Format::Avif, "AVIF", "vipsthumbnail (libaom)", &avif);
    let webp = |q: u8, out: &Path| {
        run_tool(
            "cwebp",
            &[
                "-quiet".as_ref(),
                "-q".as_ref(),
                q.to_string().as_ref(),
                "-resize".as_ref(),
                s.width.to_string().as_ref(),
                "0".as_ref(),
                input.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
            ],
        )
    };
    compare(&s, &jpeg, &reference, Format::Webp, "WebP", "cwebp", &webp);
    http_miss(&s, &jpeg);
    savings(&s);
}

/// The edge at its default q against the peer at the smallest Q reaching
/// the same SSIM.
fn compare(
    s: &Setup,
    jpeg: &[u8],
    reference: &RgbImage,
    format: Format,
    name: &str,
    peer: &str,
    tool: &dyn Fn(u8, &Path),
) {
    let params = Params { w: Some(s.width), force_format: Some(format), ..Params::default() };
    let (mut times, mut body) = (Vec::new(), Vec::new());
    for _ in 0..s.runs {
        let t = Instant::now();
        body = render(jpeg, &params, u64::MAX, &rules()).unwrap().body;
        times.push(t.elapsed());
    }
    let decoded = decode(s, format, &body).to_rgb8();
    let ours = (ssim(&luma(reference), &luma(&decoded)), ssim_rgb(reference, &decoded));
    let ours_t = median(times);
    let out = s.dir.join(format!("peer.{}", format.name()));
    let quality = |q: u8| {
        tool(q, &out);
        let bytes = std::fs::read(&out).unwrap();
        let peer = decode(s, format, &bytes).to_rgb8();
        ((ssim(&luma(reference), &luma(&peer)), ssim_rgb(reference, &peer)), bytes.len())
    };
    // The smallest Q whose SSIM (luma: the goal's; RGB: beside it) reaches the edge's (SSIM grows with Q).
    let smallest = |metric: fn((f64, f64)) -> f64| {
        let (mut lo, mut hi) = (1u8, 100u8);
        if s.small {
            (lo, hi) = (60, 60);
        }
        while lo < hi {
            let mid = (lo + hi) / 2;
            if metric(quality(mid).0) >= metric(ours) {
                hi = mid
            } else {
                lo = mid + 1
            }
        }
        lo
    };
    let lo = smallest(|m| m.0);
    let (peer_ssim, peer_bytes) = quality(lo);
    let peer_t = median((0..s.runs).map(|_| timed(|| tool(lo, &out))).collect());
    let (tr, br) = (secs(ours_t) / secs(peer_t), body.len() as f64 / peer_bytes as f64);
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let (ol, orgb, pl, prgb) = (ours.0, ours.1, peer_ssim.0, peer_ssim.1);
    println!("| {name} encode time: edge q=80 (SSIM luma {ol:.4}, RGB {orgb:.4}) / {peer} Q={lo} (SSIM luma {pl:.4}, RGB {prgb:.4}) | {:.0} ms | {:.0} ms | {tr:.2}x | <= 1.5x: {} |", ms(ours_t), ms(peer_t), verdict(tr <= 1.5));
    println!(
        "| {name} bytes, same settings (equal luma SSIM) | {} | {peer_bytes} | {br:.2}x | <= 1.1x: {} |",
        body.len(),
        verdict(br <= 1.1)
    );
    let q_rgb = smallest(|m| m.1);
    let (rgb_ssim, rgb_bytes) = quality(q_rgb);
    println!(
        "| {name} bytes at equal RGB SSIM: {peer} Q={q_rgb} (SSIM RGB {:.4}) | {} | {rgb_bytes} | {:.2}x | (colour-aware check) |",
        rgb_ssim.1,
        body.len(),
        body.len() as f64 / rgb_bytes as f64
    );
}

/// `AVIF_SWEEP=1`: rav1e's settings on the edge's own 500 px resize (encode
/// only), each against vips's bytes at equal SSIM from vips's curve (Q 20–95).
fn sweep(s: &Setup, jpeg: &[u8], reference: &RgbImage, tool: &dyn Fn(u8, &Path)) {
    use edge::avif::{encode_tuned, Chroma, Tune, Tuning, TUNING};
    let params = Params { w: Some(s.width), force_format: Some(Format::Png), ..Params::default() };
    let resized = image::load_from_memory(&render(jpeg, &params, u64::MAX, &rules()).unwrap().body).unwrap();
    let out = s.dir.join("peer.avif");
    let curve: Vec<(u8, f64, f64, usize)> = (20..=95)
        .map(|q| {
            tool(q, &out);
            let bytes = std::fs::read(&out).unwrap();
            let peer = decode(s, Format::Avif, &bytes).to_rgb8();
            (q, ssim(&luma(reference), &luma(&peer)), ssim_rgb(reference, &peer), bytes.len())
        })
        .collect();
    let vips_t = median((0..3).map(|_| timed(|| tool(60, &out))).collect());
    println!("vipsthumbnail Q=60 (whole thumbnail): {:.0} ms\n", ms(vips_t));
    println!("| setting | q | encode | bytes | SSIM luma / RGB | vips equal luma: Q, bytes, ratio | vips equal RGB: Q, bytes, ratio |");
    println!("|---|---|---|---|---|---|---|");
    let (psy, psnr) = (Tune::Psychovisual, Tune::Psnr);
    let mut settings = vec![(Tuning { speed: 10, chroma: Chroma::Cs444, tiles: 0, tune: psy }, 80)];
    for speed in [10, 9, 8, 7, 6] {
        settings.push((Tuning { speed, chroma: Chroma::Cs420, tiles: 1, tune: psy }, 80));
        settings.push((Tuning { speed, chroma: Chroma::Cs420, tiles: 1, tune: psnr }, 80));
    }
    settings.push((Tuning { speed: 8, chroma: Chroma::Cs420, tiles: 2, tune: psnr }, 80));
    for q in [60, 70, 90] {
        settings.push((TUNING, q));
    }
    for (t, q) in settings {
        let mut body = Vec::new();
        let time = median((0..3).map(|_| timed(|| body = encode_tuned(&resized, q, t).unwrap())).collect());
        let dec = decode(s, Format::Avif, &body).to_rgb8();
        let (l, c) = (ssim(&luma(reference), &luma(&dec)), ssim_rgb(reference, &dec));
        let eq = |k: usize| {
            let m = |p: &(u8, f64, f64, usize)| if k == 1 { p.1 } else { p.2 };
            curve.iter().find(|p| m(p) >= if k == 1 { l } else { c }).map_or("beyond Q=95".to_string(), |p| {
                format!("{}, {}, {:.2}x", p.0, p.3, body.len() as f64 / p.3 as f64)
            })
        };
        println!(
            "| speed {}, {:?}, tiles {}, {:?} | {q} | {:.0} ms | {} | {l:.4} / {c:.4} | {} | {} |",
            t.speed,
            t.chroma,
            t.tiles,
            t.tune,
            ms(time),
            body.len(),
            eq(1),
            eq(2)
        );
    }
}

/// A real miss: an origin and the edge on 127.0.0.1, a new `vh` each time.
fn http_miss(s: &Setup, jpeg: &[u8]) {
    let (width, runs) = (s.width, s.runs.max(3));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let body = bytes::Bytes::from(jpeg.to_vec());
    let times: Vec<Duration> = rt.block_on(async move {
        let origin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = origin.local_addr().unwrap().to_string();
        tokio::spawn(
            axum::serve(origin, axum::Router::new().fallback(move || async move { body.clone() })).into_future(),
        );
        let mut project = edge::ProjectSettings::new("bench");
        project.allowed_origin_hosts = vec![host.clone()];
        project.origin_scheme = edge::OriginScheme::Http;
        project.allow_private_origins = true;
        project.auto_format = true;
        let cache = tempfile::tempdir().unwrap();
        let config =
            edge::EdgeConfig::new(cache.path(), edge::Secret::new("s"), edge::SettingsConfig::Static(vec![project]));
        let edge = edge::Edge::build(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(edge.serve(listener, admin, std::future::pending()));
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut times = Vec::new();
        for i in 0..runs {
            let t = Instant::now();
            let res = client
                .get(format!("http://{addr}/bench/{host}/photo.jpg?w={width}&vh={i}"))
                .header("accept", CHROME)
                .send()
                .await
                .unwrap();
            assert_eq!(
                (res.headers()["content-type"].to_str().unwrap(), res.headers()["x-cache"].to_str().unwrap()),
                ("image/avif", "MISS")
            );
            res.bytes().await.unwrap();
            times.push(t.elapsed());
        }
        times
    });
    let t = ms(median(times));
    let verdict = if t <= 300.0 { "met" } else { "NOT met" };
    println!(
        "| AVIF miss over HTTP (Chrome's Accept, auto format), w={width} | {t:.0} ms | | | <= 300 ms: {verdict} |"
    );
}

/// Bytes of the source format, WebP and AVIF (q=80) on 10 photos (JPEG) and
/// 10 cut-outs (PNG with alpha).
fn savings(s: &Setup) {
    let n = if s.small { 2 } else { 10 };
    println!("\nAutomatic format: bytes at w={} (q=80) on {} generated images, summed per kind.\n", s.width, 2 * n);
    println!("| images | source format | WebP | WebP / source | AVIF | AVIF / source | AVIF encode, mean |");
    println!("|---|---|---|---|---|---|---|");
    let side = |i: u32| if s.small { (560 + 16 * i, 420) } else { (1200 + 160 * i, 800 + 60 * i) };
    for kind in ["JPEG photos", "PNG cut-outs with alpha"] {
        let (mut sums, mut avif_time) = ([0usize; 3], Duration::ZERO);
        for i in 0..n {
            let (w, h) = side(i);
            let data =
                if kind.starts_with("JPEG") { encode_jpeg(&scene(w, h, 100 + i), 85) } else { cut_out(w, h, 200 + i) };
            for (k, f) in [None, Some(Format::Webp), Some(Format::Avif)].into_iter().enumerate() {
                let t = Instant::now();
                sums[k] += render(
                    &data,
                    &Params { w: Some(s.width), force_format: f, ..Params::default() },
                    u64::MAX,
                    &rules(),
                )
                .unwrap()
                .body
                .len();
                if k == 2 {
                    avif_time += t.elapsed();
                }
            }
        }
        let r = |k: usize| sums[k] as f64 / sums[0] as f64;
        println!(
            "| {n} {kind} | {} | {} | {:.2}x | {} | {:.2}x | {:.0} ms |",
            sums[0],
            sums[1],
            r(1),
            sums[2],
            r(2),
            ms(avif_time) / n as f64
        );
    }
}

fn rules() -> OutputRules {
    OutputRules { max_output_pixels: u64::MAX, upscale: true }
}

fn run_tool(cmd: &str, args: &[&std::ffi::OsStr]) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (bench/run.sh formats installs it)"));
    assert!(out.status.success(), "{cmd} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn decode(s: &Setup, format: Format, bytes: &[u8]) -> DynamicImage {
    if format != Format::Avif {
        return image::load_from_memory(bytes).unwrap();
    }
    let (avif, png) = (s.dir.join("decode.avif"), s.dir.join("decode.png"));
    std::fs::write(&avif, bytes).unwrap();
    run_tool("avifdec", &[avif.as_os_str(), png.as_os_str()]);
    image::open(&png).unwrap()
}

fn luma(rgb: &RgbImage) -> GrayImage {
    GrayImage::from_fn(rgb.width(), rgb.height(), |x, y| {
        let [r, g, b] = rgb.get_pixel(x, y).0;
        image::Luma([(0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b)).round() as u8])
    })
}

/// The mean of the SSIMs of the R, G and B planes.
fn ssim_rgb(a: &RgbImage, b: &RgbImage) -> f64 {
    let plane = |img: &RgbImage, c: usize| {
        GrayImage::from_fn(img.width(), img.height(), |x, y| image::Luma([img.get_pixel(x, y).0[c]]))
    };
    (0..3).map(|c| ssim(&plane(a, c), &plane(b, c))).sum::<f64>() / 3.0
}

/// Mean SSIM over 8×8 windows, stride 4 (Wang et al. 2004 constants).
fn ssim(a: &GrayImage, b: &GrayImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "the outputs must have the reference's size");
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (mut total, mut n) = (0.0, 0u32);
    for y in (0..a.height().saturating_sub(7)).step_by(4) {
        for x in (0..a.width().saturating_sub(7)).step_by(4) {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for dy in 0..8 {
                for dx in 0..8 {
                    let (p, q) =
                        (f64::from(a.get_pixel(x + dx, y + dy).0[0]), f64::from(b.get_pixel(x + dx, y + dy).0[0]));
                    (sa, sb, saa, sbb, sab) = (sa + p, sb + q, saa + p * p, sbb + q * q, sab + p * q);
                }
            }
            let (ma, mb) = (sa / 64.0, sb / 64.0);
            let (va, vb, cov) = (saa / 64.0 - ma * ma, sbb / 64.0 - mb * mb, sab / 64.0 - ma * mb);
            total += ((2.0 * ma * mb + c1) * (2.0 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            n += 1;
        }
    }
    total / f64::from(n)
}

/// Value noise: a hash of the lattice, smoothly interpolated.
fn noise(x: f32, y: f32, seed: u32) -> f32 {
    let hash = |i: i32, j: i32| {
        let mut v = (i as u32).wrapping_mul(0x27d4_eb2d)
            ^ (j as u32).wrapping_mul(0x1656_67b1)
            ^ seed.wrapping_mul(0x9e37_79b9);
        v ^= v >> 15;
        v = v.wrapping_mul(0x85eb_ca6b);
        v ^= v >> 13;
        (v & 0xffff) as f32 / 65535.0
    };
    let (i, j) = (x.floor() as i32, y.floor() as i32);
    let (fx, fy) = (x - x.floor(), y - y.floor());
    let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
    let top = hash(i, j) + (hash(i + 1, j) - hash(i, j)) * sx;
    let bottom = hash(i, j + 1) + (hash(i + 1, j + 1) - hash(i, j + 1)) * sx;
    top + (bottom - top) * sy
}

/// A photo-like scene: sky and ground gradients, fractal texture, a few hard
/// edged objects and fine grain; the same for the same arguments.
fn scene(w: u32, h: u32, seed: u32) -> RgbImage {
    let scale = 800.0 / w.max(1) as f32;
    let objects: Vec<(f32, f32, f32, [f32; 3])> = (0..6)
        .map(|k| {
            let r = |o: u32| noise(k as f32 * 7.3, o as f32 * 3.1, seed + o);
            (
                r(1) * w as f32,
                (0.4 + 0.6 * r(2)) * h as f32,
                (0.05 + 0.1 * r(3)) * w as f32,
                [r(4) * 255.0, r(5) * 255.0, r(6) * 255.0],
            )
        })
        .collect();
    RgbImage::from_fn(w, h, |x, y| {
        let (u, v) = (x as f32 * scale, y as f32 * scale);
        let mut f = 0.0;
        let mut amp = 0.5;
        let mut freq = 1.0 / 160.0;
        for o in 0..5 {
            f += amp * noise(u * freq, v * freq, seed + o);
            (amp, freq) = (amp * 0.5, freq * 2.0);
        }
        let horizon = 0.45 * h as f32 + 60.0 * (noise(u / 300.0, 0.5, seed) - 0.5) / scale;
        let mut c = if (y as f32) < horizon {
            let t = y as f32 / horizon;
            [90.0 + 80.0 * t + 30.0 * f, 140.0 + 60.0 * t + 30.0 * f, 230.0 - 20.0 * t + 20.0 * f]
        } else {
            [70.0 + 120.0 * f, 90.0 + 110.0 * f, 40.0 + 60.0 * f]
        };
        for (ox, oy, r, col) in &objects {
            let (dx, dy) = (x as f32 - ox, y as f32 - oy);
            if dx * dx + 2.0 * dy * dy < r * r {
                let shade = 0.7 + 0.3 * (-dx - dy) / (2.0 * r);
                c = [col[0] * shade + 20.0 * f, col[1] * shade + 20.0 * f, col[2] * shade + 20.0 * f];
            }
        }
        let grain = 8.0 * (noise(u * 0.9, v * 0.9, seed ^ 0xabc) - 0.5);
        image::Rgb(c.map(|v| (v + grain).clamp(0.0, 255.0) as u8))
    })
}

/// A product cut-out: a scene inside a soft-edged shape, transparent around it.
fn cut_out(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let rgb = scene(w, h, seed);
    let (cx, cy, r) = (w as f32 / 2.0, h as f32 / 2.0, w.min(h) as f32 * 0.42);
    let img = RgbaImage::from_fn(w, h, |x, y| {
        let [red, g, b] = rgb.get_pixel(x, y).0;
        let d = ((x as f32 - cx).powi(2) / 1.4 + (y as f32 - cy).powi(2)).sqrt();
        let wobble = 0.12 * r * noise(x as f32 / 40.0, y as f32 / 40.0, seed);
        image::Rgba([red, g, b, ((r + wobble - d) * 64.0).clamp(0.0, 255.0) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn encode_jpeg(img: &RgbImage, q: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q).encode_image(img).unwrap();
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
