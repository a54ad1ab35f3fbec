/* The library's own thread. It does the work a signal handler must not (reports on a signal), and
   what must happen on time (a deadline, samples). It runs with the guard set (its calls are never
   recorded), blocks every signal but those a job unblocks, and is left out of every report and
   snapshot.

   It starts with the program's first thread, not before, when only live dumps need it: glibc and
   libstdc++ take faster paths in a single-threaded process (a mutex or malloc without atomic
   operations), and a thread of ours would cost such a program three times its uncontended mutex.
   A job that must run in a program that may never start a thread (a deadline) starts it at once. */
#ifndef TL_CORE_HELPER_H
#define TL_CORE_HELPER_H

#include "tl.h"

/* A job runs on the helper at its start and at every wake, one job at a time, with the time
   (CLOCK_MONOTONIC ns). It returns when it wants to run again unwoken, or 0 for only when woken. */
typedef uint64_t tl_helper_job(uint64_t now_ns);
#define TL_HELPER_JOBS 8

/* Before main: the job joins the others (one warning when there is no room). */
void tl_helper_add(tl_helper_job *job);
/* The same for a job that must run until the process ends, exit included (a deadline, a fatal
   signal): tl_helper_stop does not stop it. */
void tl_helper_add_lasting(tl_helper_job *job);
void tl_helper_start_now(void);          /* from a safe point (core/start.h) */
void tl_helper_wake(void);               /* safe in a signal handler */
pid_t tl_helper_tid(void);               /* 0 until it runs */
uintptr_t tl_helper_stack(void);         /* an address in its stack, 0 until it runs */
void tl_helper_rename(const char *name); /* from a job */
/* Waits for a job in progress to end, and runs no more but the lasting ones: at exit. */
void tl_helper_stop(void);

/* From the wrappers. */
void tl_helper_thread_starting(void); /* pthread_create: the program's first thread starts it */
void tl_helper_main_exits(void);      /* pthread_exit, in main: it ends the process when the
                                         program's last thread has ended, as glibc would */
void tl_helper_thread_ended(void);

void tl_helper_fork_child(void);

#endif
