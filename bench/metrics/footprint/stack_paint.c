/*
 * stack_paint.c: the stack high-water mark of a Cortex-M program (the
 * `footprint` metric group), by painting.  Linked with -Wl,--wrap=main, so
 * startup.c's call of main() reaches __wrap_main: it fills the main stack
 * from __StackLimit up to just below its own frame with a pattern, runs the
 * real main, then finds the deepest word that is no longer the pattern and
 * prints "info stack_high_water <bytes>" (bytes below __StackTop ever used)
 * through semihosting, before returning main's status.  Nothing of newlib's
 * stdio is pulled in, so the painted image's flash is the program's plus
 * this file's few hundred bytes (the group measures flash on an image
 * built without it).
 */
#include <stddef.h>
#include <stdint.h>

#include "semihost.h"

#define PAINT 0xC5AC5AC5u
#define MARGIN 64u /* bytes left alone below the painter's own stack pointer */

extern uint32_t __StackTop[], __StackLimit[];
int __real_main(void);

static void put_line(uint32_t value) {
    char text[48] = "info stack_high_water ";
    char digits[12];
    size_t n = 0, at = 22;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0);
    while (n > 0) text[at++] = digits[--n];
    text[at++] = '\n';
    semihost_write(text, at);
}

int __wrap_main(void) {
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    volatile uint32_t *limit = (volatile uint32_t *)__StackLimit;
    volatile uint32_t *below = (volatile uint32_t *)(uintptr_t)((sp - MARGIN) & ~3u);
    for (volatile uint32_t *p = limit; p < below; p++) *p = PAINT;
    int status = __real_main();
    volatile uint32_t *p = limit;
    while (p < below && *p == PAINT) p++;
    put_line((uint32_t)((uintptr_t)__StackTop - (uintptr_t)p));
    return status;
}
