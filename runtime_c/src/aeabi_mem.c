/*
 * aeabi_mem.c: the ARM EABI memory-clearing helpers, as one branch to memset.
 *
 * LLVM lowers a zeroing memset in compiled Wasm (an instance's
 * initialisation, zeroed stack slots) to __aeabi_memclr.  newlib defines it
 * over its own __aeabi_memset (aeabi_memset-soft.o, 154 bytes on Armv7E-M): a
 * second memset beside the one the runtime and any C code already link.
 * libwaft.a is searched before the C library, so these definitions win.  All
 * three names, as newlib's aeabi_memclr.o defines them together: a program
 * that pulled that object for one of them would otherwise define the others
 * twice.  Nothing here on other targets.
 */
#if defined(__ARM_EABI__)
#include <stddef.h>
#include <string.h>

void __aeabi_memclr(void *dest, size_t n) { memset(dest, 0, n); }
void __aeabi_memclr4(void *dest, size_t n) __attribute__((alias("__aeabi_memclr")));
void __aeabi_memclr8(void *dest, size_t n) __attribute__((alias("__aeabi_memclr")));
#else
typedef int waft_aeabi_mem_unused; /* ISO C wants a declaration in every translation unit */
#endif
