/* Module 2: the consumer.  It pops the producer's items from the `ring`
 * region and reads the DMA engine's frames from the `adc` region, which it
 * is granted read-only: a store there would trap. */
#include "region.h"
#include "shared_buffer.h"

#define EXPORT(name) __attribute__((export_name(#name)))

REGION(ring);
REGION(adc);

static uint32_t expected; /* the next item, to catch a lost or repeated one */
static uint32_t adc_handle;

/* Pop every item; returns their sum, or 0xFFFFFFFF when one is out of order. */
EXPORT(consume) uint32_t consume(void) {
    ring *r = (ring *)region_ring();
    uint32_t tail = r->tail, sum = 0;
    uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE); /* the producer's slots up to head */
    while (tail != head) {
        uint32_t item = r->slot[tail % RING_SLOTS];
        if (item != expected) return 0xFFFFFFFFu;
        expected++;
        sum += item;
        tail++;
    }
    __atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE); /* done with the slots: the producer may reuse them */
    return sum;
}

/* `open` agrees with the import: the same window, the size and access the firmware granted. */
EXPORT(check_open) uint32_t check_open(void) {
    regions_open_result ro;
    regions_open("adc", 3, 0, &ro);
    if (ro.is_err || ro.memory != 0 || ro.base != region_adc() || ro.size != sizeof(adc_frame) || ro.access != 0)
        return 1;
    adc_handle = ro.handle;
    regions_open("adc", 3, 1, &ro); /* read-write asked, read-only granted: notcapable */
    if (!ro.is_err) return 2;
    regions_open("dma", 3, 0, &ro); /* not granted: noent */
    if (!ro.is_err) return 3;
    return 0;
}

/* Read one consistent frame (retrying while the DMA engine writes it) and
 * check its contents; returns the frame's number k (0: none yet), or
 * 0xFFFFFFFF for a torn or wrong frame. */
EXPORT(read_frame) uint32_t read_frame(void) {
    const volatile adc_frame *f = (const volatile adc_frame *)region_adc();
    for (;;) {
        regions_sync_for_cpu(adc_handle, 0, sizeof(adc_frame));
        uint32_t seq = __atomic_load_n(&f->seq, __ATOMIC_ACQUIRE);
        if (seq & 1u) continue;
        if (seq == 0) return 0;
        uint16_t copy[ADC_SAMPLES];
        for (uint32_t i = 0; i < ADC_SAMPLES; i++) copy[i] = f->sample[i];
        regions_sync_for_cpu(adc_handle, 0, sizeof(adc_frame));
        if (__atomic_load_n(&f->seq, __ATOMIC_ACQUIRE) != seq) continue;
        uint32_t k = seq / 2u;
        for (uint32_t i = 0; i < ADC_SAMPLES; i++) {
            if (copy[i] != (uint16_t)(100u * k + i)) return 0xFFFFFFFFu;
        }
        return k;
    }
}
