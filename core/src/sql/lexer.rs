//! Lexer-level helpers: tokenizing a text, MySQL executable comments, splitting a text into
//! statements, guarding the parser against pathological nesting, and the keyword-based kind
//! of a statement that sqlparser cannot parse.
//!
//! Everything here works on sqlparser's own tokens ([`Tokenizer`]), so quoting rules (string
//! escapes, `E''` strings, dollar quotes, quoted identifiers, nested comments, MySQL's `#` and
//! `-- ` comments) are exactly those of the dialect that will parse the text: a `;` or a
//! keyword inside a string literal or a comment is never mistaken for SQL.

use super::functions::is_side_effect;
use super::{Flag, StatementKind};
use sqlparser::dialect::Dialect as SqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};
use std::collections::HashSet;

/// Statements whose operator chains add up to more than this many operators are not handed to
/// the parser: sqlparser builds left-deep trees for `a + b + c ...` and `... UNION ...` without
/// counting them against its recursion limit, and walking (or dropping) a tree tens of
/// thousands of levels deep overflows the stack.
pub(crate) const MAX_CHAIN_OPERATORS: usize = 3000;

/// Tokenizes `sql` with the dialect's own rules (the same tokens sqlparser's parser would see).
pub(crate) fn tokenize(sql: &str, dialect: &dyn SqlDialect) -> Result<Vec<TokenWithSpan>, String> {
    Tokenizer::new(dialect, sql)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|e| one_line(&format!("sql tokenizer error: {e}")))
}

/// Collapses a message to one line.
pub(crate) fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// MySQL executable comments (`/*! ... */`, `/*!50001 ... */`, MariaDB's `/*M! ... */`).
///
/// MySQL runs the content of such a comment as SQL. sqlparser's MySQL and generic dialects
/// already splice the content into the token stream; for every other dialect writ does the
/// same (a conservative choice: the content is classified as if it ran, so a write hidden in
/// one can never make a text look read-only). Returns the tokens with every executable
/// comment replaced by its content, and whether the text held one.
pub(crate) fn expand_executable_comments(
    sql: &str,
    tokens: Vec<TokenWithSpan>,
    dialect: &dyn SqlDialect,
) -> Result<(Vec<TokenWithSpan>, bool), String> {
    if !sql.contains("/*!") && !sql.contains("/*M!") {
        return Ok((tokens, false));
    }
    let starts = executable_comment_starts(sql);
    let mut found = false;
    let mut out = Vec::with_capacity(tokens.len());
    for tok in tokens {
        if let Token::Whitespace(Whitespace::MultiLineComment(body)) = &tok.token
            && let Some(content) = executable_content(body)
        {
            found = true;
            let inner = tokenize(content, dialect)?;
            // Inner tokens take the comment's span: positions stay inside the original text.
            let span = tok.span;
            out.push(TokenWithSpan::new(Token::Whitespace(Whitespace::Space), span));
            out.extend(inner.into_iter().map(|t| TokenWithSpan::new(t.token, span)));
            out.push(TokenWithSpan::new(Token::Whitespace(Whitespace::Space), span));
            continue;
        }
        // sqlparser expanded the comment itself: its first token starts where `/*!` is.
        if starts.contains(&(tok.span.start.line, tok.span.start.column)) {
            found = true;
        }
        out.push(tok);
    }
    Ok((out, found))
}

/// The SQL inside an executable comment body (the text between `/*` and `*/`), if it is one.
fn executable_content(body: &str) -> Option<&str> {
    let rest = body.strip_prefix('!').or_else(|| body.strip_prefix("M!"))?;
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    Some(rest.get(digits..).unwrap_or(rest))
}

/// The (line, column) of every `/*!` and `/*M!` in the text, counted the way sqlparser's
/// tokenizer counts them (lines from 1, columns in characters from 1).
fn executable_comment_starts(sql: &str) -> HashSet<(u64, u64)> {
    let mut starts = HashSet::new();
    let (mut line, mut col) = (1u64, 1u64);
    for (i, c) in sql.char_indices() {
        if c == '/' {
            let rest = sql.get(i..).unwrap_or("");
            if rest.starts_with("/*!") || rest.starts_with("/*M!") {
                starts.insert((line, col));
            }
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    starts
}

/// Splits tokens into statements at every `;` token (a `;` inside a string, a quoted
/// identifier or a comment is part of that token, never a separator). Pieces holding only
/// whitespace and comments are dropped.
pub(crate) fn split(tokens: &[TokenWithSpan]) -> Vec<&[TokenWithSpan]> {
    tokens
        .split(|t| t.token == Token::SemiColon)
        .filter(|piece| piece.iter().any(|t| is_significant(&t.token)))
        .collect()
}

/// False for whitespace and comments.
pub(crate) fn is_significant(token: &Token) -> bool {
    !matches!(token, Token::Whitespace(_) | Token::EOF)
}

/// An upper bound of how deep the operator chains of a statement nest: for every bracket
/// level, operators since the last comma plus set operators (`UNION`, ...) since the level
/// opened, summed over the open levels.
pub(crate) fn chain_depth(tokens: &[TokenWithSpan]) -> usize {
    // (operators since the last comma, set operators) per open bracket level.
    let mut levels: Vec<(usize, usize)> = vec![(0, 0)];
    let mut total = 0usize;
    let mut max = 0usize;
    for t in tokens {
        match &t.token {
            Token::LParen | Token::LBracket | Token::LBrace => levels.push((0, 0)),
            Token::RParen | Token::RBracket | Token::RBrace => {
                if levels.len() > 1
                    && let Some((ops, sets)) = levels.pop()
                {
                    total = total.saturating_sub(ops + sets);
                }
            }
            Token::Comma => {
                if let Some(level) = levels.last_mut() {
                    total = total.saturating_sub(level.0);
                    level.0 = 0;
                }
            }
            Token::Word(w) => {
                // The tokenizer sets `keyword` for unquoted words only, by the same
                // case-insensitive lookup the parser relies on.
                let set_op = matches!(
                    w.keyword,
                    Keyword::UNION | Keyword::EXCEPT | Keyword::INTERSECT | Keyword::MINUS
                );
                let op = matches!(
                    w.keyword,
                    Keyword::AND
                        | Keyword::OR
                        | Keyword::XOR
                        | Keyword::IS
                        | Keyword::LIKE
                        | Keyword::ILIKE
                        | Keyword::RLIKE
                        | Keyword::REGEXP
                        | Keyword::IN
                        | Keyword::BETWEEN
                        | Keyword::COLLATE
                        | Keyword::SIMILAR
                        | Keyword::AT
                        | Keyword::GLOB
                        | Keyword::MATCH
                        | Keyword::DIV
                        | Keyword::MOD
                        | Keyword::OVERLAPS
                );
                if let Some(level) = levels.last_mut() {
                    if set_op {
                        level.1 += 1;
                        total += 1;
                    } else if op {
                        level.0 += 1;
                        total += 1;
                    }
                }
            }
            tok if is_operand_or_space(tok) => {}
            _ => {
                if let Some(level) = levels.last_mut() {
                    level.0 += 1;
                    total += 1;
                }
            }
        }
        max = max.max(total);
    }
    max
}

/// Tokens that never chain expressions: operands, literals, whitespace, separators.
fn is_operand_or_space(token: &Token) -> bool {
    matches!(
        token,
        Token::Whitespace(_)
            | Token::EOF
            | Token::Number(..)
            | Token::Char(_)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::Placeholder(_)
            | Token::SemiColon
            | Token::Period
            | Token::Colon
    )
}

/// What the first keywords of an unparsable statement make certain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fallback {
    /// The kind, or [`StatementKind::Unknown`] when the keywords say nothing certain.
    pub kind: StatementKind,
    /// Flags, always including [`Flag::Unparsed`].
    pub flags: Vec<Flag>,
    /// Side-effect functions spotted as `name (` in the tokens, lowercase.
    pub functions: Vec<String>,
}

/// The upper-cased unquoted words and other significant tokens of a statement, in order.
fn words(tokens: &[TokenWithSpan]) -> Vec<Option<String>> {
    tokens
        .iter()
        .filter(|t| is_significant(&t.token))
        .map(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .collect()
}

/// The keyword-based classification of a statement sqlparser rejected. It is never
/// read-only; the kind comes from the first keywords only when they make it certain.
///
/// `WITH` gives [`StatementKind::Unknown`]: the statement after the CTEs decides the kind, and
/// a CTE can hide a write, so nothing is certain without a parse.
pub(crate) fn fallback(tokens: &[TokenWithSpan]) -> Fallback {
    use StatementKind as K;
    let w = words(tokens);
    let at = |i: usize| -> &str { w.get(i).and_then(|x| x.as_deref()).unwrap_or("") };
    let has = |k: &str| w.iter().any(|x| x.as_deref() == Some(k));
    let mut flags = vec![Flag::Unparsed];
    let first = at(0);
    let second = at(1);
    let kind = match first {
        "SELECT" | "VALUES" | "TABLE" => K::Select,
        "INSERT" | "REPLACE" | "UPSERT" => K::Insert,
        "UPDATE" => K::Update,
        "DELETE" => K::Delete,
        "MERGE" => K::Merge,
        "CREATE" => K::Create,
        "ALTER" => K::Alter,
        "DROP" => K::Drop,
        "TRUNCATE" => K::Truncate,
        "GRANT" => K::Grant,
        "REVOKE" | "DENY" => K::Revoke,
        "COPY" | "UNLOAD" | "EXPORT" | "PUT" => K::Copy,
        "LOAD" if matches!(second, "DATA" | "XML") => K::Copy,
        "LOAD" => K::Other,
        "CALL" => {
            flags.push(Flag::DynamicSql);
            K::Call
        }
        "EXEC" | "EXECUTE" => {
            flags.push(Flag::DynamicSql);
            if second == "AS" {
                flags.push(Flag::ChangesIdentity);
            }
            K::Execute
        }
        "PREPARE" if matches!(second, "TRANSACTION") => K::Transaction,
        "PREPARE" => K::Prepare,
        "DO" => {
            flags.push(Flag::DynamicSql);
            K::Do
        }
        "SET" | "RESET" => {
            let identity = second == "ROLE"
                || (second == "SESSION" && matches!(at(2), "AUTHORIZATION" | "ROLE"))
                || (second == "LOCAL" && matches!(at(2), "ROLE" | "SESSION"))
                || (first == "RESET" && second == "ALL");
            if identity {
                flags.push(Flag::ChangesIdentity);
            }
            if first == "SET" && second == "TRANSACTION" { K::Transaction } else { K::Set }
        }
        "USE" | "DISCARD" => K::Set,
        "SHOW" | "DESCRIBE" | "DESC" => K::Show,
        "EXPLAIN" => {
            if w.iter().take(12).any(|x| matches!(x.as_deref(), Some("ANALYZE" | "ANALYSE"))) {
                flags.push(Flag::ExplainAnalyze);
            }
            K::Explain
        }
        "BEGIN"
            if matches!(
                second,
                "" | "TRANSACTION"
                    | "WORK"
                    | "TRAN"
                    | "ISOLATION"
                    | "READ"
                    | "DEFERRED"
                    | "IMMEDIATE"
                    | "EXCLUSIVE"
            ) =>
        {
            K::Transaction
        }
        "START" if second == "TRANSACTION" => K::Transaction,
        "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "ABORT" | "END" => K::Transaction,
        "LOCK" | "UNLOCK" => K::Lock,
        "VACUUM" | "ANALYZE" | "ANALYSE" | "REINDEX" | "CLUSTER" | "CHECKPOINT" | "OPTIMIZE" => {
            K::Vacuum
        }
        "REFRESH" => K::Refresh,
        "COMMENT" => K::Comment,
        "ATTACH" | "DETACH" => K::Attach,
        "PRAGMA" => K::Pragma,
        "LISTEN" | "UNLISTEN" | "NOTIFY" | "DECLARE" | "FETCH" | "MOVE" | "CLOSE" | "KILL"
        | "SECURITY" | "IMPORT" | "REASSIGN" | "FLUSH" | "HANDLER" | "DEALLOCATE" => K::Other,
        _ => K::Unknown,
    };
    if has("OUTFILE") || has("DUMPFILE") {
        flags.push(Flag::IntoOutfile);
    }
    if kind == K::Copy && has("PROGRAM") {
        flags.push(Flag::CopyProgram);
    }
    if kind == K::Select
        && w.windows(2).any(|p| {
            matches!(p, [Some(a), Some(b)]
                if (a == "FOR" && matches!(b.as_str(), "UPDATE" | "SHARE" | "NO" | "KEY"))
                    || (a == "LOCK" && b == "IN"))
        })
    {
        flags.push(Flag::LockingClause);
    }
    let functions = side_effect_calls(tokens);
    if !functions.is_empty() {
        flags.push(Flag::SideEffectFunction);
    }
    flags.sort();
    flags.dedup();
    Fallback { kind, flags, functions }
}

/// Side-effect functions called as `name (` or `schema.name (` in the tokens, lowercase.
fn side_effect_calls(tokens: &[TokenWithSpan]) -> Vec<String> {
    let sig: Vec<&Token> = tokens.iter().map(|t| &t.token).filter(|t| is_significant(t)).collect();
    let mut out: Vec<String> = sig
        .windows(2)
        .filter_map(|pair| match pair {
            [Token::Word(w), Token::LParen] if is_side_effect(&w.value) => {
                Some(w.value.to_lowercase())
            }
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect};

    fn pg(sql: &str) -> Vec<TokenWithSpan> {
        tokenize(sql, &PostgreSqlDialect {}).unwrap_or_default()
    }

    #[test]
    fn split_ignores_semicolons_in_strings_and_comments() {
        let tokens = pg("SELECT ';' -- ;\n; /* ; */ ; SELECT $$;$$;;");
        assert_eq!(split(&tokens).len(), 2);
    }

    #[test]
    fn chain_depth_counts_chains_not_lists() {
        assert_eq!(chain_depth(&pg("SELECT 1, 2, 3")), 0);
        assert_eq!(chain_depth(&pg("SELECT 1 + 1 + 1 + 1")), 3);
        assert_eq!(chain_depth(&pg("SELECT (1) + (1) + (1)")), 2);
        assert!(chain_depth(&pg("SELECT a, b UNION SELECT a, b UNION SELECT a, b")) >= 2);
        assert!(chain_depth(&pg("SELECT * FROM t WHERE a = 1 OR a = 2 OR a = 3")) >= 5);
    }

    #[test]
    fn executable_comment_content() {
        assert_eq!(executable_content("!50001 DROP TABLE t "), Some(" DROP TABLE t "));
        assert_eq!(executable_content("!DROP"), Some("DROP"));
        assert_eq!(executable_content("M!100100 x"), Some(" x"));
        assert_eq!(executable_content(" plain "), None);
    }

    #[test]
    fn executable_comments_are_detected_in_every_dialect() {
        let sql = "SELECT 1 /*!50001 , 2 */";
        for d in [&MySqlDialect {} as &dyn SqlDialect, &PostgreSqlDialect {}] {
            let tokens = tokenize(sql, d).unwrap_or_default();
            let expanded = expand_executable_comments(sql, tokens, d);
            assert!(matches!(expanded, Ok((_, true))), "{expanded:?}");
        }
    }

    #[test]
    fn fallback_kinds() {
        let kind = |sql: &str| fallback(&pg(sql)).kind;
        assert_eq!(kind("DO $$ x $$"), StatementKind::Do);
        assert_eq!(kind("VACUUM (VERBOSE) t"), StatementKind::Vacuum);
        assert_eq!(kind("WITH x AS (DELETE FROM t) SELECT 1"), StatementKind::Unknown);
        assert_eq!(kind("BEGIN ISOLATION LEVEL SERIALIZABLE"), StatementKind::Transaction);
        assert_eq!(kind("BEGIN foo"), StatementKind::Unknown);
        assert_eq!(kind("\"SELECT\" 1"), StatementKind::Unknown);
        let fb = fallback(&pg("SELECT pg_sleep(1) FROM t WHERE ???"));
        assert_eq!(fb.functions, vec!["pg_sleep".to_owned()]);
        assert!(fb.flags.contains(&Flag::SideEffectFunction) && fb.flags.contains(&Flag::Unparsed));
        let fb = fallback(&pg("SET SESSION AUTHORIZATION ???"));
        assert!(fb.flags.contains(&Flag::ChangesIdentity));
    }
}
