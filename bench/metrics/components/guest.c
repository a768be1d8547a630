/*
 * guest.c: the component of the `components` metric group, compiled to wasm32 against the guest
 * bindings of calls.wit (`waft bindgen --guest --name guest`) and made a component with
 * `wasm-tools component embed` + `component new`.
 *
 * The same work is reachable two ways from the firmware:
 *   bench:components/api#count   the canonical ABI: the string is copied into memory the module's
 *                                cabi_realloc gives, the record is lifted back (the generated C)
 *   core_buffer / core_tally     plain core exports: the caller writes the text into a static buffer
 *                                and reads the result where core_tally says it is
 */
#include <stdlib.h>

#include "guest.h"
#include "tally.h"

#ifndef BENCH_GUEST_SKEW
#define BENCH_GUEST_SKEW 0u /* a test sets 1: the canonical side answers wrongly, the group must fail */
#endif

void exports_bench_components_api_count(guest_string_t *text, bench_components_api_tally_t *ret) {
    bench_tally t = bench_tally_of(text->ptr, text->len);
    ret->bytes = t.bytes;
    ret->digits = t.digits;
    ret->checksum = t.checksum + BENCH_GUEST_SKEW;
    guest_string_free(text); /* the argument was handed over */
}

static uint8_t buffer[256];
static bench_tally result;

__attribute__((export_name("core_buffer"))) uint8_t *core_buffer(void) {
    return buffer;
}

__attribute__((export_name("core_tally"))) bench_tally *core_tally(uint32_t n) {
    result = bench_tally_of(buffer, n < sizeof buffer ? n : sizeof buffer);
    return &result;
}
