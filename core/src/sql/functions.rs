//! Functions whose call can change something even inside a plain `SELECT`.
//!
//! A statement that calls one of these functions gets the
//! [`Flag::SideEffectFunction`](super::Flag::SideEffectFunction) flag and is never read-only.
//! The list holds lowercase, unqualified names; a call matches on the last component of its
//! (possibly schema-qualified) name, case-insensitively, so `pg_catalog.PG_SLEEP(1)` matches
//! `pg_sleep`.
//!
//! The list is deliberately broad: a function belongs here when calling it can write data or
//! files, read server files, change server, session or replication state, kill or signal other
//! sessions, take locks that outlive the statement, reach another server, or stall the server
//! (denial of service). Extend it by adding a lowercase name in the right group; keep the
//! names unique (a test checks it).

/// The functions PostgreSQL ships (its `pg_catalog` schema), one per line after `#` comments.
const PG_CATALOG: &str = include_str!("pg_functions.txt");

/// Function-call syntax PostgreSQL handles in its grammar, not in `pg_catalog`, which sqlparser
/// still parses as function calls.
const PG_SYNTAX: &[&str] = &[
    "coalesce",
    "grouping",
    "nullif",
    "greatest",
    "least",
    "trim",
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "current_role",
    "current_catalog",
    "session_user",
    "system_user",
    "user",
    "xmlelement",
    "xmlforest",
    "xmlconcat",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmlexists",
    "json_object",
    "json_array",
    "json_objectagg",
    "json_arrayagg",
    "json_value",
    "json_query",
    "json_exists",
    "json_scalar",
    "json_serialize",
    "json",
    "treat",
    "row",
    "array",
    "any",
    "all",
    "some",
];

/// True when `name` (as writ names functions: lowercase unless quoted, qualified as written)
/// is a function PostgreSQL ships: unqualified or in `pg_catalog`, and in its catalog.
pub fn is_pg_builtin(name: &str) -> bool {
    static NAMES: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        PG_CATALOG
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .chain(PG_SYNTAX.iter().copied())
            .collect()
    });
    let mut parts = name.rsplit('.');
    let last = parts.next().unwrap_or(name);
    match parts.next() {
        Some(schema) if schema != "pg_catalog" => false,
        _ => names.contains(last),
    }
}

/// Functions with side effects, lowercase and unqualified, grouped by database.
pub static SIDE_EFFECT_FUNCTIONS: &[&str] = &[
    // --- PostgreSQL: other sessions and server state -------------------------------------
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_switch_xlog",
    "pg_create_restore_point",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_promote",
    "pg_wal_replay_pause",
    "pg_wal_replay_resume",
    "pg_log_backend_memory_contexts",
    "pg_import_system_collations",
    "pg_stat_reset",
    "pg_stat_reset_shared",
    "pg_stat_reset_single_table_counters",
    "pg_stat_reset_single_function_counters",
    "pg_stat_reset_slru",
    "pg_stat_reset_replication_slot",
    "pg_stat_reset_subscription_stats",
    "pg_stat_statements_reset",
    "pg_notify",
    // --- PostgreSQL: session state ---------------------------------------------------------
    "set_config",
    "txid_current",
    "pg_current_xact_id",
    "pg_export_snapshot",
    // --- PostgreSQL: sequences ---------------------------------------------------------------
    "nextval",
    "setval",
    // --- PostgreSQL: advisory locks ----------------------------------------------------------
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_shared",
    "pg_advisory_unlock_all",
    // --- PostgreSQL: replication -------------------------------------------------------------
    "pg_create_physical_replication_slot",
    "pg_create_logical_replication_slot",
    "pg_drop_replication_slot",
    "pg_copy_physical_replication_slot",
    "pg_copy_logical_replication_slot",
    "pg_replication_slot_advance",
    "pg_logical_slot_get_changes",
    "pg_logical_slot_get_binary_changes",
    "pg_logical_emit_message",
    "pg_replication_origin_create",
    "pg_replication_origin_drop",
    "pg_replication_origin_session_setup",
    "pg_replication_origin_session_reset",
    "pg_replication_origin_xact_setup",
    "pg_replication_origin_xact_reset",
    "pg_replication_origin_advance",
    // --- PostgreSQL: server files and large objects ------------------------------------------
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "pg_file_sync",
    "pg_logdir_ls",
    "lo_import",
    "lo_export",
    "lo_unlink",
    "lo_create",
    "lo_creat",
    "lo_from_bytea",
    "lo_put",
    "lo_truncate",
    "lowrite",
    "lo_open",
    // --- PostgreSQL: other servers (dblink, postgres_fdw) -------------------------------------
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_connect_u",
    "dblink_send_query",
    "dblink_open",
    "postgres_fdw_disconnect",
    "postgres_fdw_disconnect_all",
    // --- PostgreSQL: denial of service -------------------------------------------------------
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    // --- Extensions and user-defined helpers often installed by attackers ---------------------
    "sys_exec",
    "sys_eval",
    // --- MySQL / MariaDB ---------------------------------------------------------------------
    "sleep",
    "benchmark",
    "get_lock",
    "release_lock",
    "release_all_locks",
    "load_file",
    "master_pos_wait",
    "source_pos_wait",
    // --- SQLite ------------------------------------------------------------------------------
    "load_extension",
    "writefile",
    "readfile",
    "edit",
    "fts3_tokenizer",
    // --- Microsoft SQL Server ---------------------------------------------------------------
    "xp_cmdshell",
    "xp_regwrite",
    "xp_regdeletekey",
    "xp_regdeletevalue",
    "xp_dirtree",
    "xp_fileexist",
    "xp_subdirs",
    "sp_configure",
    "sp_executesql",
    "sp_oacreate",
    "sp_oamethod",
    "sp_addlogin",
    "sp_addsrvrolemember",
    "sp_addextendedproc",
    "sp_send_dbmail",
    "openrowset",
    "opendatasource",
    "openquery",
    // --- Snowflake ---------------------------------------------------------------------------
    "system$cancel_query",
    "system$abort_session",
    "system$wait",
];

/// True when `name` (possibly qualified, any case) names a function of
/// [`SIDE_EFFECT_FUNCTIONS`]; only its last `.`-separated component is compared.
pub fn is_side_effect(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name).trim_matches(|c| c == '"' || c == '`');
    SIDE_EFFECT_FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for name in SIDE_EFFECT_FUNCTIONS {
            assert_eq!(*name, name.to_lowercase(), "{name} is not lowercase");
            assert!(!name.contains('.'), "{name} is qualified");
            assert!(seen.insert(*name), "{name} is listed twice");
        }
    }

    #[test]
    fn matches_last_component_case_insensitively() {
        assert!(is_side_effect("pg_sleep"));
        assert!(is_side_effect("PG_CATALOG.PG_SLEEP"));
        assert!(is_side_effect("public.nextval"));
        assert!(!is_side_effect("pg_sleep_x"));
        assert!(!is_side_effect("count"));
        assert!(!is_side_effect("nextval.count"));
    }

    #[test]
    fn postgres_builtins_are_known_and_user_functions_are_not() {
        for f in ["count", "lower", "now", "generate_series", "coalesce", "pg_catalog.lower"] {
            assert!(is_pg_builtin(f), "{f}");
        }
        for f in ["my_func", "public.lower", "Lower", "app.report"] {
            assert!(!is_pg_builtin(f), "{f}");
        }
    }
}
