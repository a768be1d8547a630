/* Files and directories in a preopened folder through wasi-libc's ordinary
 * API: stdio copy, stat, mkdir, rename, readdir walk, seek/tell, truncate,
 * pread/pwrite, links, symlinks, times, sync, advise, allocate, flags, and
 * the errors POSIX programs expect (EEXIST, ENOENT, ENOTEMPTY, EISDIR...). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            printf("FAILED line %d: %s (errno %d: %s)\n", __LINE__, #cond, errno, strerror(errno)); \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

static int compare(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Print a directory tree, names sorted, "." and ".." left out. */
static void walk(const char *path, int depth) {
    DIR *d = opendir(path);
    CHECK(d != NULL);
    char *names[64];
    int n = 0;
    struct dirent *e;
    int dots = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            dots++;
            continue;
        }
        CHECK(n < 64);
        names[n++] = strdup(e->d_name);
    }
    CHECK(dots == 2);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], compare);
    for (int i = 0; i < n; i++) {
        char child[256];
        snprintf(child, sizeof child, "%s/%s", path, names[i]);
        struct stat st;
        CHECK(lstat(child, &st) == 0);
        const char *kind = S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : "file";
        printf("%*s%s (%s, %lld)\n", depth * 2, "", names[i], kind, S_ISREG(st.st_mode) ? (long long)st.st_size : 0LL);
        if (S_ISDIR(st.st_mode)) {
            walk(child, depth + 1);
        }
        free(names[i]);
    }
}

int main(void) {
    /* stdio: write, then copy with fread/fwrite. */
    FILE *f = fopen("fs/data.txt", "w");
    CHECK(f != NULL);
    for (int i = 0; i < 100; i++) {
        fprintf(f, "line %03d\n", i);
    }
    CHECK(fclose(f) == 0);
    FILE *in = fopen("fs/data.txt", "r"), *out = fopen("fs/copy.txt", "w");
    CHECK(in != NULL && out != NULL);
    char buf[333];
    size_t got, total = 0;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0) {
        CHECK(fwrite(buf, 1, got, out) == got);
        total += got;
    }
    fclose(in);
    fclose(out);
    printf("copied %zu bytes\n", total);
    struct stat st;
    CHECK(stat("fs/copy.txt", &st) == 0);
    printf("copy size %lld, regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));

    /* Read back a line in the middle with lseek + read, and with pread. */
    int fd = open("fs/copy.txt", O_RDWR);
    CHECK(fd >= 0);
    CHECK(lseek(fd, 9 * 50, SEEK_SET) == 450);
    char line[10] = {0};
    CHECK(read(fd, line, 9) == 9);
    printf("at 450: %.8s, now at %lld\n", line, (long long)lseek(fd, 0, SEEK_CUR));
    CHECK(pread(fd, line, 8, 9 * 99) == 8);
    printf("pread 891: %.8s, still at %lld\n", line, (long long)lseek(fd, 0, SEEK_CUR));
    CHECK(pwrite(fd, "LINE", 4, 0) == 4);
    CHECK(pread(fd, line, 8, 0) == 8);
    printf("pwrite: %.8s\n", line);
    CHECK(lseek(fd, -9, SEEK_END) == 891);
    CHECK(ftruncate(fd, 18) == 0);
    CHECK(fstat(fd, &st) == 0);
    printf("truncated to %lld\n", (long long)st.st_size);
    CHECK(fsync(fd) == 0);
    CHECK(fdatasync(fd) == 0);
    CHECK(posix_fadvise(fd, 0, 18, POSIX_FADV_SEQUENTIAL) == 0);
    CHECK(posix_fallocate(fd, 0, 4096) == 0);
    CHECK(fstat(fd, &st) == 0);
    printf("allocated to %lld\n", (long long)st.st_size);
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl >= 0 && (fl & O_APPEND) == 0);
    CHECK(fcntl(fd, F_SETFL, fl | O_APPEND) == 0);
    printf("append flag %s\n", (fcntl(fd, F_GETFL) & O_APPEND) ? "set" : "clear");
    CHECK(close(fd) == 0);

    /* Directories, rename, links. */
    CHECK(mkdir("fs/sub", 0755) == 0);
    CHECK(mkdir("fs/sub/deeper", 0755) == 0);
    errno = 0;
    CHECK(mkdir("fs/sub", 0755) != 0 && errno == EEXIST);
    CHECK(rename("fs/copy.txt", "fs/sub/moved.txt") == 0);
    errno = 0;
    CHECK(open("fs/copy.txt", O_RDONLY) < 0 && errno == ENOENT);
    CHECK(link("fs/data.txt", "fs/sub/hard.txt") == 0);
    CHECK(stat("fs/data.txt", &st) == 0);
    printf("nlink after link: %d\n", (int)st.st_nlink);
    CHECK(symlink("../data.txt", "fs/sub/soft") == 0);
    char target[64];
    ssize_t tn = readlink("fs/sub/soft", target, sizeof target);
    CHECK(tn > 0);
    printf("readlink: %.*s\n", (int)tn, target);
    CHECK(stat("fs/sub/soft", &st) == 0 && S_ISREG(st.st_mode));
    CHECK(lstat("fs/sub/soft", &st) == 0 && S_ISLNK(st.st_mode));
    f = fopen("fs/sub/soft", "r");
    CHECK(f != NULL && fgets(line, sizeof line, f) != NULL);
    fclose(f);
    printf("through the symlink: %s", line);
    errno = 0;
    CHECK(open("fs/sub/x", O_CREAT | O_EXCL | O_WRONLY, 0644) >= 0);
    errno = 0;
    CHECK(open("fs/sub/x", O_CREAT | O_EXCL | O_WRONLY, 0644) < 0 && errno == EEXIST);

    /* Times: set, read back; then "now". */
    struct timespec times[2] = {{.tv_sec = 1000000000, .tv_nsec = 5}, {.tv_sec = 1234567890, .tv_nsec = 0}};
    CHECK(utimensat(AT_FDCWD, "fs/data.txt", times, 0) == 0);
    CHECK(stat("fs/data.txt", &st) == 0);
    printf("atime %lld.%09ld mtime %lld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec);
    fd = open("fs/data.txt", O_RDONLY);
    CHECK(fd >= 0);
    /* This wasi-libc's <sys/stat.h> gives UTIME_NOW/UTIME_OMIT values its own
     * futimens does not know (EINVAL before any call), so "now" goes raw. */
    CHECK(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW) == 0);
    CHECK(fstat(fd, &st) == 0);
    printf("mtime now is recent: %d, atime kept: %d\n", st.st_mtim.tv_sec > 1600000000, st.st_atim.tv_sec == 1000000000);
    close(fd);

    printf("tree:\n");
    walk("fs", 1);

    /* Removal and its errors. */
    errno = 0;
    CHECK(rmdir("fs/sub") != 0 && errno == ENOTEMPTY);
    errno = 0;
    CHECK(unlink("fs/sub") != 0 && (errno == EISDIR || errno == EPERM));
    errno = 0;
    CHECK(rmdir("fs/data.txt") != 0 && errno == ENOTDIR);
    CHECK(unlink("fs/sub/soft") == 0 && unlink("fs/sub/hard.txt") == 0 && unlink("fs/sub/moved.txt") == 0);
    CHECK(unlink("fs/sub/x") == 0 && rmdir("fs/sub/deeper") == 0 && rmdir("fs/sub") == 0);
    errno = 0;
    CHECK(stat("fs/sub", &st) != 0 && errno == ENOENT);
    printf("tree after cleanup:\n");
    walk("fs", 1);
    return 0;
}
