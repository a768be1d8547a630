/*
 * board.c: the STM32F4 (STM32F405/407) parts of the WASI port: the core
 * clock, the hardware RNG, the 96-bit unique device ID, and USART2 for the
 * UART console (PA2 TX / PA3 RX, 115200 8N1; the ST-LINK virtual COM port on
 * Nucleo boards).
 *
 * QEMU's netduinoplus2 emulates none of RCC, the RNG or the ID area: RCC
 * reads as 0 (a real chip has HSION and HSIRDY set from reset), the RNG's
 * DRDY never sets, and the ID area is not mapped.  So the RNG is given a
 * bounded wait and, when it does not answer, waft_board_random says "no RNG"
 * and the port falls back to waft_insecure_fallback_random; RCC reading as 0
 * also tells us the core runs at the 168 MHz QEMU gives the machine.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "port_baremetal.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
#define RCC_CR REG(0x40023800u)
#define RCC_PLLCFGR REG(0x40023804u)
#define RCC_AHB1ENR REG(0x40023830u)
#define RCC_AHB2ENR REG(0x40023834u)
#define RCC_APB1ENR REG(0x40023840u)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)

#define RNG_CR REG(0x50060800u)
#define RNG_SR REG(0x50060804u)
#define RNG_DR REG(0x50060808u)
#define RNG_CR_RNGEN (1u << 2)
#define RNG_SR_DRDY (1u << 0)
#define RNG_SR_CECS (1u << 1)
#define RNG_SR_SECS (1u << 2)

#define GPIOA_MODER REG(0x40020000u)
#define GPIOA_AFRL REG(0x40020020u)
#define USART2_SR REG(0x40004400u)
#define USART2_DR REG(0x40004404u)
#define USART2_BRR REG(0x40004408u)
#define USART2_CR1 REG(0x4000440Cu)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_UE (1u << 13)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RE (1u << 2)

#define UID_BASE 0x1FFF7A10u

/* Polls of RNG_SR before deciding the RNG is not there: a real RNG has a
 * word ready every 40 cycles of its 48 MHz clock, far inside this. */
#define RNG_WAIT 20000

/* Emulated by QEMU, which leaves RCC unimplemented (reads as 0). */
static bool emulated(void) { return RCC_CR == 0; }

uint32_t waft_board_core_hz(void) {
#ifdef WAFT_CORE_HZ
    return WAFT_CORE_HZ;
#else
    /* Nothing here switches the system clock: a real chip runs on its
     * 16 MHz HSI from reset; QEMU's netduinoplus2 says 168 MHz. */
    return emulated() ? 168000000u : 16000000u;
#endif
}

static enum { RNG_UNKNOWN, RNG_OK, RNG_ABSENT } rng_state;

static bool rng_start(void) {
    if (rng_state != RNG_UNKNOWN) return rng_state == RNG_OK;
    rng_state = RNG_ABSENT;
    /* The RNG runs from PLL48CLK: start the main PLL on the HSI for it
     * (16 MHz / 16 * 192 / 4 = 48 MHz) unless it already runs; the system
     * clock stays where it is. */
    if (!(RCC_CR & RCC_CR_PLLON)) {
        RCC_PLLCFGR = (16u << 0) | (192u << 6) | (0u << 16) | (0u << 22) | (4u << 24);
        RCC_CR |= RCC_CR_PLLON;
        for (int i = 0; i < RNG_WAIT && !(RCC_CR & RCC_CR_PLLRDY); i++) {
        }
    }
    RCC_AHB2ENR |= 1u << 6; /* RNGEN clock */
    (void)RCC_AHB2ENR;
    RNG_CR |= RNG_CR_RNGEN;
    rng_state = RNG_OK;
    return true;
}

static bool rng_word(uint32_t *out) {
    for (int tries = 0; tries < 4; tries++) {
        int i = 0;
        while (!(RNG_SR & RNG_SR_DRDY)) {
            if (++i == RNG_WAIT) return false;
        }
        uint32_t sr = RNG_SR;
        uint32_t v = RNG_DR;
        if (!(sr & (RNG_SR_SECS | RNG_SR_CECS))) {
            *out = v;
            return true;
        }
        /* A seed or clock error: restart the RNG and try again (RM0090 24.3.2). */
        RNG_CR &= ~RNG_CR_RNGEN;
        RNG_SR = 0;
        RNG_CR |= RNG_CR_RNGEN;
    }
    return false;
}

bool waft_board_random(uint8_t *buf, size_t len) {
    if (!rng_start()) return false;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t w;
        if (!rng_word(&w)) {
            rng_state = RNG_ABSENT; /* never answered: stop asking */
            return false;
        }
        memcpy(buf + i, &w, len - i < 4 ? len - i : 4);
    }
    return true;
}

size_t waft_board_unique_id(uint8_t *buf, size_t len) {
    if (emulated()) return 0; /* QEMU does not map the ID area: reading it faults */
    size_t n = len < 12 ? len : 12;
    memcpy(buf, (const void *)UID_BASE, n);
    return n;
}

void waft_board_uart_init(void) {
    RCC_AHB1ENR |= 1u << 0;  /* GPIOA */
    RCC_APB1ENR |= 1u << 17; /* USART2 */
    (void)RCC_APB1ENR;
    /* PA2, PA3: alternate function 7 (USART2). */
    GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 4)) | (0xAu << 4);
    GPIOA_AFRL = (GPIOA_AFRL & ~(0xFFu << 8)) | (0x77u << 8);
    /* 115200 baud from the 16 MHz APB1 clock: 16e6 / (16 * 115200) = 8.6875 -> 8 + 11/16. */
    USART2_BRR = (8u << 4) | 11u;
    USART2_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

void waft_board_uart_putc(uint8_t c) {
    while (!(USART2_SR & USART_SR_TXE)) {
    }
    USART2_DR = c;
}

int waft_board_uart_getc(void) {
    if (!(USART2_SR & USART_SR_RXNE)) return -1;
    return (int)(USART2_DR & 0xFFu);
}
