/*
 * wasi_board.c: the bare-metal WASI port's board glue on RISC-V (machine
 * mode, picolibc): the console over semihosting and the clocks from the
 * CLINT's machine timer.  Everything else of the port (RAM filesystem,
 * poll_oneoff, the fallback random generator, sockets answering NOTSUP) is
 * runtime_c/wasi_p1/port_baremetal*.c, shared with Cortex-M; the board hooks
 * (RNG, unique ID, RTC) are targets/common/board_default.c's weak defaults
 * unless targets/<board>/board.c has them.
 *
 * Console: semihosting (QEMU -semihosting-config, or a debug probe).
 * stdout and stderr are write() to fds 1 and 2, which picolibc's libsemihost
 * and targets/common/riscv/semihost.c turn into SYS_WRITE on ":tt" opened "w"
 * and "a": QEMU's own stdout and stderr.
 *
 * stdin is read from the semihosting console with SYS_READC, one byte a
 * call (with its own trap sequence rather than picolibc's sys_semihost_getc,
 * which QEMU 7.2 answers wrongly: see semihost_readc).  Not SYS_READ on ":tt" opened "r" (Cortex-M's way): Waft's QEMU
 * runner gives riscv32-virt's semihosting console a stdio chardev (so that
 * picolibc's printf, which writes with SYS_WRITEC, reaches stdout), and that
 * chardev reads QEMU's stdin eagerly into its own FIFO, so a SYS_READ of the
 * host's fd 0 finds it drained.  The console has no end of input (QEMU sees
 * the chardev's EOF and says nothing), so, as on the UART and RTT consoles of
 * Cortex-M, a 0x04 byte (Ctrl-D) is end of file (what came before it is
 * read first); `waft run` appends one to what it pipes in
 * (waftkit.firmware.wasi_firmware.console_end_of_input).  End of file is
 * sticky.  A read waits for its first byte, then takes bytes up to a newline
 * or the buffer's end.
 * Semihosting cannot ask whether input is waiting, so stdin always polls as
 * readable and the read waits.
 *
 * Clock: the CLINT's 64-bit mtime counter (WAFT_CLINT_BASE + 0xBFF8; QEMU's
 * virt machine: 0x0200BFF8, counting at WAFT_MTIME_HZ = 10 MHz).  Resolution
 * one tick (100 ns at 10 MHz), reported as that, rounded up to whole ns.
 * mtime runs from reset; monotonic time counts from the WASI runtime's first
 * clock reading, as SysTick does on Cortex-M.  64 bits of ticks never wrap.
 *
 * Sleeping: WFI, woken by the machine timer.  The hart has no interrupt
 * handler of ours, and needs none: WFI resumes when an interrupt is pending
 * and enabled in `mie`, whatever mstatus.MIE says (the privileged spec, and
 * QEMU's riscv_cpu_has_work).  So waft_clock_idle sets mtimecmp a millisecond
 * ahead (the SysTick period on Cortex-M), enables MTIE with mstatus.MIE
 * cleared, waits, and disables MTIE again: no trap is ever taken, and QEMU
 * halts the virtual CPU instead of spinning.  No busy wait.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "port_baremetal.h"

#ifndef WAFT_CLINT_BASE
#define WAFT_CLINT_BASE 0x02000000u
#endif
#ifndef WAFT_MTIME_HZ
#define WAFT_MTIME_HZ 10000000u
#endif

#define MTIME_LO (*(volatile uint32_t *)(WAFT_CLINT_BASE + 0xBFF8u))
#define MTIME_HI (*(volatile uint32_t *)(WAFT_CLINT_BASE + 0xBFFCu))
/* mtimecmp of hart h: CLINT + 0x4000 + 8 h. */
#define MTIMECMP(h, half) (*(volatile uint32_t *)(WAFT_CLINT_BASE + 0x4000u + 8u * (h) + 4u * (half)))

#define MIP_MTIP (1u << 7) /* also MIE.MTIE */
/* -march=rv32imac: newer assemblers want Zicsr named for CSR instructions. */
#define ZICSR(insn) ".option push\n\t.option arch, +zicsr\n\t" insn "\n\t.option pop"
#define MSTATUS_MIE (1u << 3)

/* ------------------------------------------------------------------ console */

#define SYS_READC 0x07
#define EOT 0x04 /* Ctrl-D: end of input */

size_t waft_console_write(int stream, const uint8_t *buf, size_t len) {
    if (len == 0) return 0;
    ssize_t n = write(stream == 2 ? 2 : 1, buf, len);
    return n < 0 ? len : (size_t)n; /* no debugger console: dropped, as on Cortex-M */
}

/*
 * One byte from the semihosting console (SYS_READC), waiting for it; -1 on
 * error.  The call is the RISC-V semihosting sequence (slli/ebreak/srai,
 * uncompressed, in one page).  QEMU before 8.0 returns the byte that was
 * below the stack pointer *before* the call and stores the byte it read
 * there only afterwards (it ran the completion before writing the guest
 * buffer back; fixed upstream by "semihosting: Write back semihosting data
 * before completion callback").  So: put a 0 there first; a result other than
 * 0 is the answer (a correct host, a debug probe, or -1 for an error); a 0 is
 * either a buggy QEMU, whose byte is now below the stack pointer, or a host
 * that read a 0 and stored it there or left the 0 we put there alone.
 */
static int semihost_readc(void) {
    register uintptr_t a0 __asm__("a0") = SYS_READC;
    register uintptr_t a1 __asm__("a1") = 0;
    uint32_t below;
    __asm__ volatile(".option push\n\t.option norvc\n\t"
                     "sb zero, -1(sp)\n\t"
                     ".balign 16\n\t"
                     "slli zero, zero, 0x1f\n\t"
                     "ebreak\n\t"
                     "srai zero, zero, 7\n\t"
                     "lbu %1, -1(sp)\n\t"
                     ".option pop"
                     : "+r"(a0), "=r"(below)
                     : "r"(a1)
                     : "memory");
    if (a0 == 0) return (int)below;
    return a0 <= 0xffu ? (int)a0 : -1;
}

static bool input_ended;

size_t waft_console_read(uint8_t *buf, size_t len) {
    if (len == 0 || input_ended) return 0;
    size_t n = 0;
    while (n < len) {
        int c = semihost_readc();
        if (c < 0 || c == EOT) {
            input_ended = true; /* reported now if nothing was read, else by the next read */
            break;
        }
        buf[n++] = (uint8_t)c;
        if (c == '\n') break;
    }
    return n;
}

bool waft_console_readable(void) { return true; }

/* -------------------------------------------------------------------- clock */

static uint64_t start_ticks;
static bool started;

static uint64_t mtime(void) {
    /* rv32 reads the 64-bit counter in halves: again if the high half moved. */
    uint32_t hi, lo;
    do {
        hi = MTIME_HI;
        lo = MTIME_LO;
    } while (hi != MTIME_HI);
    return (uint64_t)hi << 32 | lo;
}

void waft_clock_start(void) {
    if (started) return;
    start_ticks = mtime();
    started = true;
}

uint64_t waft_clock_ns(void) {
    uint64_t ticks = mtime() - start_ticks;
    return ticks / WAFT_MTIME_HZ * 1000000000u + ticks % WAFT_MTIME_HZ * 1000000000u / WAFT_MTIME_HZ;
}

uint64_t waft_clock_resolution_ns(void) { return (1000000000u + WAFT_MTIME_HZ - 1u) / WAFT_MTIME_HZ; }

static uint32_t hart_id(void) {
    uint32_t id;
    __asm__ volatile(ZICSR("csrr %0, mhartid") : "=r"(id));
    return id;
}

static void set_mtimecmp(uint32_t hart, uint64_t when) {
    /* The privileged spec's sequence for rv32: never below both old and new
     * values in between, so no spurious interrupt becomes pending. */
    MTIMECMP(hart, 0) = UINT32_MAX;
    MTIMECMP(hart, 1) = (uint32_t)(when >> 32);
    MTIMECMP(hart, 0) = (uint32_t)when;
}

void waft_clock_idle(void) {
    uint32_t hart = hart_id();
    set_mtimecmp(hart, mtime() + WAFT_MTIME_HZ / 1000u);
    uint32_t mstatus;
    /* Interrupts off globally (so the timer wakes WFI without trapping), MTIE on. */
    __asm__ volatile(ZICSR("csrrc %0, mstatus, %1") : "=r"(mstatus) : "r"(MSTATUS_MIE) : "memory");
    __asm__ volatile(ZICSR("csrs mie, %0") ::"r"(MIP_MTIP) : "memory");
    __asm__ volatile("wfi" ::: "memory");
    __asm__ volatile(ZICSR("csrc mie, %0") ::"r"(MIP_MTIP) : "memory");
    set_mtimecmp(hart, UINT64_MAX); /* MTIP off again */
    __asm__ volatile(ZICSR("csrs mstatus, %0") ::"r"(mstatus & MSTATUS_MIE) : "memory");
}
