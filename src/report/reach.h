/* Reachability, as Go's goroutine leak profile decides it: a thread waiting, with no deadline, on
   a memory object (a condition variable, mutex, rwlock, semaphore, barrier, futex word) that no
   thread able to run can reach any more will never be woken.

   The roots are what a thread that can still run can read: every writable mapping that is not a
   heap (modules' globals, TLS, mappings of the program's own), the stacks and registers of threads
   that are not stuck, what the kernel holds for the process (timers' and queue notifications'
   sigev_values, epoll data, bytes in pipes and sockets). From them the scan follows every word
   that points into a glibc malloc block, a block's start or anywhere inside it (interior pointers;
   low tag bits are inside too), through the heap. A stuck thread's stack becomes a root only once
   the object it waits on is found reachable, and is reached like a block when something points
   into it.

   Sound before complete: a root that cannot be seen (a running thread's registers, an io_uring, a
   heap that cannot be walked, a thread that ran while memory was read) makes every "unreachable"
   unknown, with the reason; stale words (an old pointer in a dead frame, in a freed block's
   remains) only make more reachable. The scan reads memory only through process_vm_readv, so a
   mapping that goes away under it fails a read, never the process, and it allocates with mmap
   while it walks, so that the heap it reads holds still. */
#ifndef TL_REPORT_REACH_H
#define TL_REPORT_REACH_H

#include "core/wait.h"

/* The states whose object the scan judges: a new state of a wait on memory plugs in here. */
bool tl_reach_judges(tl_state state);

/* The thread that asks for a report. */
typedef struct tl_caller {
    bool exits;         /* it is ending the process: its frames hold no roots any more */
    tl_cpu_context ctx; /* its registers where it entered the library (tl_cpu_save) */
} tl_caller;

typedef enum {
    TL_THREAD_WAITING,      /* in a recorded wait, held: registers and stack exact */
    TL_THREAD_UNSEEN,       /* running, or in a call no wrapper records: registers unknown */
    TL_THREAD_ENDED,        /* finished: it holds nothing */
    TL_THREAD_CALLER,       /* the thread writing the report */
    TL_THREAD_TIMER_HELPER, /* glibc's timer thread in sigwaitinfo: holds nothing of the program */
} tl_thread_role;

typedef enum {
    TL_REACH_NONE,        /* not judged: not a wait on memory, or one with a deadline */
    TL_REACH_REACHABLE,   /* a root reaches it: see from */
    TL_REACH_UNREACHABLE, /* nothing that can run reaches it, and every root was seen */
    TL_REACH_UNKNOWN,     /* no root seen reaches it, but not every root could be: see why */
    TL_REACH_SHARED,      /* it lies in memory shared with other processes */
} tl_reach_result;

/* Where a reachable object was reached from. */
typedef enum {
    TL_FROM_GLOBAL,    /* a module's writable data: addr is the word, module its start */
    TL_FROM_MAPPING,   /* a mapping of the program's own: [addr, end) */
    TL_FROM_STACK,     /* the stack of tid */
    TL_FROM_REGISTERS, /* a register of tid, as it waits */
    TL_FROM_TIMER,     /* a timer's sigev_value: addr is the timer */
    TL_FROM_MQ_NOTIFY, /* a queue's notification: fd */
    TL_FROM_EPOLL,     /* epoll instance fd's data for descriptor fd2 */
    TL_FROM_PIPE,      /* unread bytes in pipe fd */
    TL_FROM_SOCKET,    /* unread bytes in socket fd */
} tl_from_kind;

typedef struct tl_from {
    tl_from_kind kind;
    bool direct;   /* the object itself lies there */
    bool via_wait; /* through the stack of via_tid, whose own wait was found reachable */
    pid_t tid, via_tid;
    int fd, fd2;
    uintptr_t addr, end, module;
} tl_from;

/* One thread of the process, as collect.c describes it to the scan. */
typedef struct tl_reach_thread {
    pid_t tid;
    tl_thread_role role;
    bool main;
    const char *unseen; /* TL_THREAD_UNSEEN: why (NULL: "runs"), kept by the caller */
    /* TL_THREAD_WAITING: the wait, as read while it was held */
    const tl_wait *record; /* checked again after the scan: the wait must not have moved */
    tl_state state;
    uintptr_t object;
    bool timed;  /* a deadline ends it: not judged */
    bool shared; /* the object's own words say it is process-shared */
    uint64_t since_ns;
    uintptr_t sp, regs[TL_CPU_SAVED];
    /* its stack, when glibc made it: its descriptor (pthread_t), the stack's size */
    uintptr_t handle;
    size_t stack_size;
    /* the scan's answer for a judged wait */
    tl_reach_result result;
    tl_from from;
    const char *unknown; /* why this object could not be judged, or NULL (see why) */
} tl_reach_thread;

/* Judges the waits of threads[0..n) (every thread of the process, the library's own left out):
   sets each judged one's result. caller is NULL when the library's own thread writes the report;
   ours lists the heap blocks the library itself allocated that program memory points to (its
   thread records), which are not the program's. A scan that takes longer than budget_ms stops
   there, its answers unknown. why (why_len bytes) says what kept the scan from seeing every root,
   "" when nothing did. Returns true when the answer is unknown only because a
   thread moved while memory was read: asked again with fresh threads, it may hold. Not from a
   signal handler. */
bool tl_reach_scan(tl_reach_thread *threads, size_t n, const tl_caller *caller,
                   const uintptr_t *ours, size_t nours, unsigned budget_ms, char *why,
                   size_t why_len);

/* Where an object was reached from, in words: "from global `queue` (server)", "it is the global
   `never` (server)", "from the stack of tid 12, which waits on the global `ready` (server)". */
struct tl_symbolizer;
void tl_reach_describe(const tl_from *from, struct tl_symbolizer *sym, char *buf, size_t len);

#endif
