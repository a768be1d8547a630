/*
 * irq_vendor_main.c: a vendor firmware (examples/bsp_vendor's startup, HAL and hooks) that runs
 * the irq_control WASI command from a `waft bsp --grant tick=timer:0@on_tick` drop-in, then
 * proves its own device interrupt still reaches its own driver: the signals port moved VTOR to
 * a RAM copy of the vendor's table with only the granted timer line changed.
 */
#include <stdint.h>

#include "hal.h"
#include "waft_bsp.h"

#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR0 (*(volatile uint32_t *)0xE000E200u)
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define UART0TX_IRQ 1u

static volatile uint32_t uart_tx_interrupts;

/* The vendor's UART driver's interrupt (replaces the weak alias in startup_an386.c). */
void UART0TX_Handler(void) { uart_tx_interrupts++; }

int main(void) {
    hal_init();
    int status = waft_run_irq_control();
    hal_puts(SCB_VTOR != 0 ? "vendor: VTOR moved to RAM\n" : "vendor: VTOR still at the boot table\n");
    NVIC_ISER0 = 1u << UART0TX_IRQ;
    NVIC_ISPR0 = 1u << UART0TX_IRQ; /* as if the UART had finished sending */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    hal_puts(uart_tx_interrupts == 1 ? "vendor: UART0 TX interrupt reached its driver\n"
                                     : "vendor: UART0 TX interrupt lost\n");
    return uart_tx_interrupts == 1 ? status : 1;
}
