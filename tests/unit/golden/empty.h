/* empty.h: the C interface of a WebAssembly module compiled by Waft for target cortex-m0plus.
 * Generated: do not edit.  The ABI is described in docs/abi.md and runtime_c/include/waft.h.
 *
 * Instance: 1 bytes, aligned to 1.
 *
 * Exports: none.
 *
 * Imports: none.
 */
#ifndef WAFT_MODULE_empty_H
#define WAFT_MODULE_empty_H

#include "waft.h"

#ifdef __cplusplus
extern "C" {
#endif

/* This header and its object were built for target cortex-m0plus (thumbv6m-unknown-none-eabi, soft-float). */
#if !(defined(__arm__) && !defined(__ARM_PCS_VFP) && __SIZEOF_POINTER__ == 4 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#error "empty.h was generated for target cortex-m0plus (thumbv6m-unknown-none-eabi, soft-float): compile this file for that target, or regenerate the module with waft compile --target <yours>"
#endif

/* Built for Waft ABI version 1 (docs/lts.md). */
#if !defined(WAFT_ABI_VERSION) || WAFT_ABI_VERSION != 1
#error "empty.h was generated for Waft ABI version 1, but this waft.h is another version (see WAFT_ABI_VERSION): rebuild the module with the waft that matches your runtime"
#endif

/* The largest stack frame this module's code pushes before checking the stack
 * (bytes): WAFT_STACK_MARGIN must hold it and the trap path. */
#define empty__MAX_UNCHECKED_FRAME 0
#if WAFT_STACK_MARGIN < empty__MAX_UNCHECKED_FRAME + WAFT_TRAP_STACK_RESERVE
#error "empty.h: WAFT_STACK_MARGIN is too small for this module: its largest unchecked stack frame is 0 bytes, and the trap path needs WAFT_TRAP_STACK_RESERVE more"
#endif

/* One instance of the module: memories, tables, globals and function references.
 * Opaque: put it in static storage, on the stack or in allocated memory;
 * empty__instantiate sets it up. */
typedef struct empty__instance {
    WAFT_ALIGNAS(1) unsigned char opaque[1];
} empty__instance;

/* What the embedder supplies at instantiation: one ctx pointer per module of
 * imported functions (passed as their first argument), then a pointer to each
 * imported memory, table and global. */
typedef struct empty__imports {
    void *unused; /* the module imports nothing */
} empty__imports;

/* Raw initialisation (may trap: call it only behind a trap frame).  Zeroes and
 * sizes memories and tables, sets globals, applies active segments, runs start. */
void empty__initialize(void *inst, void *imports);

/* Initialise `inst` behind a trap boundary; WAFT_TRAP_NONE on success. */
static inline waft_trap_code empty__instantiate(empty__instance *inst, const empty__imports *imports) {
    return waft_call_guarded(empty__initialize, inst, (void *)imports);
}

#ifdef __cplusplus
}
#endif

#endif /* WAFT_MODULE_empty_H */
