/*
 * startup_an386.c: the vendor's own startup code and vector table for the Arm
 * MPS2 AN386 (Cortex-M4F; QEMU mps2-an386), as a CMSIS project has them
 * (symbol names from STM32Cube-style linker scripts:
 * _sidata/_sdata/_edata, _sbss/_ebss, _estack).  The Waft drop-in defines no
 * vector, no Reset_Handler and no SysTick_Handler: these are the only ones.
 * (Waft's kernel, for a module with threads, is handed PendSV here and the
 * tick in vendor_it.c.)
 */
#include <stdint.h>

#include "hal.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
extern int main(void);

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void) {
    /* The FPU first: the firmware is built -mfloat-abi=hard. */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb");
    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) *dst++ = *src++;
    for (uint32_t *dst = _sbss; dst < _ebss;) *dst++ = 0;
    hal_exit(main());
}

/* Any fault or unexpected interrupt: say so and stop with status 3. */
void Default_Handler(void) {
    hal_puts("vendor BSP: unexpected exception\n");
    hal_exit(3);
}

void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler(void) __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void); /* vendor_it.c */
/* The PendSV entry: with Waft threads (VENDOR_WAFT_THREADS) the kernel's context switch, the hook
 * the drop-in's waft_kernel_bsp.h names; PendSV_Handler (a weak name a library may define: a
 * drop-in built --kernel-owns-pendsv does) otherwise. */
#ifndef VENDOR_PENDSV_VECTOR
#if VENDOR_WAFT_THREADS
#include "waft_kernel_bsp.h"
#define VENDOR_PENDSV_VECTOR waft_kernel_pendsv_handler
#else
#define VENDOR_PENDSV_VECTOR PendSV_Handler
#endif
#endif
/* Device interrupts (CMSDK numbering), weak as in a CMSIS startup file: a driver defines its own. */
void UART0RX_Handler(void) __attribute__((weak, alias("Default_Handler")));
void UART0TX_Handler(void) __attribute__((weak, alias("Default_Handler")));
void TIMER0_Handler(void) __attribute__((weak, alias("Default_Handler")));
void TIMER1_Handler(void) __attribute__((weak, alias("Default_Handler")));

/* 16 system vectors and the AN386's 32 interrupts (Default_Handler where no driver is named).
 * A Wasm module granted a line (waft bsp --grant) gets it in the runtime's RAM copy of this
 * table; every other entry stays what is here. */
__attribute__((section(".isr_vector"), used)) void (*const g_pfnVectors[16 + 32])(void) = {
    (void (*)(void))(uintptr_t)_estack, Reset_Handler, NMI_Handler, HardFault_Handler,
    MemManage_Handler, BusFault_Handler, UsageFault_Handler, 0, 0, 0, 0,
    SVC_Handler, DebugMon_Handler, 0, VENDOR_PENDSV_VECTOR, SysTick_Handler,
    UART0RX_Handler, UART0TX_Handler, [16 + 2 ... 16 + 7] = Default_Handler,
    TIMER0_Handler, TIMER1_Handler, [16 + 10 ... 16 + 31] = Default_Handler,
};
