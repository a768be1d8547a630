/* Stand-in for <sys/mman.h>, which newlib lacks: wasm2c's runtime includes it
 * unconditionally but calls mmap only with WASM_RT_MEMCHECK_SIGNAL_HANDLER=1
 * (guard pages), which a microcontroller without an MMU cannot have. */
#ifndef BENCH_STUB_SYS_MMAN_H
#define BENCH_STUB_SYS_MMAN_H
#include <stddef.h>
#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 2
#define MAP_ANONYMOUS 0x20
#define MAP_FAILED ((void *) -1)
void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset);
int munmap(void *addr, size_t length);
int mprotect(void *addr, size_t len, int prot);
#endif
