/*
 * w2c_wasi.h: the imports instance a wasm2c-translated WASI module gets from the wasm2c peer of the
 * wasi and startup metric groups (bench/metrics/wasm2c_peer.py).  wasm2c 1.0.32 ships no WASI, so
 * the generated glue (w2c_wasi_glue.c) routes each wasi_snapshot_preview1 import to Waft's own C p1
 * function with `wasi` as its ctx: the peer measures wasm2c's call path into the same p1 layer.
 */
#ifndef BENCH_W2C_WASI_H
#define BENCH_W2C_WASI_H
#include "waft_wasi.h"
#include "w2c_prog.h"

struct Z_wasi_snapshot_preview1_instance_t {
    waft_wasi_ctx wasi;       /* the WASI process, as Waft's embedding has it */
    waft_memory memory;       /* a mirror of wasm2c's memory, which Waft's p1 functions read */
    wasm_rt_memory_t *guest;  /* wasm2c's memory: its storage moves when the guest grows it */
};

/* Point the mirror at wasm2c's memory as it is now (the glue does this before every call). */
static inline void *w2c_wasi_sync(struct Z_wasi_snapshot_preview1_instance_t *i) {
    i->memory.base = i->guest->data;
    i->memory.size = (size_t)i->guest->size;
    i->memory.pages = (uint32_t)i->guest->pages;
    return &i->wasi;
}

/* After Z_prog_instantiate: attach the instance's memory export to the ctx. */
static inline void w2c_wasi_attach(struct Z_wasi_snapshot_preview1_instance_t *i, wasm_rt_memory_t *memory) {
    i->guest = memory;
    i->memory.max_pages = (uint32_t)memory->max_pages;
    i->memory.page_size_log2 = 16;
    w2c_wasi_sync(i);
    waft_wasi_set_memory(&i->wasi, &i->memory);
}
#endif
