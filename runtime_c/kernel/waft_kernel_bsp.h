/*
 * waft_kernel_bsp.h: the two hooks by which a vendor's firmware lends the
 * built-in kernel (wasi-ext:threads, wasi-threads on a Cortex-M board) its
 * two exceptions, when the vector table and SysTick are the vendor's (a
 * `waft bsp` drop-in: docs/bsp.md).  Part of the frozen BSP hooks (docs/lts.md).
 *
 *   SysTick  the vendor's SysTick_Handler, running at 1 kHz, calls
 *            waft_kernel_systick_hook() on every tick, after its own time base
 *            has counted it (STM32Cube: after HAL_IncTick()).  SysTick's NVIC
 *            priority value must be WAFT_OS_SYSCALL_PRIORITY (0x40) or more:
 *            the kernel refuses to start otherwise, in one line.
 *   PendSV   the vendor's vector table holds waft_kernel_pendsv_handler in
 *            its PendSV entry (or its own PendSV_Handler is nothing but a
 *            branch to it: `b waft_kernel_pendsv_handler`, no frame).  The
 *            kernel gives PendSV the lowest priority when it starts.
 *
 * Both are in libwaft.a from the moment a module of the drop-in uses threads.
 * Once the module's entry has started the kernel, the vendor's interrupt
 * handlers run on the kernel's interrupt stack (manifest.json: kernel.isr_stack).
 */
#ifndef WAFT_KERNEL_BSP_H
#define WAFT_KERNEL_BSP_H

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel's tick: wakes the threads whose deadline the clock has reached
 * and rotates time slices.  Call from the SysTick handler, once per 1 ms tick. */
void waft_kernel_systick_hook(void);

/* The kernel's context switch: an exception handler (naked; it never
 * returns to a caller), for the PendSV entry of the vector table. */
void waft_kernel_pendsv_handler(void);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_KERNEL_BSP_H */
