/*
 * vendor_it.c: the project's own exception handlers (STM32Cube's stm32xxxx_it.c), the file a
 * project edits to hand the tick to the middleware it links.  The HAL's time base counts first;
 * then, in a firmware whose Waft module uses threads (VENDOR_WAFT_THREADS), the kernel gets its
 * tick through the drop-in's hook (waft_kernel_bsp.h).  startup_an386.c puts the kernel's
 * PendSV handler in the vector table.
 */
#include "hal.h"

#if VENDOR_WAFT_THREADS
#include "waft_kernel_bsp.h"
#endif

/* 0 leaves the hook out: tests/lts/test_bsp_threads.py shows that the control thread then never
 * runs and the vendor's watchdog stops the firmware. */
#ifndef VENDOR_WAFT_TICK
#define VENDOR_WAFT_TICK 1
#endif

void SysTick_Handler(void) {
    hal_inc_tick();
#if VENDOR_WAFT_THREADS && VENDOR_WAFT_TICK
    /* After the HAL's count: the kernel takes the tick's time from waft_clock_ns (waft_hooks.c). */
    waft_kernel_systick_hook();
#endif
}
