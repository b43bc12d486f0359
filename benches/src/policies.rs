//! Generated policies for the compile bench: what a large organisation's writ policy could
//! look like, at any number of rules.
//!
//! Rules come in runs of ten, each naming its own team, agents, tables and programs: five on
//! PostgreSQL databases (a read allow, a write allow, a DROP/TRUNCATE deny with an inline
//! example, a schema-change approval, a function deny), three on shells (a program allow, an
//! `rm -r` deny, a `git push --force` approval) and two on MCP tool servers (a tool allow, a
//! secret-file deny). Every rule has a reason and names one resource; one database, one shell
//! and one tool server are declared per hundred rules (at least one each), so both the rules
//! and the resources grow with the size.

use std::fmt::Write as _;

/// Resources of each kind declared for a policy of `rules` rules.
pub fn resources_per_kind(rules: usize) -> usize {
    rules / 100 + 1
}

/// A policy document (YAML, block style as people write it) with `rules` rules.
pub fn mixed(rules: usize) -> String {
    let per_kind = resources_per_kind(rules);
    let mut out = String::from("version: 1\n\nresources:\n");
    for m in 0..per_kind {
        let _ = write!(
            out,
            "  - name: warehouse-{m}\n    kind: postgres\n    default_schema: public\n    description: analytics replica {m}\n  - name: shell-{m}\n    kind: shell\n  - name: mcp-{m}\n    kind: tool\n"
        );
    }
    out.push_str(
        "\ndefaults:\n  effect: deny\n  unknown: deny\n  reason: no rule allows this\n\nrules:\n",
    );
    for i in 0..rules {
        let k = i / 10;
        let m = k % per_kind;
        let (effect, reason, when) = match i % 10 {
            0 => (
                "allow",
                "team agents read their sales tables",
                format!(
                    "      principals: [\"agent:team-{k}-*\"]\n      resources: [warehouse-{m}]\n      sql: {{read_only: true, tables: [\"sales.t{k}_*\", \"public.orders_{k}\"]}}\n"
                ),
            ),
            1 => (
                "allow",
                "the team writes its own orders",
                format!(
                    "      groups: [team-{k}]\n      resources: [warehouse-{m}]\n      sql:\n        kinds: [insert, update, delete]\n        writes: [\"public.orders_{k}\", \"staging.t{k}_*\"]\n"
                ),
            ),
            2 => (
                "deny",
                "destructive statements are denied",
                format!(
                    "      resources: [warehouse-{m}]\n      sql: {{kinds: [drop, truncate]}}\n"
                ),
            ),
            3 => (
                "approval",
                "schema changes need a lead",
                format!(
                    "      groups: [team-{k}]\n      resources: [warehouse-{m}]\n      sql: {{kinds: [create, alter]}}\n"
                ),
            ),
            4 => (
                "deny",
                "server-side functions are off limits",
                format!(
                    "      resources: [warehouse-{m}]\n      sql:\n        functions: [pg_terminate_backend, pg_read_file, lo_export, dblink_exec]\n"
                ),
            ),
            5 => (
                "allow",
                "build and inspection tools",
                format!(
                    "      principals: [\"agent:team-{k}-*\"]\n      resources: [shell-{m}]\n      command: {{programs: [git, cargo, ls, cat, grep, \"python3*\"]}}\n"
                ),
            ),
            6 => (
                "deny",
                "no recursive removal outside the project",
                format!(
                    "      resources: [shell-{m}]\n      command:\n        programs: [rm]\n        flags: [r, R, recursive]\n        operands: [\"/\", \"/etc/*\", \"~*\"]\n"
                ),
            ),
            7 => (
                "approval",
                "force pushes need a person",
                format!(
                    "      groups: [team-{k}]\n      resources: [shell-{m}]\n      command: {{argv_prefix: [\"git push\"], flags: [force, f]}}\n"
                ),
            ),
            8 => (
                "allow",
                "the team's MCP tools",
                format!(
                    "      principals: [\"agent:team-{k}-*\"]\n      resources: [mcp-{m}]\n      tool: {{names: [\"search_*\", read_file, list_directory]}}\n"
                ),
            ),
            _ => (
                "deny",
                "secret files are off limits",
                format!(
                    "      resources: [mcp-{m}]\n      tool:\n        names: [read_file, write_file]\n        arguments: [{{pointer: /path, matches: [\"*.env\", \"*secret*\", \"/etc/*\"]}}]\n"
                ),
            ),
        };
        let _ = write!(
            out,
            "  - id: rule-{i}\n    effect: {effect}\n    reason: {reason}\n    when:\n{when}"
        );
        match i % 10 {
            2 => {
                let _ = write!(
                    out,
                    "    examples:\n      principal: {{id: \"agent:team-{k}-etl\"}}\n      deny: [\"DROP TABLE orders_{k}\"]\n"
                );
            }
            3 => out.push_str("    approvers: [leads]\n"),
            _ => {}
        }
    }
    out
}
