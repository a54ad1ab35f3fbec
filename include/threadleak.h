/* threadleak: find the threads a C or C++ program leaves behind.
 *
 * Preload the library (LD_PRELOAD=libthreadleak.so) for a report at exit and on a signal, or link
 * it into a test executable and ask for a check from the test itself. See README.md.
 *
 * ABI: the library is libthreadleak.so.1; these functions are exported at symbol version
 * THREADLEAK_1. threadleak_opts begins with its own size, so that fields added later (at its end)
 * break no compiled caller: always initialise it with THREADLEAK_OPTS_INIT. */
#ifndef THREADLEAK_H
#define THREADLEAK_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define THREADLEAK_VERSION "0.2.0"
#define THREADLEAK_TIMEOUT_DEFAULT 1000u /* ms: goleak's default wait is about half of this */

typedef struct threadleak_snapshot threadleak_snapshot;

typedef struct threadleak_opts {
    size_t size;         /* sizeof(threadleak_opts), as THREADLEAK_OPTS_INIT sets it */
    unsigned timeout_ms; /* how long threads get to exit; 0 checks once, now */
    const threadleak_snapshot
        *baseline;            /* threads alive in it are not leaks (goleak's IgnoreCurrent) */
    const char *suppressions; /* rules as in a suppressions file, newline-separated */
    const char *format;       /* NULL means "text" */
    FILE *out;                /* NULL means stderr */
} threadleak_opts;

/* The defaults: threadleak_opts opts = THREADLEAK_OPTS_INIT; then set what differs. */
#define THREADLEAK_OPTS_INIT                                                                       \
    {                                                                                              \
        sizeof(threadleak_opts), THREADLEAK_TIMEOUT_DEFAULT, NULL, NULL, NULL, NULL                \
    }

/* The threads alive now, to pass as opts->baseline later. NULL when out of memory. */
threadleak_snapshot *threadleak_snapshot_take(void);
void threadleak_snapshot_free(threadleak_snapshot *snap);

/* 0 when, within timeout_ms, every thread but the caller and the baseline's has ended and been
   joined or detached; otherwise writes a report and returns the number of leaked threads. -1 when
   the check could not be made: opts->size not set (one line on stderr says so), an unknown format,
   or no memory. */
int threadleak_verify_none(const threadleak_opts *opts);

/* Writes a report of all threads now, in opts->format, to opts->out. 0, or -1 as above, or when
   the report could not be written. */
int threadleak_dump(const threadleak_opts *opts);

#ifdef __cplusplus
}
#endif

#endif
