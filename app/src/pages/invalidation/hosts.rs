//! Which typed paths sit under a host the project does not serve from.

/// The hosts (each path's first segment) that are not among `allowed`, in
/// the order typed; none when the project has no origin hosts set.
pub(super) fn foreign_hosts<'a>(paths: impl Iterator<Item = &'a str>, allowed: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if allowed.is_empty() {
        return out;
    }
    for path in paths {
        let host = path.trim_start_matches('/').split('/').next().unwrap_or_default().to_ascii_lowercase();
        if !host.is_empty()
            && host != "*"
            && !allowed.iter().any(|a| imgflush::domain::url::origin_host_matches(a, &host))
            && !out.contains(&host)
        {
            out.push(host);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::foreign_hosts;

    #[test]
    fn a_host_outside_the_origin_hosts_is_named_once() {
        let allowed = vec!["img.example.com".to_owned(), "127.0.0.1:3003".to_owned()];
        let paths = ["/img.example.com/a.jpg", "/other.example/b.jpg", "/OTHER.example/c.jpg", "/127.0.0.1:3003/d.jpg"];
        assert_eq!(foreign_hosts(paths.into_iter(), &allowed), ["other.example"]);
        assert!(foreign_hosts(["/x.example/a.jpg"].into_iter(), &[]).is_empty(), "no origin hosts set: no warning");
        // A wildcard entry serves the hosts the edge fetches from under it.
        let wildcard = vec!["*.cdn.example.com".to_owned()];
        let paths = ["/a.cdn.example.com/a.jpg", "/cdn.example.com/b.jpg"];
        assert_eq!(foreign_hosts(paths.into_iter(), &wildcard), ["cdn.example.com"]);
    }
}
