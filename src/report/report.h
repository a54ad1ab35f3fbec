/* A report: every thread of the process as a row, judged, grouped by identical state, verdict and
   stacks, largest group first. The formats (src/format/) render it. */
#ifndef TL_REPORT_REPORT_H
#define TL_REPORT_REPORT_H

#include "core/proc.h"
#include "core/registry.h"
#include "core/resource.h"
#include "core/wakers.h"
#include "report/reach.h"
#include "report/strings.h"
#include "report/suppress.h"
#include "report/symbols.h"

#include <time.h>

typedef enum { TL_DEADLOCK, TL_ORPHANED, TL_BLOCKED, TL_UNJOINED, TL_VERDICT_RUNNING } tl_verdict;
const char *tl_verdict_name(tl_verdict v);

/* One thread as a report sees it. */
typedef struct tl_row {
    pid_t tid, creator_tid;
    unsigned long long start; /* with tid, names the thread for ever (tl_thread_id) */
    char name[16];
    tl_state state;
    tl_verdict verdict;
    bool untracked;       /* not created through our pthread_create: no creation stack */
    bool suppressed;      /* by a name: rule, known before its wait was read */
    bool timed;           /* its wait has a deadline: it ends, whatever the evidence */
    char object[48];      /* what it waits on, "" when nothing */
    const char *evidence; /* what is known of who could wake it, "" when nothing */
    pid_t waits_for;      /* the thread it waits on: a lock's owner, a joined thread; or 0 */
    int nwakers;          /* for a cond, sem or futex: distinct past wakers, -1 unknown */
    pid_t wakers[TL_WAKERS], last_waker;
    bool shared;            /* the object is process-shared: another process may wake it */
    bool robust;            /* a robust mutex: its owner's death wakes a waiter */
    bool unsignalled;       /* a cond no signal has reached since it was initialised */
    tl_reach_result reach;  /* what the reachability scan found of its object */
    bool reach_direct;      /* reachable: the object itself lies in a root */
    const char *reach_from; /* where from, when reachable; why not known, when unknown */
    uint64_t since_ns;      /* blocked (or finished) since */
    const tl_stack *blocked_at, *created_at;
    int fatal_signal; /* the signal it received, in a fatal report (blocked_at is from there) */
} tl_row;

/* The thread that received a fatal or terminating signal, for the report written while it waits
   in the handler (trigger/fatal.c): listed, main included, whatever the filter says, with the
   stack the signal interrupted. */
typedef struct tl_fatal {
    pid_t tid;
    int sig;
    char cause[96];     /* what the kernel says of it: "address 0x10 not mapped", "sent by pid 7" */
    tl_cpu_context ctx; /* the registers the signal interrupted */
} tl_fatal;

typedef struct tl_filter {
    const tl_rules *rules[2];     /* threads matching any are left out, and not counted */
    const tl_thread_id *baseline; /* threads alive then are left out; sorted by tid */
    size_t nbaseline;
    bool every_thread_leaks; /* verify_none: a running thread has not ended either */
    bool no_resources;
    const tl_caller *caller; /* the program's thread asking, NULL for the library's own */
    const tl_fatal *fatal;   /* the thread that received a fatal signal, or NULL */
} tl_filter;

/* How a group the watch saw growing grew (trigger/watch.c): from `from` threads to `to`. */
typedef struct tl_growth {
    size_t from, to;
    double seconds;
} tl_growth;

typedef struct tl_group {
    const tl_row *rows; /* count consecutive rows with equal key */
    size_t count;
    uint64_t ms_min, ms_max;
    const char *object;      /* shared by all its threads, or "" when they differ */
    size_t objects;          /* how many distinct objects its threads wait on */
    const char *evidence;    /* shared by all its threads, or "" when they differ */
    char evidence_mix[192];  /* when they differ: "differs: 3 never signalled; 2 ..." */
    const tl_growth *growth; /* NULL, or the watch's finding: the group keeps growing */
} tl_group;

typedef struct tl_report {
    const char *trigger; /* "exit", "signal", "api", "fatal", "terminate", "deadline", "watch" */
    pid_t pid;
    uint64_t now_ns;
    struct timespec time; /* the wall clock, for people (tl_report_time) */
    char *command;        /* the process's argv, each argument NUL-terminated; NULL if unknown */
    size_t command_len;
    const tl_fatal *fatal;
    unsigned pileup;
    tl_row *rows;
    size_t nrows;
    tl_group *groups; /* largest first */
    size_t ngroups;
    size_t threads_total, threads_leaked;
    tl_resource_group *resources;
    size_t nresources;
    pid_t timer_helper;      /* glibc's timer thread, counted with the timers, 0 if none */
    char unseen[160];        /* what kept the reachability scan from every root, "" if nothing */
    bool every_thread_leaks; /* threads_leaked counts running threads too */
    tl_symbolizer *sym;      /* made at the first frame named: see tl_report_frames */
    tl_strings *strings;     /* the rows' evidence and reach_from */
} tl_report;

/* NULL when out of memory. */
tl_report *tl_report_collect(const char *trigger, const tl_filter *filter);
/* The frames of one return address (tl_symbolize). The report's symbolizer is made at the first
   call: a report that names no frame (a clean exit) never reads a module's symbols. */
const tl_frame *tl_report_frames(tl_report *r, uintptr_t return_address, unsigned *n);
void tl_report_free(tl_report *r);
/* The report's time in RFC 3339, local with its offset: "2025-05-04T10:11:12.345+02:00". */
void tl_report_time(const tl_report *r, char *buf, size_t len);
/* The one stack of a group, for formats that have room for one: where its threads wait, or,
   when no wait is recorded, where they were made. */
const tl_stack *tl_group_stack(const tl_group *g);

/* ---- mix.c ---- */
/* Fills objects and evidence_mix of g, whose object and evidence are set (shared, or "" when its
   threads differ). False when out of memory. */
bool tl_group_mix(tl_group *g);

/* ---- verdict.c ---- */
void tl_duration(char *buf, size_t len, uint64_t ms); /* "850 ms", "5.0 s", "3.2 min", "1.5 h" */
/* Verdicts for the rows of r, with evidence; alive(tid) says whether a thread still runs. */
void tl_verdicts_assign(tl_report *r, bool (*alive)(const void *ctx, pid_t tid), const void *ctx);

#endif
