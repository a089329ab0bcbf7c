//! `*` / `?` wildcard matching for ARN patterns in access rules.
//!
//! `*` matches any run of characters (including `/` and `:`, as IAM does) and `?` exactly one
//! character. The matcher never backtracks more than one step: the text between two stars is
//! looked up at its leftmost position, which is enough for this pattern language, so the cost is
//! bounded by text length times pattern length and a hostile ARN cannot blow it up.

use std::fmt;

/// A parsed wildcard pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    /// The pattern split at every `*`; pieces keep their `?`.
    pieces: Vec<Vec<char>>,
}

/// Why a text is not a usable wildcard pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GlobError {
    /// The pattern is empty.
    #[error("pattern is empty")]
    Empty,
    /// The pattern is longer than [`Glob::MAX_LEN`] bytes.
    #[error("pattern is longer than {} bytes", Glob::MAX_LEN)]
    TooLong,
    /// The pattern holds a control character or whitespace.
    #[error("pattern holds whitespace or a control character")]
    BadCharacter,
}

impl Glob {
    /// The longest pattern accepted, in bytes; ARNs are at most 2048 characters.
    pub const MAX_LEN: usize = 2048;

    /// Parses a pattern.
    ///
    /// # Errors
    ///
    /// A [`GlobError`] when the pattern is empty, too long, or holds whitespace or control
    /// characters (which no ARN contains, so they can only be typing mistakes).
    pub fn parse(text: &str) -> Result<Self, GlobError> {
        if text.is_empty() {
            return Err(GlobError::Empty);
        }
        if text.len() > Self::MAX_LEN {
            return Err(GlobError::TooLong);
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(GlobError::BadCharacter);
        }
        let pieces = text
            .split('*')
            .map(|piece| piece.chars().collect())
            .collect();
        Ok(Self {
            text: text.to_owned(),
            pieces,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let Some((first, rest)) = self.pieces.split_first() else {
            return text.is_empty();
        };
        let Some((last, middle)) = rest.split_last() else {
            // No star: the single piece must cover the whole text.
            return text.len() == first.len() && piece_at(first, &text, 0);
        };

        if text.len() < first.len() + last.len() || !piece_at(first, &text, 0) {
            return false;
        }
        let end = text.len() - last.len();
        if !piece_at(last, &text, end) {
            return false;
        }

        // Between the anchored ends, each piece taken at its leftmost fit leaves the most room
        // for the pieces after it, so a first fit never needs to be revisited.
        let mut at = first.len();
        for piece in middle {
            match find_piece(piece, &text[..end], at) {
                Some(found) => at = found + piece.len(),
                None => return false,
            }
        }
        true
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn piece_at(piece: &[char], text: &[char], at: usize) -> bool {
    text.get(at..at + piece.len())
        .is_some_and(|window| window.iter().zip(piece).all(|(c, p)| *p == '?' || c == p))
}

fn find_piece(piece: &[char], text: &[char], from: usize) -> Option<usize> {
    if text.len() < piece.len() {
        return None;
    }
    (from..=text.len() - piece.len()).find(|&at| piece_at(piece, text, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Glob::parse(pattern).unwrap().matches(text)
    }

    #[test]
    fn star_spans_any_characters_including_separators() {
        let pattern = "arn:aws:iam::111122223333:role/caller-*";
        assert!(matches(pattern, "arn:aws:iam::111122223333:role/caller-fn"));
        assert!(matches(pattern, "arn:aws:iam::111122223333:role/caller-"));
        assert!(!matches(
            pattern,
            "arn:aws:iam::111122223333:role/path/caller-fn"
        ));
        assert!(matches(
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::1:role/a/b/c"
        ));
        assert!(!matches(
            pattern,
            "arn:aws:iam::111122223334:role/caller-fn"
        ));
    }

    #[test]
    fn question_mark_is_exactly_one_character() {
        assert!(matches("a?c", "abc"));
        assert!(matches("a?c", "aéc"));
        assert!(!matches("a?c", "ac"));
        assert!(!matches("a?c", "abbc"));
    }

    #[test]
    fn literal_pattern_matches_only_itself() {
        assert!(matches("abc", "abc"));
        assert!(!matches("abc", "abcd"));
        assert!(!matches("abc", "ab"));
    }

    #[test]
    fn several_stars_find_pieces_in_order() {
        assert!(matches("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!matches("*a*b*c*", "xxcxxbxxaxx"));
        assert!(matches("a*b*a", "abba"));
        assert!(!matches("a*a", "a"));
        assert!(matches("*", ""));
        assert!(matches("**", "anything"));
    }

    #[test]
    fn hostile_pattern_and_text_finish_quickly() {
        // A backtracking matcher tries every split of the a's among the stars before failing.
        let pattern = format!("{}b*a", "a*".repeat(200));
        let text = "a".repeat(2000);
        let started = std::time::Instant::now();
        assert!(!matches(&pattern, &text));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn unusable_patterns_are_rejected() {
        assert_eq!(Glob::parse(""), Err(GlobError::Empty));
        assert_eq!(
            Glob::parse("arn:aws:iam:: role/x"),
            Err(GlobError::BadCharacter)
        );
        assert_eq!(Glob::parse("a\u{0007}"), Err(GlobError::BadCharacter));
        assert_eq!(Glob::parse(&"a".repeat(2049)), Err(GlobError::TooLong));
    }
}
