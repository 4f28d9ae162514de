//! Step 5: decode (with JPEG shrink-on-load), orient, resize, re-encode.
//! Re-encoding always happens, so EXIF/XMP/ICC metadata (GPS included) never
//! reaches the client. The pixel count is checked from the header, before any
//! pixel buffer exists (decompression bombs), and so is the output (see
//! [`crate::plan`]).

use std::io::Cursor;

use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage, RgbaImage};

use crate::error::EdgeError;
use crate::params::{Format, Params};
use crate::plan::{crop_region, plan, Finish, OutputRules, Plan};
use crate::{avif, jpeg, linear};

pub struct Output {
    pub body: Vec<u8>,
    pub format: Format,
}

pub fn render(data: &[u8], params: &Params, max_pixels: u64, rules: &OutputRules) -> Result<Output, EdgeError> {
    let source = image::guess_format(data)
        .ok()
        .filter(|f| matches!(f, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif));
    let Some(source) = source else {
        return Err(unprocessable("origin_not_image", "origin is not a JPEG, PNG, WebP or GIF image"));
    };
    let mut decoder = reader(data, source, max_pixels).into_decoder().map_err(undecodable)?;
    let (sw, sh) = decoder.dimensions();
    if u64::from(sw) * u64::from(sh) > max_pixels {
        return Err(unprocessable(
            "too_many_pixels",
            format!("origin image is {sw}x{sh} pixels; the limit is {max_pixels} pixels"),
        ));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let turned = matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    let (ow, oh) = if turned { (sh, sw) } else { (sw, sh) };
    let plan = plan(ow, oh, params);
    plan.check((ow, oh), params, rules)?;

    // In linear light, the DCT (which averages in gamma space) stops at
    // twice the output size: at least the last 2x is done in linear light.
    let k = if params.linear_light { 2 } else { 1 };
    let shrink_to = match (source, plan.size) {
        (ImageFormat::Jpeg, Some((rw, rh)))
            if u64::from(rw) * 2 * k <= u64::from(ow) && u64::from(rh) * 2 * k <= u64::from(oh) =>
        {
            let (rw, rh) = (rw * k as u32, rh * k as u32);
            Some(if turned { (rh, rw) } else { (rw, rh) })
        }
        _ => None,
    };
    let mut img = match shrink_to {
        Some(need) => {
            drop(decoder);
            match jpeg::shrink_on_load(data, (sw, sh), need) {
                Some(img) => img,
                None => decode_with_limits(data, source, max_pixels)?,
            }
        }
        None => DynamicImage::from_decoder(decoder).map_err(undecodable)?,
    };
    img.apply_orientation(orientation);
    let img = apply(img, plan, params.linear_light);
    let format = params.force_format.unwrap_or(match source {
        ImageFormat::Jpeg => Format::Jpeg,
        ImageFormat::WebP => Format::Webp,
        _ => Format::Png,
    });
    let body = encode(&img, format, params.quality())?;
    Ok(Output { body, format })
}

fn reader(data: &[u8], source: ImageFormat, max_pixels: u64) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(data), source);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(8));
    reader.limits(limits);
    reader
}

fn decode_with_limits(data: &[u8], source: ImageFormat, max_pixels: u64) -> Result<DynamicImage, EdgeError> {
    reader(data, source, max_pixels).decode().map_err(undecodable)
}

fn unprocessable(code: &'static str, msg: impl Into<String>) -> EdgeError {
    EdgeError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, code, msg)
}

fn undecodable(e: image::ImageError) -> EdgeError {
    match e {
        image::ImageError::Limits(_) => unprocessable("too_many_pixels", "origin image exceeds the decoding limits"),
        e => unprocessable("origin_not_image", format!("origin image cannot be decoded: {e}")),
    }
}

fn apply(img: DynamicImage, plan: Plan, linear_light: bool) -> DynamicImage {
    let resize = |img: DynamicImage, (w, h): (u32, u32)| {
        if (w, h) == (img.width(), img.height()) {
            img
        } else if linear_light {
            linear::resize(&img, w, h)
        } else {
            img.resize_exact(w, h, FilterType::CatmullRom)
        }
    };
    if let (Finish::Crop(w, h), Some(size)) = (plan.then, plan.size) {
        // Crop first, then resize only what is kept.
        let (iw, ih) = (img.width(), img.height());
        let (cw, ch) = crop_region((iw, ih), size, (w, h));
        return resize(img.crop_imm((iw - cw) / 2, (ih - ch) / 2, cw, ch), (w, h));
    }
    let img = match plan.size {
        Some(size) => resize(img, size),
        None => img,
    };
    match plan.then {
        Finish::None | Finish::Crop(..) => img,
        Finish::Pad(w, h) => {
            let (x, y) = (i64::from((w - img.width().min(w)) / 2), i64::from((h - img.height().min(h)) / 2));
            if img.color().has_alpha() {
                let mut canvas = RgbaImage::new(w, h);
                image::imageops::overlay(&mut canvas, &img.to_rgba8(), x, y);
                DynamicImage::ImageRgba8(canvas)
            } else {
                let mut canvas = RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
                image::imageops::overlay(&mut canvas, &img.to_rgb8(), x, y);
                DynamicImage::ImageRgb8(canvas)
            }
        }
    }
}

fn encode(img: &DynamicImage, format: Format, quality: u8) -> Result<Vec<u8>, EdgeError> {
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, ?format, "encoding failed");
        EdgeError::internal()
    };
    match format {
        Format::Jpeg => jpeg::encode(&flatten(img), quality).map_err(|e| failed(&e)),
        Format::Png => {
            let mut out = Vec::new();
            let enc = image::codecs::png::PngEncoder::new_with_quality(
                &mut out,
                image::codecs::png::CompressionType::Fast,
                image::codecs::png::FilterType::Adaptive,
            );
            let img = if img.color().has_alpha() {
                DynamicImage::ImageRgba8(img.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(img.to_rgb8())
            };
            img.write_with_encoder(enc).map_err(|e| failed(&e))?;
            Ok(out)
        }
        Format::Webp => {
            let (w, h) = (img.width(), img.height());
            let mem = if img.color().has_alpha() {
                let rgba = img.to_rgba8();
                webp::Encoder::from_rgba(rgba.as_raw(), w, h).encode(f32::from(quality))
            } else {
                let rgb = img.to_rgb8();
                webp::Encoder::from_rgb(rgb.as_raw(), w, h).encode(f32::from(quality))
            };
            Ok(mem.to_vec())
        }
        Format::Avif => avif::encode(img, quality).map_err(|e| failed(&e)),
    }
}

/// RGB for JPEG: transparent pixels are composited over white.
fn flatten(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let mix = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([mix(r), mix(g), mix(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::params::Func;

    fn params(w: Option<u32>, h: Option<u32>, func: Func) -> Params {
        Params { w, h, func, ..Params::default() }
    }

    fn any() -> OutputRules {
        OutputRules { max_output_pixels: 1 << 30, upscale: true }
    }

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        encode(&DynamicImage::ImageRgb8(img), Format::Jpeg, 85).unwrap()
    }

    #[test]
    fn renders_every_func_and_format() {
        let src = jpeg(640, 480);
        for (func, dims) in
            [(Func::Crop, (100, 100)), (Func::Fit, (100, 100)), (Func::Bound, (100, 75)), (Func::Cover, (100, 100))]
        {
            for format in [Format::Jpeg, Format::Png, Format::Webp, Format::Avif] {
                let p = Params { force_format: Some(format), ..params(Some(100), Some(100), func) };
                let out = render(&src, &p, 1 << 30, &any()).unwrap();
                assert_eq!(out.format, format);
                if format == Format::Avif {
                    assert_eq!(crate::avif::inspect::dimensions(&out.body), Some(dims), "{func:?}");
                    continue; // `image` decodes no AVIF without dav1d
                }
                let img = image::load_from_memory(&out.body).unwrap();
                assert_eq!((img.width(), img.height()), dims, "{func:?} {format:?}");
            }
        }
        // Shrink-on-load path: 640 -> 100 wide uses a 2/8 scale, then resizes.
        let out = render(&src, &params(Some(100), None, Func::Crop), 1 << 30, &any()).unwrap();
        let img = image::load_from_memory(&out.body).unwrap();
        assert_eq!((img.width(), img.height()), (100, 75));
    }

    #[test]
    fn refuses_bombs_and_garbage() {
        let src = jpeg(640, 480);
        assert_eq!(render(&src, &Params::default(), 640 * 480 - 1, &any()).err().unwrap().code, "too_many_pixels");
        assert_eq!(render(b"<html>", &Params::default(), 1 << 30, &any()).err().unwrap().code, "origin_not_image");
    }
}
