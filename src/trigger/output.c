/* Where a report goes. A report is rendered whole before it is written, and a file report is a new
   file: created 0600 with O_EXCL and O_NOFOLLOW, so it never follows a planted symbolic link and
   never truncates another file (another report, or anything an attacker pointed the path at). */
#include "trigger/output.h"

#include "core/base.h"

#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_uint sequence;

bool tl_write_all(int fd, const char *buf, size_t len, bool socket)
{
    while (len) {
        /* A socket whose reader left must not raise SIGPIPE in the program. */
        ssize_t n = socket ? send(fd, buf, len, MSG_NOSIGNAL) : write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* %p: the pid, %n: this report's sequence number in the process (from 1), %%: a '%'. */
static bool expand(const char *pattern, unsigned seq, char *path, size_t size)
{
    size_t n = 0;
    for (const char *p = pattern; *p && n < size; p++) {
        if (p[0] == '%' && p[1] == 'p')
            n += (size_t)snprintf(path + n, size - n, "%d", (int)getpid()), p++;
        else if (p[0] == '%' && p[1] == 'n')
            n += (size_t)snprintf(path + n, size - n, "%u", seq), p++;
        else if (p[0] == '%' && p[1] == '%')
            path[n++] = '%', p++;
        else
            path[n++] = *p;
    }
    if (n >= size)
        return false;
    path[n] = 0;
    return true;
}

void tl_output_write(const char *target, const char *buf, size_t len)
{
    int saved = errno;
    unsigned seq = atomic_fetch_add(&sequence, 1) + 1;
    if (strcmp(target, "stdout") == 0) {
        /* Keep the program's buffered output ahead of the report, without waiting on a stream
           that a stuck thread may hold locked. */
        if (ftrylockfile(stdout) == 0) {
            fflush_unlocked(stdout);
            funlockfile(stdout);
        }
        tl_write_all(STDOUT_FILENO, buf, len, false);
    } else if (strcmp(target, "stderr") == 0) {
        tl_write_all(STDERR_FILENO, buf, len, false);
    } else {
        char path[PATH_MAX];
        int fd = -1;
        if (!expand(target, seq, path, sizeof path))
            tl_warn("report path '%s' is too long; writing the report to stderr", target);
        else if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
            tl_warn("cannot create %s (%s); writing the report to stderr", path, strerror(errno));
        if (fd < 0) {
            tl_write_all(STDERR_FILENO, buf, len, false);
        } else {
            if (!tl_write_all(fd, buf, len, false))
                tl_warn("cannot write %s (%s); the report is incomplete", path, strerror(errno));
            close(fd);
        }
    }
    errno = saved;
}
