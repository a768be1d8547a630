/* Module 1 of 2: a moving-average filter over a ring buffer in linear memory.
 * Compiled from C; the firmware pushes raw samples and reads the smoothed value. */

#define EXPORT(name) __attribute__((export_name(#name)))
#define WINDOW 8

static int samples[WINDOW];
static int count, next, sum;

EXPORT(filter_push) int filter_push(int sample) {
    if (count == WINDOW) {
        sum -= samples[next];
    } else {
        count++;
    }
    samples[next] = sample;
    sum += sample;
    next = (next + 1) % WINDOW;
    return sum / count;
}
