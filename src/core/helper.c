/* The library's own thread: started with the program's first thread (or at once), woken through a
   futex or by the earliest time a job asked for, running the jobs one at a time. */
#include "core/helper.h"

#include "core/base.h"
#include "core/futex.h"
#include "core/lock.h"
#include "core/proc.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static struct {
    atomic_int wake; /* bumped to wake it: its futex word */
    atomic_int tid;
    _Atomic uintptr_t stack; /* an address in its stack */
    atomic_bool wanted;      /* jobs are set and the helper is not started */
    atomic_int main_tid;     /* the process's main thread (the pid), without a system call */
    atomic_bool
        main_left;   /* main ended with pthread_exit: the last thread to end ends the process */
    tl_lock running; /* held while jobs run, so that exit can wait for them */
    bool stopped;    /* exit has begun: only the lasting jobs run */
    struct {
        tl_helper_job *run;
        bool lasting;
    } jobs[TL_HELPER_JOBS];
    atomic_int njobs;
} helper;

static void add(tl_helper_job *job, bool lasting)
{
    int n = atomic_load(&helper.njobs);
    if (n == TL_HELPER_JOBS) {
        tl_warn("no room for another job of the library's thread");
        return;
    }
    helper.jobs[n].run = job;
    helper.jobs[n].lasting = lasting;
    atomic_store(&helper.njobs, n + 1);
    atomic_store(&helper.main_tid, getpid());
    if (!atomic_load(&helper.tid))
        atomic_store(&helper.wanted, true);
}

void tl_helper_add(tl_helper_job *job)
{
    add(job, false);
}

void tl_helper_add_lasting(tl_helper_job *job)
{
    add(job, true);
}

void tl_helper_wake(void)
{
    atomic_fetch_add(&helper.wake, 1);
    tl_futex_wake(&helper.wake, 1);
}

pid_t tl_helper_tid(void)
{
    return atomic_load(&helper.tid);
}

uintptr_t tl_helper_stack(void)
{
    return atomic_load(&helper.tid) ? atomic_load(&helper.stack) : 0;
}

void tl_helper_rename(const char *name)
{
    prctl(PR_SET_NAME, name);
}

/* glibc ends the process when its last thread ends, counting ours: once main has left, that is our
   job. /proc/self/task has two links more than threads, and the leader counts until the end; so do
   an emulator's own threads, which are not the program's. */
static void end_if_last(void)
{
    struct stat task;
    if (atomic_load(&helper.main_left) && stat("/proc/self/task", &task) == 0 &&
        task.st_nlink <= 4 + tl_proc_emulator_threads())
        exit(0);
}

/* Runs every job; returns the earliest time one wants to run again, 0 for none. */
static uint64_t run_jobs(void)
{
    uint64_t next = 0;
    tl_lock_acquire(&helper.running);
    for (int i = 0; i < atomic_load(&helper.njobs); i++) {
        if (helper.stopped && !helper.jobs[i].lasting)
            continue;
        uint64_t at = helper.jobs[i].run(tl_now_ns());
        if (at && (!next || at < next))
            next = at;
    }
    tl_lock_release(&helper.running);
    return next;
}

static void *run(void *arg)
{
    (void)arg;
    tl_guard = 1;                   /* for good: nothing this thread does is the program's */
    tl_helper_rename("threadleak"); /* until a job names it for `threadleak dump` */
    pid_t tid = tl_gettid();
    atomic_store(&helper.stack, (uintptr_t)__builtin_frame_address(0));
    tl_proc_hide(tid);
    atomic_store(&helper.tid, tid);
    tl_futex_wake(&helper.tid, 1);
    for (;;) {
        int seen = atomic_load(&helper.wake);
        uint64_t next = run_jobs();
        end_if_last();
        if (atomic_load(&helper.main_left)) { /* for the threads whose end we do not see */
            uint64_t poll = tl_now_ns() + 20000000;
            next = next && next < poll ? next : poll;
        }
        uint64_t now = tl_now_ns();
        if (next && next <= now)
            continue;
        struct timespec left = {(time_t)((next - now) / 1000000000),
                                (long)((next - now) % 1000000000)};
        tl_futex_wait(&helper.wake, seen, next ? &left : NULL);
    }
    return NULL;
}

/* Started with every signal blocked, so that none of the program's lands on it. Its tid must be
   known before any report, or the report would list it as the program's: the start waits for it,
   at most a second (a helper never scheduled by then is the lesser harm). */
static void start(void)
{
    TL_KEEP_ERRNO;
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t all, old;
    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    tl_guard++;
    int rc = pthread_create(&thread, &attr, run, NULL);
    tl_guard--;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc == 0)
        tl_futex_wait_while(&helper.tid, 0, 1000);
    else
        tl_warn("cannot start the library's thread (%s); live dumps are off", strerror(rc));
}

void tl_helper_start_now(void)
{
    if (atomic_exchange(&helper.wanted, false))
        start();
}

void tl_helper_thread_starting(void)
{
    if (TL_UNLIKELY(atomic_load_explicit(&helper.wanted, memory_order_relaxed)))
        tl_helper_start_now();
}

void tl_helper_main_exits(void)
{
    if (tl_gettid() != atomic_load_explicit(&helper.main_tid, memory_order_relaxed))
        return;
    atomic_store(&helper.main_left, true);
    tl_helper_wake();
}

void tl_helper_thread_ended(void)
{
    if (atomic_load_explicit(&helper.main_left, memory_order_relaxed))
        tl_helper_wake();
}

void tl_helper_stop(void)
{
    tl_lock_acquire(&helper.running);
    helper.stopped = true;
    tl_lock_release(&helper.running);
}

/* The child has no helper: it starts again with the child's first thread. */
void tl_helper_fork_child(void)
{
    atomic_store(&helper.tid, 0);
    atomic_store(&helper.stack, 0);
    tl_proc_hide(0);
    tl_lock_reset(&helper.running);
    atomic_store(&helper.wanted, atomic_load(&helper.njobs) > 0);
    atomic_store(&helper.main_left, false); /* the forking thread is the child's main */
    atomic_store(&helper.main_tid, getpid());
}
