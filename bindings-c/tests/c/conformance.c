/* Every case of every policy pack (policies/ * / *.test.yaml), checked through libwrit.
 *
 * C has no YAML parser, so `cargo run -p writ-c --example cases_to_lines` first rewrites the
 * test files into a line format (see that example); this program reads it, checks each request
 * with writ_check_json, and, when the request is plain SQL or a command line, again with
 * writ_check_sql / writ_check_command. It compares the effect, the expected rules (a subset of
 * the deciding rules) and the masked columns (exact), and checks that both paths agree.
 *
 * Usage: conformance CASES_FILE */
#define _POSIX_C_SOURCE 200809L
#include "test.h"

#define MAX_LIST 64
#define MAX_PACKS 64

typedef struct {
    char *pack, *name, *request, *expect, *kind, *principal, *resource, *text;
    size_t request_len, resource_len, text_len;
    char *rules[MAX_LIST];
    size_t rule_count;
    int has_masked;
    size_t masked_expected;
    char *masked[MAX_LIST];
    size_t masked_count;
    char *groups[MAX_LIST];
    size_t group_count;
} test_case;

static struct {
    char *path;
    writ_engine *engine;
} packs[MAX_PACKS];
static size_t pack_count = 0;

static writ_engine *engine_for(const char *path) {
    for (size_t i = 0; i < pack_count; i++)
        if (strcmp(packs[i].path, path) == 0) return packs[i].engine;
    if (pack_count == MAX_PACKS) {
        fprintf(stderr, "too many packs\n");
        exit(1);
    }
    writ_engine *engine = NULL;
    MUST(writ_engine_new_from_path(S(path), NULL, &engine));
    packs[pack_count].path = strdup(path);
    packs[pack_count].engine = engine;
    pack_count++;
    return engine;
}

static void case_free(test_case *c) {
    free(c->pack), free(c->name), free(c->request), free(c->expect), free(c->kind);
    free(c->principal), free(c->resource), free(c->text);
    for (size_t i = 0; i < c->rule_count; i++) free(c->rules[i]);
    for (size_t i = 0; i < c->masked_count; i++) free(c->masked[i]);
    for (size_t i = 0; i < c->group_count; i++) free(c->groups[i]);
    memset(c, 0, sizeof *c);
}

/* Compare one decision with the case; returns the number of mismatches (printed). */
static int compare(const test_case *c, const writ_decision *d, const char *path) {
    int bad = 0;
    const char *effect = writ_effect_name(writ_decision_effect(d));
    if (strcmp(effect, c->expect) != 0) {
        fprintf(stderr, "FAIL [%s] %s: expected %s, got %s (%s)\n", path, c->name, c->expect,
                effect, writ_decision_reason(d));
        bad++;
    }
    for (size_t i = 0; i < c->rule_count; i++) {
        int found = 0;
        for (size_t j = 0; j < writ_decision_rule_count(d); j++)
            if (strcmp(writ_decision_rule(d, j), c->rules[i]) == 0) found = 1;
        if (!found) {
            fprintf(stderr, "FAIL [%s] %s: rule %s not among the deciding rules\n", path,
                    c->name, c->rules[i]);
            bad++;
        }
    }
    if (c->has_masked) {
        size_t got = writ_decision_masked_count(d);
        int same = got == c->masked_count;
        for (size_t i = 0; same && i < got; i++)
            same = strcmp(writ_decision_masked_column(d, i), c->masked[i]) == 0;
        if (!same) {
            fprintf(stderr, "FAIL [%s] %s: masked columns differ (%zu expected, %zu got)\n",
                    path, c->name, c->masked_count, got);
            bad++;
        }
    }
    return bad;
}

static int run_case(const test_case *c, size_t *direct_runs) {
    writ_engine *engine = engine_for(c->pack);
    writ_decision *d = NULL;
    writ_result rc = writ_check_json(engine, c->request, c->request_len, &d);
    if (rc != WRIT_RESULT_OK) {
        fprintf(stderr, "FAIL %s: writ_check_json returned %u: %s\n", c->name, (unsigned)rc,
                writ_last_error());
        return 1;
    }
    int bad = compare(c, d, "json");
    if (c->kind) {
        writ_principal *p = NULL;
        MUST(writ_principal_new(S(c->principal), &p));
        for (size_t i = 0; i < c->group_count; i++) MUST(writ_principal_add_group(p, S(c->groups[i])));
        writ_decision *direct = NULL;
        if (strcmp(c->kind, "sql") == 0)
            MUST(writ_check_sql(engine, p, c->resource, c->resource_len, c->text, c->text_len, &direct));
        else
            MUST(writ_check_command(engine, p, c->resource, c->resource_len, c->text, c->text_len, &direct));
        bad += compare(c, direct, c->kind);
        if (strcmp(writ_decision_digest(d), writ_decision_digest(direct)) != 0) {
            fprintf(stderr, "FAIL %s: the JSON and direct paths give different digests\n", c->name);
            bad++;
        }
        (*direct_runs)++;
        writ_decision_free(direct);
        writ_principal_free(p);
    }
    writ_decision_free(d);
    return bad;
}

static char *field(const char *line, const char *key) {
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0 || line[n] != ' ') return NULL;
    return (char *)line + n + 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: conformance CASES_FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    test_case c;
    memset(&c, 0, sizeof c);
    size_t run = 0, failed = 0, direct = 0;
    long total = -1;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *v;
        if ((v = field(line, "pack"))) c.pack = test_unhex(v, NULL);
        else if ((v = field(line, "case"))) c.name = test_unhex(v, NULL);
        else if ((v = field(line, "request"))) c.request = test_unhex(v, &c.request_len);
        else if ((v = field(line, "expect"))) c.expect = strdup(v);
        else if ((v = field(line, "rule")) && c.rule_count < MAX_LIST) c.rules[c.rule_count++] = test_unhex(v, NULL);
        else if ((v = field(line, "masked"))) c.has_masked = 1, c.masked_expected = strtoul(v, NULL, 10);
        else if ((v = field(line, "column")) && c.masked_count < MAX_LIST) c.masked[c.masked_count++] = test_unhex(v, NULL);
        else if ((v = field(line, "direct"))) c.kind = strdup(v);
        else if ((v = field(line, "principal"))) c.principal = test_unhex(v, NULL);
        else if ((v = field(line, "group")) && c.group_count < MAX_LIST) c.groups[c.group_count++] = test_unhex(v, NULL);
        else if ((v = field(line, "resource"))) c.resource = test_unhex(v, &c.resource_len);
        else if ((v = field(line, "text"))) c.text = test_unhex(v, &c.text_len);
        else if ((v = field(line, "total"))) total = strtol(v, NULL, 10);
        else if (strcmp(line, "end") == 0) {
            if (!c.pack || !c.name || !c.request || !c.expect || c.masked_count != c.masked_expected ||
                (c.kind && (!c.principal || !c.resource || !c.text))) {
                fprintf(stderr, "malformed case before line `end` (%s)\n", c.name ? c.name : "?");
                return 2;
            }
            if (run_case(&c, &direct)) failed++;
            run++;
            case_free(&c);
        } else {
            fprintf(stderr, "unexpected line: %s\n", line);
            return 2;
        }
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < pack_count; i++) {
        writ_engine_free(packs[i].engine);
        free(packs[i].path);
    }
    printf("conformance: %zu cases from %zu packs, %zu also through the direct SQL/command path, %zu failed\n",
           run, pack_count, direct, failed);
    EXPECT(total > 0, "the cases file ends with a positive total (got %ld)", total);
    EXPECT(run == (size_t)total, "every case ran: %zu of %ld", run, total);
    EXPECT(failed == 0, "no case failed (%zu did)", failed);
    return test_finish("conformance");
}
