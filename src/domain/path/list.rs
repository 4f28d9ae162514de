//! Turning what a user pasted (or an API sent) into a deduplicated list.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::PathError;
use super::origin::OriginPath;
use crate::domain::text::trim_input;

/// Paths per invalidation submitted from the console form.
pub const CONSOLE_MAX_PATHS: usize = 10;
/// Paths per invalidation accepted by the public API.
pub const API_MAX_PATHS: usize = 15;
/// Invalid entries reported per list; parsing stops at the next one.
pub const MAX_LIST_ERRORS: usize = 10;
/// Longest pasted list (the console's `urls` field) the server accepts, in bytes.
pub const MAX_LIST_BYTES: usize = 64 * 1024;

/// Result of parsing a pasted list: every entry is either a path or an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedList {
    /// Unique canonical paths, in order of first appearance.
    pub paths: Vec<OriginPath>,
    pub errors: Vec<PathError>,
    /// Entries dropped because an earlier one had the same canonical form.
    pub duplicates: usize,
    /// Entries left unparsed because parsing stopped early: at more than
    /// `max` paths, or at [`MAX_LIST_ERRORS`] invalid entries.
    #[serde(default)]
    pub not_parsed: usize,
}

impl ParsedList {
    /// Applies the same rules as [`validate_paths`] to an already parsed list.
    pub fn into_result(self, max: usize) -> Result<Vec<OriginPath>, PathListError> {
        if !self.errors.is_empty() {
            return Err(PathListError::Invalid(self.errors));
        }
        check_count(self.paths, self.not_parsed, max)
    }
}

/// Splits on commas and any line break, trims, drops blank entries. Commas
/// are separators, so a comma inside a file name must be written `%2C`.
pub fn split_entries(text: &str) -> Vec<String> {
    entries(text).map(str::to_owned).collect()
}

fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', '\n', '\r']).map(trim_input).filter(|e| !e.is_empty())
}

/// Parses a pasted list for the console ([`CONSOLE_MAX_PATHS`]); never
/// fails, errors are reported per entry.
pub fn parse_path_list(text: &str) -> ParsedList {
    parse_path_list_max(text, CONSOLE_MAX_PATHS)
}

/// Parses a pasted list, stopping once it holds more than `max` paths or
/// more than [`MAX_LIST_ERRORS`] errors: a pasted megabyte costs no more than
/// a dozen entries. A list that stopped early counts its remaining entries
/// (without parsing them), so "you sent N" stays truthful.
pub fn parse_path_list_max(text: &str, max: usize) -> ParsedList {
    collect(entries(text), max)
}

/// For APIs taking a JSON array: entries are not split on commas, duplicates
/// are dropped and the unique count must be `1..=max`.
pub fn validate_paths<S: AsRef<str>>(entries: &[S], max: usize) -> Result<Vec<OriginPath>, PathListError> {
    collect(entries.iter().map(|e| e.as_ref()), max).into_result(max)
}

fn collect<S: AsRef<str>>(entries: impl IntoIterator<Item = S>, max: usize) -> ParsedList {
    let mut out = ParsedList::default();
    let mut seen = HashSet::new();
    let mut entries = entries.into_iter();
    for entry in entries.by_ref() {
        match OriginPath::parse(entry.as_ref()) {
            Ok(p) if seen.contains(p.as_str()) => out.duplicates += 1,
            Ok(p) => {
                seen.insert(p.as_str().to_owned());
                out.paths.push(p);
            }
            Err(e) => out.errors.push(e),
        }
        if out.paths.len() > max || out.errors.len() >= MAX_LIST_ERRORS {
            break;
        }
    }
    out.not_parsed = entries.count();
    out
}

fn check_count(paths: Vec<OriginPath>, not_parsed: usize, max: usize) -> Result<Vec<OriginPath>, PathListError> {
    match paths.len() {
        0 => Err(PathListError::Empty),
        n if n > max => Err(PathListError::TooMany { count: n + not_parsed, max }),
        _ => Ok(paths),
    }
}

/// Why a list of paths cannot be submitted as one invalidation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum PathListError {
    #[error("submit at least one path, e.g. /sample.li/flat1.jpg")]
    Empty,
    #[error("submit at most {max} paths per invalidation; split the list (you sent {count})")]
    TooMany { count: usize, max: usize },
    #[error("{}", InvalidList(.0))]
    Invalid(Vec<PathError>),
}

impl PathListError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooMany { .. } => "too_many",
            Self::Invalid(_) => "invalid",
        }
    }
}

struct InvalidList<'a>(&'a [PathError]);

impl fmt::Display for InvalidList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "fix {} invalid paths: ", many.len())?;
                for (i, e) in many.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "; " };
                    write!(f, "{sep}{e}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PathErrorReason;

    fn strs(paths: &[OriginPath]) -> Vec<&str> {
        paths.iter().map(OriginPath::as_str).collect()
    }

    #[test]
    fn splits_on_commas_and_all_line_breaks() {
        let text = "/a.jpg,\n/b.jpg\r\n\n , /c.jpg\r/d.jpg";
        assert_eq!(split_entries(text), ["/a.jpg", "/b.jpg", "/c.jpg", "/d.jpg"]);
        let list = parse_path_list(text);
        assert_eq!(strs(&list.paths), ["/a.jpg", "/b.jpg", "/c.jpg", "/d.jpg"]);
        assert!(list.errors.is_empty());
        assert_eq!(list.duplicates, 0);
    }

    #[test]
    fn blank_input_is_an_empty_list() {
        assert_eq!(parse_path_list(" \n\r\n , ,"), ParsedList::default());
        assert!(split_entries("").is_empty());
    }

    #[test]
    fn drops_canonical_duplicates_keeping_first_order() {
        let list = parse_path_list("/b.jpg\n/a.jpg\n/a.jpg\n/a%2Ejpg\n/b.jpg\n/a b.jpg,/a%20b.jpg");
        assert_eq!(strs(&list.paths), ["/b.jpg", "/a.jpg", "/a%20b.jpg"]);
        assert_eq!(list.duplicates, 4);
    }

    #[test]
    fn reports_errors_per_entry_and_keeps_valid_ones() {
        let list = parse_path_list("/ok.jpg\nflat1.jpg\n/x.jpg?w=1");
        assert_eq!(strs(&list.paths), ["/ok.jpg"]);
        let reasons: Vec<_> = list.errors.iter().map(|e| e.reason).collect();
        assert_eq!(reasons, [PathErrorReason::NotAbsolute, PathErrorReason::HasQuery]);
        assert_eq!(list.errors[0].suggestion.as_deref(), Some("/flat1.jpg"));
    }

    #[test]
    fn validate_paths_does_not_split_on_commas() {
        let ok = validate_paths(&["/a,b.jpg", "/c.jpg"], API_MAX_PATHS).unwrap();
        assert_eq!(strs(&ok), ["/a,b.jpg", "/c.jpg"]);
    }

    #[test]
    fn validate_paths_count_limits_after_dedup() {
        let ten: Vec<String> = (0..10).map(|i| format!("/{i}.jpg")).collect();
        assert_eq!(validate_paths(&ten, CONSOLE_MAX_PATHS).unwrap().len(), 10);
        let mut eleven = ten.clone();
        eleven.push("/10.jpg".into());
        let err = validate_paths(&eleven, CONSOLE_MAX_PATHS).unwrap_err();
        assert_eq!(err, PathListError::TooMany { count: 11, max: 10 });
        assert_eq!(err.to_string(), "submit at most 10 paths per invalidation; split the list (you sent 11)");
        let mut dup = ten;
        dup.push("/0.jpg".into());
        assert!(validate_paths(&dup, CONSOLE_MAX_PATHS).is_ok());
    }

    #[test]
    fn validate_paths_empty_and_invalid() {
        let none: [&str; 0] = [];
        assert_eq!(validate_paths(&none, 10), Err(PathListError::Empty));
        let err = validate_paths(&["", "/a.jpg"], 10).unwrap_err();
        assert_eq!(err.code(), "invalid");
        let PathListError::Invalid(errors) = &err else { panic!("{err:?}") };
        assert_eq!(errors[0].reason, PathErrorReason::Empty);
        assert!(err.to_string().starts_with("\"\": enter a path"));
    }

    #[test]
    fn invalid_list_message_names_every_entry() {
        let err = validate_paths(&["a.jpg", "/b.jpg#x"], 10).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("fix 2 invalid paths: \"a.jpg\""), "{msg}");
        assert!(msg.contains("; \"/b.jpg#x\""), "{msg}");
        assert!(msg.contains("Try \"/b.jpg\""), "{msg}");
    }

    #[test]
    fn parsed_list_into_result() {
        assert!(parse_path_list("/a.jpg").into_result(1).is_ok());
        assert_eq!(parse_path_list("").into_result(1), Err(PathListError::Empty));
        let too_many = parse_path_list("/a.jpg,/b.jpg").into_result(1);
        assert_eq!(too_many, Err(PathListError::TooMany { count: 2, max: 1 }));
    }

    #[test]
    fn a_huge_paste_stops_after_max_plus_one_paths() {
        let text = (0..100_000).map(|i| format!("/{i}.jpg")).collect::<Vec<_>>().join("\n");
        let list = parse_path_list(&text);
        assert_eq!(list.paths.len(), CONSOLE_MAX_PATHS + 1);
        assert_eq!(list.not_parsed, 100_000 - CONSOLE_MAX_PATHS - 1);
        let err = list.into_result(CONSOLE_MAX_PATHS).unwrap_err();
        assert_eq!(err, PathListError::TooMany { count: 100_000, max: CONSOLE_MAX_PATHS });
        let eleven = (0..11).map(|i| format!("/{i}.jpg")).collect::<Vec<_>>().join(",");
        let list = parse_path_list(&eleven);
        assert_eq!((list.paths.len(), list.not_parsed), (11, 0));
    }

    #[test]
    fn errors_are_capped_and_entries_excerpted() {
        // 2 MB of "a\n": a million invalid entries.
        let text = "a\n".repeat(1_000_000);
        let list = parse_path_list(&text);
        assert_eq!(list.errors.len(), MAX_LIST_ERRORS);
        assert_eq!(list.not_parsed, 1_000_000 - MAX_LIST_ERRORS);
        let PathListError::Invalid(errors) = validate_paths(&vec!["a"; 1000], API_MAX_PATHS).unwrap_err() else {
            panic!()
        };
        assert_eq!(errors.len(), MAX_LIST_ERRORS);
        let long = format!("x{}", "a".repeat(100_000));
        let e = &parse_path_list(&long).errors[0];
        let field = crate::domain::FieldError::from_path("urls", e);
        assert!(field.entry.unwrap().len() < 400);
        assert!(field.message.len() < 600);
    }

    #[test]
    fn list_error_serde_shape() {
        let json = serde_json::to_string(&PathListError::TooMany { count: 11, max: 10 }).unwrap();
        assert_eq!(json, r#"{"code":"too_many","detail":{"count":11,"max":10}}"#);
        let back: PathListError = serde_json::from_str(&json).unwrap();
        assert_eq!(back.code(), "too_many");
    }
}
