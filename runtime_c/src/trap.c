/*
 * trap.c: trap codes as text, the trap-frame chain, and the default waft_trap.
 *
 * A trap unwinds with longjmp to the innermost waft_trap_frame; the frame
 * chain is a singly linked list through the native stack, so pushing costs no
 * allocation and nesting (Wasm -> import -> Wasm) just works.
 */
#include "waft.h"

#include <stddef.h>

WAFT_THREAD_LOCAL waft_trap_frame *waft_trap_current = NULL;
WAFT_THREAD_LOCAL uintptr_t waft_stack_limit = 0;
int32_t waft_exit_status = 0;

/* Indexed by waft_trap_code; the texts are the spec interpreter's, so the
 * spectest harness can compare them with assert_trap's expected message. */
static const char *const trap_messages[WAFT_TRAP_CODE_COUNT] = {
    [WAFT_TRAP_NONE] = "no trap",
    [WAFT_TRAP_UNREACHABLE] = "unreachable",
    [WAFT_TRAP_MEMORY_OUT_OF_BOUNDS] = "out of bounds memory access",
    [WAFT_TRAP_INTEGER_DIVIDE_BY_ZERO] = "integer divide by zero",
    [WAFT_TRAP_INTEGER_OVERFLOW] = "integer overflow",
    [WAFT_TRAP_INVALID_CONVERSION] = "invalid conversion to integer",
    [WAFT_TRAP_INDIRECT_CALL_TYPE_MISMATCH] = "indirect call type mismatch",
    [WAFT_TRAP_UNDEFINED_ELEMENT] = "undefined element",
    [WAFT_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized element",
    [WAFT_TRAP_TABLE_OUT_OF_BOUNDS] = "out of bounds table access",
    [WAFT_TRAP_CALL_STACK_EXHAUSTED] = "call stack exhausted",
    [WAFT_TRAP_NULL_REFERENCE] = "null reference",
    [WAFT_TRAP_HOST] = "host function trapped",
    [WAFT_TRAP_EXIT] = "exit",
    [WAFT_TRAP_UNALIGNED_ATOMIC] = "unaligned atomic",
    [WAFT_TRAP_EXPECTED_SHARED_MEMORY] = "expected shared memory",
    [WAFT_TRAP_DEADLOCK] = "deadlock: memory.atomic.wait without a timeout, and no other thread can notify",
};

/* Generated code passes trap codes as i32; -fshort-enums must not shrink them. */
_Static_assert(sizeof(waft_trap_code) == 4, "waft_trap_code must be 32 bits: generated code passes it as i32");

const char *waft_strerror(waft_trap_code code) {
    if ((uint32_t)code >= WAFT_TRAP_CODE_COUNT || trap_messages[code] == NULL) {
        return "unknown trap";
    }
    return trap_messages[code];
}

__attribute__((weak)) WAFT_NORETURN void waft_trap(waft_trap_code code) { waft_trap_unwind(code); }

WAFT_NORETURN void waft_trap_unwind(waft_trap_code code) {
    if (code == WAFT_TRAP_NONE) {
        code = WAFT_TRAP_HOST;
    }
    waft_trap_frame *frame = waft_trap_current;
    if (frame != NULL) {
        waft_trap_current = frame->prev;
        frame->code = code;
        longjmp(frame->jmp, 1);
    }
    if (code == WAFT_TRAP_EXIT) {
        waft_port_exit((int)waft_exit_status);
    }
    /* No frame: nobody can report the trap, so say it here and stop.  Three
     * writes rather than a formatted one keep this path's stack use tiny. */
    waft_port_write_error("waft: trap: ");
    waft_port_write_error(waft_strerror(code));
    waft_port_write_error("\n");
    waft_port_exit(WAFT_TRAP_EXIT_STATUS);
}

void waft_trap_push(waft_trap_frame *frame) {
    if (waft_stack_limit == 0) {
        waft_stack_init();
    }
    frame->code = WAFT_TRAP_NONE;
    frame->prev = waft_trap_current;
    waft_trap_current = frame;
}

void waft_trap_pop(waft_trap_frame *frame) {
    /* Popping anything but the innermost frame would leave a dangling
     * pointer into a dead stack frame in the chain: fail loudly instead. */
    if (waft_trap_current != frame) {
        waft_port_write_error("waft: waft_trap_pop: frame is not the innermost one\n");
        waft_port_exit(WAFT_TRAP_EXIT_STATUS);
    }
    waft_trap_current = frame->prev;
}

waft_trap_code waft_call_guarded(void (*fn)(void *, void *), void *a, void *b) {
    waft_trap_frame frame;
    waft_trap_push(&frame);
    if (setjmp(frame.jmp) == 0) {
        fn(a, b);
        waft_trap_pop(&frame);
        return WAFT_TRAP_NONE;
    }
    /* waft_trap has already unlinked the frame. */
    return frame.code;
}

WAFT_NORETURN void waft_exit(int32_t status) {
    waft_exit_status = status;
    waft_trap(WAFT_TRAP_EXIT);
}
