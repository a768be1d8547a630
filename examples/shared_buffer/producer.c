/* Module 1: the producer.  It pushes items straight into the `ring` region
 * (granted read-write): no import call per item, no copy. */
#include "region.h"
#include "shared_buffer.h"

#define EXPORT(name) __attribute__((export_name(#name)))

REGION(ring);

/* Push `count` items first, first + 1, ...; returns how many fitted. */
EXPORT(produce) uint32_t produce(uint32_t first, uint32_t count) {
    ring *r = (ring *)region_ring();
    uint32_t head = r->head, pushed = 0;
    while (pushed < count && head - r->tail < RING_SLOTS) {
        r->slot[head % RING_SLOTS] = first + pushed;
        head++;
        pushed++;
    }
    r->head = head; /* published last: the consumer runs after this call returns */
    return pushed;
}
