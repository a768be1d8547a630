/*
 * roundtrip_guest.c: the guest half of the bindgen round trip (clang
 * --target=wasm32-wasi, a reactor: no WASI import, only the world's).
 *
 * It implements the world's exports: the common interfaces (roundtrip_common.c),
 * the `handles` resources (a blob is a malloc'ed byte buffer behind a handle
 * the guest makes with [resource-new]), the `counter` of `exported-inline`,
 * `make-pair`, and `run`, through which the host asks it to
 *   run(["imports"])   call every import with sample A and check sample B;
 *   run(["finish"])    check that every export was called as expected and every
 *                      resource it handed out was dropped again.
 * A mismatch is reported through the world's `logger` import (the host prints
 * it) and makes `run` return an error.
 */
#include <stdlib.h>

#include "roundtrip.h"

void *sample_alloc(size_t n) { return n ? malloc(n) : NULL; }

static size_t put_text(char *dst, size_t at, const char *s) {
    while (*s && at < 120) dst[at++] = *s++;
    return at;
}

static size_t put_number(char *dst, size_t at, int value) {
    char digits[12];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0 && n < 11);
    while (n > 0 && at < 127) dst[at++] = digits[--n];
    return at;
}

/* Level 2: a failed check; level 0: the number of checks made. */
static void report(uint8_t level, const char *text, size_t len) {
    all_types_string_t message = {(uint8_t *)(uintptr_t)text, len};
    value_t none = {.tag = TEST_ALL_TYPES_COMPOUND_VALUE_NONE};
    all_types_logger_log(level, &message, &none);
}

void sample_fail(const char *what, int line) {
    char text[128];
    size_t at = put_text(text, 0, "guest: check failed: ");
    at = put_text(text, at, what);
    at = put_text(text, at, " at line ");
    at = put_number(text, at, line);
    sample_failures++;
    report(2, text, at);
}

static all_types_list_u8_t bytes(const uint8_t *data, size_t n) {
    all_types_list_u8_t out = {(uint8_t *)sample_alloc(n), n};
    if (n) memcpy(out.ptr, data, n);
    return out;
}

/* --- the exported `handles` interface: blobs the guest implements ------------------------ */

#define BLOB_MAX 32
struct exports_test_all_types_handles_blob_t {
    uint8_t data[BLOB_MAX];
    uint32_t len;
};
struct exports_test_all_types_handles_fallible_t {
    uint32_t id;
};
struct exports_test_all_types_handles_stream_t {
    uint32_t unused;
};
typedef exports_test_all_types_handles_blob_t blob_t;
static int live_blobs, live_fallibles;

static exports_test_all_types_handles_own_blob_t new_blob(const uint8_t *data, size_t n) {
    blob_t *b = (blob_t *)malloc(sizeof *b);
    b->len = (uint32_t)(n < BLOB_MAX ? n : BLOB_MAX);
    memcpy(b->data, data, b->len);
    live_blobs++;
    return exports_test_all_types_handles_blob_new(b);
}

exports_test_all_types_handles_own_blob_t exports_test_all_types_handles_constructor_blob(all_types_list_u8_t *init) {
    exports_test_all_types_handles_own_blob_t b = new_blob(init->ptr, init->len);
    all_types_list_u8_free(init);
    return b;
}

void exports_test_all_types_handles_method_blob_read(exports_test_all_types_handles_borrow_blob_t self, uint32_t n,
                                                     all_types_list_u8_t *ret) {
    *ret = bytes(self->data, n < self->len ? n : self->len);
}

void exports_test_all_types_handles_method_blob_write(exports_test_all_types_handles_borrow_blob_t self,
                                                      all_types_list_u8_t *data, all_types_result_u32_string_t *ret) {
    if (self->len + data->len > BLOB_MAX) {
        ret->is_err = true;
        all_types_string_dup(&ret->val.err, "full");
    } else {
        memcpy(self->data + self->len, data->ptr, data->len);
        self->len += (uint32_t)data->len;
        ret->is_err = false;
        ret->val.ok = self->len;
    }
    all_types_list_u8_free(data);
}

exports_test_all_types_handles_own_blob_t exports_test_all_types_handles_static_blob_merge(
    exports_test_all_types_handles_borrow_blob_t a, exports_test_all_types_handles_borrow_blob_t b) {
    uint8_t both[2 * BLOB_MAX];
    memcpy(both, a->data, a->len);
    memcpy(both + a->len, b->data, b->len);
    return new_blob(both, a->len + b->len);
}

uint64_t exports_test_all_types_handles_method_blob_size(exports_test_all_types_handles_borrow_blob_t self) {
    return self->len;
}

void exports_test_all_types_handles_constructor_fallible(all_types_string_t *path,
                                                         exports_all_types_result_own_fallible_string_t *ret) {
    if (path->len == 0) {
        ret->is_err = true;
        all_types_string_dup(&ret->val.err, "empty path");
    } else {
        exports_test_all_types_handles_fallible_t *f = malloc(sizeof *f);
        f->id = (uint32_t)path->len;
        live_fallibles++;
        ret->is_err = false;
        ret->val.ok = exports_test_all_types_handles_fallible_new(f);
    }
    all_types_string_free(path);
}

/* Blobs of at most 4 bytes come back; longer ones are dropped. */
void exports_test_all_types_handles_take(exports_test_all_types_handles_own_blob_t b,
                                         exports_all_types_option_own_blob_t *ret) {
    if (exports_test_all_types_handles_blob_rep(b)->len <= 4) {
        ret->is_some = true;
        ret->val = b;
    } else {
        exports_test_all_types_handles_blob_drop_own(b);
        ret->is_some = false;
    }
}

uint32_t exports_test_all_types_handles_peek(exports_test_all_types_handles_borrow_blob_t b,
                                             exports_test_all_types_handles_borrow_stream_t s) {
    (void)s;
    return b->len;
}

/* The same handles, in reverse order. */
void exports_test_all_types_handles_many(exports_all_types_list_own_blob_t *bs, exports_all_types_list_own_blob_t *ret) {
    ret->len = bs->len;
    ret->ptr = sample_alloc(bs->len * sizeof *ret->ptr);
    for (size_t i = 0; i < bs->len; i++) ret->ptr[i] = bs->ptr[bs->len - 1 - i];
    exports_all_types_list_own_blob_free(bs);
}

void exports_test_all_types_handles_blob_destructor(exports_test_all_types_handles_blob_t *rep) {
    live_blobs--;
    free(rep);
}

void exports_test_all_types_handles_fallible_destructor(exports_test_all_types_handles_fallible_t *rep) {
    live_fallibles--;
    free(rep);
}

void exports_test_all_types_handles_stream_destructor(exports_test_all_types_handles_stream_t *rep) { free(rep); }

/* --- exported-inline: a counter -------------------------------------------------------- */

struct exports_all_types_exported_inline_counter_t {
    uint32_t n;
};
static int live_counters;

exports_all_types_exported_inline_own_counter_t exports_all_types_exported_inline_constructor_counter(void) {
    exports_all_types_exported_inline_counter_t *c = malloc(sizeof *c);
    c->n = 0;
    live_counters++;
    return exports_all_types_exported_inline_counter_new(c);
}

uint32_t exports_all_types_exported_inline_method_counter_bump(exports_all_types_exported_inline_borrow_counter_t self) {
    return ++self->n;
}

void exports_all_types_exported_inline_counter_destructor(exports_all_types_exported_inline_counter_t *rep) {
    live_counters--;
    free(rep);
}

/* --- world-level exports --------------------------------------------------------------- */

void exports_all_types_make_pair(all_types_point_t *a, all_types_point_t *b, all_types_pair_t *ret) {
    check_point(0, a);
    check_point(1, b);
    test_all_types_compound_point_free(a);
    test_all_types_compound_point_free(b);
    make_pair(1, ret);
}

/* The host's blobs, through the imported `handles` (sizes and contents as the host's
 * roundtrip_host.c implements them: at most 32 bytes, `take` keeps blobs of at most 4). */
static void exercise_imported_handles(void) {
    static const uint8_t init[3] = {1, 2, 3}, more[2] = {4, 5}, nine[1] = {9}, all[6] = {1, 2, 3, 4, 5, 9};
    all_types_list_u8_t l = bytes(init, 3), r;
    test_all_types_handles_own_blob_t b1 = test_all_types_handles_constructor_blob(&l);
    all_types_list_u8_free(&l);
    test_all_types_handles_method_blob_read(test_all_types_handles_blob_borrow(b1), 2, &r);
    CHECK(bytes_are(r.ptr, r.len, init, 2));
    all_types_list_u8_free(&r);

    all_types_result_u32_string_t w;
    l = bytes(more, 2);
    test_all_types_handles_method_blob_write(test_all_types_handles_blob_borrow(b1), &l, &w);
    CHECK(!w.is_err && w.val.ok == 5);
    all_types_list_u8_free(&l);
    uint8_t big[40] = {0};
    l = bytes(big, sizeof big);
    test_all_types_handles_method_blob_write(test_all_types_handles_blob_borrow(b1), &l, &w);
    CHECK(w.is_err && str_is(&w.val.err, "full"));
    all_types_list_u8_free(&l);
    all_types_result_u32_string_free(&w);
    CHECK(test_all_types_handles_method_blob_size(test_all_types_handles_blob_borrow(b1)) == 5);

    l = bytes(nine, 1);
    test_all_types_handles_own_blob_t b2 = test_all_types_handles_constructor_blob(&l);
    all_types_list_u8_free(&l);
    test_all_types_handles_own_blob_t b3 = test_all_types_handles_static_blob_merge(
        test_all_types_handles_blob_borrow(b1), test_all_types_handles_blob_borrow(b2));
    CHECK(test_all_types_handles_method_blob_size(test_all_types_handles_blob_borrow(b3)) == 6);
    test_all_types_handles_method_blob_read(test_all_types_handles_blob_borrow(b3), 100, &r);
    CHECK(bytes_are(r.ptr, r.len, all, 6));
    all_types_list_u8_free(&r);

    all_types_string_t path = str("ok");
    all_types_result_own_fallible_string_t f;
    test_all_types_handles_constructor_fallible(&path, &f);
    CHECK(!f.is_err);
    if (!f.is_err) test_all_types_handles_fallible_drop_own(f.val.ok);
    all_types_string_free(&path);
    path = str("");
    test_all_types_handles_constructor_fallible(&path, &f);
    CHECK(f.is_err && str_is(&f.val.err, "empty path"));
    all_types_result_own_fallible_string_free(&f);

    all_types_option_own_blob_t t;
    test_all_types_handles_take(b2, &t); /* b2 moves to the host, and comes back */
    CHECK(t.is_some);
    b2 = t.val;
    test_all_types_handles_take(b3, &t); /* b3 moves to the host, which drops it */
    CHECK(!t.is_some);

    test_all_types_handles_own_blob_t two[2] = {b1, b2};
    all_types_list_own_blob_t in = {two, 2}, out;
    test_all_types_handles_many(&in, &out);
    CHECK(out.len == 2);
    if (out.len == 2) {
        CHECK(test_all_types_handles_method_blob_size(test_all_types_handles_blob_borrow(out.ptr[0])) == 1);
        CHECK(test_all_types_handles_method_blob_size(test_all_types_handles_blob_borrow(out.ptr[1])) == 5);
        test_all_types_uses_handles_holder_t holder = {out.ptr[0], str("w")};
        test_all_types_handles_own_fallible_t wrapped = test_all_types_uses_handles_wrap(&holder);
        test_all_types_handles_fallible_drop_own(wrapped);
        all_types_string_free(&holder.name);
        test_all_types_handles_blob_drop_own(out.ptr[1]);
    }
    all_types_list_own_blob_free(&out);

    /* The second instance of the interface: the same functions, other resources. */
    l = bytes(more, 2);
    all_types_second_handles_own_blob_t s = all_types_second_handles_constructor_blob(&l);
    all_types_list_u8_free(&l);
    CHECK(all_types_second_handles_method_blob_size(all_types_second_handles_blob_borrow(s)) == 2);
    all_types_second_handles_blob_drop_own(s);
}

static void exercise_world_imports(void) {
    CHECK(all_types_clock() == 42);
    all_types_own_cursor_t cur = all_types_constructor_cursor(2);
    all_types_option_pair_t next;
    for (int k = 0; k < 2; k++) {
        all_types_method_cursor_next(all_types_cursor_borrow(cur), &next);
        CHECK(next.is_some);
        if (next.is_some) check_pair(k, &next.val);
        all_types_option_pair_free(&next);
    }
    all_types_method_cursor_next(all_types_cursor_borrow(cur), &next);
    CHECK(!next.is_some);
    all_types_pair_t where;
    all_types_where_is(TEST_ALL_TYPES_COMPOUND_COLOR_GREEN, all_types_cursor_borrow(cur), &where);
    check_pair(1, &where);
    all_types_pair_free(&where);
    all_types_static_cursor_reset(all_types_cursor_borrow(cur));
    all_types_method_cursor_next(all_types_cursor_borrow(cur), &next);
    CHECK(next.is_some);
    all_types_option_pair_free(&next);
    all_types_cursor_drop_own(cur);

    all_types_string_t hello = str("hello from the guest");
    value_t v;
    make_value(TEST_ALL_TYPES_COMPOUND_VALUE_PAIR, &v);
    all_types_logger_log(1, &hello, &v);
    all_types_string_free(&hello);
}

void exports_all_types_run(all_types_list_string_t *args, all_types_result_void_void_t *ret) {
    if (args->len == 1 && str_is(&args->ptr[0], "imports")) {
        exercise_common();
        exercise_imported_handles();
        exercise_world_imports();
    } else if (args->len == 1 && str_is(&args->ptr[0], "finish")) {
        check_common_callees();
        CHECK(live_blobs == 0 && live_fallibles == 0 && live_counters == 0);
        char text[16];
        report(0, text, put_number(text, 0, sample_checks));
    } else {
        CHECK(!"run: unknown argument");
    }
    all_types_list_string_free(args);
    ret->is_err = sample_failures != 0;
}
