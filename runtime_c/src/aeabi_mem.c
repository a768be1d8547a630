/*
 * aeabi_mem.c: the ARM EABI memory-setting helpers, as one branch to memset.
 *
 * LLVM lowers a zeroing memset in compiled Wasm (an instance's
 * initialisation, zeroed stack slots) to __aeabi_memclr, and any other
 * memset (a module's own memset, compiled as one: aot/lower/libc_builtins.py)
 * to __aeabi_memset.  newlib defines both over its own __aeabi_memset
 * (aeabi_memset-soft.o, 154 bytes on Armv7E-M): a second memset beside the
 * one the runtime and any C code already link.  libwaft.a is searched before
 * the C library, so these definitions win.  Each family whole (memclr,
 * memclr4, memclr8; memset, memset4, memset8), as newlib's objects define
 * them together: a program that pulled one of those objects for one name
 * would otherwise define the others twice.  Nothing here on other targets.
 */
#if defined(__ARM_EABI__)
#include <stddef.h>
#include <string.h>

void __aeabi_memclr(void *dest, size_t n) { memset(dest, 0, n); }
void __aeabi_memclr4(void *dest, size_t n) __attribute__((alias("__aeabi_memclr")));
void __aeabi_memclr8(void *dest, size_t n) __attribute__((alias("__aeabi_memclr")));

/* The EABI's argument order: destination, length, byte. */
void __aeabi_memset(void *dest, size_t n, int c) { memset(dest, c, n); }
void __aeabi_memset4(void *dest, size_t n, int c) __attribute__((alias("__aeabi_memset")));
void __aeabi_memset8(void *dest, size_t n, int c) __attribute__((alias("__aeabi_memset")));
#else
typedef int waft_aeabi_mem_unused; /* ISO C wants a declaration in every translation unit */
#endif
