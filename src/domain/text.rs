//! Small text helpers shared by the domain error messages.

/// Longest slice of user input echoed back in an error message.
const EXCERPT_CHARS: usize = 120;

/// Shortens `s` so a pasted megabyte does not end up in a toast or a log line.
pub(crate) fn excerpt(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

/// "1 cached object", "2 cached objects": `n` and the noun that fits it.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Trims whitespace and a stray byte-order mark, which editors and
/// spreadsheets like to prepend to pasted lists.
pub(crate) fn trim_input(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_fits_the_noun_to_the_number() {
        assert_eq!(count(0u64, "cached object", "cached objects"), "0 cached objects");
        assert_eq!(count(1u64, "cached object", "cached objects"), "1 cached object");
        assert_eq!(count(2u32, "target", "targets"), "2 targets");
    }

    #[test]
    fn excerpt_keeps_short_text() {
        assert_eq!(excerpt("abc"), "abc");
        let exact = "é".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(&exact), exact);
    }

    #[test]
    fn excerpt_cuts_on_char_boundary() {
        let long = "é".repeat(EXCERPT_CHARS + 5);
        let short = excerpt(&long);
        assert_eq!(short.chars().count(), EXCERPT_CHARS + 1);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn trim_input_strips_whitespace_and_bom() {
        assert_eq!(trim_input("\u{FEFF} /a.jpg \t"), "/a.jpg");
        assert_eq!(trim_input("\u{A0}/a.jpg\u{A0}"), "/a.jpg");
    }
}
