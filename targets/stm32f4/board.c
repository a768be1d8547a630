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
 *
 * CLOCK_REALTIME comes from the RTC calendar when something (an earlier
 * firmware, a battery-backed setting) has initialised it (RTC_ISR.INITS);
 * otherwise the port uses the build time plus the monotonic clock.  Nothing
 * here sets the RTC.
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

#define RTC_TR REG(0x40002800u)
#define RTC_DR REG(0x40002804u)
#define RTC_CR REG(0x40002808u)
#define RTC_ISR REG(0x4000280Cu)
#define RTC_PRER REG(0x40002810u)
#define RTC_SSR REG(0x40002828u)
#define RTC_ISR_INITS (1u << 4)
#define RTC_ISR_RSF (1u << 5)
#define RTC_CR_FMT (1u << 6)
#define RTC_TR_PM (1u << 22)

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

/* Days from 1970-01-01 to year-month-day (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned bcd(uint32_t reg, int shift, uint32_t tens_mask) {
    return ((reg >> (shift + 4)) & tens_mask) * 10 + ((reg >> shift) & 0xFu);
}

bool waft_board_rtc_ns(uint64_t *ns) {
    if (emulated() || !(RTC_ISR & RTC_ISR_INITS)) return false; /* the calendar was never set */
    /* The shadow registers must have synchronised since reset (RM0090 26.3.6). */
    int i = 0;
    while (!(RTC_ISR & RTC_ISR_RSF)) {
        if (++i == RNG_WAIT) return false; /* no RTC clock running */
    }
    /* Reading SSR then TR freezes the shadows until DR is read: one instant. */
    uint32_t ssr = RTC_SSR, tr = RTC_TR, dr = RTC_DR;
    uint32_t prediv_s = RTC_PRER & 0x7FFFu;
    unsigned hour = bcd(tr, 16, 0x3u), minute = bcd(tr, 8, 0x7u), second = bcd(tr, 0, 0x7u);
    if ((RTC_CR & RTC_CR_FMT) && (tr & RTC_TR_PM)) hour = hour % 12 + 12;
    else if ((RTC_CR & RTC_CR_FMT) && hour == 12) hour = 0;
    unsigned year = 2000 + bcd(dr, 16, 0xFu), month = bcd(dr, 8, 0x1u), day = bcd(dr, 0, 0x3u);
    if (month < 1 || month > 12 || day < 1 || day > 31) return false;
    int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    /* Subseconds count down from PREDIV_S. */
    uint64_t sub_ns = ssr <= prediv_s ? (uint64_t)(prediv_s - ssr) * 1000000000u / (prediv_s + 1u) : 0;
    *ns = (uint64_t)seconds * 1000000000u + sub_ns;
    return true;
}

/* ---- timers for wasi-ext:signals timer lines (runtime_c/signals/port_cortexm.c) ----
 *
 * Board timer 0 is TIM2 (IRQ 28), timer 1 is TIM5 (IRQ 50): the two 32-bit
 * general-purpose timers, so a wait of up to 2^32 ticks is one interrupt
 * (target.toml's [interrupts] names the same).  SysTick stays the kernel's.
 * The port arms a timer for one interval at a time and re-arms it from its
 * vector on the monotonic clock's grid, so the timer's own rate only decides
 * how close to the grid point the interrupt comes, never the drift.  Their
 * clock: TIMxCLK = APB1 x 1 = 16 MHz from the HSI after reset (nothing here
 * changes the clock tree; -DWAFT_TIMER_HZ for one that does); under QEMU it
 * is measured (below). */
static const uint32_t TIMER_BASE[2] = {0x40000000u, 0x40000C00u};
static const uint32_t TIMER_RCC_BIT[2] = {1u << 0, 1u << 3}; /* RCC_APB1ENR: TIM2EN, TIM5EN */
#define TIM_CR1(b) REG((b) + 0x00u)
#define TIM_DIER(b) REG((b) + 0x0Cu)
#define TIM_SR(b) REG((b) + 0x10u)
#define TIM_CNT(b) REG((b) + 0x24u)
#define TIM_PSC(b) REG((b) + 0x28u)
#define TIM_ARR(b) REG((b) + 0x2Cu)
#define TIM_CR1_CEN 1u
#define TIM_DIER_UIE 1u

/* QEMU's netduinoplus2 counts the timers at 1 GHz of virtual time, but its
 * SysTick (the monotonic clock) follows virtual time only under -icount; in
 * real-time mode the two differ by a factor of about 3.5.  So under
 * emulation the rate is measured once against the clock (500 us of it). */
static uint32_t measured_timer_hz(uint32_t b) {
    waft_clock_start(); /* idempotent: the clock the timer lines' grid is on */
    TIM_CR1(b) = 0;
    TIM_PSC(b) = 0;
    TIM_DIER(b) = 0;
    TIM_ARR(b) = 0xFFFFFFFFu;
    TIM_CR1(b) = TIM_CR1_CEN; /* no CNT write: see waft_board_timer_arm */
    uint64_t t0 = waft_clock_ns();
    uint32_t c0 = TIM_CNT(b);
    uint64_t t1;
    while ((t1 = waft_clock_ns()) - t0 < 500000u) {
    }
    uint32_t c1 = TIM_CNT(b);
    TIM_CR1(b) = 0;
    uint64_t hz = (uint64_t)(c1 - c0) * 1000000000u / (t1 - t0);
    return hz == 0 ? 1u : hz > 1000000000u ? 1000000000u : (uint32_t)hz;
}

uint32_t waft_board_timer_hz(uint32_t n) {
#ifdef WAFT_TIMER_HZ
    (void)n;
    return WAFT_TIMER_HZ;
#else
    if (emulated()) {
        RCC_APB1ENR |= TIMER_RCC_BIT[n & 1u];
        return measured_timer_hz(TIMER_BASE[n & 1u]);
    }
    return 16000000u;
#endif
}

uint32_t waft_board_timer_max_ticks(uint32_t n) {
    (void)n;
    return 0xFFFFFFFEu; /* ARR = ticks - 1 must stay a 32-bit value */
}

void waft_board_timer_arm(uint32_t n, uint32_t ticks) {
    uint32_t b = TIMER_BASE[n & 1u];
    RCC_APB1ENR |= TIMER_RCC_BIT[n & 1u];
    (void)RCC_APB1ENR;
    TIM_CR1(b) = 0;
    TIM_PSC(b) = 0;
    /* On the chip the update event comes when CNT wraps past ARR, so CNT
     * restarts from 0.  Not under QEMU 7.2: its model (stm32f2xx_timer.c)
     * schedules each update at `now + ARR + tick_offset`, where tick_offset
     * is the virtual time of the last CNT write (0 from reset), so a CNT
     * write at time t delays every later update by t -- re-armed at t, the
     * line fired at about 2t, halving the rate each time.  Never written,
     * tick_offset stays 0, the ARR write schedules the update ARR ticks
     * ahead, and the model re-arms itself by ARR after each update, as the
     * hardware does (after ARR ticks there, not ARR + 1). */
    bool model = emulated();
    if (!model) {
        TIM_CNT(b) = 0;
    }
    TIM_ARR(b) = model ? ticks : ticks > 1u ? ticks - 1u : 1u;
    TIM_SR(b) = 0;
    TIM_DIER(b) = TIM_DIER_UIE;
    TIM_CR1(b) = TIM_CR1_CEN;
}

void waft_board_timer_ack(uint32_t n) { TIM_SR(TIMER_BASE[n & 1u]) = 0; }

void waft_board_timer_stop(uint32_t n) {
    uint32_t b = TIMER_BASE[n & 1u];
    RCC_APB1ENR |= TIMER_RCC_BIT[n & 1u];
    (void)RCC_APB1ENR;
    TIM_CR1(b) = 0;
    TIM_DIER(b) = 0;
    TIM_SR(b) = 0;
}
