//! AVIF encoding with rav1e (through `ravif`). Speed 10 and 8-bit depth:
//! the fastest settings, which keep a 500 px miss within the edge's time
//! budget (README "Formats" has the figures against libvips/libaom).

use image::DynamicImage;
use ravif::{AlphaColorMode, BitDepth, Encoder, Img, RGB8, RGBA8};

/// rav1e's preset: 1 (slowest, smallest) to 10 (fastest).
pub const SPEED: u8 = 10;

/// `quality` is the URL's `q` (1–100) on ravif's JPEG-like scale; alpha
/// gets cavif's rule (a little higher: edges of cut-outs show artefacts first).
pub fn encode(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, ravif::Error> {
    let q = f32::from(quality.clamp(1, 100));
    let alpha_q = ((q + 100.) / 2.).min(q + q / 4. + 2.);
    let encoder = Encoder::new()
        .with_quality(q)
        .with_alpha_quality(alpha_q)
        .with_speed(SPEED)
        .with_bit_depth(BitDepth::Eight)
        .with_alpha_color_mode(AlphaColorMode::UnassociatedClean);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let encoded = if img.color().has_alpha() {
        let raw = img.to_rgba8();
        let px: Vec<RGBA8> = raw.as_raw().chunks_exact(4).map(|p| RGBA8::new(p[0], p[1], p[2], p[3])).collect();
        encoder.encode_rgba(Img::new(px.as_slice(), w, h))?
    } else {
        let raw = img.to_rgb8();
        let px: Vec<RGB8> = raw.as_raw().chunks_exact(3).map(|p| RGB8::new(p[0], p[1], p[2])).collect();
        encoder.encode_rgb(Img::new(px.as_slice(), w, h))?
    };
    Ok(encoded.avif_file)
}

#[cfg(test)]
pub mod inspect {
    /// Whether an AVIF file carries an alpha plane: an auxiliary image of type
    /// `urn:mpeg:mpegB:cicp:systems:auxiliary:alpha` (ISO/IEC 23008-12 `auxC`).
    pub fn has_alpha(avif: &[u8]) -> bool {
        const ALPHA_URN: &[u8] = b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha";
        avif.windows(ALPHA_URN.len()).any(|w| w == ALPHA_URN)
    }

    /// Width and height from the first `ispe` (image spatial extents) box.
    pub fn dimensions(avif: &[u8]) -> Option<(u32, u32)> {
        let at = avif.windows(4).position(|w| w == b"ispe")? + 8;
        let be = |i: usize| Some(u32::from_be_bytes(avif.get(i..i + 4)?.try_into().ok()?));
        Some((be(at)?, be(at + 4)?))
    }
}

#[cfg(test)]
mod tests {
    use super::inspect::*;
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn photo(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let v = ((x * 7 + y * 13) ^ (x * y / 5)) as u8;
            Rgb([v, v.wrapping_mul(3), (x + y) as u8])
        })
    }

    #[test]
    fn higher_q_is_larger_and_the_file_is_avif() {
        let img = DynamicImage::ImageRgb8(photo(96, 64));
        let low = encode(&img, 20).unwrap();
        let high = encode(&img, 90).unwrap();
        assert_eq!(&low[4..12], b"ftypavif");
        assert!(high.len() > low.len(), "q=90: {} bytes, q=20: {} bytes", high.len(), low.len());
        assert!(!has_alpha(&high));
        assert_eq!(dimensions(&high), Some((96, 64)));
    }

    #[test]
    fn alpha_is_kept_and_opaque_images_carry_none() {
        let rgba = RgbaImage::from_fn(64, 64, |x, _| Rgba([200, 40, 40, if x < 32 { 0 } else { 255 }]));
        assert!(has_alpha(&encode(&DynamicImage::ImageRgba8(rgba), 80).unwrap()));
        let opaque = RgbaImage::from_pixel(64, 64, Rgba([1, 2, 3, 255]));
        assert!(!has_alpha(&encode(&DynamicImage::ImageRgba8(opaque), 80).unwrap()));
    }
}
