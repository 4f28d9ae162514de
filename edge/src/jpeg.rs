//! JPEG shrink-on-load and encoding. With the default `turbojpeg` feature
//! this is libjpeg-turbo (Debian's `libturbojpeg0-dev`, found by pkg-config):
//! DCT-domain downscaling while decoding and its SIMD encoder. Without it,
//! the pure-Rust `image` codecs (no shrink-on-load).

use image::{DynamicImage, RgbImage};

pub use imp::{encode, shrink_on_load};

#[cfg(feature = "turbojpeg")]
mod imp {
    use super::*;

    /// Decodes at the smallest DCT scale (k/8) that still covers `need`
    /// (stored, un-oriented space): a 4000 px JPEG for a 500 px thumbnail is
    /// decoded at 1/8 size, skipping most of the IDCT and the big resize.
    /// `None` (e.g. CMYK) means: decode at full size instead.
    pub fn shrink_on_load(data: &[u8], (sw, sh): (u32, u32), need: (u32, u32)) -> Option<DynamicImage> {
        let scale = |d: u32, k: u32| (d * k).div_ceil(8);
        let k = (1..8).find(|&k| scale(sw, k) >= need.0 && scale(sh, k) >= need.1)?;
        let (w, h) = (scale(sw, k) as usize, scale(sh, k) as usize);
        let mut pixels = vec![0u8; w * h * 3];
        let mut d = turbojpeg::Decompressor::new().ok()?;
        // TurboJPEG 2.x picks the DCT scale that fits the requested size.
        let out = turbojpeg::Image {
            pixels: pixels.as_mut_slice(),
            width: w,
            pitch: w * 3,
            height: h,
            format: turbojpeg::PixelFormat::RGB,
        };
        if let Err(e) = d.decompress(data, out) {
            tracing::debug!(error = %e, "turbojpeg failed; decoding at full size");
            return None;
        }
        RgbImage::from_raw(w as u32, h as u32, pixels).map(DynamicImage::ImageRgb8)
    }

    pub fn encode(rgb: &RgbImage, quality: u8) -> Result<Vec<u8>, String> {
        let mut c = turbojpeg::Compressor::new().map_err(|e| e.to_string())?;
        c.set_quality(i32::from(quality));
        c.set_subsamp(turbojpeg::Subsamp::Sub2x2);
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        let image = turbojpeg::Image {
            pixels: rgb.as_raw().as_slice(),
            width: w,
            pitch: w * 3,
            height: h,
            format: turbojpeg::PixelFormat::RGB,
        };
        c.compress_to_vec(image).map_err(|e| e.to_string())
    }
}

#[cfg(not(feature = "turbojpeg"))]
mod imp {
    use super::*;

    pub fn shrink_on_load(_: &[u8], _: (u32, u32), _: (u32, u32)) -> Option<DynamicImage> {
        None
    }

    pub fn encode(rgb: &RgbImage, quality: u8) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(rgb)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }
}
