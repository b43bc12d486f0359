//! The SQL client model: the SQL that `psql`, `mysql` / `mariadb` and `sqlite3` send.
//!
//! SQL is taken from `psql -c` / `--command` (several are joined, each ended by `;`),
//! `mysql -e` / `--execute` (and `--init-command`), `sqlite3 [OPTIONS] DB SQL...` (and `-cmd`),
//! or, when none is given, a literal here-document or here-string on standard input. Whatever
//! makes the SQL incomplete or lets the client do more than send SQL is reported in
//! `opaque`, and the engine does not allow such a command on a routed resource:
//! * no inline SQL and standard input from the terminal, a pipe or a file (interactive or
//!   scripted: unknown);
//! * a script file (`psql -f`, `mysql` `source`, `sqlite3 -init`, `.read`);
//! * meta-commands: a `psql -c` text starting with `\` (`\! cmd` runs a shell), any `\` in a
//!   psql here-document or in mysql SQL (`\! cmd`, `\. file`), a mysql client command at the
//!   start of a statement (`system`, `source`, `pager`, `tee`, `edit`, ...), a sqlite3 piece
//!   or line starting with `.` (`.shell`, `.system`, `.load`, `.output |cmd`);
//! * SQL that is not literal (`psql -c "$q"`).
//!
//! `psql -o '|cmd'` / `--output='|cmd'` pipes the output into a shell command: the command is
//! dynamic.

use super::{Found, SqlClientModel, ToolModel};
use crate::command::analyze::{Arg, Stdin};

/// mysql client commands recognised at the start of a statement.
const MYSQL_CLIENT_COMMANDS: &[&str] = &[
    "system",
    "source",
    "pager",
    "nopager",
    "tee",
    "notee",
    "edit",
    "connect",
    "delimiter",
    "prompt",
    "rehash",
    "charset",
    "warnings",
    "nowarning",
    "resetconnection",
    "query_attributes",
    "ssl_session_data_print",
];

/// Options of each client that take a value: short letters and long names.
fn value_options(client: &str) -> (&'static str, &'static [&'static str]) {
    match client {
        "psql" => (
            "cdfhpUvoLPFRT",
            &[
                "command",
                "dbname",
                "file",
                "host",
                "port",
                "username",
                "set",
                "variable",
                "output",
                "log-file",
                "pset",
                "field-separator",
                "record-separator",
                "table-attr",
            ],
        ),
        "sqlite3" => (
            "",
            &[
                "cmd",
                "separator",
                "nullvalue",
                "newline",
                "init",
                "vfs",
                "maxsize",
                "mmap",
                "pagecache",
                "lookaside",
                "heap",
                "escape",
            ],
        ),
        // mysql / mariadb: `-p` takes an attached value only
        _ => (
            "euhPDSe",
            &[
                "execute",
                "user",
                "host",
                "port",
                "database",
                "socket",
                "init-command",
                "defaults-file",
                "defaults-extra-file",
                "default-character-set",
                "login-path",
            ],
        ),
    }
}

/// One option with its value, or a positional.
enum Item {
    Opt(String, Option<Arg>),
    Positional(Arg),
}

/// Reads options; `sqlite3` options are single-dash long options (`-cmd`, `-init`).
fn items(client: &str, args: &[Arg]) -> Vec<Item> {
    let (short_value, long_value) = value_options(client);
    let single_dash_long = client == "sqlite3";
    let mut out = Vec::new();
    let mut i = 1usize;
    let mut dashes = false;
    while let Some(a) = args.get(i) {
        i += 1;
        let t = a.text.as_str();
        if dashes || a.dynamic || t == "-" || !t.starts_with('-') {
            out.push(Item::Positional(a.clone()));
            continue;
        }
        if t == "--" {
            dashes = true;
            continue;
        }
        let long =
            t.strip_prefix("--").or_else(|| if single_dash_long { t.get(1..) } else { None });
        if let Some(long) = long {
            match long.split_once('=') {
                Some((n, v)) => out.push(Item::Opt(n.to_owned(), Some(Arg::literal(v)))),
                None if long_value.contains(&long) => {
                    out.push(Item::Opt(long.to_owned(), args.get(i).cloned()));
                    i += 1;
                }
                None => out.push(Item::Opt(long.to_owned(), None)),
            }
            continue;
        }
        let body: Vec<char> = t.chars().skip(1).collect();
        for (k, ch) in body.iter().enumerate() {
            if client == "mysql" && *ch == 'p' {
                // `-pSECRET`: the password is the rest of the cluster
                out.push(Item::Opt("p".to_owned(), None));
                break;
            }
            if short_value.contains(*ch) {
                let rest: String = body.get(k + 1..).unwrap_or_default().iter().collect();
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i - 1).cloned()
                } else {
                    Some(Arg::literal(&rest))
                };
                out.push(Item::Opt(ch.to_string(), value));
                break;
            }
            out.push(Item::Opt(ch.to_string(), None));
        }
    }
    out
}

/// Whether a piece of SQL holds a client meta-command.
fn meta_command(client: &str, sql: &str, from_stdin: bool) -> bool {
    match client {
        "psql" if from_stdin => sql.contains('\\'),
        "psql" => sql.trim_start().starts_with('\\'),
        "sqlite3" => sql.lines().any(|l| l.trim_start().starts_with('.')),
        _ => {
            sql.contains('\\')
                || sql.split(';').any(|statement| {
                    statement.lines().any(|line| {
                        let word = line.split_whitespace().next().unwrap_or_default();
                        MYSQL_CLIENT_COMMANDS.contains(&word.to_ascii_lowercase().as_str())
                    })
                })
        }
    }
}

pub(crate) fn model(client: &str, args: &[Arg], stdin: &Stdin) -> Found {
    let client = if client == "mariadb" { "mysql" } else { client };
    let mut model = SqlClientModel { client: client.to_owned(), ..SqlClientModel::default() };
    let mut pieces: Vec<Arg> = Vec::new();
    let mut dynamic = false;
    let mut positionals = Vec::new();
    let mut opaque: Vec<String> = Vec::new();
    for item in items(client, args) {
        match item {
            Item::Positional(a) => positionals.push(a),
            Item::Opt(name, value) => {
                let code = matches!(
                    (client, name.as_str()),
                    ("psql", "c" | "command")
                        | ("mysql", "e" | "execute" | "init-command")
                        | ("sqlite3", "cmd")
                );
                if code {
                    pieces.extend(value);
                    continue;
                }
                let file = matches!(
                    (client, name.as_str()),
                    ("psql", "f" | "file") | ("sqlite3", "init") | ("mysql", "defaults-file")
                );
                if file {
                    model.file = value.as_ref().map(|v| v.text.clone());
                    opaque.push("it reads a script file".to_owned());
                }
                if client == "psql"
                    && matches!(name.as_str(), "o" | "output" | "L" | "log-file")
                    && value.as_ref().is_some_and(|v| v.dynamic || v.text.starts_with('|'))
                {
                    dynamic = true;
                }
            }
        }
    }
    if client == "sqlite3" {
        // sqlite3 DB SQL...: every operand after the database file is SQL or a dot command
        pieces.extend(positionals.iter().skip(1).cloned());
    }
    let mut from_stdin = false;
    if pieces.is_empty() {
        match stdin {
            Stdin::Doc { text, literal: true, .. } => {
                pieces.push(Arg::literal(text));
                from_stdin = true;
            }
            Stdin::Doc { .. } => opaque.push("its standard input is not literal".to_owned()),
            _ if model.file.is_none() => {
                opaque
                    .push("it reads SQL from its standard input (interactive or piped)".to_owned());
            }
            _ => {}
        }
    }
    if pieces.iter().any(|p| p.dynamic) {
        opaque.push("its SQL is not literal".to_owned());
    }
    if pieces.iter().any(|p| meta_command(client, &p.text, from_stdin)) {
        opaque.push("it holds client meta-commands".to_owned());
    }
    if !pieces.is_empty() {
        let texts: Vec<String> = pieces
            .iter()
            .map(|p| {
                let t = p.text.trim().to_owned();
                if t.ends_with(';') { t } else { format!("{t};") }
            })
            .collect();
        model.sql = Some(texts.join("\n"));
    }
    model.opaque = (!opaque.is_empty()).then(|| opaque.join("; "));
    Found { model: ToolModel::SqlClient(model), inner: None, dynamic }
}
