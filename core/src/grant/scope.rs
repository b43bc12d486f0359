//! Grant scopes: the rule-condition language ([`Conditions`]) read as an `allow` rule.
//!
//! At mint time a child's scope must be provably narrower than its parent's. The proof is
//! syntactic and conservative: every condition the parent has must be present in the child
//! and be at least as narrow; what cannot be shown narrower is rejected as wider.
//!
//! | condition | the child is narrower when |
//! | --- | --- |
//! | `resources`, `tables`, `reads`, `writes`, `functions`, `programs`, `operands`, `via` | each child glob is covered by a parent glob (equal, parent `*`, a literal child the parent matches, or parent `prefix*` with the child starting with `prefix`) |
//! | `kinds`, `flags` (sql and command), `inline_code` | child list ⊆ parent list |
//! | `read_only` | the same value |
//! | `argv_prefix` | each child prefix extends a parent prefix |
//! | `without_flags` | child list ⊇ parent list |
//! | `methods` (http) | child list ⊆ parent list |
//! | `hosts`, `paths` (http), `names` (tool) | each child glob is covered by a parent glob |
//! | `arguments` (tool) | every parent argument condition appears, unchanged, in the child |
//! | a `sql` / `command` / `http` / `tool` block | present in the child when present in the parent |
//!
//! Scopes may not name `principals` or `groups`: a grant acts for its root principal, whose
//! groups the policy already sees. At check time nothing of this is trusted: each scope of the
//! chain is compiled as an `allow` rule and must cover the request on its own.

use crate::policy::compile::glob;
use crate::policy::compile::is_json_pointer;
use crate::policy::{CommandConditions, Conditions, HttpConditions, SqlConditions, ToolConditions};

/// Check that `scope` is well formed on its own: valid globs, no empty list, no identity
/// conditions, not both `sql` and `command`.
pub(crate) fn validate(scope: &Conditions) -> Result<(), String> {
    if scope.principals.is_some() || scope.groups.is_some() {
        return Err("a grant scope cannot name `principals` or `groups`: a grant acts for its \
                    root principal"
            .into());
    }
    let blocks =
        [scope.sql.is_some(), scope.command.is_some(), scope.http.is_some(), scope.tool.is_some()];
    if blocks.iter().filter(|b| **b).count() > 1 {
        return Err("a grant scope has more than one of `sql`, `command`, `http` and `tool`; it \
                    applies to one kind of action"
            .into());
    }
    if let Some(h) = &scope.http {
        nonempty("methods", &h.methods)?;
        if let Some(m) = h
            .methods
            .iter()
            .flatten()
            .find(|m| m.is_empty() || m.chars().any(|c| !c.is_ascii_uppercase()))
        {
            return Err(format!("method `{m}` must be written in upper case (`GET`)"));
        }
        globs("hosts", &h.hosts)?;
        globs("paths", &h.paths)?;
    }
    if let Some(t) = &scope.tool {
        globs("names", &t.names)?;
        nonempty("arguments", &t.arguments)?;
        for a in t.arguments.iter().flatten() {
            if !is_json_pointer(&a.pointer) {
                return Err(format!("`{}` is not a JSON pointer", a.pointer));
            }
            if a.one_of.is_none() && a.matches.is_none() {
                return Err("an argument condition needs `one_of` or `matches`".into());
            }
            nonempty("one_of", &a.one_of)?;
            globs("matches", &a.matches)?;
        }
    }
    globs("resources", &scope.resources)?;
    if let Some(sql) = &scope.sql {
        nonempty("kinds", &sql.kinds)?;
        nonempty("flags", &sql.flags)?;
        for (name, list) in [
            ("tables", &sql.tables),
            ("reads", &sql.reads),
            ("writes", &sql.writes),
            ("functions", &sql.functions),
        ] {
            globs(name, list)?;
        }
    }
    if let Some(c) = &scope.command {
        for (name, list) in [("programs", &c.programs), ("operands", &c.operands), ("via", &c.via)]
        {
            globs(name, list)?;
        }
        for (name, list) in [
            ("argv_prefix", &c.argv_prefix),
            ("flags", &c.flags),
            ("without_flags", &c.without_flags),
            ("inline_code", &c.inline_code),
        ] {
            nonempty(name, list)?;
        }
        if c.argv_prefix.iter().flatten().any(|p| p.split_whitespace().next().is_none()) {
            return Err("empty argv prefix matches nothing".into());
        }
    }
    Ok(())
}

fn nonempty<T>(name: &str, list: &Option<Vec<T>>) -> Result<(), String> {
    if list.as_ref().is_some_and(Vec::is_empty) {
        return Err(format!("empty `{name}` list can never match"));
    }
    Ok(())
}

fn globs(name: &str, list: &Option<Vec<String>>) -> Result<(), String> {
    nonempty(name, list)?;
    for pattern in list.iter().flatten() {
        glob(pattern).map_err(|e| format!("`{name}`: {e}"))?;
    }
    Ok(())
}

/// Conditions (and `sql` / `command` members) this module knows how to compare. A parent
/// condition outside these lists (one added to the language later) cannot be shown narrower,
/// so the child is refused until this module learns it.
const KNOWN: &[(&str, &[&str])] = &[
    ("", &["principals", "groups", "resources", "sql", "command", "http", "tool"]),
    ("sql", &["kinds", "read_only", "tables", "reads", "writes", "functions", "flags"]),
    (
        "command",
        &["programs", "argv_prefix", "flags", "without_flags", "operands", "inline_code", "via"],
    ),
    ("http", &["methods", "hosts", "paths"]),
    ("tool", &["names", "arguments"]),
];

fn unknown_condition(parent: &Conditions) -> Option<String> {
    let json = crate::identity::envelope::compact_json(parent);
    for (block, known) in KNOWN {
        let members = if block.is_empty() { Some(&json) } else { json.get(*block) };
        let Some(serde_json::Value::Object(map)) = members else { continue };
        if let Some(key) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Some(if block.is_empty() { key.clone() } else { format!("{block}.{key}") });
        }
    }
    None
}

/// `Ok` when `child` is provably no wider than `parent`; else why not.
pub(crate) fn narrower(child: &Conditions, parent: &Conditions) -> Result<(), String> {
    if let Some(condition) = unknown_condition(parent) {
        return Err(format!("the parent's `{condition}` condition cannot be compared yet"));
    }
    covered("principals", &child.principals, &parent.principals)?;
    subset("groups", &child.groups, &parent.groups)?;
    covered("resources", &child.resources, &parent.resources)?;
    match (&child.sql, &parent.sql) {
        (_, None) => {}
        (None, Some(_)) => {
            return Err("the parent limits SQL (`sql`) and the child does not".into());
        }
        (Some(c), Some(p)) => sql_narrower(c, p)?,
    }
    match (&child.command, &parent.command) {
        (_, None) => {}
        (None, Some(_)) => {
            return Err("the parent limits commands (`command`) and the child does not".into());
        }
        (Some(c), Some(p)) => command_narrower(c, p)?,
    }
    match (&child.http, &parent.http) {
        (_, None) => {}
        (None, Some(_)) => {
            return Err("the parent limits HTTP requests (`http`) and the child does not".into());
        }
        (Some(c), Some(p)) => http_narrower(c, p)?,
    }
    match (&child.tool, &parent.tool) {
        (_, None) => {}
        (None, Some(_)) => {
            return Err("the parent limits tool calls (`tool`) and the child does not".into());
        }
        (Some(c), Some(p)) => tool_narrower(c, p)?,
    }
    Ok(())
}

fn http_narrower(c: &HttpConditions, p: &HttpConditions) -> Result<(), String> {
    subset("http.methods", &c.methods, &p.methods)?;
    covered("http.hosts", &c.hosts, &p.hosts)?;
    covered("http.paths", &c.paths, &p.paths)
}

fn tool_narrower(c: &ToolConditions, p: &ToolConditions) -> Result<(), String> {
    covered("tool.names", &c.names, &p.names)?;
    let child = c.arguments.as_deref().unwrap_or_default();
    for condition in p.arguments.iter().flatten() {
        if !child.contains(condition) {
            return Err(format!(
                "the parent's `tool.arguments` condition on `{}` is not in the child unchanged",
                condition.pointer
            ));
        }
    }
    Ok(())
}

fn sql_narrower(c: &SqlConditions, p: &SqlConditions) -> Result<(), String> {
    subset("sql.kinds", &c.kinds, &p.kinds)?;
    if let Some(read_only) = p.read_only
        && c.read_only != Some(read_only)
    {
        return Err(format!(
            "the parent requires `sql.read_only: {read_only}` and the child does not"
        ));
    }
    covered("sql.tables", &c.tables, &p.tables)?;
    covered("sql.reads", &c.reads, &p.reads)?;
    covered("sql.writes", &c.writes, &p.writes)?;
    covered("sql.functions", &c.functions, &p.functions)?;
    subset("sql.flags", &c.flags, &p.flags)
}

fn command_narrower(c: &CommandConditions, p: &CommandConditions) -> Result<(), String> {
    covered("command.programs", &c.programs, &p.programs)?;
    if let Some(parent) = &p.argv_prefix {
        let Some(child) = &c.argv_prefix else {
            return Err("the parent limits `command.argv_prefix` and the child does not".into());
        };
        for prefix in child {
            let words: Vec<&str> = prefix.split_whitespace().collect();
            let extends = parent.iter().any(|pp| {
                let pw: Vec<&str> = pp.split_whitespace().collect();
                !pw.is_empty()
                    && words.len() >= pw.len()
                    && words.iter().zip(&pw).all(|(a, b)| a == b)
            });
            if !extends {
                return Err(format!(
                    "`command.argv_prefix`: `{prefix}` does not extend any of the parent's prefixes"
                ));
            }
        }
    }
    subset("command.flags", &c.flags, &p.flags)?;
    if let Some(parent) = &p.without_flags {
        let child = c.without_flags.as_deref().unwrap_or_default();
        if let Some(missing) = parent.iter().find(|f| !child.contains(f)) {
            return Err(format!(
                "the parent forbids flag `{missing}` (`command.without_flags`) and the child does not"
            ));
        }
    }
    covered("command.operands", &c.operands, &p.operands)?;
    subset("command.inline_code", &c.inline_code, &p.inline_code)?;
    covered("command.via", &c.via, &p.via)
}

/// Child list ⊆ parent list (when the parent has one).
fn subset<T: PartialEq + std::fmt::Debug>(
    name: &str,
    child: &Option<Vec<T>>,
    parent: &Option<Vec<T>>,
) -> Result<(), String> {
    let Some(parent) = parent else { return Ok(()) };
    let Some(child) = child else {
        return Err(format!("the parent limits `{name}` and the child does not"));
    };
    match child.iter().find(|c| !parent.contains(c)) {
        Some(extra) => Err(format!("`{name}`: {} is not among the parent's", debug_name(extra))),
        None => Ok(()),
    }
}

/// Each child glob is covered by a parent glob (when the parent has a list).
fn covered(
    name: &str,
    child: &Option<Vec<String>>,
    parent: &Option<Vec<String>>,
) -> Result<(), String> {
    let Some(parent) = parent else { return Ok(()) };
    let Some(child) = child else {
        return Err(format!("the parent limits `{name}` and the child does not"));
    };
    match child.iter().find(|c| !parent.iter().any(|p| glob_covers(p, c))) {
        Some(wider) => Err(format!("`{name}`: `{wider}` is not covered by the parent's patterns")),
        None => Ok(()),
    }
}

/// The name of a list item as the user wrote it: serde's lowercase word for enums.
fn debug_name<T: std::fmt::Debug>(item: &T) -> String {
    let text = format!("{item:?}");
    let mut out = String::with_capacity(text.len() + 4);
    for (i, ch) in text.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else if ch != '"' {
            out.push(ch);
        }
    }
    format!("`{out}`")
}

const GLOB_META: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];

fn is_literal(pattern: &str) -> bool {
    !pattern.contains(GLOB_META)
}

/// Whether every string `child` matches is matched by `parent` (conservatively: `false` when
/// it cannot be shown).
pub(crate) fn glob_covers(parent: &str, child: &str) -> bool {
    if parent == child || parent == "*" {
        return true;
    }
    if is_literal(child) {
        return glob(parent).is_ok_and(|g| g.compile_matcher().is_match(child));
    }
    match parent.strip_suffix('*') {
        Some(prefix) if is_literal(prefix) => child.starts_with(prefix),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_coverage_is_conservative() {
        assert!(glob_covers("*", "public.*"));
        assert!(glob_covers("public.*", "public.orders"));
        assert!(glob_covers("public.*", "public.ord*"));
        assert!(glob_covers("public.orders", "public.orders"));
        assert!(!glob_covers("public.orders", "public.*"));
        assert!(!glob_covers("public.*", "*"));
        assert!(!glob_covers("pub?ic.*", "pub*"));
        assert!(!glob_covers("public.*", "publi[c].x"));
    }

    #[test]
    fn enum_names_read_as_written() {
        assert_eq!(debug_name(&crate::sql::StatementKind::Select), "`select`");
        assert_eq!(debug_name(&crate::sql::Flag::NoWhere), "`no_where`");
        assert_eq!(debug_name(&"rf".to_owned()), "`rf`");
    }
}
