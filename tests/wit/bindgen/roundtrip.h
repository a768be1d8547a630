/*
 * roundtrip.h: what the guest (wasm32) and the host (native) halves of the
 * bindgen round trip share.  Both compile roundtrip_values.c and
 * roundtrip_common.c against their own generated header, in which every
 * non-resource type of the test:all-types world has the same C name; the
 * macros below say which side is which.
 *
 * The rule of every call in the round trip: the caller passes sample A, the
 * callee checks that it received exactly A (against constants, field by
 * field), answers sample B, and the caller checks B.  So each value is
 * checked by C code on the side that received it, and a mistake of the
 * generated code on either side shows, whichever direction it travels.
 */
#ifndef ROUNDTRIP_H
#define ROUNDTRIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(SIDE_GUEST)
#include "all_types.h"
/* The guest implements the exports and calls the imports. */
#define CALLEE(f) exports_test_all_types_##f
#define CALLER(f) test_all_types_##f
#define CTX_PARAM
#define CTX_ONLY void
#define CTX_ARG
#define CTX_ARG_ONLY
#define IN
/* The guest owns what it receives and frees it with the generated _free functions. */
#define RELEASE(free_fn, ptr) free_fn(ptr)
#define BEGIN_SCOPE
#define END_SCOPE
#elif defined(SIDE_HOST)
#include "all_types_host_module.h"
extern all_types_ctx *g_ctx;
#define CALLEE(f) test_all_types_##f
#define CALLER(f) exports_test_all_types_##f
#define CTX_PARAM all_types_ctx *ctx __attribute__((unused)),
#define CTX_ONLY all_types_ctx *ctx __attribute__((unused))
#define CTX_ARG g_ctx,
#define CTX_ARG_ONLY g_ctx
#define IN const
/* The host's values live in the ctx's scratch space, given back after each group of calls. */
#define RELEASE(free_fn, ptr) ((void)(ptr))
#define BEGIN_SCOPE size_t scope_ = all_types_ctx_mark(g_ctx);
#define END_SCOPE all_types_ctx_release(g_ctx, scope_);
#else
#error "define SIDE_GUEST or SIDE_HOST"
#endif

typedef test_all_types_compound_point_t point_t;
typedef test_all_types_compound_shape_t shape_t;
typedef test_all_types_compound_value_t value_t;
typedef test_all_types_compound_variant_of_floats_t floats_t;

/* Side-specific: memory for sample values (the guest mallocs what it hands over; the host
 * takes scratch space) and reporting a mismatch. */
void *sample_alloc(size_t n);
void sample_fail(const char *what, int line);
extern int sample_failures;
extern int sample_checks;

#define CHECK(cond) \
    do { \
        sample_checks++; \
        if (!(cond)) sample_fail(#cond, __LINE__); \
    } while (0)

/* Strings and byte lists. */
all_types_string_t str(const char *s);
bool str_is(const all_types_string_t *s, const char *expected);
bool bytes_are(const uint8_t *ptr, size_t len, const uint8_t *expected, size_t n);

/* Samples: `k` picks one of several distinct values of the type; check_* compares field by field. */
void make_point(int k, point_t *p);
void check_point(int k, const point_t *p);
void make_shape(int k, shape_t *s);
void check_shape(int k, const shape_t *s);
#define VALUE_CASES 8
void make_value(int k, value_t *v);
void check_value(int k, const value_t *v);
#define FLOATS_CASES 5
void make_floats(int k, floats_t *v);
void check_floats(int k, const floats_t *v);
void make_index(int k, test_all_types_compound_index_t *m);
void check_index(int k, const test_all_types_compound_index_t *m);
void make_pair(int k, all_types_pair_t *p);
void check_pair(int k, const all_types_pair_t *p);

/* The scalar and compound interfaces, both ways (roundtrip_common.c). */
void exercise_common(void);
void check_common_callees(void);

#endif
