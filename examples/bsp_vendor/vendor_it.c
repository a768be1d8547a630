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

/* Test knobs (tests/lts/test_bsp_threads.py builds each): VENDOR_WAFT_TICK=0 leaves the hook out,
 * and the control thread is never released; VENDOR_WAFT_TICK_FIRST=1 calls it before the HAL's
 * count, and every release comes one tick late. */
#ifndef VENDOR_WAFT_TICK
#define VENDOR_WAFT_TICK 1
#endif
#ifndef VENDOR_WAFT_TICK_FIRST
#define VENDOR_WAFT_TICK_FIRST 0
#endif
#define VENDOR_HOOK (VENDOR_WAFT_THREADS && VENDOR_WAFT_TICK)

void SysTick_Handler(void) {
#if VENDOR_HOOK && VENDOR_WAFT_TICK_FIRST
    waft_kernel_systick_hook();
#endif
    hal_inc_tick();
#if VENDOR_HOOK && !VENDOR_WAFT_TICK_FIRST
    /* After the HAL's count: the kernel takes the tick's time from waft_clock_ns (waft_hooks.c). */
    waft_kernel_systick_hook();
#endif
}
