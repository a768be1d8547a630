/*
 * port/riscv/atomic.c: the __atomic_* library functions LLVM and GCC call for
 * atomic accesses the core cannot do inline (threads proposal), as critical
 * sections that clear mstatus.MIE.
 *
 * rv32 with the A extension (rv32imac: riscv32-virt) does 1-, 2- and 4-byte
 * atomics inline (AMO*.W, LR.W/SC.W), but has no 64-bit AMOs or LR.D/SC.D, so
 * 8-byte atomics (i64.atomic.*) are calls here; a core without A gets every
 * size here.
 *
 * Why a critical section is correct: the runtime runs on one hart in machine
 * mode, and with mstatus.MIE clear no interrupt handler or thread switch runs
 * until it is restored.  A scheduler that switches threads in an interrupt
 * must also break a preempted LR/SC pair (an SC to a scratch word on every
 * switch, as the privileged spec recommends), so an inline 32-bit LR/SC cannot
 * complete across one of these sections.  Code running in user mode cannot
 * write mstatus: replace these helpers there.
 */
#include <stdint.h>

#if !defined(__riscv_atomic)
#define WAFT_ATOMIC_NARROW_HELPERS 1 /* no A extension: every size */
#endif

#define MSTATUS_MIE 0x8u
/* -march=rv32imac: newer assemblers want Zicsr named for CSR instructions. */
#define ZICSR(insn) ".option push\n\t.option arch, +zicsr\n\t" insn "\n\t.option pop"

static inline uint32_t critical_enter(void) {
    uint32_t mstatus;
    __asm__ volatile(ZICSR("csrrc %0, mstatus, %1") "\n\tfence rw, rw" : "=r"(mstatus) : "r"(MSTATUS_MIE) : "memory");
    return mstatus;
}

static inline void critical_exit(uint32_t mstatus) {
    __asm__ volatile("fence rw, rw\n\t" ZICSR("csrs mstatus, %0") : : "r"(mstatus & MSTATUS_MIE) : "memory");
}

#include "../../src/atomic_libcalls.h"

#if defined(WAFT_ATOMIC_NARROW_HELPERS)
WAFT_ATOMIC_HELPERS(1, uint8_t)
WAFT_ATOMIC_HELPERS(2, uint16_t)
WAFT_ATOMIC_HELPERS(4, uint32_t)
#endif
WAFT_ATOMIC_HELPERS(8, uint64_t)
