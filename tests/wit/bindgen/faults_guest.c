/*
 * faults_guest.c: a hand-written guest for world test:bindgen-faults, with
 * no generated bindings: the core imports are declared here, and every
 * argument is laid out by hand from CanonicalABI.md.  So it is also an
 * oracle independent of bindgen's walker for where values go: `placement`
 * checks the host's answer byte by byte at the canonical offsets.
 *
 * Each export is one case the host harness (faults_host.c) runs behind its
 * own trap boundary: good calls that must work, and bad pointers, lengths,
 * discriminants and handles that must be refused before the host's
 * implementation runs.  Memory is one 64 KiB page.
 */
#include <stdint.h>
#include <string.h>

#define MODULE "test:bindgen-faults/buffers@0.1.0"
#define IMPORT(name) __attribute__((__import_module__(MODULE), __import_name__(name)))
#define EXPORT(name) __attribute__((__export_name__(name)))
#define PAGE 65536u

IMPORT("write") extern int32_t write_raw(int32_t ptr, int32_t len);
IMPORT("names") extern void names_raw(int32_t ptr, int32_t len, int32_t ret);
IMPORT("count") extern int32_t count_raw(int32_t ptr, int32_t len);
IMPORT("echo") extern void echo_raw(int32_t a, int32_t b_ptr, int32_t b_len, int32_t c_is_some, double c,
                                    int32_t s_tag, int64_t s_payload, int32_t ret);
IMPORT("seventeen") extern int32_t seventeen_raw(int32_t args);
IMPORT("[constructor]thing") extern int32_t thing_new_raw(int32_t n);
IMPORT("[method]thing.get") extern int32_t thing_get_raw(int32_t self);
IMPORT("[resource-drop]thing") extern void thing_drop_raw(int32_t self);

/* The host puts results that hold strings here (a bump allocator: nothing is freed). */
static _Alignas(8) uint8_t heap[4096];
static uint32_t heap_used;
EXPORT("cabi_realloc") void *cabi_realloc(void *ptr, uint32_t old_size, uint32_t align, uint32_t new_size) {
    (void)ptr;
    (void)old_size;
    heap_used = (heap_used + align - 1) & ~(align - 1);
    void *p = heap + heap_used;
    heap_used += new_size;
    return p;
}

#define ADDR(p) ((int32_t)(uintptr_t)(p))

static uint32_t f32_bits(float f) {
    uint32_t i;
    memcpy(&i, &f, 4);
    return i;
}

static _Alignas(8) uint8_t ret_area[64];
static const char hello[] = "hi";

/* echo(pair{7, "hi", some(2.5)}, shape.dot(1.5)): the host checks those and answers
 * pair{9, "xyz", none}, read back here at the canonical offsets: a u8 at 0, the
 * string's (ptr, len) at 4 and 8, the option's case byte at 16 (payload at 24). */
EXPORT("placement") int32_t placement(void) {
    memset(ret_area, 0xAA, sizeof ret_area);
    echo_raw(7, ADDR(hello), 2, 1, 2.5, 0, (int64_t)f32_bits(1.5f), ADDR(ret_area));
    uint32_t sptr, slen;
    memcpy(&sptr, ret_area + 4, 4);
    memcpy(&slen, ret_area + 8, 4);
    int ok = ret_area[0] == 9 && slen == 3 && memcmp((const void *)(uintptr_t)sptr, "xyz", 3) == 0 &&
             ret_area[16] == 0;
    /* shape.line(u64): the payload slot is the joined i64 */
    echo_raw(7, ADDR(hello), 2, 1, 2.5, 1, (int64_t)0xFFFFFFFF00000001ull, ADDR(ret_area));
    return ok && ret_area[0] == 10;
}

static const uint8_t three[3] = {1, 2, 3};
EXPORT("write_ok") int32_t write_ok(void) { return write_raw(ADDR(three), 3); }
EXPORT("write_past_end") int32_t write_past_end(void) { return write_raw((int32_t)(PAGE - 2), 3); }
EXPORT("write_wraps") int32_t write_wraps(void) { return write_raw((int32_t)0xFFFFFFF0u, 0x20); }
EXPORT("write_too_long") int32_t write_too_long(void) { return write_raw(0, 0x10000000); }
EXPORT("write_empty_at_end") int32_t write_empty_at_end(void) { return write_raw((int32_t)PAGE, 0); }

/* names(list<string>) -> result<u32, errno>: the result is written at `ret_area`:
 * the case byte at 0, the u32 or the errno at 4. */
static int32_t names_result(void) {
    uint32_t payload;
    memcpy(&payload, ret_area + 4, 4);
    return ret_area[0] == 0 ? (int32_t)payload : -(int32_t)payload - 1; /* err(e) as -e-1 */
}

static _Alignas(4) uint32_t strings[4];
EXPORT("names_ok") int32_t names_ok(void) {
    strings[0] = (uint32_t)ADDR(hello), strings[1] = 2;
    strings[2] = (uint32_t)ADDR(three), strings[3] = 3;
    names_raw(ADDR(strings), 2, ADDR(ret_area));
    return names_result();
}
EXPORT("names_list_past_end") int32_t names_list_past_end(void) {
    names_raw((int32_t)(PAGE - 8), 2, ADDR(ret_area));
    return names_result();
}
EXPORT("names_string_past_end") int32_t names_string_past_end(void) {
    strings[0] = (uint32_t)ADDR(hello), strings[1] = 2;
    strings[2] = PAGE - 1, strings[3] = 2; /* the second string runs off the end */
    names_raw(ADDR(strings), 2, ADDR(ret_area));
    return names_result();
}
/* A well-formed list one byte off its alignment: refused for the alignment alone. */
static _Alignas(4) uint8_t unaligned[12];
EXPORT("names_misaligned") int32_t names_misaligned(void) {
    uint32_t entry[2] = {(uint32_t)ADDR(hello), 2};
    memcpy(unaligned + 1, entry, 8);
    names_raw(ADDR(unaligned) + 1, 1, ADDR(ret_area));
    return names_result();
}
EXPORT("names_bad_return_area") int32_t names_bad_return_area(void) {
    strings[0] = (uint32_t)ADDR(hello), strings[1] = 2;
    names_raw(ADDR(strings), 1, (int32_t)(PAGE - 4));
    return 0;
}

EXPORT("count_ok") int32_t count_ok(void) { return count_raw(ADDR(hello), 2); }
EXPORT("count_past_end") int32_t count_past_end(void) { return count_raw((int32_t)(PAGE - 1), 2); }
static const uint8_t not_utf8[2] = {0xC0, 0x80}; /* an overlong NUL */
EXPORT("count_not_utf8") int32_t count_not_utf8(void) { return count_raw(ADDR(not_utf8), 2); }

EXPORT("echo_bad_case") int32_t echo_bad_case(void) {
    echo_raw(7, ADDR(hello), 2, 0, 0.0, 2, 0, ADDR(ret_area)); /* shape has cases 0 and 1 */
    return 0;
}
EXPORT("echo_bad_option") int32_t echo_bad_option(void) {
    echo_raw(7, ADDR(hello), 2, 2, 0.0, 0, 0, ADDR(ret_area)); /* an option's case is 0 or 1 */
    return 0;
}
EXPORT("echo_bad_return_area") int32_t echo_bad_return_area(void) {
    echo_raw(7, ADDR(hello), 2, 0, 0.0, 0, 0, ADDR(ret_area) + 4); /* the pair needs 8-byte alignment */
    return 0;
}

static _Alignas(8) uint8_t args[80];
EXPORT("seventeen_ok") int32_t seventeen_ok(void) {
    for (uint32_t i = 0; i < 16; i++) memcpy(args + 4 * i, &i, 4);
    uint32_t s[2] = {(uint32_t)ADDR(hello), 2};
    memcpy(args + 64, s, 8);
    return seventeen_raw(ADDR(args));
}
EXPORT("seventeen_args_past_end") int32_t seventeen_args_past_end(void) {
    return seventeen_raw((int32_t)(PAGE - 40));
}

EXPORT("thing_ok") int32_t thing_ok(void) {
    int32_t t = thing_new_raw(41);
    int32_t v = thing_get_raw(t);
    thing_drop_raw(t);
    return v;
}
EXPORT("thing_bad_handle") int32_t thing_bad_handle(void) { return thing_get_raw(12345); }
EXPORT("thing_dropped_handle") int32_t thing_dropped_handle(void) {
    int32_t t = thing_new_raw(1);
    thing_drop_raw(t);
    return thing_get_raw(t);
}
