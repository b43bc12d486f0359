//! Bounds on the work one request may cost, and the policy's `limits` block that tunes them.
//!
//! Every bound has a default that suits agents and proxies, and a ceiling that no policy may
//! raise it past: the ceilings keep the guarantees the bounds exist for (no stack overflow, no
//! exponential parse, no unbounded memory), so a policy can tighten a bound freely but loosen it
//! only so far. A request over a bound is denied outright with the bound named in the reason
//! (`limits.sql.max_text_bytes`, ...) and in the view's `limit` field; `defaults.unknown` does
//! not apply to it, since no human can usefully approve a 100 MB statement.
//!
//! ```yaml
//! limits:
//!   sql: {max_text_bytes: 262144, max_statements: 50}
//!   command: {max_line_bytes: 16384}
//! ```
//!
//! Content-detector patterns (custom regexes given to
//! [`DetectorsBuilder`](crate::mask::DetectorsBuilder)) have their own bounds,
//! [`PatternLimits`](crate::mask::PatternLimits), set by the host that builds the detectors.

use serde::{Deserialize, Serialize};

use crate::command::Limits as CommandLimits;

/// The bounds an engine applies to each request: the compiled form of a policy's `limits`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Bounds on SQL texts.
    pub sql: SqlLimits,
    /// Bounds on shell command lines and argvs.
    pub command: CommandLimits,
}

/// Bounds on one SQL text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlLimits {
    /// Longest text classified, in bytes; a longer one is refused before it is tokenized.
    pub max_text_bytes: usize,
    /// Most statements in one text.
    pub max_statements: usize,
    /// Deepest nesting of expressions, subqueries and parentheses that the parser follows
    /// (sqlparser's recursion limit). Parsing runs on the caller's thread, so the ceiling is
    /// what a 2 MiB thread stack holds in an unoptimized build.
    pub max_nesting_depth: usize,
    /// Most operators chained in one statement, summed over its open parentheses
    /// (`a + b + c`, `... UNION ...`, `x AND y`). sqlparser builds such chains as trees as deep
    /// as the chain without counting them against its recursion limit, so this bound keeps the
    /// tree walkable; its ceiling is its default.
    pub max_operator_chain: usize,
}

impl Default for SqlLimits {
    fn default() -> Self {
        Self {
            max_text_bytes: 16 * 1024 * 1024,
            max_statements: 100_000,
            max_nesting_depth: 50,
            max_operator_chain: crate::sql::MAX_OPERATOR_CHAIN,
        }
    }
}

/// One bound as the policy names it: its key, the ceiling a policy may raise it to, and how it
/// is written on [`Limits`].
pub(crate) struct Bound {
    /// The key under `limits`, e.g. `sql.max_text_bytes`.
    pub(crate) key: &'static str,
    /// The largest value a policy may set.
    pub(crate) ceiling: usize,
    pub(crate) set: fn(&mut Limits, usize),
}

/// Every bound a policy may set, with its ceiling.
pub(crate) const BOUNDS: &[Bound] = &[
    Bound {
        key: "sql.max_text_bytes",
        ceiling: 256 * 1024 * 1024,
        set: |l, v| l.sql.max_text_bytes = v,
    },
    Bound { key: "sql.max_statements", ceiling: 1_000_000, set: |l, v| l.sql.max_statements = v },
    Bound { key: "sql.max_nesting_depth", ceiling: 100, set: |l, v| l.sql.max_nesting_depth = v },
    Bound {
        key: "sql.max_operator_chain",
        ceiling: crate::sql::MAX_OPERATOR_CHAIN,
        set: |l, v| l.sql.max_operator_chain = v,
    },
    Bound {
        key: "command.max_line_bytes",
        ceiling: 16 * 1024 * 1024,
        set: |l, v| l.command.max_line_bytes = v,
    },
    Bound {
        key: "command.max_nesting_depth",
        ceiling: 1000,
        set: |l, v| l.command.max_nesting_depth = v,
    },
    Bound {
        key: "command.max_paren_depth",
        ceiling: 16,
        set: |l, v| l.command.max_paren_depth = v,
    },
    Bound { key: "command.max_parens", ceiling: 4096, set: |l, v| l.command.max_parens = v },
    Bound {
        key: "command.max_subscript_brackets",
        ceiling: 10,
        set: |l, v| l.command.max_subscript_brackets = v,
    },
    Bound {
        key: "command.max_recursion_depth",
        ceiling: 64,
        set: |l, v| l.command.max_recursion_depth = v,
    },
    Bound {
        key: "command.max_brace_results",
        ceiling: 65_536,
        set: |l, v| l.command.max_brace_results = v,
    },
    Bound { key: "command.max_commands", ceiling: 100_000, set: |l, v| l.command.max_commands = v },
];

/// The policy's `limits` block: each value tightens (or, up to its ceiling, loosens) one bound.
/// At most one document of a set may say it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsDoc {
    /// Bounds on SQL texts.
    #[serde(default)]
    pub sql: Option<SqlLimitsDoc>,
    /// Bounds on shell command lines and argvs.
    #[serde(default)]
    pub command: Option<CommandLimitsDoc>,
}

/// `limits.sql`: each key is optional; an absent key keeps its default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlLimitsDoc {
    /// Longest SQL text, in bytes (default 16 MiB, at most 256 MiB).
    #[serde(default)]
    pub max_text_bytes: Option<usize>,
    /// Most statements in one text (default 100,000, at most 1,000,000).
    #[serde(default)]
    pub max_statements: Option<usize>,
    /// Deepest expression / subquery nesting parsed (default 50, at most 100).
    #[serde(default)]
    pub max_nesting_depth: Option<usize>,
    /// Most operators chained in one statement (default and ceiling 3,000).
    #[serde(default)]
    pub max_operator_chain: Option<usize>,
}

/// `limits.command`: each key is optional; an absent key keeps its default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandLimitsDoc {
    /// Longest command line or argv, in bytes, and longest inner code re-parsed (default
    /// 128 KiB, at most 16 MiB).
    #[serde(default)]
    pub max_line_bytes: Option<usize>,
    /// Deepest structural nesting: groups, substitutions, quotes, compound commands, brace
    /// expansions (default 100, at most 1,000).
    #[serde(default)]
    pub max_nesting_depth: Option<usize>,
    /// Deepest nesting of bare parentheses, which the shell grammar parses in time exponential
    /// in their depth (default 12, at most 16).
    #[serde(default)]
    pub max_paren_depth: Option<usize>,
    /// Most bare parentheses in one piece of code (default 256, at most 4,096).
    #[serde(default)]
    pub max_parens: Option<usize>,
    /// Most open subscripts in a word that starts like an array-element assignment, which the
    /// shell grammar parses in time exponential in their number (default 6, at most 10).
    #[serde(default)]
    pub max_subscript_brackets: Option<usize>,
    /// Deepest re-parsing of inner code: `bash -c`, `eval`, `$( )`, wrappers such as `sudo`
    /// (default 16, at most 64).
    #[serde(default)]
    pub max_recursion_depth: Option<usize>,
    /// Most words one word may brace-expand to (default 1,024, at most 65,536).
    #[serde(default)]
    pub max_brace_results: Option<usize>,
    /// Most commands listed for one line (default 1,024, at most 100,000).
    #[serde(default)]
    pub max_commands: Option<usize>,
}

impl LimitsDoc {
    /// The values the document sets, as `(key, value)` with the keys of [`BOUNDS`].
    pub(crate) fn values(&self) -> Vec<(&'static str, usize)> {
        let mut out = Vec::new();
        let mut put = |key: &'static str, value: Option<usize>| {
            if let Some(v) = value {
                out.push((key, v));
            }
        };
        if let Some(s) = &self.sql {
            put("sql.max_text_bytes", s.max_text_bytes);
            put("sql.max_statements", s.max_statements);
            put("sql.max_nesting_depth", s.max_nesting_depth);
            put("sql.max_operator_chain", s.max_operator_chain);
        }
        if let Some(c) = &self.command {
            put("command.max_line_bytes", c.max_line_bytes);
            put("command.max_nesting_depth", c.max_nesting_depth);
            put("command.max_paren_depth", c.max_paren_depth);
            put("command.max_parens", c.max_parens);
            put("command.max_subscript_brackets", c.max_subscript_brackets);
            put("command.max_recursion_depth", c.max_recursion_depth);
            put("command.max_brace_results", c.max_brace_results);
            put("command.max_commands", c.max_commands);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;

    #[test]
    fn every_default_is_within_its_ceiling_and_every_key_is_a_bound() {
        let defaults = serde_json::to_value(Limits::default()).unwrap();
        for b in BOUNDS {
            let (group, name) = b.key.split_once('.').unwrap();
            let value = defaults[group][name].as_u64().unwrap() as usize;
            assert!(value >= 1 && value <= b.ceiling, "{}: default {value}", b.key);
            let mut l = Limits::default();
            (b.set)(&mut l, 7);
            let mut expected = defaults.clone();
            expected[group][name] = 7.into();
            assert_eq!(serde_json::to_value(&l).unwrap(), expected, "{} sets another field", b.key);
        }
        let all = LimitsDoc {
            sql: Some(SqlLimitsDoc {
                max_text_bytes: Some(1),
                max_statements: Some(1),
                max_nesting_depth: Some(1),
                max_operator_chain: Some(1),
            }),
            command: Some(CommandLimitsDoc {
                max_line_bytes: Some(1),
                max_nesting_depth: Some(1),
                max_paren_depth: Some(1),
                max_parens: Some(1),
                max_subscript_brackets: Some(1),
                max_recursion_depth: Some(1),
                max_brace_results: Some(1),
                max_commands: Some(1),
            }),
        };
        let keys: Vec<&str> = all.values().iter().map(|(k, _)| *k).collect();
        let bounds: Vec<&str> = BOUNDS.iter().map(|b| b.key).collect();
        assert_eq!(keys, bounds);
    }
}
