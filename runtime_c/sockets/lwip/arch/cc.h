/*
 * arch/cc.h: lwIP's compiler and platform port for arm-none-eabi-gcc with
 * newlib: little-endian, lwIP's own rand for ISNs seeded by the firmware, and
 * assertions that stop the board with a message on the error console rather
 * than spin silently (waft_lwip_assert, lwip_port.c).
 */
#ifndef WAFT_LWIP_ARCH_CC_H
#define WAFT_LWIP_ARCH_CC_H

#include <stdint.h>

#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN /* newlib defines it already */
#endif
#define LWIP_NO_INTTYPES_H 0
#define LWIP_TIMEVAL_PRIVATE 0
#include <sys/time.h>

void waft_lwip_assert(const char *message, const char *file, int line) __attribute__((noreturn));
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) waft_lwip_assert((x), __FILE__, __LINE__)

uint32_t waft_lwip_rand(void);
#define LWIP_RAND() waft_lwip_rand()

#endif /* WAFT_LWIP_ARCH_CC_H */
