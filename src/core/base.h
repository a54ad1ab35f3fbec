/* What every module of the library uses: the guard, warnings, the clock, tids, errno kept. */
#ifndef TL_CORE_BASE_H
#define TL_CORE_BASE_H

#include "tl.h"

#include <errno.h>

/* Set while the library itself runs on a thread, so that the calls it makes into interposed
   functions (libunwind, libdw and libc take locks, sleep, read files) go straight to the real
   ones. The helper thread keeps it set for good. */
extern TL_TLS int tl_guard;

pid_t tl_gettid(void);       /* cached per thread, no system call after the first */
void tl_gettid_forget(void); /* in a fork child */
uint64_t tl_now_ns(void);    /* CLOCK_MONOTONIC */

/* For qsort and bsearch over tids, or over structs whose first member is a tid. */
int tl_tid_cmp(const void *a, const void *b);

/* Which files the process's stdout and stderr were at start-up (device and inode, not kept open):
   a program may close them, and get their numbers back for a file of its own (a daemon, xz). */
void tl_std_streams_remember(void);
bool tl_std_stream_is_ours(int fd); /* 1 or 2 is still the file it was at start-up */

/* One line, "threadleak: ..." on the process's stderr, errno untouched; nothing when stderr is no
   longer the one the process started with. */
void tl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same from pieces (NULL ends them early), without stdio: safe in a signal handler. */
void tl_warn_safe(const char *a, const char *b, const char *c);

/* Keeps errno as it is for the rest of the scope: bookkeeping after a real call must leave the
   program the errno the real call set. */
static inline void tl_errno_restore(const int *saved)
{
    errno = *saved;
}
#define TL_KEEP_ERRNO int tl_kept_errno_ __attribute__((cleanup(tl_errno_restore))) = errno

#endif
