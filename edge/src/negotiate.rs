//! Step 3b: what the project adds to the URL's parameters. With
//! `auto_format` and no `force_format`, the output format comes from the
//! request's `Accept`: AVIF, else WebP, else the source format. Only an
//! explicit `image/avif` / `image/webp` counts: `image/*` and `*/*` alone
//! do not (browsers that send only those may not decode either). The choice
//! lands in `force_format`, so the cache keys by the chosen class (an auto
//! AVIF and `force_format=avif` are one entry) and never by the raw header.

use axum::http::header::{GetAll, ACCEPT};
use axum::http::{HeaderMap, HeaderValue};

use crate::params::{Format, Params};
use crate::settings::ProjectSettings;

/// Formats an automatic choice may pick, best first.
const ORDER: [Format; 2] = [Format::Avif, Format::Webp];

pub fn apply(mut params: Params, project: &ProjectSettings, headers: &HeaderMap) -> Params {
    params.linear_light = project.linear_light;
    if project.auto_format && params.force_format.is_none() {
        params.vary_accept = true;
        let accept = headers.get_all(ACCEPT);
        params.force_format = ORDER.into_iter().find(|f| accepts(&accept, f.content_type()));
    }
    params
}

/// `mime` is named with a quality above zero in one of the `Accept` values.
fn accepts(accept: &GetAll<'_, HeaderValue>, mime: &str) -> bool {
    let mut found = false;
    for range in accept.iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')) {
        let mut parts = range.split(';');
        if !parts.next().unwrap_or_default().trim().eq_ignore_ascii_case(mime) {
            continue;
        }
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1.0), |(_, v)| v.trim().parse::<f32>().ok());
        // A malformed q counts as refused; the same range twice: the last wins.
        found = q.is_some_and(|q| q > 0.0);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    const FIREFOX: &str = "image/avif,image/webp,*/*";
    const SAFARI_15: &str = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";

    fn chosen(auto: bool, accept: &[&str], query_format: Option<Format>) -> (Option<Format>, bool) {
        let mut project = ProjectSettings::new("demo");
        project.auto_format = auto;
        let mut headers = HeaderMap::new();
        for a in accept {
            headers.append(ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        let params = Params { force_format: query_format, ..Params::default() };
        let p = apply(params, &project, &headers);
        (p.force_format, p.vary_accept)
    }

    #[test]
    fn browsers_get_their_best_format() {
        assert_eq!(chosen(true, &[CHROME], None), (Some(Format::Avif), true));
        assert_eq!(chosen(true, &[FIREFOX], None), (Some(Format::Avif), true));
        assert_eq!(chosen(true, &[SAFARI_15], None), (Some(Format::Webp), true));
        assert_eq!(chosen(true, &["*/*"], None), (None, true), "the source format, still varying");
        assert_eq!(chosen(true, &[], None), (None, true));
        assert_eq!(chosen(true, &["image/*,*/*;q=0.8"], None), (None, true));
    }

    #[test]
    fn q_zero_refuses_and_headers_combine() {
        assert_eq!(chosen(true, &["image/avif;q=0, image/webp;q=0.5"], None).0, Some(Format::Webp));
        assert_eq!(chosen(true, &["IMAGE/AVIF ; Q=0.000"], None).0, None);
        assert_eq!(chosen(true, &["image/avif;q=abc"], None).0, None);
        assert_eq!(chosen(true, &["text/html", "image/webp"], None).0, Some(Format::Webp));
        assert_eq!(chosen(true, &["image/avif;level=1;q=0.1"], None).0, Some(Format::Avif));
    }

    #[test]
    fn forced_formats_and_other_projects_ignore_accept() {
        assert_eq!(chosen(true, &[CHROME], Some(Format::Jpeg)), (Some(Format::Jpeg), false));
        assert_eq!(chosen(false, &[CHROME], None), (None, false));
    }
}
