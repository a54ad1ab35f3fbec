/* A report: every thread of the process as rows (from the registry, refined by what the kernel
   says), grouped by identical state, verdict and stacks, largest group first.

   The registry's lock is held only to take a reference to each record; the records are read, and
   waiting threads unwound, without it, so that a report never holds up the program's
   pthread_create and pthread_join. */
#include "report/report.h"

#include "core/fdtable.h"
#include "core/options.h"
#include "platform/platform.h"
#include "report/reach.h"
#include "report/scratch.h"
#include "report/unwind.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Every thread of the process, sorted by tid, while a report is collected. */
typedef struct tasks {
    tl_task *task;
    size_t n;
} tasks;

/* A live thread with no recorded wait: running if the kernel runs it, else waiting in its syscall.
   */
static void kernel_state(tl_row *row, const tl_task *task)
{
    if (!task || task->state == 'R')
        return; /* not started yet, or on a CPU: running */
    row->state = TL_WAITING;
    tl_proc_wait_object(row->tid, row->object, sizeof row->object);
}

static bool alive(const void *ctx, pid_t tid)
{
    const tasks *all = ctx;
    tl_task key = {.tid = tid};
    const tl_task *t = bsearch(&key, all->task, all->n, sizeof key, tl_tid_cmp);
    return t && t->state != 'Z' && t->state != 'X';
}

/* What a waiting thread waits on, as a report prints it. */
static void wait_object(const tl_wait *w, char *buf, size_t len)
{
    pid_t target;
    switch (w->kind) {
    case TL_OBJ_NONE: buf[0] = 0; break;
    case TL_OBJ_ADDR: snprintf(buf, len, "0x%lx", (unsigned long)w->object); break;
    case TL_OBJ_FD:
    case TL_OBJ_FD_UNLEARNT: snprintf(buf, len, "fd %d", (int)w->object); break;
    case TL_OBJ_IO_URING: snprintf(buf, len, "io_uring fd %d", (int)w->object); break;
    case TL_OBJ_THREAD:
        if ((target = tl_registry_tid_of((pthread_t)w->object)))
            snprintf(buf, len, "tid %d", (int)target);
        else
            snprintf(buf, len, "thread 0x%lx", (unsigned long)w->object);
        break;
    }
}

/* Whom a waiting thread waits for, as far as the object tells: a mutex's owner, a rwlock's writer,
   the joined thread; and for a condition variable, semaphore, futex word, pipe or queue, who has
   woken it before; and whether the object says it is shared with other processes. The thread is
   pinned in its wait, so the object is alive. */
static void wait_target(const tl_wait *w, tl_row *r)
{
    uintptr_t key;
    r->nwakers = -1;
    r->timed = w->timed;
    switch (w->state) {
    case TL_MUTEX_LOCK:
        r->waits_for = tl_glibc_mutex_owner((pthread_mutex_t *)w->object);
        r->shared = tl_glibc_mutex_shared((pthread_mutex_t *)w->object);
        r->robust = tl_glibc_mutex_robust((pthread_mutex_t *)w->object);
        break;
    case TL_RWLOCK_READ:
    case TL_RWLOCK_WRITE:
        r->waits_for = tl_glibc_rwlock_writer((pthread_rwlock_t *)w->object);
        r->shared = tl_glibc_rwlock_shared((pthread_rwlock_t *)w->object);
        break;
    case TL_JOIN: r->waits_for = tl_registry_tid_of((pthread_t)w->object); break;
    case TL_BARRIER_WAIT:
        r->shared = tl_glibc_barrier_shared((pthread_barrier_t *)w->object);
        break;
    case TL_FUTEX_WAIT:
        if (w->kind == TL_OBJ_ADDR) /* else a futex_waitv whose words could not be read */
            r->nwakers = tl_wakers(w->object, r->wakers, &r->last_waker);
        break;
    case TL_COND_WAIT:
        r->shared = tl_glibc_cond_shared((pthread_cond_t *)w->object);
        r->unsignalled = !tl_glibc_cond_ever_signalled((pthread_cond_t *)w->object);
        r->nwakers = tl_wakers(w->object, r->wakers, &r->last_waker);
        break;
    case TL_SEM_WAIT:
        r->shared = tl_glibc_sem_shared((sem_t *)w->object);
        r->nwakers = tl_wakers(w->object, r->wakers, &r->last_waker);
        break;
    case TL_PIPE_READ:
    case TL_MQ_RECEIVE:
        if ((key = tl_fd_waker_key((int)w->object)))
            r->nwakers = tl_wakers(key, r->wakers, &r->last_waker);
        break;
    default: break;
    }
}

/* A read or write on a descriptor whose kind was not learnt when it began: a pipe's, a socket's,
   or a wait on anything else (a terminal, say). The thread is pinned in the call, so the
   descriptor is the one it waits on, unless another thread closed it and got its number back. */
static tl_state fd_state(const tl_wait *w)
{
    bool out = w->state == TL_PIPE_WRITE;
    switch (tl_fd_kind((int)w->object) & TL_FD_KIND) {
    case TL_FD_PIPE: return w->state;
    case TL_FD_SOCKET: return out ? TL_SOCKET_WRITE : TL_SOCKET_READ;
    default: return TL_WAITING;
    }
}

/* The unwinder, made at the first wait to unwind: it reads the modules' rules through the
   report's symbolizer. Made before a thread is pinned, so that no thread waits for its making. */
static tl_unwinder *unwinder(tl_report *rep, tl_unwinder **u)
{
    if (!*u && (rep->sym || (rep->sym = tl_symbolizer_new())))
        *u = tl_unwinder_new(tl_symbolizer_dwfl(rep->sym));
    return *u;
}

/* What the reachability scan needs of a held wait: where it is, and the registers it saved. */
static void reach_wait(const tl_wait *w, const tl_row *r, tl_reach_thread *rt)
{
    rt->role = TL_THREAD_WAITING;
    rt->record = w;
    rt->state = w->state;
    rt->object = w->object;
    rt->timed = w->timed;
    rt->shared = r->shared;
    rt->since_ns = w->since_ns;
    rt->sp = tl_cpu_sp(&w->ctx);
    tl_cpu_saved(&w->ctx, rt->regs);
}

/* Pins a wait that is blocked, or about to be: a record being written (the thread is inside
   tl_wait_begin, perhaps preempted there on a loaded machine) or pinned by another report is
   waited for, up to 20 ms. False when the thread is not in a recorded wait. */
static bool pin_soon(tl_wait *w)
{
    uint64_t deadline = 0;
    for (;;) {
        int phase = atomic_load(&w->phase);
        if (phase == TL_WAIT_IDLE || (phase == TL_WAIT_BLOCKED && tl_wait_pin(w)))
            return phase == TL_WAIT_BLOCKED;
        if (!deadline)
            deadline = tl_now_ns() + 20000000;
        else if (tl_now_ns() > deadline)
            return false;
        sched_yield();
    }
}

/* The state of a live thread that is waiting in a wrapper, with the stack of that wait and what
   the scan needs of it; false when it is not in one. The state, object and evidence are read even
   when no unwinder can be made: a recorded wait is never left to the kernel's word. */
static bool read_wait(tl_report *rep, tl_thread *t, tl_row *r, tl_reach_thread *rt, tl_unwinder **u)
{
    tl_wait *w = &t->wait;
    if (atomic_load(&w->phase) == TL_WAIT_IDLE)
        return false;
    unwinder(rep, u);
    if (!pin_soon(w))
        return false;
    r->state = w->kind == TL_OBJ_FD_UNLEARNT ? fd_state(w) : w->state;
    r->since_ns = w->since_ns;
    wait_object(w, r->object, sizeof r->object);
    wait_target(w, r);
    reach_wait(w, r, rt);
    if (*u)
        r->blocked_at = tl_unwind_wait(*u, w, t->stack_top, t->stack_size);
    tl_wait_unpin(w);
    return true;
}

/* A live thread we made that is in no recorded wait: running, or asleep in a call the library
   does not interpose. The kernel is asked now, not after the other threads are read, and a thread
   it finds asleep is read again: it may have entered a wait since (a busy pool does, all the
   time), and a recorded wait is never reported as the kernel's bare "waiting". */
static void read_running(tl_report *rep, tl_thread *t, tl_row *r, tl_reach_thread *rt,
                         tl_unwinder **u)
{
    tl_task task;
    for (int tries = 1; r->tid; tries++) {
        if (!tl_proc_task(r->tid, &task) || task.state == 'R' || read_wait(rep, t, r, rt, u))
            return; /* gone, on a CPU, or in a recorded wait */
        kernel_state(r, &task);
        if (read_wait(rep, t, r, rt, u) || r->object[0] || tries == 3)
            return;
        r->state = TL_RUNNING; /* in no system call: it ran on between the two looks */
    }
}

/* The thread that received a fatal signal: the stack the signal interrupted, which stands still
   while the thread waits in the handler for this report. */
static void fatal_stack(tl_report *rep, tl_row *r, uintptr_t stack_top, size_t stack_size,
                        tl_unwinder **u)
{
    r->fatal_signal = rep->fatal->sig;
    if (unwinder(rep, u))
        r->blocked_at = tl_unwind_signal(*u, &rep->fatal->ctx, stack_top, stack_size);
}

static bool is_fatal(const tl_report *rep, pid_t tid)
{
    return rep->fatal && rep->fatal->tid == tid;
}

/* The registry's threads as rows, into rows (room for n), waits unwound, and what the scan needs
   of each, into rt; not the waits of threads a name: rule hides (a runtime's own), which would
   cost a report its symbols for nothing (the scan takes them as unseen). */
static size_t registry_rows(tl_report *rep, const tl_filter *f, tl_thread **threads, size_t n,
                            tl_row *rows, tl_reach_thread *rt, tl_unwinder **u)
{
    /* The tids first: a thread not yet scheduled gets its share of the 50 ms before the
       unwinding below takes its time, and another look after it. */
    uint64_t deadline = tl_now_ns() + 50000000;
    for (size_t i = 0; i < n; i++)
        rows[i].tid = tl_thread_tid(threads[i], deadline);
    for (size_t i = 0; i < n; i++) {
        tl_thread *t = threads[i];
        tl_row *r = &rows[i];
        bool exited = atomic_load(&t->exited);
        if (!r->tid)
            r->tid = tl_thread_tid(t, 0);
        r->start = t->id;
        r->creator_tid = t->creator_tid;
        memcpy(r->name, t->name, sizeof r->name);
        r->name[sizeof r->name - 1] = 0; /* it may be renamed as we copy */
        r->created_at = t->created_at;
        r->state = exited ? TL_EXITED_UNJOINED : TL_RUNNING;
        r->since_ns = exited ? t->exited_ns : 0;
        r->suppressed =
            tl_rules_match_name(f->rules[0], r->name) || tl_rules_match_name(f->rules[1], r->name);
        rt[i] = (tl_reach_thread){.tid = r->tid,
                                  .role = exited ? TL_THREAD_ENDED : TL_THREAD_UNSEEN,
                                  .handle = (uintptr_t)t->handle,
                                  .stack_size = t->stack_size};
        tl_ended e;
        if (exited && r->tid && tl_registry_ended(r->tid, &e))
            rt[i].sp = e.sp;
        if (!exited && !r->suppressed && !read_wait(rep, t, r, &rt[i], u) && !is_fatal(rep, r->tid))
            read_running(rep, t, r, &rt[i], u);
        if (is_fatal(rep, r->tid))
            fatal_stack(rep, r, t->stack_top, t->stack_size, u);
    }
    return n;
}

/* The baseline is sorted by tid; a tid may appear twice (alive, and finished but unjoined). */
static bool in_baseline(const tl_filter *f, const tl_row *row)
{
    tl_thread_id key = {.tid = row->tid};
    const tl_thread_id *hit =
        f->nbaseline ? bsearch(&key, f->baseline, f->nbaseline, sizeof key, tl_tid_cmp) : NULL;
    if (!hit)
        return false;
    while (hit > f->baseline && hit[-1].tid == row->tid)
        hit--;
    for (; hit < f->baseline + f->nbaseline && hit->tid == row->tid; hit++)
        if (!row->start || !hit->start || hit->start == row->start)
            return true;
    return false;
}

/* Leaves out the threads the filter hides: they are neither listed nor counted. */
static void apply_filter(tl_report *r, const tl_filter *f)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        const tl_row *row = &r->rows[i];
        if (!row->fatal_signal &&
            (row->suppressed || in_baseline(f, row) || tl_rules_match(f->rules[0], r, row) ||
             tl_rules_match(f->rules[1], r, row)))
            r->threads_total--;
        else
            r->rows[kept++] = *row;
    }
    r->nrows = kept;
}

static int row_cmp(const void *a, const void *b)
{
    const tl_row *x = a, *y = b;
    if (x->state != y->state)
        return (int)x->state - (int)y->state;
    if (x->verdict != y->verdict)
        return (int)x->verdict - (int)y->verdict;
    if (x->untracked != y->untracked)
        return (int)x->untracked - (int)y->untracked;
    if (x->fatal_signal != y->fatal_signal)
        return x->fatal_signal - y->fatal_signal;
    if (x->blocked_at != y->blocked_at)
        return (uintptr_t)x->blocked_at < (uintptr_t)y->blocked_at ? -1 : 1;
    if (x->created_at != y->created_at)
        return (uintptr_t)x->created_at < (uintptr_t)y->created_at ? -1 : 1;
    return (x->tid > y->tid) - (x->tid < y->tid);
}

static bool same_group(const tl_row *x, const tl_row *y)
{
    return x->state == y->state && x->verdict == y->verdict && x->untracked == y->untracked &&
           x->fatal_signal == y->fatal_signal && x->blocked_at == y->blocked_at &&
           x->created_at == y->created_at;
}

static int group_cmp(const void *a, const void *b)
{
    const tl_group *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    if (x->rows->verdict != y->rows->verdict)
        return (int)x->rows->verdict - (int)y->rows->verdict;
    return row_cmp(x->rows, y->rows);
}

static bool make_groups(tl_report *r)
{
    qsort(r->rows, r->nrows, sizeof *r->rows, row_cmp);
    r->groups = calloc(r->nrows + 1, sizeof *r->groups);
    if (!r->groups)
        return false;
    for (size_t i = 0; i < r->nrows; i++) {
        const tl_row *row = &r->rows[i];
        tl_group *g = &r->groups[r->ngroups];
        if (i == 0 || !same_group(g[-1].rows, row)) {
            g->rows = row;
            g->object = row->object;
            g->evidence = row->evidence;
            g->ms_min = UINT64_MAX;
            r->ngroups++;
        } else {
            g--;
        }
        uint64_t ms = row->since_ns ? (r->now_ns - row->since_ns) / 1000000 : 0;
        g->ms_min = ms < g->ms_min ? ms : g->ms_min;
        g->ms_max = ms > g->ms_max ? ms : g->ms_max;
        if (strcmp(g->object, row->object) != 0)
            g->object = "";
        if (strcmp(g->evidence, row->evidence) != 0)
            g->evidence = "";
        g->count++;
        if (row->verdict != TL_VERDICT_RUNNING || r->every_thread_leaks)
            r->threads_leaked++;
    }
    for (size_t i = 0; i < r->ngroups; i++)
        if (!tl_group_mix(&r->groups[i]))
            return false;
    qsort(r->groups, r->ngroups, sizeof *r->groups, group_cmp);
    return true;
}

/* Why a thread the scan cannot see into is unseen: it runs, or waits where no wrapper records. */
static void unseen(tl_report *r, const tl_row *row, tl_reach_thread *rt)
{
    char why[sizeof row->object + 48];
    if (row->state == TL_RUNNING) {
        rt->unseen = "runs";
        return;
    }
    snprintf(why, sizeof why, "waits in %s, which threadleak does not record",
             row->object[0] ? row->object : "a call");
    rt->unseen = tl_strings_add(&r->strings, why);
}

/* A tracked thread's row: the registry knows it, and the kernel was asked while it was read
   (read_running). One that has finished may still be running glibc's thread exit (key
   destructors among it): the scan cannot see into it then. A thread that finished is no one's
   waker any more. */
static void refine_tracked(tl_report *r, tl_row *row, tl_task *task, tl_reach_thread *rt)
{
    if (rt->role == TL_THREAD_UNSEEN)
        unseen(r, row, rt);
    if (task && row->state == TL_EXITED_UNJOINED) {
        if (tl_proc_task(row->tid, task) && task->state != 'Z' && task->state != 'X') {
            rt->role = TL_THREAD_UNSEEN;
            rt->unseen = "is still ending";
        }
        task->state = 'Z';
    }
}

/* Whether a task is gone, or goes within 200 ms. */
static bool gone_soon(tl_task *task)
{
    for (long ms = 1; ms <= 128; ms *= 2) {
        nanosleep(&(struct timespec){0, ms * 1000000}, NULL);
        if (!tl_proc_task(task->tid, task) || task->state == 'Z' || task->state == 'X')
            return true;
    }
    return false;
}

/* A thread the library did not make (or main, when it received the fatal signal): false when it is
   gone, or glibc's timer thread. A thread we made that has just ended (it is in the registry's list
   of ends) may still be in the kernel, finishing its exit: for microseconds natively, for
   milliseconds under an emulator, which tears down its own state of the thread too. It is given
   the time to go; a task that stays has taken the tid anew, and is reported. */
static bool untracked_row(tl_report *r, tl_task *task, tl_row *row, size_t *excluded,
                          tl_reach_thread *rt, tl_unwinder **u)
{
    if (!tl_proc_task(task->tid, task) || task->state == 'Z' || task->state == 'X')
        return false; /* gone: only its /proc entry lingers */
    if (tl_registry_exit_time(task->tid) && gone_soon(task))
        return false;
    *rt = (tl_reach_thread){.tid = task->tid, .role = TL_THREAD_UNSEEN};
    if (task->tid == r->timer_helper) {
        ++*excluded; /* listed with the timers it serves */
        char in[48];
        tl_proc_wait_object(task->tid, in, sizeof in);
        /* in sigwaitinfo, it holds nothing of the program: its loop starts afresh each time */
        if (strcmp(in, "syscall:rt_sigtimedwait") == 0)
            rt->role = TL_THREAD_TIMER_HELPER;
        rt->unseen = "(glibc's timer thread) runs";
        return false;
    }
    *row = (tl_row){.tid = task->tid, .start = task->start, .state = TL_RUNNING};
    row->untracked = task->tid != r->pid;
    memcpy(row->name, task->comm, sizeof row->name);
    if (is_fatal(r, task->tid))
        fatal_stack(r, row, 0, 0, u);
    else
        kernel_state(row, task);
    unseen(r, row, rt);
    return true;
}

/* The main thread, when it is not the one writing the report: its wait, held and read, if it is
   in one. */
static void main_thread(tl_report *r, tl_reach_thread *rt, const tl_task *task)
{
    tl_wait *w = tl_registry_main_wait();
    tl_row row = {.tid = r->pid, .state = TL_RUNNING};
    *rt = (tl_reach_thread){.tid = r->pid, .main = true, .role = TL_THREAD_UNSEEN};
    if (task && (task->state == 'Z' || task->state == 'X')) {
        rt->role = TL_THREAD_ENDED; /* it left with pthread_exit */
    } else if (atomic_load(&w->phase) == TL_WAIT_BLOCKED && tl_wait_pin(w)) {
        if (tl_reach_judges(w->state))
            wait_target(w, &row);
        reach_wait(w, &row, rt);
        tl_wait_unpin(w);
    } else {
        kernel_state(&row, task);
        unseen(r, &row, rt);
    }
}

/* The thread writing the report: its frames from where it entered the library. */
static void caller_thread(tl_reach_thread *rt, pid_t tid, const tl_filter *filter, pid_t pid)
{
    const tl_caller *c = filter->caller;
    *rt = (tl_reach_thread){.tid = tid,
                            .main = tid == pid,
                            .role = TL_THREAD_UNSEEN,
                            .handle = (uintptr_t)pthread_self(),
                            .stack_size = tl_self ? tl_self->stack_size : 0};
    rt->unseen = "writes this report";
    if (c) {
        rt->role = TL_THREAD_CALLER;
        rt->sp = tl_cpu_sp(&c->ctx);
        tl_cpu_saved(&c->ctx, rt->regs);
    }
}

static bool same_from(const tl_from *a, const tl_from *b)
{
    return a->kind == b->kind && a->direct == b->direct && a->via_wait == b->via_wait &&
           a->tid == b->tid && a->via_tid == b->via_tid && a->fd == b->fd && a->fd2 == b->fd2 &&
           a->addr == b->addr && a->end == b->end && a->module == b->module;
}

/* The scan's answers, into the rows they are about. A pool's threads are found from one place: its
   words are written once, not once a thread (10,000 symbol lookups). The reasons for "unknown" are
   the scan's constant words, or the report's own. */
static void reach_rows(tl_report *r, tl_reach_thread *rt, const size_t *row_of, size_t n)
{
    const tl_from *said = NULL;
    const char *words = NULL;
    for (size_t i = 0; i < n; i++) {
        if (row_of[i] == SIZE_MAX)
            continue;
        tl_row *row = &r->rows[row_of[i]];
        row->reach = rt[i].result;
        row->reach_direct = rt[i].from.direct && !rt[i].from.via_wait;
        if (rt[i].result == TL_REACH_REACHABLE) {
            if (!said || !same_from(said, &rt[i].from)) {
                char from[160];
                if (!r->sym)
                    r->sym = tl_symbolizer_new();
                tl_reach_describe(&rt[i].from, r->sym, from, sizeof from);
                said = &rt[i].from;
                words = tl_strings_add(&r->strings, from);
            }
            row->reach_from = words;
        } else if (rt[i].result == TL_REACH_UNKNOWN) {
            row->reach_from = rt[i].unknown ? rt[i].unknown : r->unseen;
        }
    }
}

/* The process's argv, from /proc/self/cmdline (as the program may have rewritten it), each argument
   NUL-terminated; at most 64 KiB of it, whole arguments. NULL when it cannot be read. */
static char *read_command(size_t *len)
{
    enum { MAX = 65536 };
    char *buf = malloc(MAX);
    int fd = buf ? open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC) : -1;
    size_t n = 0;
    for (ssize_t got = 1; fd >= 0 && got > 0 && n < MAX; n += (size_t)got)
        if ((got = read(fd, buf + n, MAX - n)) < 0)
            got = 0;
    if (fd >= 0)
        close(fd);
    while (n && buf[n - 1]) /* a last argument cut short */
        n--;
    if (!n) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* The kernel's threads from the registry, sorted, when the kernel counts no more than the registry
   knows alive: those whose tid was known before the count and that had not ended after it, each
   then one of the kernel's (a thread ends through our wrappers). None is then unknown to us, and
   /proc/self/task need not be listed. False when that cannot be shown: a thread not yet started,
   one ending, or one the library did not make. */
static bool known_tids(pid_t pid, tl_thread **threads, size_t n, pid_t **tids, size_t *ntids)
{
    size_t *which = malloc((n + 1) * sizeof *which), k = 0, kept = 0;
    pid_t *known = malloc((n + 1) * sizeof *known);
    for (size_t i = 0; which && known && i < n; i++)
        if (!atomic_load(&threads[i]->exited) &&
            (known[k] = atomic_load_explicit(&threads[i]->tid, memory_order_acquire)))
            which[k++] = i;
    long others = which && known ? tl_proc_others() : -1;
    for (size_t j = 0; j < k; j++)
        if (!atomic_load(&threads[which[j]]->exited))
            known[kept++] = known[j];
    free(which);
    if (others < 0 || (size_t)others > kept) {
        free(known);
        return false;
    }
    known[kept++] = pid;
    qsort(known, kept, sizeof *known, tl_tid_cmp);
    *tids = known;
    *ntids = kept;
    return true;
}

/* What collecting a report works with, besides its rows: the threads as the scan sees them, the
   row each became (SIZE_MAX: none), every task the kernel has (its state 0, alive as far as we
   know, until the kernel is asked) and whether the registry knows it. One piece of scratch. */
typedef struct work {
    tl_reach_thread *rt;
    size_t *row_of;
    tl_task *task;
    bool *seen;
} work;

static bool work_take(work *w, size_t most, size_t ntasks)
{
    size_t rt = most * sizeof *w->rt, row_of = most * sizeof *w->row_of,
           task = (ntasks + 1) * sizeof *w->task;
    char *m = tl_scratch_take(TL_SCRATCH_WORK, rt + row_of + task + ntasks + 1);
    if (!m)
        return false;
    w->rt = (tl_reach_thread *)m;
    w->row_of = (size_t *)(m + rt);
    w->task = (tl_task *)(m + rt + row_of);
    w->seen = (bool *)(m + rt + row_of + task);
    return true;
}

/* A report, collected afresh up to `tries` times while threads move under a scan that takes less
   than RETRY_NS. */
#define RETRY_NS 250000000ull
/* How long the reachability scan may take (~3 s per GiB of heap): a live report must answer
   `threadleak dump`, which waits 5 s by default, and must not keep a service's core busy; a report
   at the end, or a test's check, may take longer. Past it, the verdicts it would give stay
   `blocked`, and say why. */
static unsigned scan_budget_ms(const char *trigger)
{
    return strcmp(trigger, "signal") == 0 || strcmp(trigger, "watch") == 0 ? 1000 : 10000;
}

static tl_report *collect(const char *trigger, const tl_filter *filter, int tries)
{
    tl_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->trigger = trigger;
    r->fatal = filter->fatal;
    clock_gettime(CLOCK_REALTIME, &r->time);
    r->command = read_command(&r->command_len);
    r->every_thread_leaks = filter->every_thread_leaks;
    r->pid = getpid();
    r->pileup = tl_opt.pileup;
    r->timer_helper = tl_timer_helper();
    pid_t *tids;
    tl_thread **threads;
    tl_registry_settle();
    size_t nthreads = tl_registry_hold_all(&threads), ntasks, unknown = 1;
    if (!known_tids(r->pid, threads, nthreads, &tids, &ntasks)) {
        /* Listed first: a thread made after the listing is then the registry's, not an unknown. */
        tl_registry_release_all(threads, nthreads);
        unknown = ntasks = tl_proc_tids(&tids);
        nthreads = tl_registry_hold_all(&threads);
    }
    /* A row, and a thread for the scan, for each of the registry's and each task it may not know
       (main, when the registry knew every other). */
    size_t most = nthreads + unknown + 2;
    tl_unwinder *u = NULL;
    work w;
    r->rows = tl_scratch_take(TL_SCRATCH_ROWS, most * sizeof *r->rows);
    if (!r->rows || !work_take(&w, most, ntasks)) {
        free(tids);
        tl_registry_release_all(threads, nthreads);
        tl_report_free(r);
        return NULL;
    }
    tl_reach_thread *rt = w.rt;
    size_t *row_of = w.row_of, nrt = nthreads;
    tl_task *task = w.task;
    bool *seen = w.seen;
    r->nrows = registry_rows(r, filter, threads, nthreads, r->rows, rt, &u);
    r->now_ns = tl_now_ns();
    for (size_t i = 0; i < ntasks; i++)
        task[i].tid = tids[i];
    free(tids);
    pid_t caller = tl_gettid();
    size_t kept = 0, excluded = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        tl_row row = r->rows[i];
        tl_task key = {.tid = row.tid};
        tl_task *t = row.tid ? bsearch(&key, task, ntasks, sizeof *task, tl_tid_cmp) : NULL;
        row_of[i] = SIZE_MAX;
        if (t)
            seen[t - task] = true;
        if (row.tid == caller) {
            excluded++;
            caller_thread(&rt[i], caller, filter, r->pid);
            continue;
        }
        refine_tracked(r, &row, t, &rt[i]);
        row_of[i] = kept;
        r->rows[kept++] = row;
    }
    for (size_t i = 0; i < ntasks; i++) {
        if (seen[i])
            continue;
        row_of[nrt] = SIZE_MAX;
        if (task[i].tid == caller) {
            excluded++;
            caller_thread(&rt[nrt++], caller, filter, r->pid);
        } else if (task[i].tid == r->pid && !is_fatal(r, r->pid)) {
            excluded++;
            tl_proc_task(task[i].tid, &task[i]);
            main_thread(r, &rt[nrt++], &task[i]);
        } else if (untracked_row(r, &task[i], &r->rows[kept], &excluded, &rt[nrt], &u)) {
            row_of[nrt++] = kept++;
        } else if (rt[nrt].tid) {
            nrt++; /* glibc's timer thread: no row, but a thread */
        }
    }
    tl_unwinder_free(u);
    r->nrows = kept;
    r->threads_total = kept + excluded;
    if (tl_opt.reach) {
        /* Our thread records are pointed to by glibc's descriptors and our TLS: not the
           program's memory. */
        uintptr_t *ours = malloc((nthreads + 1) * sizeof *ours);
        for (size_t i = 0; ours && i < nthreads; i++)
            ours[i] = (uintptr_t)threads[i];
        uint64_t began = tl_now_ns();
        bool moved = tl_reach_scan(rt, nrt, filter->caller, ours, ours ? nthreads : 0,
                                   scan_budget_ms(trigger), r->unseen, sizeof r->unseen);
        free(ours);
        if (moved && tries > 1 && tl_now_ns() - began < RETRY_NS) {
            /* A waiting thread woke (a sleeper's tick) or took a signal while memory was read:
               its registers and every answer are stale. Ask again from the start, when the scan
               is quick: a slow one in a busy process would only be paid again. */
            tl_registry_release_all(threads, nthreads);
            tl_scratch_give(TL_SCRATCH_WORK, w.rt);
            tl_report_free(r);
            return collect(trigger, filter, tries - 1);
        }
        reach_rows(r, rt, row_of, nrt);
    }
    tl_registry_release_all(threads, nthreads);
    apply_filter(r, filter);
    tl_verdicts_assign(r, alive, &(tasks){task, ntasks});
    tl_scratch_give(TL_SCRATCH_WORK, w.rt);
    if (!filter->no_resources)
        r->nresources = tl_resource_groups(&r->resources);
    if ((!filter->no_resources && !r->resources) || !make_groups(r)) {
        tl_report_free(r);
        return NULL;
    }
    return r;
}

/* Three tries: a program whose threads wake more often than a scan takes gets "unknown". */
tl_report *tl_report_collect(const char *trigger, const tl_filter *filter)
{
    return collect(trigger, filter, 3);
}

const tl_frame *tl_report_frames(tl_report *r, uintptr_t return_address, unsigned *n)
{
    static const tl_frame unknown = {.function = "??"};
    if (!r->sym && !(r->sym = tl_symbolizer_new())) {
        *n = 1;
        return &unknown;
    }
    return tl_symbolize(r->sym, return_address, n);
}

const tl_stack *tl_group_stack(const tl_group *g)
{
    return g->rows->blocked_at ? g->rows->blocked_at : g->rows->created_at;
}

void tl_report_free(tl_report *r)
{
    if (!r)
        return;
    free(r->command);
    tl_symbolizer_free(r->sym);
    tl_strings_free(r->strings);
    free(r->resources);
    free(r->groups);
    tl_scratch_give(TL_SCRATCH_ROWS, r->rows);
    free(r);
}

void tl_report_time(const tl_report *r, char *buf, size_t len)
{
    struct tm tm;
    char date[32];
    localtime_r(&r->time.tv_sec, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    long offset = tm.tm_gmtoff / 60;
    snprintf(buf, len, "%s.%03ld%c%02ld:%02ld", date, r->time.tv_nsec / 1000000,
             offset < 0 ? '-' : '+', labs(offset) / 60, labs(offset) % 60);
}
