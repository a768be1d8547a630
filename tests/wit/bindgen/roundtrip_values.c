/*
 * roundtrip_values.c: the sample values of the round trip, and their checks.
 * Compiled for both sides.  Values are chosen to catch what a binding gets
 * wrong: extremes of every integer width (sign and zero extension), floats
 * whose bits matter, non-ASCII and empty strings, empty and nested lists,
 * every case of a variant, options inside options.
 */
#include "roundtrip.h"

int sample_failures;
int sample_checks;

all_types_string_t str(const char *s) {
    all_types_string_t out;
    out.len = strlen(s);
    uint8_t *p = (uint8_t *)sample_alloc(out.len);
    if (out.len > 0) {
        memcpy(p, s, out.len);
    }
    out.ptr = p;
    return out;
}

bool str_is(const all_types_string_t *s, const char *expected) {
    size_t n = strlen(expected);
    return s->len == n && (n == 0 || memcmp(s->ptr, expected, n) == 0);
}

bool bytes_are(const uint8_t *ptr, size_t len, const uint8_t *expected, size_t n) {
    return len == n && (n == 0 || memcmp(ptr, expected, n) == 0);
}

void make_point(int k, point_t *p) {
    if (k == 0) {
        p->x = 1;
        p->y = -2;
        p->label.is_some = true;
        p->label.val = str("h\xc3\xa9llo");
        p->size.value = 2.5;
        p->size.scale = TEST_UNITS_UNITS_SCALE_KILO;
    } else {
        p->x = INT32_MIN;
        p->y = INT32_MAX;
        p->label.is_some = false;
        p->size.value = 1e-300;
        p->size.scale = TEST_UNITS_UNITS_SCALE_MILLI;
    }
}

void check_point(int k, const point_t *p) {
    if (k == 0) {
        CHECK(p->x == 1 && p->y == -2);
        CHECK(p->label.is_some && str_is(&p->label.val, "h\xc3\xa9llo"));
        CHECK(p->size.value == 2.5 && p->size.scale == TEST_UNITS_UNITS_SCALE_KILO);
    } else {
        CHECK(p->x == INT32_MIN && p->y == INT32_MAX);
        CHECK(!p->label.is_some);
        CHECK(p->size.value == 1e-300 && p->size.scale == TEST_UNITS_UNITS_SCALE_MILLI);
    }
}

static all_types_list_string_t strings(const char *const *items, size_t n) {
    all_types_list_string_t out;
    all_types_string_t *p = (all_types_string_t *)sample_alloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        p[i] = str(items[i]);
    }
    out.ptr = p;
    out.len = n;
    return out;
}

void make_shape(int k, shape_t *s) {
    static const char *const tags0[] = {"a", "bc"};
    static const char *const tags2[] = {"\xe6\x97\xa5\xe6\x9c\xac", "", "z"};
    if (k == 0) {
        point_t *pts = (point_t *)sample_alloc(2 * sizeof *pts);
        make_point(0, &pts[0]);
        make_point(1, &pts[1]);
        all_types_list_string_t *tags = (all_types_list_string_t *)sample_alloc(3 * sizeof *tags);
        tags[0] = strings(tags0, 2);
        tags[1] = strings(tags0, 0);
        tags[2] = strings(tags2, 3);
        s->name = str("shape \xe2\x98\x85");
        s->points.ptr = pts;
        s->points.len = 2;
        s->tags.ptr = tags;
        s->tags.len = 3;
        make_point(1, &s->origin);
    } else {
        s->name = str("");
        s->points.ptr = NULL;
        s->points.len = 0;
        all_types_list_string_t *tags = (all_types_list_string_t *)sample_alloc(sizeof *tags);
        tags[0] = strings(tags2 + 1, 1);
        s->tags.ptr = tags;
        s->tags.len = 1;
        make_point(0, &s->origin);
    }
}

void check_shape(int k, const shape_t *s) {
    if (k == 0) {
        CHECK(str_is(&s->name, "shape \xe2\x98\x85"));
        CHECK(s->points.len == 2);
        if (s->points.len == 2) {
            check_point(0, &s->points.ptr[0]);
            check_point(1, &s->points.ptr[1]);
        }
        CHECK(s->tags.len == 3);
        if (s->tags.len == 3) {
            CHECK(s->tags.ptr[0].len == 2 && str_is(&s->tags.ptr[0].ptr[0], "a") &&
                  str_is(&s->tags.ptr[0].ptr[1], "bc"));
            CHECK(s->tags.ptr[1].len == 0);
            CHECK(s->tags.ptr[2].len == 3 && str_is(&s->tags.ptr[2].ptr[0], "\xe6\x97\xa5\xe6\x9c\xac") &&
                  str_is(&s->tags.ptr[2].ptr[1], "") && str_is(&s->tags.ptr[2].ptr[2], "z"));
        }
        check_point(1, &s->origin);
    } else {
        CHECK(str_is(&s->name, ""));
        CHECK(s->points.len == 0);
        CHECK(s->tags.len == 1 && s->tags.ptr[0].len == 1 && str_is(&s->tags.ptr[0].ptr[0], ""));
        check_point(0, &s->origin);
    }
}

void make_value(int k, value_t *v) {
    v->tag = (uint8_t)k;
    switch (k) {
    case TEST_ALL_TYPES_COMPOUND_VALUE_SMALL: v->val.small = 200; break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_BIG: v->val.big = UINT64_MAX; break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_REAL: v->val.real = -1.25f; break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_PRECISE: v->val.precise = 3.141592653589793; break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_TEXT: v->val.text = str("txt \xe2\x9c\x93"); break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_PAIR: v->val.pair.f0 = 65535; v->val.pair.f1 = -0.5; break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_NESTED: make_shape(0, &v->val.nested); break;
    default: break;
    }
}

void check_value(int k, const value_t *v) {
    CHECK(v->tag == k);
    if (v->tag != k) return;
    switch (k) {
    case TEST_ALL_TYPES_COMPOUND_VALUE_SMALL: CHECK(v->val.small == 200); break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_BIG: CHECK(v->val.big == UINT64_MAX); break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_REAL: CHECK(v->val.real == -1.25f); break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_PRECISE: CHECK(v->val.precise == 3.141592653589793); break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_TEXT: CHECK(str_is(&v->val.text, "txt \xe2\x9c\x93")); break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_PAIR: CHECK(v->val.pair.f0 == 65535 && v->val.pair.f1 == -0.5); break;
    case TEST_ALL_TYPES_COMPOUND_VALUE_NESTED: check_shape(0, &v->val.nested); break;
    default: break;
    }
}

void make_floats(int k, floats_t *v) {
    v->tag = (uint8_t)k;
    switch (k) {
    case TEST_ALL_TYPES_COMPOUND_VARIANT_OF_FLOATS_A: v->val.a = 1.5f; break;
    case TEST_ALL_TYPES_COMPOUND_VARIANT_OF_FLOATS_B: v->val.b = 0xDEADBEEFu; break;
    case TEST_ALL_TYPES_COMPOUND_VARIANT_OF_FLOATS_C: v->val.c = -2.5e-10; break;
    case TEST_ALL_TYPES_COMPOUND_VARIANT_OF_FLOATS_D: v->val.d = -9000000000000000000LL; break;
    default: v->val.e.f0 = 0.75f; v->val.e.f1 = 255; break;
    }
}

void check_floats(int k, const floats_t *v) {
    CHECK(v->tag == k);
    if (v->tag != k) return;
    switch (k) {
    case TEST_ALL_TYPES_COMPOUND_VARIANT_OF_FLOATS_A: CHECK(v->val.a == 1.5f); break;
    case TEST_ALL_TYPES_COMPOUND_VARIANT_OF_FLOATS_B: CHECK(v->val.b == 0xDEADBEEFu); break;
    case TEST_ALL_TYPES_COMPOUND_VARIANT_OF_FLOATS_C: CHECK(v->val.c == -2.5e-10); break;
    case TEST_ALL_TYPES_COMPOUND_VARIANT_OF_FLOATS_D: CHECK(v->val.d == -9000000000000000000LL); break;
    default: CHECK(v->val.e.f0 == 0.75f && v->val.e.f1 == 255); break;
    }
}

void make_index(int k, test_all_types_compound_index_t *m) {
    if (k == 0) {
        test_all_types_compound_index_entry_t *e = (test_all_types_compound_index_entry_t *)sample_alloc(3 * sizeof *e);
        e[0].key = str("one");
        e[0].value = 1;
        e[1].key = str("two");
        e[1].value = 2;
        e[2].key = str("\xc3\xbcn\xc3\xaf");
        e[2].value = UINT32_MAX;
        m->ptr = e;
        m->len = 3;
    } else {
        test_all_types_compound_index_entry_t *e = (test_all_types_compound_index_entry_t *)sample_alloc(sizeof *e);
        e[0].key = str("z");
        e[0].value = 26;
        m->ptr = e;
        m->len = 1;
    }
}

void check_index(int k, const test_all_types_compound_index_t *m) {
    if (k == 0) {
        CHECK(m->len == 3);
        if (m->len != 3) return;
        CHECK(str_is(&m->ptr[0].key, "one") && m->ptr[0].value == 1);
        CHECK(str_is(&m->ptr[1].key, "two") && m->ptr[1].value == 2);
        CHECK(str_is(&m->ptr[2].key, "\xc3\xbcn\xc3\xaf") && m->ptr[2].value == UINT32_MAX);
    } else {
        CHECK(m->len == 1 && str_is(&m->ptr[0].key, "z") && m->ptr[0].value == 26);
    }
}

void make_pair(int k, all_types_pair_t *p) {
    make_point(k, &p->left);
    make_point(1 - k, &p->right);
}

void check_pair(int k, const all_types_pair_t *p) {
    check_point(k, &p->left);
    check_point(1 - k, &p->right);
}
