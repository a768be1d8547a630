/*
 * signals_cortexm.h: what the Cortex-M signals port (port_cortexm.c) needs
 * from the firmware it is linked into, and what that firmware's generated
 * vectors (runtime_c/wasi_p1/main/embed_ext.h) need from the port.
 *
 * The firmware is built for a set of grants (waftkit/firmware/signal_grants.py
 * checks them against the board's [interrupts] table in target.toml), so the
 * mapping line -> NVIC vector is fixed at build time: one
 * waft_signals_cortexm_line per granted slot, in slot order, with the slot's
 * vector function (generated C: a direct call of the compiled handler when
 * the grant names an export).  The port copies the boot vector table into the
 * firmware's RAM table, points VTOR at it and installs each slot's vector.
 *
 * Priorities: the board has `priority_bits` NVIC priority bits; PendSV and
 * SysTick (the kernel) sit at the lowest level, the kernel's syscall ceiling
 * WAFT_OS_SYSCALL_PRIORITY bounds the band from above (a Wasm handler calls
 * the runtime, which takes the kernel's critical section), and Wasm's line
 * priorities 1..priority-max are the levels in between, 1 the least urgent.
 */
#ifndef WAFT_SIGNALS_CORTEXM_H
#define WAFT_SIGNALS_CORTEXM_H

#include "waft_signals.h"

#ifdef __cplusplus
extern "C" {
#endif

/* No NVIC vector (a p1 signal line: only pend and proc_raise raise it). */
#define WAFT_SIGNALS_NO_IRQ (-1)

/* One granted slot's hardware. */
typedef struct waft_signals_cortexm_line {
    uint32_t line;           /* the granted line */
    int16_t irq;             /* NVIC external interrupt number, or WAFT_SIGNALS_NO_IRQ */
    int8_t timer;            /* board timer index of a timer line, -1 otherwise */
    void (*vector)(void);    /* its vector (generated), NULL without an IRQ */
    /* The export the grant bound the line to at build time (its vector calls
     * it directly), NULL when any handler may be attached. */
    void (*bound)(void *instance, int32_t line, int32_t arg);
} waft_signals_cortexm_line;

/* The OS below the port: the built-in kernel (or a vendor RTOS through
 * kernel.h) when the firmware runs threads; all NULL without one. */
typedef struct waft_signals_cortexm_os {
    int (*wait32)(const volatile uint32_t *addr, uint32_t expected, uint64_t deadline_ns);
    uint32_t (*notify)(const volatile void *addr, uint32_t count);
    /* The bounds of the stack handlers run on once the OS has started. */
    void (*isr_stack)(uintptr_t *low, uintptr_t *high);
} waft_signals_cortexm_os;

typedef struct waft_signals_cortexm_config {
    const waft_signals_cortexm_line *lines; /* one per grant, in slot (line) order */
    uint32_t count;
    void (**ram_vectors)(void);  /* the firmware's RAM vector table, 16 + irq_count entries, aligned */
    uint32_t irq_count;          /* the chip's external interrupts */
    uint8_t priority_bits;       /* NVIC priority bits the chip implements */
    waft_signals_cortexm_os os;
} waft_signals_cortexm_config;

/* Give the port the firmware's description; before waft_signals_init. */
void waft_signals_cortexm_configure(const waft_signals_cortexm_config *config);

/* The stack limit an immediate handler runs under: the interrupt stack's low
 * end + WAFT_STACK_MARGIN (set by waft_signals_port_init).  The generated
 * vectors switch waft_stack_limit to it around the handler. */
extern uintptr_t waft_signals_cortexm_isr_limit;

/* A timer line's vector, first thing: acknowledge the board timer and
 * schedule the next grid point.  False when the interrupt was only a step
 * towards a release beyond the timer's range (no event). */
bool waft_signals_cortexm_timer_fired(waft_signals_line *l);

/* A deferred device interrupt's vector: latch, and keep the NVIC line
 * masked until the handler has run (a level-triggered source would re-enter
 * at once otherwise). */
void waft_signals_cortexm_latch_masked(waft_signals *sig, waft_signals_line *l);

/* An immediate handler trapped (or called proc_exit): say which line, then
 * end the program through `end(code)` (the embedder's: flush, exit status). */
WAFT_NORETURN void waft_signals_cortexm_trapped(waft_signals_line *l, waft_trap_code code,
                                                void (*end)(waft_trap_code));

/* The board's timers (targets/<board>/board.c): timer `n` interrupts once
 * after about `ticks` of its clock (1..waft_board_timer_max_ticks());
 * ack clears its interrupt flag; stop stops it.  Hz: its clock. */
uint32_t waft_board_timer_hz(uint32_t n);
uint32_t waft_board_timer_max_ticks(uint32_t n);
void waft_board_timer_arm(uint32_t n, uint32_t ticks);
void waft_board_timer_ack(uint32_t n);
void waft_board_timer_stop(uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_SIGNALS_CORTEXM_H */
