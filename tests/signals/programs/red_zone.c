/* An immediate handler that pushes a C shadow frame, interrupting C code
 * that keeps live data on the shadow stack: the test of docs/interrupts.md,
 * "The shadow stack".
 *
 * clang gives a leaf function whose frame fits WebAssembly's red zone (128
 * bytes) a frame below __stack_pointer without publishing it (leaf_small);
 * a bigger frame is published on entry and released on exit (leaf_big).
 * A 50 kHz timer line runs on_tick, which fills a 200-byte frame of its own,
 * while main runs the two leaves in turn, each checking that what it stored
 * in its frame is still there.  Exit 0: 2,000 ticks taken and nothing lost;
 * 10 + 1 (leaf_small lost data) + 2 (leaf_big lost data); 3: set-up failed. */
#include <stdint.h>
#include <stdlib.h>

#define EXT "wasi-ext:signals/signals@0.1.0"
#define IMPORT(name) __attribute__((import_module(EXT), import_name(name)))

IMPORT("attach-export") int32_t sig_attach_export(uint32_t line, const char *name, uint32_t name_len,
                                                  uint32_t arg, uint32_t delivery, uint32_t priority);
IMPORT("enable") int32_t sig_enable(uint32_t line);
IMPORT("start-timer") int32_t sig_start_timer(uint32_t line, uint64_t first, uint64_t period);
IMPORT("stop-timer") int32_t sig_stop_timer(uint32_t line);

#define TIMER0 0x30000u
#define PERIOD_NS 20000u
#define TICKS 2000u

static volatile uint32_t ticks;

/* The handler: a 200-byte frame of its own, every byte written. */
__attribute__((export_name("on_tick"))) void on_tick(uint32_t line, uint32_t arg) {
    volatile uint8_t junk[200];
    for (uint32_t i = 0; i < sizeof junk; i++) {
        junk[i] = (uint8_t)(0xA5u ^ i ^ arg);
    }
    (void)line;
    ticks++;
}

/* 64 bytes: inside the red zone, never published. */
__attribute__((noinline)) static int leaf_small(uint32_t seed) {
    volatile uint32_t frame[16];
    for (uint32_t round = 0; round < 64; round++) {
        for (uint32_t i = 0; i < 16; i++) {
            frame[i] = seed * i + round;
        }
        for (uint32_t i = 0; i < 16; i++) {
            uint32_t j = (i * 5u + seed) & 15u; /* an order the compiler cannot see through */
            if (frame[j] != seed * j + round) {
                return 1;
            }
        }
    }
    return 0;
}

/* 256 bytes: published in __stack_pointer for the function's lifetime. */
__attribute__((noinline)) static int leaf_big(uint32_t seed) {
    volatile uint32_t frame[64];
    for (uint32_t round = 0; round < 16; round++) {
        for (uint32_t i = 0; i < 64; i++) {
            frame[i] = seed * i + round;
        }
        for (uint32_t i = 0; i < 64; i++) {
            uint32_t j = (i * 5u + seed) & 63u;
            if (frame[j] != seed * j + round) {
                return 1;
            }
        }
    }
    return 0;
}

int main(void) {
    static const char name[] = "on_tick";
    if (sig_attach_export(TIMER0, name, sizeof name - 1, 0, 0, 1) != 0 || sig_enable(TIMER0) != 0 ||
        sig_start_timer(TIMER0, 0, PERIOD_NS) != 0) {
        return 3;
    }
    int small = 0, big = 0;
    for (uint32_t seed = 1; ticks < TICKS; seed++) {
        small |= leaf_small(seed);
        big |= leaf_big(seed);
    }
    sig_stop_timer(TIMER0);
    return small || big ? 10 + small + 2 * big : 0;
}
