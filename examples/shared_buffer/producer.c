/* Module 1: the producer.  It pushes items straight into the `ring` region
 * (granted read-write): no import call per item, no copy.  `head` and `tail`
 * are Wasm atomics (built with -matomics): the acquire/release pairing a
 * consumer on another core or in an interrupt would need. */
#include "region.h"
#include "shared_buffer.h"

#define EXPORT(name) __attribute__((export_name(#name)))

REGION(ring);

/* Push `count` items first, first + 1, ...; returns how many fitted. */
EXPORT(produce) uint32_t produce(uint32_t first, uint32_t count) {
    ring *r = (ring *)region_ring();
    uint32_t head = r->head, pushed = 0;
    uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE); /* slots before it are free again */
    while (pushed < count && head - tail < RING_SLOTS) {
        r->slot[head % RING_SLOTS] = first + pushed;
        head++;
        pushed++;
    }
    __atomic_store_n(&r->head, head, __ATOMIC_RELEASE); /* the slots are written before head says so */
    return pushed;
}
