/* What the kernel says of this process's threads, from /proc/self/task. */
#ifndef TL_CORE_PROC_H
#define TL_CORE_PROC_H

#include "tl.h"

typedef struct tl_task {
    pid_t tid;
    char state;
    char comm[16];
    unsigned long long start; /* clock ticks after boot: with tid, names one thread for ever */
} tl_task;
_Static_assert(offsetof(tl_task, tid) == 0, "sorted with tl_tid_cmp");

/* The program's threads, sorted, less the library's own (tl_proc_hide) and an emulator's;
   malloc'd. */
size_t tl_proc_tids(pid_t **tids);
bool tl_proc_has(const pid_t *tids, size_t n, pid_t tid);
/* How many threads the kernel counts besides main and the library's own: one stat, where a listing
   costs the kernel a dentry a thread (10-25 ms for 10,000). -1 when it cannot say, or under an
   emulator, whose own threads come and go. */
long tl_proc_others(void);
bool tl_proc_task(pid_t tid, tl_task *task); /* false when it is gone */
/* What schedstat says of thread tid: runs[0] its time on a CPU (ns, brought up to date when it
   leaves one), runs[1] how many times it was put on one. false when the kernel does not say (no
   CONFIG_SCHED_INFO) or the thread is gone. */
bool tl_proc_runs(pid_t tid, unsigned long long runs[2]);
/* The system call a thread sits in ("syscall:futex"), or its wait channel; "" when unknown. */
void tl_proc_wait_object(pid_t tid, char *buf, size_t len);
/* The library's own thread, which no listing shows. */
void tl_proc_hide(pid_t tid);
/* Whether a user-mode emulator (qemu-user) runs the program, and which threads are its own, which
   no listing shows either: noted before the first thread made through us (tl_thread_new), or the
   first listing, and again in a fork child. */
void tl_proc_note_emulator(void);
void tl_proc_fork_child(void);
unsigned tl_proc_emulator_threads(void); /* how many: 0 when not emulated */

#endif
