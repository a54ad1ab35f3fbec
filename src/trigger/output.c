/* Where a report goes. A report is rendered whole before it is written, and a file report is a new
   file: created 0600 with O_EXCL and O_NOFOLLOW, so it never follows a planted symbolic link and
   never truncates another file (another report, or anything an attacker pointed the path at). A
   path may also name a character device, or the process's own stdout or stderr. */
#include "trigger/output.h"

#include "core/base.h"
#include "core/options.h"
#include "format/format.h"

#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* A new file; or, reached through symbolic links or not, the process's own stdout or stderr
   (/dev/stderr), or an existing character device (/dev/null, /dev/tty): writing there truncates
   nothing. A device is opened without blocking (a FIFO swapped in meanwhile would wait for a
   reader), checked to be the one that was looked at, then made blocking for the write. Anything
   else that exists, a regular file above all, is refused: -1, errno EEXIST. */
static int open_output(const char *path)
{
    struct stat seen, opened;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST)
        return fd;
    if (stat(path, &seen) != 0)
        return errno = EEXIST, -1;
    /* /dev/stderr, whatever it is, unless it is no longer the one the process started with */
    for (int std = STDOUT_FILENO; std <= STDERR_FILENO; std++)
        if (fstat(std, &opened) == 0 && opened.st_dev == seen.st_dev &&
            opened.st_ino == seen.st_ino)
            return tl_std_stream_is_ours(std) ? fcntl(std, F_DUPFD_CLOEXEC, 0)
                                              : (errno = EEXIST, -1);
    if (!S_ISCHR(seen.st_mode))
        return errno = EEXIST, -1;
    fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0 &&
        (fstat(fd, &opened) != 0 || !S_ISCHR(opened.st_mode) || opened.st_rdev != seen.st_rdev ||
         fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)) {
        close(fd);
        return errno = EEXIST, -1;
    }
    return fd;
}

/* Creates a new file at path and writes the report; the error's words, or NULL when all of it
   was written (errno says why). */
static const char *write_file(const char *path, const char *buf, size_t len)
{
    int fd = open_output(path);
    if (fd < 0)
        return "cannot create";
    bool whole = tl_write_all(fd, buf, len, false);
    TL_KEEP_ERRNO;
    close(fd);
    return whole ? NULL : "cannot write all of";
}

/* When the standard stream a report was meant for is no longer the one the process started with
   (the program closed it, and perhaps got its number back for a data file of its own), the report
   goes to a new file of its own in $TMPDIR (or /tmp): threadleak.PID.N.EXT, made as any report
   file is. No line says so: the program's stderr is gone. */
static void write_elsewhere(unsigned seq, const char *buf, size_t len)
{
    static const char *const ext[] = {[TL_FMT_TEXT] = "txt",
                                      [TL_FMT_FULL] = "txt",
                                      [TL_FMT_JSON] = "json",
                                      [TL_FMT_PPROF] = "pb.gz",
                                      [TL_FMT_FOLDED] = "folded"};
    const char *dir = secure_getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/threadleak.%d.%u.%s", dir && *dir ? dir : "/tmp", (int)getpid(),
             seq, ext[tl_opt.format]);
    write_file(path, buf, len);
}

/* To stdout or stderr, if it is still the file the process started with, else elsewhere. */
static void write_stream(int stream, unsigned seq, const char *buf, size_t len)
{
    if (!tl_std_stream_is_ours(stream)) {
        write_elsewhere(seq, buf, len);
        return;
    }
    /* Keep the program's buffered output ahead of the report, without waiting on a stream that a
       stuck thread may hold locked. */
    if (stream == STDOUT_FILENO && ftrylockfile(stdout) == 0) {
        fflush_unlocked(stdout);
        funlockfile(stdout);
    }
    tl_write_all(stream, buf, len, false);
}

void tl_output_write(const char *target, const char *buf, size_t len)
{
    TL_KEEP_ERRNO;
    unsigned seq = atomic_fetch_add(&sequence, 1) + 1;
    char path[PATH_MAX];
    const char *failed;
    if (strcmp(target, "stdout") == 0) {
        write_stream(STDOUT_FILENO, seq, buf, len);
    } else if (strcmp(target, "stderr") == 0) {
        write_stream(STDERR_FILENO, seq, buf, len);
    } else if (!expand(target, seq, path, sizeof path)) {
        tl_warn("report path '%s' is too long; writing the report to stderr", target);
        write_stream(STDERR_FILENO, seq, buf, len);
    } else if ((failed = write_file(path, buf, len))) {
        tl_warn("%s %s (%s); writing the report to stderr", failed, path, strerror(errno));
        write_stream(STDERR_FILENO, seq, buf, len);
    }
}

void tl_output_report(const char *trigger, const tl_filter *filter)
{
    tl_report *r = tl_report_collect(trigger, filter);
    size_t len;
    char *buf = r ? tl_report_render(r, tl_opt.format, &len) : NULL;
    if (buf)
        tl_output_write(tl_opt.output, buf, len);
    else
        tl_warn("out of memory writing a report (%s)", trigger);
    free(buf);
    tl_report_free(r);
}
