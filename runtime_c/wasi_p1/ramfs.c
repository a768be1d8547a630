/*
 * ramfs.c: the RAM filesystem of the bare-metal WASI port (see ramfs.h):
 * path resolution beneath a directory, the node table, and file contents
 * packed in one byte pool with copy-on-write from build-time seeds.
 */
#include "ramfs.h"

#include <string.h>

#include "include/waft_wasi_p1.h"

#define DIR_T WAFT_WASI_FILETYPE_DIRECTORY
#define REG_T WAFT_WASI_FILETYPE_REGULAR_FILE

static struct {
    waft_ramfs_node *nodes;
    uint16_t n_nodes;
    uint8_t *pool;
    uint32_t capacity, used;
} fs;

uint32_t waft_ramfs_used(void) { return fs.used; }
uint32_t waft_ramfs_capacity(void) { return fs.capacity; }

static waft_ramfs_node *N(uint16_t i) { return &fs.nodes[i]; }

/* ------------------------------------------------------------------------- */
/* Nodes                                                                      */
/* ------------------------------------------------------------------------- */

static uint16_t node_new(uint16_t parent, const char *name, size_t len, uint8_t type, uint64_t now,
                         uint16_t *out) {
    if (len > WAFT_RAMFS_NAME_MAX) {
        return WAFT_WASI_ERRNO_NAMETOOLONG;
    }
    for (uint16_t i = 1; i < fs.n_nodes; i++) {
        waft_ramfs_node *n = N(i);
        if (n->type == 0) {
            memset(n, 0, sizeof *n);
            n->type = type;
            n->parent = parent;
            memcpy(n->name, name, len);
            n->name[len] = '\0';
            n->atim = n->mtim = n->ctim = now;
            N(parent)->mtim = N(parent)->ctim = now;
            *out = i;
            return 0;
        }
    }
    return WAFT_WASI_ERRNO_NOSPC; /* the node table is full */
}

/* Resize a file's contents in the pool: move the files after it by the
 * difference, so the pool stays packed.  A file still in flash is copied in
 * first (copy-on-write). */
static uint16_t resize(uint16_t i, uint32_t size) {
    waft_ramfs_node *n = N(i);
    if (!n->in_pool) {
        if (size > fs.capacity - fs.used) {
            return WAFT_WASI_ERRNO_NOSPC;
        }
        uint32_t keep = n->size < size ? n->size : size;
        if (keep > 0) memcpy(fs.pool + fs.used, n->seed, keep);
        memset(fs.pool + fs.used + keep, 0, size - keep);
        n->off = fs.used;
        n->in_pool = true;
        n->seed = NULL;
        n->size = size;
        fs.used += size;
        return 0;
    }
    uint32_t end = n->off + n->size;
    if (size > n->size) {
        uint32_t grow = size - n->size;
        if (grow > fs.capacity - fs.used) {
            return WAFT_WASI_ERRNO_NOSPC;
        }
        memmove(fs.pool + end + grow, fs.pool + end, fs.used - end);
        memset(fs.pool + end, 0, grow);
        for (uint16_t j = 0; j < fs.n_nodes; j++) {
            if (j != i && N(j)->type == REG_T && N(j)->in_pool && N(j)->off >= end) N(j)->off += grow;
        }
        fs.used += grow;
    } else if (size < n->size) {
        uint32_t shrink = n->size - size;
        memmove(fs.pool + end - shrink, fs.pool + end, fs.used - end);
        for (uint16_t j = 0; j < fs.n_nodes; j++) {
            if (j != i && N(j)->type == REG_T && N(j)->in_pool && N(j)->off >= end) N(j)->off -= shrink;
        }
        fs.used -= shrink;
    }
    n->size = size;
    return 0;
}

/* Drop a node from its directory; its storage goes now, or at its last close. */
static void node_remove(uint16_t i, uint64_t now) {
    waft_ramfs_node *n = N(i);
    N(n->parent)->mtim = N(n->parent)->ctim = now;
    if (n->opens > 0) {
        n->unlinked = true;
        n->parent = RAMFS_NONE;
        return;
    }
    if (n->type == REG_T) (void)resize(i, 0); /* shrinking never fails */
    n->type = 0;
}

void waft_ramfs_retain(uint16_t node) { N(node)->opens++; }

void waft_ramfs_release(uint16_t node) {
    waft_ramfs_node *n = N(node);
    if (n->opens > 0 && --n->opens == 0 && n->unlinked) {
        if (n->type == REG_T) (void)resize(node, 0);
        n->type = 0;
    }
}

static bool dir_empty(uint16_t d) {
    for (uint16_t i = 1; i < fs.n_nodes; i++) {
        if (N(i)->type != 0 && !N(i)->unlinked && N(i)->parent == d && i != d) return false;
    }
    return true;
}

/* The child of directory `d` named [name, name + len), or RAMFS_NONE. */
static uint16_t child(uint16_t d, const char *name, size_t len) {
    for (uint16_t i = 1; i < fs.n_nodes; i++) {
        waft_ramfs_node *n = N(i);
        if (n->type != 0 && !n->unlinked && n->parent == d && strncmp(n->name, name, len) == 0 &&
            n->name[len] == '\0') {
            return i;
        }
    }
    return RAMFS_NONE;
}

/* ------------------------------------------------------------------------- */
/* Paths                                                                      */
/* ------------------------------------------------------------------------- */

/* Where a path leads: the directory holding its last component, that
 * component, and the node it names (RAMFS_NONE when absent).  A last
 * component of "." or ".." is resolved to a node here, and `name` is then
 * empty: such a path can be opened but not created, removed or renamed. */
typedef struct where {
    uint16_t parent;
    const char *name;
    size_t len;
    uint16_t node;
    bool must_dir; /* the path ended in '/' */
} where;

static uint16_t resolve(uint16_t dir, const char *path, where *w) {
    if (path[0] == '\0') return WAFT_WASI_ERRNO_NOENT;
    if (path[0] == '/') return WAFT_WASI_ERRNO_PERM; /* the sandbox admits only relative paths */
    uint16_t cur = dir;
    unsigned depth = 0; /* directories below `dir`: ".." at 0 would leave it */
    const char *p = path;
    w->must_dir = path[strlen(path) - 1] == '/';
    for (;;) {
        while (*p == '/') p++;
        const char *start = p;
        while (*p != '\0' && *p != '/') p++;
        size_t len = (size_t)(p - start);
        const char *rest = p;
        while (*rest == '/') rest++;
        bool last = *rest == '\0';
        uint16_t next;
        if (len == 0) { /* the path was only slashes after a component: the directory itself */
            next = cur;
        } else if (len == 1 && start[0] == '.') {
            next = cur;
        } else if (len == 2 && start[0] == '.' && start[1] == '.') {
            if (depth == 0) return WAFT_WASI_ERRNO_PERM;
            depth--;
            next = N(cur)->parent;
        } else {
            if (len > WAFT_RAMFS_NAME_MAX) return WAFT_WASI_ERRNO_NAMETOOLONG;
            next = child(cur, start, len);
            if (last) {
                w->parent = cur;
                w->name = start;
                w->len = len;
                w->node = next;
                if (next != RAMFS_NONE && w->must_dir && N(next)->type != DIR_T) return WAFT_WASI_ERRNO_NOTDIR;
                return 0;
            }
            if (next == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
            if (N(next)->type != DIR_T) return WAFT_WASI_ERRNO_NOTDIR;
            depth++;
        }
        if (last) {
            w->parent = N(next)->parent;
            w->name = "";
            w->len = 0;
            w->node = next;
            return 0;
        }
        cur = next;
    }
}

/* ------------------------------------------------------------------------- */
/* Mount                                                                      */
/* ------------------------------------------------------------------------- */

uint16_t waft_ramfs_mount(waft_ramfs_node *nodes, uint16_t n_nodes, uint8_t *pool, uint32_t bytes,
                          const waft_ramfs_seed *seed, size_t n_seed, uint64_t now) {
    if (n_nodes == 0) return WAFT_WASI_ERRNO_NOSPC;
    fs.nodes = nodes;
    fs.n_nodes = n_nodes;
    fs.pool = pool;
    fs.capacity = bytes;
    fs.used = 0;
    memset(nodes, 0, sizeof *nodes * n_nodes);
    nodes[0].type = DIR_T;
    nodes[0].parent = 0;
    nodes[0].atim = nodes[0].mtim = nodes[0].ctim = now;
    for (size_t i = 0; i < n_seed; i++) {
        where w;
        uint16_t err = resolve(0, seed[i].path, &w);
        if (err != 0) return err;
        if (w.node != RAMFS_NONE) return WAFT_WASI_ERRNO_EXIST;
        uint16_t made;
        err = node_new(w.parent, w.name, w.len, seed[i].type, seed[i].mtim, &made);
        if (err != 0) return err;
        N(made)->seed = seed[i].data;
        N(made)->size = seed[i].type == REG_T ? seed[i].size : 0;
    }
    return 0;
}

uint16_t waft_ramfs_find(const char *path, uint16_t *node) {
    while (*path == '/') path++;
    if (*path == '\0') {
        *node = 0;
        return 0;
    }
    return waft_ramfs_path_node(0, path, node);
}

/* ------------------------------------------------------------------------- */
/* Path operations                                                            */
/* ------------------------------------------------------------------------- */

uint16_t waft_ramfs_open(uint16_t dir, const char *path, bool creat, bool excl, bool directory, bool trunc,
                         bool write, uint64_t now, uint16_t *node) {
    where w;
    uint16_t err = resolve(dir, path, &w);
    if (err != 0) return err;
    if (w.node == RAMFS_NONE) {
        if (!creat) return WAFT_WASI_ERRNO_NOENT;
        if (directory || w.must_dir) return WAFT_WASI_ERRNO_ISDIR; /* O_CREAT|O_DIRECTORY: Linux says EISDIR too */
        err = node_new(w.parent, w.name, w.len, REG_T, now, node);
        return err;
    }
    waft_ramfs_node *n = N(w.node);
    if (creat && excl) return WAFT_WASI_ERRNO_EXIST;
    if (n->type == DIR_T) {
        if (write || trunc) return WAFT_WASI_ERRNO_ISDIR;
    } else if (directory) {
        return WAFT_WASI_ERRNO_NOTDIR;
    }
    if (trunc && n->size != 0) {
        (void)resize(w.node, 0);
        n->mtim = n->ctim = now;
    }
    *node = w.node;
    return 0;
}

uint16_t waft_ramfs_mkdir(uint16_t dir, const char *path, uint64_t now) {
    where w;
    uint16_t err = resolve(dir, path, &w);
    if (err == WAFT_WASI_ERRNO_NOTDIR && w.must_dir) err = WAFT_WASI_ERRNO_EXIST;
    if (err != 0) return err;
    if (w.node != RAMFS_NONE) return WAFT_WASI_ERRNO_EXIST;
    uint16_t made;
    return node_new(w.parent, w.name, w.len, DIR_T, now, &made);
}

uint16_t waft_ramfs_path_node(uint16_t dir, const char *path, uint16_t *node) {
    where w;
    uint16_t err = resolve(dir, path, &w);
    if (err != 0) return err;
    if (w.node == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
    *node = w.node;
    return 0;
}

uint16_t waft_ramfs_path_stat(uint16_t dir, const char *path, waft_ramfs_stat *out) {
    uint16_t node;
    uint16_t err = waft_ramfs_path_node(dir, path, &node);
    if (err == 0) waft_ramfs_stat_node(node, out);
    return err;
}

uint16_t waft_ramfs_rmdir(uint16_t dir, const char *path) {
    where w;
    uint16_t err = resolve(dir, path, &w);
    if (err != 0) return err;
    if (w.node == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
    if (N(w.node)->type != DIR_T) return WAFT_WASI_ERRNO_NOTDIR;
    if (w.len == 0) return WAFT_WASI_ERRNO_INVAL; /* "." or "..": rmdir(".") is EINVAL on Linux */
    if (!dir_empty(w.node)) return WAFT_WASI_ERRNO_NOTEMPTY;
    if (N(w.node)->opens > 0) return WAFT_WASI_ERRNO_BUSY; /* a preopen or an open directory fd */
    node_remove(w.node, N(w.node)->mtim);
    return 0;
}

uint16_t waft_ramfs_unlink(uint16_t dir, const char *path) {
    where w;
    uint16_t err = resolve(dir, path, &w);
    if (err != 0) return err;
    if (w.node == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
    if (N(w.node)->type == DIR_T) return WAFT_WASI_ERRNO_ISDIR;
    if (w.must_dir) return WAFT_WASI_ERRNO_NOTDIR;
    node_remove(w.node, N(w.parent)->mtim);
    return 0;
}

uint16_t waft_ramfs_rename(uint16_t old_dir, const char *old_path, uint16_t new_dir, const char *new_path,
                           uint64_t now) {
    where from, to;
    uint16_t err = resolve(old_dir, old_path, &from);
    if (err != 0) return err;
    if (from.node == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
    err = resolve(new_dir, new_path, &to);
    if (err != 0) return err;
    if (from.len == 0 || to.len == 0) return WAFT_WASI_ERRNO_BUSY; /* "." or "..": not renameable */
    uint16_t src = from.node;
    bool is_dir = N(src)->type == DIR_T;
    if (to.must_dir && !is_dir) return WAFT_WASI_ERRNO_NOTDIR;
    if (is_dir) {
        /* A directory cannot move beneath itself. */
        for (uint16_t d = to.parent;; d = N(d)->parent) {
            if (d == src) return WAFT_WASI_ERRNO_INVAL;
            if (d == 0 || d == N(d)->parent) break;
        }
    }
    if (to.node == src) return 0;
    if (to.node != RAMFS_NONE) {
        waft_ramfs_node *t = N(to.node);
        if (t->type == DIR_T && !is_dir) return WAFT_WASI_ERRNO_ISDIR;
        if (t->type != DIR_T && is_dir) return WAFT_WASI_ERRNO_NOTDIR;
        if (t->type == DIR_T && !dir_empty(to.node)) return WAFT_WASI_ERRNO_NOTEMPTY;
        if (t->type == DIR_T && t->opens > 0) return WAFT_WASI_ERRNO_BUSY;
        node_remove(to.node, now);
    }
    waft_ramfs_node *n = N(src);
    N(n->parent)->mtim = N(n->parent)->ctim = now;
    N(to.parent)->mtim = N(to.parent)->ctim = now;
    n->parent = to.parent;
    memcpy(n->name, to.name, to.len);
    n->name[to.len] = '\0';
    n->ctim = now;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Node operations                                                            */
/* ------------------------------------------------------------------------- */

void waft_ramfs_stat_node(uint16_t node, waft_ramfs_stat *out) {
    waft_ramfs_node *n = N(node);
    out->ino = (uint64_t)node + 1;
    out->type = n->type;
    out->nlink = n->unlinked ? 0 : 1;
    out->size = n->type == REG_T ? n->size : 0;
    out->atim = n->atim;
    out->mtim = n->mtim;
    out->ctim = n->ctim;
}

void waft_ramfs_set_times(uint16_t node, bool set_atim, uint64_t atim, bool set_mtim, uint64_t mtim) {
    if (set_atim) N(node)->atim = atim;
    if (set_mtim) N(node)->mtim = mtim;
}

uint32_t waft_ramfs_size(uint16_t node) { return N(node)->size; }

static const uint8_t *contents(const waft_ramfs_node *n) { return n->in_pool ? fs.pool + n->off : n->seed; }

uint16_t waft_ramfs_read(uint16_t node, uint64_t offset, uint8_t *buf, size_t len, size_t *done) {
    waft_ramfs_node *n = N(node);
    if (n->type == DIR_T) return WAFT_WASI_ERRNO_ISDIR;
    size_t got = 0;
    if (offset < n->size) {
        got = n->size - (uint32_t)offset < len ? n->size - (uint32_t)offset : len;
        memcpy(buf, contents(n) + offset, got);
    }
    *done = got;
    return 0;
}

uint16_t waft_ramfs_set_size(uint16_t node, uint64_t size, uint64_t now) {
    waft_ramfs_node *n = N(node);
    if (n->type == DIR_T) return WAFT_WASI_ERRNO_ISDIR;
    if (size > UINT32_MAX) return WAFT_WASI_ERRNO_FBIG;
    if (size == n->size && n->in_pool) return 0;
    uint16_t err = resize(node, (uint32_t)size);
    if (err == 0) n->mtim = n->ctim = now;
    return err;
}

uint16_t waft_ramfs_write(uint16_t node, uint64_t offset, const uint8_t *buf, size_t len, uint64_t now,
                          size_t *done) {
    waft_ramfs_node *n = N(node);
    *done = 0;
    if (n->type == DIR_T) return WAFT_WASI_ERRNO_ISDIR;
    if (len == 0) return 0;
    uint64_t end = offset + len;
    if (end > UINT32_MAX) return WAFT_WASI_ERRNO_FBIG;
    if (end > n->size || !n->in_pool) {
        /* Grow (or copy out of flash); when the pool cannot take it all,
         * take what fits, but never less than the file already holds. */
        uint32_t want = end > n->size ? (uint32_t)end : n->size;
        uint32_t room = fs.capacity - fs.used + (n->in_pool ? n->size : 0);
        if (n->size > room) return WAFT_WASI_ERRNO_NOSPC; /* a seeded file too big to copy out of flash */
        if (want > room) want = room;
        if (want <= offset) return WAFT_WASI_ERRNO_NOSPC;
        uint16_t err = resize(node, want);
        if (err != 0) return err;
        if (end > want) len = want - (size_t)offset;
    }
    memcpy(fs.pool + n->off + offset, buf, len);
    n->mtim = n->ctim = now;
    *done = len;
    return 0;
}

uint16_t waft_ramfs_readdir(uint16_t node, uint64_t cookie, char *name, size_t *namlen, uint8_t *type,
                            uint64_t *ino, bool *end) {
    waft_ramfs_node *d = N(node);
    if (d->type != DIR_T) return WAFT_WASI_ERRNO_NOTDIR;
    *end = false;
    if (cookie < 2) {
        *namlen = (size_t)cookie + 1;
        memcpy(name, "..", *namlen);
        name[*namlen] = '\0';
        *type = DIR_T;
        *ino = (uint64_t)(cookie == 0 ? node : d->parent) + 1;
        return 0;
    }
    uint64_t k = 2;
    for (uint16_t i = 1; i < fs.n_nodes; i++) {
        waft_ramfs_node *n = N(i);
        if (n->type == 0 || n->unlinked || n->parent != node || i == node) continue;
        if (k++ == cookie) {
            *namlen = strlen(n->name);
            memcpy(name, n->name, *namlen + 1);
            *type = n->type;
            *ino = (uint64_t)i + 1;
            return 0;
        }
    }
    *end = true;
    return 0;
}
