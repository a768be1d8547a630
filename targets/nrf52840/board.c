/*
 * board.c: the nRF52840 parts of the WASI port (build only here: QEMU has no
 * nRF52840): the 64 MHz core clock, the hardware RNG (bias correction on,
 * one byte per VALRDY event), the 64-bit DEVICEID from FICR, and the legacy
 * UART0 for the UART console on the nRF52840 DK's interface-MCU pins
 * (P0.06 TX, P0.08 RX, 115200 8N1).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "port_baremetal.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define RNG_TASKS_START REG(0x4000D000u)
#define RNG_TASKS_STOP REG(0x4000D004u)
#define RNG_EVENTS_VALRDY REG(0x4000D100u)
#define RNG_CONFIG REG(0x4000D504u)
#define RNG_VALUE REG(0x4000D508u)

#define FICR_DEVICEID 0x10000060u

#define UART_TASKS_STARTRX REG(0x40002000u)
#define UART_TASKS_STARTTX REG(0x40002008u)
#define UART_EVENTS_RXDRDY REG(0x40002108u)
#define UART_EVENTS_TXDRDY REG(0x4000211Cu)
#define UART_ENABLE REG(0x40002500u)
#define UART_PSELTXD REG(0x4000250Cu)
#define UART_PSELRXD REG(0x40002514u)
#define UART_RXD REG(0x40002518u)
#define UART_TXD REG(0x4000251Cu)
#define UART_BAUDRATE REG(0x40002524u)
#define UART_BAUD_115200 0x01D7E000u
#define UART_ENABLE_ENABLED 4u

/* Polls of VALRDY before giving up: with bias correction a byte takes about
 * 120 us, some 8000 cycles at 64 MHz; each poll is a few cycles. */
#define RNG_WAIT 200000

uint32_t waft_board_core_hz(void) { return 64000000u; }

bool waft_board_random(uint8_t *buf, size_t len) {
    RNG_CONFIG = 1u; /* DERCEN: bias correction */
    RNG_EVENTS_VALRDY = 0;
    RNG_TASKS_START = 1u;
    bool ok = true;
    for (size_t i = 0; i < len && ok; i++) {
        int n = 0;
        while (RNG_EVENTS_VALRDY == 0) {
            if (++n == RNG_WAIT) {
                ok = false;
                break;
            }
        }
        buf[i] = (uint8_t)RNG_VALUE;
        RNG_EVENTS_VALRDY = 0;
    }
    RNG_TASKS_STOP = 1u;
    return ok;
}

size_t waft_board_unique_id(uint8_t *buf, size_t len) {
    size_t n = len < 8 ? len : 8;
    memcpy(buf, (const void *)FICR_DEVICEID, n);
    return n;
}

void waft_board_uart_init(void) {
    UART_PSELTXD = 6u;
    UART_PSELRXD = 8u;
    UART_BAUDRATE = UART_BAUD_115200;
    UART_ENABLE = UART_ENABLE_ENABLED;
    UART_EVENTS_TXDRDY = 0;
    UART_EVENTS_RXDRDY = 0;
    UART_TASKS_STARTTX = 1u;
    UART_TASKS_STARTRX = 1u;
}

void waft_board_uart_putc(uint8_t c) {
    UART_TXD = c;
    while (UART_EVENTS_TXDRDY == 0) {
    }
    UART_EVENTS_TXDRDY = 0;
}

int waft_board_uart_getc(void) {
    if (UART_EVENTS_RXDRDY == 0) return -1;
    UART_EVENTS_RXDRDY = 0;
    return (int)(UART_RXD & 0xFFu);
}
