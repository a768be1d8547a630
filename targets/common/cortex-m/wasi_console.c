/*
 * wasi_console.c: the WASI port's console (stdin, stdout, stderr) on a
 * Cortex-M board, one backend chosen at build time with
 * -DWAFT_WASI_CONSOLE=semihost|uart|rtt (default semihost):
 *
 *   semihost  Arm semihosting (QEMU -semihosting, or a debug probe): stdout
 *             and stderr are the host's own (":tt" opened "w" and "a"),
 *             stdin is SYS_READ on ":tt" opened "r" (blocking; 0 bytes is
 *             end of input).  Needs a debugger: without one BKPT faults.
 *   uart      the board's UART, polled (waft_board_uart_* in
 *             targets/<board>/board.c); stdout and stderr share it.
 *   rtt       a SEGGER-RTT-compatible control block named _SEGGER_RTT in
 *             RAM, which J-Link, pyOCD, probe-rs and OpenOCD find by its ID:
 *             up-buffer 0 is stdout ("Terminal"), up-buffer 1 stderr,
 *             down-buffer 0 stdin.  When an up-buffer is full, output is
 *             dropped (SEGGER's NO_BLOCK_SKIP) unless built with
 *             -DWAFT_RTT_BLOCK, which waits for the host to read.
 *
 * On uart and rtt there is no end of input: a 0x04 byte (Ctrl-D) at the
 * start of a read is taken as end of file.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "port_baremetal.h"

#define WAFT_CONSOLE_semihost 1
#define WAFT_CONSOLE_uart 2
#define WAFT_CONSOLE_rtt 3
#define WAFT_CONSOLE_CAT2(a, b) a##b
#define WAFT_CONSOLE_CAT(a, b) WAFT_CONSOLE_CAT2(a, b)
#ifndef WAFT_WASI_CONSOLE
#define WAFT_WASI_CONSOLE semihost
#endif
#define CONSOLE WAFT_CONSOLE_CAT(WAFT_CONSOLE_, WAFT_WASI_CONSOLE)
#if CONSOLE != WAFT_CONSOLE_semihost && CONSOLE != WAFT_CONSOLE_uart && CONSOLE != WAFT_CONSOLE_rtt
#error "wasi_console.c: WAFT_WASI_CONSOLE must be semihost, uart or rtt"
#endif

#define EOT 0x04 /* Ctrl-D: end of input on consoles that have no end */

#if CONSOLE == WAFT_CONSOLE_semihost
/* ---------------------------------------------------------------- semihosting */

#include "semihost.h"

#define SYS_OPEN 0x01
#define SYS_WRITE 0x05
#define SYS_READ 0x06

/* ":tt" handles: opened "r" (mode 0) is stdin, "w" (4) stdout, "a" (8) stderr. */
static intptr_t handles[3] = {-1, -1, -1};

static intptr_t handle(int stream) {
    if (handles[stream] < 0) {
        uintptr_t args[3] = {(uintptr_t) ":tt", (uintptr_t)(4 * stream), 3};
        handles[stream] = (intptr_t)semihost_call(SYS_OPEN, (uintptr_t)args);
    }
    return handles[stream];
}

size_t waft_console_write(int stream, const uint8_t *buf, size_t len) {
    intptr_t h = handle(stream == 2 ? 2 : 1);
    if (h < 0 || len == 0) return len;
    uintptr_t args[3] = {(uintptr_t)h, (uintptr_t)buf, len};
    uintptr_t left = semihost_call(SYS_WRITE, (uintptr_t)args); /* bytes NOT written */
    return left <= len ? len - left : 0;
}

size_t waft_console_read(uint8_t *buf, size_t len) {
    intptr_t h = handle(0);
    if (h < 0 || len == 0) return 0;
    uintptr_t args[3] = {(uintptr_t)h, (uintptr_t)buf, len};
    uintptr_t left = semihost_call(SYS_READ, (uintptr_t)args); /* bytes NOT read; all of them at EOF */
    return left <= len ? len - left : 0;
}

/* Semihosting cannot ask whether input is waiting: say yes, and let the read wait. */
bool waft_console_readable(void) { return true; }

#elif CONSOLE == WAFT_CONSOLE_uart
/* ----------------------------------------------------------------------- UART */

static bool uart_ready;
static int pending = -1; /* a byte waft_console_readable took from the UART */

static void uart_start(void) {
    if (!uart_ready) {
        waft_board_uart_init();
        uart_ready = true;
    }
}

size_t waft_console_write(int stream, const uint8_t *buf, size_t len) {
    (void)stream;
    uart_start();
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') waft_board_uart_putc('\r'); /* terminals want CR LF */
        waft_board_uart_putc(buf[i]);
    }
    return len;
}

static int take(void) {
    int c = pending;
    pending = -1;
    return c >= 0 ? c : waft_board_uart_getc();
}

bool waft_console_readable(void) {
    uart_start();
    if (pending < 0) pending = waft_board_uart_getc();
    return pending >= 0;
}

size_t waft_console_read(uint8_t *buf, size_t len) {
    uart_start();
    if (len == 0) return 0;
    int c;
    while ((c = take()) < 0) {
        waft_clock_idle(); /* polled: the SysTick interrupt wakes us every millisecond */
    }
    if (c == EOT) return 0;
    size_t n = 0;
    buf[n++] = (uint8_t)c;
    /* Then whatever else has arrived, up to the end of a line. */
    while (n < len && c != '\n' && (c = take()) >= 0 && c != EOT) {
        buf[n++] = (uint8_t)(c == '\r' ? '\n' : c);
    }
    if (c == EOT) pending = EOT; /* the next read reports the end */
    if (buf[0] == '\r') buf[0] = '\n';
    return n;
}

#else
/* ------------------------------------------------------------------------ RTT */

#ifndef WAFT_RTT_UP_SIZE
#define WAFT_RTT_UP_SIZE 1024
#endif
#ifndef WAFT_RTT_DOWN_SIZE
#define WAFT_RTT_DOWN_SIZE 64
#endif

/* SEGGER RTT's layout (SEGGER_RTT.h), which every RTT host tool reads. */
typedef struct {
    const char *sName;
    char *pBuffer;
    unsigned SizeOfBuffer;
    unsigned WrOff;          /* written by the target */
    volatile unsigned RdOff; /* written by the host */
    unsigned Flags;
} rtt_up;

typedef struct {
    const char *sName;
    char *pBuffer;
    unsigned SizeOfBuffer;
    volatile unsigned WrOff; /* written by the host */
    unsigned RdOff;          /* written by the target */
    unsigned Flags;
} rtt_down;

typedef struct {
    char acID[16]; /* "SEGGER RTT" */
    int MaxNumUpBuffers;
    int MaxNumDownBuffers;
    rtt_up aUp[2];
    rtt_down aDown[1];
} rtt_cb;

#define RTT_MODE_NO_BLOCK_SKIP 0u
#define RTT_MODE_BLOCK_IF_FIFO_FULL 2u

/* The name host tools search for; in .bss, so filled at run time. */
rtt_cb _SEGGER_RTT __attribute__((aligned(4)));
static char up_stdout[WAFT_RTT_UP_SIZE], up_stderr[WAFT_RTT_UP_SIZE / 4], down_stdin[WAFT_RTT_DOWN_SIZE];

static void rtt_start(void) {
    rtt_cb *cb = &_SEGGER_RTT;
    if (cb->acID[0] == 'S') return;
#ifdef WAFT_RTT_BLOCK
    unsigned mode = RTT_MODE_BLOCK_IF_FIFO_FULL;
#else
    unsigned mode = RTT_MODE_NO_BLOCK_SKIP;
#endif
    cb->MaxNumUpBuffers = 2;
    cb->MaxNumDownBuffers = 1;
    cb->aUp[0] = (rtt_up){"Terminal", up_stdout, sizeof up_stdout, 0, 0, mode};
    cb->aUp[1] = (rtt_up){"stderr", up_stderr, sizeof up_stderr, 0, 0, mode};
    cb->aDown[0] = (rtt_down){"Terminal", down_stdin, sizeof down_stdin, 0, 0, 0};
    /* The ID last, and not as one string literal, so that a host scanning
     * RAM finds only a complete block (SEGGER_RTT.c does the same). */
    static const char tail[] = "\0\0\0\0\0\0";
    memcpy(cb->acID + 7, "RTT", 3);
    memcpy(cb->acID + 10, tail, 6);
    __asm__ volatile("dmb" ::: "memory");
    memcpy(cb->acID, "SEGGER ", 7);
    __asm__ volatile("dmb" ::: "memory");
}

size_t waft_console_write(int stream, const uint8_t *buf, size_t len) {
    rtt_start();
    rtt_up *up = &_SEGGER_RTT.aUp[stream == 2 ? 1 : 0];
    size_t done = 0;
    while (done < len) {
        unsigned wr = up->WrOff, rd = up->RdOff, next = wr + 1 == up->SizeOfBuffer ? 0 : wr + 1;
        if (next == rd) { /* full */
            if (up->Flags != RTT_MODE_BLOCK_IF_FIFO_FULL) break;
            continue;
        }
        up->pBuffer[wr] = (char)buf[done++];
        __asm__ volatile("dmb" ::: "memory");
        up->WrOff = next;
    }
    return len; /* what did not fit is dropped, as SEGGER's skip mode does */
}

bool waft_console_readable(void) {
    rtt_start();
    return _SEGGER_RTT.aDown[0].WrOff != _SEGGER_RTT.aDown[0].RdOff;
}

size_t waft_console_read(uint8_t *buf, size_t len) {
    rtt_down *down = &_SEGGER_RTT.aDown[0];
    if (len == 0) return 0;
    while (!waft_console_readable()) waft_clock_idle();
    size_t n = 0;
    while (n < len && down->RdOff != down->WrOff) {
        unsigned rd = down->RdOff;
        uint8_t c = (uint8_t)down->pBuffer[rd];
        if (c == EOT) {
            if (n == 0) down->RdOff = rd + 1 == down->SizeOfBuffer ? 0 : rd + 1;
            break; /* end of input: reported alone */
        }
        buf[n++] = c;
        down->RdOff = rd + 1 == down->SizeOfBuffer ? 0 : rd + 1;
    }
    return n;
}

#endif

/* The runtime's error console (trap messages, "terminated by ..."): the WASI
 * stderr, whichever backend carries it.  Replaces the weak semihosting one in
 * runtime_c/port/cortex-m/port.c. */
void waft_port_write_error(const char *text) {
    size_t len = strlen(text);
    (void)waft_console_write(2, (const uint8_t *)text, len);
}
