//! An image URL as a customer pastes it into a support ticket, read back
//! into the project and origin path it addresses: the edge's three forms
//! (path `/{token}/{host}/{path}`, host label `{token}.{edge name}/…`,
//! custom host `images.shop.example/…`, each optionally with the anchor's
//! `/v7`), with or without scheme, with its query (the variant).

use super::text::excerpt;
use super::OriginPath;

/// The legacy version prefix the anchor's client libraries add.
const VERSION_PREFIX: &str = "/v7";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatedUrl {
    pub token: String,
    /// The canonical origin path (`/{origin host}/{path}`).
    pub origin: OriginPath,
    /// The raw query (the variant), if any.
    pub query: Option<String>,
    /// The host the customer used, if the URL named one (lower case, no port).
    pub host: Option<String>,
}

impl LocatedUrl {
    /// The edge's path form of this variant: `/{token}/{host}/{path}?{query}`.
    pub fn edge_path(&self) -> String {
        match &self.query {
            Some(q) => format!("/{}{}?{q}", self.token, self.origin.as_str()),
            None => format!("/{}{}", self.token, self.origin.as_str()),
        }
    }
}

/// Reads `input`. `edge_names` are the edges' own host names (host-label
/// form: `{token}.{name}`); `is_token` says whether a project has that
/// token; `token_of_host` finds the project of a custom host.
pub fn locate_url(
    input: &str,
    edge_names: &[String],
    is_token: impl Fn(&str) -> bool,
    token_of_host: impl Fn(&str) -> Option<String>,
) -> Result<LocatedUrl, String> {
    let raw = input.trim();
    let shown = excerpt(raw);
    let rest = ["https://", "http://", "//"]
        .iter()
        .find_map(|p| raw.get(..p.len()).filter(|s| s.eq_ignore_ascii_case(p)).map(|_| &raw[p.len()..]))
        .unwrap_or(raw);
    let rest = rest.split('#').next().unwrap_or_default();
    let (host, path_and_query) = if rest.starts_with('/') {
        (None, rest)
    } else {
        match rest.find('/') {
            Some(i) => (Some(&rest[..i]), &rest[i..]),
            None => (Some(rest), "/"),
        }
    };
    let host = host.map(|h| {
        let h = h.rsplit_once('@').map_or(h, |(_, h)| h).to_ascii_lowercase();
        match h.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.contains(':') => name.to_owned(),
            _ => h,
        }
    });
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, (!q.is_empty()).then(|| q.to_owned())),
        None => (path_and_query, None),
    };
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    let label_token = host.as_deref().and_then(|h| {
        edge_names.iter().find_map(|name| {
            let name = name.split(':').next().unwrap_or(name).to_ascii_lowercase();
            h.strip_suffix(&name).and_then(|l| l.strip_suffix('.')).filter(|l| !l.contains('.')).map(str::to_owned)
        })
    });
    let (token, remainder) = if !first.is_empty() && is_token(first) {
        (first.to_owned(), &path[1 + first.len()..])
    } else if let Some(t) = label_token.filter(|t| is_token(t)) {
        (t, path)
    } else if let Some(t) = host.as_deref().and_then(&token_of_host) {
        (t, path)
    } else {
        return Err(format!(
            "{shown:?} names no project: use an image URL of one of your projects, e.g. \
             https://demo.img.example.net/sample.li/flat1.jpg?w=500 or /demo/sample.li/flat1.jpg"
        ));
    };
    let remainder = match remainder.strip_prefix(VERSION_PREFIX) {
        Some(r) if r.starts_with('/') => r,
        _ => remainder,
    };
    if remainder.ends_with('*') {
        return Err(format!("{shown:?} is a prefix, not one image: paste the URL of one image"));
    }
    let origin = OriginPath::parse(remainder).map_err(|e| format!("{shown:?}: {e}"))?;
    Ok(LocatedUrl { token, origin, query, host })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locate(input: &str) -> Result<LocatedUrl, String> {
        let names = ["img.example.net".to_owned()];
        locate_url(
            input,
            &names,
            |t| t == "demo" || t == "shop",
            |h| (h == "images.shop.example").then(|| "shop".into()),
        )
    }

    #[test]
    fn every_edge_form_reads_back_to_its_project_path_and_variant() {
        for (url, token, host) in [
            ("https://img.example.net/demo/sample.li/flat1.jpg?w=500", "demo", Some("img.example.net")),
            ("/demo/sample.li/flat1.jpg?w=500", "demo", None),
            ("demo.img.example.net/sample.li/flat1.jpg?w=500", "demo", Some("demo.img.example.net")),
            (
                "HTTPS://Demo.IMG.example.net:8443/v7/sample.li/flat1.jpg?w=500#top",
                "demo",
                Some("demo.img.example.net"),
            ),
            ("https://images.shop.example/sample.li/flat1.jpg?w=500", "shop", Some("images.shop.example")),
        ] {
            let l = locate(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(
                (l.token.as_str(), l.origin.as_str(), l.query.as_deref()),
                (token, "/sample.li/flat1.jpg", Some("w=500")),
                "{url}"
            );
            assert_eq!(l.host.as_deref(), host, "{url}");
        }
        let plain = locate("/demo/sample.li/a%20b.jpg").unwrap();
        assert_eq!((plain.origin.as_str(), plain.query.as_deref()), ("/sample.li/a%20b.jpg", None));
        assert_eq!(plain.edge_path(), "/demo/sample.li/a%20b.jpg");
        assert_eq!(locate("/demo/sample.li/x.jpg?w=1").unwrap().edge_path(), "/demo/sample.li/x.jpg?w=1");
    }

    #[test]
    fn urls_of_no_project_or_of_no_image_say_so() {
        assert!(locate("https://elsewhere.example/sample.li/a.jpg").unwrap_err().contains("names no project"));
        assert!(locate("other.img.example.net/sample.li/a.jpg").unwrap_err().contains("names no project"));
        assert!(locate("/demo/sample.li/dir/*").unwrap_err().contains("prefix"));
        assert!(locate("/demo").is_err());
    }
}
