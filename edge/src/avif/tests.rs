use super::inspect::*;
use super::*;
use image::{Rgb, RgbImage, Rgba, RgbaImage};

fn photo(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = ((x * 7 + y * 13) ^ (x * y / 5)) as u8;
        Rgb([v, v.wrapping_mul(3), (x + y) as u8])
    })
}

/// Decodes with `avifdec` (Debian's libavif-bin) when it is installed: the
/// file is valid AVIF for a real decoder (dav1d/libaom), and the pixels.
fn avifdec(avif: &[u8]) -> Option<image::DynamicImage> {
    let dir = tempfile::tempdir().unwrap();
    let (src, png) = (dir.path().join("t.avif"), dir.path().join("t.png"));
    std::fs::write(&src, avif).unwrap();
    let out = match std::process::Command::new("avifdec").arg(&src).arg(&png).output() {
        Ok(out) => out,
        Err(_) => {
            eprintln!("avifdec not installed: decoding not checked");
            return None;
        }
    };
    assert!(out.status.success(), "avifdec: {}", String::from_utf8_lossy(&out.stderr));
    Some(image::open(&png).unwrap())
}

#[test]
fn higher_q_is_larger_and_the_file_is_avif_420() {
    let img = DynamicImage::ImageRgb8(photo(96, 64));
    let sizes: Vec<usize> = [20, 50, 80, 95].iter().map(|&q| encode(&img, q).unwrap().len()).collect();
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "q=20,50,80,95: {sizes:?} bytes");
    let high = encode(&img, 90).unwrap();
    assert_eq!(&high[4..12], b"ftypavif");
    assert!(!has_alpha(&high));
    assert_eq!(dimensions(&high), Some((96, 64)));
    assert_eq!(av1c_chroma(&high), Some((true, true, false)), "4:2:0");
}

#[test]
fn output_decodes_to_the_image_at_odd_sizes_and_444() {
    let src = RgbImage::from_fn(33, 17, |x, y| Rgb([(x * 7) as u8, 120, (y * 15) as u8]));
    for chroma in [Chroma::Cs420, Chroma::Cs444] {
        let avif = encode_tuned(&DynamicImage::ImageRgb8(src.clone()), 90, Tuning { chroma, ..TUNING }).unwrap();
        assert_eq!(av1c_chroma(&avif).map(|c| c.0), Some(chroma == Chroma::Cs420));
        let Some(out) = avifdec(&avif) else { return };
        let out = out.to_rgb8();
        assert_eq!(out.dimensions(), (33, 17));
        let err = out.pixels().zip(src.pixels()).flat_map(|(a, b)| (0..3).map(move |c| a.0[c].abs_diff(b.0[c])));
        let mean = err.map(f64::from).sum::<f64>() / (33. * 17. * 3.);
        assert!(mean < 6., "{chroma:?}: mean error {mean}");
    }
}

#[test]
fn alpha_is_kept_and_opaque_images_carry_none() {
    let rgba = RgbaImage::from_fn(64, 64, |x, _| Rgba([200, 40, 40, if x < 32 { 0 } else { 255 }]));
    let avif = encode(&DynamicImage::ImageRgba8(rgba), 80).unwrap();
    assert!(has_alpha(&avif));
    if let Some(out) = avifdec(&avif) {
        let out = out.to_rgba8();
        assert!(out.get_pixel(5, 5).0[3] < 8 && out.get_pixel(60, 5).0[3] > 247, "alpha decoded");
        let [r, g, _, _] = out.get_pixel(60, 30).0;
        assert!(r > 180 && g < 70, "colour of the opaque half: {:?}", out.get_pixel(60, 30));
    }
    let opaque = RgbaImage::from_pixel(64, 64, Rgba([1, 2, 3, 255]));
    assert!(!has_alpha(&encode(&DynamicImage::ImageRgba8(opaque), 80).unwrap()));
}
