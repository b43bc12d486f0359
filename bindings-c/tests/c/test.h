/* Shared helpers of the C tests: failing checks, hex decoding, whole-file reading. */
#ifndef WRIT_TEST_H
#define WRIT_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writ.h"

static int test_failures = 0;

/* Record a failure with its location and go on (each test reports all it finds). */
#define EXPECT(cond, ...)                                                        \
    do {                                                                         \
        if (!(cond)) {                                                           \
            test_failures++;                                                     \
            fprintf(stderr, "%s:%d: expected %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
        }                                                                        \
    } while (0)

/* A call that must succeed; stops the program when it does not. */
#define MUST(call)                                                                    \
    do {                                                                              \
        writ_result must_rc_ = (call);                                                \
        if (must_rc_ != WRIT_RESULT_OK) {                                             \
            fprintf(stderr, "%s:%d: %s failed with %u: %s\n", __FILE__, __LINE__, #call, \
                    (unsigned)must_rc_, writ_last_error());                           \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

/* strlen for string literals and C strings given with explicit lengths. */
#define S(s) (s), strlen(s)

static inline int test_hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decode lowercase hex into a new NUL-terminated buffer; NULL when malformed. */
static inline char *test_unhex(const char *hex, size_t *out_len) {
    size_t n = strlen(hex);
    while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r')) n--;
    if (n % 2 != 0) return NULL;
    char *out = malloc(n / 2 + 1);
    if (!out) return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = test_hex_value(hex[2 * i]), lo = test_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (char)(hi * 16 + lo);
    }
    out[n / 2] = '\0';
    if (out_len) *out_len = n / 2;
    return out;
}

/* Read a whole file into a new NUL-terminated buffer; NULL when it cannot be read. */
static inline char *test_read_file(const char *path, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[len] = '\0';
    if (out_len) *out_len = len;
    return buf;
}

/* The exit status of a test program: 0 when nothing failed. */
static inline int test_finish(const char *name) {
    if (test_failures) {
        fprintf(stderr, "%s: %d failure(s)\n", name, test_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

#endif
