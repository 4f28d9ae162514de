//! One token's cache tags: tag → path → how many cached variants of that
//! path carry the tag. Paths, not variant keys: a tag purge walks the few
//! variants of each path and keeps those without the tag, and the path is
//! the `Arc<str>` the path index already holds, so a membership costs a
//! pointer and a count. Exact: every variant that comes adds its tags, every
//! variant that goes (purge, replacement, eviction, a failed read) takes
//! them away, and a count reaching zero removes the path.

use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
pub struct Tags(HashMap<Box<str>, Paths>);

/// The paths of one tag, each with its number of variants carrying it. Many
/// tags name one path (`product-123`), so that one is kept inline: a map
/// would cost ~120 bytes more. The map is boxed so that every tag's slot
/// stays 24 bytes, not 56.
#[allow(clippy::box_collection)]
enum Paths {
    One(Arc<str>, u32),
    Many(Box<HashMap<Arc<str>, u32>>),
}

impl Tags {
    /// A variant of `path` carrying `tags` came.
    pub fn add(&mut self, path: &Arc<str>, tags: &[String]) {
        for tag in tags {
            let Some(paths) = self.0.get_mut(tag.as_str()) else {
                self.0.insert(tag.as_str().into(), Paths::One(path.clone(), 1));
                continue;
            };
            match paths {
                Paths::One(p, n) if p == path => *n += 1,
                Paths::One(p, n) => {
                    let map = HashMap::from([(p.clone(), *n), (path.clone(), 1)]);
                    *paths = Paths::Many(Box::new(map));
                }
                Paths::Many(map) => *map.entry(path.clone()).or_default() += 1,
            }
        }
    }

    /// A variant of `path` carrying `tags` went.
    pub fn remove(&mut self, path: &str, tags: &[String]) {
        for tag in tags {
            let Some(paths) = self.0.get_mut(tag.as_str()) else { continue };
            let empty = match paths {
                Paths::One(p, n) if &**p == path => {
                    *n -= 1;
                    *n == 0
                }
                Paths::One(..) => false,
                Paths::Many(map) => {
                    if let Some(n) = map.get_mut(path) {
                        *n -= 1;
                        if *n == 0 {
                            map.remove(path);
                        }
                    }
                    if map.len() == 1 {
                        let (p, n) = map.drain().next().expect("one left");
                        *paths = Paths::One(p, n);
                    }
                    false
                }
            };
            if empty {
                self.0.remove(tag.as_str());
            }
        }
    }

    /// The paths with a variant carrying any of `tags`: sorted, each once.
    pub fn paths_of(&self, tags: &[String]) -> Vec<Arc<str>> {
        let mut out = Vec::new();
        for paths in tags.iter().filter_map(|t| self.0.get(t.as_str())) {
            match paths {
                Paths::One(p, _) => out.push(p.clone()),
                Paths::Many(map) => out.extend(map.keys().cloned()),
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// tag → path → count, for the consistency checks of the tests.
    #[cfg(test)]
    pub fn snapshot(&self) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, u32>> {
        let counts = |paths: &Paths| match paths {
            Paths::One(p, n) => [(p.to_string(), *n)].into_iter().collect(),
            Paths::Many(map) => map.iter().map(|(p, n)| (p.to_string(), *n)).collect(),
        };
        self.0.iter().map(|(t, paths)| (t.to_string(), counts(paths))).collect()
    }
}

/// Whether a variant carrying `carried` carries any of `wanted`.
pub fn carries_any(carried: &[String], wanted: &[String]) -> bool {
    carried.iter().any(|t| wanted.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_variants_through_one_and_many_paths() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("/h/a.jpg"), Arc::from("/h/b.jpg"));
        let (t, both) = (vec!["t".to_owned()], vec!["t".to_owned(), "u".to_owned()]);
        let mut tags = Tags::default();
        tags.add(&a, &t);
        tags.add(&a, &both);
        tags.add(&b, &t);
        assert_eq!(tags.paths_of(&both), [a.clone(), b.clone()]);
        assert_eq!(tags.snapshot()["t"]["/h/a.jpg"], 2);
        tags.remove("/h/b.jpg", &t);
        tags.remove("/h/a.jpg", &t);
        assert_eq!(tags.paths_of(&t), std::slice::from_ref(&a), "back to one path");
        tags.add(&b, &t);
        tags.remove("/h/a.jpg", &both);
        assert_eq!(tags.paths_of(&both), std::slice::from_ref(&b));
        tags.remove("/h/b.jpg", &t);
        assert!(tags.snapshot().is_empty(), "nothing left behind");
    }
}
