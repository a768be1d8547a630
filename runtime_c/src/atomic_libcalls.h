/*
 * atomic_libcalls.h: the __atomic_* library functions (libatomic's ABI) as
 * critical sections, for ports whose cores lack some atomic instructions
 * (port/cortex-m/atomic.c, port/riscv/atomic.c).  Not part of the ABI header:
 * only those two files include it.
 *
 * The includer defines, before including this file:
 *   static inline uint32_t critical_enter(void);   mask interrupts, return the old state
 *   static inline void critical_exit(uint32_t);    restore that state
 * each with a compiler memory barrier (and a hardware one where the core needs
 * it), and then expands WAFT_ATOMIC_HELPERS(N, T) once per size it lacks.
 *
 * The C names differ from the symbols on purpose: GCC knows __atomic_* as
 * builtins with its own prototypes, so each helper is a plain function given
 * its symbol with an asm label.  The prototypes are the libatomic ABI's
 * (GCC's "Library Interface" for __atomic), which LLVM's calls follow:
 * compare_exchange takes no `weak` flag and returns whether it stored, writing
 * the value it found to *expected when it did not.  The memory-order
 * arguments are ignored: a critical section is sequentially consistent.
 */
#ifndef WAFT_ATOMIC_LIBCALLS_H
#define WAFT_ATOMIC_LIBCALLS_H

#include <stdbool.h>
#include <stdint.h>

#define WAFT_SYMBOL(name) __asm__(name)

/* One size's helpers: N bytes, unsigned type T. */
#define WAFT_ATOMIC_HELPERS(N, T)                                                                   \
    T waft_atomic_load_##N(const volatile void *p, int order) WAFT_SYMBOL("__atomic_load_" #N);    \
    T waft_atomic_load_##N(const volatile void *p, int order) {                                     \
        (void)order;                                                                                \
        uint32_t saved = critical_enter();                                                          \
        T value = *(const volatile T *)p;                                                           \
        critical_exit(saved);                                                                       \
        return value;                                                                               \
    }                                                                                               \
    void waft_atomic_store_##N(volatile void *p, T value, int order) WAFT_SYMBOL("__atomic_store_" #N); \
    void waft_atomic_store_##N(volatile void *p, T value, int order) {                              \
        (void)order;                                                                                \
        uint32_t saved = critical_enter();                                                          \
        *(volatile T *)p = value;                                                                   \
        critical_exit(saved);                                                                       \
    }                                                                                               \
    bool waft_atomic_compare_exchange_##N(volatile void *p, void *expected, T desired, int success, \
                                          int failure) WAFT_SYMBOL("__atomic_compare_exchange_" #N); \
    bool waft_atomic_compare_exchange_##N(volatile void *p, void *expected, T desired, int success, \
                                          int failure) {                                            \
        (void)success;                                                                              \
        (void)failure;                                                                              \
        uint32_t saved = critical_enter();                                                          \
        T old = *(volatile T *)p;                                                                   \
        bool equal = old == *(T *)expected;                                                         \
        if (equal) {                                                                                \
            *(volatile T *)p = desired;                                                             \
        }                                                                                           \
        critical_exit(saved);                                                                       \
        if (!equal) {                                                                               \
            *(T *)expected = old; /* the libatomic contract: the value found */                     \
        }                                                                                           \
        return equal;                                                                               \
    }                                                                                               \
    WAFT_ATOMIC_RMW(N, T, exchange, value)                                                          \
    WAFT_ATOMIC_RMW(N, T, fetch_add, old + value)                                                   \
    WAFT_ATOMIC_RMW(N, T, fetch_sub, old - value)                                                   \
    WAFT_ATOMIC_RMW(N, T, fetch_and, old & value)                                                   \
    WAFT_ATOMIC_RMW(N, T, fetch_or, old | value)                                                    \
    WAFT_ATOMIC_RMW(N, T, fetch_xor, old ^ value)

/* A read-modify-write that stores NEW (an expression of `old` and `value`) and
 * returns the old value. */
#define WAFT_ATOMIC_RMW(N, T, OP, NEW)                                                              \
    T waft_atomic_##OP##_##N(volatile void *p, T value, int order) WAFT_SYMBOL("__atomic_" #OP "_" #N); \
    T waft_atomic_##OP##_##N(volatile void *p, T value, int order) {                                \
        (void)order;                                                                                \
        uint32_t saved = critical_enter();                                                          \
        T old = *(volatile T *)p;                                                                   \
        *(volatile T *)p = (T)(NEW);                                                                \
        critical_exit(saved);                                                                       \
        return old;                                                                                 \
    }

#endif /* WAFT_ATOMIC_LIBCALLS_H */
