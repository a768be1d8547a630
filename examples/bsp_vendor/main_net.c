/*
 * main_net.c: a vendor firmware that runs a Wasm network service from a `waft bsp` drop-in:
 * examples/tcp_echo (wasi-ext:sockets) through waft_run_tcp_echo, on the lwIP and LAN9118
 * driver the drop-in holds (waft bsp --nic lan9118).  lwIP runs NO_SYS, polled by the socket
 * calls: its clock is the vendor's (waft_hooks.c's waft_clock_ns), and its idle wait
 * (waft_clock_idle) is woken by the vendor's own SysTick.  No vector, no interrupt of the NIC.
 * Exit status: the module's (0: every connection echoed).
 */
#include "hal.h"
#include "waft_bsp.h"

int main(void) {
    hal_init();
    hal_puts("vendor BSP: Waft ABI version ");
    hal_put_int(WAFT_ABI_VERSION);
    hal_puts(", sockets on the drop-in's lwIP\n");
    int status = waft_run_tcp_echo();
    hal_puts("tcp_echo: exit status ");
    hal_put_int(status);
    hal_puts("\n");
    return status;
}
