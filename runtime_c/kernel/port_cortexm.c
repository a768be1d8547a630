/*
 * port_cortexm.c: the built-in kernel's Cortex-M port: the first frame of a
 * thread, the move of main() onto the process stack, the PendSV context
 * switch, critical sections, the idle sleep, and the kernel's time from the
 * board's SysTick clock (targets/common/cortex-m/systick.c).  No policy: the
 * scheduler (sched.c) has already chosen waft_os__sched.next when PendSV runs.
 *
 * Exceptions: PendSV and SysTick get the lowest priority (0xFF), so a switch
 * never interrupts a handler and happens when the last one returns.  Threads
 * run in thread mode on the process stack (PSP); handlers on the main stack
 * (MSP), which waft_port_start moves to a static array.
 *
 * Critical sections: Armv7-M and Armv8-M Mainline raise BASEPRI to
 * WAFT_OS_SYSCALL_PRIORITY (interrupts more urgent than that are never
 * delayed and must not call the kernel); Armv6-M and Armv8-M Baseline have no
 * BASEPRI and set PRIMASK.
 *
 * FPU (M4F, M7, M33 with an FPU): lazy stacking (FPCCR.ASPEN|LSPEN).  A
 * thread that never ran a floating-point instruction has no FP context:
 * EXC_RETURN bit 4 is 1 and the switch saves 9 words.  One that did has
 * EXC_RETURN bit 4 = 0; the switch then also saves s16-s31 (which makes the
 * core write the lazily reserved s0-s15/FPSCR into the exception frame
 * first) and restores them when it comes back.
 *
 * Per-thread globals: the switch stores waft_trap_current into the outgoing
 * thread and loads the incoming thread's, and sets waft_stack_limit (and on
 * Armv8-M Mainline PSPLIM, the hardware check) for the incoming thread.
 *
 * In a vendor's firmware (a `waft bsp` drop-in, docs/bsp.md) the vector
 * table and SysTick are the vendor's, so the two exceptions come in through
 * hooks (waft_kernel_bsp.h): the switch is waft_kernel_pendsv_handler, which
 * the vendor's table points its PendSV entry at, and the tick is
 * waft_kernel_systick_hook, which the vendor's SysTick_Handler calls.  Built
 * with WAFT_KERNEL_VENDOR_SYSTICK the port leaves SysTick's priority as the
 * vendor set it (and refuses one the kernel's critical sections would not
 * mask); with WAFT_KERNEL_VENDOR_PENDSV it defines no PendSV_Handler.
 * Without them (Waft's own firmware; PendSV also in a drop-in that lets the
 * library own it) PendSV_Handler is the switch, and there systick.c's handler
 * gives the tick through waft_clock_tick_hook.
 */
#include <stdint.h>

#include "kernel_port.h"
#include "waft_kernel_bsp.h"
#include "../port/cortex-m/irq_mask.h"
#include "../wasi_p1/port_baremetal.h" /* the board clock, beside the WASI port */

#if defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_8M_BASE__)
#define PORT_V6M 1 /* no BASEPRI, STM/LDM of r0-r7 only */
#else
#define PORT_V6M 0
#endif
#if defined(__ARM_ARCH_8M_MAIN__)
#define PORT_PSPLIM 1
#else
#define PORT_PSPLIM 0
#endif
#if defined(__ARM_FP)
#define PORT_FPU 1
#else
#define PORT_FPU 0
#endif

#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSVSET (1u << 28)
#define SCB_SHPR3 (*(volatile uint32_t *)0xE000ED20u) /* PendSV [23:16], SysTick [31:24] */
#define FPCCR (*(volatile uint32_t *)0xE000EF34u)
#define FPCCR_ASPEN (1u << 31)
#define FPCCR_LSPEN (1u << 30)

#define XPSR_THUMB 0x01000000u
/* Return to thread mode on the PSP with a basic (non-FP) frame. */
#define EXC_RETURN_THREAD_PSP 0xFFFFFFFDu

/* Bounds of the main stack, from the linker script. */
extern char __StackLimit[];

/* Where handlers run once the main thread has moved to the PSP. */
static uint64_t isr_stack[WAFT_OS_ISR_STACK_SIZE / 8];

/* --- critical sections ------------------------------------------------------ */

waft_os_irq_state waft_os_critical_enter(void) { return waft_cortexm_mask_raise(WAFT_OS_SYSCALL_PRIORITY); }

/* The ISB in the restore makes a PendSV pended inside the section happen
 * before the next instruction: a blocking call reads its result after this. */
void waft_os_critical_exit(waft_os_irq_state state) { waft_cortexm_mask_restore(state); }

bool waft_os_in_isr(void) {
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    return ipsr != 0;
}

void waft_os_isr_stack(uintptr_t *low, uintptr_t *high) {
    *low = (uintptr_t)isr_stack;
    *high = (uintptr_t)isr_stack + sizeof isr_stack;
}

/* --- time --------------------------------------------------------------------- */

uint64_t waft_os_now_ns(void) { return waft_clock_ns(); }

uint64_t waft_os_tick_ns(void) { return 1000000u; /* systick.c interrupts once a millisecond */ }

/* systick.c calls this from SysTick_Handler on every tick. */
void waft_clock_tick_hook(uint64_t now_ns) { waft_os__tick(now_ns); }

/* The vendor's SysTick_Handler calls this on every 1 ms tick, after its own
 * time base counted it: the tick's time is then the clock's reading, at or
 * just past the millisecond a deadline sits on.  (Read before the count, a
 * deadline on this tick would wait for the next one: a missed period.)
 * Harmless before the kernel starts. */
void waft_kernel_systick_hook(void) { waft_os__tick(waft_clock_ns()); }

/* --- threads -------------------------------------------------------------------- */

uintptr_t waft_port_frame(uintptr_t low, uint32_t size, uint32_t (*entry)(void *), void *arg) {
    uint32_t *sp = (uint32_t *)((low + size) & ~(uintptr_t)7u);
    /* What the core pops on exception return: r0-r3, r12, lr, pc, xPSR. */
    *--sp = XPSR_THUMB;
    *--sp = (uint32_t)(uintptr_t)waft_os__thread_main & ~1u; /* the PC holds no Thumb bit */
    *--sp = 0;                                               /* lr: waft_os__thread_main never returns */
    *--sp = 0;                                               /* r12 */
    *--sp = 0;                                               /* r3 */
    *--sp = 0;                                               /* r2 */
    *--sp = (uint32_t)(uintptr_t)entry;                      /* r1 */
    *--sp = (uint32_t)(uintptr_t)arg;                        /* r0 */
    /* What PendSV pops: r4-r11 and, on cores with EXC_RETURN variants to
     * keep, the EXC_RETURN value above them. */
#if !PORT_V6M
    *--sp = EXC_RETURN_THREAD_PSP;
#endif
    for (int i = 0; i < 8; i++) *--sp = 0;
    return (uintptr_t)sp;
}

void waft_port_pend_switch(void) { SCB_ICSR = ICSR_PENDSVSET; }

void waft_port_idle(void) { __asm__ volatile("dsb\n\twfi" ::: "memory"); }

#if defined(WAFT_KERNEL_VENDOR_SYSTICK)
#define PORT_STR2(x) #x
#define PORT_STR(x) PORT_STR2(x)

/* The vendor's SysTick is more urgent than the kernel's ceiling: one line, and the program ends. */
static void refuse_systick_priority(uint32_t priority) {
    static const char digits[] = "0123456789abcdef";
    const char value[] = {'0', 'x', digits[(priority >> 4) & 0xFu], digits[priority & 0xFu], '\0'};
    waft_port_write_error("waft: kernel: SysTick's priority ");
    waft_port_write_error(value);
    waft_port_write_error(" is above the kernel's ceiling " PORT_STR(WAFT_OS_SYSCALL_PRIORITY)
                          ": give it a priority value of " PORT_STR(WAFT_OS_SYSCALL_PRIORITY)
                          " or more (docs/bsp.md)\n");
    waft_port_exit(WAFT_TRAP_EXIT_STATUS);
}
#endif

void waft_port_start(waft_os_thread *main_thread) {
    main_thread->stack_low = (uintptr_t)__StackLimit;
    main_thread->stack_limit = (uintptr_t)__StackLimit + WAFT_STACK_MARGIN;
    waft_stack_limit = main_thread->stack_limit;
#if defined(WAFT_KERNEL_VENDOR_SYSTICK)
    /* PendSV at the lowest priority; SysTick stays at the vendor's, which the
     * kernel's critical sections must mask: the tick changes the kernel's
     * lists.  (Armv6-M masks everything with PRIMASK: any priority will do.) */
    SCB_SHPR3 = (SCB_SHPR3 & 0xFF00FFFFu) | 0x00FF0000u;
    uint32_t systick_priority = SCB_SHPR3 >> 24;
    if (!PORT_V6M && systick_priority < WAFT_OS_SYSCALL_PRIORITY) refuse_systick_priority(systick_priority);
#else
    /* PendSV and SysTick at the lowest priority; SVCall and the rest untouched. */
    SCB_SHPR3 = (SCB_SHPR3 & 0x0000FFFFu) | 0xFFFF0000u;
#endif
#if PORT_FPU
    FPCCR |= FPCCR_ASPEN | FPCCR_LSPEN;
#endif
    uint32_t control;
    __asm__ volatile("mrs %0, control" : "=r"(control));
    if ((control & 2u) == 0) {
        /* Thread mode switches to the PSP, given the MSP's current value, so
         * main() goes on on the same stack; then the MSP, now used by
         * handlers only, moves to its own array.  The compiler's view of sp
         * does not change. */
        uintptr_t isr_top = (uintptr_t)isr_stack + sizeof isr_stack;
        __asm__ volatile(
            ".syntax unified\n\t" /* GCC hands inline asm over in divided syntax */
            "mrs r0, msp\n\t"
            "msr psp, r0\n\t"
            "mrs r0, control\n\t"
            "movs r1, #2\n\t"
            "orrs r0, r0, r1\n\t"
            "msr control, r0\n\t"
            "isb\n\t"
            "msr msp, %0\n\t" ::"r"(isr_top)
            : "r0", "r1", "memory");
    }
#if PORT_PSPLIM
    __asm__ volatile("msr msplim, %0\n\tmsr psplim, %1" ::"r"((uintptr_t)isr_stack),
                     "r"(main_thread->stack_low));
#endif
    waft_clock_start();
}

/* --- the switch ---------------------------------------------------------------------- */

/*
 * PendSV: save the running thread, make waft_os__sched.next current, restore
 * it.  On entry the core has pushed r0-r3, r12, lr, pc, xPSR (and reserved
 * the FP frame, lazily) on the PSP; lr holds EXC_RETURN.  Thread control
 * block offsets: sp 0, stack_limit 4, trap_current 8, stack_low 12
 * (kernel_port.h, checked in sched.c).  Reading `next` and writing `current`
 * happen with kernel interrupts masked, so a handler that reschedules in
 * between compares against a consistent `current` (and pends PendSV again).
 */
#if PORT_V6M
__attribute__((naked)) void waft_kernel_pendsv_handler(void) {
    __asm__ volatile(
        ".syntax unified\n\t" /* GCC hands inline asm over in divided syntax */
        "mrs r0, psp\n\t"
        "ldr r3, =waft_os__sched\n\t"
        "ldr r2, [r3]\n\t"             /* r2 = current */
        "subs r0, r0, #32\n\t"             /* room for r4-r11 below the core's frame */
        "str r0, [r2]\n\t"             /* current->sp */
        "stmia r0!, {r4-r7}\n\t"       /* Armv6-M STM takes r0-r7 only: r8-r11 go through r4-r7 */
        "mov r4, r8\n\t"
        "mov r5, r9\n\t"
        "mov r6, r10\n\t"
        "mov r7, r11\n\t"
        "stmia r0!, {r4-r7}\n\t"
        "ldr r1, =waft_trap_current\n\t"
        "ldr r0, [r1]\n\t"
        "str r0, [r2, #8]\n\t"         /* current->trap_current = waft_trap_current */
        "cpsid i\n\t"
        "ldr r2, [r3, #4]\n\t"         /* r2 = next */
        "str r2, [r3]\n\t"             /* current = next */
        "cpsie i\n\t"
        "ldr r0, [r2, #8]\n\t"
        "str r0, [r1]\n\t"             /* waft_trap_current = next->trap_current */
        "ldr r0, [r2, #4]\n\t"
        "ldr r1, =waft_stack_limit\n\t"
        "str r0, [r1]\n\t"             /* waft_stack_limit = next->stack_limit */
        "ldr r0, [r2]\n\t"             /* next->sp: r4-r7, r8-r11, then the core's frame */
        "adds r0, r0, #16\n\t"
        "ldmia r0!, {r4-r7}\n\t"       /* the saved r8-r11 first, while r4-r7 are free */
        "mov r8, r4\n\t"
        "mov r9, r5\n\t"
        "mov r10, r6\n\t"
        "mov r11, r7\n\t"
        "msr psp, r0\n\t"              /* the core's frame starts here */
        "subs r0, r0, #32\n\t"
        "ldmia r0!, {r4-r7}\n\t"
        "bx lr\n\t"                    /* always EXC_RETURN thread/PSP: only threads are preempted by PendSV */
        ".ltorg\n");
}
#else
__attribute__((naked)) void waft_kernel_pendsv_handler(void) {
    __asm__ volatile(
        ".syntax unified\n\t" /* GCC hands inline asm over in divided syntax */
        "mrs r0, psp\n\t"
        "ldr r3, =waft_os__sched\n\t"
        "ldr r2, [r3]\n\t"             /* r2 = current */
#if PORT_FPU
        "tst lr, #0x10\n\t"            /* EXC_RETURN bit 4 clear: the thread has FP context */
        "it eq\n\t"
        "vstmdbeq r0!, {s16-s31}\n\t"  /* also makes the core fill the lazily reserved s0-s15 */
#endif
        "stmdb r0!, {r4-r11, lr}\n\t"  /* lr: EXC_RETURN, to know the frame type on the way back */
        "str r0, [r2]\n\t"             /* current->sp */
        "ldr r1, =waft_trap_current\n\t"
        "ldr r0, [r1]\n\t"
        "str r0, [r2, #8]\n\t"         /* current->trap_current = waft_trap_current */
        "mov r0, %[ceiling]\n\t"
        "msr basepri, r0\n\t"
        "isb\n\t"
        "ldr r2, [r3, #4]\n\t"         /* r2 = next */
        "str r2, [r3]\n\t"             /* current = next */
        "movs r0, #0\n\t"
        "msr basepri, r0\n\t"
        "ldr r0, [r2, #8]\n\t"
        "str r0, [r1]\n\t"             /* waft_trap_current = next->trap_current */
        "ldr r0, [r2, #4]\n\t"
        "ldr r1, =waft_stack_limit\n\t"
        "str r0, [r1]\n\t"             /* waft_stack_limit = next->stack_limit */
#if PORT_PSPLIM
        "ldr r1, [r2, #12]\n\t"        /* next->stack_low, for PSPLIM */
#endif
        "ldr r0, [r2]\n\t"             /* next->sp */
        "ldmia r0!, {r4-r11, lr}\n\t"
#if PORT_FPU
        "tst lr, #0x10\n\t"
        "it eq\n\t"
        "vldmiaeq r0!, {s16-s31}\n\t"
#endif
#if PORT_PSPLIM
        "movs r2, #0\n\t"              /* drop the old limit first: the new stack may lie below it */
        "msr psplim, r2\n\t"
        "msr psp, r0\n\t"
        "msr psplim, r1\n\t"
#else
        "msr psp, r0\n\t"
#endif
        "bx lr\n\t"
        ".ltorg\n" ::[ceiling] "i"(WAFT_OS_SYSCALL_PRIORITY));
}
#endif

#if !defined(WAFT_KERNEL_VENDOR_PENDSV)
/* Waft's own firmware, and a drop-in that lets the library own PendSV: the
 * vector table's PendSV entry (startup.c's, or the vendor's weak one) is the switch. */
void PendSV_Handler(void) __attribute__((alias("waft_kernel_pendsv_handler")));
#endif
