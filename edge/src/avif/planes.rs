//! RGB(A) to the full-range BT.601 Y'CbCr planes rav1e takes, the chroma
//! averaged over 2×2 pixels for 4:2:0.

use image::{RgbImage, RgbaImage};
use rav1e::prelude::ChromaSampling;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chroma {
    /// Chroma at half the width and height (what libaom/vips send by default).
    Cs420,
    /// Full-resolution chroma (ravif's only mode).
    Cs444,
}

impl Chroma {
    pub(super) fn sampling(self) -> ChromaSampling {
        match self {
            Chroma::Cs420 => ChromaSampling::Cs420,
            Chroma::Cs444 => ChromaSampling::Cs444,
        }
    }

    /// (x, y) subsampled, for the container's `av1C`.
    pub(super) fn subsampled(self) -> (bool, bool) {
        (self == Chroma::Cs420, self == Chroma::Cs420)
    }
}

/// Planes as (width, row-major samples): Y alone, or Y Cb Cr.
pub struct Planes(pub Vec<(usize, Vec<u8>)>);

const KR: f32 = 0.299;
const KB: f32 = 0.114;

fn ycbcr([r, g, b]: [u8; 3]) -> [f32; 3] {
    let (r, g, b) = (f32::from(r), f32::from(g), f32::from(b));
    let y = KR * r + (1. - KR - KB) * g + KB * b;
    [y, (b - y) * (0.5 / (1. - KB)) + 128., (r - y) * (0.5 / (1. - KR)) + 128.]
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0., 255.) as u8
}

fn planes(w: usize, h: usize, px: impl Fn(usize, usize) -> [u8; 3], chroma: Chroma) -> Planes {
    let mut y = Vec::with_capacity(w * h);
    let mut full = [Vec::with_capacity(w * h), Vec::with_capacity(w * h)];
    for j in 0..h {
        for i in 0..w {
            let [l, cb, cr] = ycbcr(px(i, j));
            y.push(to_u8(l));
            full[0].push(cb);
            full[1].push(cr);
        }
    }
    let [cb, cr] = full.map(|c| match chroma {
        Chroma::Cs444 => (w, c.into_iter().map(to_u8).collect()),
        Chroma::Cs420 => half(&c, w, h),
    });
    Planes(vec![(w, y), cb, cr])
}

/// The mean of each 2×2 block (edge pixels repeated at odd sizes).
fn half(c: &[f32], w: usize, h: usize) -> (usize, Vec<u8>) {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let at = |i: usize, j: usize| c[j.min(h - 1) * w + i.min(w - 1)];
    let out = (0..ch)
        .flat_map(|j| (0..cw).map(move |i| (i * 2, j * 2)))
        .map(|(i, j)| to_u8((at(i, j) + at(i + 1, j) + at(i, j + 1) + at(i + 1, j + 1)) / 4.))
        .collect();
    (cw, out)
}

pub fn from_rgb(img: &RgbImage, chroma: Chroma) -> Planes {
    let w = img.width() as usize;
    let raw = img.as_raw();
    planes(w, img.height() as usize, |i, j| raw[(j * w + i) * 3..][..3].try_into().unwrap(), chroma)
}

/// Colour under fully transparent pixels is invisible: it takes the last
/// visible colour of its row (flat runs cost few bits), as ravif's
/// "unassociated clean" mode intends.
pub fn from_rgba(img: &RgbaImage, chroma: Chroma) -> Planes {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for row in img.as_raw().chunks_exact(w * 4) {
        let mut last = row.chunks_exact(4).find(|p| p[3] != 0).map_or([0; 3], |p| [p[0], p[1], p[2]]);
        for p in row.chunks_exact(4) {
            if p[3] != 0 {
                last = [p[0], p[1], p[2]];
            }
            rgb.extend_from_slice(&last);
        }
    }
    planes(w, h, |i, j| rgb[(j * w + i) * 3..][..3].try_into().unwrap(), chroma)
}

pub fn alpha(img: &RgbaImage) -> Planes {
    Planes(vec![(img.width() as usize, img.pixels().map(|p| p.0[3]).collect())])
}
