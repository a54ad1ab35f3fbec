/* threadleak: find the threads a C or C++ program leaves behind.
 *
 * Preload the library (LD_PRELOAD=libthreadleak.so) for a report at exit and on a signal, or link it
 * into a test executable and ask for a check from the test itself. See README.md. */
#ifndef THREADLEAK_H
#define THREADLEAK_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define THREADLEAK_VERSION "0.1.0"

typedef struct threadleak_snapshot threadleak_snapshot;

typedef struct threadleak_opts {
    unsigned timeout_ms;                  /* how long threads get to exit; 0 means 1000 */
    const threadleak_snapshot *baseline;  /* threads alive in it are not leaks (goleak's IgnoreCurrent) */
    const char *suppressions;             /* rules as in a suppressions file, newline-separated */
    const char *format;                   /* NULL means "text" */
    FILE *out;                            /* NULL means stderr */
} threadleak_opts;

/* The threads alive now, to pass as opts->baseline later. NULL when out of memory. */
threadleak_snapshot *threadleak_snapshot_take(void);
void threadleak_snapshot_free(threadleak_snapshot *snap);

/* 0 when, within timeout_ms, every thread but the caller and the baseline's has ended and been
   joined or detached; otherwise writes a report and returns the number of leaked threads. */
int threadleak_verify_none(const threadleak_opts *opts);

/* Writes a report of all threads now, in opts->format, to opts->out. Returns 0 or -1. */
int threadleak_dump(const threadleak_opts *opts);

#ifdef __cplusplus
}
#endif

#endif
