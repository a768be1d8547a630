/* Two Wasm modules in one firmware image: a filter (from C) feeds an alarm (from WAT).
 *
 * Each module has its own instance, prefix and header; the firmware wires
 * them together in C and supplies the alarm's `board.on_alarm` import. */
#include <stdio.h>

#include "alarm.h"
#include "filter.h"

static filter__instance filter;
static alarm__instance alarm;

typedef struct board {
    int transitions;
} board;

void board__on_alarm(void *ctx, int32_t raised) {
    board *b = ctx;
    b->transitions++;
    printf("alarm %s\n", raised ? "RAISED" : "cleared");
}

int main(void) {
    board b = {0};
    filter__imports no_imports = {0};
    alarm__imports alarm_imports = {.board = &b};
    if (filter__instantiate(&filter, &no_imports) != WAFT_TRAP_NONE ||
        alarm__instantiate(&alarm, &alarm_imports) != WAFT_TRAP_NONE) {
        puts("instantiation trapped");
        return 2;
    }
    /* A sensor that ramps up past the threshold, holds, then falls back. */
    for (int t = 0; t < 60; t++) {
        int raw = t < 20 ? 400 + 20 * t : t < 40 ? 800 : 800 - 20 * (t - 40);
        int smooth = filter_filter_push(&filter, raw);
        alarm_update(&alarm, smooth);
    }
    printf("%d transitions\n", b.transitions);
    return b.transitions == 2 ? 0 : 1;
}
