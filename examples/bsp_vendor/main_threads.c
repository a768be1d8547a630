/*
 * main_threads.c: a vendor firmware that runs a threaded Wasm module from a `waft bsp` drop-in:
 * examples/rt_threads (a 1 kHz control thread at priority 10 beside a logger that saturates the
 * core) through waft_run_rt_threads, on Waft's kernel.  The vector table, SysTick and the console
 * stay the vendor's (startup_an386.c, vendor_it.c, hal.c): the kernel gets PendSV through the
 * table's entry and its tick through the vendor's SysTick handler.
 *
 * The vendor's watchdog guards the run (a product resets; here: exit status 4): a firmware
 * that forgets the tick hook never gets its control thread released, and stops there.
 * Afterwards the HAL's own time base must still count: the vendor's SysTick kept running
 * under the kernel.  Exit status: the module's (0: every period kept), else 1 or 4.
 */
#include "hal.h"
#include "waft_bsp.h"

#ifndef VENDOR_WATCHDOG_MS
#define VENDOR_WATCHDOG_MS 2000u
#endif

int main(void) {
    hal_init();
    hal_puts("vendor BSP: Waft ABI version ");
    hal_put_int(WAFT_ABI_VERSION);
    hal_puts(", threads on the vendor's SysTick and PendSV vector\n");
    hal_watchdog_start(VENDOR_WATCHDOG_MS);
    int status = waft_run_rt_threads();
    hal_watchdog_stop();
    hal_puts("rt_threads: exit status ");
    hal_put_int(status);
    hal_puts("\n");
    uint64_t before = hal_millis();
    hal_delay_ms(2); /* the vendor's tick still counts after the kernel took PendSV */
    if (hal_millis() < before + 2) {
        hal_puts("vendor BSP: the HAL's tick stopped\n");
        return 1;
    }
    return status;
}
