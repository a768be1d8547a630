/* Call-overhead probes: an empty export (host -> Wasm) and a loop calling an import (Wasm -> host). */
#include "bench.h"

#ifdef __wasm__
__attribute__((import_module("env"), import_name("host_nop"))) void host_nop(void);
#else
void host_nop(void);
#endif

void bench_empty(void) {}

uint32_t bench_call_import(uint32_t n) {
    for (uint32_t i = 0; i < n; i++) host_nop();
    return n;
}

/* Not timed: keeps the workload contract so the same harness can drive this file. */
uint32_t bench_run(uint32_t iterations) { return bench_call_import(iterations); }
uint32_t bench_verify(void) { return bench_call_import(3) == 3; }
