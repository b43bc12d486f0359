//! Shared pieces of writ's end-to-end checks: reading the PostgreSQL regression corpus
//! (`../shared/corpora/postgres-regress/`, beside the repository, never copied into it) and
//! splitting psql scripts into statements.

use std::path::{Path, PathBuf};

/// The corpus directory: `../shared/corpora/postgres-regress` beside the repository (this crate
/// is `<repo>/e2e`).
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/postgres-regress");
    dir.is_dir().then_some(dir)
}

/// Lexer state of the corpus splitter.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Normal,
    /// In a `'...'` string; `true` for `E'...'` (backslash escapes).
    Single(bool),
    Double,
    Dollar(String),
    Block(usize),
}

/// Splits a psql script into SQL statements: respects quotes, `E''` strings, dollar quotes and
/// comments; drops psql meta-commands (a `\` outside quotes ends the statement and the rest of
/// its line is skipped) and the data lines of `COPY ... FROM stdin` up to `\.`.
pub fn split_psql(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut state = State::Normal;
    let mut copy_data = false;
    for line in src.split_inclusive('\n') {
        if copy_data {
            if line.trim_end() == "\\." {
                copy_data = false;
            }
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            let next = chars.get(i + 1).copied();
            match state.clone() {
                State::Normal => match c {
                    '\'' => {
                        let prev =
                            if i == 0 { cur.chars().last() } else { chars.get(i - 1).copied() };
                        let prev2 = if i >= 2 { chars.get(i - 2).copied() } else { None };
                        let escape = matches!(prev, Some('e' | 'E'))
                            && !prev2.is_some_and(|p| p.is_alphanumeric() || p == '_');
                        state = State::Single(escape);
                    }
                    '"' => state = State::Double,
                    '-' if next == Some('-') => {
                        // Line comment: keep the newline, drop the rest.
                        cur.push('\n');
                        break;
                    }
                    '/' if next == Some('*') => {
                        state = State::Block(1);
                        cur.push_str("/*");
                        i += 2;
                        continue;
                    }
                    '$' => {
                        let prev = if i == 0 { None } else { chars.get(i - 1).copied() };
                        if !prev.is_some_and(|p| p.is_alphanumeric() || p == '_') {
                            let rest: String = chars.get(i + 1..).unwrap_or(&[]).iter().collect();
                            let tag: String = rest
                                .chars()
                                .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
                                .collect();
                            let starts_ok =
                                tag.chars().next().is_none_or(|ch| !ch.is_ascii_digit());
                            if starts_ok
                                && rest.get(tag.len()..).is_some_and(|r| r.starts_with('$'))
                            {
                                let full = format!("${tag}$");
                                cur.push_str(&full);
                                i += full.chars().count();
                                state = State::Dollar(full);
                                continue;
                            }
                        }
                    }
                    ';' => {
                        push_statement(&mut out, &mut cur, &mut copy_data);
                        i += 1;
                        continue;
                    }
                    '\\' => {
                        // psql meta-command (\gset, \g, \set ...): ends the statement.
                        push_statement(&mut out, &mut cur, &mut copy_data);
                        break;
                    }
                    _ => {}
                },
                State::Single(escape) => {
                    if escape && c == '\\' {
                        cur.push(c);
                        if let Some(n) = next {
                            cur.push(n);
                        }
                        i += 2;
                        continue;
                    }
                    if c == '\'' {
                        if next == Some('\'') {
                            cur.push_str("''");
                            i += 2;
                            continue;
                        }
                        state = State::Normal;
                    }
                }
                State::Double => {
                    if c == '"' {
                        state = State::Normal;
                    }
                }
                State::Dollar(tag) => {
                    let rest: String = chars.get(i..).unwrap_or(&[]).iter().collect();
                    if rest.starts_with(&tag) {
                        cur.push_str(&tag);
                        i += tag.chars().count();
                        state = State::Normal;
                        continue;
                    }
                }
                State::Block(depth) => {
                    if c == '/' && next == Some('*') {
                        state = State::Block(depth + 1);
                        cur.push_str("/*");
                        i += 2;
                        continue;
                    }
                    if c == '*' && next == Some('/') {
                        state = if depth <= 1 { State::Normal } else { State::Block(depth - 1) };
                        cur.push_str("*/");
                        i += 2;
                        continue;
                    }
                }
            }
            cur.push(c);
            i += 1;
        }
    }
    push_statement(&mut out, &mut cur, &mut copy_data);
    out
}

/// Ends the current statement; a `COPY ... FROM stdin` starts a data block.
fn push_statement(out: &mut Vec<String>, cur: &mut String, copy_data: &mut bool) {
    let text = std::mem::take(cur);
    if first_word(&text).is_empty() {
        return;
    }
    let lower = text.to_lowercase();
    if first_word(&text) == "COPY" && lower.contains("from stdin") {
        *copy_data = true;
    }
    out.push(text);
}

/// The first word of a statement, upper-cased, after leading comments.
pub fn first_word(text: &str) -> String {
    let mut rest = text.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after).trim_start();
        } else {
            break;
        }
    }
    rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>().to_uppercase()
}
