/* sink.h: the C interface of a WebAssembly module compiled by Waft for target mps2-an505.
 * Generated: do not edit.  The ABI is described in docs/abi.md and runtime_c/include/waft.h.
 *
 * Instance: 4096 bytes, aligned to 8.
 *
 * Exports (Wasm name, type, C symbol):
 *   func    "multi"                  func [i32 i64 f32 f64] -> [i32 i64]      sink_multi
 *   func    "refs"                   func [funcref externref] -> [externref]  sink_refs
 *   func    "a-b"                    func [i32] -> [i32]                      sink__a_x2db
 *   func    "na\xc3\xafve *\/ ?\?/"  func [i32] -> [i32]                      sink__na_xc3_xafve_x20_x2a_x2f_x20_x3f_x3f_x2f
 *   func    "twice"                  func [i32] -> [i32]                      sink_twice
 *   table   ""                       table externref 0..8                     sink__
 *   memory  "imported_mem"           memory 1..16 pages, page size 1          sink_imported_mem
 *   table   "imported table"         table funcref 2..                        sink__imported_x20table
 *   global  "g"                      global i64                               sink_g
 *   global  "fn"                     global funcref                           sink_fn
 *
 * Imports (Wasm module and name, type, C symbol or imports member):
 *   func    "wasi_snapshot_preview1" "fd_write"  func [i32 i32] -> []             wasi_snapshot_preview1__fd_write
 *   memory  "env" "memory"                       memory 1..16 pages, page size 1  imports->env__memory
 *   func    "env" "twice"                        func [i32] -> [i32]              env__twice
 *   table   "env" "table"                        table funcref 2..                imports->env__table
 *   global  "env" "g"                            global i64                       imports->env__g
 *   global  "env" "g"                            global i64                       imports->env__g__2
 *   func    "env" "twice"                        func [i32] -> [i32]              env__twice
 *   func    "env" "twice"                        func [i64] -> []                 env__twice
 *   func    "" "a-b"                             func [i32] -> [i32]              ____a_x2db
 */
#ifndef WAFT_MODULE_sink_H
#define WAFT_MODULE_sink_H

#include "waft.h"

#ifdef __cplusplus
extern "C" {
#endif

/* This header and its object were built for target mps2-an505 (thumbv8m.main-unknown-none-eabihf, hard-float). */
#if !(defined(__arm__) && defined(__ARM_PCS_VFP) && __SIZEOF_POINTER__ == 4 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#error "sink.h was generated for target mps2-an505 (thumbv8m.main-unknown-none-eabihf, hard-float): compile this file for that target, or regenerate the module with waft compile --target <yours>"
#endif

/* Built for Waft ABI version 1 (docs/lts.md). */
#if !defined(WAFT_ABI_VERSION) || WAFT_ABI_VERSION != 1
#error "sink.h was generated for Waft ABI version 1, but this waft.h is another version (see WAFT_ABI_VERSION): rebuild the module with the waft that matches your runtime"
#endif

/* The largest stack frame this module's code pushes before checking the stack
 * (bytes): WAFT_STACK_MARGIN must hold it and the trap path. */
#define sink__MAX_UNCHECKED_FRAME 0
#if WAFT_STACK_MARGIN < sink__MAX_UNCHECKED_FRAME + WAFT_TRAP_STACK_RESERVE
#error "sink.h: WAFT_STACK_MARGIN is too small for this module: its largest unchecked stack frame is 0 bytes, and the trap path needs WAFT_TRAP_STACK_RESERVE more"
#endif

/* One instance of the module: memories, tables, globals and function references.
 * Opaque: put it in static storage, on the stack or in allocated memory;
 * sink__instantiate sets it up. */
typedef struct sink__instance {
    WAFT_ALIGNAS(8) unsigned char opaque[4096];
} sink__instance;

/* What the embedder supplies at instantiation: one ctx pointer per module of
 * imported functions (passed as their first argument), then a pointer to each
 * imported memory, table and global. */
typedef struct sink__imports {
    void *wasi_snapshot_preview1; /* ctx for function imports from "wasi_snapshot_preview1" */
    void *env; /* ctx for function imports from "env" */
    void *_; /* ctx for function imports from "" */
    waft_memory *env__memory; /* imported memory "env" "memory" */
    waft_table *env__table; /* imported table "env" "table" */
    int64_t *env__g; /* imported global "env" "g" */
    int64_t *env__g__2; /* imported global "env" "g" */
} sink__imports;

/* Raw initialisation (may trap: call it only behind a trap frame).  Zeroes and
 * sizes memories and tables, sets globals, applies active segments, runs start. */
void sink__initialize(void *inst, void *imports);

/* Initialise `inst` behind a trap boundary; WAFT_TRAP_NONE on success. */
static inline waft_trap_code sink__instantiate(sink__instance *inst, const sink__imports *imports) {
    return waft_call_guarded(sink__initialize, inst, (void *)imports);
}

/* Exports.  Functions may trap: call them behind waft_call_guarded or a trap frame. */
/* export "multi": func [i32 i64 f32 f64] -> [i32 i64] */
void sink_multi(sink__instance *inst, int32_t p0, int64_t p1, float p2, double p3, int32_t *result0, int64_t *result1);
/* export "refs": func [funcref externref] -> [externref] */
void *sink_refs(sink__instance *inst, const waft_func *callback, void *p1);
/* export "a-b": func [i32] -> [i32] */
int32_t sink__a_x2db(sink__instance *inst, int32_t p0);
/* export "na\xc3\xafve *\/ ?\?/": func [i32] -> [i32] */
int32_t sink__na_xc3_xafve_x20_x2a_x2f_x20_x3f_x3f_x2f(sink__instance *inst, int32_t p0);
/* export "twice": func [i32] -> [i32] */
int32_t sink_twice(sink__instance *inst, int32_t value);
/* export "": table externref 0..8 */
waft_table *sink__(sink__instance *inst);
/* export "imported_mem": memory 1..16 pages, page size 1 */
waft_memory *sink_imported_mem(sink__instance *inst);
/* export "imported table": table funcref 2.. */
waft_table *sink__imported_x20table(sink__instance *inst);
/* export "g": global i64 */
int64_t *sink_g(sink__instance *inst);
/* export "fn": global funcref */
const waft_func **sink_fn(sink__instance *inst);

/* Imported functions: the embedder defines these.  `ctx` is the imports struct's
 * pointer for the import's module. */
/* import "wasi_snapshot_preview1" "fd_write": func [i32 i32] -> [] */
void wasi_snapshot_preview1__fd_write(void *ctx, int32_t fd, int32_t iovs);
/* import "env" "twice": func [i32] -> [i32] */
int32_t env__twice(void *ctx, int32_t value);
/* import "env" "twice" again as func [i64] -> []: conflicts with [i32] -> [i32]; no C definition can satisfy both */
/* import "" "a-b": func [i32] -> [i32] */
int32_t ____a_x2db(void *ctx, int32_t p0);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_MODULE_sink_H */
