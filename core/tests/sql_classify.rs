//! Table-driven tests of the SQL classifier across all seven dialects.
//!
//! Each case is `c(dialect, sql, spec)`. A spec lists the expected statements separated by
//! ` | ` (`none` for a text with no statement). Each statement is
//! `<kind> <ro|rw> [r=reads] [w=writes] [f=flags] [n=nested kinds] [fn=functions]`, lists
//! comma-separated. Reads, writes, flags and nested kinds that are left out are asserted
//! empty; functions are only checked when `fn=` is given. The text-level view is checked too:
//! `read_only` is true exactly when there is at least one statement and all are `ro`, and
//! `error` is set exactly when a statement is expected `unparsed`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use writ::sql::{Dialect, SqlView, StatementView, classify};

const PG: Dialect = Dialect::Postgres;
const MY: Dialect = Dialect::Mysql;
const LITE: Dialect = Dialect::Sqlite;
const MS: Dialect = Dialect::Mssql;
const SF: Dialect = Dialect::Snowflake;
const BQ: Dialect = Dialect::Bigquery;
const GEN: Dialect = Dialect::Generic;

/// One case: dialect, SQL text, expected statements.
struct Case(Dialect, &'static str, &'static str);

const fn c(dialect: Dialect, sql: &'static str, spec: &'static str) -> Case {
    Case(dialect, sql, spec)
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    c(PG, r#"SELECT 1"#, "select ro"),
    c(PG, r#"SELECT * FROM users"#, "select ro r=users"),
    c(PG, r#"SeLeCt * FrOm "Users""#, "select ro r=Users"),
    c(PG, r#"SELECT * FROM Public.Users"#, "select ro r=public.users"),
    c(PG, r#"SELECT * FROM "MySchema"."T""#, "select ro r=MySchema.T"),
    c(PG, r#"SELECT 'DROP TABLE x'"#, "select ro"),
    c(PG, r#"SELECT 1 -- ; DROP TABLE t"#, "select ro"),
    c(PG, r#"/* DELETE */ SELECT 1"#, "select ro"),
    c(PG, r#"SELECT E'it\'s; DROP TABLE t'"#, "select ro"),
    c(PG, r#"SELECT $$ ( ; $$"#, "select ro"),
    c(PG, r#"SELECT $tag$ DROP TABLE t; ( $tag$"#, "select ro"),
    c(PG, r#"SELECT $a$ $b$ ; $b$ $a$"#, "select ro"),
    c(PG, r#"SELECT 'a''b; DELETE FROM t'"#, "select ro"),
    c(PG, r#"SELECT "weird;name" FROM t"#, "select ro r=t"),
    c(PG, r#"/* multi /* nested ; DROP TABLE t */ still comment */ SELECT 1"#, "select ro"),
    c(PG, r#"SELECT 1; DROP TABLE t"#, "select ro f=multi_statement | drop rw w=t f=multi_statement"),
    c(PG, r#"SELECT 1;"#, "select ro"),
    // Misses found by the PostgreSQL oracle (e2e/src/bin/pg-oracle.rs): user functions may
    // write, and `SELECT INTO t` with no select list creates a table.
    c(PG, r#"SELECT writ_bump()"#, "select rw f=user_function"),
    c(PG, r#"SELECT check_ddl_rewrite('t', $$ ALTER TABLE t ADD COLUMN c serial $$)"#, "select rw f=user_function"),
    c(PG, r#"select tp_ins_data()"#, "select rw f=user_function"),
    c(PG, r#"SELECT public.lower('A')"#, "select rw f=user_function"),
    c(PG, r#"SELECT "Lower"('A')"#, "select rw f=user_function"),
    c(PG, r#"SELECT pg_catalog.lower('A'), coalesce(a, 1), count(*) FROM t"#, "select ro r=t"),
    c(PG, r#"SELECT x FROM t, generate_series(1, 3) g"#, "select ro r=t"),
    c(PG, r#"SELECT INTO tableam_copy FROM tableam_tbl"#, "select rw r=tableam_tbl f=select_into"),
    c(PG, r#"SELECT "into" FROM t"#, "select ro r=t"),
    c(PG, r#";;SELECT 1;;"#, "select ro"),
    c(PG, r#""#, "none"),
    c(PG, r#"-- only a comment"#, "none"),
    c(PG, r#"/* c */ ;"#, "none"),
    c(PG, r#"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"#, "select rw w=t f=data_modifying_cte,no_where n=delete"),
    c(PG, r#"WITH d AS (UPDATE t SET a = 1 WHERE id = 2 RETURNING *) SELECT * FROM d"#, "select rw w=t f=data_modifying_cte n=update"),
    c(PG, r#"WITH i AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM i"#, "select rw w=t f=data_modifying_cte n=insert"),
    c(PG, r#"WITH x AS (SELECT * FROM a) SELECT * FROM x JOIN b ON x.id = b.id"#, "select ro r=a,b"),
    c(PG, r#"WITH t AS (SELECT * FROM t) SELECT * FROM t"#, "select ro r=t"),
    c(PG, r#"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r"#, "select ro"),
    c(PG, r#"WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b"#, "select ro"),
    c(PG, r#"WITH b AS (SELECT * FROM a), a AS (SELECT 1) SELECT * FROM b"#, "select ro r=a"),
    c(PG, r#"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"#, "insert rw w=t"),
    c(PG, r#"WITH x AS (SELECT id FROM s) DELETE FROM t WHERE id IN (SELECT id FROM x)"#, "delete rw r=s w=t"),
    c(PG, r#"WITH x AS (SELECT 1) SELECT * FROM (WITH y AS (SELECT 2) SELECT * FROM y, x) z"#, "select ro"),
    c(PG, r#"SELECT * FROM x"#, "select ro r=x"),
    c(PG, r#"SELECT * FROM (SELECT * FROM a) sub"#, "select ro r=a"),
    c(PG, r#"SELECT * FROM a WHERE id IN (SELECT a_id FROM b)"#, "select ro r=a,b"),
    c(PG, r#"SELECT (SELECT max(x) FROM b) FROM a"#, "select ro r=a,b fn=max"),
    c(PG, r#"SELECT a.id FROM a GROUP BY a.id HAVING count(*) > (SELECT count(*) FROM c)"#, "select ro r=a,c fn=count"),
    c(PG, r#"SELECT * FROM a JOIN b ON a.id = b.id LEFT JOIN c ON c.id = (SELECT min(id) FROM d)"#, "select ro r=a,b,c,d fn=min"),
    c(PG, r#"SELECT * FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.id = a.id)"#, "select ro r=a,b"),
    c(PG, r#"SELECT * FROM generate_series(1, 10) g"#, "select ro fn=generate_series"),
    c(PG, r#"SELECT * FROM unnest(ARRAY[1, 2]) u"#, "select ro fn=unnest"),
    c(PG, r#"SELECT * FROM json_to_recordset('[]') AS x(a int)"#, "select ro fn=json_to_recordset"),
    c(PG, r#"SELECT * FROM t, LATERAL generate_series(1, t.n) g"#, "select ro r=t fn=generate_series"),
    c(PG, r#"SELECT * FROM generate_series(1, (SELECT max(n) FROM t)) g"#, "select ro r=t fn=generate_series,max"),
    c(PG, r#"SELECT * FROM ONLY t"#, "select ro r=t"),
    c(PG, r#"SELECT * FROM ONLY t JOIN u ON true"#, "select ro r=t,u"),
    c(PG, r#"SELECT * FROM "only" o"#, "select ro r=only"),
    c(PG, r#"UPDATE ONLY t SET a = 1 WHERE id = 2"#, "update rw w=t"),
    c(PG, r#"DELETE FROM ONLY t WHERE id = 1"#, "delete rw w=t"),
    c(PG, r#"UPDATE t SET a = u.a FROM u WHERE t.id = u.id"#, "update rw r=u w=t"),
    c(PG, r#"DELETE FROM t USING u WHERE t.id = u.id"#, "delete rw r=u w=t"),
    c(PG, r#"UPDATE t SET a = 1"#, "update rw w=t f=no_where"),
    c(PG, r#"DELETE FROM t"#, "delete rw w=t f=no_where"),
    c(PG, r#"UPDATE t SET a = (SELECT max(b) FROM s) WHERE id IN (SELECT id FROM q)"#, "update rw r=q,s w=t fn=max"),
    c(PG, r#"DELETE FROM t WHERE id = 1 RETURNING (SELECT count(*) FROM s)"#, "delete rw r=s w=t fn=count"),
    c(PG, r#"INSERT INTO t (a) VALUES (1)"#, "insert rw w=t"),
    c(PG, r#"INSERT INTO t SELECT * FROM s WHERE s.x > 1"#, "insert rw r=s w=t"),
    c(PG, r#"INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = excluded.a"#, "insert rw w=t"),
    c(PG, r#"INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING"#, "insert rw w=t"),
    c(PG, r#"INSERT INTO public.t DEFAULT VALUES"#, "insert rw w=public.t"),
    c(PG, r#"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a WHEN NOT MATCHED THEN INSERT (id, a) VALUES (s.id, s.a)"#, "merge rw r=s w=t"),
    c(PG, r#"EXPLAIN SELECT * FROM t"#, "explain ro r=t"),
    c(PG, r#"EXPLAIN DELETE FROM t WHERE id = 1"#, "explain ro r=t"),
    c(PG, r#"EXPLAIN DROP TABLE t"#, "explain ro r=t"),
    c(PG, r#"EXPLAIN ANALYZE DELETE FROM t WHERE id = 1"#, "explain rw w=t f=explain_analyze n=delete"),
    c(PG, r#"EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1 WHERE id = 1"#, "explain rw w=t f=explain_analyze n=update"),
    c(PG, r#"EXPLAIN (ANALYZE false) DELETE FROM t WHERE id = 1"#, "explain ro r=t"),
    c(PG, r#"EXPLAIN ANALYZE SELECT * FROM t"#, "explain ro r=t f=explain_analyze n=select"),
    c(PG, r#"EXPLAIN SELECT nextval('s')"#, "explain rw f=side_effect_function fn=nextval"),
    c(PG, r#"SELECT * INTO newt FROM t"#, "select rw r=t w=newt f=select_into"),
    c(PG, r#"SELECT * INTO TEMP newt FROM t"#, "select rw r=t w=newt f=select_into"),
    c(PG, r#"CREATE TABLE t2 AS SELECT * FROM t"#, "create rw r=t w=t2"),
    c(PG, r#"CREATE TABLE t (id int PRIMARY KEY, name text)"#, "create rw w=t"),
    c(PG, r#"CREATE TABLE t (id int DEFAULT nextval('s'))"#, "create rw w=t f=side_effect_function fn=nextval"),
    c(PG, r#"CREATE INDEX i ON t (a)"#, "create rw w=i,t"),
    c(PG, r#"CREATE VIEW v AS SELECT * FROM t"#, "create rw r=t w=v"),
    c(PG, r#"CREATE MATERIALIZED VIEW mv AS SELECT * FROM t"#, "create rw r=t w=mv"),
    c(PG, r#"ALTER TABLE t ADD COLUMN c int"#, "alter rw w=t"),
    c(PG, r#"ALTER TABLE ONLY t DROP COLUMN c"#, "alter rw w=t"),
    c(PG, r#"DROP TABLE a, b"#, "drop rw w=a,b"),
    c(PG, r#"DROP TABLE IF EXISTS public.a CASCADE"#, "drop rw w=public.a"),
    c(PG, r#"DROP INDEX i"#, "drop rw w=i"),
    c(PG, r#"DROP FUNCTION f(int)"#, "drop rw w=f"),
    c(PG, r#"TRUNCATE a, b"#, "truncate rw w=a,b"),
    c(PG, r#"TRUNCATE TABLE ONLY t"#, "truncate rw w=t"),
    c(PG, r#"GRANT SELECT ON t TO bob"#, "grant rw w=t"),
    c(PG, r#"GRANT SELECT ON ALL TABLES IN SCHEMA s TO bob"#, "grant rw w=s"),
    c(PG, r#"REVOKE ALL ON t FROM bob"#, "revoke rw w=t"),
    c(PG, r#"GRANT admin TO bob"#, "grant rw f=unparsed"),
    c(PG, r#"COMMENT ON TABLE t IS 'x'"#, "comment rw w=t"),
    c(PG, r#"LOCK TABLE t IN ACCESS EXCLUSIVE MODE"#, "lock rw w=t"),
    c(PG, r#"VACUUM t"#, "vacuum rw w=t"),
    c(PG, r#"VACUUM ANALYZE t"#, "vacuum rw f=unparsed"),
    c(PG, r#"ANALYZE t"#, "vacuum rw w=t"),
    c(PG, r#"REINDEX TABLE t"#, "vacuum rw f=unparsed"),
    c(PG, r#"CLUSTER t"#, "vacuum rw f=unparsed"),
    c(PG, r#"CHECKPOINT"#, "vacuum rw f=unparsed"),
    c(PG, r#"REFRESH MATERIALIZED VIEW mv"#, "refresh rw f=unparsed"),
    c(PG, r#"DO $$ BEGIN DELETE FROM t; END $$"#, "do rw f=dynamic_sql,unparsed"),
    c(PG, r#"DO LANGUAGE plpgsql $x$ BEGIN PERFORM 1; END $x$"#, "do rw f=dynamic_sql,unparsed"),
    c(PG, r#"ALTER SYSTEM SET work_mem = '1GB'"#, "alter rw f=unparsed"),
    c(PG, r#"CALL p(1)"#, "call rw f=dynamic_sql,user_function fn=p"),
    c(PG, r#"PREPARE p AS DELETE FROM t WHERE id = $1"#, "prepare rw w=t n=delete"),
    c(PG, r#"PREPARE q AS SELECT * FROM t"#, "prepare rw r=t n=select"),
    c(PG, r#"EXECUTE p(1)"#, "execute rw f=dynamic_sql"),
    c(PG, r#"DEALLOCATE p"#, "other rw"),
    c(PG, r#"SET ROLE admin"#, "set rw f=changes_identity"),
    c(PG, r#"SET SESSION AUTHORIZATION bob"#, "set rw f=changes_identity"),
    c(PG, r#"RESET ROLE"#, "set rw f=changes_identity"),
    c(PG, r#"RESET SESSION AUTHORIZATION"#, "set rw f=changes_identity"),
    c(PG, r#"SET role = 'admin'"#, "set rw f=changes_identity"),
    c(PG, r#"RESET ALL"#, "set rw f=changes_identity"),
    c(PG, r#"SET search_path = public"#, "set rw"),
    c(PG, r#"SET statement_timeout = 0"#, "set rw"),
    c(PG, r#"SET LOCAL work_mem = '64MB'"#, "set rw"),
    c(PG, r#"RESET search_path"#, "set rw"),
    c(PG, r#"SET TRANSACTION READ ONLY"#, "transaction ro"),
    c(PG, r#"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"#, "transaction ro"),
    c(PG, r#"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"#, "set rw"),
    c(PG, r#"SHOW search_path"#, "show ro"),
    c(PG, r#"BEGIN"#, "transaction ro"),
    c(PG, r#"COMMIT"#, "transaction ro"),
    c(PG, r#"ROLLBACK"#, "transaction ro"),
    c(PG, r#"START TRANSACTION READ ONLY"#, "transaction ro"),
    c(PG, r#"SAVEPOINT s"#, "transaction ro"),
    c(PG, r#"RELEASE SAVEPOINT s"#, "transaction ro"),
    c(PG, r#"ROLLBACK TO SAVEPOINT s"#, "transaction ro"),
    c(PG, r#"BEGIN; DELETE FROM t; COMMIT"#, "transaction ro f=multi_statement | delete rw w=t f=multi_statement,no_where | transaction ro f=multi_statement"),
    c(PG, r#"SELECT * FROM t FOR UPDATE"#, "select rw r=t f=locking_clause"),
    c(PG, r#"SELECT * FROM t FOR SHARE SKIP LOCKED"#, "select rw r=t f=locking_clause"),
    c(PG, r#"SELECT * FROM t FOR NO KEY UPDATE"#, "select rw f=locking_clause,unparsed"),
    c(PG, r#"SELECT * FROM (SELECT * FROM t FOR UPDATE) s"#, "select rw r=t f=locking_clause"),
    c(PG, r#"SELECT pg_terminate_backend(1)"#, "select rw f=side_effect_function fn=pg_terminate_backend"),
    c(PG, r#"SELECT nextval('s')"#, "select rw f=side_effect_function fn=nextval"),
    c(PG, r#"SELECT pg_catalog.set_config('role', 'admin', false)"#, "select rw f=side_effect_function fn=pg_catalog.set_config"),
    c(PG, r#"SELECT * FROM t WHERE id = (SELECT pg_sleep(10))"#, "select rw r=t f=side_effect_function fn=pg_sleep"),
    c(PG, r#"SELECT * FROM dblink('dbname=x', 'DELETE FROM t') AS r(a int)"#, "select rw f=side_effect_function fn=dblink"),
    c(PG, r#"SELECT lo_import('/etc/passwd')"#, "select rw f=side_effect_function fn=lo_import"),
    c(PG, r#"SELECT PG_READ_FILE('/etc/passwd')"#, "select rw f=side_effect_function fn=pg_read_file"),
    c(PG, r#"SELECT pg_advisory_lock(1)"#, "select rw f=side_effect_function fn=pg_advisory_lock"),
    c(PG, r#"SELECT count(*), lower(name) FROM t"#, "select ro r=t fn=count,lower"),
    c(PG, r#"SELECT PUBLIC.MyFunc(1)"#, "select rw f=user_function fn=public.myfunc"),
    c(PG, r#"SELECT now()"#, "select ro fn=now"),
    c(PG, r#"COPY t TO STDOUT"#, "copy ro r=t"),
    c(PG, r#"COPY t (a, b) TO STDOUT WITH (FORMAT csv)"#, "copy ro r=t"),
    c(PG, r#"COPY t FROM STDIN"#, "copy rw w=t"),
    c(PG, r#"COPY t TO '/tmp/t.csv'"#, "copy rw r=t f=server_file"),
    c(PG, r#"COPY t FROM '/tmp/t.csv'"#, "copy rw w=t f=server_file"),
    c(PG, r#"COPY t TO PROGRAM 'curl x'"#, "copy rw r=t f=copy_program"),
    c(PG, r#"COPY t FROM PROGRAM 'ls'"#, "copy rw w=t f=copy_program"),
    c(PG, r#"COPY (SELECT * FROM t) TO STDOUT"#, "copy ro r=t"),
    c(PG, r#"COPY (DELETE FROM t RETURNING *) TO STDOUT"#, "copy rw w=t f=no_where n=delete"),
    c(PG, r#"VALUES (1), (2)"#, "select ro"),
    c(PG, r#"TABLE t"#, "select rw f=unparsed"),
    c(PG, r#"SELECT * FROM a UNION SELECT * FROM b"#, "select ro r=a,b"),
    c(PG, r#"SELECT * FROM a EXCEPT SELECT * FROM b INTERSECT SELECT * FROM c"#, "select ro r=a,b,c"),
    c(PG, r#"SELECT * FROM t1 NATURAL JOIN t2"#, "select ro r=t1,t2"),
    c(PG, r#"SELECT * FROM t WHERE a = ANY(SELECT b FROM u)"#, "select ro r=t,u"),
    c(PG, r#"LISTEN ch"#, "other rw"),
    c(PG, r#"NOTIFY ch"#, "other rw"),
    c(PG, r#"DISCARD ALL"#, "set rw"),
    c(PG, r#"SELECT 'abc"#, "unknown rw f=unparsed"),
    c(PG, r#"xyzzy plugh"#, "unknown rw f=unparsed"),
    c(PG, r#"DROP TABLE t; SELEC 1"#, "drop rw w=t f=multi_statement | unknown rw f=multi_statement,unparsed"),
    c(PG, r#"SELECT 1; VACUUM ANALYZE t; SELECT 2"#, "select ro f=multi_statement | vacuum rw f=multi_statement,unparsed | select ro f=multi_statement"),
    c(PG, r#"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x SEARCH DEPTH FIRST BY a SET s"#, "unknown rw f=unparsed"),
    c(PG, r#"CREATE FUNCTION f() RETURNS int AS $$ DELETE FROM t; SELECT 1 $$ LANGUAGE sql"#, "create rw w=f"),
    c(PG, r#"CREATE SCHEMA s"#, "create rw w=s"),
    c(PG, r#"CREATE SEQUENCE s"#, "create rw w=s"),
    c(PG, r#"CREATE ROLE bob"#, "create rw w=bob"),
    c(PG, r#"DROP ROLE bob"#, "drop rw w=bob"),
    c(PG, r#"CREATE EXTENSION dblink"#, "create rw w=dblink"),
    c(PG, r#"/*!50001 DROP TABLE t */ SELECT 1"#, "drop rw f=executable_comment,unparsed"),
    c(PG, r#"SELECT 1 /*! ; DROP TABLE t */"#, "select ro f=executable_comment,multi_statement | drop rw w=t f=executable_comment,multi_statement"),
    c(PG, r#"SELECT 'a\';DROP TABLE t'"#, "unknown rw f=unparsed"),
    c(MY, r#"SELECT 'a\';DROP TABLE t'"#, "select ro"),
    c(MY, r#"SELECT * FROM `Users`"#, "select ro r=Users"),
    c(MY, r#"SELECT * FROM Db.T"#, "select ro r=db.t"),
    c(MY, r#"SELECT 1 --1; DROP TABLE t"#, "select ro f=multi_statement | drop rw w=t f=multi_statement"),
    c(MY, r#"SELECT 1 -- x; DROP TABLE t"#, "select ro"),
    c(MY, r#"SELECT 1 # ; DROP TABLE t"#, "select ro"),
    c(MY, r#"/*!50001 DROP TABLE t */"#, "drop rw w=t f=executable_comment"),
    c(MY, r#"/*!DROP TABLE t*/"#, "drop rw w=t f=executable_comment"),
    c(MY, r#"/*M!100100 DROP TABLE t */"#, "drop rw w=t f=executable_comment"),
    c(MY, r#"SELECT 1 /*!, SLEEP(10) */"#, "select rw f=executable_comment,side_effect_function fn=sleep"),
    c(MY, r#"/*!40101 SET NAMES utf8 */"#, "set rw f=executable_comment"),
    c(MY, r#"SELECT '/*!50001 DROP TABLE t */'"#, "select ro"),
    c(MY, r#"SELECT * FROM t INTO OUTFILE '/tmp/x'"#, "select rw f=into_outfile,unparsed"),
    c(MY, r#"SELECT * FROM t INTO DUMPFILE '/tmp/x'"#, "select rw f=into_outfile,unparsed"),
    c(MY, r#"LOAD DATA INFILE 'x' INTO TABLE t"#, "copy rw f=unparsed"),
    c(MY, r#"LOAD DATA LOCAL INFILE 'x' INTO TABLE t"#, "copy rw f=unparsed"),
    c(MY, r#"REPLACE INTO t VALUES (1)"#, "insert rw w=t"),
    c(MY, r#"INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 2"#, "insert rw w=t"),
    c(MY, r#"INSERT IGNORE INTO t SELECT * FROM s"#, "insert rw r=s w=t"),
    c(MY, r#"UPDATE t SET a = 1 WHERE id = 1 LIMIT 1"#, "update rw w=t"),
    c(MY, r#"UPDATE t SET a = 1 ORDER BY id LIMIT 5"#, "update rw w=t f=no_where"),
    c(MY, r#"DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id WHERE t2.x = 1"#, "delete rw r=t1,t2 w=t1"),
    c(MY, r#"DELETE a FROM t1 AS a JOIN t2 AS b ON a.id = b.id WHERE b.x = 1"#, "delete rw r=t1,t2 w=t1"),
    c(MY, r#"SELECT SLEEP(5)"#, "select rw f=side_effect_function fn=sleep"),
    c(MY, r#"SELECT BENCHMARK(1000000, MD5('x'))"#, "select rw f=side_effect_function fn=benchmark,md5"),
    c(MY, r#"SELECT GET_LOCK('x', 10)"#, "select rw f=side_effect_function fn=get_lock"),
    c(MY, r#"SELECT LOAD_FILE('/etc/passwd')"#, "select rw f=side_effect_function fn=load_file"),
    c(MY, r#"LOCK TABLES t WRITE"#, "lock rw w=t"),
    c(MY, r#"UNLOCK TABLES"#, "lock rw"),
    c(MY, r#"USE db"#, "set rw"),
    c(MY, r#"SHOW TABLES"#, "show ro"),
    c(MY, r#"DESCRIBE t"#, "show ro r=t"),
    c(MY, r#"SET NAMES utf8mb4"#, "set rw"),
    c(MY, r#"SET autocommit = 0"#, "set rw"),
    c(MY, r#"START TRANSACTION"#, "transaction ro"),
    c(MY, r#"SELECT * FROM t FOR UPDATE"#, "select rw r=t f=locking_clause"),
    c(MY, r#"SELECT * FROM t LOCK IN SHARE MODE"#, "select rw f=locking_clause,unparsed"),
    c(MY, r#"CALL p()"#, "call rw f=dynamic_sql fn=p"),
    c(MY, r#"EXPLAIN ANALYZE SELECT * FROM t"#, "explain ro r=t f=explain_analyze n=select"),
    c(MY, r#"EXPLAIN SELECT * FROM t WHERE id = 1"#, "explain ro r=t"),
    c(MY, r#"TRUNCATE TABLE t"#, "truncate rw w=t"),
    c(MY, r#"CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY)"#, "create rw w=t"),
    c(MY, r#"ALTER TABLE t ADD INDEX (a)"#, "alter rw w=t"),
    c(MY, r#"DROP DATABASE d"#, "drop rw w=d"),
    c(MY, r#"SELECT * FROM a JOIN (SELECT * FROM b) x ON a.id = x.id"#, "select ro r=a,b"),
    c(MY, r#"SELECT 1; SELECT 2"#, "select ro f=multi_statement | select ro f=multi_statement"),
    c(LITE, r#"SELECT * FROM t"#, "select ro r=t"),
    c(LITE, r#"SELECT * FROM "T""#, "select ro r=T"),
    c(LITE, r#"PRAGMA table_info('t')"#, "pragma ro"),
    c(LITE, r#"PRAGMA user_version"#, "pragma ro"),
    c(LITE, r#"PRAGMA main.user_version"#, "pragma ro"),
    c(LITE, r#"PRAGMA user_version = 3"#, "pragma rw"),
    c(LITE, r#"PRAGMA foreign_keys = ON"#, "pragma rw f=unparsed"),
    c(LITE, r#"PRAGMA table_info(t)"#, "pragma rw f=unparsed"),
    c(LITE, r#"PRAGMA wal_checkpoint"#, "pragma rw"),
    c(LITE, r#"PRAGMA optimize"#, "pragma rw"),
    c(LITE, r#"PRAGMA integrity_check"#, "pragma ro"),
    c(LITE, r#"ATTACH DATABASE 'x.db' AS x"#, "attach rw"),
    c(LITE, r#"DETACH DATABASE x"#, "attach rw f=unparsed"),
    c(LITE, r#"REPLACE INTO t VALUES (1)"#, "insert rw w=t"),
    c(LITE, r#"INSERT OR REPLACE INTO t VALUES (1)"#, "insert rw w=t"),
    c(LITE, r#"INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2"#, "insert rw w=t"),
    c(LITE, r#"SELECT load_extension('x')"#, "select rw f=side_effect_function fn=load_extension"),
    c(LITE, r#"SELECT writefile('/tmp/x', 'y')"#, "select rw f=side_effect_function fn=writefile"),
    c(LITE, r#"VACUUM"#, "vacuum rw"),
    c(LITE, r#"CREATE TABLE t (id INTEGER PRIMARY KEY) WITHOUT ROWID"#, "create rw w=t"),
    c(LITE, r#"CREATE VIRTUAL TABLE ft USING fts5(body)"#, "create rw w=ft"),
    c(LITE, r#"CREATE TEMP TABLE t AS SELECT * FROM s"#, "create rw r=s w=t"),
    c(LITE, r#"DELETE FROM t WHERE rowid = 1"#, "delete rw w=t"),
    c(LITE, r#"UPDATE t SET a = 1 WHERE id IN (SELECT id FROM u)"#, "update rw r=u w=t"),
    c(LITE, r#"DROP TABLE IF EXISTS t"#, "drop rw w=t"),
    c(LITE, r#"BEGIN IMMEDIATE"#, "transaction ro"),
    c(LITE, r#"SELECT * FROM t WHERE a GLOB 'x*'"#, "select ro r=t"),
    c(LITE, r#"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3) SELECT x FROM c"#, "select ro"),
    c(LITE, r#"SELECT 1; ATTACH 'evil.db' AS e"#, "select ro f=multi_statement | attach rw f=multi_statement"),
    c(MS, r#"SELECT TOP 10 * FROM dbo.Users"#, "select ro r=dbo.users"),
    c(MS, r#"SELECT * FROM [dbo].[Users]"#, "select ro r=dbo.Users"),
    c(MS, r#"EXEC sp_who"#, "execute rw f=dynamic_sql fn=sp_who"),
    c(MS, r#"EXECUTE xp_cmdshell 'dir'"#, "execute rw f=dynamic_sql,side_effect_function fn=xp_cmdshell"),
    c(MS, r#"EXEC sp_configure 'show advanced options', 1"#, "execute rw f=dynamic_sql,side_effect_function fn=sp_configure"),
    c(MS, r#"EXEC master.dbo.xp_cmdshell 'dir'"#, "execute rw f=dynamic_sql,side_effect_function fn=master.dbo.xp_cmdshell"),
    c(MS, r#"EXECUTE AS USER = 'bob'"#, "execute rw f=changes_identity,dynamic_sql"),
    c(MS, r#"SELECT * INTO #tmp FROM t"#, "select rw r=t w=#tmp f=select_into"),
    c(MS, r#"SELECT * FROM t WITH (UPDLOCK) WHERE id = 1"#, "select rw r=t f=locking_clause"),
    c(MS, r#"SELECT * FROM t WITH (NOLOCK)"#, "select ro r=t"),
    c(MS, r#"UPDATE t SET a = 1 OUTPUT inserted.a WHERE id = 1"#, "update rw w=t"),
    c(MS, r#"DELETE FROM t WHERE id = 1"#, "delete rw w=t"),
    c(MS, r#"DELETE TOP (10) FROM t"#, "delete rw f=unparsed"),
    c(MS, r#"INSERT INTO t (a) VALUES (1)"#, "insert rw w=t"),
    c(MS, r#"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE;"#, "merge rw r=s w=t"),
    c(MS, r#"TRUNCATE TABLE t"#, "truncate rw w=t"),
    c(MS, r#"SELECT * FROM OPENROWSET('SQLNCLI', 'x', 'SELECT 1') AS r"#, "select rw f=side_effect_function fn=openrowset"),
    c(MS, r#"BEGIN TRANSACTION"#, "transaction ro"),
    c(MS, r#"COMMIT"#, "transaction ro"),
    c(MS, r#"DROP TABLE dbo.t"#, "drop rw w=dbo.t"),
    c(MS, r#"CREATE TABLE t (id INT)"#, "create rw w=t"),
    c(MS, r#"GRANT SELECT ON t TO bob"#, "grant rw w=t"),
    c(MS, r#"DENY SELECT ON t TO bob"#, "revoke rw w=t"),
    c(MS, r#"SELECT 1; SELECT 2"#, "select ro f=multi_statement | select ro f=multi_statement"),
    c(MS, r#"SET NOCOUNT ON"#, "set rw"),
    c(MS, r#"SELECT 'x' -- ; DROP TABLE t"#, "select ro"),
    c(MS, r#"SELECT * FROM t WHERE name = N'O''Brien; DROP TABLE x'"#, "select ro r=t"),
    c(MS, r#"SELECT * FROM [select]"#, "select ro r=select"),
    c(SF, r#"SELECT * FROM db.sch.t"#, "select ro r=db.sch.t"),
    c(SF, r#"COPY INTO t FROM @stage"#, "copy rw r=@stage w=t"),
    c(SF, r#"USE WAREHOUSE wh"#, "set rw"),
    c(SF, r#"ALTER SESSION SET QUERY_TAG = 'x'"#, "alter rw"),
    c(SF, r#"SHOW TABLES"#, "show ro"),
    c(SF, r#"CREATE OR REPLACE TABLE t AS SELECT * FROM s"#, "create rw r=s w=t"),
    c(SF, r#"INSERT INTO t SELECT * FROM s"#, "insert rw r=s w=t"),
    c(SF, r#"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.a = s.a"#, "merge rw r=s w=t"),
    c(SF, r#"DELETE FROM t USING s WHERE t.id = s.id"#, "delete rw r=s w=t"),
    c(SF, r#"UNDROP TABLE t"#, "unknown rw f=unparsed"),
    c(SF, r#"SET v = 1"#, "set rw"),
    c(SF, r#"SELECT 1; DROP TABLE t"#, "select ro f=multi_statement | drop rw w=t f=multi_statement"),
    c(SF, r#"SELECT * FROM "Db"."Sch"."T""#, "select ro r=Db.Sch.T"),
    c(SF, r#"SELECT * FROM t QUALIFY row_number() OVER (ORDER BY a) = 1"#, "select ro r=t fn=row_number"),
    c(SF, r#"TRUNCATE TABLE t"#, "truncate rw w=t"),
    c(SF, r#"GRANT SELECT ON TABLE t TO ROLE r"#, "grant rw w=t"),
    c(SF, r#"CREATE VIEW v AS SELECT a FROM t"#, "create rw r=t w=v"),
    c(BQ, r#"SELECT * FROM `proj.ds.t`"#, "select ro r=proj.ds.t"),
    c(BQ, r#"SELECT * FROM ds.t WHERE x IN UNNEST([1, 2])"#, "select ro r=ds.t"),
    c(BQ, r#"SELECT * FROM UNNEST([1, 2]) AS x"#, "select ro fn=unnest"),
    c(BQ, r#"INSERT INTO ds.t (a) VALUES (1)"#, "insert rw w=ds.t"),
    c(BQ, r#"DELETE FROM ds.t WHERE true"#, "delete rw w=ds.t"),
    c(BQ, r#"DELETE ds.t WHERE a = 1"#, "delete rw w=ds.t"),
    c(BQ, r#"UPDATE ds.t SET a = 1 WHERE true"#, "update rw w=ds.t"),
    c(BQ, r#"CREATE TABLE ds.t2 AS SELECT * FROM ds.t"#, "create rw r=ds.t w=ds.t2"),
    c(BQ, r#"MERGE ds.t T USING ds.s S ON T.id = S.id WHEN NOT MATCHED THEN INSERT ROW"#, "merge rw r=ds.s w=ds.t"),
    c(BQ, r#"EXPORT DATA OPTIONS(uri='gs://x/*.csv', format='CSV') AS SELECT * FROM ds.t"#, "copy rw r=ds.t"),
    c(BQ, r#"DROP TABLE ds.t"#, "drop rw w=ds.t"),
    c(BQ, r#"TRUNCATE TABLE ds.t"#, "truncate rw w=ds.t"),
    c(BQ, r#"SELECT 1 # ; DROP TABLE t"#, "select ro"),
    c(BQ, r#"WITH x AS (SELECT * FROM ds.a) SELECT * FROM x"#, "select ro r=ds.a"),
    c(BQ, r#"SELECT COUNT(*) FROM ds.t GROUP BY a"#, "select ro r=ds.t fn=count"),
    c(BQ, r#"SELECT 1; DELETE FROM ds.t WHERE true"#, "select ro f=multi_statement | delete rw w=ds.t f=multi_statement"),
    c(GEN, r#"SELECT * FROM t1 JOIN t2 ON t1.a = t2.a"#, "select ro r=t1,t2"),
    c(GEN, r#"/*! DROP TABLE t */"#, "drop rw w=t f=executable_comment"),
    c(GEN, r#"INSERT INTO t VALUES (1)"#, "insert rw w=t"),
    c(GEN, r#"SELECT * FROM t FOR UPDATE"#, "select rw r=t f=locking_clause"),
    c(GEN, r#"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"#, "select rw w=t f=data_modifying_cte,no_where n=delete"),
    c(GEN, r#"EXPLAIN ANALYZE UPDATE t SET a = 1"#, "explain rw w=t f=explain_analyze,no_where n=update"),
    c(GEN, r#"DROP VIEW v"#, "drop rw w=v"),
    c(GEN, r#"CREATE TABLE t (a INT)"#, "create rw w=t"),
    c(GEN, r#"SELECT pg_sleep(1)"#, "select rw f=side_effect_function fn=pg_sleep"),
    c(GEN, r#"ALTER TABLE t RENAME TO u"#, "alter rw w=t"),
    c(GEN, r#"garbage here"#, "unknown rw f=unparsed"),
    c(GEN, r#"SELECT 1; SELECT 2; SELECT 3"#, "select ro f=multi_statement | select ro f=multi_statement | select ro f=multi_statement"),
    c(GEN, r#"SHOW TABLES"#, "show ro"),
    c(GEN, r#"CALL p()"#, "call rw f=dynamic_sql fn=p"),
    c(GEN, r#"SELECT * FROM a WHERE a.x IN (SELECT x FROM b UNION SELECT x FROM c)"#, "select ro r=a,b,c"),
    c(GEN, r#"UPDATE t SET a = 1 WHERE id = 1; SELECT * FROM t"#, "update rw w=t f=multi_statement | select ro r=t f=multi_statement"),
];

/// One expected statement, parsed from a spec.
#[derive(Debug, Default)]
struct Expected {
    kind: String,
    read_only: bool,
    reads: Vec<String>,
    writes: Vec<String>,
    flags: Vec<String>,
    nested: Vec<String>,
    functions: Option<Vec<String>>,
}

fn list(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect();
    v.sort();
    v
}

fn parse_spec(spec: &str) -> Result<Vec<Expected>, String> {
    if spec.trim() == "none" {
        return Ok(Vec::new());
    }
    spec.split(" | ")
        .map(|one| {
            let mut words = one.split_whitespace();
            let mut e = Expected {
                kind: words.next().ok_or("empty statement spec")?.to_owned(),
                ..Expected::default()
            };
            e.read_only = match words.next() {
                Some("ro") => true,
                Some("rw") => false,
                other => return Err(format!("expected ro or rw, found {other:?}")),
            };
            for w in words {
                match w.split_once('=') {
                    Some(("r", v)) => e.reads = list(v),
                    Some(("w", v)) => e.writes = list(v),
                    Some(("f", v)) => e.flags = list(v),
                    Some(("n", v)) => e.nested = list(v),
                    Some(("fn", v)) => e.functions = Some(list(v)),
                    _ => return Err(format!("bad spec item {w}")),
                }
            }
            Ok(e)
        })
        .collect()
}

fn sorted_unique(v: &[String]) -> bool {
    v.windows(2).all(|p| matches!(p, [a, b] if a < b))
}

/// Differences between a statement and its expectation, empty when they match.
fn compare(actual: &StatementView, e: &Expected) -> Vec<String> {
    let mut diffs = Vec::new();
    let flags: Vec<String> = actual.flags.iter().map(|f| f.as_str().to_owned()).collect();
    let nested: Vec<String> = actual.nested_kinds.iter().map(|k| k.as_str().to_owned()).collect();
    let mut sorted_flags = flags.clone();
    sorted_flags.sort();
    let mut sorted_nested = nested.clone();
    sorted_nested.sort();
    if actual.kind.as_str() != e.kind {
        diffs.push(format!("kind {} != {}", actual.kind, e.kind));
    }
    if actual.read_only != e.read_only {
        diffs.push(format!("read_only {} != {}", actual.read_only, e.read_only));
    }
    if actual.reads != e.reads {
        diffs.push(format!("reads {:?} != {:?}", actual.reads, e.reads));
    }
    if actual.writes != e.writes {
        diffs.push(format!("writes {:?} != {:?}", actual.writes, e.writes));
    }
    if sorted_flags != e.flags {
        diffs.push(format!("flags {flags:?} != {:?}", e.flags));
    }
    if sorted_nested != e.nested {
        diffs.push(format!("nested {nested:?} != {:?}", e.nested));
    }
    if let Some(f) = &e.functions
        && &actual.functions != f
    {
        diffs.push(format!("functions {:?} != {f:?}", actual.functions));
    }
    for (name, v) in
        [("reads", &actual.reads), ("writes", &actual.writes), ("functions", &actual.functions)]
    {
        if !sorted_unique(v) {
            diffs.push(format!("{name} not sorted and deduplicated: {v:?}"));
        }
    }
    if !actual.flags.windows(2).all(|p| matches!(p, [a, b] if a < b)) {
        diffs.push(format!("flags not sorted and deduplicated: {flags:?}"));
    }
    if !actual.nested_kinds.windows(2).all(|p| matches!(p, [a, b] if a < b)) {
        diffs.push(format!("nested kinds not sorted and deduplicated: {nested:?}"));
    }
    diffs
}

fn check(case: &Case) -> Vec<String> {
    let Case(dialect, sql, spec) = case;
    let expected = match parse_spec(spec) {
        Ok(e) => e,
        Err(e) => return vec![format!("bad spec {spec:?}: {e}")],
    };
    let view: SqlView = classify(sql, *dialect);
    let mut diffs = Vec::new();
    if view.statements.len() != expected.len() {
        diffs.push(format!("{} statements, expected {}", view.statements.len(), expected.len()));
    }
    for (i, (a, e)) in view.statements.iter().zip(&expected).enumerate() {
        diffs.extend(compare(a, e).into_iter().map(|d| format!("statement {}: {d}", i + 1)));
    }
    let all_ro = !expected.is_empty() && expected.iter().all(|e| e.read_only);
    if view.read_only != all_ro {
        diffs.push(format!("view read_only {} != {all_ro}", view.read_only));
    }
    let unparsed = expected.iter().any(|e| e.flags.iter().any(|f| f == "unparsed"));
    if view.error.is_some() != unparsed {
        diffs.push(format!(
            "view error {:?}, expected {}",
            view.error,
            if unparsed { "some" } else { "none" }
        ));
    }
    if let Some(err) = &view.error
        && (err.contains('\n') || err.contains("ParserError") || err.contains("TokenizerError"))
    {
        diffs.push(format!("error is not a clean one-line message: {err:?}"));
    }
    if !diffs.is_empty() {
        diffs.insert(
            0,
            format!(
                "[{dialect}] {sql}\n    got: {}",
                serde_json::to_string(&view).unwrap_or_default()
            ),
        );
    }
    diffs
}

#[test]
fn case_table() {
    assert!(CASES.len() >= 220, "only {} cases", CASES.len());
    for d in Dialect::ALL {
        assert!(CASES.iter().filter(|c| c.0 == d).count() >= 10, "fewer than 10 cases for {d}");
    }
    let failures: Vec<String> =
        CASES.iter().map(check).filter(|d| !d.is_empty()).map(|d| d.join("\n    ")).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// Texts that write (or may write) in every dialect: never read-only, whatever the dialect.
const WRITES_IN_EVERY_DIALECT: &[&str] = &[
    "DELETE FROM t",
    "UPDATE t SET a = 1 WHERE id = 1",
    "INSERT INTO t VALUES (1)",
    "DROP TABLE t",
    "CREATE TABLE t (a INT)",
    "ALTER TABLE t ADD COLUMN b INT",
    "TRUNCATE TABLE t",
    "GRANT SELECT ON t TO bob",
    "SELECT 1; DROP TABLE t",
    "SELECT 1; DELETE FROM t",
    "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
    "DO $$ BEGIN END $$",
    "VACUUM ANALYZE t",
    "REINDEX TABLE t",
    "CLUSTER t",
    "ALTER SYSTEM SET x = 1",
    "LOAD DATA INFILE 'x' INTO TABLE t",
    "SELECT * FROM t INTO OUTFILE '/tmp/x'",
    "SELECT * INTO newt FROM t",
    "SELECT * FROM t FOR UPDATE",
    "SELECT pg_sleep(1)",
    "SELECT nextval('s')",
    "CALL p()",
    "EXECUTE p",
    "SET ROLE admin",
    "/*! DROP TABLE t */ SELECT 1",
    "/*!50001 DROP TABLE t */",
    "SELECT 1 /*!; DROP TABLE t */",
    "REFRESH MATERIALIZED VIEW mv",
    "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
    "EXPLAIN ANALYZE DELETE FROM t",
    "COPY t FROM STDIN",
    "COPY t TO PROGRAM 'x'",
    "garbage ; SELECT 1",
    "SELECT 'unterminated",
];

#[test]
fn writes_are_never_read_only_in_any_dialect() {
    let mut failures = Vec::new();
    for d in Dialect::ALL {
        for sql in WRITES_IN_EVERY_DIALECT {
            let view = classify(sql, d);
            if view.read_only || view.statements.is_empty() {
                failures.push(format!("[{d}] {sql}: {view:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "read-only writes:\n{}", failures.join("\n"));
}

#[test]
fn unparsed_statements_are_never_read_only() {
    for d in Dialect::ALL {
        for sql in [
            "DO $$ x $$",
            "VACUUM ANALYZE t",
            "REINDEX t",
            "CLUSTER t",
            "ALTER SYSTEM RESET ALL",
            "LOAD DATA INFILE 'x' INTO TABLE t",
            "SELECT 1 INTO OUTFILE 'x'",
            "qwerty",
            "SELECT * FROM (",
        ] {
            let view = classify(sql, d);
            assert!(view.error.is_some(), "[{d}] {sql}: no error: {view:?}");
            assert!(!view.read_only, "[{d}] {sql}: {view:?}");
            for s in &view.statements {
                assert!(!s.read_only && !s.understood(), "[{d}] {sql}: {s:?}");
                assert!(s.flags.contains(&writ::sql::Flag::Unparsed), "[{d}] {sql}: {s:?}");
            }
        }
    }
}

#[test]
fn empty_texts_have_no_statement_and_are_not_read_only() {
    for d in Dialect::ALL {
        for sql in ["", "   \n\t", "-- nothing", "/* nothing */", ";", " ; ; "] {
            let view = classify(sql, d);
            assert!(view.statements.is_empty(), "[{d}] {sql:?}: {view:?}");
            assert!(!view.read_only, "[{d}] {sql:?}: {view:?}");
            assert!(view.error.is_none(), "[{d}] {sql:?}: {view:?}");
        }
    }
}

#[test]
fn tokenizer_errors_give_one_unknown_statement() {
    for d in Dialect::ALL {
        let view = classify("SELECT 'never closed; DROP TABLE t", d);
        assert_eq!(view.statements.len(), 1, "[{d}] {view:?}");
        assert!(!view.read_only);
        let err = view.error.unwrap_or_default();
        assert!(err.starts_with("sql tokenizer error"), "[{d}] {err}");
        assert!(view.statements.iter().all(|s| s.kind == writ::sql::StatementKind::Unknown));
    }
}

/// Runs `f` on a thread with the given stack, as a server's worker would.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).ok()?.join().ok()
}

#[test]
fn long_operator_chains_are_safe() {
    // Under the limit: parsed and understood.
    let ok = on_small_stack(|| {
        classify(&format!("SELECT {}", vec!["1"; 2900].join(" + ")), Dialect::Postgres)
    });
    assert!(ok.as_ref().is_some_and(|v| v.read_only && v.error.is_none()), "{ok:?}");
    // Far over the limit: not parsed (the tree would overflow the stack), never read-only.
    for sql in [
        format!("SELECT {}", vec!["1"; 200_000].join(" + ")),
        vec!["SELECT 1"; 50_000].join(" UNION "),
        format!("SELECT 1{}", "::int".repeat(50_000)),
        format!("SELECT * FROM t WHERE {}", vec!["a = 1"; 50_000].join(" OR ")),
    ] {
        let view = on_small_stack(move || classify(&sql, Dialect::Generic));
        assert!(
            view.as_ref().is_some_and(|v| !v.read_only && v.error.is_some()),
            "{:?}",
            view.map(|v| v.error)
        );
    }
}

#[test]
fn deep_nesting_hits_the_recursion_limit() {
    for sql in [
        format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("SELECT {}1{}", "(SELECT ".repeat(10_000), ")".repeat(10_000)),
        format!("SELECT {} 1", "NOT ".repeat(100_000)),
        format!("SELECT {}1{}", "ARRAY[".repeat(50_000), "]".repeat(50_000)),
    ] {
        let view = on_small_stack(move || classify(&sql, Dialect::Postgres));
        assert!(
            view.as_ref().is_some_and(|v| !v.read_only && v.error.is_some()),
            "{:?}",
            view.map(|v| v.error)
        );
    }
}

#[test]
fn multi_megabyte_texts_are_fine() {
    let rows = vec!["(1, 'some text; DROP TABLE x', -2.5)"; 80_000].join(", ");
    let insert = format!("INSERT INTO t (a, b, c) VALUES {rows}");
    assert!(insert.len() > 2_000_000);
    let started = std::time::Instant::now();
    let view = classify(&insert, Dialect::Postgres);
    assert_eq!(view.statements.len(), 1);
    assert!(!view.read_only);
    assert!(view.statements.iter().all(|s| s.writes == ["t"]), "{:?}", view.error);

    let many = "SELECT a FROM t WHERE b = 'x';\n".repeat(60_000);
    let view = classify(&many, Dialect::Mysql);
    assert_eq!(view.statements.len(), 60_000);
    assert!(view.read_only);
    assert!(started.elapsed().as_secs() < 120, "too slow: {:?}", started.elapsed());
}
