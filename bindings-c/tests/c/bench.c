/* Call overhead of the C ABI: ns per writ_check_sql (direct) and writ_check_json for one
 * typical statement, to compare with examples/core_check_timing.rs (the same statement through
 * writ::Host::check in Rust). Reported, not asserted: timing belongs to benches, not tests.
 *
 * Usage: bench POLICY_DIR (policies/data-agents) */
#include <time.h>

#include "test.h"

#define SQL "SELECT o.id, o.total, c.region FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created_at > now() - interval '7 days' ORDER BY o.total DESC LIMIT 50"

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    writ_engine *engine = NULL;
    MUST(writ_engine_new_from_path(S(argv[1]), NULL, &engine));
    writ_principal *p = NULL;
    MUST(writ_principal_new(S("agent:analytics"), &p));
    MUST(writ_principal_add_group(p, S("analysts")));
    const char *json = "{\"principal\": {\"id\": \"agent:analytics\", \"groups\": [\"analysts\"]}, \"resource\": \"warehouse\", \"action\": {\"sql\": \"" SQL "\"}}";
    const int n = 20000;
    for (int round = 0; round < 2; round++) {
        double start = now_ns();
        for (int i = 0; i < n; i++) {
            writ_decision *d = NULL;
            MUST(writ_check_sql(engine, p, S("warehouse"), S(SQL), &d));
            if (writ_decision_effect(d) != WRIT_EFFECT_ALLOW) return 1;
            writ_decision_free(d);
        }
        double sql_ns = (now_ns() - start) / n;
        start = now_ns();
        for (int i = 0; i < n; i++) {
            writ_decision *d = NULL;
            MUST(writ_check_json(engine, S(json), &d));
            if (writ_decision_effect(d) != WRIT_EFFECT_ALLOW) return 1;
            writ_decision_free(d);
        }
        double json_ns = (now_ns() - start) / n;
        if (round == 1) printf("c abi: writ_check_sql %.0f ns/call, writ_check_json %.0f ns/call (%zu-byte statement)\n", sql_ns, json_ns, strlen(SQL));
    }
    /* A request refused before any rule (an undeclared resource): the core does little, so
     * what remains is mostly the binding's own cost (arguments, handles, the audit-free path). */
    for (int round = 0; round < 2; round++) {
        double start = now_ns();
        for (int i = 0; i < n * 10; i++) {
            writ_decision *d = NULL;
            MUST(writ_check_sql(engine, p, S("nowhere"), S("SELECT 1"), &d));
            if (writ_decision_effect(d) != WRIT_EFFECT_DENY) return 1;
            writ_decision_free(d);
        }
        double ns = (now_ns() - start) / (n * 10);
        if (round == 1) printf("c abi: writ_check_sql %.0f ns/call on an undeclared resource\n", ns);
    }
    writ_principal_free(p);
    writ_engine_free(engine);
    return 0;
}
