//! Step 3: transformation parameters, validated and normalised. Equivalent
//! URLs (aliases, order, spelled-out defaults) give one `variant_key`, which
//! with the token and canonical origin path names the cache entry.

use crate::error::EdgeError;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Func {
    /// The anchor's default when both sides are given: cover the box, cut the overflow.
    #[default]
    Crop,
    /// Fit inside the box and pad to its exact size.
    Fit,
    /// Fit inside the box, never enlarge, no padding.
    Bound,
    /// Stretch to the exact box, ignoring proportions.
    Cover,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Avif,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Avif => "avif",
        }
    }
}

pub const DEFAULT_QUALITY: u8 = 80;
const MAX_VH_LEN: usize = 128;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    pub w: Option<u32>,
    pub h: Option<u32>,
    pub func: Func,
    pub q: Option<u8>,
    pub force_format: Option<Format>,
    pub org_if_sml: bool,
    /// Cache buster: part of the key, ignored by the transform.
    pub vh: Option<String>,
    /// Overrides max-age and s-maxage (seconds) for this URL.
    pub ci_cache: Option<u32>,
    /// From the project, not the URL (not in the variant key): resize in
    /// linear light and sharpen after large reductions.
    pub linear_light: bool,
    /// The format was picked from `Accept` (see `negotiate`): every answer
    /// carries `Vary: Accept`. Not in the variant key.
    pub vary_accept: bool,
}

impl Params {
    /// Unknown parameters are ignored; a known one with a bad value is a 400
    /// naming it. For repeated parameters the last one wins.
    pub fn parse(pairs: &[(String, String)], max_side: u32) -> Result<Params, EdgeError> {
        let mut p = Params::default();
        for (k, v) in pairs {
            let Some(k) = known_name(k) else { continue };
            match k {
                "w" => p.w = Some(side("w", v, max_side)?),
                "h" => p.h = Some(side("h", v, max_side)?),
                "func" => p.func = func(v)?,
                "q" => p.q = Some(number("q", v, 1, 100)? as u8),
                "force_format" => p.force_format = Some(format(v)?),
                "org_if_sml" => p.org_if_sml = flag("org_if_sml", v)?,
                "vh" => {
                    if v.len() > MAX_VH_LEN {
                        return Err(bad("vh", &format!("at most {MAX_VH_LEN} characters")));
                    }
                    p.vh = Some(v.clone());
                }
                "ci_cache" => p.ci_cache = Some(number("ci_cache", v, 0, u32::MAX as u64)? as u32),
                _ => {}
            }
        }
        Ok(p)
    }

    /// A box the output fills exactly (both sides, `crop`, `fit` or
    /// `cover`) is checked against the output budget before the origin is
    /// asked; other shapes depend on the source (see the `plan` module).
    pub fn check_box(&self, max_output_pixels: u64) -> Result<(), EdgeError> {
        let (Some(w), Some(h)) = (self.w, self.h) else { return Ok(()) };
        let pixels = u64::from(w) * u64::from(h);
        if self.func == Func::Bound || self.org_if_sml || pixels <= max_output_pixels {
            return Ok(());
        }
        let why = format!("the output would be {w}x{h} ({pixels} pixels); the limit is {max_output_pixels} pixels");
        Err(bad_sides(true, true, &why))
    }

    /// Quality used by lossy encoders.
    pub fn quality(&self) -> u8 {
        self.q.unwrap_or(DEFAULT_QUALITY)
    }

    /// The normalised variant: every field, fixed order, defaults spelled out.
    pub fn variant_key(&self) -> String {
        let opt = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        format!(
            "w={}&h={}&func={:?}&q={}&f={}&sml={}&cc={}&vh={}",
            opt(self.w),
            opt(self.h),
            self.func,
            self.quality(),
            self.force_format.map_or("auto", Format::name),
            u8::from(self.org_if_sml),
            opt(self.ci_cache),
            self.vh.as_deref().map_or_else(|| "-".to_owned(), |v| format!("={v}")),
        )
    }
}

/// The canonical name of a parameter the edge reads (`width` → `w`);
/// `None` for the others, which are ignored.
pub fn known_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "w" | "width" => "w",
        "h" | "height" => "h",
        "func" => "func",
        "q" => "q",
        "force_format" => "force_format",
        "org_if_sml" => "org_if_sml",
        "vh" => "vh",
        "ci_cache" => "ci_cache",
        _ => return None,
    })
}

/// A request query equivalent to a [`Params::variant_key`]: only the fields
/// that differ from the defaults, in the key's order (`w=300&vh=abc`), so a
/// client of the worker (its purge verification) can ask for the variant again.
pub fn query_of(variant_key: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for pair in variant_key.split('&') {
        let Some((k, v)) = pair.split_once('=') else { continue };
        let kept = match (k, v) {
            (_, "-") | ("func", "Crop") | ("f", "auto") | ("sml", "0") => None,
            ("q", v) if v == DEFAULT_QUALITY.to_string() => None,
            ("w" | "h" | "q", v) => Some(format!("{k}={v}")),
            ("func", v) => Some(format!("func={}", v.to_ascii_lowercase())),
            ("f", v) => Some(format!("force_format={v}")),
            ("sml", _) => Some("org_if_sml=1".to_owned()),
            ("cc", v) => Some(format!("ci_cache={v}")),
            ("vh", v) => v.strip_prefix('=').map(|v| format!("vh={}", encode(v))),
            _ => None,
        };
        out.extend(kept);
    }
    out.join("&")
}

fn encode(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn bad(name: &str, why: &str) -> EdgeError {
    EdgeError::bad_request("bad_param", format!("invalid parameter {name}: {why}"))
}

/// A 400 naming `w`, `h` or both: what the output's size comes from.
pub(crate) fn bad_sides(w: bool, h: bool, why: &str) -> EdgeError {
    match (w, h) {
        (true, true) => EdgeError::bad_request("bad_param", format!("invalid parameters w and h: {why}")),
        (false, true) => bad("h", why),
        _ => bad("w", why),
    }
}

fn number(name: &str, v: &str, min: u64, max: u64) -> Result<u64, EdgeError> {
    let n: u64 = v.trim().parse().map_err(|_| bad(name, &format!("{v:?} is not a whole number")))?;
    if !(min..=max).contains(&n) {
        return Err(bad(name, &format!("{n} is not within {min}..={max}")));
    }
    Ok(n)
}

fn side(name: &str, v: &str, max: u32) -> Result<u32, EdgeError> {
    Ok(number(name, v, 1, u64::from(max))? as u32)
}

fn func(v: &str) -> Result<Func, EdgeError> {
    match v {
        "crop" => Ok(Func::Crop),
        "fit" => Ok(Func::Fit),
        "bound" => Ok(Func::Bound),
        "cover" => Ok(Func::Cover),
        _ => Err(bad("func", &format!("{v:?} is not one of crop, fit, bound, cover"))),
    }
}

fn format(v: &str) -> Result<Format, EdgeError> {
    match v {
        "jpeg" | "jpg" => Ok(Format::Jpeg),
        "png" => Ok(Format::Png),
        "webp" => Ok(Format::Webp),
        "avif" => Ok(Format::Avif),
        _ => Err(bad("force_format", &format!("{v:?} is not one of jpeg, png, webp, avif"))),
    }
}

fn flag(name: &str, v: &str) -> Result<bool, EdgeError> {
    match v {
        "" | "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(bad(name, &format!("{v:?} is not 0 or 1"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<Params, EdgeError> {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        Params::parse(&pairs, 8192)
    }

    #[test]
    fn equivalent_urls_share_a_key() {
        let key = parse("w=300&h=200").unwrap().variant_key();
        for q in ["h=200&w=300", "width=300&height=200", "w=300&h=200&func=crop&q=80", "w=1&w=300&h=200&foo=bar"] {
            assert_eq!(parse(q).unwrap().variant_key(), key, "{q}");
        }
        assert_ne!(parse("w=300&h=200&vh=1").unwrap().variant_key(), key);
        assert_ne!(parse("w=300&h=200&vh=").unwrap().variant_key(), key);
        assert_ne!(parse("w=300&h=200&func=fit").unwrap().variant_key(), key);
    }

    #[test]
    fn a_variant_key_gives_back_an_equivalent_query() {
        for q in [
            "",
            "w=300",
            "w=300&h=200&func=fit&q=60",
            "force_format=webp&org_if_sml=1",
            "vh=a%20b&ci_cache=5",
            "vh=",
            "force_format=avif&q=50",
        ] {
            let key = parse(q).unwrap().variant_key();
            let again = query_of(&key);
            assert_eq!(parse(&again).unwrap().variant_key(), key, "{q} -> {again}");
        }
        assert_eq!(query_of(&parse("width=32&q=80&func=crop").unwrap().variant_key()), "w=32");
        assert_eq!(parse("force_format=jpg").unwrap().force_format, Some(Format::Jpeg));
        assert_eq!(query_of(&parse("force_format=avif").unwrap().variant_key()), "force_format=avif");
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (q, name) in [
            ("w=abc", "w"),
            ("w=0", "w"),
            ("width=99999", "w"),
            ("h=-1", "h"),
            ("q=101", "q"),
            ("func=zoom", "func"),
            ("force_format=gif", "force_format"),
            ("org_if_sml=yes", "org_if_sml"),
            ("ci_cache=soon", "ci_cache"),
        ] {
            let e = parse(q).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.message.contains(&format!("parameter {name}:")), "{q}: {}", e.message);
        }
    }

    #[test]
    fn a_box_over_the_budget_is_refused_before_any_fetch() {
        let e = parse("w=8192&h=8192&force_format=png&vh=1").unwrap().check_box(25_000_000).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "bad_param"));
        assert!(
            e.message.contains("parameters w and h: the output would be 8192x8192 (67108864 pixels)"),
            "{}",
            e.message
        );
        assert!(e.message.contains("the limit is 25000000 pixels"));
        for ok in ["w=5000&h=5000", "w=8192", "w=8192&h=8192&func=bound", "w=8192&h=8192&org_if_sml=1"] {
            assert!(parse(ok).unwrap().check_box(25_000_000).is_ok(), "{ok}");
        }
    }
}
