//! Glob lists as rules use them (`tables: ["sales.*", public.orders]`), compiled cheaply.
//!
//! Every glob of a policy goes through [`glob`](super::compile::glob) (`globset` syntax, `*`
//! crossing `.` and `/`, `\` escaping). Most patterns in policies are plain names (`rm`,
//! `read_file`) or names with a `*` (`agent:team-7-*`, `*.env`), and building a `globset`
//! automaton for each list of each rule was most of a policy's compile time. So a list keeps:
//!
//! - plain names (no glob metacharacter), compared as written;
//! - patterns whose only metacharacter is `*`, never doubled (`**` has path meanings of its
//!   own) and not ending in `.` (see [`Simple::new`]), matched piece by piece: the text starts
//!   with the first literal piece, ends with the last, and holds the others in order between
//!   them, which is what the `.*` globset writes for each `*` matches;
//! - everything else (`?`, classes, alternatives, escapes, `**`), in a `GlobSet` as before.
//!
//! Matching is byte-wise, as globset's (`(?-u)`) is. The fast forms are used on Unix only:
//! elsewhere globset turns `\` in the text into `/` before matching, so every pattern goes to
//! globset there. A test compares the three forms with globset on every short pattern and text
//! over a small alphabet.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// A compiled list of globs: a text matches when any pattern does.
#[derive(Debug, Default)]
pub(crate) struct GlobList {
    /// Plain names.
    exact: Vec<Box<str>>,
    /// `*` patterns, as their literal pieces.
    starred: Vec<Starred>,
    /// Every other pattern.
    other: Option<GlobSet>,
}

/// A pattern whose only metacharacter is a single `*` (one or more of them): its literal
/// pieces, one more than the stars.
#[derive(Debug)]
pub(crate) struct Starred {
    pieces: Vec<Box<str>>,
}

/// One pattern in the fastest form it has.
#[derive(Debug)]
pub(crate) enum Simple {
    /// A plain name.
    Exact(Box<str>),
    /// A `*` pattern.
    Starred(Starred),
}

impl Simple {
    /// The pattern as a plain name or a `*` pattern; `None` when it needs globset (or is empty,
    /// which [`glob`](super::compile::glob) rejects).
    pub(crate) fn new(pattern: &str) -> Option<Simple> {
        if !cfg!(unix) || pattern.is_empty() {
            return None;
        }
        if pattern.contains(['?', '[', ']', '{', '}', '\\']) || pattern.contains("**") {
            return None;
        }
        if !pattern.contains('*') {
            return Some(Simple::Exact(pattern.into()));
        }
        // globset matches `*.` and `a*.` through the text's extension, and a text whose last
        // component is `..` has none there, though the pattern's regex would match it.
        if pattern.ends_with('.') {
            return None;
        }
        Some(Simple::Starred(Starred { pieces: pattern.split('*').map(Box::from).collect() }))
    }

    /// Whether `text` matches the pattern.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        match self {
            Simple::Exact(name) => **name == *text,
            Simple::Starred(starred) => starred.is_match(text),
        }
    }
}

impl Starred {
    fn is_match(&self, text: &str) -> bool {
        let Some((first, rest)) = self.pieces.split_first() else { return false };
        let Some((last, middle)) = rest.split_last() else { return **first == *text };
        if text.len() < first.len() + last.len()
            || !text.starts_with(&**first)
            || !text.ends_with(&**last)
        {
            return false;
        }
        // Both ends are whole UTF-8 sequences of `text`, so the cuts fall on char boundaries.
        let Some(mut between) = text.get(first.len()..text.len() - last.len()) else {
            return false;
        };
        for piece in middle {
            let Some(at) = between.find(&**piece) else { return false };
            between = between.get(at + piece.len()..).unwrap_or_default();
        }
        true
    }
}

/// Collects the patterns of one list.
#[derive(Debug, Default)]
pub(crate) struct GlobListBuilder {
    list: GlobList,
    others: Option<GlobSetBuilder>,
}

impl GlobListBuilder {
    /// Add `pattern`, already compiled by `glob` when it needs globset (`compiled` is called only
    /// then). Returns the error of `compiled`.
    pub(crate) fn add(
        &mut self,
        pattern: &str,
        compiled: impl FnOnce() -> Result<Glob, String>,
    ) -> Result<(), String> {
        match Simple::new(pattern) {
            Some(Simple::Exact(name)) => self.list.exact.push(name),
            Some(Simple::Starred(starred)) => self.list.starred.push(starred),
            None => {
                self.others.get_or_insert_with(GlobSetBuilder::new).add(compiled()?);
            }
        }
        Ok(())
    }

    /// The list.
    ///
    /// # Errors
    /// globset's, when the patterns that need it do not compile together.
    pub(crate) fn build(self) -> Result<GlobList, globset::Error> {
        let mut list = self.list;
        if let Some(others) = self.others {
            list.other = Some(others.build()?);
        }
        Ok(list)
    }
}

impl GlobList {
    /// Whether any pattern matches `text`.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.exact.iter().any(|name| **name == *text)
            || self.starred.iter().any(|s| s.is_match(text))
            || self.other.as_ref().is_some_and(|set| set.is_match(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::compile::glob;

    fn list(patterns: &[&str]) -> GlobList {
        let mut builder = GlobListBuilder::default();
        for p in patterns {
            builder.add(p, || glob(p)).unwrap();
        }
        builder.build().unwrap()
    }

    fn globset(patterns: &[&str]) -> GlobSet {
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            builder.add(glob(p).unwrap());
        }
        builder.build().unwrap()
    }

    /// Every string of 1 to `max` characters over `alphabet`, plus the empty one.
    fn strings(alphabet: &[char], max: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max {
            last =
                last.iter().flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}"))).collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn every_short_pattern_matches_as_globset_does() {
        let patterns = strings(&['a', '.', '/', '*', 'é'], 4);
        let texts = strings(&['a', '.', '/', '\n', 'é', 'b'], 4);
        let mut fast = 0;
        for pattern in patterns.iter().filter(|p| glob(p).is_ok()) {
            if Simple::new(pattern).is_some() {
                fast += 1;
            }
            let ours = list(&[pattern]);
            let theirs = globset(&[pattern]);
            for text in &texts {
                assert_eq!(ours.is_match(text), theirs.is_match(text), "{pattern:?} on {text:?}");
            }
        }
        assert!(fast > 500, "{fast} patterns took the fast path");
    }

    #[test]
    fn lists_mix_the_three_forms() {
        let patterns =
            ["rm", "python3*", "*secret*", "/etc/*", "sales.t7_*", "g?t", "{a,b}x", "**/k"];
        let ours = list(&patterns);
        let theirs = globset(&patterns);
        if cfg!(unix) {
            assert!(ours.other.is_some() && !ours.exact.is_empty() && !ours.starred.is_empty());
        }
        let texts = [
            "rm",
            "rmdir",
            "python3",
            "python3.12",
            "my-secret.env",
            "secret",
            "/etc/passwd",
            "/etc",
            "sales.t7_q",
            "sales.t70",
            "git",
            "gt",
            "ax",
            "bx",
            "cx",
            "k",
            "a/b/k",
            "",
        ];
        for text in texts {
            assert_eq!(ours.is_match(text), theirs.is_match(text), "{text:?}");
        }
    }
}
