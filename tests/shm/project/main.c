/* tests/shm/test_shm_firmware.py's firmware: every rule of a region, from the native side.
 * Prints one line per failed check and "N checks passed" at the end; exit 0 only when all passed. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "shm_probe_shm.h"

static probe__instance inst;
static int checks, failures;

#define RING 0xC0000000u
#define ROM 0xC0010000u
#define OOB WAFT_TRAP_MEMORY_OUT_OF_BOUNDS

/* Run `expr` behind a trap frame: the trap code (0 for none) and the value. */
#define GUARDED(code_out, value_out, expr) do { \
    waft_trap_frame f_; \
    waft_trap_push(&f_); \
    if (setjmp(f_.jmp) == 0) { \
        value_out = (uint64_t)(expr); \
        waft_trap_pop(&f_); \
        code_out = 0; \
    } else { \
        code_out = (int)f_.code; \
    } \
} while (0)

static void expect(const char *what, int line, int code, int want_code, uint64_t value, uint64_t want) {
    checks++;
    if (code != want_code || (want_code == 0 && value != want)) {
        failures++;
        printf("FAILED line %d: %s: trap %d (want %d), value %llx (want %llx)\n", line, what, code, want_code,
               (unsigned long long)value, (unsigned long long)want);
    }
}
#define EXPECT(expr, want) do { int c_; uint64_t v_ = 0; GUARDED(c_, v_, (uint32_t)(expr)); expect(#expr, __LINE__, c_, 0, v_, (uint64_t)(want)); } while (0)
#define EXPECT64(expr, want) do { int c_; uint64_t v_ = 0; GUARDED(c_, v_, expr); expect(#expr, __LINE__, c_, 0, v_, (uint64_t)(want)); } while (0)
#define EXPECT_TRAP(expr, trap) do { int c_; uint64_t v_ = 0; GUARDED(c_, v_, expr); expect(#expr, __LINE__, c_, trap, v_, 0); } while (0)
#define EXPECT_STORE(expr) do { int c_; uint64_t v_ = 0; GUARDED(c_, v_, ((expr), 0)); expect(#expr, __LINE__, c_, 0, v_, 0); } while (0)
#define EXPECT_STORE_TRAP(expr, trap) do { int c_; uint64_t v_ = 0; GUARDED(c_, v_, ((expr), 0)); expect(#expr, __LINE__, c_, trap, v_, 0); } while (0)

int main(void) {
    probe__imports imports = {0};
    imports._wasi_x2dext_x3ashared_x2dmemory_x2fregions_x400_x2e1_x2e0 = &probe__shm;
    if (probe__instantiate(&inst, &imports) != WAFT_TRAP_NONE) {
        puts("instantiation trapped");
        return 2;
    }
    probe__shm.memory = probe_memory(&inst);
    uint8_t *ring = waft_shm_region_ring, *rom = waft_shm_region_rom;
    for (int i = 0; i < 64; i++) rom[i] = (uint8_t)(0xA0 + i);

    /* the windows, as the layout puts them and the header says */
    EXPECT(probe_ring_base(&inst), RING);
    EXPECT(probe_rom_base(&inst), ROM);
    checks++;
    if (PROBE_WINDOW_RING != RING || PROBE_WINDOW_ROM != ROM) { failures++; puts("FAILED: header windows"); }

    /* zero copy: the module's store is at the native address, and the other way round */
    EXPECT_STORE(probe_store32(&inst, RING + 4, 0x11223344));
    checks++;
    if (ring[4] != 0x44 || ring[5] != 0x33 || ring[6] != 0x22 || ring[7] != 0x11) { failures++; puts("FAILED: native view"); }
    ring[200] = 0x5A;
    EXPECT(probe_load8(&inst, RING + 200), 0x5A);
    EXPECT(probe_load8(&inst, ROM + 3), 0xA3);
    EXPECT(probe_load_rom_const(&inst), 0xA7A6A5A4u);
    EXPECT64(probe_load64_ring(&inst, 0), ((uint64_t)0 << 32) | 0);  /* bytes 8..15, still zero */
    EXPECT_STORE(probe_store_ring_const(&inst, 0xCAFEF00Du));
    checks++;
    if (memcmp(ring + 16, "\x0d\xf0\xfe\xca", 4) != 0) { failures++; puts("FAILED: constant store"); }
    EXPECT64(probe_load64_ring(&inst, 8), 0xCAFEF00Du);
    for (int i = 0; i < 256; i++) ring[i] = (uint8_t)i;
    EXPECT(probe_sum_ring(&inst, 256), 255 * 256 / 2);

    /* bounds: every access stays inside its region's size */
    EXPECT(probe_load32(&inst, RING + 252), 0xFFFEFDFCu);
    EXPECT_TRAP(probe_load32(&inst, RING + 253), OOB);
    EXPECT_TRAP(probe_load8(&inst, RING + 256), OOB);
    EXPECT_TRAP(probe_load8(&inst, RING - 1), OOB);
    EXPECT(probe_load8(&inst, ROM + 63), 0xA0 + 63);
    EXPECT_TRAP(probe_load8(&inst, ROM + 64), OOB);
    EXPECT_TRAP(probe_load8(&inst, 0xFFFFFFFFu), OOB);
    EXPECT_TRAP(probe_load32(&inst, 0xFFFFFFFEu), OOB);
    EXPECT64(probe_load64_ring(&inst, 248 - 8), 0xFFFEFDFCFBFAF9F8ull);
    EXPECT_TRAP(probe_load64_ring(&inst, 248 - 7), OOB);
    EXPECT_TRAP(probe_load64_ring(&inst, 0xFFFFFFFFu), OOB);  /* addr + offset passes 2^32 */
    EXPECT_TRAP(probe_load64_ring(&inst, 0x40000000u), OOB);  /* wraps to 8: Wasm says out of bounds */
    EXPECT_TRAP(probe_sum_ring(&inst, 257), OOB);

    /* `tail` is ring's last 64 bytes under a read-only grant: the same bytes, and no store */
    EXPECT(probe_tail_base(&inst), 0xC0020000u);
    EXPECT(probe_load32(&inst, 0xC0020000u + 4), 0xC7C6C5C4u);
    EXPECT_STORE_TRAP(probe_store8(&inst, 0xC0020000u, 1), OOB);
    EXPECT_TRAP(probe_load8(&inst, 0xC0020000u + 64), OOB);
    EXPECT(probe_store_ring_load_tail(&inst, 0x5EED5EEDu), 0x5EED5EEDu);

    /* read-only: a store traps and changes nothing */
    EXPECT_STORE_TRAP(probe_store8(&inst, ROM, 1), OOB);
    EXPECT_STORE_TRAP(probe_store32(&inst, ROM + 8, 1), OOB);
    checks++;
    if (rom[0] != 0xA0 || rom[8] != 0xA8) { failures++; puts("FAILED: read-only region changed"); }

    /* atomics: on the region, at its native address; a read-only region refuses writes */
    memcpy(ring + 40, "\x04\x03\x02\x01", 4);
    EXPECT(probe_atomic_add(&inst, RING + 40, 0x10), 0x01020304u);
    checks++;
    if (memcmp(ring + 40, "\x14\x03\x02\x01", 4) != 0) { failures++; puts("FAILED: atomic add"); }
    EXPECT(probe_atomic_cas(&inst, RING + 40, 0x01020314u, 7), 0x01020314u);
    EXPECT(probe_atomic_load(&inst, RING + 40), 7);
    EXPECT(probe_atomic_load(&inst, ROM + 4), 0xA7A6A5A4u);
    EXPECT_TRAP(probe_atomic_add(&inst, ROM + 4, 1), OOB);
    EXPECT_TRAP(probe_atomic_cas(&inst, ROM + 4, 0xA7A6A5A4u, 0), OOB);
    EXPECT_TRAP(probe_atomic_add(&inst, RING + 42, 1), WAFT_TRAP_UNALIGNED_ATOMIC);
    EXPECT_TRAP(probe_atomic_load(&inst, RING + 256), OOB);
    checks++;
    if (rom[4] != 0xA4) { failures++; puts("FAILED: read-only region changed by an atomic"); }

    /* linear memory is as before */
    EXPECT_STORE(probe_store32(&inst, 100, 5));
    EXPECT(probe_load32(&inst, 100), 5);
    EXPECT(probe_load32(&inst, 65532), 0);
    EXPECT_TRAP(probe_load32(&inst, 65533), OOB);

    /* the regions interface: names at 0 "ring", 4 "rom", 7 "nope", 11 "\xff" */
    EXPECT(probe_open(&inst, 0, 4, 1), 0);
    EXPECT(probe_record(&inst, 0), 0);     /* handle */
    EXPECT(probe_record(&inst, 1), 0);     /* memory 0 */
    EXPECT(probe_record(&inst, 2), RING);  /* base */
    EXPECT(probe_record(&inst, 3), 256);   /* size */
    EXPECT(probe_record(&inst, 4) & 0xFF, 1);  /* read-write */
    EXPECT(probe_open(&inst, 4, 3, 0), 0);
    EXPECT(probe_record(&inst, 0), 1);
    EXPECT(probe_record(&inst, 4) & 0xFF, 0);  /* read-only */
    EXPECT(probe_open(&inst, 4, 3, 1), 76);    /* notcapable */
    EXPECT(probe_open(&inst, 7, 4, 0), 44);    /* noent */
    EXPECT(probe_open(&inst, 11, 1, 0), 25);   /* ilseq */
    EXPECT(probe_open(&inst, 65535, 4, 0), 21); /* fault */
    EXPECT(probe_read(&inst, 0, 16, 1000, 8), 0);
    EXPECT(probe_load32(&inst, 1000), 0x13121110u);
    EXPECT(probe_read(&inst, 0, 250, 1000, 8), 28);  /* inval */
    EXPECT(probe_read(&inst, 0, 0, 65530, 8), 21);   /* fault */
    EXPECT(probe_read(&inst, 9, 0, 1000, 8), 8);     /* badf */
    EXPECT(probe_write(&inst, 0, 32, 0, 4), 0);
    checks++;
    if (memcmp(ring + 32, "ring", 4) != 0) { failures++; puts("FAILED: write"); }
    EXPECT(probe_write(&inst, 1, 0, 0, 4), 76);      /* read-only */
    EXPECT(probe_write(&inst, 0, 253, 0, 4), 28);
    EXPECT(probe_sync_dev(&inst, 0, 0, 256), 0);
    EXPECT(probe_sync_cpu(&inst, 1, 0, 64), 0);
    EXPECT(probe_sync_cpu(&inst, 1, 1, 64), 28);
    EXPECT(probe_sync_dev(&inst, 3, 0, 1), 8);     /* badf: three grants */

    printf("%d checks passed\n", checks - failures);
    return failures == 0 ? 0 : 1;
}
