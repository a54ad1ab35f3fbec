/* threadleak internals: one header, declarations grouped by the file that defines them. */
#ifndef TL_H
#define TL_H

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <uthash.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h> /* types only: the library is opened at run time (stack.c) */

#define TL_API __attribute__((visibility("default")))
#define TL_LIKELY(x) __builtin_expect(!!(x), 1)
#define TL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TL_MAX_FRAMES 128

/* The states of the contract, in its order. */
typedef enum {
    TL_RUNNING, TL_COND_WAIT, TL_MUTEX_LOCK, TL_RWLOCK_READ, TL_RWLOCK_WRITE, TL_SEM_WAIT,
    TL_BARRIER_WAIT, TL_JOIN, TL_SLEEP, TL_PIPE_READ, TL_PIPE_WRITE, TL_MQ_RECEIVE, TL_MQ_SEND,
    TL_SOCKET_READ, TL_SOCKET_WRITE, TL_ACCEPT, TL_POLL, TL_WAITING, TL_EXITED_UNJOINED,
} tl_state;

/* ---- lock.c: a futex lock that never enters our own wrappers and resets cleanly after fork ---- */
typedef struct tl_lock { atomic_int state; } tl_lock; /* 0 free, 1 held, 2 held with waiters */
void tl_lock_slow(tl_lock *l);
void tl_unlock_slow(tl_lock *l);
static inline bool tl_lock_try(tl_lock *l)
{
    int expected = 0;
    return atomic_compare_exchange_strong_explicit(&l->state, &expected, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}
static inline void tl_lock_acquire(tl_lock *l)
{
    if (!tl_lock_try(l))
        tl_lock_slow(l);
}
static inline void tl_lock_release(tl_lock *l)
{
    if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2)
        tl_unlock_slow(l);
}

/* ---- init.c: start-up, exit report, fork ---- */
/* Set while the library itself runs on a thread, so that calls it makes into interposed functions
   (libunwind, libdw and libc take locks, sleep, read files) go straight to the real ones. */
extern __thread int tl_guard __attribute__((tls_model("initial-exec")));
extern atomic_bool tl_initialized;
void tl_init(void);
static inline void tl_ensure_init(void)
{
    if (TL_UNLIKELY(!atomic_load_explicit(&tl_initialized, memory_order_acquire)))
        tl_init();
}
pid_t tl_gettid(void); /* cached per thread, refreshed after fork */
uint64_t tl_now_ns(void); /* CLOCK_MONOTONIC */
void tl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tl_main_starting(void); /* main is about to run: register the exit report */

/* ---- live.c: reports on a signal, and for `threadleak dump` ---- */
void tl_live_start(void);               /* before main: the handler */
void tl_live_stop(void);                /* at exit: waits for a report being written, then no more */
bool tl_live_handler(void (*handler)(int)); /* handler is ours */
void tl_live_taken(int sig, bool by_us); /* a handler for sig was installed */
void tl_live_waited(const sigset_t *set); /* the program waits for these with sigwait, signalfd */
pid_t tl_live_helper(void);             /* the helper thread's tid, 0 when there is none */
void tl_live_fork_child(void);
void tl_live_thread_starting(void);     /* the helper starts with the program's first thread */
void tl_live_thread_exits(void);        /* pthread_exit: main's matters */
void tl_live_thread_ended(void);

/* ---- interpose.c: the only file with real_* pointers and wrappers ---- */
void tl_interpose_bind(void);

/* ---- options.c ---- */
typedef enum { TL_FMT_TEXT, TL_FMT_FULL, TL_FMT_JSON, TL_FMT_PPROF, TL_FMT_FOLDED } tl_format;
typedef struct tl_options {
    char output[PATH_MAX];       /* "stderr", "stdout" or a path with %p and %n */
    tl_format format;
    bool at_exit;
    int signal;                  /* 0 for none */
    unsigned max_frames;
    int exitcode;
    char suppressions[PATH_MAX];
    unsigned grace_ms;
    unsigned pileup;
} tl_options;
extern tl_options tl_opt;
void tl_options_defaults(tl_options *o);
void tl_options_parse(tl_options *o, const char *spec);
bool tl_format_parse(const char *name, tl_format *out);

/* ---- stack.c: capture with libunwind, intern identical stacks ---- */
typedef struct tl_stack {
    UT_hash_handle hh;
    unsigned depth;
    uintptr_t pc[]; /* return addresses, innermost first, none inside this library */
} tl_stack;
void tl_stack_init(void);
/* The calling thread's stack without our frames, interned: equal stacks are one pointer.
   NULL when nothing could be unwound. */
const tl_stack *tl_stack_capture(void);
/* Interns raw return addresses, innermost first, less our own frames and cut to max_frames. */
const tl_stack *tl_stack_intern(const uintptr_t *raw, unsigned n);
extern tl_lock tl_stack_lock;
bool tl_stack_own(uintptr_t pc);                       /* inside this library's code */

/* ---- unwind.c: fast unwinding of waiting threads, for reports ---- */
typedef struct tl_unwinder tl_unwinder;
struct Dwfl;
tl_unwinder *tl_unwinder_new(struct Dwfl *dwfl);  /* rules from the modules dwfl knows */
void tl_unwinder_free(tl_unwinder *u);
void tl_unwind_learn_tail(const uintptr_t *pc, unsigned n); /* from a whole stack: past our trampoline */
/* The return addresses of the stack ctx was saved in, innermost first, read only inside
   [saved rsp, stack_top); 0 when a frame needs more than the common rules (use libunwind). */
unsigned tl_unwind(tl_unwinder *u, const unw_context_t *ctx, uintptr_t stack_top, size_t stack_size,
                   uintptr_t *pc, unsigned max);

/* ---- wakers.c: who signalled or posted what ---- */
#define TL_WAKERS 4
void tl_waker_note(uintptr_t object);     /* the calling thread wakes object */
/* The distinct wakers of object and the latest; 0 when none was ever seen, -1 when it is unknown. */
int tl_wakers(uintptr_t object, pid_t tids[TL_WAKERS], pid_t *last);
void tl_wakers_forget(uintptr_t object);  /* a new object at this address */

/* ---- fdtable.c: pipes and sockets among the descriptors ---- */
enum { TL_FD_UNKNOWN, TL_FD_OTHER, TL_FD_PIPE, TL_FD_SOCKET, TL_FD_MQUEUE, TL_FD_NONBLOCK = 0x10 };
unsigned tl_fd_kind(int fd);           /* learns it on first use */
void tl_fd_set(int fd, unsigned kind); /* TL_FD_UNKNOWN to forget */
void tl_fd_set_id(int fd, uint32_t id); /* a pipe's serial, a queue's inode */
uintptr_t tl_fd_waker_key(int fd);      /* the wakers table's key for fd's pipe or queue, or 0 */

/* ---- wait.c: where a thread waits, recorded at almost no cost (see wait.c) ---- */
enum { TL_WAIT_IDLE, TL_WAIT_WRITING, TL_WAIT_BLOCKED, TL_WAIT_PINNED, TL_WAIT_PINNED_WAITED };
typedef enum { TL_OBJ_NONE, TL_OBJ_ADDR, TL_OBJ_FD, TL_OBJ_THREAD } tl_object_kind;
typedef struct tl_wait {
    atomic_int phase;
    tl_state state;
    tl_object_kind kind;
    uintptr_t object;
    uint64_t since_ns;
    unw_context_t ctx;        /* the wrapper's registers, to unwind from */
} tl_wait;
extern int (*tl_getcontext)(unw_context_t *);
void tl_wait_init(void *libunwind);
void tl_wait_end_slow(tl_wait *w);
bool tl_wait_pin(tl_wait *w);       /* a report: true when w is blocked, and now held still */
void tl_wait_unpin(tl_wait *w);
/* Of a pinned wait, in a stack that ends at stack_top (0: unknown) and spans at most stack_size. */
const tl_stack *tl_wait_stack(tl_wait *w, tl_unwinder *u, uintptr_t stack_top, size_t stack_size);

/* ---- symbols.c: names, files and lines, only when a report is written ---- */
typedef struct tl_frame {
    const char *function; /* "??" when unknown */
    const char *file;     /* NULL without debug information */
    unsigned line;
    const char *module;   /* path of the object, NULL when unknown */
    uintptr_t offset;     /* address of the call inside module */
} tl_frame;
typedef struct tl_symbolizer tl_symbolizer;
tl_symbolizer *tl_symbolizer_new(void);
/* The frames of one return address: n >= 1, more than one when the call was inlined. */
const tl_frame *tl_symbolize(tl_symbolizer *s, uintptr_t return_address, unsigned *n);
void tl_symbolizer_free(tl_symbolizer *s);
void tl_symbolizer_fork_child(void);
struct Dwfl *tl_symbolizer_dwfl(tl_symbolizer *s); /* the modules it knows, NULL if none */

/* ---- verdict.c: states and verdicts ---- */
typedef enum { TL_DEADLOCK, TL_ORPHANED, TL_BLOCKED, TL_UNJOINED, TL_VERDICT_RUNNING } tl_verdict;
const char *tl_state_name(tl_state s);
const char *tl_verdict_name(tl_verdict v);

/* One thread as a report sees it. */
typedef struct tl_row {
    pid_t tid, creator_tid;
    unsigned long long start;  /* with tid, names the thread for ever (tl_thread_id) */
    char name[16];
    tl_state state;
    tl_verdict verdict;
    bool untracked;           /* not created through our pthread_create: no creation stack */
    char object[48];          /* what it waits on, "" when nothing */
    char evidence[160];       /* what is known of who could wake it, "" when nothing */
    pid_t waits_for;          /* the thread it waits on: a lock's owner, a joined thread; or 0 */
    int nwakers;              /* for a cond or sem: distinct past wakers, -1 unknown */
    pid_t wakers[TL_WAKERS], last_waker;
    uint64_t since_ns;        /* blocked (or finished) since */
    const tl_stack *blocked_at, *created_at;
} tl_row;
struct tl_report;
/* Verdicts for the rows of r, with evidence; alive(tid) says whether a thread still runs. */
void tl_verdicts_assign(struct tl_report *r, bool (*alive)(const struct tl_report *r, pid_t tid));

/* ---- registry.c: every thread created through pthread_create, until joined or detached ---- */
/* One thread for ever, even once its tid is reused: the kernel's start time of a thread we did not
   make, our own creation number (with TL_ID_OURS) of one we did. */
typedef struct tl_thread_id { pid_t tid; unsigned long long start; } tl_thread_id;
#define TL_ID_OURS (1ull << 63)
typedef struct tl_thread {
    UT_hash_handle hh;        /* in the table, keyed by handle, while listed */
    pthread_t handle;
    atomic_int tid;           /* 0 until the thread runs */
    pid_t creator_tid;
    const tl_stack *created_at;
    void *(*start)(void *);
    void *arg;
    uint64_t exited_ns;
    tl_wait wait;             /* written by the thread itself, read by reports */
    uintptr_t stack_top;      /* its first frame (ours), where unwinding a wait stops */
    size_t stack_size;
    char name[16];            /* the kernel's: inherited from the creator, then as set */
    uint64_t id;              /* tl_thread_id.start */
    int refs;                 /* creator, the thread itself, the table; under the registry lock */
    bool detached, exited, listed;
} tl_thread;
tl_thread *tl_thread_new(void *(*start)(void *), void *arg, bool detached);
void tl_thread_creating(void);        /* just before the real pthread_create */
void tl_thread_publish(tl_thread *t, pthread_t handle);
void tl_registry_settle(void);        /* waits for pthread_create calls to list their threads */
void tl_thread_abandon(tl_thread *t);
void tl_thread_started(tl_thread *t);
void tl_thread_ended(tl_thread *t);
tl_thread *tl_thread_hold(pthread_t handle);
void tl_thread_joined(tl_thread *t);
void tl_thread_detached(tl_thread *t);
void tl_thread_release(tl_thread *t);
void tl_thread_set_name(pthread_t handle, const char *name);
void tl_thread_named(const char *name);    /* the calling thread named itself (prctl) */
void tl_registry_init(void);               /* main's name, which its first threads inherit */
bool tl_registry_all_exited(pid_t except);
bool tl_registry_tracks(pid_t tid);
uint64_t tl_registry_exit_time(pid_t tid); /* when a thread we made ended, 0 if unknown */
size_t tl_registry_ids(tl_thread_id **ids); /* of every listed thread, finished or not */
size_t tl_registry_rows(tl_row **rows, size_t extra, tl_unwinder *u);
void tl_registry_fork_child(void); /* with the lock held */
extern __thread tl_thread *tl_self __attribute__((tls_model("initial-exec")));

/* Inlined into each wrapper, so that the registers saved are those of the wrapper's frame, which
   stays put while the thread waits. NULL when nothing is recorded: a thread we did not create, a
   wait inside a wait (a signal handler's), or no unwinder. */
static inline __attribute__((always_inline)) tl_wait *tl_wait_begin(tl_state state,
                                                                  tl_object_kind kind,
                                                                  uintptr_t object)
{
    tl_thread *t = tl_self;
    int idle = TL_WAIT_IDLE;
    if (!t || !tl_getcontext ||
        !atomic_compare_exchange_strong_explicit(&t->wait.phase, &idle, TL_WAIT_WRITING,
                                                 memory_order_acquire, memory_order_relaxed))
        return NULL;
    tl_wait *w = &t->wait;
    w->state = state;
    w->kind = kind;
    w->object = object;
    w->since_ns = tl_now_ns();
    tl_getcontext(&w->ctx);
    atomic_store_explicit(&w->phase, TL_WAIT_BLOCKED, memory_order_release);
    return w;
}

static inline void tl_wait_end(tl_wait *w)
{
    int blocked = TL_WAIT_BLOCKED;
    if (w && !atomic_compare_exchange_strong_explicit(&w->phase, &blocked, TL_WAIT_IDLE,
                                                      memory_order_release, memory_order_relaxed))
        tl_wait_end_slow(w);
}
extern tl_lock tl_registry_lock;

/* ---- resource.c: timers, pipes and queues never given back ---- */
typedef enum { TL_RES_TIMER, TL_RES_PIPE, TL_RES_MQUEUE } tl_res_kind;
typedef struct tl_resource_group {
    tl_res_kind kind;
    const tl_stack *created_at;
    size_t count;
} tl_resource_group;
extern tl_lock tl_resource_lock;
void tl_resource_add(tl_res_kind kind, uintptr_t id, const tl_stack *created_at);
/* Returns the pipe's serial number, which its descriptors share. */
unsigned tl_resource_pipe(const int fds[2], const tl_stack *created_at);
void tl_resource_remove(tl_res_kind kind, uintptr_t id);
void tl_resource_closed(int fd);       /* a descriptor closed: a pipe end or a queue, maybe */
void tl_resource_dup(int old, int fd); /* fd is now a copy of old */
void tl_resource_fork_child(void);     /* with the lock held */
size_t tl_resource_groups(tl_resource_group **groups); /* largest first; malloc'd */
const char *tl_resource_kind_name(tl_res_kind kind);

/* ---- proc.c: what the kernel says of our threads ---- */
typedef struct tl_task {
    pid_t tid;
    char state;
    char comm[16];
    unsigned long long start;  /* clock ticks after boot: with tid, names one thread for ever */
} tl_task;
size_t tl_proc_tids(pid_t **tids);        /* the program's threads, sorted; malloc'd */
bool tl_proc_has(const pid_t *tids, size_t n, pid_t tid);
bool tl_proc_task(pid_t tid, tl_task *task); /* false when it is gone */
void tl_proc_wait_object(pid_t tid, char *buf, size_t len);
/* glibc's SIGEV_THREAD helper thread, started inside the first such timer_create: found as the
   thread that call adds. */
bool tl_timer_helper_before(void);                 /* true: searching, call after */
void tl_timer_helper_after(bool searching, bool created);
pid_t tl_timer_helper(void);            /* 0 when there is none */
void tl_timer_helper_fork_child(void);

/* ---- suppress.c: rules that hide threads ---- */
typedef struct tl_rules tl_rules;
/* Adds the rules in text (a file's contents), naming source in the warning for a malformed line.
   false when a line was malformed or memory ran out. */
bool tl_rules_add(tl_rules **rules, const char *text, const char *source);
void tl_rules_free(tl_rules *rules);
bool tl_rules_match(const tl_rules *rules, tl_symbolizer *sym, const struct tl_row *row);
extern tl_rules *tl_file_rules; /* from the suppressions option, read at start-up */

/* ---- report.c: collect, group, render, write ---- */
int tl_thread_id_cmp(const void *a, const void *b); /* by tid */
typedef struct tl_filter {
    const tl_rules *rules[2];        /* threads matching any are left out, and not counted */
    const tl_thread_id *baseline;    /* threads alive then are left out; sorted by tid */
    size_t nbaseline;
    bool every_thread_leaks;         /* verify_none: a running thread has not ended either */
    bool no_resources;
} tl_filter;
typedef struct tl_group {
    const tl_row *rows;       /* count consecutive rows with equal key */
    size_t count;
    uint64_t ms_min, ms_max;
    const char *object;       /* shared by all its threads, or "(several)" */
    const char *evidence;     /* shared by all its threads, or "" */
} tl_group;
typedef struct tl_report {
    const char *trigger;      /* "exit", "signal", "api" */
    pid_t pid;
    uint64_t now_ns;
    unsigned pileup;
    tl_row *rows;
    size_t nrows;
    tl_group *groups;         /* largest first */
    size_t ngroups;
    size_t threads_total, threads_leaked;
    tl_resource_group *resources;
    size_t nresources;
    pid_t timer_helper;       /* glibc's timer thread, counted with the timers, 0 if none */
    bool every_thread_leaks;  /* threads_leaked counts running threads too */
    const tl_task *tasks;     /* every thread of the process, sorted by tid, while collecting */
    size_t ntasks;
    tl_symbolizer *sym;
} tl_report;
tl_report *tl_report_collect(const char *trigger, const tl_filter *filter);
/* The one stack of a group, for formats that have room for one: where its threads wait, or,
   when no wait is recorded, where they were made. */
const tl_stack *tl_group_stack(const tl_group *g);
void tl_report_free(tl_report *r);
/* The report rendered in format, in one malloc'd buffer; NULL when out of memory. */
char *tl_report_render(tl_report *r, tl_format format, size_t *len);

/* ---- format_text.c, format_json.c, format_folded.c, format_pprof.c ---- */
void tl_format_text(FILE *out, tl_report *r, bool per_thread);
void tl_duration(char *buf, size_t len, uint64_t ms); /* "850 ms", "5.0 s", "3.2 min" */
void tl_format_json(FILE *out, tl_report *r);
void tl_format_folded(FILE *out, tl_report *r);
void tl_format_pprof(FILE *out, tl_report *r);

/* ---- output.c ---- */
/* Writes the whole buffer to target ("stderr", "stdout", or a path pattern). A file is new, 0600,
   never reached through a symbolic link; when it cannot be made the report goes to stderr. */
void tl_output_write(const char *target, const char *buf, size_t len);
bool tl_write_all(int fd, const char *buf, size_t len, bool socket); /* false on an error */

#endif
