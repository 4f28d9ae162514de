//! Downscaling in linear light (the project's `linear_light`): sRGB is
//! decoded to linear f32, alpha premultiplied, resized, and encoded back, so
//! fine light/dark detail averages to the brightness the eye sees (a 1 px
//! black/white pattern becomes grey 188, not the 128 a gamma-space average
//! gives). Reductions of 2× or more get a light unsharp mask afterwards, as
//! libvips and imgproxy do.

use std::sync::OnceLock;

use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageBuffer, Rgb, Rgba};

/// The reduction from which the result is sharpened.
const SHARPEN_FROM: f32 = 2.0;
/// Gaussian sigma and threshold of the unsharp mask: a small radius.
const SHARPEN_SIGMA: f32 = 0.5;
const SHARPEN_THRESHOLD: i32 = 2;

pub fn resize(img: &DynamicImage, w: u32, h: u32) -> DynamicImage {
    let reduction = (img.width() as f32 / w as f32).min(img.height() as f32 / h as f32);
    let lut = to_linear();
    let out = if img.color().has_alpha() {
        let src = img.to_rgba8();
        let lin: Vec<f32> = src
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| {
                let a = f32::from(p[3]) / 255.0;
                [lut[p[0] as usize] * a, lut[p[1] as usize] * a, lut[p[2] as usize] * a, a]
            })
            .collect();
        let lin = ImageBuffer::<Rgba<f32>, _>::from_raw(src.width(), src.height(), lin).expect("sized above");
        let small = imageops::resize(&lin, w, h, FilterType::CatmullRom);
        let raw = small
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| {
                let a = p[3].clamp(0.0, 1.0);
                let c = |v: f32| if a > 0.0 { to_srgb(v / a) } else { 0 };
                [c(p[0]), c(p[1]), c(p[2]), (a * 255.0).round() as u8]
            })
            .collect();
        DynamicImage::ImageRgba8(ImageBuffer::from_raw(w, h, raw).expect("sized above"))
    } else {
        let src = img.to_rgb8();
        let lin: Vec<f32> = src.as_raw().iter().map(|&c| lut[c as usize]).collect();
        let lin = ImageBuffer::<Rgb<f32>, _>::from_raw(src.width(), src.height(), lin).expect("sized above");
        let small = imageops::resize(&lin, w, h, FilterType::CatmullRom);
        let raw = small.as_raw().iter().map(|&v| to_srgb(v)).collect();
        DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, raw).expect("sized above"))
    };
    if reduction >= SHARPEN_FROM {
        out.unsharpen(SHARPEN_SIGMA, SHARPEN_THRESHOLD)
    } else {
        out
    }
}

fn to_linear() -> &'static [f32; 256] {
    static LUT: OnceLock<[f32; 256]> = OnceLock::new();
    LUT.get_or_init(|| {
        std::array::from_fn(|i| {
            let c = i as f32 / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        })
    })
}

fn to_srgb(v: f32) -> u8 {
    let v = v.clamp(0.0, 1.0);
    let c = if v <= 0.003_130_8 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 };
    (c * 255.0).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, RgbImage, RgbaImage};

    fn stripes(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, _| if x % 2 == 0 { Rgb([0, 0, 0]) } else { Rgb([255, 255, 255]) })
    }

    #[test]
    fn fine_stripes_average_in_light_not_in_gamma() {
        let img = DynamicImage::ImageRgb8(stripes(64, 64));
        let linear = resize(&img, 32, 32).to_rgb8();
        let gamma = img.resize_exact(32, 32, FilterType::CatmullRom).to_rgb8();
        let centre = |i: &RgbImage| i.get_pixel(16, 16).0[0];
        assert!((186..=190).contains(&centre(&linear)), "{}", centre(&linear));
        assert!((126..=130).contains(&centre(&gamma)), "{}", centre(&gamma));
    }

    #[test]
    fn transparent_pixels_do_not_darken_their_neighbours() {
        // Opaque white beside fully transparent black: premultiplied, the
        // edge stays white (a straight average would mix in the black).
        let img =
            RgbaImage::from_fn(64, 64, |x, _| if x < 30 { Rgba([0, 0, 0, 0]) } else { Rgba([255, 255, 255, 255]) });
        let small = resize(&DynamicImage::ImageRgba8(img), 16, 16);
        let partial: Vec<[u8; 4]> =
            (0..16).map(|x| small.get_pixel(x, 8).0).filter(|p| p[3] > 8 && p[3] < 255).collect();
        assert!(!partial.is_empty(), "the edge is partly covered: {:?}", small.get_pixel(7, 8));
        assert!(partial.iter().all(|p| p[0] >= 245), "its colour stays white: {partial:?}");
    }
}
