//! Step 4: what the transform will make, from the source's header
//! dimensions and the parameters (a resize, then a crop or a pad), and
//! whether that fits the output budget and the project's upscaling rule.
//! Decided before any pixel buffer exists, like the source's `max_pixels`.

use crate::error::EdgeError;
use crate::params::{bad_sides, Func, Params};

/// The default output budget: 25 Mpx, e.g. 5000×5000.
pub const DEFAULT_MAX_OUTPUT_PIXELS: u64 = 25_000_000;

/// What outputs may be: the node's budget and the project's upscaling rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputRules {
    /// Largest output, and largest buffer a resize makes (unless the source
    /// itself is larger, which `max_pixels` bounds).
    pub max_output_pixels: u64,
    /// Whether an output may be larger than the source on either side.
    pub upscale: bool,
}

impl Default for OutputRules {
    fn default() -> Self {
        OutputRules { max_output_pixels: DEFAULT_MAX_OUTPUT_PIXELS, upscale: true }
    }
}

/// Resize to `size` (oriented space), then crop or pad to `then`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub size: Option<(u32, u32)>,
    pub then: Finish,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    None,
    /// The centre `w`×`h` of the resized image.
    Crop(u32, u32),
    Pad(u32, u32),
}

pub fn plan(ow: u32, oh: u32, p: &Params) -> Plan {
    let keep = Plan { size: None, then: Finish::None };
    let too_small = p.w.is_some_and(|w| w > ow) || p.h.is_some_and(|h| h > oh);
    if (p.w.is_none() && p.h.is_none()) || (p.org_if_sml && too_small) {
        return keep;
    }
    // `as` saturates: an absurd scale gives u32::MAX, which the budget refuses.
    let scaled = |s: f64| ((f64::from(ow) * s).round().max(1.0) as u32, (f64::from(oh) * s).round().max(1.0) as u32);
    let (sx, sy) = (p.w.map(|w| f64::from(w) / f64::from(ow)), p.h.map(|h| f64::from(h) / f64::from(oh)));
    let size = match (p.w, p.h, sx, sy) {
        (Some(w), Some(h), Some(sx), Some(sy)) => match p.func {
            Func::Crop => {
                let (rw, rh) = scaled(sx.max(sy));
                return Plan { size: Some((rw.max(w), rh.max(h))), then: Finish::Crop(w, h) };
            }
            Func::Fit => return Plan { size: Some(scaled(sx.min(sy))), then: Finish::Pad(w, h) },
            Func::Bound => scaled(sx.min(sy).min(1.0)),
            Func::Cover => (w, h),
        },
        (_, _, Some(s), None) | (_, _, None, Some(s)) => scaled(if p.func == Func::Bound { s.min(1.0) } else { s }),
        _ => return keep,
    };
    Plan { size: Some(size), then: Finish::None }
}

/// The part of an `iw`×`ih` image that becomes the `crop` box once the image
/// is resized to `size`: cropping it first and resizing it to the box gives
/// the same picture without the full-size resize buffer.
pub fn crop_region((iw, ih): (u32, u32), (rw, rh): (u32, u32), (w, h): (u32, u32)) -> (u32, u32) {
    let side = |box_side: u32, src: u32, resized: u32| {
        let n = (u64::from(box_side) * u64::from(src)).div_ceil(u64::from(resized.max(1)));
        n.clamp(1, u64::from(src.max(1))) as u32
    };
    (side(w, iw, rw), side(h, ih, rh))
}

impl Plan {
    /// Refuses (400, naming `w`/`h`) a plan that enlarges the source when the
    /// project forbids it, or whose output or resize buffer is over the
    /// budget. `image`'s resize samples vertically first, so its buffer is
    /// the source width × the new height.
    pub fn check(&self, (ow, oh): (u32, u32), p: &Params, rules: &OutputRules) -> Result<(), EdgeError> {
        // The source at its own size: `max_pixels` already bounds it.
        let Some((rw, rh)) = self.size.filter(|s| (*s, self.then) != ((ow, oh), Finish::None)) else {
            return Ok(());
        };
        let (wide, tall) = (p.w.is_some_and(|w| w > ow), p.h.is_some_and(|h| h > oh));
        if !rules.upscale && (rw > ow || rh > oh) {
            let why = format!(
                "the output would enlarge the {ow}x{oh} image, which this project does not allow \
                 (org_if_sml=1 or func=bound keep smaller images at their size)"
            );
            return Err(bad_sides(wide || !tall, tall || !wide, &why));
        }
        let px = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
        let (out, pass) = match self.then {
            Finish::Crop(w, h) => ((w, h), px((crop_region((ow, oh), (rw, rh), (w, h)).0, h))),
            Finish::Pad(w, h) => ((w, h), px((ow, rh))),
            Finish::None => ((rw, rh), px((ow, rh))),
        };
        let limit = rules.max_output_pixels;
        let (named_w, named_h) = (p.w.is_some(), p.h.is_some());
        if px(out) > limit {
            let why =
                format!("the output would be {}x{} ({} pixels); the limit is {limit} pixels", out.0, out.1, px(out));
            return Err(bad_sides(named_w, named_h, &why));
        }
        if pass > limit.max(px((ow, oh))) {
            let why = format!(
                "resizing the {ow}x{oh} image to {rw}x{rh} needs a buffer of {pass} pixels; the limit is {limit} pixels"
            );
            return Err(bad_sides(named_w, named_h, &why));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(w: Option<u32>, h: Option<u32>, func: Func) -> Params {
        Params { w, h, func, ..Params::default() }
    }

    #[test]
    fn plans() {
        let p = |w, h, f| plan(400, 200, &params(w, h, f));
        assert_eq!(p(Some(100), None, Func::Crop).size, Some((100, 50)));
        assert_eq!(p(None, Some(100), Func::Crop).size, Some((200, 100)));
        assert_eq!(p(Some(100), Some(100), Func::Crop), Plan { size: Some((200, 100)), then: Finish::Crop(100, 100) });
        assert_eq!(p(Some(100), Some(100), Func::Fit), Plan { size: Some((100, 50)), then: Finish::Pad(100, 100) });
        assert_eq!(p(Some(100), Some(100), Func::Bound).size, Some((100, 50)));
        assert_eq!(p(Some(800), Some(800), Func::Bound).size, Some((400, 200)));
        assert_eq!(p(Some(100), Some(100), Func::Cover).size, Some((100, 100)));
        let sml = Params { w: Some(800), org_if_sml: true, ..Params::default() };
        assert_eq!(plan(400, 200, &sml).size, None);
        assert_eq!(crop_region((400, 200), (200, 100), (100, 100)), (200, 200));
        assert_eq!(crop_region((100, 50), (200, 100), (100, 100)), (50, 50));
    }

    fn check(src: (u32, u32), w: Option<u32>, h: Option<u32>, func: Func, rules: OutputRules) -> Result<(), String> {
        let p = params(w, h, func);
        plan(src.0, src.1, &p).check(src, &p, &rules).map_err(|e| {
            assert_eq!((e.status.as_u16(), e.code), (400, "bad_param"));
            e.message
        })
    }

    #[test]
    fn the_budget_bounds_outputs_and_resize_buffers() {
        let r = OutputRules { max_output_pixels: 1_000_000, upscale: true };
        let err = check((100, 100), Some(2000), None, Func::Crop, r).unwrap_err();
        assert!(err.starts_with("invalid parameter w: the output would be 2000x2000"), "{err}");
        assert!(err.contains("the limit is 1000000 pixels"), "{err}");
        assert!(check((100, 100), Some(1000), Some(1000), Func::Fit, r).is_ok());
        assert!(check((100, 100), Some(1001), Some(1000), Func::Fit, r).unwrap_err().contains("parameters w and h:"));
        // A thin strip stretched tall: small output, huge vertical pass.
        let err = check((50_000, 1), Some(10), Some(8000), Func::Cover, r).unwrap_err();
        assert!(err.contains("needs a buffer of 400000000 pixels"), "{err}");
        // Cropping a strip resizes only the part kept.
        assert!(check((8000, 1), Some(10), Some(8000), Func::Crop, r).is_ok());
        assert!(check((1, 8000), Some(8000), None, Func::Crop, r).unwrap_err().contains("parameter w:"));
        // Downscaling a source larger than the budget is fine.
        assert!(check((2000, 2000), Some(900), None, Func::Crop, r).is_ok());
        assert!(check((2000, 2000), None, None, Func::Crop, r).is_ok());
        assert!(check((2000, 2000), Some(3000), Some(3000), Func::Bound, r).is_ok(), "bound keeps the size");
    }

    #[test]
    fn upscaling_is_refused_when_the_project_says_so() {
        let no = OutputRules { upscale: false, ..OutputRules::default() };
        assert!(check((100, 50), Some(200), None, Func::Crop, no)
            .unwrap_err()
            .contains("parameter w: the output would enlarge the 100x50 image"));
        assert!(check((100, 50), None, Some(60), Func::Crop, no).unwrap_err().contains("parameter h:"));
        assert!(check((100, 50), Some(100), Some(100), Func::Crop, no).unwrap_err().contains("parameter h:"));
        for ok in [
            (Some(100), None, Func::Crop),
            (Some(50), Some(50), Func::Crop),
            (Some(200), Some(200), Func::Bound),
            (Some(200), Some(20), Func::Fit),
        ] {
            assert!(check((100, 50), ok.0, ok.1, ok.2, no).is_ok(), "{ok:?}");
        }
        let sml = Params { w: Some(800), org_if_sml: true, ..Params::default() };
        assert!(plan(100, 50, &sml).check((100, 50), &sml, &no).is_ok());
        assert!(check((100, 50), Some(200), None, Func::Crop, OutputRules::default()).is_ok());
    }
}
