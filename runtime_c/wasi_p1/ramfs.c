/*
 * ramfs.c: the RAM filesystem of the bare-metal WASI port (see ramfs.h):
 * path resolution beneath a directory (symlinks followed inside it), the
 * node table, and file contents and symlink targets packed in one byte pool
 * with copy-on-write from build-time seeds.
 */
#include "ramfs.h"

#include <string.h>

#include "include/waft_wasi_p1.h"

#define DIR_T WAFT_WASI_FILETYPE_DIRECTORY
#define REG_T WAFT_WASI_FILETYPE_REGULAR_FILE
#define SYM_T WAFT_WASI_FILETYPE_SYMBOLIC_LINK
#define LINK_T RAMFS_HARD_LINK

/* Longest path one resolution works on, symlink targets spliced in (the
 * boards' WASI_PATH_MAX), and most symlinks followed in one resolution. */
#define RAMFS_PATH_MAX 256
#define RAMFS_MAX_SYMLINKS 40

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
            if (j != i && N(j)->type != 0 && N(j)->in_pool && N(j)->off >= end) N(j)->off += grow;
        }
        fs.used += grow;
    } else if (size < n->size) {
        uint32_t shrink = n->size - size;
        memmove(fs.pool + end - shrink, fs.pool + end, fs.used - end);
        for (uint16_t j = 0; j < fs.n_nodes; j++) {
            if (j != i && N(j)->type != 0 && N(j)->in_pool && N(j)->off >= end) N(j)->off -= shrink;
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
    if (n->type == REG_T || n->type == SYM_T) (void)resize(i, 0); /* shrinking never fails */
    n->type = 0;
}

void waft_ramfs_retain(uint16_t node) { N(node)->opens++; }

void waft_ramfs_release(uint16_t node) {
    waft_ramfs_node *n = N(node);
    if (n->opens > 0 && --n->opens == 0 && n->unlinked) {
        if (n->type == REG_T || n->type == SYM_T) (void)resize(node, 0);
        n->type = 0;
    }
}

static bool dir_empty(uint16_t d) {
    for (uint16_t i = 1; i < fs.n_nodes; i++) {
        if (N(i)->type != 0 && !N(i)->unlinked && N(i)->parent == d && i != d) return false;
    }
    return true;
}

/* The node a directory entry stands for: a hard link's file, else itself. */
static uint16_t inode_of(uint16_t e) { return N(e)->type == LINK_T ? N(e)->target : e; }

/* Names the node `i` has: its own (unless unlinked) and its hard links'. */
static uint64_t nlink_of(uint16_t i) {
    if (N(i)->unlinked) return 0;
    uint64_t links = 1;
    for (uint16_t j = 1; j < fs.n_nodes; j++) {
        if (N(j)->type == LINK_T && N(j)->target == i) links++;
    }
    return links;
}

/* Remove directory entry `e` (a file, symlink or hard link; not a
 * directory).  A file that has hard links keeps its storage: one of them
 * takes over its name, and the file stays where it is in the node table. */
static void entry_remove(uint16_t e, uint64_t now) {
    waft_ramfs_node *n = N(e);
    if (n->type == LINK_T) {
        N(n->parent)->mtim = N(n->parent)->ctim = now;
        N(n->target)->ctim = now;
        n->type = 0;
        return;
    }
    for (uint16_t j = 1; j < fs.n_nodes; j++) {
        waft_ramfs_node *l = N(j);
        if (l->type == LINK_T && l->target == e) {
            N(n->parent)->mtim = N(n->parent)->ctim = now;
            n->parent = l->parent;
            memcpy(n->name, l->name, sizeof n->name);
            n->ctim = now;
            l->type = 0;
            return;
        }
    }
    node_remove(e, now);
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
 * component, the directory entry it names and the node behind it (both
 * RAMFS_NONE when absent; they differ for a hard link).  A last component of
 * "." or ".." is resolved to a node here, and `name` is then empty: such a
 * path can be opened but not created, removed or renamed.  Symlinks on the
 * way are followed (their targets spliced into `buf`, which `name` points
 * into), and so is one as the last component when asked to or when the path
 * ends in '/', as POSIX has it. */
typedef struct where {
    uint16_t parent;
    const char *name;
    size_t len;
    uint16_t entry;
    uint16_t node;
    bool slash; /* the last component had a trailing slash: it must be a directory */
    char buf[RAMFS_PATH_MAX];
} where;

static void at_dir(where *w, uint16_t d) {
    w->parent = N(d)->parent;
    w->name = "";
    w->len = 0;
    w->entry = w->node = d;
}

/* Resolve the first `plen` bytes of `path` (mkdir passes it without its
 * trailing slashes, so it needs no copy of its own). */
static uint16_t resolve_len(uint16_t dir, const char *path, size_t plen, bool follow, where *w) {
    w->slash = false;
    w->entry = w->node = RAMFS_NONE;
    if (plen == 0) return WAFT_WASI_ERRNO_NOENT;
    if (path[0] == '/') return WAFT_WASI_ERRNO_PERM; /* the sandbox admits only relative paths */
    if (plen >= sizeof w->buf) return WAFT_WASI_ERRNO_NAMETOOLONG;
    memcpy(w->buf, path, plen);
    w->buf[plen] = '\0';
    char *p = w->buf;
    uint16_t cur = dir;
    unsigned depth = 0, links = 0; /* depth: directories below `dir`; ".." at 0 would leave it */
    size_t pos = 0;
    for (;;) {
        while (p[pos] == '/') pos++;
        size_t start = pos;
        while (p[pos] != '\0' && p[pos] != '/') pos++;
        size_t len = pos - start, after = pos;
        while (p[after] == '/') after++;
        bool last = p[after] == '\0';
        w->slash = after > pos;
        const char *name = p + start;
        if (len == 0) { /* nothing left (a symlink to "." or ""): the directory itself */
            at_dir(w, cur);
            return 0;
        }
        if (len == 1 && name[0] == '.') {
            if (last) {
                at_dir(w, cur);
                return 0;
            }
            pos = after;
            continue;
        }
        if (len == 2 && name[0] == '.' && name[1] == '.') {
            if (depth == 0) return WAFT_WASI_ERRNO_PERM;
            depth--;
            cur = N(cur)->parent;
            if (last) {
                at_dir(w, cur);
                return 0;
            }
            pos = after;
            continue;
        }
        if (len > WAFT_RAMFS_NAME_MAX) return WAFT_WASI_ERRNO_NAMETOOLONG;
        uint16_t e = child(cur, name, len);
        uint16_t node = e == RAMFS_NONE ? RAMFS_NONE : inode_of(e);
        if (last && (node == RAMFS_NONE || N(node)->type != SYM_T || !(follow || w->slash))) {
            w->parent = cur;
            w->name = name;
            w->len = len;
            w->entry = e;
            w->node = node;
            if (node != RAMFS_NONE && w->slash && N(node)->type != DIR_T) return WAFT_WASI_ERRNO_NOTDIR;
            return 0;
        }
        if (node == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
        if (N(node)->type == SYM_T) {
            /* p := target [+ "/" + what followed the link], resolved from `cur`. */
            waft_ramfs_node *l = N(node);
            const uint8_t *target = l->in_pool ? fs.pool + l->off : l->seed;
            if (++links > RAMFS_MAX_SYMLINKS) return WAFT_WASI_ERRNO_LOOP;
            if (l->size == 0) return WAFT_WASI_ERRNO_NOENT;
            if (target[0] == '/') return WAFT_WASI_ERRNO_PERM;
            const char *tail = p + after;
            size_t tail_len = strlen(tail);
            bool sep = tail_len > 0 || w->slash;
            if (l->size + sep + tail_len >= sizeof w->buf) return WAFT_WASI_ERRNO_NAMETOOLONG;
            memmove(w->buf + l->size + sep, tail, tail_len + 1);
            memcpy(w->buf, target, l->size);
            if (sep) w->buf[l->size] = '/';
            pos = 0;
            continue;
        }
        if (N(node)->type != DIR_T) return WAFT_WASI_ERRNO_NOTDIR;
        cur = node;
        depth++;
        pos = after;
    }
}

static uint16_t resolve(uint16_t dir, const char *path, bool follow, where *w) {
    return resolve_len(dir, path, strlen(path), follow, w);
}

/* What a resolution found, without its path buffer: for link and rename,
 * which resolve a second path before they act on the first.  Each path is
 * resolved in a function of its own, never inlined (resolve_found for the
 * first, link_to/rename_to for the second), so only one `where` and its
 * RAMFS_PATH_MAX buffer is on the stack at a time.  With both in one frame
 * these were the WASI imports that needed the most stack, more than a
 * board's WAFT_STACK_MARGIN leaves for an import
 * (tests/safety/test_import_stack_usage.py, docs/security.md). */
typedef struct found {
    uint16_t entry, node;
    size_t len;
    bool slash;
} found;

__attribute__((noinline)) static uint16_t resolve_found(uint16_t dir, const char *path, bool follow, found *f) {
    where w;
    uint16_t err = resolve(dir, path, follow, &w);
    f->entry = w.entry;
    f->node = w.node;
    f->len = w.len;
    f->slash = w.slash;
    return err;
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
        uint16_t err = resolve(0, seed[i].path, false, &w);
        if (err != 0) return err;
        if (w.entry != RAMFS_NONE) return WAFT_WASI_ERRNO_EXIST;
        uint16_t made;
        err = node_new(w.parent, w.name, w.len, seed[i].type, seed[i].mtim, &made);
        if (err != 0) return err;
        N(made)->seed = seed[i].data;
        N(made)->size = seed[i].type == DIR_T ? 0 : seed[i].size;
    }
    return 0;
}

uint16_t waft_ramfs_find(const char *path, uint16_t *node) {
    while (*path == '/') path++;
    if (*path == '\0') {
        *node = 0;
        return 0;
    }
    return waft_ramfs_path_node(0, path, true, node);
}

/* ------------------------------------------------------------------------- */
/* Path operations                                                            */
/* ------------------------------------------------------------------------- */

uint16_t waft_ramfs_open_at(uint16_t dir, const char *path, bool follow, bool creat, bool excl, bool directory,
                            bool trunc, bool write, uint64_t now, uint16_t *node) {
    where w;
    /* O_CREAT|O_EXCL never follows a symlink (POSIX: EEXIST when it exists). */
    uint16_t err = resolve(dir, path, follow && !(creat && excl), &w);
    if (err != 0) return err;
    if (w.node == RAMFS_NONE) {
        if (!creat) return WAFT_WASI_ERRNO_NOENT;
        if (directory || w.slash) return WAFT_WASI_ERRNO_ISDIR; /* O_CREAT|O_DIRECTORY: Linux says EISDIR too */
        err = node_new(w.parent, w.name, w.len, REG_T, now, node);
        return err;
    }
    waft_ramfs_node *n = N(w.node);
    if (creat && excl) return WAFT_WASI_ERRNO_EXIST;
    if (n->type == SYM_T) return WAFT_WASI_ERRNO_LOOP; /* O_NOFOLLOW on a symlink (O_DIRECTORY too: Linux) */
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

uint16_t waft_ramfs_open(uint16_t dir, const char *path, bool creat, bool excl, bool directory, bool trunc,
                         bool write, uint64_t now, uint16_t *node) {
    return waft_ramfs_open_at(dir, path, true, creat, excl, directory, trunc, write, now, node);
}

uint16_t waft_ramfs_mkdir(uint16_t dir, const char *path, uint64_t now) {
    /* mkdir ignores trailing slashes: "name/" names the directory to make,
     * so whatever is there already (a dangling symlink too) is EXIST. */
    size_t len = strlen(path);
    if (len >= RAMFS_PATH_MAX) return WAFT_WASI_ERRNO_NAMETOOLONG;
    while (len > 1 && path[len - 1] == '/') len--;
    where w;
    uint16_t err = resolve_len(dir, path, len, false, &w);
    if (err != 0) return err;
    if (w.entry != RAMFS_NONE) return WAFT_WASI_ERRNO_EXIST;
    uint16_t made;
    return node_new(w.parent, w.name, w.len, DIR_T, now, &made);
}

uint16_t waft_ramfs_path_node(uint16_t dir, const char *path, bool follow, uint16_t *node) {
    where w;
    uint16_t err = resolve(dir, path, follow, &w);
    if (err != 0) return err;
    if (w.node == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
    *node = w.node;
    return 0;
}

uint16_t waft_ramfs_path_stat(uint16_t dir, const char *path, bool follow, waft_ramfs_stat *out) {
    uint16_t node;
    uint16_t err = waft_ramfs_path_node(dir, path, follow, &node);
    if (err == 0) waft_ramfs_stat_node(node, out);
    return err;
}

uint16_t waft_ramfs_rmdir(uint16_t dir, const char *path) {
    where w;
    uint16_t err = resolve(dir, path, false, &w);
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
    uint16_t err = resolve(dir, path, false, &w);
    if (err != 0) return err;
    if (w.node == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
    if (N(w.node)->type == DIR_T) return WAFT_WASI_ERRNO_ISDIR;
    if (w.slash) return WAFT_WASI_ERRNO_NOTDIR;
    entry_remove(w.entry, N(w.parent)->mtim);
    return 0;
}

/* A new name (link, symlink) must be missing; with a trailing slash it
 * could only name a directory, which these never make: NOENT (Linux,
 * wasmtime and the host port answer the same). */
static uint16_t new_name(const where *w) {
    if (w->entry != RAMFS_NONE || w->len == 0) return WAFT_WASI_ERRNO_EXIST;
    return w->slash ? WAFT_WASI_ERRNO_NOENT : 0;
}

uint16_t waft_ramfs_symlink(const char *target, uint16_t dir, const char *path, uint64_t now) {
    size_t tlen = strlen(target);
    if (tlen >= RAMFS_PATH_MAX) return WAFT_WASI_ERRNO_NAMETOOLONG;
    where w;
    uint16_t err = resolve(dir, path, false, &w);
    if (err == 0) err = new_name(&w);
    if (err != 0) return err;
    if (tlen > fs.capacity - fs.used) return WAFT_WASI_ERRNO_NOSPC;
    uint16_t made;
    err = node_new(w.parent, w.name, w.len, SYM_T, now, &made);
    if (err != 0) return err;
    err = resize(made, (uint32_t)tlen); /* room checked above: never fails */
    if (err != 0) {
        N(made)->type = 0;
        return err;
    }
    memcpy(fs.pool + N(made)->off, target, tlen);
    return 0;
}

uint16_t waft_ramfs_readlink(uint16_t dir, const char *path, uint8_t *buf, size_t len, size_t *used) {
    where w;
    uint16_t err = resolve(dir, path, false, &w);
    if (err != 0) return err;
    if (w.node == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
    waft_ramfs_node *n = N(w.node);
    if (n->type != SYM_T) return WAFT_WASI_ERRNO_INVAL;
    size_t n_bytes = n->size < len ? n->size : len; /* cut to the buffer, as the witx says */
    memcpy(buf, n->in_pool ? fs.pool + n->off : n->seed, n_bytes);
    *used = n_bytes;
    return 0;
}

/* The rest of link once the old path is resolved: see `found`. */
__attribute__((noinline)) static uint16_t link_to(const found *from, uint16_t new_dir, const char *new_path,
                                                  uint64_t now) {
    where to;
    uint16_t err = resolve(new_dir, new_path, false, &to);
    if (err == 0) err = new_name(&to);
    if (err != 0) return err;
    if (N(from->node)->type == DIR_T) return WAFT_WASI_ERRNO_PERM; /* no hard links to directories */
    uint16_t made;
    err = node_new(to.parent, to.name, to.len, LINK_T, now, &made);
    if (err != 0) return err;
    N(made)->target = from->node;
    N(from->node)->ctim = now;
    return 0;
}

uint16_t waft_ramfs_link(uint16_t old_dir, const char *old_path, bool follow, uint16_t new_dir,
                         const char *new_path, uint64_t now) {
    found from;
    uint16_t err = resolve_found(old_dir, old_path, follow, &from);
    if (err != 0) return err;
    if (from.node == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
    return link_to(&from, new_dir, new_path, now);
}

/* The rest of rename once the old path is resolved: see `found`. */
__attribute__((noinline)) static uint16_t rename_to(const found *from, uint16_t new_dir, const char *new_path,
                                                    uint64_t now) {
    where to;
    uint16_t err = resolve(new_dir, new_path, false, &to);
    if (err != 0) return err;
    if (from->len == 0 || to.len == 0) return WAFT_WASI_ERRNO_BUSY; /* "." or "..": not renameable */
    uint16_t src = from->entry;
    bool is_dir = N(from->node)->type == DIR_T;
    if ((to.slash || from->slash) && !is_dir) return WAFT_WASI_ERRNO_NOTDIR;
    if (is_dir) {
        /* A directory cannot move beneath itself. */
        for (uint16_t d = to.parent;; d = N(d)->parent) {
            if (d == src) return WAFT_WASI_ERRNO_INVAL;
            if (d == 0 || d == N(d)->parent) break;
        }
    }
    if (to.entry == src) return 0;
    if (to.node != RAMFS_NONE) {
        waft_ramfs_node *t = N(to.node);
        if (t->type == DIR_T && !is_dir) return WAFT_WASI_ERRNO_ISDIR;
        if (t->type != DIR_T && is_dir) return WAFT_WASI_ERRNO_NOTDIR;
        if (to.node == from->node) return 0; /* two names of one file: POSIX does nothing */
        if (t->type == DIR_T && !dir_empty(to.node)) return WAFT_WASI_ERRNO_NOTEMPTY;
        if (t->type == DIR_T && t->opens > 0) return WAFT_WASI_ERRNO_BUSY;
        if (t->type == DIR_T) {
            node_remove(to.node, now);
        } else {
            entry_remove(to.entry, now);
        }
    }
    waft_ramfs_node *n = N(src);
    N(n->parent)->mtim = N(n->parent)->ctim = now;
    N(to.parent)->mtim = N(to.parent)->ctim = now;
    n->parent = to.parent;
    memcpy(n->name, to.name, to.len);
    n->name[to.len] = '\0';
    N(from->node)->ctim = now;
    return 0;
}

uint16_t waft_ramfs_rename(uint16_t old_dir, const char *old_path, uint16_t new_dir, const char *new_path,
                           uint64_t now) {
    found from;
    uint16_t err = resolve_found(old_dir, old_path, false, &from);
    if (err != 0) return err;
    if (from.node == RAMFS_NONE) return WAFT_WASI_ERRNO_NOENT;
    return rename_to(&from, new_dir, new_path, now);
}

/* ------------------------------------------------------------------------- */
/* Node operations                                                            */
/* ------------------------------------------------------------------------- */

void waft_ramfs_stat_node(uint16_t node, waft_ramfs_stat *out) {
    waft_ramfs_node *n = N(node);
    out->ino = (uint64_t)node + 1;
    out->type = n->type;
    out->nlink = nlink_of(node);
    out->size = n->type == DIR_T ? 0 : n->size; /* a symlink's size is its target's length */
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
    if (n->type != REG_T) return n->type == DIR_T ? WAFT_WASI_ERRNO_ISDIR : WAFT_WASI_ERRNO_INVAL;
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
            *type = N(inode_of(i))->type;
            *ino = (uint64_t)inode_of(i) + 1;
            return 0;
        }
    }
    *end = true;
    return 0;
}
