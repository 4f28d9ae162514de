//! A purge's blast radius, before it runs (a dry run): what each target
//! would remove. Edges count exactly (they hold the index); Varnish nodes,
//! hooks and CDNs cannot say.

use serde::{Deserialize, Serialize};

use super::{Scope, TargetKind};

/// What a purge of `scope` and `items` (paths or tags) would remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub scope: Scope,
    /// The canonical paths (or the tags) as the purge would send them.
    pub items: Vec<String>,
    pub targets: Vec<TargetPreview>,
    /// Sums over the targets that counted.
    pub objects: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetPreview {
    pub name: String,
    pub kind: TargetKind,
    pub count: Count,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Count {
    /// Exactly this many cached objects (and bytes) would go.
    Counted { objects: u64, bytes: u64 },
    /// The kind cannot say (Varnish, hooks, CDNs).
    NotCountable,
    /// The target did not answer: the reason, without secrets.
    Failed { reason: String },
}

impl Preview {
    /// Whether every target that can count did (the sums are exact).
    pub fn complete(&self) -> bool {
        !self.targets.iter().any(|t| matches!(t.count, Count::Failed { .. }))
    }

    /// The figures as one sentence: "would remove 1,204 objects (83.0 MB)
    /// on the edges" (scope All: "the cache to rebuild").
    pub fn summary(&self) -> String {
        let counted = self.targets.iter().filter(|t| matches!(t.count, Count::Counted { .. })).count();
        if counted == 0 {
            return "no target can count what this purge removes (no edge answered)".to_owned();
        }
        let what = format!("{} objects ({})", thousands(self.objects), bytes_text(self.bytes));
        match self.scope {
            Scope::All => format!("the cache to rebuild on the edges: {what}"),
            _ => format!("would remove {what} on the edges"),
        }
    }

    /// Why the purge needs a confirmation: the figures above the project's
    /// thresholds, or `None`.
    pub fn over(&self, objects: Option<u64>, bytes: Option<u64>) -> Option<String> {
        let too_many = objects.filter(|max| self.objects > *max).map(|max| format!("{} objects", thousands(max)));
        let too_big = bytes.filter(|max| self.bytes > *max).map(bytes_text);
        let limits: Vec<String> = too_many.into_iter().chain(too_big).collect();
        (!limits.is_empty()).then(|| {
            format!(
                "this purge {}, above the project's limit of {}: confirm to go ahead",
                self.summary(),
                limits.join(" or ")
            )
        })
    }
}

/// `1204` → `1,204`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in the largest unit that keeps a number above 1: `83.0 MB`.
pub fn bytes_text(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(objects: u64, bytes: u64) -> Preview {
        Preview {
            scope: Scope::Tag,
            items: vec!["products".into()],
            targets: vec![
                TargetPreview {
                    name: "edge-1".into(),
                    kind: TargetKind::Edge,
                    count: Count::Counted { objects, bytes },
                },
                TargetPreview { name: "v".into(), kind: TargetKind::Varnish, count: Count::NotCountable },
            ],
            objects,
            bytes,
        }
    }

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(thousands(1204), "1,204");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(12), "12");
        assert_eq!(bytes_text(512), "512 bytes");
        assert_eq!(bytes_text(83 * 1024 * 1024), "83.0 MB");
        assert_eq!(preview(1204, 83 << 20).summary(), "would remove 1,204 objects (83.0 MB) on the edges");
    }

    #[test]
    fn a_purge_above_either_limit_needs_a_confirmation() {
        let p = preview(1204, 83 << 20);
        assert_eq!(p.over(None, None), None);
        assert_eq!(p.over(Some(2000), Some(100 << 20)), None);
        let why = p.over(Some(1000), None).unwrap();
        assert!(why.contains("1,204 objects") && why.contains("limit of 1,000 objects"), "{why}");
        assert!(p.over(None, Some(1 << 20)).unwrap().contains("limit of 1.0 MB"));
        assert!(p.complete());
    }
}
