/* A database proxy's hook, in the shape a C proxy calls writ: one engine for the process, one
 * principal per connection, and for every statement a check before it runs and, when it is
 * allowed, masking of the rows before they go back to the client.
 *
 * This example has no database: `fake_backend` answers SELECTs on a `customers` table with one
 * sample row, so masking can be seen. A real proxy passes the result columns and rows it got
 * from the server instead.
 *
 * Usage: proxy_hook POLICY RESOURCE PRINCIPAL [GROUP...] < statements.sql
 *   e.g. proxy_hook policies/customer-masking crm agent:support-bot support
 * One statement per line on stdin; blank lines and lines starting with `--` are skipped.
 * Exit status: 0 when all were allowed, 1 when some were not, 2 on an error. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "writ.h"

#define MAX_COLUMNS 32

static const char *const TABLE_COLUMNS[] = {"id", "name", "email", "ssn", "card", "notes"};
static const char *const SAMPLE_ROW[] = {
    "42", "Ada Lovelace", "ada@example.com", "078-05-1120", "4111 1111 1111 1111",
    "call me on +1 415 555 0100 or ada.l@example.org"};
#define TABLE_WIDTH (sizeof TABLE_COLUMNS / sizeof *TABLE_COLUMNS)

/* Trim white space in place. */
static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) *--end = '\0';
    return s;
}

/* Find `word` (case-insensitive) as a whole word in `s`. */
static char *find_word(char *s, const char *word) {
    size_t n = strlen(word);
    for (char *p = s; *p; p++)
        if (strncasecmp(p, word, n) == 0 && (p == s || isspace((unsigned char)p[-1])) &&
            (p[n] == '\0' || isspace((unsigned char)p[n])))
            return p;
    return NULL;
}

/* The stand-in for the database: for `SELECT a, b AS c, * FROM customers ...` the output
 * column names and one sample row; 0 columns for anything else. Output names follow the SQL
 * rules writ's lineage uses: the alias, else the column name. The caller frees `names`. */
static size_t fake_backend(const char *sql, char **names, const char **values) {
    char *text = strdup(sql);
    char *select = find_word(text, "SELECT"), *from = find_word(text, "FROM");
    size_t n = 0;
    if (!select || !from || from < select || !strstr(from, "customers")) {
        free(text);
        return 0;
    }
    *from = '\0';
    for (char *item = strtok(select + 6, ","); item && n < MAX_COLUMNS; item = strtok(NULL, ",")) {
        item = trim(item);
        char *as = find_word(item, "AS");
        char *name = as ? trim(as + 2) : item;
        if (as) *as = '\0';
        char *dot = strrchr(item, '.');
        char *column = trim(dot ? dot + 1 : item);
        if (strcmp(column, "*") == 0) {
            for (size_t i = 0; i < TABLE_WIDTH && n < MAX_COLUMNS; i++, n++) {
                names[n] = strdup(TABLE_COLUMNS[i]);
                values[n] = SAMPLE_ROW[i];
            }
            continue;
        }
        const char *value = "(computed)";
        for (size_t i = 0; i < TABLE_WIDTH; i++)
            if (strcasecmp(column, TABLE_COLUMNS[i]) == 0) value = SAMPLE_ROW[i];
        names[n] = strdup(as ? name : column);
        values[n] = value;
        n++;
    }
    free(text);
    return n;
}

/* Mask the sample row of an allowed statement and print it. Returns 0, or 2 on an error. */
static int print_masked_row(const writ_engine *engine, const writ_decision *decision, const char *sql) {
    char *names[MAX_COLUMNS];
    const char *values[MAX_COLUMNS];
    size_t name_lens[MAX_COLUMNS], value_lens[MAX_COLUMNS];
    size_t n = fake_backend(sql, names, values);
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        name_lens[i] = strlen(names[i]);
        value_lens[i] = strlen(values[i]);
    }
    writ_masked_rows *rows = NULL;
    writ_result rc = writ_engine_mask_rows(engine, decision, (const char *const *)names, name_lens, n,
                                           values, value_lens, 1, &rows);
    int status = 0;
    if (rc != WRIT_RESULT_OK) {
        /* Fail closed: a row that cannot be masked is not returned. */
        fprintf(stderr, "  masking failed (%u): %s\n", (unsigned)rc, writ_last_error());
        status = 2;
    } else {
        printf("  row:");
        for (size_t c = 0; c < n; c++) {
            const char *value = NULL;
            if (writ_masked_rows_value(rows, 0, c, &value, NULL) == WRIT_RESULT_OK)
                printf(" %s=%s", names[c], value ? value : "NULL");
        }
        printf("\n");
        writ_masked_rows_free(rows);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    return status;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: proxy_hook POLICY RESOURCE PRINCIPAL [GROUP...] < statements\n");
        return 2;
    }
    const char *resource = argv[2];
    writ_engine *engine = NULL;
    if (writ_engine_new_from_path(argv[1], strlen(argv[1]), NULL, &engine) != WRIT_RESULT_OK) {
        fprintf(stderr, "error: %s\n", writ_last_error());
        return 2;
    }
    writ_principal *principal = NULL;
    if (writ_principal_new(argv[3], strlen(argv[3]), &principal) != WRIT_RESULT_OK) {
        fprintf(stderr, "error: %s\n", writ_last_error());
        writ_engine_free(engine);
        return 2;
    }
    for (int i = 4; i < argc; i++) writ_principal_add_group(principal, argv[i], strlen(argv[i]));

    int status = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0) {
        char *sql = trim(line);
        if (*sql == '\0' || strncmp(sql, "--", 2) == 0) continue;
        writ_decision *decision = NULL;
        if (writ_check_sql(engine, principal, resource, strlen(resource), sql, strlen(sql), &decision) != WRIT_RESULT_OK) {
            fprintf(stderr, "error: %s\n", writ_last_error());
            status = 2;
            break;
        }
        writ_effect effect = writ_decision_effect(decision);
        printf("> %s\n%s [", sql, writ_effect_name(effect));
        for (size_t i = 0; i < writ_decision_rule_count(decision); i++)
            printf("%s%s", i ? ", " : "", writ_decision_rule(decision, i));
        printf("] %s\n", writ_decision_reason(decision));
        if (effect == WRIT_EFFECT_ALLOW) {
            size_t masked = writ_decision_masked_count(decision);
            if (masked > 0) {
                printf("  masked columns:");
                for (size_t i = 0; i < masked; i++) printf(" %s", writ_decision_masked_column(decision, i));
                printf("\n");
            }
            int rc = print_masked_row(engine, decision, sql);
            if (rc > status) status = rc;
        } else {
            if (effect == WRIT_EFFECT_APPROVAL_REQUIRED) printf("  approval digest: %s\n", writ_decision_digest(decision));
            if (status == 0) status = 1;
        }
        writ_decision_free(decision);
    }
    free(line);
    writ_principal_free(principal);
    writ_engine_free(engine);
    return status;
}
