/* Every result code of writ.h, produced from C; out-parameters untouched on failure; the
 * last-error message per thread; NULL handling of accessors and _free functions. */
#include "test.h"

/* Only in libwrit built with the `test-panic` feature (not in writ.h). */
writ_result writ_test_panic(void);

static const char POLICY[] =
    "version: 1\n"
    "resources:\n"
    "  - {name: crm, kind: postgres, default_schema: public, columns: {public.customers: [id, email]}}\n"
    "rules:\n"
    "  - {id: read, effect: allow, when: {groups: [support], sql: {read_only: true}}}\n"
    "masks:\n"
    "  - {id: email, resources: [crm], columns: [public.customers.email], method: {method: email}}\n";

static const char PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDtrOqkyLEUbpoLWE265Q1lUFlOTkX02kWquqbak0GtD\n"
    "-----END PRIVATE KEY-----\n";

#define SENTINEL ((void *)0x5eed)

static void expect_code(writ_result got, writ_result want, const char *what, const char *needle) {
    EXPECT(got == want, "%s: code %u, wanted %u (%s)", what, (unsigned)got, (unsigned)want,
           writ_last_error());
    if (want != WRIT_RESULT_OK) {
        EXPECT(writ_last_error_length() > 0, "%s: a failure leaves a message", what);
        EXPECT(strstr(writ_last_error(), needle) != NULL, "%s: message `%s` mentions `%s`", what,
               writ_last_error(), needle);
    }
}

int main(void) {
    writ_engine *engine = NULL;
    MUST(writ_engine_new_from_buffer(S("errors.yaml"), S(POLICY), NULL, &engine));
    writ_principal *support = NULL;
    MUST(writ_principal_new(S("agent:support"), &support));
    MUST(writ_principal_add_group(support, S("support")));

    /* WRIT_RESULT_ERR_NULL: a NULL handle, a NULL text, a NULL out-parameter. */
    writ_decision *d = SENTINEL;
    expect_code(writ_check_sql(NULL, support, S("crm"), S("SELECT 1"), &d), WRIT_RESULT_ERR_NULL, "null engine", "engine");
    EXPECT(d == SENTINEL, "out-parameter untouched on failure");
    expect_code(writ_check_sql(engine, support, NULL, 3, S("SELECT 1"), &d), WRIT_RESULT_ERR_NULL, "null resource", "resource");
    expect_code(writ_check_sql(engine, support, S("crm"), S("SELECT 1"), NULL), WRIT_RESULT_ERR_NULL, "null out", "out");
    expect_code(writ_engine_add_audit_callback(engine, NULL, NULL), WRIT_RESULT_ERR_NULL, "null callback", "callback");
    EXPECT(d == SENTINEL, "out-parameter untouched on failure");

    /* A success clears the last error. */
    MUST(writ_check_sql(engine, support, S("crm"), S("SELECT 1"), &d));
    EXPECT(writ_last_error_length() == 0 && strcmp(writ_last_error(), "") == 0, "success clears the message");
    writ_decision_free(d);

    /* WRIT_RESULT_ERR_UTF8. */
    d = SENTINEL;
    expect_code(writ_check_sql(engine, support, S("crm"), "SELECT '\xff'", 10, &d), WRIT_RESULT_ERR_UTF8, "bad utf-8", "UTF-8");
    EXPECT(d == SENTINEL, "out-parameter untouched on failure");

    /* WRIT_RESULT_ERR_POLICY, located: file:line:column. */
    writ_engine *bad = SENTINEL;
    expect_code(writ_engine_new_from_buffer(S("bad.yaml"), S("version: 1\nresources:\n  - {name: db, kind: postgres}\nrules:\n  - {id: r, effect: maybe}\n"), NULL, &bad),
                WRIT_RESULT_ERR_POLICY, "invalid policy", "bad.yaml:5:");
    EXPECT(bad == SENTINEL, "no engine on failure");
    /* A failed reload keeps the policy. */
    char *before = NULL, *after = NULL;
    size_t before_len = 0, after_len = 0;
    MUST(writ_engine_policy_version(engine, &before, &before_len));
    expect_code(writ_engine_reload_buffer(engine, S("bad.yaml"), S("version: 2\n")), WRIT_RESULT_ERR_POLICY, "invalid reload", "bad.yaml:");
    MUST(writ_engine_policy_version(engine, &after, &after_len));
    EXPECT(before_len > 7 && strcmp(before, after) == 0 && strncmp(before, "sha256:", 7) == 0, "a failed reload keeps the policy (%s, %s)", before, after);
    writ_string_free(before);
    writ_string_free(after);

    /* WRIT_RESULT_ERR_IO. */
    expect_code(writ_engine_new_from_path(S("/nonexistent/writ/policy.yaml"), NULL, &bad), WRIT_RESULT_ERR_IO, "missing file", "/nonexistent/writ/policy.yaml");
    expect_code(writ_engine_reload_path(engine, S("/nonexistent/writ")), WRIT_RESULT_ERR_IO, "missing dir", "/nonexistent/writ");

    /* WRIT_RESULT_ERR_JSON: malformed, and a misspelt field (never silently dropped). */
    expect_code(writ_check_json(engine, S("{not json"), &d), WRIT_RESULT_ERR_JSON, "malformed request", "malformed request");
    expect_code(writ_check_json(engine, S("{\"principal\": {\"id\": \"a\"}, \"resource\": \"crm\", \"action\": {\"sql\": \"SELECT 1\"}, \"tokn\": \"x\"}"), &d),
                WRIT_RESULT_ERR_JSON, "unknown field", "tokn");

    /* WRIT_RESULT_ERR_KEY. */
    writ_signing_key *key = SENTINEL;
    expect_code(writ_signing_key_new_from_pem(S("k1"), S("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), &key), WRIT_RESULT_ERR_KEY, "bad pem", "k1");
    EXPECT(key == SENTINEL, "no key on failure");
    expect_code(writ_engine_add_grant_key_pem(engine, S("k1"), S("not a pem")), WRIT_RESULT_ERR_KEY, "bad public pem", "k1");
    expect_code(writ_signing_key_new_from_pem(S(""), S(PEM), &key), WRIT_RESULT_ERR_KEY, "empty kid", "key id");

    /* WRIT_RESULT_ERR_ARGUMENT: a seed that is not 32 bytes, a weak mask key, an index. */
    uint8_t seed[32] = {7};
    expect_code(writ_signing_key_new_from_seed(S("k1"), seed, 5, &key), WRIT_RESULT_ERR_ARGUMENT, "short seed", "32 bytes");
    writ_engine_options *options = NULL;
    MUST(writ_engine_options_new(&options));
    MUST(writ_engine_options_set_mask_key(options, (const uint8_t *)"abc", 3));
    expect_code(writ_engine_new_from_buffer(S("errors.yaml"), S(POLICY), options, &bad), WRIT_RESULT_ERR_ARGUMENT, "weak mask key", "mask key");
    writ_engine_options_free(options);

    /* WRIT_RESULT_ERR_GRANT and WRIT_RESULT_ERR_APPROVAL. */
    MUST(writ_signing_key_new_from_seed(S("k1"), seed, sizeof seed, &key));
    char *token = SENTINEL;
    size_t token_len = 0;
    expect_code(writ_grant_mint_root(key, support, S("{\"to\": \"agent:helper\", \"scope\": {}, \"ttl\": 0}"), 0, &token, &token_len), WRIT_RESULT_ERR_GRANT, "ttl 0", "ttl");
    expect_code(writ_grant_mint_root(key, support, S("{\"to\": \"agent:helper\", \"ttl\": 60, \"extra\": 1}"), 0, &token, &token_len), WRIT_RESULT_ERR_JSON, "bad spec", "extra");
    expect_code(writ_grant_mint_child(engine, key, S("writg2.garbage"), S("{\"to\": \"agent:x\", \"ttl\": 60}"), 0, &token, &token_len), WRIT_RESULT_ERR_GRANT, "bad parent", "grant");
    expect_code(writ_approval_sign(key, S("{\"approver\": {\"id\": \"user:a\"}, \"digest\": \"nope\", \"ttl\": 60}"), 0, &token, &token_len), WRIT_RESULT_ERR_APPROVAL, "bad digest", "nope");
    EXPECT(token == SENTINEL, "no token on failure");
    writ_signing_key_free(key);

    /* WRIT_RESULT_ERR_NOT_ALLOWED and WRIT_RESULT_ERR_MASK. */
    writ_principal *stranger = NULL;
    MUST(writ_principal_new(S("agent:stranger"), &stranger));
    MUST(writ_check_sql(engine, stranger, S("crm"), S("SELECT id, email FROM customers"), &d));
    EXPECT(writ_decision_effect(d) == WRIT_EFFECT_DENY, "a stranger is denied");
    const char *columns[] = {"id", "email"};
    size_t column_lens[] = {2, 5};
    const char *values[] = {"1", "ada@example.com"};
    size_t value_lens[] = {1, 15};
    writ_masked_rows *rows = SENTINEL;
    expect_code(writ_engine_mask_rows(engine, d, columns, column_lens, 2, values, value_lens, 1, &rows), WRIT_RESULT_ERR_NOT_ALLOWED, "mask a denied result", "deny");
    writ_decision_free(d);
    MUST(writ_check_sql(engine, support, S("crm"), S("SELECT id, email FROM customers"), &d));
    EXPECT(writ_decision_effect(d) == WRIT_EFFECT_ALLOW, "support may read");
    expect_code(writ_engine_mask_rows(engine, d, columns, column_lens, 1, values, value_lens, 1, &rows), WRIT_RESULT_ERR_MASK, "one column of two", "columns");
    EXPECT(rows == SENTINEL, "no rows on failure");
    expect_code(writ_engine_mask_rows(engine, d, columns, column_lens, 2, values, value_lens, SIZE_MAX, &rows), WRIT_RESULT_ERR_ARGUMENT, "overflowing counts", "overflows");
    MUST(writ_engine_mask_rows(engine, d, columns, column_lens, 2, values, value_lens, 1, &rows));
    const char *value = SENTINEL;
    expect_code(writ_masked_rows_value(rows, 1, 0, &value, NULL), WRIT_RESULT_ERR_ARGUMENT, "row out of range", "row 1");
    expect_code(writ_masked_rows_value(rows, 0, 2, &value, NULL), WRIT_RESULT_ERR_ARGUMENT, "column out of range", "column 2");
    EXPECT(value == SENTINEL, "no value on failure");
    writ_masked_rows_free(rows);
    writ_decision_free(d);

    /* WRIT_RESULT_ERR_AUDIT is produced in api.c (a failing audit callback during masking). */

    /* WRIT_RESULT_ERR_BUFFER_TOO_SMALL: the message is cut, NUL-terminated, full length told. */
    writ_check_json(engine, S("{not json"), &d);
    char small[8];
    size_t needed = 0;
    EXPECT(writ_last_error_message(small, sizeof small, &needed) == WRIT_RESULT_ERR_BUFFER_TOO_SMALL, "small buffer");
    EXPECT(strlen(small) == 7 && needed == writ_last_error_length() && needed > 7, "cut to 7 bytes, %zu needed", needed);
    char big[512];
    EXPECT(writ_last_error_message(big, sizeof big, &needed) == WRIT_RESULT_OK && strcmp(big, writ_last_error()) == 0, "whole message copied");
    EXPECT(writ_last_error_message(NULL, 10, &needed) == WRIT_RESULT_ERR_NULL, "NULL buffer");

    /* WRIT_RESULT_ERR_PANIC: the boundary stops the panic; the process goes on. */
    expect_code(writ_test_panic(), WRIT_RESULT_ERR_PANIC, "panic", "panicked");
    MUST(writ_check_sql(engine, support, S("crm"), S("SELECT 1"), &d));
    EXPECT(writ_decision_effect(d) == WRIT_EFFECT_ALLOW, "the engine still works after a panic");
    writ_decision_free(d);

    /* NULL everywhere it is accepted; accessors of NULL fail closed. */
    EXPECT(writ_decision_effect(NULL) == WRIT_EFFECT_DENY, "NULL decision reads as deny");
    EXPECT(writ_decision_reason(NULL) == NULL && writ_decision_rule(NULL, 0) == NULL && writ_decision_rule_count(NULL) == 0, "NULL decision accessors");
    EXPECT(writ_effect_name(7) == NULL && strcmp(writ_effect_name(WRIT_EFFECT_APPROVAL_REQUIRED), "approval_required") == 0, "effect names");
    EXPECT(writ_masked_rows_masked_count(NULL) == 0, "NULL rows");
    writ_decision_free(NULL);
    writ_engine_free(NULL);
    writ_principal_free(NULL);
    writ_signing_key_free(NULL);
    writ_masked_rows_free(NULL);
    writ_engine_options_free(NULL);
    writ_string_free(NULL);

    writ_principal_free(stranger);
    writ_principal_free(support);
    writ_engine_free(engine);
    return test_finish("errors");
}
