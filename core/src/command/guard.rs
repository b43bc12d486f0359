//! Cheap pre-checks run on every piece of shell code before brush-parser sees it.
//!
//! * length bound, NUL rejection, `\r\n` → `\n` normalization;
//! * here-document delimiters that are empty once whitespace and quote
//!   characters are removed (brush-parser 0.4.0 loops forever on `<<\r `,
//!   `<<\x0c `, `<<""` at end of input): rejected, whether quoted or not (a
//!   false positive only costs a denial);
//! * here-document operators in text that ends inside an open `$( )`, `$(( ))`,
//!   `$[ ]`, `${ }`, backquote or quote, and `<<` anywhere inside `$[ ]`
//!   (brush-parser 0.4.0 can loop forever on them);
//! * structural nesting depth, computed by a small quote-aware state machine
//!   that needs no recursion;
//! * subscripts in words that start like an array-element assignment
//!   ([`check_subscripts`], run on brush-parser's tokens before its grammar).

use super::Limits;

/// Why a piece of code is refused before parsing, and the bound of [`Limits`] it exceeded (as
/// the policy's `limits` block names it), if that is the reason.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) message: String,
    pub(crate) limit: Option<&'static str>,
}

impl Refused {
    /// A refusal because `key` (e.g. `command.max_line_bytes`) was exceeded.
    pub(crate) fn limit(key: &'static str, message: String) -> Refused {
        Refused { message, limit: Some(key) }
    }
}

impl From<String> for Refused {
    fn from(message: String) -> Refused {
        Refused { message, limit: None }
    }
}

/// Normalizes `code` and checks it against the limits; returns the text to parse.
pub(crate) fn prepare(code: &str, limits: &Limits) -> Result<String, Refused> {
    if code.len() > limits.max_line_bytes {
        return Err(Refused::limit(
            "command.max_line_bytes",
            format!("code is {} bytes, over the limit of {}", code.len(), limits.max_line_bytes),
        ));
    }
    if code.contains('\0') {
        return Err(Refused::from("NUL byte in command line".to_owned()));
    }
    let text = code.replace("\r\n", "\n");
    check_here_tags(&text)?;
    check_fd_numbers(&text)?;
    check_parens(&text, limits)?;
    let Nesting { depth, open_at_end, shift_in_dollar_bracket } = nesting(&text);
    // brush-parser 0.4.0's tokenizer loops forever, with memory growing, when the text ends
    // inside a substitution holding a here-document operator whose body has not started (found
    // by fuzzing: `$(cat <<  c `, with exactly those blanks, or the line continued by a
    // backslash). Such text is unterminated, a syntax error either way: refused before brush
    // sees it. `<<<` is counted too (a refusal only costs a denial).
    if open_at_end && text.contains("<<") {
        return Err(Refused::from(
            "a here-document operator in a substitution or quote left open at the end \
             (refused: the grammar cannot terminate on it)"
                .to_owned(),
        ));
    }
    // `<<` inside `$[ ]` is a left shift to bash, but brush-parser 0.4.0's tokenizer can take
    // it for a here-document operator and loop forever, with memory growing (found by
    // fuzzing: `$[$[]<< ] `). `$[ ]` is the deprecated spelling of `$(( ))`: refused.
    if shift_in_dollar_bracket {
        return Err(Refused::from(
            "`<<` inside the deprecated arithmetic `$[ ]` (refused: the grammar cannot \
             terminate on it; write `$(( ))`)"
                .to_owned(),
        ));
    }
    if depth > limits.max_nesting_depth {
        return Err(Refused::limit(
            "command.max_nesting_depth",
            format!("nesting depth {depth} over the limit of {}", limits.max_nesting_depth),
        ));
    }
    Ok(text)
}

/// Bound bare parentheses (see [`Limits::max_paren_depth`]). Quotes are not skipped: a
/// parenthesis inside a string can only make the count larger, and so only cost a denial.
fn check_parens(text: &str, limits: &Limits) -> Result<(), Refused> {
    let (mut depth, mut deepest, mut count) = (0usize, 0usize, 0usize);
    let mut previous = None;
    for c in text.chars() {
        match c {
            '(' if previous != Some('$') && previous != Some('\\') => {
                depth += 1;
                count += 1;
                deepest = deepest.max(depth);
            }
            ')' if previous != Some('\\') => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = Some(c);
    }
    if deepest > limits.max_paren_depth {
        return Err(Refused::limit(
            "command.max_paren_depth",
            format!(
                "parentheses nested {deepest} deep, over the limit of {}",
                limits.max_paren_depth
            ),
        ));
    }
    if count > limits.max_parens {
        return Err(Refused::limit(
            "command.max_parens",
            format!("{count} parentheses, over the limit of {}", limits.max_parens),
        ));
    }
    Ok(())
}

/// brush-parser 0.4.0 tries every word that starts like an array-element assignment (`name[`)
/// as one, with a backtracking grammar: inside the subscript, each `name[` is tried as a nested
/// subscript, and when that fails (no `]` closes it) the text is tried again as plain pieces.
/// Where the word is cut into pieces (by `$2`, a quote, an escape) every open `name[` doubles
/// the work, so a word with many unclosed ones takes exponential time (found by fuzzing: a
/// 244-byte word with about 40 took seconds, whether or not it followed unbalanced `(`).
///
/// The count per word is the number of `[` right after a name character (`[A-Za-z0-9_]`), over
/// the whole word: closing `]` and quotes are ignored, so a `]` the grammar does not see as a
/// closer (a quoted one, one inside `${ }`) cannot hide an open subscript, and the count only
/// over-estimates. The work then left is linear in the word's length, times at most
/// `2^max_subscript_brackets`. Other words are not checked: the grammar gives up on them at
/// their first character.
pub(crate) fn check_subscripts<'w>(
    words: impl IntoIterator<Item = &'w str>,
    limits: &Limits,
) -> Result<(), Refused> {
    for word in words {
        let bytes = word.as_bytes();
        let name_len =
            bytes.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
        let starts_like_subscript =
            bytes.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                && bytes.get(name_len) == Some(&b'[');
        if !starts_like_subscript {
            continue;
        }
        let count = bytes
            .windows(2)
            .filter(|pair| {
                matches!(pair, [before, b'['] if before.is_ascii_alphanumeric() || *before == b'_')
            })
            .count();
        if count > limits.max_subscript_brackets {
            return Err(Refused::limit(
                "command.max_subscript_brackets",
                format!(
                    "a word starting like an array assignment has {count} subscripts, over \
                     the limit of {}",
                    limits.max_subscript_brackets
                ),
            ));
        }
    }
    Ok(())
}

/// brush-parser 0.4.0 reads a redirection's file-descriptor number (`2>`, `10<`) with an
/// `i32` parse that panics when the number does not fit (`99999999999>x`, found by fuzzing).
/// bash refuses such numbers too ("file descriptor out of range"), so the line is refused here
/// before brush sees it. The check looks at every run of digits at the start of a word that
/// touches `<` or `>`, quoted or not: a refusal inside quotes only costs a denial.
fn check_fd_numbers(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start =
            i == 0 || bytes.get(i - 1).is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
        if !(at_word_start && bytes.get(i).is_some_and(u8::is_ascii_digit)) {
            i += 1;
            continue;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if matches!(bytes.get(i), Some(b'<' | b'>')) {
            let digits = text.get(start..i).unwrap_or_default();
            if digits.parse::<i32>().is_err() {
                let shown: String = digits.chars().take(20).collect();
                return Err(format!("file descriptor `{shown}` in a redirection is out of range"));
            }
        }
    }
    Ok(())
}

fn check_here_tags(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut search = 0;
    while let Some(found) = text.get(search..).and_then(|rest| rest.find("<<")) {
        let mut i = search + found + 2;
        search = i;
        match bytes.get(i) {
            Some(b'<') => {
                // here-string `<<<`: skip all three characters
                search = i + 1;
                continue;
            }
            Some(b'-') => i += 1,
            _ => {}
        }
        while matches!(bytes.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let start = i;
        let mut meaningful = false;
        while let Some(&b) = bytes.get(i) {
            if matches!(b, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>') {
                break;
            }
            if !(b.is_ascii_whitespace() || matches!(b, b'\'' | b'"' | b'\\' | 0x0b)) {
                meaningful = true;
            }
            i += 1;
        }
        if !meaningful {
            return Err("here-document delimiter is empty or only whitespace/quotes (refused: \
                 the grammar cannot terminate on it)"
                .to_owned());
        }
        // A delimiter with `$`, a backquote or a quote left open (`<<"@$(( (<<"@$(`) makes
        // brush-parser's tokenizer loop forever (found by fuzzing). bash takes delimiters
        // literally and such delimiters are not written in practice: refuse them.
        let word = bytes.get(start..i).unwrap_or_default();
        let odd = |q: u8| word.iter().filter(|&&b| b == q).count() % 2 == 1;
        // A delimiter ending in an unescaped backslash escapes what follows it (a newline
        // continues the delimiter onto the next line): the same loop, with memory growing.
        let trailing_backslashes = word.iter().rev().take_while(|&&b| b == b'\\').count();
        if word.iter().any(|&b| b == b'$' || b == b'`')
            || odd(b'"')
            || odd(b'\'')
            || trailing_backslashes % 2 == 1
        {
            return Err("here-document delimiter holds `$`, a backquote, an open quote or a \
                 trailing backslash (refused: the grammar cannot terminate on it)"
                .to_owned());
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// Command context (top level, `$( )`, `( )`, backticks, compound keywords).
    Cmd,
    /// Backtick command substitution.
    Backtick,
    /// `case ... in`: `pattern` is true while a pattern (ended by `)`) is expected.
    Case { pattern: bool },
    /// Compound keyword or `{` group (closed by `fi`/`done`/`}`).
    Keyword,
    /// Double quotes.
    Dq,
    /// `${ ... }`.
    Param,
    /// Arithmetic `$(( ))`, `(( ))` or `$[ ]`, with open parenthesis count.
    Arith { parens: usize, bracket: bool },
}

fn is_cmd_like(ctx: Ctx) -> bool {
    matches!(ctx, Ctx::Cmd | Ctx::Backtick | Ctx::Case { .. } | Ctx::Keyword)
}

/// What [`nesting`] found.
pub(crate) struct Nesting {
    /// The deepest structural nesting.
    pub(crate) depth: usize,
    /// True when the text ends inside a substitution, a quote or a compound command.
    pub(crate) open_at_end: bool,
    /// True when `<<` occurs inside `$[ ]` (at any depth of arithmetic within it).
    pub(crate) shift_in_dollar_bracket: bool,
}

/// Maximum structural nesting depth of `text` (see module docs), whether a context is still
/// open at its end, and whether `$[ ]` holds a `<<`.
pub(crate) fn nesting(text: &str) -> Nesting {
    let chars: Vec<char> = text.chars().collect();
    let mut stack: Vec<Ctx> = vec![Ctx::Cmd];
    let mut max_depth = 0usize;
    let mut i = 0usize;
    let mut at_cmd_start = true;
    let mut in_word = false;
    let mut shift_in_dollar_bracket = false;
    while let Some(&c) = chars.get(i) {
        max_depth = max_depth.max(stack.len().saturating_sub(1));
        let top = stack.last().copied().unwrap_or(Ctx::Cmd);
        let next = chars.get(i + 1).copied();
        match top {
            Ctx::Dq => {
                match c {
                    '\\' => i += 1,
                    '"' => {
                        stack.pop();
                    }
                    '`' => stack.push(Ctx::Backtick),
                    '$' => i += open_dollar(&chars, i, &mut stack),
                    _ => {}
                }
                i += 1;
                continue;
            }
            Ctx::Param => {
                match c {
                    '\\' => i += 1,
                    '}' => {
                        stack.pop();
                    }
                    '"' => stack.push(Ctx::Dq),
                    '\'' => i = skip_single(&chars, i),
                    '`' => stack.push(Ctx::Backtick),
                    '$' => i += open_dollar(&chars, i, &mut stack),
                    _ => {}
                }
                i += 1;
                continue;
            }
            Ctx::Arith { parens, bracket } => {
                if c == '<'
                    && next == Some('<')
                    && stack.iter().any(|x| matches!(x, Ctx::Arith { bracket: true, .. }))
                {
                    shift_in_dollar_bracket = true;
                }
                match c {
                    '(' => {
                        stack.pop();
                        stack.push(Ctx::Arith { parens: parens + 1, bracket });
                        // inner parentheses count as depth too
                        max_depth = max_depth.max(stack.len() + parens);
                    }
                    ')' if !bracket => {
                        stack.pop();
                        if parens > 1 {
                            stack.push(Ctx::Arith { parens: parens - 1, bracket });
                        }
                    }
                    ')' => {
                        stack.pop();
                        stack.push(Ctx::Arith { parens: parens.saturating_sub(1), bracket });
                    }
                    ']' if bracket && parens == 0 => {
                        stack.pop();
                    }
                    '\\' => i += 1,
                    '"' => stack.push(Ctx::Dq),
                    '\'' => i = skip_single(&chars, i),
                    '`' => stack.push(Ctx::Backtick),
                    '$' => i += open_dollar(&chars, i, &mut stack),
                    _ => {}
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        // command-like context
        match c {
            '\\' => {
                i += 2;
                in_word = true;
                at_cmd_start = false;
                continue;
            }
            '\'' => {
                i = skip_single(&chars, i) + 1;
                in_word = true;
                at_cmd_start = false;
                continue;
            }
            '"' => {
                stack.push(Ctx::Dq);
                in_word = true;
                at_cmd_start = false;
            }
            '`' if top == Ctx::Backtick => {
                stack.pop();
            }
            '`' => {
                stack.push(Ctx::Backtick);
                in_word = true;
            }
            '$' => {
                if next == Some('\'') {
                    i = skip_ansi(&chars, i + 1) + 1;
                    in_word = true;
                    at_cmd_start = false;
                    continue;
                }
                i += open_dollar(&chars, i, &mut stack);
                in_word = true;
                at_cmd_start = false;
            }
            '#' if !in_word => {
                while let Some(&d) = chars.get(i) {
                    if d == '\n' {
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            '(' => {
                if let Some(Ctx::Case { pattern: true }) = stack.last() {
                    // optional `(` before a case pattern
                } else if at_cmd_start && next == Some('(') {
                    stack.push(Ctx::Arith { parens: 2, bracket: false });
                    i += 1;
                } else {
                    stack.push(Ctx::Cmd);
                }
                in_word = false;
                at_cmd_start = true;
            }
            ')' => {
                if let Some(Ctx::Case { pattern }) = stack.last_mut()
                    && *pattern
                {
                    *pattern = false;
                    in_word = false;
                    at_cmd_start = true;
                    i += 1;
                    continue;
                }
                // close the innermost `( )` / `$( )`, dropping unclosed keywords inside it
                if let Some(pos) = stack.iter().rposition(|x| *x == Ctx::Cmd)
                    && pos > 0
                {
                    stack.truncate(pos);
                }
                in_word = false;
                at_cmd_start = false;
            }
            ';' | '&' | '|' | '\n' => {
                if c == ';' && matches!(next, Some(';' | '&')) {
                    if let Some(Ctx::Case { pattern }) = stack.last_mut() {
                        *pattern = true;
                    }
                    i += 1;
                }
                in_word = false;
                at_cmd_start = true;
            }
            ' ' | '\t' => {
                in_word = false;
            }
            _ => {
                if !in_word {
                    let end = word_end(&chars, i);
                    let word: String = chars.get(i..end).unwrap_or_default().iter().collect();
                    let in_pattern = matches!(stack.last(), Some(Ctx::Case { pattern: true }));
                    if in_pattern {
                        if word == "esac" {
                            stack.pop();
                            at_cmd_start = false;
                        }
                    } else if at_cmd_start {
                        match word.as_str() {
                            "if" | "while" | "until" | "for" | "select" | "{" => {
                                stack.push(Ctx::Keyword);
                                at_cmd_start = true;
                            }
                            "case" => {
                                stack.push(Ctx::Case { pattern: false });
                                at_cmd_start = false;
                            }
                            "fi" | "done" | "}" => {
                                if stack.last() == Some(&Ctx::Keyword) {
                                    stack.pop();
                                }
                                at_cmd_start = false;
                            }
                            "esac" => {
                                if let Some(Ctx::Case { .. }) = stack.last() {
                                    stack.pop();
                                }
                                at_cmd_start = false;
                            }
                            "then" | "do" | "else" | "elif" | "!" | "time" => {
                                at_cmd_start = true;
                            }
                            _ => at_cmd_start = false,
                        }
                    } else if word == "in"
                        && let Some(Ctx::Case { pattern }) = stack.last_mut()
                    {
                        *pattern = true;
                    }
                    // continue scanning inside the word for quotes / `$`
                    let plain_end = end;
                    i = plain_end;
                    in_word = true;
                    continue;
                }
            }
        }
        i += 1;
        if !is_cmd_like(stack.last().copied().unwrap_or(Ctx::Cmd)) {
            at_cmd_start = false;
        }
    }
    Nesting {
        depth: max_depth.max(stack.len().saturating_sub(1)),
        open_at_end: stack.len() > 1,
        shift_in_dollar_bracket,
    }
}

/// End of a run of plain word characters starting at `i`.
fn word_end(chars: &[char], i: usize) -> usize {
    let mut j = i;
    while let Some(&c) = chars.get(j) {
        if matches!(
            c,
            ' ' | '\t'
                | '\n'
                | ';'
                | '&'
                | '|'
                | '('
                | ')'
                | '<'
                | '>'
                | '\''
                | '"'
                | '`'
                | '$'
                | '\\'
        ) {
            break;
        }
        j += 1;
    }
    if j == i { i + 1 } else { j }
}

/// Handles a `$` at `i`; pushes a context if it opens one; returns extra chars consumed.
fn open_dollar(chars: &[char], i: usize, stack: &mut Vec<Ctx>) -> usize {
    match (chars.get(i + 1), chars.get(i + 2)) {
        (Some('('), Some('(')) => {
            stack.push(Ctx::Arith { parens: 2, bracket: false });
            2
        }
        (Some('('), _) => {
            stack.push(Ctx::Cmd);
            1
        }
        (Some('{'), _) => {
            stack.push(Ctx::Param);
            1
        }
        (Some('['), _) => {
            stack.push(Ctx::Arith { parens: 0, bracket: true });
            1
        }
        _ => 0,
    }
}

/// Index of the closing `'` of a single-quoted string opened at `i` (or the end).
fn skip_single(chars: &[char], i: usize) -> usize {
    let mut j = i + 1;
    while let Some(&c) = chars.get(j) {
        if c == '\'' {
            return j;
        }
        j += 1;
    }
    j
}

/// Index of the closing `'` of an ANSI-C string whose opening `'` is at `i`.
fn skip_ansi(chars: &[char], i: usize) -> usize {
    let mut j = i + 1;
    while let Some(&c) = chars.get(j) {
        match c {
            '\\' => j += 1,
            '\'' => return j,
            _ => {}
        }
        j += 1;
    }
    j
}
