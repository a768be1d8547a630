/* stdin through fd_read and poll_oneoff: wait until stdin is readable, then
 * copy it to stdout in upper case; fd 0 is a pipe, so no seek rights. */
#include <ctype.h>
#include <stdio.h>
#include <wasi/api.h>

int main(void) {
    __wasi_subscription_t sub = {.userdata = 7, .u = {.tag = __WASI_EVENTTYPE_FD_READ, .u = {.fd_read = {.file_descriptor = 0}}}};
    __wasi_event_t ev;
    __wasi_size_t n = 0;
    __wasi_errno_t err = __wasi_poll_oneoff(&sub, &ev, 1, &n);
    printf("poll: err=%d n=%d userdata=%d type=%d error=%d\n", err, (int)n, (int)ev.userdata, ev.type, ev.error);
    __wasi_fdstat_t st;
    err = __wasi_fd_fdstat_get(0, &st);
    printf("stdin seekable: %s\n", (st.fs_rights_base & __WASI_RIGHTS_FD_SEEK) ? "yes" : "no");
    __wasi_filesize_t pos;
    printf("tell: %d\n", __wasi_fd_tell(0, &pos));
    int c;
    while ((c = getchar()) != EOF) {
        putchar(toupper(c));
    }
    return 0;
}
