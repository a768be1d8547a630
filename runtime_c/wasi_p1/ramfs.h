/*
 * ramfs.h: the RAM filesystem the bare-metal WASI port preopens: a tree of
 * directories and regular files in fixed, caller-provided storage (no malloc).
 *
 * Storage is two arrays the firmware's generated configuration file declares
 * (waftkit/firmware/wasi_firmware.py), sized at build time:
 *   - a node table (WAFT_RAMFS_NODES entries): one node per file or
 *     directory, with its name, parent, size and times; node 0 is the root;
 *   - a byte pool (WAFT_RAMFS_BYTES): the contents of files that have been
 *     written, packed end to end.  Growing a file moves the files after it
 *     (memmove), so there is never fragmentation: every free byte is usable.
 * Files seeded at build time keep their contents in flash (`seed`) until they
 * are first changed: copy-on-write, so read-only data costs no RAM.
 *
 * Symbolic links keep their target in the pool like file contents (no
 * absolute targets: PERM; followed beneath the directory a path is relative
 * to, as every path).  A hard link is a node of its own (RAMFS_HARD_LINK)
 * naming another: removing a file's own name hands it to one of its links.
 * Not there, by design: permissions, hard links to directories (PERM).
 * Paths are resolved beneath the directory they are relative to: `..` above
 * it is PERM, as the host port's sandbox answers.
 *
 * Every function returns a WASI errno (0 on success).
 */
#ifndef WAFT_RAMFS_H
#define WAFT_RAMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest name of one file or directory (bytes, NUL excluded).  It sizes
 * every node, so the firmware's configuration and the runtime library must
 * agree: Waft's board builds define it for both (waftkit/firmware/wasi_firmware.py). */
#ifndef WAFT_RAMFS_NAME_MAX
#define WAFT_RAMFS_NAME_MAX 31
#endif

/* "No node". */
#define RAMFS_NONE 0xFFFFu

/* The type of a node that is another name (a hard link) of node `target`. */
#define RAMFS_HARD_LINK 0x80u

/* One file or directory. */
typedef struct waft_ramfs_node {
    uint8_t type;                      /* 0: free; WAFT_WASI_FILETYPE_DIRECTORY, _REGULAR_FILE,
                                        * _SYMBOLIC_LINK (contents: the target) or RAMFS_HARD_LINK */
    bool in_pool;                      /* contents in the pool at `off`; else in `seed` (flash, read-only) */
    bool unlinked;                     /* removed while open: freed at the last close */
    uint16_t parent;                   /* the directory holding it (root: itself) */
    uint16_t opens;                    /* open handles on it */
    uint16_t target;                   /* RAMFS_HARD_LINK: the node it names */
    char name[WAFT_RAMFS_NAME_MAX + 1];
    const uint8_t *seed;               /* build-time contents, while !in_pool */
    uint32_t off;                      /* contents in the pool, while in_pool */
    uint32_t size;                     /* file size in bytes (0 for directories) */
    uint64_t atim, mtim, ctim;         /* nanoseconds since the Unix epoch */
} waft_ramfs_node;

/* One file or directory to create at mount, in an order where parents come
 * before their children.  `path` is relative to the root ("fs/data.txt"). */
typedef struct waft_ramfs_seed {
    const char *path;
    uint8_t type;                      /* WAFT_WASI_FILETYPE_DIRECTORY or _REGULAR_FILE */
    const uint8_t *data;               /* file contents (stay in flash until written) */
    uint32_t size;
    uint64_t mtim;                     /* the host file's mtime, ns */
} waft_ramfs_seed;

/* Attributes, as wasi_filestat wants them. */
typedef struct waft_ramfs_stat {
    uint64_t ino, nlink, size, atim, mtim, ctim;
    uint8_t type;
} waft_ramfs_stat;

/* Set up the filesystem on `nodes` (n_nodes, at least 1) and `pool` (bytes),
 * then create every seed entry.  `now` is the time stamped on the root. */
uint16_t waft_ramfs_mount(waft_ramfs_node *nodes, uint16_t n_nodes, uint8_t *pool, uint32_t bytes,
                          const waft_ramfs_seed *seed, size_t n_seed, uint64_t now);

/* The node of `path` relative to the root ("fs", "/fs", "" or "/" for the root). */
uint16_t waft_ramfs_find(const char *path, uint16_t *node);

/* Bytes of the pool in use / in all. */
uint32_t waft_ramfs_used(void);
uint32_t waft_ramfs_capacity(void);

/* --- by path, relative to directory node `dir` ---------------------------- */

/* Open (and with `creat`, create) `path`: EXIST with `excl` when it exists,
 * NOTDIR with `directory` when it is a file, ISDIR when a directory is opened
 * for writing; `trunc` empties the file.  `now` stamps created files.
 * `follow`: a symlink as the last component is followed, else LOOP.
 * waft_ramfs_open follows. */
uint16_t waft_ramfs_open_at(uint16_t dir, const char *path, bool follow, bool creat, bool excl, bool directory,
                            bool trunc, bool write, uint64_t now, uint16_t *node);
uint16_t waft_ramfs_open(uint16_t dir, const char *path, bool creat, bool excl, bool directory, bool trunc,
                         bool write, uint64_t now, uint16_t *node);
uint16_t waft_ramfs_mkdir(uint16_t dir, const char *path, uint64_t now);
uint16_t waft_ramfs_path_stat(uint16_t dir, const char *path, bool follow, waft_ramfs_stat *out);
uint16_t waft_ramfs_path_node(uint16_t dir, const char *path, bool follow, uint16_t *node);
/* A symlink at `path` to `target` (NOSPC when the pool cannot hold it). */
uint16_t waft_ramfs_symlink(const char *target, uint16_t dir, const char *path, uint64_t now);
/* The target of the symlink at `path`, cut to `len` bytes; INVAL for anything else. */
uint16_t waft_ramfs_readlink(uint16_t dir, const char *path, uint8_t *buf, size_t len, size_t *used);
/* Another name `new_path` for the file or symlink at `old_path`. */
uint16_t waft_ramfs_link(uint16_t old_dir, const char *old_path, bool follow, uint16_t new_dir,
                         const char *new_path, uint64_t now);
uint16_t waft_ramfs_rmdir(uint16_t dir, const char *path);
uint16_t waft_ramfs_unlink(uint16_t dir, const char *path);
uint16_t waft_ramfs_rename(uint16_t old_dir, const char *old_path, uint16_t new_dir, const char *new_path,
                           uint64_t now);

/* --- by node ---------------------------------------------------------------- */

void waft_ramfs_stat_node(uint16_t node, waft_ramfs_stat *out);
/* Times: each of atim/mtim is set when its `set_*` is true. */
void waft_ramfs_set_times(uint16_t node, bool set_atim, uint64_t atim, bool set_mtim, uint64_t mtim);
uint16_t waft_ramfs_read(uint16_t node, uint64_t offset, uint8_t *buf, size_t len, size_t *done);
/* Writes past the end grow the file (zero-filled gap); NOSPC when the pool is full. */
uint16_t waft_ramfs_write(uint16_t node, uint64_t offset, const uint8_t *buf, size_t len, uint64_t now,
                          size_t *done);
uint16_t waft_ramfs_set_size(uint16_t node, uint64_t size, uint64_t now);
uint32_t waft_ramfs_size(uint16_t node);

/* Entry `cookie` of directory `node`: 0 is ".", 1 is "..", then the children
 * in creation-slot order.  *end past the last one.  `name` gets
 * WAFT_RAMFS_NAME_MAX + 1 bytes at most. */
uint16_t waft_ramfs_readdir(uint16_t node, uint64_t cookie, char *name, size_t *namlen, uint8_t *type,
                            uint64_t *ino, bool *end);

/* Open-handle counting: an unlinked file's storage goes at its last close. */
void waft_ramfs_retain(uint16_t node);
void waft_ramfs_release(uint16_t node);

#endif /* WAFT_RAMFS_H */
