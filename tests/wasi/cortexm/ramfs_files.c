/* Files on a board: the RAM filesystem seeded at build time from
 * tests/wasi/cortexm/seed/ (preopened as "seed"), through wasi-libc's stdio
 * and POSIX calls: read a seeded file, copy it with stdio, change a seeded
 * file (copy-on-write out of flash), walk the tree, seek, truncate, times,
 * rename, unlink, mkdir/rmdir and their errors, hard and symbolic links,
 * long names, and filling it up (ENOSPC). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond)                                                                                 \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            printf("FAILED line %d: %s (errno %d: %s)\n", __LINE__, #cond, errno, strerror(errno)); \
            exit(1);                                                                                \
        }                                                                                           \
    } while (0)

static int compare(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk(const char *path, int depth) {
    DIR *d = opendir(path);
    CHECK(d != NULL);
    char *names[16];
    int n = 0, dots = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            dots++;
            continue;
        }
        CHECK(n < 16);
        names[n++] = strdup(e->d_name);
    }
    CHECK(dots == 2);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], compare);
    for (int i = 0; i < n; i++) {
        char child[128];
        snprintf(child, sizeof child, "%s/%s", path, names[i]);
        struct stat st;
        CHECK(stat(child, &st) == 0);
        printf("%*s%s (%s, %lld)\n", depth * 2, "", names[i], S_ISDIR(st.st_mode) ? "dir" : "file",
               S_ISREG(st.st_mode) ? (long long)st.st_size : 0LL);
        if (S_ISDIR(st.st_mode)) walk(child, depth + 1);
        free(names[i]);
    }
}

int main(void) {
    char line[64];
    FILE *f = fopen("seed/hello.txt", "r");
    CHECK(f != NULL && fgets(line, sizeof line, f) != NULL);
    fclose(f);
    printf("seeded: %s", line);
    struct stat st;
    CHECK(stat("seed/hello.txt", &st) == 0);
    printf("seeded mtime is the host's: %d\n", st.st_mtim.tv_sec > 1600000000);

    /* Copy with stdio. */
    FILE *in = fopen("seed/hello.txt", "r"), *out = fopen("seed/copy.txt", "w");
    CHECK(in != NULL && out != NULL);
    char buf[7];
    size_t got, total = 0;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0) {
        CHECK(fwrite(buf, 1, got, out) == got);
        total += got;
    }
    fclose(in);
    CHECK(fclose(out) == 0);
    printf("copied %zu bytes\n", total);

    /* Change a seeded file: it leaves flash for RAM. */
    f = fopen("seed/sub/nested.txt", "a");
    CHECK(f != NULL && fputs("appended\n", f) >= 0 && fclose(f) == 0);
    f = fopen("seed/sub/nested.txt", "r");
    CHECK(f != NULL);
    total = fread(line, 1, sizeof line - 1, f);
    line[total] = '\0';
    fclose(f);
    printf("after append (%zu bytes): %s", total, line);

    /* Seek, read, overwrite, truncate. */
    int fd = open("seed/copy.txt", O_RDWR);
    CHECK(fd >= 0);
    CHECK(lseek(fd, 6, SEEK_SET) == 6);
    CHECK(read(fd, line, 4) == 4);
    printf("at 6: %.4s, now at %lld\n", line, (long long)lseek(fd, 0, SEEK_CUR));
    CHECK(pwrite(fd, "HELLO", 5, 0) == 5);
    CHECK(pread(fd, line, 10, 0) == 10);
    printf("pwrite: %.10s\n", line);
    CHECK(ftruncate(fd, 5) == 0);
    CHECK(fstat(fd, &st) == 0);
    printf("truncated to %lld\n", (long long)st.st_size);
    CHECK(lseek(fd, 10, SEEK_END) == 15 && write(fd, "!", 1) == 1);
    CHECK(fstat(fd, &st) == 0);
    printf("write past the end: size %lld\n", (long long)st.st_size);
    CHECK(close(fd) == 0);

    /* Times. */
    struct timespec times[2] = {{.tv_sec = 1000000000, .tv_nsec = 5}, {.tv_sec = 1234567890, .tv_nsec = 0}};
    CHECK(utimensat(AT_FDCWD, "seed/copy.txt", times, 0) == 0);
    CHECK(stat("seed/copy.txt", &st) == 0);
    printf("atime %lld.%09ld mtime %lld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long long)st.st_mtim.tv_sec);

    /* Directories, rename, unlink. */
    CHECK(mkdir("seed/new", 0755) == 0);
    errno = 0;
    CHECK(mkdir("seed/new", 0755) != 0 && errno == EEXIST);
    CHECK(rename("seed/copy.txt", "seed/new/moved.txt") == 0);
    errno = 0;
    CHECK(open("seed/copy.txt", O_RDONLY) < 0 && errno == ENOENT);
    CHECK(rename("seed/sub/deeper", "seed/new/deeper") == 0);
    errno = 0;
    CHECK(rename("seed/new", "seed/new/deeper/inside") != 0 && errno == EINVAL);
    printf("tree:\n");
    walk("seed", 1);

    errno = 0;
    CHECK(rmdir("seed/new") != 0 && errno == ENOTEMPTY);
    errno = 0;
    CHECK(rmdir("seed/hello.txt") != 0 && errno == ENOTDIR);
    errno = 0;
    CHECK(open("seed/../outside", O_CREAT | O_WRONLY, 0644) < 0);
    printf("escape: %s\n", errno == EPERM ? "EPERM" : strerror(errno));

    /* Links: a hard link is the file under a second name (which keeps it
     * when the first goes); a symlink holds its target and is followed
     * beneath the preopen only. */
    struct stat first, second;
    CHECK(link("seed/hello.txt", "seed/hard") == 0);
    CHECK(stat("seed/hello.txt", &first) == 0 && stat("seed/hard", &second) == 0);
    printf("link: same inode %d, nlink %lld\n", first.st_ino == second.st_ino, (long long)second.st_nlink);
    errno = 0;
    CHECK(link("seed/sub", "seed/dirlink") != 0);
    printf("link to a directory: %s\n", errno == EPERM ? "EPERM" : strerror(errno));
    CHECK(unlink("seed/hello.txt") == 0 && stat("seed/hard", &second) == 0);
    printf("after unlinking the first name: nlink %lld, size %lld\n", (long long)second.st_nlink,
           (long long)second.st_size);
    CHECK(rename("seed/hard", "seed/hello.txt") == 0);
    CHECK(symlink("sub/nested.txt", "seed/soft") == 0);
    char target[32] = {0};
    ssize_t n = readlink("seed/soft", target, 6);
    CHECK(lstat("seed/soft", &st) == 0);
    printf("symlink: %s, %lld bytes, readlink into 6: %.*s\n", S_ISLNK(st.st_mode) ? "a link" : "not a link",
           (long long)st.st_size, (int)n, target);
    fd = open("seed/soft", O_RDONLY);
    CHECK(fd >= 0 && read(fd, line, 11) == 11 && close(fd) == 0);
    printf("through it: %.11s\n", line);
    errno = 0;
    CHECK(open("seed/soft", O_RDONLY | O_NOFOLLOW) < 0);
    printf("O_NOFOLLOW: %s\n", errno == ELOOP ? "ELOOP" : strerror(errno));
    CHECK(symlink("sub", "seed/dirsoft") == 0 && stat("seed/dirsoft/nested.txt", &st) == 0);
    errno = 0;
    CHECK(symlink("x", "seed/slash/") != 0);
    printf("symlink named with a slash: %s\n", errno == ENOENT ? "ENOENT" : strerror(errno));
    CHECK(symlink("../..", "seed/up") == 0);
    errno = 0;
    CHECK(open("seed/up/etc", O_RDONLY) < 0);
    printf("symlink out of the preopen: %s\n", errno == EPERM ? "EPERM" : strerror(errno));
    CHECK(unlink("seed/soft") == 0 && unlink("seed/dirsoft") == 0 && unlink("seed/up") == 0);

    /* Names: up to the board's WAFT_RAMFS_NAME_MAX (127 bytes). */
    char name[140] = "seed/";
    memset(name + 5, 'n', 127);
    CHECK(mkdir(name, 0755) == 0 && rmdir(name) == 0);
    memset(name + 5, 'n', 128);
    errno = 0;
    CHECK(mkdir(name, 0755) != 0);
    printf("127-byte name: made; 128 bytes: %s\n", errno == ENAMETOOLONG ? "ENAMETOOLONG" : strerror(errno));

    /* An open file outlives its name. */
    fd = open("seed/new/moved.txt", O_RDONLY);
    CHECK(fd >= 0 && unlink("seed/new/moved.txt") == 0);
    CHECK(read(fd, line, 5) == 5);
    printf("read after unlink: %.5s\n", line);
    CHECK(close(fd) == 0);
    CHECK(unlink("seed/new/deeper/x.txt") == 0 && rmdir("seed/new/deeper") == 0 && rmdir("seed/new") == 0);

    /* Fill the RAM filesystem: a short write, then ENOSPC. */
    fd = open("seed/big", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    static char chunk[4096];
    memset(chunk, 'z', sizeof chunk);
    long written = 0;
    ssize_t w;
    while ((w = write(fd, chunk, sizeof chunk)) > 0) written += w;
    printf("filled after %s bytes: %s\n", written > 4096 ? "some" : "few", errno == ENOSPC ? "ENOSPC" : strerror(errno));
    CHECK(close(fd) == 0 && unlink("seed/big") == 0);
    fd = open("seed/again", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && write(fd, chunk, 4096) == 4096 && close(fd) == 0);
    printf("space back after unlink: 1\n");
    CHECK(unlink("seed/again") == 0);
    printf("tree after cleanup:\n");
    walk("seed", 1);
    return 0;
}
