/* Eight threads share one engine, checking thousands of requests (JSON and direct), while a
 * ninth reloads the policy back and forth. Every decision must be wholly from one policy: its
 * effect must be the one the policy version it names gives. Every check writes exactly one
 * audit event.
 *
 * Usage: threads [ITERATIONS_PER_THREAD] (default 2000) */
#include <pthread.h>
#include <stdatomic.h>

#include "test.h"

#define THREADS 8

/* Policy A allows the analysts' read; policy B denies it (nothing allows it). */
static const char POLICY_A[] =
    "version: 1\n"
    "resources: [{name: db, kind: postgres}, {name: box, kind: shell}]\n"
    "rules:\n"
    "  - {id: read, effect: allow, when: {groups: [analysts], sql: {read_only: true}}}\n"
    "  - {id: ls, effect: allow, when: {command: {programs: [ls]}}}\n";
static const char POLICY_B[] =
    "version: 1\n"
    "resources: [{name: db, kind: postgres}, {name: box, kind: shell}]\n"
    "rules:\n"
    "  - {id: ls, effect: allow, when: {command: {programs: [ls]}}}\n";

static writ_engine *engine;
static char version_a[128], version_b[128];
static long iterations = 2000;
static atomic_long events, checks, mismatches, seen_a, seen_b;
static atomic_int done;

static int on_event(const char *json, size_t len, void *user) {
    (void)user;
    if (len == 0 || json[len] != '\0') return 1;
    atomic_fetch_add(&events, 1);
    return 0;
}

static void expect_consistent(writ_decision *d, int is_sql) {
    const char *policy = writ_decision_policy(d);
    writ_effect effect = writ_decision_effect(d);
    writ_effect want;
    if (!is_sql) {
        want = WRIT_EFFECT_ALLOW; /* ls is allowed by both */
    } else if (strcmp(policy, version_a) == 0) {
        want = WRIT_EFFECT_ALLOW;
        atomic_fetch_add(&seen_a, 1);
    } else if (strcmp(policy, version_b) == 0) {
        want = WRIT_EFFECT_DENY;
        atomic_fetch_add(&seen_b, 1);
    } else {
        fprintf(stderr, "unknown policy version %s\n", policy);
        atomic_fetch_add(&mismatches, 1);
        return;
    }
    if (effect != want) {
        fprintf(stderr, "inconsistent decision: %s under %s\n", writ_effect_name(effect), policy);
        atomic_fetch_add(&mismatches, 1);
    }
}

static void *worker(void *arg) {
    long id = (long)arg;
    writ_principal *p = NULL;
    MUST(writ_principal_new(S("agent:analytics"), &p));
    MUST(writ_principal_add_group(p, S("analysts")));
    const char *json =
        "{\"principal\": {\"id\": \"agent:analytics\", \"groups\": [\"analysts\"]}, "
        "\"resource\": \"db\", \"action\": {\"sql\": \"SELECT id, total FROM orders WHERE id = 7\"}}";
    for (long i = 0; i < iterations; i++) {
        writ_decision *d = NULL;
        int is_sql = 1;
        switch ((i + id) % 3) {
        case 0: MUST(writ_check_json(engine, S(json), &d)); break;
        case 1: MUST(writ_check_sql(engine, p, S("db"), S("SELECT id, total FROM orders WHERE id = 7"), &d)); break;
        default: MUST(writ_check_command(engine, p, S("box"), S("ls -la"), &d)); is_sql = 0; break;
        }
        expect_consistent(d, is_sql);
        writ_decision_free(d);
        atomic_fetch_add(&checks, 1);
    }
    writ_principal_free(p);
    return NULL;
}

static void *reloader(void *arg) {
    (void)arg;
    long reloads = 0;
    while (!atomic_load(&done)) {
        const char *text = reloads % 2 ? POLICY_A : POLICY_B;
        MUST(writ_engine_reload_buffer(engine, S("threads.yaml"), S(text)));
        reloads++;
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
    }
    return (void *)reloads;
}

static void version_of(const char *text, char *out, size_t cap) {
    MUST(writ_engine_reload_buffer(engine, S("threads.yaml"), S(text)));
    char *v = NULL;
    size_t len = 0;
    MUST(writ_engine_policy_version(engine, &v, &len));
    snprintf(out, cap, "%s", v);
    writ_string_free(v);
}

int main(int argc, char **argv) {
    if (argc > 1) iterations = strtol(argv[1], NULL, 10);
    MUST(writ_engine_new_from_buffer(S("threads.yaml"), S(POLICY_A), NULL, &engine));
    version_of(POLICY_B, version_b, sizeof version_b);
    version_of(POLICY_A, version_a, sizeof version_a);
    EXPECT(strcmp(version_a, version_b) != 0, "two policies, two versions");
    MUST(writ_engine_add_audit_callback(engine, on_event, NULL));

    pthread_t threads[THREADS], reload_thread;
    for (long i = 0; i < THREADS; i++) EXPECT(pthread_create(&threads[i], NULL, worker, (void *)i) == 0, "thread %ld", i);
    EXPECT(pthread_create(&reload_thread, NULL, reloader, NULL) == 0, "reload thread");
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    atomic_store(&done, 1);
    void *reloads = NULL;
    pthread_join(reload_thread, &reloads);
    writ_engine_free(engine);

    long total = (long)THREADS * iterations;
    printf("threads: %ld checks on %d threads, %ld reloads, %ld under policy A and %ld under B\n",
           atomic_load(&checks), THREADS, (long)reloads, atomic_load(&seen_a), atomic_load(&seen_b));
    EXPECT(atomic_load(&checks) == total, "every check ran");
    EXPECT(atomic_load(&events) == total, "one audit event per check: %ld of %ld", atomic_load(&events), total);
    EXPECT(atomic_load(&mismatches) == 0, "consistent decisions (%ld were not)", atomic_load(&mismatches));
    EXPECT((long)reloads > 0, "the policy was reloaded during the run");
    return test_finish("threads");
}
