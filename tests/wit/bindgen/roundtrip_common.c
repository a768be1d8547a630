/*
 * roundtrip_common.c: the `scalars` and `compound` interfaces of
 * test:all-types, which the world both imports and exports.  Compiled for
 * both sides: CALLEE(f) is what this side implements (the guest's exports,
 * the host's imports), CALLER(f) what it calls (the guest's imports, the
 * host's export wrappers).  Every callee checks sample A and answers sample
 * B; exercise_common() calls every function with A and checks B.  Functions
 * called several times (a variant's every case) keep a counter on each side.
 */
#include "roundtrip.h"

static const char HELLO[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93";

static void set_bytes(uint8_t **ptr, size_t *len, const uint8_t *data, size_t n) {
    uint8_t *p = (uint8_t *)sample_alloc(n);
    if (n > 0) {
        memcpy(p, data, n);
    }
    *ptr = p;
    *len = n;
}

/* --- scalars ---------------------------------------------------------------------------- */

bool CALLEE(scalars_echo_bool)(CTX_PARAM bool x) { CHECK(x == true); return false; }
int8_t CALLEE(scalars_echo_s8)(CTX_PARAM int8_t x) { CHECK(x == INT8_MIN); return 127; }
uint8_t CALLEE(scalars_echo_u8)(CTX_PARAM uint8_t x) { CHECK(x == 200); return 7; }
int16_t CALLEE(scalars_echo_s16)(CTX_PARAM int16_t x) { CHECK(x == INT16_MIN); return 12345; }
uint16_t CALLEE(scalars_echo_u16)(CTX_PARAM uint16_t x) { CHECK(x == UINT16_MAX); return 1; }
int32_t CALLEE(scalars_echo_s32)(CTX_PARAM int32_t x) { CHECK(x == INT32_MIN); return INT32_MAX; }
uint32_t CALLEE(scalars_echo_u32)(CTX_PARAM uint32_t x) { CHECK(x == UINT32_MAX); return 0x80000000u; }
int64_t CALLEE(scalars_echo_s64)(CTX_PARAM int64_t x) { CHECK(x == INT64_MIN); return INT64_MAX; }
uint64_t CALLEE(scalars_echo_u64)(CTX_PARAM uint64_t x) { CHECK(x == UINT64_MAX); return 1ull << 63; }
float CALLEE(scalars_echo_f32)(CTX_PARAM float x) { CHECK(x == -0.15625f); return 3.0e38f; }
double CALLEE(scalars_echo_f64)(CTX_PARAM double x) { CHECK(x == 1e-300); return -1e300; }
uint32_t CALLEE(scalars_echo_char)(CTX_PARAM uint32_t x) { CHECK(x == 0x1F600u); return 0xE9u; }

void CALLEE(scalars_echo_string)(CTX_PARAM IN all_types_string_t *x, all_types_string_t *ret) {
    CHECK(str_is(x, HELLO));
    RELEASE(all_types_string_free, x);
    *ret = str("");
}

uint64_t CALLEE(scalars_mixed)(CTX_PARAM uint8_t a, float b, int64_t c, double d, uint32_t e, bool f) {
    CHECK(a == 250 && b == 2.5f && c == -5 && d == 1e100 && e == 0x10FFFFu && f);
    return 0xFEDCBA9876543210ull;
}

static void exercise_scalars(void) {
    BEGIN_SCOPE
    CHECK(CALLER(scalars_echo_bool)(CTX_ARG true) == false);
    CHECK(CALLER(scalars_echo_s8)(CTX_ARG INT8_MIN) == 127);
    CHECK(CALLER(scalars_echo_u8)(CTX_ARG 200) == 7);
    CHECK(CALLER(scalars_echo_s16)(CTX_ARG INT16_MIN) == 12345);
    CHECK(CALLER(scalars_echo_u16)(CTX_ARG UINT16_MAX) == 1);
    CHECK(CALLER(scalars_echo_s32)(CTX_ARG INT32_MIN) == INT32_MAX);
    CHECK(CALLER(scalars_echo_u32)(CTX_ARG UINT32_MAX) == 0x80000000u);
    CHECK(CALLER(scalars_echo_s64)(CTX_ARG INT64_MIN) == INT64_MAX);
    CHECK(CALLER(scalars_echo_u64)(CTX_ARG UINT64_MAX) == 1ull << 63);
    CHECK(CALLER(scalars_echo_f32)(CTX_ARG -0.15625f) == 3.0e38f);
    CHECK(CALLER(scalars_echo_f64)(CTX_ARG 1e-300) == -1e300);
    CHECK(CALLER(scalars_echo_char)(CTX_ARG 0x1F600u) == 0xE9u);
    all_types_string_t s = str(HELLO), r;
    CALLER(scalars_echo_string)(CTX_ARG &s, &r);
    CHECK(str_is(&r, ""));
    RELEASE(all_types_string_free, &s);
    RELEASE(all_types_string_free, &r);
    CHECK(CALLER(scalars_mixed)(CTX_ARG 250, 2.5f, -5, 1e100, 0x10FFFFu, true) == 0xFEDCBA9876543210ull);
    END_SCOPE
}

/* --- compound --------------------------------------------------------------------------- */

void CALLEE(compound_echo_point)(CTX_PARAM IN point_t *p, point_t *ret) {
    check_point(0, p);
    RELEASE(test_all_types_compound_point_free, p);
    make_point(1, ret);
}

void CALLEE(compound_echo_shape)(CTX_PARAM IN shape_t *s, shape_t *ret) {
    check_shape(0, s);
    RELEASE(test_all_types_compound_shape_free, s);
    make_shape(1, ret);
}

static int value_calls;
void CALLEE(compound_echo_value)(CTX_PARAM IN value_t *v, value_t *ret) {
    int k = value_calls++ % VALUE_CASES;
    check_value(k, v);
    RELEASE(test_all_types_compound_value_free, v);
    make_value((k + 1) % VALUE_CASES, ret);
}

test_all_types_compound_color_t CALLEE(compound_echo_color)(CTX_PARAM test_all_types_compound_color_t c) {
    CHECK(c == TEST_ALL_TYPES_COMPOUND_COLOR_BLUE);
    return TEST_ALL_TYPES_COMPOUND_COLOR_GREEN;
}

#define FEW_A (TEST_ALL_TYPES_COMPOUND_FEW_A | TEST_ALL_TYPES_COMPOUND_FEW_C)
#define NINE_A (TEST_ALL_TYPES_COMPOUND_NINE_F1 | TEST_ALL_TYPES_COMPOUND_NINE_F9)
#define SEVENTEEN_A (TEST_ALL_TYPES_COMPOUND_SEVENTEEN_G1 | TEST_ALL_TYPES_COMPOUND_SEVENTEEN_G17)
#define THIRTY_TWO_A (TEST_ALL_TYPES_COMPOUND_THIRTY_TWO_H1 | TEST_ALL_TYPES_COMPOUND_THIRTY_TWO_H32)

void CALLEE(compound_echo_flags)(CTX_PARAM test_all_types_compound_few_t a, test_all_types_compound_nine_t b,
                                 test_all_types_compound_seventeen_t c, test_all_types_compound_thirty_two_t d,
                                 all_types_tuple4_few_nine_seventeen_thirty_two_t *ret) {
    CHECK(a == FEW_A && b == NINE_A && c == SEVENTEEN_A && d == THIRTY_TWO_A);
    ret->f0 = TEST_ALL_TYPES_COMPOUND_FEW_B;
    ret->f1 = TEST_ALL_TYPES_COMPOUND_NINE_F8;
    ret->f2 = TEST_ALL_TYPES_COMPOUND_SEVENTEEN_G16;
    ret->f3 = TEST_ALL_TYPES_COMPOUND_THIRTY_TWO_H16 | TEST_ALL_TYPES_COMPOUND_THIRTY_TWO_H31;
}

static const float MATRIX[3][3] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9.5f}};

void CALLEE(compound_echo_fixed)(CTX_PARAM IN test_all_types_compound_rgba_t *c,
                                 IN test_all_types_compound_matrix_t *m, test_all_types_compound_rgba_t *ret) {
    static const uint8_t rgba[4] = {1, 2, 3, 255};
    CHECK(memcmp(c->elems, rgba, 4) == 0);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            CHECK(m->elems[i].elems[j] == MATRIX[i][j]);
        }
    }
    ret->elems[0] = 0;
    ret->elems[1] = 128;
    ret->elems[2] = 64;
    ret->elems[3] = 32;
}

void CALLEE(compound_echo_map)(CTX_PARAM IN test_all_types_compound_index_t *i, test_all_types_compound_index_t *ret) {
    check_index(0, i);
    RELEASE(test_all_types_compound_index_free, i);
    make_index(1, ret);
}

void CALLEE(compound_echo_alias)(CTX_PARAM IN test_all_types_compound_alias_of_alias_t *b,
                                 test_all_types_compound_m_t d, test_all_types_compound_bytes_t *ret) {
    static const uint8_t in[4] = {0, 1, 2, 255}, out[3] = {9, 8, 7};
    CHECK(bytes_are(b->ptr, b->len, in, 4) && d == 6.25);
    RELEASE(test_all_types_compound_alias_of_alias_free, b);
    uint8_t *p;
    set_bytes(&p, &ret->len, out, 3);
    ret->ptr = p;
}

static int options_calls;
void CALLEE(compound_options)(CTX_PARAM IN all_types_option_u8_t *a, IN all_types_option_option_string_t *b,
                              IN all_types_option_point_t *c, all_types_option_f64_t *ret) {
    switch (options_calls++) {
    case 0:
        CHECK(a->is_some && a->val == 5);
        CHECK(b->is_some && b->val.is_some && str_is(&b->val.val, "x"));
        CHECK(!c->is_some);
        ret->is_some = true;
        ret->val = 2.5;
        break;
    case 1:
        CHECK(!a->is_some);
        CHECK(b->is_some && !b->val.is_some);
        CHECK(c->is_some);
        if (c->is_some) check_point(0, &c->val);
        ret->is_some = false;
        break;
    default:
        CHECK(a->is_some && a->val == 0);
        CHECK(!b->is_some);
        CHECK(c->is_some);
        if (c->is_some) check_point(1, &c->val);
        ret->is_some = true;
        ret->val = -1e10;
        break;
    }
    RELEASE(all_types_option_option_string_free, b);
    RELEASE(all_types_option_point_free, c);
}

static int results_calls;
void CALLEE(compound_results)(CTX_PARAM IN all_types_result_void_void_t *a, IN all_types_result_u32_void_t *b,
                              IN all_types_result_void_string_t *c, IN all_types_result_string_color_t *d,
                              all_types_result_shape_value_t *ret) {
    if (results_calls++ == 0) {
        CHECK(!a->is_err);
        CHECK(!b->is_err && b->val.ok == 7);
        CHECK(c->is_err && str_is(&c->val.err, "bad"));
        CHECK(!d->is_err && str_is(&d->val.ok, "good"));
        ret->is_err = false;
        make_shape(1, &ret->val.ok);
    } else {
        CHECK(a->is_err);
        CHECK(b->is_err);
        CHECK(!c->is_err);
        CHECK(d->is_err && d->val.err == TEST_ALL_TYPES_COMPOUND_COLOR_RED);
        ret->is_err = true;
        make_value(TEST_ALL_TYPES_COMPOUND_VALUE_TEXT, &ret->val.err);
    }
    RELEASE(all_types_result_void_string_free, c);
    RELEASE(all_types_result_string_color_free, d);
}

static int nothing_calls;
void CALLEE(compound_nothing)(CTX_ONLY) { nothing_calls++; }

uint32_t CALLEE(compound_many_params)(CTX_PARAM uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e,
                                      uint32_t f, uint32_t g, uint32_t h, uint64_t i, uint64_t j, uint64_t k,
                                      uint64_t l, float m, float n, double o, double p, uint8_t q) {
    CHECK(a == 1 && b == 2 && c == 3 && d == 4 && e == 5 && f == 6 && g == 7 && h == UINT32_MAX);
    CHECK(i == 9000000000000000ull && j == 10 && k == 11 && l == UINT64_MAX);
    CHECK(m == 13.5f && n == -14.5f && o == 15.25 && p == -16.75 && q == 255);
    return 0xC0FFEEu;
}

int64_t CALLEE(compound_sixteen_params)(CTX_PARAM uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e,
                                        uint32_t f, uint32_t g, uint32_t h, uint32_t i, uint32_t j, uint32_t k,
                                        uint32_t l, uint32_t m, uint32_t n, uint32_t o, uint32_t p) {
    uint32_t all[16] = {a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p};
    for (uint32_t x = 0; x < 15; x++) {
        CHECK(all[x] == x + 1);
    }
    CHECK(p == UINT32_MAX);
    return -1234567890123LL;
}

static int joins_calls;
void CALLEE(compound_joins)(CTX_PARAM IN floats_t *v, floats_t *ret) {
    int k = joins_calls++ % FLOATS_CASES;
    check_floats(k, v);
    make_floats((k + 1) % FLOATS_CASES, ret);
}

static void exercise_compound(void) {
    {
        BEGIN_SCOPE
        point_t p, rp;
        make_point(0, &p);
        CALLER(compound_echo_point)(CTX_ARG &p, &rp);
        check_point(1, &rp);
        RELEASE(test_all_types_compound_point_free, &p);
        RELEASE(test_all_types_compound_point_free, &rp);
        shape_t s, rs;
        make_shape(0, &s);
        CALLER(compound_echo_shape)(CTX_ARG &s, &rs);
        check_shape(1, &rs);
        RELEASE(test_all_types_compound_shape_free, &s);
        RELEASE(test_all_types_compound_shape_free, &rs);
        END_SCOPE
    }
    for (int k = 0; k < VALUE_CASES; k++) {
        BEGIN_SCOPE
        value_t v, r;
        make_value(k, &v);
        CALLER(compound_echo_value)(CTX_ARG &v, &r);
        check_value((k + 1) % VALUE_CASES, &r);
        RELEASE(test_all_types_compound_value_free, &v);
        RELEASE(test_all_types_compound_value_free, &r);
        END_SCOPE
    }
    CHECK(CALLER(compound_echo_color)(CTX_ARG TEST_ALL_TYPES_COMPOUND_COLOR_BLUE) == TEST_ALL_TYPES_COMPOUND_COLOR_GREEN);
    {
        BEGIN_SCOPE
        all_types_tuple4_few_nine_seventeen_thirty_two_t t;
        CALLER(compound_echo_flags)(CTX_ARG FEW_A, NINE_A, SEVENTEEN_A, THIRTY_TWO_A, &t);
        CHECK(t.f0 == TEST_ALL_TYPES_COMPOUND_FEW_B && t.f1 == TEST_ALL_TYPES_COMPOUND_NINE_F8);
        CHECK(t.f2 == TEST_ALL_TYPES_COMPOUND_SEVENTEEN_G16);
        CHECK(t.f3 == (TEST_ALL_TYPES_COMPOUND_THIRTY_TWO_H16 | TEST_ALL_TYPES_COMPOUND_THIRTY_TWO_H31));

        test_all_types_compound_rgba_t c = {{1, 2, 3, 255}}, rc;
        test_all_types_compound_matrix_t m;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                m.elems[i].elems[j] = MATRIX[i][j];
            }
        }
        CALLER(compound_echo_fixed)(CTX_ARG &c, &m, &rc);
        CHECK(rc.elems[0] == 0 && rc.elems[1] == 128 && rc.elems[2] == 64 && rc.elems[3] == 32);

        test_all_types_compound_index_t idx, ridx;
        make_index(0, &idx);
        CALLER(compound_echo_map)(CTX_ARG &idx, &ridx);
        check_index(1, &ridx);
        RELEASE(test_all_types_compound_index_free, &idx);
        RELEASE(test_all_types_compound_index_free, &ridx);

        static const uint8_t in[4] = {0, 1, 2, 255}, out[3] = {9, 8, 7};
        test_all_types_compound_alias_of_alias_t b;
        test_all_types_compound_bytes_t rb;
        uint8_t *bp;
        set_bytes(&bp, &b.len, in, 4);
        b.ptr = bp;
        CALLER(compound_echo_alias)(CTX_ARG &b, 6.25, &rb);
        CHECK(bytes_are(rb.ptr, rb.len, out, 3));
        RELEASE(test_all_types_compound_alias_of_alias_free, &b);
        RELEASE(test_all_types_compound_bytes_free, &rb);
        END_SCOPE
    }
    for (int call = 0; call < 3; call++) {
        BEGIN_SCOPE
        all_types_option_u8_t a;
        all_types_option_option_string_t b;
        all_types_option_point_t c;
        all_types_option_f64_t r;
        memset(&b, 0, sizeof b);
        memset(&c, 0, sizeof c);
        if (call == 0) {
            a.is_some = true, a.val = 5;
            b.is_some = true, b.val.is_some = true, b.val.val = str("x");
            c.is_some = false;
        } else if (call == 1) {
            a.is_some = false;
            b.is_some = true, b.val.is_some = false;
            c.is_some = true, make_point(0, &c.val);
        } else {
            a.is_some = true, a.val = 0;
            b.is_some = false;
            c.is_some = true, make_point(1, &c.val);
        }
        CALLER(compound_options)(CTX_ARG &a, &b, &c, &r);
        if (call == 0) CHECK(r.is_some && r.val == 2.5);
        else if (call == 1) CHECK(!r.is_some);
        else CHECK(r.is_some && r.val == -1e10);
        RELEASE(all_types_option_option_string_free, &b);
        RELEASE(all_types_option_point_free, &c);
        END_SCOPE
    }
    for (int call = 0; call < 2; call++) {
        BEGIN_SCOPE
        all_types_result_void_void_t a;
        all_types_result_u32_void_t b;
        all_types_result_void_string_t c;
        all_types_result_string_color_t d;
        all_types_result_shape_value_t r;
        if (call == 0) {
            a.is_err = false;
            b.is_err = false, b.val.ok = 7;
            c.is_err = true, c.val.err = str("bad");
            d.is_err = false, d.val.ok = str("good");
        } else {
            a.is_err = true;
            b.is_err = true;
            c.is_err = false;
            d.is_err = true, d.val.err = TEST_ALL_TYPES_COMPOUND_COLOR_RED;
        }
        CALLER(compound_results)(CTX_ARG &a, &b, &c, &d, &r);
        if (call == 0) {
            CHECK(!r.is_err);
            if (!r.is_err) check_shape(1, &r.val.ok);
        } else {
            CHECK(r.is_err);
            if (r.is_err) check_value(TEST_ALL_TYPES_COMPOUND_VALUE_TEXT, &r.val.err);
        }
        RELEASE(all_types_result_void_string_free, &c);
        RELEASE(all_types_result_string_color_free, &d);
        RELEASE(all_types_result_shape_value_free, &r);
        END_SCOPE
    }
    CALLER(compound_nothing)(CTX_ARG_ONLY);
    CHECK(CALLER(compound_many_params)(CTX_ARG 1, 2, 3, 4, 5, 6, 7, UINT32_MAX, 9000000000000000ull, 10, 11,
                                       UINT64_MAX, 13.5f, -14.5f, 15.25, -16.75, 255) == 0xC0FFEEu);
    CHECK(CALLER(compound_sixteen_params)(CTX_ARG 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, UINT32_MAX) ==
          -1234567890123LL);
    for (int k = 0; k < FLOATS_CASES; k++) {
        floats_t v, r;
        make_floats(k, &v);
        CALLER(compound_joins)(CTX_ARG &v, &r);
        check_floats((k + 1) % FLOATS_CASES, &r);
    }
}

void exercise_common(void) {
    exercise_scalars();
    exercise_compound();
}

/* Every callee above ran as often as exercise_common() calls it on the other side. */
void check_common_callees(void) {
    CHECK(value_calls == VALUE_CASES && options_calls == 3 && results_calls == 2);
    CHECK(nothing_calls == 1 && joins_calls == FLOATS_CASES);
}
