/*
 * faults_host.c: the host harness for faults_guest.c (module prefix `bad`),
 * over the generated host bindings of world test:bindgen-faults.
 *
 * Runs each export of the guest behind its own trap boundary and prints one
 * line per case: "<case>: returned <value>" or "<case>: trap <message>",
 * then how many times the host's implementations ran during the case and
 * how much scratch space was left in use.  A refused pointer must leave
 * "calls=0": the implementation never saw it.
 */
#include <stdio.h>
#include <string.h>

#include "faults_host_module.h"
#include "imports_init.h" /* INIT_IMPORTS(imports, ctx): written by the test from the module's imports */

typedef test_bindgen_faults_buffers_pair_t pair_t;
static int calls;

static bool is(const faults_string_t *s, const char *text) {
    return s->len == strlen(text) && memcmp(s->ptr, text, s->len) == 0;
}

test_bindgen_faults_buffers_errno_t test_bindgen_faults_buffers_write(faults_ctx *ctx, const faults_list_u8_t *data) {
    (void)ctx;
    calls++;
    bool ok = data->len == 0 || (data->len == 3 && data->ptr[0] == 1 && data->ptr[2] == 3);
    return ok ? TEST_BINDGEN_FAULTS_BUFFERS_ERRNO_SUCCESS : TEST_BINDGEN_FAULTS_BUFFERS_ERRNO_INVAL;
}

void test_bindgen_faults_buffers_names(faults_ctx *ctx, const faults_list_string_t *names,
                                       faults_result_u32_errno_t *ret) {
    (void)ctx;
    calls++;
    ret->is_err = !(names->len >= 1 && is(&names->ptr[0], "hi"));
    if (ret->is_err) ret->val.err = TEST_BINDGEN_FAULTS_BUFFERS_ERRNO_INVAL;
    else ret->val.ok = (uint32_t)names->len;
}

uint32_t test_bindgen_faults_buffers_count(faults_ctx *ctx, const faults_string_t *text) {
    (void)ctx;
    calls++;
    return (uint32_t)text->len;
}

/* pair{7, "hi", some(2.5)} with dot(1.5) answers pair{9, "xyz", none}; with line(0xFFFFFFFF00000001),
 * pair{10, "", none}; anything else pair{0, "", none}. */
void test_bindgen_faults_buffers_echo(faults_ctx *ctx, const pair_t *p, const test_bindgen_faults_buffers_shape_t *s,
                                      pair_t *ret) {
    (void)ctx;
    calls++;
    bool arg = p->a == 7 && is(&p->b, "hi") && p->c.is_some && p->c.val == 2.5;
    ret->a = 0;
    faults_string_set(&ret->b, "");
    ret->c.is_some = false;
    if (arg && s->tag == TEST_BINDGEN_FAULTS_BUFFERS_SHAPE_DOT && s->val.dot == 1.5f) {
        ret->a = 9;
        faults_string_set(&ret->b, "xyz");
    } else if (arg && s->tag == TEST_BINDGEN_FAULTS_BUFFERS_SHAPE_LINE && s->val.line == 0xFFFFFFFF00000001ull) {
        ret->a = 10;
    }
}

uint32_t test_bindgen_faults_buffers_seventeen(faults_ctx *ctx, uint32_t a, uint32_t b, uint32_t c, uint32_t d,
                                               uint32_t e, uint32_t f, uint32_t g, uint32_t h, uint32_t i, uint32_t j,
                                               uint32_t k, uint32_t l, uint32_t m, uint32_t n, uint32_t o, uint32_t p,
                                               const faults_string_t *q) {
    (void)ctx;
    calls++;
    uint32_t all[16] = {a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p};
    for (uint32_t x = 0; x < 16; x++) {
        if (all[x] != x) return 0;
    }
    return is(q, "hi") ? 1700 : 1;
}

struct test_bindgen_faults_buffers_thing_t {
    uint32_t n;
};
static test_bindgen_faults_buffers_thing_t the_thing;

test_bindgen_faults_buffers_own_thing_t test_bindgen_faults_buffers_constructor_thing(faults_ctx *ctx, uint32_t n) {
    (void)ctx;
    calls++;
    the_thing.n = n;
    return &the_thing;
}

uint32_t test_bindgen_faults_buffers_method_thing_get(faults_ctx *ctx, test_bindgen_faults_buffers_borrow_thing_t self) {
    (void)ctx;
    calls++;
    return self->n;
}

void test_bindgen_faults_buffers_thing_destructor(faults_ctx *ctx, test_bindgen_faults_buffers_thing_t *rep) {
    (void)ctx;
    (void)rep;
    calls++;
}

static bad__instance instance;

struct call {
    int32_t (*fn)(bad__instance *);
    int32_t result;
};

static void run_case(void *inst, void *call) {
    struct call *c = (struct call *)call;
    c->result = c->fn((bad__instance *)inst);
}

#define CASE(name) {#name, bad_##name}
static const struct {
    const char *name;
    int32_t (*fn)(bad__instance *);
} cases[] = {
    CASE(placement), CASE(write_ok), CASE(write_past_end), CASE(write_wraps), CASE(write_too_long),
    CASE(write_empty_at_end), CASE(names_ok), CASE(names_list_past_end), CASE(names_string_past_end),
    CASE(names_misaligned), CASE(names_bad_return_area), CASE(count_ok), CASE(count_past_end),
    CASE(count_not_utf8), CASE(echo_bad_case), CASE(echo_bad_option), CASE(echo_bad_return_area),
    CASE(seventeen_ok), CASE(seventeen_args_past_end), CASE(thing_ok), CASE(thing_bad_handle),
    CASE(thing_dropped_handle),
};

int main(void) {
    static uint8_t scratch[1024];
    static faults_handle handles[4];
    static faults_ctx ctx;
    faults_ctx_init(&ctx, scratch, sizeof scratch, handles, 4, NULL);
    bad__imports imports;
    INIT_IMPORTS(imports, &ctx);
    if (bad__instantiate(&instance, &imports) != WAFT_TRAP_NONE) return 1;
    faults_attach(&ctx, &instance);
    bad___x5finitialize(&instance);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct call c = {cases[i].fn, 0};
        int before = calls;
        waft_trap_code code = waft_call_guarded(run_case, &instance, &c);
        if (code == WAFT_TRAP_NONE) printf("%s: returned %d", cases[i].name, (int)c.result);
        else printf("%s: trap %s", cases[i].name, waft_strerror(code));
        printf(" calls=%d scratch=%u\n", calls - before, (unsigned)ctx.scratch_used);
        faults_ctx_release(&ctx, 0); /* a trap leaves what the glue had taken */
    }
    return 0;
}
