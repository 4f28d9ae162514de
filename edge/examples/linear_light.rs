//! Writes the README's before/after pair for `linear_light`: one generated
//! test image downscaled 4x by the edge's transform, in gamma space (off)
//! and in linear light (on). Run by `edge/docs/linear-light.sh`.
//!
//! The source (1024x512): at the top, 1 px black/white stripes and a
//! checkerboard beside flat greys of 128 and 188 (which of the two a fine
//! pattern should match); at the bottom, a dark night scene with 2 px lights.

use edge::{render, Format, OutputRules, Params};
use image::{Rgb, RgbImage};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "edge/docs".to_owned());
    let (w, h) = (1024u32, 512u32);
    let src = RgbImage::from_fn(w, h, |x, y| {
        let band = x / 128;
        if y < 256 {
            let v = match band {
                0 | 1 => 255 * ((x % 2) as u8),
                2 => 188,
                3 | 4 => 255 * (((x + y) % 2) as u8),
                5 => 128,
                _ => 255 * ((y % 2) as u8),
            };
            return Rgb([v, v, v]);
        }
        // Night: a dark gradient with lights on a pseudo-random lattice.
        let lit = {
            let (cx, cy) = (x / 8, y / 8);
            let hash = cx.wrapping_mul(0x9e37_79b9) ^ cy.wrapping_mul(0x85eb_ca6b);
            (hash >> 7) % 5 == 0 && x % 8 < 2 && y % 8 < 2
        };
        if lit {
            Rgb([255, 230, 160])
        } else {
            let v = (10 + (y - 256) / 16) as u8;
            Rgb([v, v, v + 12])
        }
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(src).write_to(&mut png, image::ImageFormat::Png).unwrap();
    let png = png.into_inner();
    let rules = OutputRules { max_output_pixels: u64::MAX, upscale: false };
    for (name, linear_light) in [("linear-light-off.png", false), ("linear-light-on.png", true)] {
        let params = Params { w: Some(w / 4), force_format: Some(Format::Png), linear_light, ..Params::default() };
        let out = render(&png, &params, u64::MAX, &rules).unwrap();
        let path = format!("{dir}/{name}");
        std::fs::write(&path, &out.body).unwrap();
        println!("{path}: {} bytes", out.body.len());
    }
}
