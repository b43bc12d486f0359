//! Fingerprints: an action with its literal values removed, so that events of the same shape
//! group together and a log shipped elsewhere does not repeat the values in every query.
//!
//! - SQL: sqlparser's tokens with every string, number and byte literal replaced by `?`,
//!   comments dropped, runs of white space made one space, unquoted words lower-cased (SQL
//!   does not tell their case apart).
//! - A command line or argv: per command, the program and its arguments, each either a flag as
//!   written (a word starting with `-`, without any `=value`; short clusters split, so `-rf`
//!   reads `-r -f`) or `?`; commands joined by ` ; `.
//! - HTTP: the method, scheme, host and path, with every query value and every path segment
//!   that looks like an id (all digits, or eight characters or more with a digit) replaced by
//!   `?`.
//! - A tool call: the tool's name and its sorted argument names.

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::decision::ActionView;
use crate::request::Action;

/// The fingerprint of `action`, using the engine's `view` of it where there is one.
pub fn fingerprint(action: &Action, view: Option<&ActionView>) -> String {
    match action {
        Action::Sql(sql) => sql_fingerprint(sql),
        Action::Command(_) | Action::Argv(_) => match view {
            Some(ActionView::Command(line)) if !line.commands.is_empty() => line
                .commands
                .iter()
                .map(|c| {
                    let mut words = vec![c.program.as_str()];
                    words.extend(c.argv.iter().skip(1).map(|w| {
                        if w.starts_with('-') {
                            w.split('=').next().unwrap_or_default()
                        } else {
                            "?"
                        }
                    }));
                    words.join(" ")
                })
                .collect::<Vec<_>>()
                .join(" ; "),
            _ => "command (not parsed)".to_owned(),
        },
        Action::Http(http) => match url::Url::parse(http.url.trim()) {
            Ok(url) => {
                let path: Vec<&str> = url
                    .path()
                    .split('/')
                    .map(|seg| if looks_like_id(seg) { "?" } else { seg })
                    .collect();
                let mut out = format!(
                    "{} {}://{}{}",
                    http.method.trim().to_ascii_uppercase(),
                    url.scheme(),
                    url.host_str().unwrap_or_default(),
                    path.join("/")
                );
                let keys: Vec<String> = url.query_pairs().map(|(k, _)| format!("{k}=?")).collect();
                if !keys.is_empty() {
                    out.push('?');
                    out.push_str(&keys.join("&"));
                }
                out
            }
            Err(_) => format!("{} (unparsable url)", http.method.trim().to_ascii_uppercase()),
        },
        Action::Tool(tool) => {
            let mut names: Vec<&str> = match &tool.arguments {
                serde_json::Value::Object(map) => map.keys().map(String::as_str).collect(),
                _ => Vec::new(),
            };
            names.sort_unstable();
            format!("{}({})", tool.name, names.join(", "))
        }
    }
}

fn sql_fingerprint(sql: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return "sql (not tokenizable)".to_owned();
    };
    let mut out = String::with_capacity(sql.len());
    let mut space = false;
    for token in tokens {
        match token {
            Token::Whitespace(Whitespace::Space | Whitespace::Tab | Whitespace::Newline)
            | Token::Whitespace(_) => {
                space = !out.is_empty();
                continue;
            }
            _ => {}
        }
        if space {
            out.push(' ');
            space = false;
        }
        if is_literal(&token) {
            out.push('?');
        } else if let Token::Word(w) = &token
            && w.quote_style.is_none()
        {
            out.push_str(&w.value.to_lowercase());
        } else {
            out.push_str(&token.to_string());
        }
    }
    out
}

fn looks_like_id(segment: &str) -> bool {
    let digits = segment.bytes().filter(u8::is_ascii_digit).count();
    digits > 0 && (digits == segment.len() || segment.len() >= 8)
}

fn is_literal(token: &Token) -> bool {
    matches!(
        token,
        Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::QuoteDelimitedStringLiteral(_)
            | Token::NationalQuoteDelimitedStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{HttpRequest, ToolCall};

    #[test]
    fn sql_literals_and_comments_go() {
        let fp = fingerprint(
            &Action::Sql(
                "select *  from users -- by mail\n where email = 'a@b.c' and id in (1, 2.5, x'ff')"
                    .into(),
            ),
            None,
        );
        assert_eq!(fp, "select * from users where email = ? and id in (?, ?, ?)");
        let fp = fingerprint(&Action::Sql("SELECT $$secret$$, E'x', \"Name\"".into()), None);
        assert_eq!(fp, "select ?, ?, \"Name\"");
    }

    #[test]
    fn http_values_go() {
        let fp = fingerprint(
            &Action::Http(HttpRequest {
                method: "delete".into(),
                url: "https://api.example.com/v1/users/123/keys/0f9c2a1e77b4?token=abc&x=1".into(),
            }),
            None,
        );
        assert_eq!(fp, "DELETE https://api.example.com/v1/users/?/keys/??token=?&x=?");
    }

    #[test]
    fn tool_argument_names_only() {
        let fp = fingerprint(
            &Action::Tool(ToolCall {
                name: "query".into(),
                arguments: serde_json::json!({"sql": "SELECT 1", "db": "x"}),
            }),
            None,
        );
        assert_eq!(fp, "query(db, sql)");
    }
}
