/*
 * port/cortex-m/atomic.c: the __atomic_* library functions LLVM and GCC call
 * for atomic accesses the core cannot do inline (threads proposal), as
 * critical sections that mask interrupts with PRIMASK.
 *
 * Which ones a core needs:
 *   - Armv6-M (Cortex-M0/M0+/M1) has no exclusive access (LDREX/STREX) at all,
 *     so LLVM turns every atomic load, store, read-modify-write and
 *     compare-exchange, of 1, 2, 4 and 8 bytes, into a call here.
 *   - Armv7-M and Armv8-M mainline (M3/M4/M7/M33) do 1-, 2- and 4-byte atomics
 *     inline with LDREX/STREX, but M-profile has no LDREXD/STREXD, so 8-byte
 *     atomics (i64.atomic.*) are calls here too.
 * The file is compiled for every Cortex-M target and preprocesses to what the
 * core needs, so the runtime build (waftkit/firmware/runtime.py, SCons) needs
 * no per-architecture file list.
 *
 * Why a critical section is correct: these cores are single-core, and with
 * interrupts masked nothing else runs on the core — not an interrupt handler,
 * not another thread (a scheduler switches threads from PendSV/SysTick, which
 * PRIMASK masks as well).  An inline LDREX/STREX sequence that an interrupt
 * splits cannot be broken by a helper running in that interrupt either:
 * exception entry and return clear the local exclusive monitor, so its STREX
 * fails and it retries.  Other bus masters (DMA) see plain accesses; the
 * proposal asks nothing of them.  PRIMASK is saved and restored rather than
 * cleared, so the helpers also work with interrupts already masked.
 * Unprivileged threads cannot write PRIMASK (CPSID is ignored there): run Wasm
 * privileged, as the runtime does, or replace these helpers.
 *
 * The helpers themselves are shared with the RISC-V port: src/atomic_libcalls.h.
 */
#include <stdint.h>

#if defined(__ARM_ARCH_6M__)
#define WAFT_ATOMIC_NARROW_HELPERS 1 /* no LDREX/STREX: every size */
#endif

static inline uint32_t critical_enter(void) {
    uint32_t primask;
    /* DMB on both sides: the order a seq_cst access promises, as LLVM's inline
     * sequences give it; the "memory" clobber keeps the compiler from moving
     * accesses out of the section. */
    __asm__ volatile("mrs %0, primask\n\tcpsid i\n\tdmb" : "=r"(primask) : : "memory");
    return primask;
}

static inline void critical_exit(uint32_t primask) {
    __asm__ volatile("dmb\n\tmsr primask, %0" : : "r"(primask) : "memory");
}

#include "../../src/atomic_libcalls.h"

#if defined(WAFT_ATOMIC_NARROW_HELPERS)
WAFT_ATOMIC_HELPERS(1, uint8_t)
WAFT_ATOMIC_HELPERS(2, uint16_t)
WAFT_ATOMIC_HELPERS(4, uint32_t)
#endif
WAFT_ATOMIC_HELPERS(8, uint64_t)
