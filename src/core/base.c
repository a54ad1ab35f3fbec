/* The guard, the clock, tids and warnings. */
#include "core/base.h"

#include "platform/platform.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

TL_TLS int tl_guard;
static TL_TLS pid_t cached_tid;

pid_t tl_gettid(void)
{
    if (TL_UNLIKELY(!cached_tid))
        cached_tid = (pid_t)tl_sys(SYS_gettid, 0, 0, 0, 0, 0, 0);
    return cached_tid;
}

void tl_gettid_forget(void)
{
    cached_tid = 0;
}

int tl_tid_cmp(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

uint64_t tl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct {
    bool open;
    dev_t dev;
    ino_t ino;
} std_streams[3];

static bool identify(int fd, dev_t *dev, ino_t *ino)
{
    struct stat st;
    if (tl_sys(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) != 0)
        return false;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return true;
}

void tl_std_streams_remember(void)
{
    for (int fd = 1; fd <= 2; fd++)
        std_streams[fd].open = identify(fd, &std_streams[fd].dev, &std_streams[fd].ino);
}

bool tl_std_stream_is_ours(int fd)
{
    dev_t dev;
    ino_t ino;
    return std_streams[fd].open && identify(fd, &dev, &ino) && dev == std_streams[fd].dev &&
           ino == std_streams[fd].ino;
}

void tl_warn(const char *fmt, ...)
{
    TL_KEEP_ERRNO;
    if (!tl_std_stream_is_ours(STDERR_FILENO))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(line, sizeof line, "threadleak: ");
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    tl_sys(SYS_write, STDERR_FILENO, (long)line, n, 0, 0, 0);
}

void tl_warn_safe(const char *a, const char *b, const char *c)
{
    char line[512];
    size_t n = 0;
    const char *parts[] = {"threadleak: ", a, b, c};
    for (size_t i = 0; i < TL_LENGTH(parts) && parts[i]; i++)
        for (const char *p = parts[i]; *p && n < sizeof line - 1; p++)
            line[n++] = *p;
    line[n++] = '\n';
    tl_sys(SYS_write, STDERR_FILENO, (long)line, (long)n, 0, 0, 0);
}
