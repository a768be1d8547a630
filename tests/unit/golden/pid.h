/* pid.h: the C interface of a WebAssembly module compiled by Waft for target stm32f4.
 * Generated: do not edit.  The ABI is described in docs/abi.md and runtime_c/include/waft.h.
 *
 * Instance: 65600 bytes, aligned to 16.
 *
 * Exports (Wasm name, type, C symbol):
 *   func    "step"      func [f32 f32] -> [f32]             pid_step
 *   func    "_start"    func [] -> []                       pid___x5fstart
 *   memory  "memory"    memory 1..1 pages, page size 65536  pid_memory
 *   global  "integral"  global mut f32                      pid_integral
 *
 * Imports (Wasm module and name, type, C symbol or imports member):
 *   func  "env" "read_sensor"  func [] -> [f32]  env__read_sensor
 *   func  "env" "log"          func [i32] -> []  env__log
 */
#ifndef WAFT_MODULE_pid_H
#define WAFT_MODULE_pid_H

#include "waft.h"

#ifdef __cplusplus
extern "C" {
#endif

/* This header and its object were built for target stm32f4 (thumbv7em-unknown-none-eabihf, hard-float). */
#if !(defined(__arm__) && defined(__ARM_PCS_VFP) && __SIZEOF_POINTER__ == 4 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#error "pid.h was generated for target stm32f4 (thumbv7em-unknown-none-eabihf, hard-float): compile this file for that target, or regenerate the module with waft compile --target <yours>"
#endif

/* Built for Waft ABI version 1 (docs/lts.md). */
#if !defined(WAFT_ABI_VERSION) || WAFT_ABI_VERSION != 1
#error "pid.h was generated for Waft ABI version 1, but this waft.h is another version (see WAFT_ABI_VERSION): rebuild the module with the waft that matches your runtime"
#endif

/* The largest stack frame this module's code pushes before checking the stack
 * (bytes): WAFT_STACK_MARGIN must hold it and the trap path. */
#define pid__MAX_UNCHECKED_FRAME 0
#if WAFT_STACK_MARGIN < pid__MAX_UNCHECKED_FRAME + WAFT_TRAP_STACK_RESERVE
#error "pid.h: WAFT_STACK_MARGIN is too small for this module: its largest unchecked stack frame is 0 bytes, and the trap path needs WAFT_TRAP_STACK_RESERVE more"
#endif

/* One instance of the module: memories, tables, globals and function references.
 * Opaque: put it in static storage, on the stack or in allocated memory;
 * pid__instantiate sets it up. */
typedef struct pid__instance {
    WAFT_ALIGNAS(16) unsigned char opaque[65600];
} pid__instance;

/* What the embedder supplies at instantiation: one ctx pointer per module of
 * imported functions (passed as their first argument), then a pointer to each
 * imported memory, table and global. */
typedef struct pid__imports {
    void *env; /* ctx for function imports from "env" */
} pid__imports;

/* Raw initialisation (may trap: call it only behind a trap frame).  Zeroes and
 * sizes memories and tables, sets globals, applies active segments, runs start. */
void pid__initialize(void *inst, void *imports);

/* Initialise `inst` behind a trap boundary; WAFT_TRAP_NONE on success. */
static inline waft_trap_code pid__instantiate(pid__instance *inst, const pid__imports *imports) {
    return waft_call_guarded(pid__initialize, inst, (void *)imports);
}

/* Exports.  Functions may trap: call them behind waft_call_guarded or a trap frame. */
/* export "step": func [f32 f32] -> [f32] */
float pid_step(pid__instance *inst, float setpoint, float measured);
/* export "_start": func [] -> [] */
void pid___x5fstart(pid__instance *inst);
/* export "memory": memory 1..1 pages, page size 65536 */
waft_memory *pid_memory(pid__instance *inst);
/* export "integral": global mut f32 */
float *pid_integral(pid__instance *inst);

/* Imported functions: the embedder defines these.  `ctx` is the imports struct's
 * pointer for the import's module. */
/* import "env" "read_sensor": func [] -> [f32] */
float env__read_sensor(void *ctx);
/* import "env" "log": func [i32] -> [] */
void env__log(void *ctx, int32_t level);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_MODULE_pid_H */
