/* The API end to end: decisions and their JSON, masking rows, the audit callback (and what a
 * failing one does), grants for a nested agent, approvals, reload, options. */
#include "test.h"

static const char POLICY[] =
    "version: 1\n"
    "resources:\n"
    "  - name: crm\n"
    "    kind: postgres\n"
    "    default_schema: public\n"
    "    columns: {public.customers: [id, name, email, ssn]}\n"
    "  - {name: box, kind: shell}\n"
    "rules:\n"
    "  - {id: support-read, effect: allow, reason: support reads, when: {groups: [support], resources: [crm], sql: {read_only: true}}}\n"
    "  - {id: orchestrator-data, effect: allow, when: {principals: [\"agent:orchestrator\"], resources: [crm], sql: {kinds: [select, insert, update, delete]}}}\n"
    "  - {id: ddl, effect: approval, reason: schema changes need a dba, approvers: [dba], when: {resources: [crm], sql: {kinds: [create, alter]}}}\n"
    "  - {id: ls, effect: allow, when: {resources: [box], command: {programs: [ls]}}}\n"
    "masks:\n"
    "  - {id: email, resources: [crm], columns: [public.customers.email], method: {method: email}}\n"
    "  - {id: ssn, resources: [crm], columns: [public.customers.ssn], method: {method: partial, keep_last: 4}}\n"
    "  - {id: name-hash, resources: [crm], columns: [public.customers.name], method: {method: hash}}\n";

/* The same policy without the support-read rule. */
static const char *policy_without_support(void) {
    static char text[sizeof POLICY];
    const char *rule = strstr(POLICY, "  - {id: support-read");
    const char *next = strchr(rule, '\n') + 1;
    size_t head = (size_t)(rule - POLICY);
    memcpy(text, POLICY, head);
    strcpy(text + head, next);
    return text;
}

static const char GRANT_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDtrOqkyLEUbpoLWE265Q1lUFlOTkX02kWquqbak0GtD\n"
    "-----END PRIVATE KEY-----\n";
static const char GRANT_PUB[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEALht/FSeTHcAfQ0LJM9x6e5rNy+LDLWgHFB7+o1xCxyY=\n"
    "-----END PUBLIC KEY-----\n";
static const char APPROVAL_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIARoevX6oEFUBrwkRebShHpZW3XLDPCzjyoiXSte8Pox\n"
    "-----END PRIVATE KEY-----\n";

typedef struct {
    int events;
    int fail;
    char last[8192];
} audit_log;

static int on_event(const char *json, size_t len, void *user) {
    audit_log *log = user;
    if (strlen(json) != len) return 2; /* must be NUL-terminated at len */
    log->events++;
    snprintf(log->last, sizeof log->last, "%s", json);
    return log->fail;
}

static writ_principal *principal(const char *id, const char *group) {
    writ_principal *p = NULL;
    MUST(writ_principal_new(S(id), &p));
    if (group) MUST(writ_principal_add_group(p, S(group)));
    return p;
}

static writ_effect check_json(writ_engine *engine, const char *json, writ_decision **keep) {
    writ_decision *d = NULL;
    MUST(writ_check_json(engine, S(json), &d));
    writ_effect effect = writ_decision_effect(d);
    if (keep) *keep = d;
    else writ_decision_free(d);
    return effect;
}

int main(void) {
    /* A fixed clock and a mask key (the policy hashes names). */
    writ_engine_options *options = NULL;
    MUST(writ_engine_options_new(&options));
    MUST(writ_engine_options_set_mask_key(options, (const uint8_t *)"0123456789abcdef0123456789abcdef", 32));
    MUST(writ_engine_options_set_time(options, 1800000000));
    writ_engine *engine = NULL;
    MUST(writ_engine_new_from_buffer(S("api.yaml"), S(POLICY), options, &engine));
    writ_engine_options_free(options);
    audit_log log = {0};
    MUST(writ_engine_add_audit_callback(engine, on_event, &log));
    writ_principal *support = principal("agent:support", "support");

    /* A decision, its accessors and its JSON. */
    writ_decision *d = NULL;
    MUST(writ_check_sql(engine, support, S("crm"), S("SELECT id, name, email, ssn FROM customers"), &d));
    EXPECT(writ_decision_effect(d) == WRIT_EFFECT_ALLOW, "support reads (%s)", writ_decision_reason(d));
    EXPECT(writ_decision_rule_count(d) == 1 && strcmp(writ_decision_rule(d, 0), "support-read") == 0, "deciding rule");
    EXPECT(writ_decision_rule(d, 1) == NULL, "rule out of range");
    EXPECT(strcmp(writ_decision_reason(d), "support reads") == 0, "reason `%s`", writ_decision_reason(d));
    EXPECT(strncmp(writ_decision_digest(d), "sha256:", 7) == 0, "digest");
    EXPECT(strncmp(writ_decision_policy(d), "sha256:", 7) == 0, "policy version");
    EXPECT(writ_decision_masked_count(d) == 3, "three masked columns, got %zu", writ_decision_masked_count(d));
    EXPECT(strcmp(writ_decision_masked_column(d, 0), "name") == 0 && strcmp(writ_decision_masked_column(d, 2), "ssn") == 0, "masked names");
    const char *json = NULL;
    size_t json_len = 0;
    MUST(writ_decision_json(d, &json, &json_len));
    EXPECT(strlen(json) == json_len && strstr(json, "\"effect\":\"allow\"") && strstr(json, "\"mask\""), "decision JSON: %s", json);
    EXPECT(log.events == 1 && strstr(log.last, "\"class_uid\":6003") && strstr(log.last, "agent:support"), "one audit event for the check: %s", log.last);

    /* Masking two rows, one with a NULL. */
    const char *columns[] = {"id", "name", "email", "ssn"};
    size_t column_lens[] = {2, 4, 5, 3};
    const char *values[] = {"1", "Ada Lovelace", "ada@example.com", "078-05-1120",
                            "2", NULL, "bob@example.org", "219-09-9999"};
    size_t value_lens[8];
    for (int i = 0; i < 8; i++) value_lens[i] = values[i] ? strlen(values[i]) : 0;
    writ_masked_rows *rows = NULL;
    MUST(writ_engine_mask_rows(engine, d, columns, column_lens, 4, values, value_lens, 2, &rows));
    const char *v = NULL;
    size_t v_len = 0;
    MUST(writ_masked_rows_value(rows, 0, 0, &v, &v_len));
    EXPECT(strcmp(v, "1") == 0 && v_len == 1, "id unchanged: %s", v);
    MUST(writ_masked_rows_value(rows, 0, 1, &v, NULL));
    EXPECT(strcmp(v, "Ada Lovelace") != 0, "name hashed: %s", v);
    MUST(writ_masked_rows_value(rows, 0, 2, &v, NULL));
    EXPECT(strcmp(v, "ada@example.com") != 0 && strchr(v, '@'), "email masked: %s", v);
    MUST(writ_masked_rows_value(rows, 0, 3, &v, NULL));
    EXPECT(strcmp(v, "078-05-1120") != 0 && strstr(v, "1120"), "ssn keeps its last 4: %s", v);
    MUST(writ_masked_rows_value(rows, 1, 1, &v, &v_len));
    EXPECT(v == NULL && v_len == 0, "NULL stays NULL");
    MUST(writ_masked_rows_value(rows, 1, 2, &v, NULL));
    EXPECT(strstr(v, "bob@example.org") == NULL, "second row masked too: %s", v);
    EXPECT(writ_masked_rows_masked_count(rows) >= 5, "masked count %zu", writ_masked_rows_masked_count(rows));
    EXPECT(strcmp(values[2], "ada@example.com") == 0, "inputs untouched");
    EXPECT(log.events == 2 && strstr(log.last, "\"mask\"") && !strstr(log.last, "ada@example.com"), "a masking event, without values: %s", log.last);
    writ_masked_rows_free(rows);

    /* A failing audit callback: masking is refused (WRIT_RESULT_ERR_AUDIT), checks are denied. */
    log.fail = 1;
    rows = NULL;
    EXPECT(writ_engine_mask_rows(engine, d, columns, column_lens, 4, values, value_lens, 2, &rows) == WRIT_RESULT_ERR_AUDIT && rows == NULL, "unaudited masking refused: %s", writ_last_error());
    EXPECT(strstr(writ_last_error(), "audit") != NULL, "message: %s", writ_last_error());
    writ_decision_free(d);
    MUST(writ_check_sql(engine, support, S("crm"), S("SELECT id FROM customers"), &d));
    EXPECT(writ_decision_effect(d) == WRIT_EFFECT_DENY && strstr(writ_decision_reason(d), "audit"), "unaudited check denied: %s", writ_decision_reason(d));
    writ_decision_free(d);
    log.fail = 0;

    /* Commands. */
    writ_principal *agent = principal("agent:ops", NULL);
    MUST(writ_check_command(engine, agent, S("box"), S("ls -la /tmp"), &d));
    EXPECT(writ_decision_effect(d) == WRIT_EFFECT_ALLOW, "ls allowed: %s", writ_decision_reason(d));
    writ_decision_free(d);
    MUST(writ_check_command(engine, agent, S("box"), S("ls; rm -rf /"), &d));
    EXPECT(writ_decision_effect(d) == WRIT_EFFECT_DENY, "rm denied");
    writ_decision_free(d);

    /* Grants: the orchestrator hands a helper a read-only grant on one table. */
    writ_signing_key *grant_key = NULL;
    MUST(writ_signing_key_new_from_pem(S("host-1"), S(GRANT_PEM), &grant_key));
    writ_principal *orchestrator = principal("agent:orchestrator", NULL);
    char *grant = NULL;
    size_t grant_len = 0;
    const char *scope = "{\"to\": \"agent:helper\", \"ttl\": 600, \"depth\": 1, \"scope\": {\"resources\": [\"crm\"], \"sql\": {\"kinds\": [\"select\"], \"read_only\": true, \"tables\": [\"public.customers\"]}}}";
    MUST(writ_grant_mint_root(grant_key, orchestrator, S(scope), 1800000000, &grant, &grant_len));
    EXPECT(strncmp(grant, "writg2.", 7) == 0 && strlen(grant) == grant_len, "a grant: %.20s", grant);
    char request[8192];
    const char *helper_request = "{\"principal\": {\"id\": \"agent:helper\"}, \"resource\": \"crm\", \"action\": {\"sql\": \"%s\"}, \"grant\": \"%s\"}";
    snprintf(request, sizeof request, helper_request, "SELECT id FROM customers", grant);
    EXPECT(check_json(engine, request, NULL) == WRIT_EFFECT_DENY, "an untrusted grant key is denied");
    MUST(writ_engine_add_grant_key_pem(engine, S("host-1"), S(GRANT_PUB)));
    EXPECT(check_json(engine, request, NULL) == WRIT_EFFECT_ALLOW, "the helper reads customers under the grant");
    snprintf(request, sizeof request, helper_request, "DELETE FROM customers WHERE id = 1", grant);
    EXPECT(check_json(engine, request, NULL) == WRIT_EFFECT_DENY, "the grant does not reach writes");
    /* A child grant no wider than its parent, and one that would be wider. */
    char *child = NULL;
    size_t child_len = 0;
    MUST(writ_grant_mint_child(engine, grant_key, grant, grant_len, S("{\"to\": \"agent:sub\", \"ttl\": 60, \"scope\": {\"resources\": [\"crm\"], \"sql\": {\"kinds\": [\"select\"], \"read_only\": true, \"tables\": [\"public.customers\"]}}}"), 1800000000, &child, &child_len));
    snprintf(request, sizeof request, "{\"principal\": {\"id\": \"agent:sub\"}, \"resource\": \"crm\", \"action\": {\"sql\": \"SELECT email FROM customers\"}, \"grant\": \"%s\"}", child);
    EXPECT(check_json(engine, request, NULL) == WRIT_EFFECT_ALLOW, "the sub-helper reads under the child grant");
    char *wider = NULL;
    size_t wider_len = 0;
    EXPECT(writ_grant_mint_child(engine, grant_key, grant, grant_len, S("{\"to\": \"agent:sub\", \"ttl\": 60, \"scope\": {\"resources\": [\"crm\"], \"sql\": {\"kinds\": [\"select\", \"delete\"]}}}"), 1800000000, &wider, &wider_len) == WRIT_RESULT_ERR_GRANT && wider == NULL,
           "a wider child is refused");
    EXPECT(strstr(writ_last_error(), "wider") || strstr(writ_last_error(), "narrower"), "why: %s", writ_last_error());
    writ_string_free(child);
    writ_string_free(grant);

    /* Approvals: a schema change needs a dba's approval bound to its digest. */
    const char *ddl = "{\"principal\": {\"id\": \"agent:migrator\"}, \"resource\": \"crm\", \"action\": {\"sql\": \"ALTER TABLE customers ADD COLUMN tier text\"}%s}";
    snprintf(request, sizeof request, ddl, "");
    EXPECT(check_json(engine, request, &d) == WRIT_EFFECT_APPROVAL_REQUIRED, "DDL needs approval");
    writ_signing_key *approval_key = NULL;
    MUST(writ_signing_key_new_from_pem(S("approvals-1"), S(APPROVAL_PEM), &approval_key));
    MUST(writ_engine_add_approval_key_pem(engine, S("approvals-1"), S(APPROVAL_PEM)));
    char spec[512], extra[4096];
    char *approval = NULL;
    size_t approval_len = 0;
    snprintf(spec, sizeof spec, "{\"approver\": {\"id\": \"user:alice\", \"groups\": [\"dba\"]}, \"digest\": \"%s\", \"ttl\": 600}", writ_decision_digest(d));
    MUST(writ_approval_sign(approval_key, S(spec), 1800000000, &approval, &approval_len));
    snprintf(extra, sizeof extra, ", \"approval\": \"%s\"", approval);
    snprintf(request, sizeof request, ddl, extra);
    EXPECT(check_json(engine, request, NULL) == WRIT_EFFECT_ALLOW, "the approved request is allowed");
    writ_string_free(approval);
    snprintf(spec, sizeof spec, "{\"approver\": {\"id\": \"user:bob\", \"groups\": [\"devs\"]}, \"digest\": \"%s\", \"ttl\": 600}", writ_decision_digest(d));
    MUST(writ_approval_sign(approval_key, S(spec), 1800000000, &approval, &approval_len));
    snprintf(extra, sizeof extra, ", \"approval\": \"%s\"", approval);
    snprintf(request, sizeof request, ddl, extra);
    EXPECT(check_json(engine, request, NULL) == WRIT_EFFECT_APPROVAL_REQUIRED, "an approver outside dba does not count");
    writ_string_free(approval);
    writ_decision_free(d);

    /* Reload: from a buffer (support loses its rule), then from a path. */
    char *v1 = NULL, *v2 = NULL;
    size_t len1 = 0, len2 = 0;
    MUST(writ_engine_policy_version(engine, &v1, &len1));
    MUST(writ_engine_reload_buffer(engine, S("api.yaml"), S(policy_without_support())));
    MUST(writ_engine_policy_version(engine, &v2, &len2));
    EXPECT(strcmp(v1, v2) != 0, "the version changes on reload");
    MUST(writ_check_sql(engine, support, S("crm"), S("SELECT id FROM customers"), &d));
    EXPECT(writ_decision_effect(d) == WRIT_EFFECT_DENY && strcmp(writ_decision_policy(d), v2) == 0, "decided by the new policy");
    writ_decision_free(d);
    writ_string_free(v1);
    writ_string_free(v2);
    MUST(writ_engine_reload_path(engine, S(WRIT_POLICIES "/customer-masking")));
    MUST(writ_check_sql(engine, support, S("crm"), S("SELECT email FROM customers"), &d));
    EXPECT(writ_decision_effect(d) == WRIT_EFFECT_ALLOW && writ_decision_masked_count(d) == 1, "customer-masking pack after reload_path");
    writ_decision_free(d);

    writ_signing_key_free(grant_key);
    writ_signing_key_free(approval_key);
    writ_principal_free(orchestrator);
    writ_principal_free(agent);
    writ_principal_free(support);
    writ_engine_free(engine);
    printf("api: %d audit events\n", log.events);
    return test_finish("api");
}
