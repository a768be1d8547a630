/*
 * port/host/port.c: the runtime's platform layer on Linux: native stack
 * bounds, the error console and process exit.
 */
#define _GNU_SOURCE /* pthread_getattr_np */
#include "waft.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Used when the stack bounds cannot be read: assume at least this much stack
 * below the caller's frame (glibc's smallest default thread stack is 2 MiB,
 * the main thread's is RLIMIT_STACK, 8 MiB by default). */
#define FALLBACK_STACK_BELOW_CALLER (1024u * 1024u)

__attribute__((weak)) void waft_stack_init(void) {
    pthread_attr_t attr;
    void *low = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        /* For the main thread glibc derives the bounds from RLIMIT_STACK and
         * /proc/self/maps: `low` is the lowest address the stack may grow to.
         * For other threads it excludes the guard page. */
        if (pthread_attr_getstack(&attr, &low, &size) != 0) {
            low = NULL;
        }
        pthread_attr_destroy(&attr);
    }
    if (low == NULL) {
        uintptr_t here = (uintptr_t)__builtin_frame_address(0);
        waft_stack_limit = here - FALLBACK_STACK_BELOW_CALLER + WAFT_STACK_MARGIN;
        return;
    }
    waft_stack_limit = (uintptr_t)low + WAFT_STACK_MARGIN;
}

__attribute__((weak)) void waft_port_write_error(const char *text) {
    fputs(text, stderr);
}

__attribute__((weak)) WAFT_NORETURN void waft_port_exit(int status) {
    fflush(stdout);
    exit(status);
}

__attribute__((weak)) void waft_port_sleep_ns(uint64_t ns) {
    struct timespec left = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    /* A signal ends nanosleep early with the rest in `left`: sleep that too. */
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}
