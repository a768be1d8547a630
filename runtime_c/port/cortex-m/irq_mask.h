/*
 * port/cortex-m/irq_mask.h: raise the interrupt mask to a priority ceiling and
 * put it back, the one critical section of the Cortex-M runtime.  The kernel's
 * (runtime_c/kernel/port_cortexm.c) and the signals port's
 * (runtime_c/signals/port_cortexm.c, which works without the kernel too) are
 * both this.
 *
 * Armv7-M and Armv8-M mainline: BASEPRI, raised with BASEPRI_MAX, which only
 * ever raises the mask, so a nested section inside a stricter one keeps the
 * stricter mask; interrupts more urgent than the ceiling still run.
 * Armv6-M and Armv8-M baseline have no BASEPRI: PRIMASK masks every
 * interrupt.  The ISB after each write makes the new mask (and an exception
 * pended inside the section, such as PendSV) take effect before the next
 * instruction.
 */
#ifndef WAFT_CORTEXM_IRQ_MASK_H
#define WAFT_CORTEXM_IRQ_MASK_H

#include <stdint.h>

#if defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_8M_BASE__)
#define WAFT_CORTEXM_HAS_BASEPRI 0
#else
#define WAFT_CORTEXM_HAS_BASEPRI 1
#endif

/* Mask the interrupts at `ceiling` (an NVIC priority value) and below; returns the previous mask. */
static inline uint32_t waft_cortexm_mask_raise(uint32_t ceiling) {
    uint32_t old;
#if WAFT_CORTEXM_HAS_BASEPRI
    __asm__ volatile("mrs %0, basepri\n\tmsr basepri_max, %1\n\tisb" : "=&r"(old) : "r"(ceiling) : "memory");
#else
    (void)ceiling;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(old)::"memory");
#endif
    return old;
}

/* Put back the mask waft_cortexm_mask_raise returned. */
static inline void waft_cortexm_mask_restore(uint32_t state) {
#if WAFT_CORTEXM_HAS_BASEPRI
    __asm__ volatile("msr basepri, %0\n\tisb" ::"r"(state) : "memory");
#else
    __asm__ volatile("msr primask, %0\n\tisb" ::"r"(state) : "memory");
#endif
}

#endif /* WAFT_CORTEXM_IRQ_MASK_H */
