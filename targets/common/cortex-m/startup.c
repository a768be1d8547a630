/* Start-up code for Cortex-M test images: vector table, reset, fault reporting.
 *
 * Reset copies .data from flash, zeroes .bss, turns the FPU on when the image
 * is built for one (CPACR, before any C code could touch a float register),
 * runs newlib's constructors and main(), and exits through semihosting with
 * main's status.  Every fault prints the stacked registers and the fault
 * status registers and exits with status 3, so a crash is never a hang.
 */
#include <stdint.h>
#include <stdlib.h>

#include "semihost.h"

extern uint32_t __etext_data[], __data_start__[], __data_end__[], __bss_start__[], __bss_end__[];
extern uint32_t __StackTop[];
extern int main(void);
extern void __libc_init_array(void);

/* newlib's __libc_init_array calls _init/_fini, which crti.o would supply. */
void _init(void) {}
void _fini(void) {}

#define SCB_CPACR (*(volatile uint32_t *) 0xE000ED88u)
#define SCB_VTOR (*(volatile uint32_t *) 0xE000ED08u)
#define SCB_CFSR (*(volatile uint32_t *) 0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *) 0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *) 0xE000ED34u)
#define SCB_BFAR (*(volatile uint32_t *) 0xE000ED38u)

extern const void *const __isr_vector[];

__attribute__((noreturn)) void Reset_Handler(void) {
    uint32_t *src = __etext_data;
    for (uint32_t *dst = __data_start__; dst < __data_end__;) *dst++ = *src++;
    for (uint32_t *dst = __bss_start__; dst < __bss_end__;) *dst++ = 0;
#if defined(__ARM_FP)
    SCB_CPACR |= 0xFu << 20; /* CP10 and CP11: full access */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
#if __ARM_ARCH >= 7 || defined(__ARM_ARCH_8M_BASE__)
    SCB_VTOR = (uint32_t) (uintptr_t) __isr_vector;
#endif
    __libc_init_array();
    exit(main());
}

static void put(const char *s) {
    const char *e = s;
    while (*e) e++;
    semihost_write(s, (size_t) (e - s));
}

static void put_hex(uint32_t v) {
    char buf[11] = "0x";
    for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xF];
    buf[10] = 0;
    put(buf);
}

/* Called by Fault_Handler with the exception frame the core pushed. */
__attribute__((noreturn, used)) void fault_report(const uint32_t *frame, uint32_t exc_return) {
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    put("\n@fault exception ");
    put_hex(ipsr & 0x1FF);
    put(" pc ");
    put_hex(frame[6]);
    put(" lr ");
    put_hex(frame[5]);
    put(" sp ");
    put_hex((uint32_t) (uintptr_t) frame);
    put(" exc_return ");
    put_hex(exc_return);
#if __ARM_ARCH >= 7
    put(" cfsr ");
    put_hex(SCB_CFSR);
    put(" hfsr ");
    put_hex(SCB_HFSR);
    put(" mmfar ");
    put_hex(SCB_MMFAR);
    put(" bfar ");
    put_hex(SCB_BFAR);
#endif
    put("\n");
    semihost_exit(3);
}

/* Pick the stack the frame went to (MSP or PSP) from EXC_RETURN bit 2. */
__attribute__((naked)) void Fault_Handler(void) {
    __asm__ volatile(
        "mov r1, lr\n\t"
        "movs r0, #4\n\t"
        "tst r0, r1\n\t"
        "beq 1f\n\t"
        "mrs r0, psp\n\t"
        "b 2f\n"
        "1:\n\t"
        "mrs r0, msp\n"
        "2:\n\t"
        "ldr r2, =fault_report\n\t"
        "bx r2\n\t"
        ".ltorg\n");
}

/* SysTick and PendSV report a fault like any unexpected exception, unless the
 * image links a handler (SysTick: the WASI port's clock, systick.c; PendSV:
 * the kernel's context switch, runtime_c/kernel/port_cortexm.c). */
void SysTick_Handler(void) __attribute__((weak, alias("Fault_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Fault_Handler")));

__attribute__((section(".isr_vector"), used)) const void *const __isr_vector[16] = {
    __StackTop,    /* initial stack pointer */
    Reset_Handler, /* reset */
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    Fault_Handler, /* SecureFault (v8-M) */
    0,
    0,
    0,
    Fault_Handler, /* SVCall */
    Fault_Handler, /* DebugMonitor */
    0,
    PendSV_Handler, /* PendSV */
    SysTick_Handler, /* SysTick */
};
