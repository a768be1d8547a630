/* The layout of the two regions of examples/shared_buffer, shared by the
 * modules (compiled to Wasm) and the native firmware: the same bytes, the
 * same struct, no copies. */
#ifndef SHARED_BUFFER_H
#define SHARED_BUFFER_H

#include <stdint.h>

/* `ring`: a single-producer single-consumer ring of 32-bit items.  The
 * producer only writes `head` and the slots, the consumer only `tail`. */
#define RING_SLOTS 254u
typedef struct ring {
    uint32_t head;               /* items ever pushed */
    uint32_t tail;               /* items ever popped */
    uint32_t slot[RING_SLOTS];   /* item n is in slot[n % RING_SLOTS] */
} ring;

/* `adc`: the frame a DMA engine fills (here a native timer interrupt).  A
 * sequence lock: `seq` is odd while the frame is being written. */
#define ADC_SAMPLES 16u
typedef struct adc_frame {
    uint32_t seq;
    uint16_t sample[ADC_SAMPLES]; /* frame k: sample[i] = 100 * k + i */
} adc_frame;

#endif
