/* Front-end parity: every request of e2e/parity/requests.jsonl, decided through libwrit
 * (writ_check_json on the request's JSON text as written in the file, writ_decision_json on
 * the decision), gives byte for byte the line of e2e/parity/decisions.jsonl: the JSON that
 * `writ eval` prints and the Rust, Python and Node suites compare with (e2e/parity/README.md).
 * A malformed request must fail with WRIT_RESULT_ERR_JSON, never be decided.
 *
 * C has no JSON parser: each request line is read by its fixed layout,
 * {"id":"ID","pack":"PACK","request":REQUEST}, which e2e/tests/parity.rs checks.
 *
 * Usage: parity REQUESTS_FILE GOLDEN_FILE */
#define _POSIX_C_SOURCE 200809L
#include "test.h"

#define MAX_PACKS 64
/* The fixed clock every front end is given (no request of the set depends on it). */
#define PARITY_NOW 1767225600ULL

static struct {
    char *name;
    writ_engine *engine;
} packs[MAX_PACKS];
static size_t pack_count = 0;

static writ_engine *engine_for(const char *pack) {
    for (size_t i = 0; i < pack_count; i++)
        if (strcmp(packs[i].name, pack) == 0) return packs[i].engine;
    if (pack_count == MAX_PACKS) {
        fprintf(stderr, "too many packs\n");
        exit(1);
    }
    size_t len = strlen(WRIT_POLICIES) + 1 + strlen(pack) + 1;
    char *path = malloc(len);
    if (!path) exit(1);
    snprintf(path, len, "%s/%s", WRIT_POLICIES, pack);
    writ_engine_options *options = NULL;
    MUST(writ_engine_options_new(&options));
    MUST(writ_engine_options_set_time(options, PARITY_NOW));
    writ_engine *engine = NULL;
    MUST(writ_engine_new_from_path(S(path), options, &engine));
    writ_engine_options_free(options);
    free(path);
    packs[pack_count].name = strdup(pack);
    packs[pack_count].engine = engine;
    pack_count++;
    return engine;
}

/* Split a whole file into its lines, in place; every line must end with '\n'. */
static char **split_lines(char *text, size_t len, size_t *count, const char *path) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') n++;
    if (len == 0 || text[len - 1] != '\n') {
        fprintf(stderr, "%s: empty, or its last line has no newline\n", path);
        exit(2);
    }
    char **lines = calloc(n, sizeof *lines);
    if (!lines) exit(1);
    char *start = text;
    for (size_t i = 0; i < n; i++) {
        char *end = strchr(start, '\n');
        *end = '\0';
        lines[i] = start;
        start = end + 1;
    }
    *count = n;
    return lines;
}

/* A string field of the fixed layout: `"KEY":"VALUE"` at *at, VALUE without quotes or escapes.
 * Returns VALUE (NUL-terminated in place) and moves *at past it; NULL when absent. */
static char *take_field(char **at, const char *key) {
    size_t k = strlen(key);
    char *p = *at;
    if (p[0] != '"' || strncmp(p + 1, key, k) != 0 || strncmp(p + 1 + k, "\":\"", 3) != 0) return NULL;
    char *value = p + k + 4;
    char *end = strchr(value, '"');
    if (!end || end == value) return NULL;
    *end = '\0';
    *at = end + 1;
    return value;
}

/* Decide one request line; the line this front end produces (malloc'ed), or NULL on failure. */
static char *decide(char *line, size_t number, const char **id_out) {
    char *at = line;
    if (*at++ != '{') return NULL;
    char *id = take_field(&at, "id");
    if (!id || *at++ != ',') return NULL;
    char *pack = take_field(&at, "pack");
    const char *key = ",\"request\":";
    if (!pack || strncmp(at, key, strlen(key)) != 0) return NULL;
    char *request = at + strlen(key);
    size_t request_len = strlen(request);
    if (request_len < 2 || request[request_len - 1] != '}') return NULL;
    request_len--; /* the line's closing brace */
    *id_out = id;

    writ_decision *d = NULL;
    writ_result rc = writ_check_json(engine_for(pack), request, request_len, &d);
    const char *json = NULL;
    size_t json_len = 0;
    size_t cap = strlen(id) + 64;
    if (rc == WRIT_RESULT_ERR_JSON) {
        EXPECT(d == NULL, "%s: no decision is written on an error", id);
        char *out = malloc(cap);
        if (!out) exit(1);
        snprintf(out, cap, "{\"id\":\"%s\",\"error\":\"invalid request\"}", id);
        return out;
    }
    if (rc != WRIT_RESULT_OK) {
        fprintf(stderr, "FAIL line %zu (%s): writ_check_json returned %u: %s\n", number, id,
                (unsigned)rc, writ_last_error());
        return NULL;
    }
    MUST(writ_decision_json(d, &json, &json_len));
    EXPECT(strlen(json) == json_len, "%s: the JSON's length is its length", id);
    cap += json_len;
    char *out = malloc(cap);
    if (!out) exit(1);
    snprintf(out, cap, "{\"id\":\"%s\",\"decision\":%s}", id, json);
    writ_decision_free(d);
    return out;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: parity REQUESTS_FILE GOLDEN_FILE\n");
        return 2;
    }
    size_t requests_len = 0, golden_len = 0;
    char *requests_text = test_read_file(argv[1], &requests_len);
    char *golden_text = test_read_file(argv[2], &golden_len);
    if (!requests_text || !golden_text) {
        fprintf(stderr, "cannot read %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    size_t request_count = 0, golden_count = 0;
    char **requests = split_lines(requests_text, requests_len, &request_count, argv[1]);
    char **golden = split_lines(golden_text, golden_len, &golden_count, argv[2]);

    size_t same = 0;
    for (size_t i = 0; i < request_count; i++) {
        const char *id = "?";
        char *produced = decide(requests[i], i + 1, &id);
        if (!produced) {
            EXPECT(0, "line %zu of %s is decided (layout {\"id\":..,\"pack\":..,\"request\":..})", i + 1, argv[1]);
        } else if (i >= golden_count) {
            EXPECT(0, "line %zu (%s) has a golden line: the golden file has only %zu", i + 1, id, golden_count);
        } else if (strcmp(produced, golden[i]) != 0) {
            EXPECT(0, "line %zu (%s) is the golden line:\n  golden: %s\n  libwrit: %s", i + 1, id,
                   golden[i], produced);
        } else {
            same++;
        }
        free(produced);
    }
    for (size_t i = request_count; i < golden_count; i++)
        EXPECT(0, "golden line %zu has a request: %s", i + 1, golden[i]);

    for (size_t i = 0; i < pack_count; i++) {
        writ_engine_free(packs[i].engine);
        free(packs[i].name);
    }
    free(requests);
    free(golden);
    free(requests_text);
    free(golden_text);
    printf("parity: %zu of %zu requests from %zu packs give the golden line (%zu golden lines)\n",
           same, request_count, pack_count, golden_count);
    EXPECT(request_count >= 30, "the request set is not truncated (%zu lines)", request_count);
    return test_finish("parity");
}
