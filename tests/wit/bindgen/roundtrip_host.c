/*
 * roundtrip_host.c: the host half of the bindgen round trip, linked with the
 * Waft-compiled guest (prefix `guest`) on the host or a board.
 *
 * It implements the world's imports: the common interfaces
 * (roundtrip_common.c), the `handles` resources (a blob is a slot of a static
 * pool: nothing is malloc'ed, as on a board), the same again for the
 * `second-handles` copy of the interface, the world's `cursor`, `clock` and
 * `where-is`, and `logger`, through which the guest reports what it found
 * wrong.  main() instantiates the guest, has it call every import
 * (run(["imports"])), calls every export itself through the generated
 * wrappers, and asks the guest to check its side (run(["finish"])).  It
 * prints "roundtrip: N checks on the host, M in the guest, 0 failures" last and exits 0 when all
 * is well.
 */
#include <stdio.h>

#include "roundtrip.h"
#include "imports_init.h" /* INIT_IMPORTS(imports, ctx): written by the test from the module's imports */

all_types_ctx *g_ctx;

void *sample_alloc(size_t n) { return all_types_ctx_alloc(g_ctx, n, 8); }

void sample_fail(const char *what, int line) {
    sample_failures++;
    printf("host: check failed: %s at line %d\n", what, line);
}

static all_types_list_u8_t bytes(const uint8_t *data, size_t n) {
    uint8_t *p = (uint8_t *)sample_alloc(n);
    if (n) memcpy(p, data, n);
    all_types_list_u8_t out = {p, n};
    return out;
}

/* --- imported `handles`, twice: blobs in a static pool ---------------------------------- */

#define BLOB_MAX 32
#define POOL 8
struct blob {
    uint8_t data[BLOB_MAX];
    uint32_t len;
    bool used;
};
static struct blob blob_pool[POOL];
static int live_blobs, live_fallibles, live_cursors;

static struct blob *blob_new(const uint8_t *data, size_t n) {
    for (int i = 0; i < POOL; i++) {
        if (!blob_pool[i].used) {
            blob_pool[i].used = true;
            blob_pool[i].len = (uint32_t)(n < BLOB_MAX ? n : BLOB_MAX);
            memcpy(blob_pool[i].data, data, blob_pool[i].len);
            live_blobs++;
            return &blob_pool[i];
        }
    }
    sample_fail("blob pool exhausted", __LINE__);
    return &blob_pool[0];
}

static void blob_free(struct blob *b) {
    CHECK(b->used);
    b->used = false;
    live_blobs--;
}

struct fallible_rep {
    uint32_t id;
};
static struct fallible_rep fallible_pool[2];

/* The implementation of interface `handles` for one of its two imports, P: the C prefix. */
#define HANDLES(P, RES)                                                                                               \
    struct P##_blob_t {                                                                                               \
        struct blob b;                                                                                                \
    };                                                                                                                \
    struct P##_fallible_t {                                                                                           \
        struct fallible_rep f;                                                                                        \
    };                                                                                                                \
    struct P##_stream_t {                                                                                             \
        int unused;                                                                                                   \
    };                                                                                                                \
    P##_own_blob_t P##_constructor_blob(all_types_ctx *ctx, const all_types_list_u8_t *init) {                        \
        (void)ctx;                                                                                                    \
        return (P##_own_blob_t)blob_new(init->ptr, init->len);                                                        \
    }                                                                                                                 \
    void P##_method_blob_read(all_types_ctx *ctx, P##_borrow_blob_t self, uint32_t n, all_types_list_u8_t *ret) {     \
        (void)ctx;                                                                                                    \
        *ret = bytes(self->b.data, n < self->b.len ? n : self->b.len);                                                \
    }                                                                                                                 \
    void P##_method_blob_write(all_types_ctx *ctx, P##_borrow_blob_t self, const all_types_list_u8_t *data,           \
                               all_types_result_u32_string_t *ret) {                                                  \
        (void)ctx;                                                                                                    \
        if (self->b.len + data->len > BLOB_MAX) {                                                                     \
            ret->is_err = true;                                                                                       \
            all_types_string_set(&ret->val.err, "full");                                                              \
        } else {                                                                                                      \
            memcpy(self->b.data + self->b.len, data->ptr, data->len);                                                 \
            self->b.len += (uint32_t)data->len;                                                                       \
            ret->is_err = false;                                                                                      \
            ret->val.ok = self->b.len;                                                                                \
        }                                                                                                             \
    }                                                                                                                 \
    P##_own_blob_t P##_static_blob_merge(all_types_ctx *ctx, P##_borrow_blob_t a, P##_borrow_blob_t b) {              \
        (void)ctx;                                                                                                    \
        uint8_t both[2 * BLOB_MAX];                                                                                   \
        memcpy(both, a->b.data, a->b.len);                                                                            \
        memcpy(both + a->b.len, b->b.data, b->b.len);                                                                 \
        return (P##_own_blob_t)blob_new(both, a->b.len + b->b.len);                                                   \
    }                                                                                                                 \
    uint64_t P##_method_blob_size(all_types_ctx *ctx, P##_borrow_blob_t self) {                                       \
        (void)ctx;                                                                                                    \
        return self->b.len;                                                                                           \
    }                                                                                                                 \
    void P##_constructor_fallible(all_types_ctx *ctx, const all_types_string_t *path, RES *ret) {                     \
        (void)ctx;                                                                                                    \
        if (path->len == 0) {                                                                                         \
            ret->is_err = true;                                                                                       \
            all_types_string_set(&ret->val.err, "empty path");                                                        \
        } else {                                                                                                      \
            CHECK(str_is(path, "ok"));                                                                                \
            fallible_pool[live_fallibles].id = (uint32_t)path->len;                                                   \
            ret->is_err = false;                                                                                      \
            ret->val.ok = (P##_own_fallible_t)&fallible_pool[live_fallibles++];                                       \
        }                                                                                                             \
    }                                                                                                                 \
    void P##_blob_destructor(all_types_ctx *ctx, P##_blob_t *rep) {                                                   \
        (void)ctx;                                                                                                    \
        blob_free(&rep->b);                                                                                           \
    }                                                                                                                 \
    void P##_fallible_destructor(all_types_ctx *ctx, P##_fallible_t *rep) {                                           \
        (void)ctx;                                                                                                    \
        (void)rep;                                                                                                    \
        live_fallibles--;                                                                                             \
    }                                                                                                                 \
    void P##_stream_destructor(all_types_ctx *ctx, P##_stream_t *rep) {                                               \
        (void)ctx;                                                                                                    \
        (void)rep;                                                                                                    \
    }                                                                                                                 \
    uint32_t P##_peek(all_types_ctx *ctx, P##_borrow_blob_t b, P##_borrow_stream_t s) {                               \
        (void)ctx;                                                                                                    \
        (void)s;                                                                                                      \
        return b->b.len;                                                                                              \
    }

HANDLES(test_all_types_handles, all_types_result_own_fallible_string_t)
HANDLES(all_types_second_handles, all_types_result_own_fallible_string2_t)

/* Blobs of at most 4 bytes come back; longer ones are dropped. */
void test_all_types_handles_take(all_types_ctx *ctx, test_all_types_handles_own_blob_t b,
                                 all_types_option_own_blob_t *ret) {
    if (b->b.len <= 4) {
        ret->is_some = true;
        ret->val = b;
    } else {
        test_all_types_handles_blob_destructor(ctx, b);
        ret->is_some = false;
    }
}

void all_types_second_handles_take(all_types_ctx *ctx, all_types_second_handles_own_blob_t b,
                                   all_types_option_own_blob2_t *ret) {
    (void)ctx;
    ret->is_some = true;
    ret->val = b;
}

/* The same handles, in reverse order. */
void test_all_types_handles_many(all_types_ctx *ctx, const all_types_list_own_blob_t *bs, all_types_list_own_blob_t *ret) {
    (void)ctx;
    test_all_types_handles_own_blob_t *out = (test_all_types_handles_own_blob_t *)sample_alloc(bs->len * sizeof *out);
    for (size_t i = 0; i < bs->len; i++) out[i] = bs->ptr[bs->len - 1 - i];
    ret->ptr = out;
    ret->len = bs->len;
}

void all_types_second_handles_many(all_types_ctx *ctx, const all_types_list_own_blob2_t *bs,
                                   all_types_list_own_blob2_t *ret) {
    (void)ctx;
    *ret = *bs;
}

test_all_types_handles_own_fallible_t test_all_types_uses_handles_wrap(all_types_ctx *ctx,
                                                                       const test_all_types_uses_handles_holder_t *h) {
    CHECK(str_is(&h->name, "w") && h->b->b.len == 1);
    test_all_types_handles_blob_destructor(ctx, h->b);
    fallible_pool[live_fallibles].id = 99;
    return (test_all_types_handles_own_fallible_t)&fallible_pool[live_fallibles++];
}

/* --- the world's own imports ------------------------------------------------------------ */

struct all_types_cursor_t {
    uint32_t start, pos;
};
static all_types_cursor_t cursor;

uint64_t all_types_clock(all_types_ctx *ctx) {
    (void)ctx;
    return 42;
}

all_types_own_cursor_t all_types_constructor_cursor(all_types_ctx *ctx, uint32_t start) {
    (void)ctx;
    CHECK(live_cursors == 0 && start == 2);
    cursor.start = start;
    cursor.pos = 0;
    live_cursors++;
    return &cursor;
}

void all_types_method_cursor_next(all_types_ctx *ctx, all_types_borrow_cursor_t self, all_types_option_pair_t *ret) {
    (void)ctx;
    ret->is_some = self->pos < self->start;
    if (ret->is_some) make_pair((int)self->pos++ % 2, &ret->val);
}

void all_types_where_is(all_types_ctx *ctx, all_types_color_t c, all_types_borrow_cursor_t cur, all_types_pair_t *ret) {
    (void)ctx;
    CHECK(c == TEST_ALL_TYPES_COMPOUND_COLOR_GREEN && cur == &cursor && cur->pos == 2);
    make_pair(1, ret);
}

void all_types_static_cursor_reset(all_types_ctx *ctx, all_types_borrow_cursor_t c) {
    (void)ctx;
    c->pos = 0;
}

void all_types_cursor_destructor(all_types_ctx *ctx, all_types_cursor_t *rep) {
    (void)ctx;
    CHECK(rep == &cursor);
    live_cursors--;
}

static int logged, guest_checks;
void all_types_logger_log(all_types_ctx *ctx, uint8_t level, const all_types_string_t *message,
                          const all_types_logger_value_t *value) {
    (void)ctx;
    if (level == 2) { /* the guest reports a failed check */
        sample_failures++;
        printf("%.*s\n", (int)message->len, (const char *)message->ptr);
        return;
    }
    if (level == 0) { /* the guest's number of checks, at the end */
        for (size_t i = 0; i < message->len; i++) guest_checks = guest_checks * 10 + (message->ptr[i] - '0');
        return;
    }
    CHECK(level == 1 && str_is(message, "hello from the guest"));
    check_value(TEST_ALL_TYPES_COMPOUND_VALUE_PAIR, value);
    logged++;
}

/* --- the guest's exports ---------------------------------------------------------------- */

static void exercise_exported_handles(void) {
    BEGIN_SCOPE
    static const uint8_t sevens[2] = {7, 7}, one[1] = {1}, eight[1] = {8}, all[4] = {7, 7, 1, 8};
    all_types_list_u8_t l = bytes(sevens, 2), r;
    exports_test_all_types_handles_own_blob_t b1 = exports_test_all_types_handles_constructor_blob(g_ctx, &l);
    exports_test_all_types_handles_method_blob_read(g_ctx, exports_test_all_types_handles_blob_borrow(b1), 1, &r);
    CHECK(bytes_are(r.ptr, r.len, sevens, 1));
    all_types_result_u32_string_t w;
    l = bytes(one, 1);
    exports_test_all_types_handles_method_blob_write(g_ctx, exports_test_all_types_handles_blob_borrow(b1), &l, &w);
    CHECK(!w.is_err && w.val.ok == 3);
    uint8_t big[40] = {0};
    l = bytes(big, sizeof big);
    exports_test_all_types_handles_method_blob_write(g_ctx, exports_test_all_types_handles_blob_borrow(b1), &l, &w);
    CHECK(w.is_err && str_is(&w.val.err, "full"));
    CHECK(exports_test_all_types_handles_method_blob_size(g_ctx, exports_test_all_types_handles_blob_borrow(b1)) == 3);

    l = bytes(eight, 1);
    exports_test_all_types_handles_own_blob_t b2 = exports_test_all_types_handles_constructor_blob(g_ctx, &l);
    exports_test_all_types_handles_own_blob_t b3 = exports_test_all_types_handles_static_blob_merge(
        g_ctx, exports_test_all_types_handles_blob_borrow(b1), exports_test_all_types_handles_blob_borrow(b2));
    exports_test_all_types_handles_method_blob_read(g_ctx, exports_test_all_types_handles_blob_borrow(b3), 10, &r);
    CHECK(bytes_are(r.ptr, r.len, all, 4));
    exports_test_all_types_handles_own_blob_t b4 = exports_test_all_types_handles_static_blob_merge(
        g_ctx, exports_test_all_types_handles_blob_borrow(b3), exports_test_all_types_handles_blob_borrow(b3));
    exports_test_all_types_handles_blob_drop(g_ctx, b3);

    all_types_string_t path = str("x");
    exports_all_types_result_own_fallible_string_t f;
    exports_test_all_types_handles_constructor_fallible(g_ctx, &path, &f);
    CHECK(!f.is_err);
    if (!f.is_err) exports_test_all_types_handles_fallible_drop(g_ctx, f.val.ok);
    path = str("");
    exports_test_all_types_handles_constructor_fallible(g_ctx, &path, &f);
    CHECK(f.is_err && str_is(&f.val.err, "empty path"));

    exports_all_types_option_own_blob_t t;
    exports_test_all_types_handles_take(g_ctx, b2, &t); /* one byte: comes back */
    CHECK(t.is_some);
    b2 = t.val;
    exports_test_all_types_handles_take(g_ctx, b4, &t); /* eight bytes: the guest drops it */
    CHECK(!t.is_some);

    exports_test_all_types_handles_own_blob_t two[2] = {b1, b2};
    exports_all_types_list_own_blob_t in = {two, 2}, out;
    exports_test_all_types_handles_many(g_ctx, &in, &out);
    CHECK(out.len == 2);
    if (out.len == 2) {
        CHECK(exports_test_all_types_handles_method_blob_size(g_ctx, exports_test_all_types_handles_blob_borrow(out.ptr[0])) == 1);
        CHECK(exports_test_all_types_handles_method_blob_size(g_ctx, exports_test_all_types_handles_blob_borrow(out.ptr[1])) == 3);
        exports_test_all_types_handles_blob_drop(g_ctx, out.ptr[0]);
        exports_test_all_types_handles_blob_drop(g_ctx, out.ptr[1]);
    }

    exports_all_types_exported_inline_own_counter_t c = exports_all_types_exported_inline_constructor_counter(g_ctx);
    CHECK(exports_all_types_exported_inline_method_counter_bump(g_ctx, exports_all_types_exported_inline_counter_borrow(c)) == 1);
    CHECK(exports_all_types_exported_inline_method_counter_bump(g_ctx, exports_all_types_exported_inline_counter_borrow(c)) == 2);
    exports_all_types_exported_inline_counter_drop(g_ctx, c);

    all_types_point_t a, b;
    all_types_pair_t pair;
    make_point(0, &a);
    make_point(1, &b);
    exports_all_types_make_pair(g_ctx, &a, &b, &pair);
    check_pair(1, &pair);
    END_SCOPE
}

static bool run_guest(const char *what) {
    BEGIN_SCOPE
    all_types_string_t arg = str(what);
    all_types_list_string_t args = {&arg, 1};
    all_types_result_void_void_t result;
    exports_all_types_run(g_ctx, &args, &result);
    END_SCOPE
    return !result.is_err;
}

static guest__instance instance;
static uint8_t scratch[8192];
static all_types_handle handles[16];
static all_types_ctx ctx;

static void everything(void *unused_a, void *unused_b) {
    (void)unused_a;
    (void)unused_b;
    guest___x5finitialize(&instance);
    CHECK(run_guest("imports"));
    exercise_common();
    exercise_exported_handles();
    CHECK(run_guest("finish"));
}

int main(void) {
    all_types_ctx_init(&ctx, scratch, sizeof scratch, handles, 16, NULL);
    g_ctx = &ctx;
    guest__imports imports;
    INIT_IMPORTS(imports, &ctx);
    waft_trap_code code = guest__instantiate(&instance, &imports);
    if (code == WAFT_TRAP_NONE) {
        all_types_attach(&ctx, &instance);
        code = waft_call_guarded(everything, NULL, NULL);
    }
    if (code != WAFT_TRAP_NONE) {
        printf("roundtrip: trap: %s\n", waft_strerror(code));
        return 1;
    }
    check_common_callees();
    CHECK(live_blobs == 0 && live_fallibles == 0 && live_cursors == 0 && logged == 1);
    CHECK(ctx.scratch_used == 0);
    for (int i = 0; i < 16; i++) CHECK(handles[i].type == 0);
    printf("roundtrip: %d checks on the host, %d in the guest, %d failures\n", sample_checks, guest_checks,
           sample_failures);
    return sample_failures != 0;
}
