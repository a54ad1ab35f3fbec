/* The metrics file. node_exporter's textfile collector, like any reader, may read it at any moment:
   it is written whole to a temporary file in the same directory, whose name does not end in
   ".prom", then renamed over the old one. It is made with mode 0644 less the umask (the collector
   usually runs as another user), never through a symbolic link: the rename replaces a link at the
   path rather than following it. */
#include "trigger/metrics.h"

#include "format/format.h"
#include "trigger/output.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMMAND_MAX 256

/* The process's arguments, space-separated, cut to COMMAND_MAX bytes; read once. */
static const char *command(void)
{
    static char text[COMMAND_MAX + 1];
    static bool known;
    if (known)
        return text;
    known = true;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, text, COMMAND_MAX) : 0;
    if (fd >= 0)
        close(fd);
    n = n > 0 ? n : 0;
    text[n] = 0;
    while (n > 0 && text[n - 1] == 0) /* the last argument's terminator */
        n--;
    for (ssize_t i = 0; i < n; i++)
        if (text[i] == 0)
            text[i] = ' ';
    return text;
}

/* Writes buf to a new file beside path, then renames it over path; false with errno set. */
static bool replace(const char *path, const char *buf, size_t len)
{
    char tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int dir = slash ? (int)(slash - path + 1) : 0;
    if (snprintf(tmp, sizeof tmp, "%.*s.%s.%d.tmp", dir, path, path + dir, (int)getpid()) >=
        (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return false;
    }
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(tmp, flags, 0644);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0) /* left by a process with our pid */
        fd = open(tmp, flags, 0644);
    if (fd < 0)
        return false;
    bool ok = tl_write_all(fd, buf, len, false);
    int err = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        err = errno;
    }
    if (!ok)
        unlink(tmp);
    errno = err;
    return ok;
}

void tl_metrics_write(tl_report *r, const char *path)
{
    static bool failing; /* warned, and not written since */
    tl_prom_process p = {.command = command()};
    tl_registry_totals(&p.created, &p.exited);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (out) {
        tl_format_prom(out, r, &p);
        if (fclose(out) != 0) {
            free(buf);
            buf = NULL;
        }
    }
    int saved = errno;
    bool ok = buf && replace(path, buf, len);
    if (!ok && !failing)
        tl_warn("cannot write the metrics file %s (%s)", path,
                buf ? strerror(errno) : "out of memory");
    failing = !ok;
    free(buf);
    errno = saved;
}
