//! Word decoding (quote removal, escape decoding, detection of expansions)
//! and bounded brace expansion.
//!
//! brush-parser keeps words as raw source text; this module decodes them.
//! All scanners are iterative over a `Vec<char>` except for the nesting of
//! `$( )` / `"` / `${ }` inside each other, whose depth is bounded by the
//! nesting pre-scan of [`super::guard`].

use super::guard::Refused;

/// A decoded word.
#[derive(Debug, Clone, Default)]
pub(crate) struct Decoded {
    /// Decoded text; expansions are kept as their source text.
    pub text: String,
    /// The word contains an expansion whose value is unknown.
    pub dynamic: bool,
    /// The word contains an unquoted glob character or extglob pattern.
    pub glob: bool,
    /// The word contained quotes (an empty quoted word is still a word).
    pub quoted: bool,
    /// The word contains `${x@P}` (prompt expansion can run code).
    pub prompt_expansion: bool,
    /// Raw code of command substitutions (`$( )`, backticks) to re-parse.
    pub subs: Vec<String>,
}

/// How to decode a text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A shell word.
    Word,
    /// The body of a here-document with an unquoted delimiter.
    HereDoc,
}

/// Decodes `raw` according to `mode`.
pub(crate) fn decode(raw: &str, mode: Mode) -> Result<Decoded, String> {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = Decoded::default();
    match mode {
        Mode::Word => decode_unquoted(&chars, &mut out)?,
        Mode::HereDoc => decode_dq(&chars, 0, chars.len(), true, &mut out)?,
    }
    Ok(out)
}

fn slice(chars: &[char], from: usize, to: usize) -> String {
    chars.get(from..to).unwrap_or_default().iter().collect()
}

fn decode_unquoted(chars: &[char], out: &mut Decoded) -> Result<(), String> {
    let mut i = 0usize;
    let has_close_bracket = |from: usize| chars.get(from..).is_some_and(|r| r.contains(&']'));
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match c {
            '\\' => {
                match next {
                    Some('\n') => {}
                    Some(n) => out.text.push(n),
                    None => out.text.push('\\'),
                }
                i += 2;
            }
            '\'' => {
                let end = find_char(chars, i + 1, '\'').ok_or("unterminated single quote")?;
                out.text.push_str(&slice(chars, i + 1, end));
                out.quoted = true;
                i = end + 1;
            }
            '"' => {
                let end = find_dq_end(chars, i).ok_or("unterminated double quote")?;
                decode_dq(chars, i + 1, end, false, out)?;
                out.quoted = true;
                i = end + 1;
            }
            '$' if next == Some('\'') => {
                let end = find_ansi_end(chars, i + 1).ok_or("unterminated $'' quote")?;
                out.text.push_str(&decode_ansi_c(chars.get(i + 2..end).unwrap_or_default()));
                out.quoted = true;
                i = end + 1;
            }
            '$' if next == Some('"') => {
                let end = find_dq_end(chars, i + 1).ok_or("unterminated $\"\" quote")?;
                decode_dq(chars, i + 2, end, false, out)?;
                out.quoted = true;
                i = end + 1;
            }
            '$' => i = decode_dollar(chars, i, out)?,
            '`' => i = decode_backtick(chars, i, out)?,
            '*' | '?' => {
                out.glob = true;
                out.text.push(c);
                i += 1;
            }
            '[' => {
                if has_close_bracket(i + 1) {
                    out.glob = true;
                }
                out.text.push(c);
                i += 1;
            }
            '@' | '+' | '!' if next == Some('(') => {
                out.glob = true;
                out.text.push(c);
                i += 1;
            }
            _ => {
                out.text.push(c);
                i += 1;
            }
        }
    }
    Ok(())
}

/// Decodes double-quoted content `chars[from..to]` (or a here-document body).
fn decode_dq(
    chars: &[char],
    from: usize,
    to: usize,
    heredoc: bool,
    out: &mut Decoded,
) -> Result<(), String> {
    let mut i = from;
    while i < to {
        let Some(&c) = chars.get(i) else { break };
        let next = chars.get(i + 1).copied();
        match c {
            '\\' => {
                match next {
                    Some('\n') => {}
                    Some(n @ ('$' | '`' | '\\')) => out.text.push(n),
                    Some('"') if !heredoc => out.text.push('"'),
                    Some(n) => {
                        out.text.push('\\');
                        out.text.push(n);
                    }
                    None => out.text.push('\\'),
                }
                i += 2;
            }
            '$' => i = decode_dollar(chars, i, out)?,
            '`' => i = decode_backtick(chars, i, out)?,
            _ => {
                out.text.push(c);
                i += 1;
            }
        }
    }
    Ok(())
}

/// Decodes a `$` construct at `i`; returns the index after it.
fn decode_dollar(chars: &[char], i: usize, out: &mut Decoded) -> Result<usize, String> {
    let next = chars.get(i + 1).copied();
    match next {
        Some('(') => {
            let close = find_paren_close(chars, i + 1).ok_or("unterminated $( )")?;
            let arith_inner_close =
                if chars.get(i + 2) == Some(&'(') { find_paren_close(chars, i + 2) } else { None };
            if arith_inner_close.is_some_and(|c2| c2 + 1 == close) {
                // `$(( ... ))`: arithmetic; only nested substitutions matter
                let inner = slice(chars, i + 3, close.saturating_sub(1));
                scan_nested(&inner, out)?;
            } else {
                out.subs.push(slice(chars, i + 2, close));
            }
            out.text.push_str(&slice(chars, i, close + 1));
            out.dynamic = true;
            Ok(close + 1)
        }
        Some('{') => {
            let close = find_brace_close(chars, i + 1).ok_or("unterminated ${ }")?;
            let inner = slice(chars, i + 2, close);
            if inner.ends_with("@P") {
                out.prompt_expansion = true;
            }
            scan_nested(&inner, out)?;
            out.text.push_str(&slice(chars, i, close + 1));
            out.dynamic = true;
            Ok(close + 1)
        }
        Some('[') => {
            let close = find_char(chars, i + 2, ']').ok_or("unterminated $[ ]")?;
            let inner = slice(chars, i + 2, close);
            scan_nested(&inner, out)?;
            out.text.push_str(&slice(chars, i, close + 1));
            out.dynamic = true;
            Ok(close + 1)
        }
        Some(n) if n.is_ascii_alphabetic() || n == '_' => {
            let mut j = i + 1;
            while chars.get(j).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                j += 1;
            }
            out.text.push_str(&slice(chars, i, j));
            out.dynamic = true;
            Ok(j)
        }
        Some(n) if n.is_ascii_digit() || "@*#?-$!".contains(n) => {
            out.text.push('$');
            out.text.push(n);
            out.dynamic = true;
            Ok(i + 2)
        }
        _ => {
            out.text.push('$');
            Ok(i + 1)
        }
    }
}

/// Collects substitutions (and `@P`) nested in the text of an expansion.
fn scan_nested(inner: &str, out: &mut Decoded) -> Result<(), String> {
    let nested = decode(inner, Mode::Word)?;
    out.subs.extend(nested.subs);
    out.prompt_expansion |= nested.prompt_expansion;
    Ok(())
}

fn decode_backtick(chars: &[char], i: usize, out: &mut Decoded) -> Result<usize, String> {
    let end = find_backtick_end(chars, i).ok_or("unterminated backquote")?;
    let mut code = String::new();
    let mut j = i + 1;
    while j < end {
        let Some(&c) = chars.get(j) else { break };
        if c == '\\'
            && let Some(&n) = chars.get(j + 1)
            && matches!(n, '`' | '$' | '\\')
        {
            code.push(n);
            j += 2;
            continue;
        }
        code.push(c);
        j += 1;
    }
    out.subs.push(code);
    out.text.push_str(&slice(chars, i, end + 1));
    out.dynamic = true;
    Ok(end + 1)
}

fn find_char(chars: &[char], from: usize, target: char) -> Option<usize> {
    chars.get(from..)?.iter().position(|c| *c == target).map(|p| p + from)
}

/// Index of the `'` closing an ANSI-C string whose opening `'` is at `open`.
fn find_ansi_end(chars: &[char], open: usize) -> Option<usize> {
    let mut j = open + 1;
    while let Some(&c) = chars.get(j) {
        match c {
            '\\' => j += 2,
            '\'' => return Some(j),
            _ => j += 1,
        }
    }
    None
}

/// Index of the backtick closing the one at `open`.
fn find_backtick_end(chars: &[char], open: usize) -> Option<usize> {
    let mut j = open + 1;
    while let Some(&c) = chars.get(j) {
        match c {
            '\\' => j += 2,
            '`' => return Some(j),
            _ => j += 1,
        }
    }
    None
}

/// Index of the `"` closing the double quote at `open`.
pub(crate) fn find_dq_end(chars: &[char], open: usize) -> Option<usize> {
    let mut j = open + 1;
    while let Some(&c) = chars.get(j) {
        match c {
            '\\' => j += 2,
            '"' => return Some(j),
            '`' => j = find_backtick_end(chars, j)? + 1,
            '$' => match chars.get(j + 1) {
                Some('(') => j = find_paren_close(chars, j + 1)? + 1,
                Some('{') => j = find_brace_close(chars, j + 1)? + 1,
                _ => j += 1,
            },
            _ => j += 1,
        }
    }
    None
}

/// Index of the `)` matching the `(` at `open`, in command context.
pub(crate) fn find_paren_close(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut j = open + 1;
    let mut word_start = true;
    while let Some(&c) = chars.get(j) {
        let mut next_word_start = false;
        match c {
            '\\' => j += 1,
            '\'' => j = find_char(chars, j + 1, '\'')?,
            '"' => j = find_dq_end(chars, j)?,
            '`' => j = find_backtick_end(chars, j)?,
            '$' if chars.get(j + 1) == Some(&'\'') => j = find_ansi_end(chars, j + 1)?,
            '$' if chars.get(j + 1) == Some(&'{') => j = find_brace_close(chars, j + 1)?,
            '#' if word_start => {
                while chars.get(j + 1).is_some_and(|d| *d != '\n') {
                    j += 1;
                }
            }
            '(' => {
                depth += 1;
                next_word_start = true;
            }
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
                next_word_start = true;
            }
            ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' => next_word_start = true,
            _ => {}
        }
        word_start = next_word_start;
        j += 1;
    }
    None
}

/// Index of the `}` closing a `${` whose `{` is at `open`.
fn find_brace_close(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut j = open + 1;
    while let Some(&c) = chars.get(j) {
        match c {
            '\\' => j += 1,
            '\'' => j = find_char(chars, j + 1, '\'')?,
            '"' => j = find_dq_end(chars, j)?,
            '`' => j = find_backtick_end(chars, j)?,
            '$' if chars.get(j + 1) == Some(&'(') => j = find_paren_close(chars, j + 1)?,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// Decodes the inside of `$'...'`.
pub(crate) fn decode_ansi_c(chars: &[char]) -> String {
    let mut out = String::new();
    let mut i = 0usize;
    while let Some(&c) = chars.get(i) {
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = chars.get(i + 1) else {
            out.push('\\');
            break;
        };
        i += 2;
        let simple = match e {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'e' | 'E' => Some('\u{1b}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            '?' => Some('?'),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            continue;
        }
        let code = match e {
            '0'..='7' => {
                i -= 1;
                Some(take_digits(chars, &mut i, 8, 3))
            }
            'x' => Some(take_digits(chars, &mut i, 16, 2)),
            'u' => Some(take_digits(chars, &mut i, 16, 4)),
            'U' => Some(take_digits(chars, &mut i, 16, 8)),
            'c' => {
                let ctl = chars.get(i).map(|ch| (*ch as u32) & 0x1f);
                i += 1;
                ctl.map(|v| (v, 1))
            }
            _ => None,
        };
        match code {
            Some((_, 0)) => {
                // `\x` without digits stays literal
                out.push('\\');
                out.push(e);
            }
            Some((0, _)) => return out, // NUL ends the string, as in bash
            Some((v, _)) => out.push(char::from_u32(v).unwrap_or('\u{fffd}')),
            None => {
                out.push('\\');
                out.push(e);
            }
        }
    }
    out
}

/// Reads up to `max` digits in `radix` at `*i`; returns (value, digit count).
fn take_digits(chars: &[char], i: &mut usize, radix: u32, max: usize) -> (u32, usize) {
    let mut value: u32 = 0;
    let mut n = 0usize;
    while n < max {
        let Some(d) = chars.get(*i).and_then(|c| c.to_digit(radix)) else {
            break;
        };
        value = value.saturating_mul(radix).saturating_add(d);
        *i += 1;
        n += 1;
    }
    (value, n)
}

// ---------------------------------------------------------------------------
// Brace expansion
// ---------------------------------------------------------------------------

/// Bounds for brace expansion.
pub(crate) struct BraceBounds {
    /// Maximum number of resulting words.
    pub max_results: usize,
    /// Maximum total bytes of the resulting words.
    pub max_bytes: usize,
    /// Maximum nesting of braces.
    pub max_depth: usize,
}

enum Node {
    Lit(char),
    Alt(Vec<Vec<Node>>),
    Seq(Vec<String>),
}

/// Marks the characters that take part in brace expansion (unquoted, unescaped,
/// outside `${ }`, `$( )` and backticks).
fn active_mask(chars: &[char]) -> Vec<bool> {
    let mut mask = vec![false; chars.len()];
    let mut i = 0usize;
    while let Some(&c) = chars.get(i) {
        let skip_to = match c {
            '\\' => Some(i + 1),
            '\'' => find_char(chars, i + 1, '\''),
            '"' => find_dq_end(chars, i),
            '`' => find_backtick_end(chars, i),
            '$' => match chars.get(i + 1) {
                Some('\'') => find_ansi_end(chars, i + 1),
                Some('"') => find_dq_end(chars, i + 1),
                Some('(') => find_paren_close(chars, i + 1),
                Some('{') => find_brace_close(chars, i + 1),
                _ => Some(i),
            },
            _ => {
                if let Some(m) = mask.get_mut(i) {
                    *m = true;
                }
                Some(i)
            }
        };
        match skip_to {
            Some(j) => i = j + 1,
            None => break, // unterminated: the rest is inactive
        }
    }
    mask
}

/// Brace-expands a raw word; returns raw words (still to be decoded).
pub(crate) fn brace_expand(raw: &str, bounds: &BraceBounds) -> Result<Vec<String>, Refused> {
    if !raw.contains('{') {
        return Ok(vec![raw.to_owned()]);
    }
    let chars: Vec<char> = raw.chars().collect();
    let mask = active_mask(&chars);
    let is_active = |i: usize, c: char| mask.get(i) == Some(&true) && chars.get(i) == Some(&c);
    // matched pairs: open index -> (close index, top-level comma indices)
    let mut pairs: Vec<Option<(usize, Vec<usize>)>> = vec![None; chars.len()];
    let mut stack: Vec<(usize, Vec<usize>)> = Vec::new();
    for i in 0..chars.len() {
        if is_active(i, '{') {
            stack.push((i, Vec::new()));
            if stack.len() > bounds.max_depth {
                return Err(Refused::limit(
                    "command.max_nesting_depth",
                    format!("brace nesting over the limit of {}", bounds.max_depth),
                ));
            }
        } else if is_active(i, ',') {
            if let Some(top) = stack.last_mut() {
                top.1.push(i);
            }
        } else if is_active(i, '}')
            && let Some((open, commas)) = stack.pop()
            && let Some(slot) = pairs.get_mut(open)
        {
            *slot = Some((i, commas));
        }
    }
    let mut budget = Budget { nodes: 0 };
    let tree = build(&chars, &mask, &pairs, 0, chars.len(), bounds, &mut budget, 0)?;
    let words = expand_seq(&tree, bounds)?;
    Ok(words)
}

struct Budget {
    nodes: usize,
}

#[allow(clippy::too_many_arguments)]
fn build(
    chars: &[char],
    mask: &[bool],
    pairs: &[Option<(usize, Vec<usize>)>],
    from: usize,
    to: usize,
    bounds: &BraceBounds,
    budget: &mut Budget,
    depth: usize,
) -> Result<Vec<Node>, Refused> {
    if depth > bounds.max_depth {
        return Err(Refused::limit(
            "command.max_nesting_depth",
            format!("brace nesting over the limit of {}", bounds.max_depth),
        ));
    }
    let mut seq = Vec::new();
    let mut i = from;
    while i < to {
        budget.nodes += 1;
        let Some(&c) = chars.get(i) else { break };
        if let Some(Some((close, commas))) = pairs.get(i) {
            let close = *close;
            if close < to {
                if !commas.is_empty() {
                    let mut alts = Vec::new();
                    let mut start = i + 1;
                    for &comma in commas.iter().chain(std::iter::once(&close)) {
                        alts.push(build(
                            chars,
                            mask,
                            pairs,
                            start,
                            comma,
                            bounds,
                            budget,
                            depth + 1,
                        )?);
                        start = comma + 1;
                    }
                    seq.push(Node::Alt(alts));
                    i = close + 1;
                    continue;
                }
                let inner_active = (i + 1..close).all(|k| mask.get(k) == Some(&true));
                if inner_active && let Some(items) = sequence(&slice(chars, i + 1, close), bounds)?
                {
                    seq.push(Node::Seq(items));
                    i = close + 1;
                    continue;
                }
            }
        }
        seq.push(Node::Lit(c));
        i += 1;
    }
    Ok(seq)
}

/// Expands `{a..b[..n]}` content; `None` when it is not a valid sequence.
fn sequence(inner: &str, bounds: &BraceBounds) -> Result<Option<Vec<String>>, Refused> {
    let parts: Vec<&str> = inner.split("..").collect();
    if parts.len() != 2 && parts.len() != 3 {
        return Ok(None);
    }
    let (Some(a), Some(b)) = (parts.first(), parts.get(1)) else {
        return Ok(None);
    };
    let step: i64 = match parts.get(2) {
        Some(s) => match s.parse::<i64>() {
            Ok(v) => v.checked_abs().unwrap_or(1).max(1),
            Err(_) => return Ok(None),
        },
        None => 1,
    };
    let too_many = |count: i128| -> Result<(), Refused> {
        if count > bounds.max_results as i128 {
            Err(Refused::limit(
                "command.max_brace_results",
                format!(
                    "brace sequence expands to {count} words, over the limit of {}",
                    bounds.max_results
                ),
            ))
        } else {
            Ok(())
        }
    };
    if let (Ok(x), Ok(y)) = (a.parse::<i64>(), b.parse::<i64>()) {
        let count = ((i128::from(y) - i128::from(x)).abs() / i128::from(step)) + 1;
        too_many(count)?;
        let digits = |s: &str| s.trim_start_matches(['-', '+']).to_owned();
        let padded = |s: &str| {
            let d = digits(s);
            d.len() > 1 && d.starts_with('0')
        };
        let width = if padded(a) || padded(b) { a.len().max(b.len()) } else { 0 };
        let mut items = Vec::new();
        let mut v = i128::from(x);
        let up = y >= x;
        for _ in 0..count {
            let s = if width > 0 {
                if v < 0 {
                    format!("-{:0>w$}", -v, w = width.saturating_sub(1))
                } else {
                    format!("{v:0>width$}")
                }
            } else {
                v.to_string()
            };
            items.push(s);
            v = if up { v + i128::from(step) } else { v - i128::from(step) };
        }
        return Ok(Some(items));
    }
    let single = |s: &str| {
        let mut it = s.chars();
        match (it.next(), it.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() => Some(c),
            _ => None,
        }
    };
    if let (Some(x), Some(y)) = (single(a), single(b)) {
        let (xs, ys) = (i128::from(x as u32), i128::from(y as u32));
        let count = ((ys - xs).abs() / i128::from(step)) + 1;
        too_many(count)?;
        let mut items = Vec::new();
        let mut v = xs;
        for _ in 0..count {
            if let Some(ch) = u32::try_from(v).ok().and_then(char::from_u32) {
                items.push(ch.to_string());
            }
            v = if ys >= xs { v + i128::from(step) } else { v - i128::from(step) };
        }
        return Ok(Some(items));
    }
    Ok(None)
}

fn expand_seq(seq: &[Node], bounds: &BraceBounds) -> Result<Vec<String>, Refused> {
    let mut results = vec![String::new()];
    for node in seq {
        match node {
            Node::Lit(c) => {
                for r in &mut results {
                    r.push(*c);
                }
            }
            Node::Alt(alts) => {
                let mut options = Vec::new();
                for alt in alts {
                    options.extend(expand_seq(alt, bounds)?);
                    check(options.len(), 0, bounds)?;
                }
                results = product(&results, &options, bounds)?;
            }
            Node::Seq(items) => results = product(&results, items, bounds)?,
        }
        let bytes: usize = results.iter().map(String::len).sum();
        check(results.len(), bytes, bounds)?;
    }
    Ok(results)
}

fn product(
    left: &[String],
    right: &[String],
    bounds: &BraceBounds,
) -> Result<Vec<String>, Refused> {
    let count = left.len().saturating_mul(right.len());
    check(count, 0, bounds)?;
    let mut out = Vec::with_capacity(count);
    let mut bytes = 0usize;
    for l in left {
        for r in right {
            bytes = bytes.saturating_add(l.len() + r.len());
            check(out.len(), bytes, bounds)?;
            out.push(format!("{l}{r}"));
        }
    }
    Ok(out)
}

fn check(count: usize, bytes: usize, bounds: &BraceBounds) -> Result<(), Refused> {
    if count > bounds.max_results {
        return Err(Refused::limit(
            "command.max_brace_results",
            format!("brace expansion yields over {} words", bounds.max_results),
        ));
    }
    if bytes > bounds.max_bytes {
        return Err(Refused::limit(
            "command.max_line_bytes",
            format!("brace expansion yields over {} bytes", bounds.max_bytes),
        ));
    }
    Ok(())
}
