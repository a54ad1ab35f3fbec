/* The library's own thread. It does the work a signal handler must not (reports on a signal), and
   is started with the program's first thread, not before: glibc and libstdc++ take faster paths in
   a single-threaded process (a mutex or malloc without atomic operations), and a thread of ours
   would cost such a program three times its uncontended mutex. It runs with the guard set (its
   calls are never recorded), blocks every signal but those a job unblocks, and is left out of every
   report and snapshot. */
#ifndef TL_CORE_HELPER_H
#define TL_CORE_HELPER_H

#include "tl.h"

/* A job runs on the helper at every wake, one at a time; started() runs once, first. Set before
   the helper can start (at start-up). */
void tl_helper_job(void (*started)(void), void (*job)(void));
void tl_helper_wake(void); /* safe in a signal handler */
pid_t tl_helper_tid(void); /* 0 until it runs */
void tl_helper_rename(const char *name);
/* Waits for a job in progress to end, and runs no more: at exit. */
void tl_helper_stop(void);

/* From the wrappers. */
void tl_helper_thread_starting(void); /* pthread_create: the program's first thread starts it */
void tl_helper_main_exits(void);      /* pthread_exit, in main: it ends the process when the
                                         program's last thread has ended, as glibc would */
void tl_helper_thread_ended(void);

void tl_helper_fork_child(void);

#endif
