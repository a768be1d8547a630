/*
 * lines.c: the line table of waft_signals.h — one static slot per granted
 * line, grants by name, handlers (table 0 entries and exports), enable,
 * pend/clear/is-pending, priorities, timers, and p1 proc_raise pending a
 * signal line.  Portable: the platform is behind signals_port.h.
 *
 * Locking: slot changes happen on the module's threads under the port's
 * lock.  The event path (waft_signals_latch) reads only the atomics `pending`
 * and `wake`; `wake` is published last when a line becomes deliverable and
 * withdrawn first when it stops being so, so an event never wakes a thread
 * for a handler that is half set up.
 */
#include "signals_port.h"

#include <string.h>

/* The signature string of (func (param i32 i32)) (docs/abi.md). */
static const char HANDLER_SIGNATURE[] = "ii:";

/* Grants are kept in line order (dispatch's tie-break) and are few: at most
 * this many, so dispatch can keep a bitmap of them on its stack. */
#define MAX_LINES 256u

static void write_error_line(const char *what, const char *name) {
    waft_port_write_error("waft: signals: ");
    waft_port_write_error(what);
    waft_port_write_error(name != NULL ? name : "(unnamed)");
    waft_port_write_error("\n");
}

int32_t waft_signals_init(waft_signals *sig, const waft_signals_module *module) {
    memset(sig, 0, sizeof *sig);
    sig->module = *module;
    if (module->grant_count > MAX_LINES || module->thread_count == 0 || module->threads == NULL ||
        (module->grant_count > 0 && (module->lines == NULL || module->grants == NULL))) {
        waft_port_write_error("waft: signals: bad embedding (too many grants, or no storage)\n");
        return WAFT_SIGNALS_EINVAL;
    }
    for (uint32_t t = 0; t < module->thread_count; t++) {
        module->threads[t] = (waft_signals_thread){0};
    }
    for (uint32_t i = 0; i < module->grant_count; i++) {
        const waft_signals_grant *g = &module->grants[i];
        /* Ascending order also proves the lines distinct: one slot per line. */
        if (i > 0 && g->line <= module->grants[i - 1].line) {
            write_error_line("grants must name distinct lines in ascending order; out of order: ", g->name);
            return WAFT_SIGNALS_EINVAL;
        }
        uint8_t caps = waft_signals_port_caps(g->line);
        if (caps == 0) {
            write_error_line("this target cannot provide the line granted as ", g->name);
            return WAFT_SIGNALS_ENOTSUP;
        }
        waft_signals_line *l = &module->lines[i];
        memset(l, 0, sizeof *l);
        l->line = g->line;
        l->name = g->name;
        l->caps = caps;
        atomic_init(&l->enabled, false);
        atomic_init(&l->pending, false);
        atomic_init(&l->wake, -1);
    }
    return waft_signals_port_init(sig);
}

void waft_signals_set_memory(waft_signals *sig, waft_memory *memory) { sig->memory = memory; }

void waft_signals_latch(waft_signals *sig, waft_signals_line *l) {
    atomic_store(&l->pending, true);
    int w = atomic_load(&l->wake);
    if (w >= 0) {
        waft_signals_port_wake(sig, (uint32_t)w);
    }
}

waft_signals_line *waft_signals_find(waft_signals *sig, uint32_t line) {
    for (uint32_t i = 0; i < sig->module.grant_count; i++) {
        if (sig->module.lines[i].line == line) {
            return &sig->module.lines[i];
        }
    }
    return NULL;
}

uint32_t waft_signals_current(waft_signals *sig) {
    uint32_t t = sig->module.current_thread != NULL ? sig->module.current_thread(sig->module.user) : 0;
    return t < sig->module.thread_count ? t : 0;
}

bool waft_signals_ready(const waft_signals_line *l, uint32_t thread, uint8_t mask) {
    return l->attached && l->delivery == WAFT_SIGNALS_DEFERRED && l->thread == thread && l->priority > mask &&
           atomic_load(&l->enabled) && atomic_load(&l->pending);
}

/* The slot for `line`, or the WIT's error for it: inval for a reserved
 * class (no grant can name one), notcapable when not granted. */
static int32_t slot_for(waft_signals *sig, uint32_t line, waft_signals_line **out) {
    if (WAFT_SIGNALS_CLASS(line) > WAFT_SIGNALS_CLASS_TIMER) {
        return WAFT_SIGNALS_EINVAL;
    }
    *out = waft_signals_find(sig, line);
    return *out != NULL ? WAFT_SIGNALS_OK : WAFT_SIGNALS_ENOTCAPABLE;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF): what a
 * WIT `string` promises; anything else is `ilseq`. */
static bool valid_utf8(const uint8_t *s, uint32_t len) {
    uint32_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        uint32_t n, cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n) {
            return false;
        }
        for (uint32_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

static bool same_name(const char *c_name, const char *name, uint32_t len) {
    return strlen(c_name) == len && memcmp(c_name, name, len) == 0;
}

int32_t waft_signals_lookup(waft_signals *sig, const char *name, uint32_t len, uint32_t *line) {
    if (!valid_utf8((const uint8_t *)name, len)) {
        return WAFT_SIGNALS_EILSEQ;
    }
    for (uint32_t i = 0; i < sig->module.grant_count; i++) {
        if (same_name(sig->module.lines[i].name, name, len)) {
            *line = sig->module.lines[i].line;
            return WAFT_SIGNALS_OK;
        }
    }
    return WAFT_SIGNALS_ENOENT;
}

int32_t waft_signals_caps(waft_signals *sig, uint32_t line, uint8_t *caps) {
    waft_signals_line *l;
    int32_t err = slot_for(sig, line, &l);
    if (err == WAFT_SIGNALS_OK) {
        *caps = l->caps;
    }
    return err;
}

uint8_t waft_signals_priority_max(waft_signals *sig) {
    (void)sig;
    return waft_signals_port_priority_max();
}

/* The checks attach and attach-export share, in the WIT's order of errors. */
static int32_t check_attach(waft_signals *sig, uint32_t line, uint32_t delivery, uint32_t priority,
                            waft_signals_line **out) {
    int32_t err = slot_for(sig, line, out);
    if (err != WAFT_SIGNALS_OK) {
        return err;
    }
    if (delivery > WAFT_SIGNALS_DEFERRED || priority == 0) {
        return WAFT_SIGNALS_EINVAL;
    }
    if (priority > waft_signals_port_priority_max()) {
        return WAFT_SIGNALS_EPERM;
    }
    uint8_t needed = delivery == WAFT_SIGNALS_IMMEDIATE ? WAFT_SIGNALS_CAP_IMMEDIATE : WAFT_SIGNALS_CAP_DEFERRED;
    if ((*out)->caps & needed) {
        return WAFT_SIGNALS_OK;
    }
    return WAFT_SIGNALS_ENOTSUP;
}

/* Record the handler in the (checked) slot and connect its source. */
static int32_t install(waft_signals *sig, waft_signals_line *l, const waft_func *entry,
                       void (*export_call)(void *, int32_t, int32_t), void *instance, uint32_t arg,
                       uint32_t delivery, uint32_t priority) {
    uint32_t lock = waft_signals_port_lock();
    if (l->attached) {
        waft_signals_port_unlock(lock);
        return WAFT_SIGNALS_EBUSY;
    }
    l->entry = entry;
    l->export_call = export_call;
    l->instance = instance;
    l->arg = arg;
    l->delivery = (uint8_t)delivery;
    l->priority = (uint8_t)priority;
    l->thread = waft_signals_current(sig);
    atomic_store(&l->enabled, false); /* stays disabled until enable; a pending event is kept */
    l->attached = true;
    int32_t err = waft_signals_port_attach(sig, l);
    if (err != WAFT_SIGNALS_OK) {
        l->attached = false;
    } else {
        waft_signals_port_priority(sig, l);
    }
    waft_signals_port_unlock(lock);
    return err;
}

int32_t waft_signals_attach(waft_signals *sig, uint32_t line, uint32_t index, uint32_t arg, uint32_t delivery,
                            uint32_t priority) {
    waft_signals_line *l;
    int32_t err = check_attach(sig, line, delivery, priority, &l);
    if (err != WAFT_SIGNALS_OK) {
        return err;
    }
    /* Table 0 of the attaching thread's instance: its entries call into that
     * instance, so the handler runs there, as the WIT says. */
    const waft_signals_module *m = &sig->module;
    void *instance = m->instance(waft_signals_current(sig), m->user);
    waft_table *table = m->table0 != NULL ? m->table0(instance) : NULL;
    if (table == NULL || index >= table->size) {
        return WAFT_SIGNALS_EINVAL;
    }
    const waft_func *entry = (const waft_func *)table->elems[index];
    if (entry == NULL || !waft_func_signature_equal(entry->signature, HANDLER_SIGNATURE)) {
        return WAFT_SIGNALS_EINVAL;
    }
    return install(sig, l, entry, NULL, NULL, arg, delivery, priority);
}

int32_t waft_signals_attach_export(waft_signals *sig, uint32_t line, const char *name, uint32_t len, uint32_t arg,
                                   uint32_t delivery, uint32_t priority) {
    if (!valid_utf8((const uint8_t *)name, len)) {
        return WAFT_SIGNALS_EILSEQ;
    }
    waft_signals_line *l;
    int32_t err = check_attach(sig, line, delivery, priority, &l);
    if (err != WAFT_SIGNALS_OK) {
        return err;
    }
    const waft_signals_module *m = &sig->module;
    const waft_signals_export *found = NULL;
    for (uint32_t i = 0; i < m->export_count && found == NULL; i++) {
        if (same_name(m->exports[i].name, name, len)) {
            found = &m->exports[i];
        }
    }
    if (found == NULL) {
        return WAFT_SIGNALS_ENOENT;
    }
    if (found->call == NULL) {
        return WAFT_SIGNALS_EINVAL; /* an export of another type */
    }
    void *instance = m->instance(waft_signals_current(sig), m->user);
    return install(sig, l, NULL, found->call, instance, arg, delivery, priority);
}

int32_t waft_signals_detach(waft_signals *sig, uint32_t line) {
    waft_signals_line *l;
    int32_t err = slot_for(sig, line, &l);
    if (err != WAFT_SIGNALS_OK) {
        return err;
    }
    uint32_t lock = waft_signals_port_lock();
    if (!l->attached) {
        waft_signals_port_unlock(lock);
        return WAFT_SIGNALS_EINVAL;
    }
    atomic_store(&l->wake, -1);
    atomic_store(&l->enabled, false);
    waft_signals_port_enable(sig, l, false);
    waft_signals_port_detach(sig, l);
    l->attached = false;
    l->entry = NULL;
    l->export_call = NULL;
    atomic_store(&l->pending, false);
    waft_signals_port_hw_clear(sig, l);
    waft_signals_port_unlock(lock);
    return WAFT_SIGNALS_OK;
}

int32_t waft_signals_enable(waft_signals *sig, uint32_t line, bool on) {
    waft_signals_line *l;
    int32_t err = slot_for(sig, line, &l);
    if (err != WAFT_SIGNALS_OK) {
        return err;
    }
    uint32_t lock = waft_signals_port_lock();
    if (on && !l->attached) {
        waft_signals_port_unlock(lock);
        return WAFT_SIGNALS_EINVAL;
    }
    if (!on) {
        atomic_store(&l->wake, -1);
    }
    atomic_store(&l->enabled, on);
    waft_signals_port_enable(sig, l, on);
    bool deferred = on && l->delivery == WAFT_SIGNALS_DEFERRED;
    if (deferred) {
        atomic_store(&l->wake, (int)l->thread);
    }
    waft_signals_port_unlock(lock);
    /* An event latched while disabled is delivered now: the thread may be
     * waiting for it already. */
    if (deferred && atomic_load(&l->pending)) {
        waft_signals_port_wake(sig, l->thread);
    }
    return WAFT_SIGNALS_OK;
}

int32_t waft_signals_set_priority(waft_signals *sig, uint32_t line, uint32_t priority) {
    waft_signals_line *l;
    int32_t err = slot_for(sig, line, &l);
    if (err != WAFT_SIGNALS_OK) {
        return err;
    }
    if (priority == 0) {
        return WAFT_SIGNALS_EINVAL;
    }
    if (priority > waft_signals_port_priority_max()) {
        return WAFT_SIGNALS_EPERM;
    }
    if (!(l->caps & WAFT_SIGNALS_CAP_PRIORITY)) {
        return WAFT_SIGNALS_ENOTSUP;
    }
    uint32_t lock = waft_signals_port_lock();
    l->priority = (uint8_t)priority;
    if (l->attached) {
        waft_signals_port_priority(sig, l);
    }
    waft_signals_port_unlock(lock);
    return WAFT_SIGNALS_OK;
}

int32_t waft_signals_pend(waft_signals *sig, uint32_t line) {
    waft_signals_line *l;
    int32_t err = slot_for(sig, line, &l);
    if (err != WAFT_SIGNALS_OK) {
        return err;
    }
    if (!(l->caps & WAFT_SIGNALS_CAP_PEND)) {
        return WAFT_SIGNALS_ENOTSUP;
    }
    if (l->attached && l->delivery == WAFT_SIGNALS_IMMEDIATE) {
        waft_signals_port_pend_immediate(sig, l);
    } else {
        waft_signals_latch(sig, l);
    }
    return WAFT_SIGNALS_OK;
}

int32_t waft_signals_clear_pending(waft_signals *sig, uint32_t line) {
    waft_signals_line *l;
    int32_t err = slot_for(sig, line, &l);
    if (err == WAFT_SIGNALS_OK) {
        atomic_store(&l->pending, false);
        waft_signals_port_hw_clear(sig, l);
    }
    return err;
}

int32_t waft_signals_is_pending(waft_signals *sig, uint32_t line, bool *pending) {
    waft_signals_line *l;
    int32_t err = slot_for(sig, line, &l);
    if (err == WAFT_SIGNALS_OK) {
        *pending = atomic_load(&l->pending) || waft_signals_port_hw_pending(sig, l);
    }
    return err;
}

int32_t waft_signals_start_timer(waft_signals *sig, uint32_t line, uint64_t first_release, uint64_t period) {
    waft_signals_line *l;
    int32_t err = slot_for(sig, line, &l);
    if (err != WAFT_SIGNALS_OK) {
        return err;
    }
    if (!(l->caps & WAFT_SIGNALS_CAP_TIMER)) {
        return WAFT_SIGNALS_ENOTSUP;
    }
    if (period != 0 && period < waft_signals_port_min_period_ns()) {
        return WAFT_SIGNALS_EINVAL;
    }
    uint32_t lock = waft_signals_port_lock();
    err = waft_signals_port_start_timer(sig, l, first_release, period);
    waft_signals_port_unlock(lock);
    return err;
}

int32_t waft_signals_stop_timer(waft_signals *sig, uint32_t line) {
    waft_signals_line *l;
    int32_t err = slot_for(sig, line, &l);
    if (err != WAFT_SIGNALS_OK) {
        return err;
    }
    if (!(l->caps & WAFT_SIGNALS_CAP_TIMER)) {
        return WAFT_SIGNALS_ENOTSUP;
    }
    uint32_t lock = waft_signals_port_lock();
    err = waft_signals_port_stop_timer(sig, l);
    waft_signals_port_unlock(lock);
    return err;
}

bool waft_signals_proc_raise(void *ctx, int32_t signal) {
    waft_signals *sig = ctx;
    if (sig == NULL || signal <= 0 || signal > 0xFF) {
        return false;
    }
    waft_signals_line *l = waft_signals_find(sig, (WAFT_SIGNALS_CLASS_SIGNAL << 16) | (uint32_t)signal);
    if (l == NULL || !l->attached) {
        return false; /* no handler: p1's default action */
    }
    waft_signals_latch(sig, l);
    return true;
}
