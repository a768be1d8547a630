/* Zero-copy shared memory: two Wasm modules and a "DMA engine" share regions.
 *
 *   producer (Wasm)  pushes items into the `ring` region (read-write)
 *   consumer (Wasm)  pops them from `ring` (read-write: it owns the tail) and
 *                    reads frames from the `adc` region (read-only)
 *   DMA (native)     a timer interrupt fills `adc` with a new frame each tick
 *                    (Cortex-M: SysTick; host: SIGALRM; elsewhere the main loop
 *                    plays the DMA engine)
 *
 * The SConscript declares the regions and grants them (WAFT_SHM_REGIONS,
 * WAFT_SHM_GRANTS); the build generates shared_buffer_shm.h, which declares
 * each region's bytes (waft_shm_region_NAME) and each module's grant table.
 * The native side reads the ring at the very address the producer wrote
 * through: no copy anywhere. */
#include <stdio.h>
#include <string.h>

#include "consumer.h"
#include "producer.h"
#include "shared_buffer.h"
#include "shared_buffer_shm.h"

static producer__instance prod;
static consumer__instance cons;
static volatile uint32_t dma_frames;

/* One DMA transfer: frame k, written under the sequence lock. */
static void dma_tick(void) {
    volatile adc_frame *f = (volatile adc_frame *)waft_shm_region_adc;
    uint32_t k = dma_frames + 1u;
    f->seq = 2u * k - 1u; /* odd: being written */
    __asm__ volatile("" ::: "memory");
    for (uint32_t i = 0; i < ADC_SAMPLES; i++) f->sample[i] = (uint16_t)(100u * k + i);
    __asm__ volatile("" ::: "memory");
    f->seq = 2u * k;
    dma_frames = k;
}

#if defined(__arm__)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
void SysTick_Handler(void) { dma_tick(); }
static void dma_start(void) {
    SYST_RVR = 20000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
}
static void dma_stop(void) { SYST_CSR = 0; }
#define DMA_BY_TIMER 1
#elif defined(WAFT_PORT_HOST)
#include <signal.h>
#include <sys/time.h>
static void on_alarm(int sig) { (void)sig; dma_tick(); }
static void dma_start(void) {
    signal(SIGALRM, on_alarm);
    struct itimerval every_ms = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &every_ms, NULL);
}
static void dma_stop(void) {
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
}
#define DMA_BY_TIMER 1
#else
static void dma_start(void) {}
static void dma_stop(void) {}
#define DMA_BY_TIMER 0
#endif

int main(void) {
    producer__imports pi = {0};
    consumer__imports ci = {0};
    pi._wasi_x2dext_x3ashared_x2dmemory_x2fregions_x400_x2e1_x2e0 = &producer__shm;
    ci._wasi_x2dext_x3ashared_x2dmemory_x2fregions_x400_x2e1_x2e0 = &consumer__shm;
    if (producer__instantiate(&prod, &pi) != WAFT_TRAP_NONE || consumer__instantiate(&cons, &ci) != WAFT_TRAP_NONE) {
        puts("instantiation trapped");
        return 2;
    }
    producer__shm.memory = producer_memory(&prod);
    consumer__shm.memory = consumer_memory(&cons);
    if (consumer_check_open(&cons) != 0) {
        puts("open disagrees with the grants");
        return 1;
    }

    /* 1000 items through the ring, in bursts; the consumer checks the order. */
    const ring *r = (const ring *)waft_shm_region_ring;
    uint32_t next = 0, total = 0;
    int ok = 1;
    while (next < 1000u) {
        uint32_t burst = 1000u - next < 37u ? 1000u - next : 37u;
        uint32_t pushed = producer_produce(&prod, next, burst);
        /* The native side sees the producer's store at the same address. */
        if (r->head != next + pushed || r->slot[(r->head - 1u) % RING_SLOTS] != next + pushed - 1u) ok = 0;
        next += pushed;
        uint32_t sum = consumer_consume(&cons);
        if (sum == 0xFFFFFFFFu) ok = 0;
        total += sum;
    }
    printf("ring: %u items, sum %u, native view %s\n", (unsigned)r->tail, (unsigned)total, ok ? "agrees" : "DIFFERS");

    /* Frames from the DMA engine, read by the consumer while they keep coming. */
    dma_start();
    uint32_t good = 0, last = 0;
    while (good < 5u) {
        if (!DMA_BY_TIMER) dma_tick();
        uint32_t k = consumer_read_frame(&cons);
        if (k == 0xFFFFFFFFu) {
            ok = 0;
            break;
        }
        if (k > last) {
            last = k;
            good++;
        }
    }
    dma_stop();
    printf("adc: %u fresh frames, %s\n", (unsigned)good, ok ? "all whole" : "one torn");
    return ok && total == 499500u ? 0 : 1;
}
