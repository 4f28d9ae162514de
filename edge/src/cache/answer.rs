//! A purge's (or dry run's) answer, bounded: what `POST /_purge` serialises
//! as `imgflush::domain::PurgeAnswer`.

use imgflush::domain::PurgeAnswer;

use super::index::Tally;

/// What a purge removed (or, from [`DiskCache::count`], would remove): the
/// number of objects and their stored bytes, up to [`SAMPLES_MAX`](super::index::SAMPLES_MAX)
/// of them as request paths (`/host/a.jpg?w=300`), which the worker may
/// request again through CDN nodes to verify they were purged, and for a
/// tag purge the canonical paths that had a variant removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purged {
    pub removed: u64,
    pub bytes: u64,
    pub urls: Vec<String>,
    /// Tag purges: at most [`PurgeAnswer::MAX_PATHS`], within the answer's size.
    pub paths: Vec<String>,
    /// False when `paths` had to leave some out.
    pub paths_complete: bool,
}

/// The urls of an answer weigh at most this (~3 KB, as when the worker read 4 KB).
const URLS_BUDGET: usize = 3000;
/// Its paths at most this: the rest of [`PurgeAnswer::MAX_BYTES`] leaves
/// room for the urls, the counts and the field names.
const PATHS_BUDGET: usize = PurgeAnswer::MAX_BYTES - URLS_BUDGET - 1024;

impl Purged {
    pub(super) fn new(t: Tally) -> Purged {
        let mut budget = URLS_BUDGET;
        let mut urls = Vec::new();
        for m in &t.samples {
            let url = match crate::params::query_of(&m.variant) {
                q if q.is_empty() => m.path.clone(),
                q => format!("{}?{q}", m.path),
            };
            if json_len(&url) + 1 > budget {
                break;
            }
            budget -= json_len(&url) + 1;
            urls.push(url);
        }
        let mut budget = PATHS_BUDGET;
        let mut paths = Vec::new();
        for p in t.paths.iter().take(PurgeAnswer::MAX_PATHS) {
            if json_len(p) + 1 > budget {
                break;
            }
            budget -= json_len(p) + 1;
            paths.push(p.to_string());
        }
        let paths_complete = paths.len() == t.paths.len();
        Purged { removed: t.objects, bytes: t.bytes, urls, paths, paths_complete }
    }
}

impl From<Purged> for PurgeAnswer {
    fn from(p: Purged) -> PurgeAnswer {
        PurgeAnswer {
            removed: p.removed,
            bytes: p.bytes,
            urls: p.urls,
            paths: p.paths,
            paths_complete: p.paths_complete,
        }
    }
}

/// Bytes of `s` as a JSON string, quotes included.
fn json_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}
