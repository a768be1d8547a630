/*
 * port_cortexm.c: the Cortex-M signals port (signals_port.h) — NVIC lines,
 * board timers, BASEPRI masking, waiting in the kernel or in WFI.
 *
 * Vectors.  The firmware is built for its grants, so each granted line's
 * NVIC vector is a function generated into the firmware
 * (runtime_c/wasi_p1/main/embed_ext.h): an immediate line's vector calls the
 * compiled Wasm handler itself (a direct call when the grant binds the line
 * to an export), on the interrupt stack under the interrupt stack's own
 * waft_stack_limit and behind its own trap boundary (a trap there ends the
 * program naming the line, never returns into the interrupted code); a
 * deferred line's vector latches (waft_signals_latch) and wakes the
 * attaching thread.  At start-up
 * the port copies the boot table's 16 system entries into the firmware's RAM
 * table, fills every other entry with the boot table's HardFault handler (an
 * unexpected interrupt is reported as a fault, never run as something else),
 * installs the granted vectors and points VTOR at it.  startup.c is not
 * touched.  Built with -DWAFT_SIGNALS_KEEP_BOOT_VECTORS (waft bsp's drop-ins),
 * every boot entry is copied instead: a vendor's own table keeps its device
 * vectors, and only the granted lines' entries change.
 *
 * Lines.  Device interrupt n is NVIC external interrupt n (only the ones the
 * board's target.toml lists as free can be granted); software line n is the
 * board's n-th spare vector (an IRQ no enabled peripheral drives, so only
 * NVIC set-pending raises it); timer line n is the board's n-th timer
 * (targets/<board>/board.c) whose interrupt is the line's vector; p1 signal
 * lines have no vector (deferred only: pend and proc_raise latch them).
 * NVIC enable follows the line: an immediate device or software line is
 * set-enabled while it is enabled (a disabled one keeps its NVIC pending bit,
 * as the WIT wants); a deferred device line from attach to detach (its vector
 * only latches, so a disabled line still latches); a timer line always, since
 * its vector also keeps the timer's grid.
 *
 * Priorities.  Line priority p (1..priority-max) is NVIC value
 * lowest_wasm - (p - 1) * step, where step is the priority granularity of the
 * board's implemented bits and lowest_wasm is one step above PendSV/SysTick
 * (the kernel keeps the lowest level); the most urgent Wasm level is the
 * kernel's ceiling WAFT_OS_SYSCALL_PRIORITY, so every Wasm handler may call
 * the runtime (which takes the kernel's critical section), and interrupts the
 * firmware puts above the ceiling are never delayed by Wasm.
 *
 * set-mask(level) is BASEPRI = the NVIC value of `level` (0: BASEPRI 0).  Since
 * PendSV and SysTick are below every Wasm level, a thread with a mask holds
 * back thread switches and the tick until it unmasks, as a kernel critical
 * section does (its blocking calls answer perm, except wait-for-event, which
 * drops the mask while it sleeps and takes it back on waking: the level is
 * the thread's, kept across the switch).  Armv6-M and Armv8-M Baseline have no
 * BASEPRI: there any level above 0 sets PRIMASK and masks every interrupt.
 *
 * Waiting: with the kernel, wait-for-event blocks in waft_os_wait32 on a word
 * per thread that the wake path sets and notifies (ISR-safe); without one,
 * the core sleeps in WFI with interrupts masked around the check (WFI wakes
 * on a pending interrupt even under PRIMASK, so an event between the check
 * and the sleep is not lost), SysTick bounding a deadline's lateness to 1 ms.
 */
#include "signals_cortexm.h"
#include "signals_port.h"

#include <string.h>

#include "../kernel/kernel.h"              /* WAFT_OS_SYSCALL_PRIORITY: the top of Wasm's band */
#include "../port/cortex-m/irq_mask.h"
#include "../wasi_p1/port_baremetal.h"     /* waft_clock_ns */

#if defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_8M_BASE__)
#define PORT_V6M 1 /* no BASEPRI; NVIC priority registers take word accesses only */
#else
#define PORT_V6M 0
#endif
#if __ARM_ARCH >= 7 || defined(__ARM_ARCH_8M_BASE__)
#define PORT_VTOR 1
#else
#define PORT_VTOR 0
#endif

#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICER ((volatile uint32_t *)0xE000E180u)
#define NVIC_ISPR ((volatile uint32_t *)0xE000E200u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)
#define NVIC_IPR ((volatile uint32_t *)0xE000E400u)
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)

/* Board timers a firmware may grant: at most this many timer lines. */
#define MAX_TIMERS 4u
/* Timer periods below this only pile up coalesced events: the vector's own
 * work (acknowledge, next grid point, re-arm) is a few hundred instructions. */
#define MIN_PERIOD_NS 10000u
/* Threads a module may have (WAFT_THREADS_POOL_LIMIT 64, plus main). */
#define MAX_THREADS 65u

static const waft_signals_cortexm_config *config;
static waft_signals *the_signals;
uintptr_t waft_signals_cortexm_isr_limit;

/* A timer line's schedule: releases at next, next + period...  `forced`: a
 * pend raised the line, so its next interrupt is an event whatever the time. */
typedef struct timer_state {
    uint64_t next;
    uint64_t period;
    uint64_t max_ns;       /* the longest the board timer can wait in one go */
    uint64_t mult;         /* ticks per ns in 32.32 fixed point */
    uint32_t max_ticks;
    uint8_t index;         /* the board's timer number */
    volatile bool running;
    volatile bool forced;
} timer_state;
static timer_state timers[MAX_TIMERS];

/* Per thread: the word wait-for-event sleeps on, set by the wake path. */
static volatile uint32_t wake_word[MAX_THREADS];

void waft_signals_cortexm_configure(const waft_signals_cortexm_config *c) { config = c; }

/* --- NVIC --------------------------------------------------------------------- */

static const waft_signals_cortexm_line *hw_of(const waft_signals *sig, const waft_signals_line *l) {
    return &config->lines[l - sig->module.lines];
}

static void nvic_enable(int irq, bool on) {
    uint32_t bit = 1u << ((unsigned)irq % 32u);
    if (on) {
        NVIC_ISER[irq / 32] = bit;
    } else {
        NVIC_ICER[irq / 32] = bit;
        __asm__ volatile("dsb\n\tisb" ::: "memory"); /* no more entries once this returns */
    }
}

static void nvic_set_priority(int irq, uint8_t value) {
#if PORT_V6M
    volatile uint32_t *word = &NVIC_IPR[irq / 4];
    unsigned shift = 8u * ((unsigned)irq % 4u);
    *word = (*word & ~(0xFFu << shift)) | ((uint32_t)value << shift);
#else
    ((volatile uint8_t *)NVIC_IPR)[irq] = value;
#endif
}

/* The NVIC step between implemented levels, and the lowest level Wasm gets. */
static uint32_t prio_step(void) { return 1u << (8u - config->priority_bits); }
static uint32_t lowest_wasm(void) { return 256u - 2u * prio_step(); }

/* NVIC value of line priority p (1..priority-max). */
static uint8_t nvic_value(uint8_t p) { return (uint8_t)(lowest_wasm() - (uint32_t)(p - 1u) * prio_step()); }

/* --- masking -------------------------------------------------------------------- */

void waft_signals_port_set_mask(uint8_t level) {
#if PORT_V6M
    if (level == 0) {
        __asm__ volatile("cpsie i" ::: "memory");
    } else {
        __asm__ volatile("cpsid i" ::: "memory");
    }
#else
    uint32_t value = level == 0 ? 0u : nvic_value(level);
    __asm__ volatile("msr basepri, %0\n\tisb" ::"r"(value) : "memory");
#endif
}

uint8_t waft_signals_port_get_mask(void) {
#if PORT_V6M
    uint32_t primask;
    __asm__ volatile("mrs %0, primask" : "=r"(primask));
    return primask ? waft_signals_port_priority_max() : 0;
#else
    uint32_t basepri;
    __asm__ volatile("mrs %0, basepri" : "=r"(basepri));
    if (basepri == 0 || basepri > lowest_wasm()) {
        return 0;
    }
    if (basepri < WAFT_OS_SYSCALL_PRIORITY) {
        return waft_signals_port_priority_max();
    }
    return (uint8_t)((lowest_wasm() - basepri) / prio_step() + 1u);
#endif
}

/* --- start ---------------------------------------------------------------------- */

static void timer_setup(timer_state *t, uint8_t index) {
    uint32_t hz = waft_board_timer_hz(index);
    t->index = index;
    t->max_ticks = waft_board_timer_max_ticks(index);
    /* ticks = ns * hz / 1e9, as one multiply in the vector: hz <= 1 GHz keeps
     * mult below 2^32, and ns below 2^32 (max_ns) keeps the product in 64 bits. */
    t->mult = ((uint64_t)hz << 32) / 1000000000u;
    uint64_t max_ns = (uint64_t)t->max_ticks * 1000000000u / hz;
    t->max_ns = max_ns > 0xFFFFFFFFu ? 0xFFFFFFFFu : max_ns;
    t->running = false;
    t->forced = false;
    waft_board_timer_stop(index);
    waft_board_timer_ack(index);
}

int32_t waft_signals_port_init(waft_signals *sig) {
    const waft_signals_module *m = &sig->module;
    if (config == NULL) {
        waft_port_write_error("waft: signals: the firmware describes no interrupt lines "
                              "(waft_signals_cortexm_configure was not called)\n");
        return WAFT_SIGNALS_EINVAL;
    }
    if (m->thread_count > MAX_THREADS) {
        waft_port_write_error("waft: signals: more threads than the Cortex-M port can wake\n");
        return WAFT_SIGNALS_EINVAL;
    }
    the_signals = sig;
    waft_clock_start(); /* timer lines and deadlines are on it (idempotent) */
    /* Immediate handlers run on the interrupt stack: the kernel's own once it
     * has started (threads run on theirs), else the main stack, which main()
     * shares with them (its limit is the main thread's). */
    if (config->os.isr_stack != NULL) {
        uintptr_t low, high;
        config->os.isr_stack(&low, &high);
        if (high - low <= WAFT_STACK_MARGIN) {
            waft_port_write_error("waft: signals: the interrupt stack is no larger than WAFT_STACK_MARGIN: "
                                  "raise WAFT_OS_ISR_STACK_SIZE\n");
            return WAFT_SIGNALS_EINVAL;
        }
        waft_signals_cortexm_isr_limit = low + WAFT_STACK_MARGIN;
    } else {
        if (waft_stack_limit == 0) {
            waft_stack_init();
        }
        waft_signals_cortexm_isr_limit = waft_stack_limit;
    }
    bool any_vector = false;
    for (uint32_t i = 0; i < m->grant_count; i++) {
        any_vector |= config->lines[i].irq != WAFT_SIGNALS_NO_IRQ;
    }
    if (!any_vector) {
        return WAFT_SIGNALS_OK;
    }
#if PORT_VTOR
    void (**ram)(void) = config->ram_vectors;
    void (*const *boot)(void) = (void (*const *)(void))(uintptr_t)SCB_VTOR;
    for (uint32_t v = 0; v < 16u + config->irq_count; v++) {
#ifdef WAFT_SIGNALS_KEEP_BOOT_VECTORS
        /* A vendor BSP's firmware (waft bsp, docs/bsp.md): its boot table is its own, and
         * the device vectors in it are its drivers' (the UART's, a DMA's); only the granted
         * lines below are taken over. */
        ram[v] = boot[v];
#else
        ram[v] = v < 16u ? boot[v] : boot[3]; /* unexpected: reported as a fault */
#endif
    }
    for (uint32_t i = 0; i < m->grant_count; i++) {
        const waft_signals_cortexm_line *hw = &config->lines[i];
        if (hw->irq == WAFT_SIGNALS_NO_IRQ) {
            continue;
        }
        nvic_enable(hw->irq, false);
        NVIC_ICPR[hw->irq / 32] = 1u << (hw->irq % 32);
        nvic_set_priority(hw->irq, nvic_value(1));
        ram[16 + hw->irq] = hw->vector;
        if (hw->timer >= 0) {
            if ((uint32_t)hw->timer >= MAX_TIMERS) {
                waft_port_write_error("waft: signals: timer index beyond the port's table\n");
                return WAFT_SIGNALS_EINVAL;
            }
            timer_state *t = &timers[hw->timer];
            timer_setup(t, (uint8_t)hw->timer);
            m->lines[i].port = (uintptr_t)t;
        }
    }
    __asm__ volatile("dsb" ::: "memory");
    SCB_VTOR = (uint32_t)(uintptr_t)ram;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    for (uint32_t i = 0; i < m->grant_count; i++) {
        const waft_signals_cortexm_line *hw = &config->lines[i];
        if (hw->timer >= 0) {
            nvic_enable(hw->irq, true); /* a timer line's vector keeps its grid, attached or not */
        }
    }
    return WAFT_SIGNALS_OK;
#else
    waft_port_write_error("waft: signals: this core has no VTOR: interrupt lines cannot be granted here\n");
    return WAFT_SIGNALS_ENOTSUP;
#endif
}

uint8_t waft_signals_port_caps(uint32_t line) {
    if (config == NULL) {
        return 0;
    }
    uint32_t klass = WAFT_SIGNALS_CLASS(line);
    if (klass == WAFT_SIGNALS_CLASS_SIGNAL) {
        return WAFT_SIGNALS_CAP_DEFERRED | WAFT_SIGNALS_CAP_PEND; /* no vector: pend and proc_raise latch it */
    }
    /* A device, software or timer line needs the vector the build gave it
     * (waftkit checked it against the board's [interrupts] table). */
    const waft_signals_cortexm_line *hw = NULL;
    for (uint32_t i = 0; i < config->count && hw == NULL; i++) {
        if (config->lines[i].line == line) {
            hw = &config->lines[i];
        }
    }
    if (klass > WAFT_SIGNALS_CLASS_TIMER || hw == NULL || hw->irq == WAFT_SIGNALS_NO_IRQ ||
        (uint32_t)hw->irq >= config->irq_count || (klass == WAFT_SIGNALS_CLASS_TIMER) != (hw->timer >= 0)) {
        return 0;
    }
    uint8_t caps = WAFT_SIGNALS_CAP_IMMEDIATE | WAFT_SIGNALS_CAP_DEFERRED | WAFT_SIGNALS_CAP_PEND |
                   WAFT_SIGNALS_CAP_PRIORITY;
    return klass == WAFT_SIGNALS_CLASS_TIMER ? (uint8_t)(caps | WAFT_SIGNALS_CAP_TIMER) : caps;
}

uint8_t waft_signals_port_priority_max(void) {
    if (config == NULL) {
        return 1;
    }
    return (uint8_t)((lowest_wasm() - WAFT_OS_SYSCALL_PRIORITY) / prio_step() + 1u);
}

/* --- lines ------------------------------------------------------------------------ */

int32_t waft_signals_port_attach(waft_signals *sig, waft_signals_line *l) {
    const waft_signals_cortexm_line *hw = hw_of(sig, l);
    if (hw->bound != NULL && l->export_call != hw->bound) {
        return WAFT_SIGNALS_EINVAL; /* the grant binds this line to another export */
    }
    if (hw->irq != WAFT_SIGNALS_NO_IRQ && hw->timer < 0 && l->delivery == WAFT_SIGNALS_DEFERRED) {
        nvic_set_priority(hw->irq, nvic_value(l->priority));
        nvic_enable(hw->irq, true); /* its vector latches from now on, enabled or not */
    }
    return WAFT_SIGNALS_OK;
}

void waft_signals_port_detach(waft_signals *sig, waft_signals_line *l) {
    const waft_signals_cortexm_line *hw = hw_of(sig, l);
    if (hw->irq != WAFT_SIGNALS_NO_IRQ && hw->timer < 0) {
        nvic_enable(hw->irq, false);
        NVIC_ICPR[hw->irq / 32] = 1u << (hw->irq % 32);
    }
}

void waft_signals_port_priority(waft_signals *sig, waft_signals_line *l) {
    const waft_signals_cortexm_line *hw = hw_of(sig, l);
    if (hw->irq != WAFT_SIGNALS_NO_IRQ) {
        nvic_set_priority(hw->irq, nvic_value(l->priority));
    }
}

void waft_signals_port_enable(waft_signals *sig, waft_signals_line *l, bool on) {
    const waft_signals_cortexm_line *hw = hw_of(sig, l);
    if (hw->irq == WAFT_SIGNALS_NO_IRQ || l->delivery != WAFT_SIGNALS_IMMEDIATE) {
        return; /* deferred: the portable flag gates delivery, the vector latches regardless */
    }
    if (hw->timer < 0) {
        nvic_enable(hw->irq, on);
    }
    /* An event latched before (a pend while detached, a timer event while
     * disabled) is delivered now, through the vector. */
    if (on && atomic_exchange(&l->pending, false)) {
        waft_signals_port_pend_immediate(sig, l);
    }
}

void waft_signals_port_pend_immediate(waft_signals *sig, waft_signals_line *l) {
    const waft_signals_cortexm_line *hw = hw_of(sig, l);
    if (hw->irq == WAFT_SIGNALS_NO_IRQ) {
        waft_signals_latch(sig, l);
        return;
    }
    if (hw->timer >= 0) {
        ((timer_state *)l->port)->forced = true; /* an event, not a step of the timer's schedule */
    }
    NVIC_ISPR[hw->irq / 32] = 1u << (hw->irq % 32);
    /* A line more urgent than the caller runs before pend returns (the WIT). */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

void waft_signals_port_handled(waft_signals *sig, waft_signals_line *l) {
    const waft_signals_cortexm_line *hw = hw_of(sig, l);
    if (hw->irq != WAFT_SIGNALS_NO_IRQ && hw->timer < 0 && l->attached) {
        nvic_enable(hw->irq, true); /* masked by its vector while the event waited */
    }
}

bool waft_signals_port_hw_pending(waft_signals *sig, waft_signals_line *l) {
    const waft_signals_cortexm_line *hw = hw_of(sig, l);
    if (hw->irq == WAFT_SIGNALS_NO_IRQ || (hw->timer >= 0 && !((timer_state *)l->port)->forced)) {
        return false; /* a timer's NVIC bit is a step of its schedule until the vector says otherwise */
    }
    return (NVIC_ISPR[hw->irq / 32] >> (hw->irq % 32)) & 1u;
}

void waft_signals_port_hw_clear(waft_signals *sig, waft_signals_line *l) {
    const waft_signals_cortexm_line *hw = hw_of(sig, l);
    if (hw->irq == WAFT_SIGNALS_NO_IRQ) {
        return;
    }
    if (hw->timer >= 0) {
        ((timer_state *)l->port)->forced = false; /* the schedule's own interrupt stays */
        return;
    }
    NVIC_ICPR[hw->irq / 32] = 1u << (hw->irq % 32);
}

void waft_signals_cortexm_latch_masked(waft_signals *sig, waft_signals_line *l) {
    NVIC_ICER[hw_of(sig, l)->irq / 32] = 1u << (hw_of(sig, l)->irq % 32);
    waft_signals_latch(sig, l);
}

/* --- timers ----------------------------------------------------------------------- */

static void timer_arm_for(timer_state *t, uint64_t delay_ns) {
    if (delay_ns > t->max_ns) {
        delay_ns = t->max_ns; /* a step: the vector re-arms for the rest */
    }
    uint64_t ticks = (delay_ns * t->mult) >> 32;
    ticks = ticks == 0 ? 1 : ticks > t->max_ticks ? t->max_ticks : ticks;
    waft_board_timer_arm(t->index, (uint32_t)ticks);
}

bool waft_signals_cortexm_timer_fired(waft_signals_line *l) {
    timer_state *t = (timer_state *)l->port;
    waft_board_timer_ack(t->index);
    bool event = t->forced;
    t->forced = false;
    if (!t->running) {
        return event;
    }
    uint64_t now = waft_clock_ns();
    if (now < t->next) {
        timer_arm_for(t, t->next - now); /* early (a step of a long wait, or the timer's rounding) */
        return event;
    }
    if (t->period == 0) {
        t->running = false;
        waft_board_timer_stop(t->index);
        return true;
    }
    /* The grid: skip the points already passed (their events coalesce into
     * this one), never drift with how late this vector ran. */
    do {
        t->next += t->period;
    } while (t->next <= now);
    timer_arm_for(t, t->next - now);
    return true;
}

int32_t waft_signals_port_start_timer(waft_signals *sig, waft_signals_line *l, uint64_t first_release,
                                      uint64_t period) {
    const waft_signals_cortexm_line *hw = hw_of(sig, l);
    timer_state *t = (timer_state *)l->port;
    if (hw->timer < 0 || t == NULL) {
        return WAFT_SIGNALS_ENOTSUP;
    }
    /* Under the port's lock (BASEPRI at the kernel's ceiling): the vector
     * cannot run in between. */
    waft_board_timer_stop(t->index);
    t->next = first_release;
    t->period = period;
    t->running = true;
    uint64_t now = waft_clock_ns();
    if (first_release <= now) {
        NVIC_ISPR[hw->irq / 32] = 1u << (hw->irq % 32); /* already due: at once */
    } else {
        timer_arm_for(t, first_release - now);
    }
    return WAFT_SIGNALS_OK;
}

int32_t waft_signals_port_stop_timer(waft_signals *sig, waft_signals_line *l) {
    (void)sig;
    timer_state *t = (timer_state *)l->port;
    if (t == NULL) {
        return WAFT_SIGNALS_ENOTSUP;
    }
    t->running = false;
    waft_board_timer_stop(t->index);
    return WAFT_SIGNALS_OK;
}

uint64_t waft_signals_port_min_period_ns(void) { return MIN_PERIOD_NS; }

uint64_t waft_signals_port_now_ns(void) { return waft_clock_ns(); }

/* --- waiting ------------------------------------------------------------------------- */

void waft_signals_port_wait(waft_signals *sig, uint32_t thread, uint64_t deadline) {
    volatile uint32_t *word = &wake_word[thread < MAX_THREADS ? thread : 0];
    uint8_t mask = sig->module.threads[thread].mask;
    if (mask != 0) {
        waft_signals_port_set_mask(0); /* the thread's level is not held while it sleeps */
    }
    if (config->os.wait32 != NULL) {
        if (!__atomic_exchange_n(word, 0u, __ATOMIC_SEQ_CST)) {
            config->os.wait32(word, 0u, deadline);
            __atomic_store_n(word, 0u, __ATOMIC_SEQ_CST);
        }
    } else {
        for (;;) {
            __asm__ volatile("cpsid i" ::: "memory");
            if (__atomic_exchange_n(word, 0u, __ATOMIC_SEQ_CST) ||
                (deadline != UINT64_MAX && waft_clock_ns() >= deadline)) {
                __asm__ volatile("cpsie i" ::: "memory");
                break;
            }
            __asm__ volatile("dsb\n\twfi\n\tcpsie i\n\tisb" ::: "memory"); /* the pending interrupt runs here */
        }
    }
    if (mask != 0) {
        waft_signals_port_set_mask(mask);
    }
}

void waft_signals_port_wake(waft_signals *sig, uint32_t thread) {
    (void)sig;
    volatile uint32_t *word = &wake_word[thread < MAX_THREADS ? thread : 0];
    if (!__atomic_exchange_n(word, 1u, __ATOMIC_SEQ_CST) && config->os.notify != NULL) {
        config->os.notify(word, 1);
    }
}

bool waft_signals_port_in_immediate(void) {
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    return ipsr != 0;
}

/* --- the lock: the kernel's critical section (BASEPRI at its ceiling, which
 * masks every Wasm line, so the vectors never see a slot half changed) ----- */

uint32_t waft_signals_port_lock(void) { return waft_cortexm_mask_raise(WAFT_OS_SYSCALL_PRIORITY); }

void waft_signals_port_unlock(uint32_t state) { waft_cortexm_mask_restore(state); }

/* --- traps in immediate handlers -------------------------------------------------------- */

WAFT_NORETURN void waft_signals_cortexm_trapped(waft_signals_line *l, waft_trap_code code,
                                                void (*end)(waft_trap_code)) {
    waft_signals_report_trap(l, code, "immediate handler");
    end(code);
    waft_port_exit(WAFT_TRAP_EXIT_STATUS); /* `end` does not return; if it did, still never resume */
}
