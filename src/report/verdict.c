/* States and verdicts, by the contract's names. A verdict is the report's judgement of a thread:
   until there is proof that nothing will wake it, a waiting thread is only "blocked". */
#include "report/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const verdict_names[] = {
    [TL_DEADLOCK] = "deadlock", [TL_ORPHANED] = "orphaned",       [TL_BLOCKED] = "blocked",
    [TL_UNJOINED] = "unjoined", [TL_VERDICT_RUNNING] = "running",
};

const char *tl_verdict_name(tl_verdict v)
{
    return verdict_names[v];
}

void tl_duration(char *buf, size_t len, uint64_t ms)
{
    if (ms < 1000)
        snprintf(buf, len, "%llu ms", (unsigned long long)ms);
    else if (ms < 120000)
        snprintf(buf, len, "%.1f s", ms / 1e3);
    else if (ms < 7200000)
        snprintf(buf, len, "%.1f min", ms / 6e4);
    else
        snprintf(buf, len, "%.1f h", ms / 3.6e6);
}

/* The longest evidence said of a thread; more is cut. */
#define EVIDENCE_MAX 256

typedef struct node {
    pid_t tid;
    size_t row;
} node;

_Static_assert(offsetof(node, tid) == 0, "sorted with tl_tid_cmp");

/* The row of the thread a row waits for, or SIZE_MAX when it waits for none we list. */
static size_t target(const tl_report *r, const node *nodes, const tl_row *row)
{
    node key = {.tid = row->waits_for};
    const node *hit =
        row->waits_for ? bsearch(&key, nodes, r->nrows, sizeof key, tl_tid_cmp) : NULL;
    return hit ? hit->row : SIZE_MAX;
}

/* An edge of the wait-for graph: a wait with a deadline is none, as it ends. */
static bool waits_for_ever(const tl_row *row)
{
    return row->state != TL_RUNNING && row->state != TL_EXITED_UNJOINED && !row->timed;
}

/* Marks every thread on a wait-for cycle as deadlocked. Each thread waits for at most one other,
   so a walk from each thread either ends or comes back on itself. */
static void find_cycles(tl_report *r, size_t *next)
{
    unsigned char *seen = calloc(r->nrows, 1); /* 0 new, 1 on this walk, 2 done */
    if (!seen)
        return;
    for (size_t start = 0; start < r->nrows; start++) {
        size_t i = start;
        while (i != SIZE_MAX && !seen[i]) {
            seen[i] = 1;
            i = next[i];
        }
        if (i != SIZE_MAX && seen[i] == 1) { /* back on this walk: i is on a cycle */
            char ev[EVIDENCE_MAX];
            size_t len = sizeof ev,
                   used = (size_t)snprintf(ev, len, "wait-for cycle: tid %d", (int)r->rows[i].tid);
            for (size_t j = next[i]; used < len; j = next[j]) {
                used += (size_t)snprintf(ev + used, len - used, " -> tid %d", (int)r->rows[j].tid);
                if (j == i)
                    break;
            }
            const char *shared = tl_strings_add(&r->strings, ev);
            size_t j = i;
            do {
                r->rows[j].verdict = TL_DEADLOCK;
                r->rows[j].evidence = shared;
                j = next[j];
            } while (j != i);
        }
        for (i = start; i != SIZE_MAX && seen[i] == 1; i = next[i])
            seen[i] = 2;
    }
    free(seen);
}

/* "has exited", or "exited 5.0 s ago" when we saw it end. */
static void exited(const tl_report *r, pid_t tid, char *buf, size_t len)
{
    uint64_t ns = tl_registry_exit_time(tid);
    char ago[32];
    tl_duration(ago, sizeof ago, ns && ns < r->now_ns ? (r->now_ns - ns) / 1000000 : 0);
    snprintf(buf, len, ns ? "exited %s ago" : "has exited", ago);
}

/* How a waiter on each kind of object is woken: "signalled", "posted", "written", "sent". */
static const char *wake_verb(tl_state s)
{
    switch (s) {
    case TL_COND_WAIT: return "signalled";
    case TL_SEM_WAIT: return "posted";
    case TL_PIPE_READ: return "written";
    case TL_MQ_RECEIVE: return "sent";
    case TL_FUTEX_WAIT: return "woken";
    default: return NULL;
    }
}

/* What a waiter waits on, in words. */
static const char *noun(tl_state s)
{
    switch (s) {
    case TL_COND_WAIT: return "condition variable";
    case TL_MUTEX_LOCK: return "mutex";
    case TL_RWLOCK_READ:
    case TL_RWLOCK_WRITE: return "rwlock";
    case TL_SEM_WAIT: return "semaphore";
    case TL_BARRIER_WAIT: return "barrier";
    case TL_FUTEX_WAIT: return "futex word";
    default: return "object";
    }
}

/* A row's evidence: what it said (when `more`), then "; " and the words of fmt. */
static void say(tl_report *r, tl_row *row, bool more, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void say(tl_report *r, tl_row *row, bool more, const char *fmt, va_list ap)
{
    char ev[EVIDENCE_MAX];
    size_t used = more ? (size_t)snprintf(ev, sizeof ev, "%s", row->evidence) : 0;
    if (used && used + 2 < sizeof ev)
        used += (size_t)snprintf(ev + used, sizeof ev - used, "; ");
    if (used < sizeof ev)
        vsnprintf(ev + used, sizeof ev - used, fmt, ap);
    row->evidence = tl_strings_add(&r->strings, ev);
}

static void set_evidence(tl_report *r, tl_row *row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_evidence(tl_report *r, tl_row *row, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(r, row, false, fmt, ap);
    va_end(ap);
}

/* Appends "; more" to a row's evidence. */
static void add_evidence(tl_report *r, tl_row *row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_evidence(tl_report *r, tl_row *row, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(r, row, true, fmt, ap);
    va_end(ap);
}

/* A wait with a deadline ends: the evidence against it is said, but no verdict rests on it. */
static void orphan(tl_report *r, tl_row *row)
{
    if (!row->timed)
        row->verdict = TL_ORPHANED;
    else
        add_evidence(r, row, "a deadline ends the wait");
}

/* A lock whose owner is not alive here. It was ours and ended: no one will unlock it (unless it is
   robust: the kernel then hands it to a waiter). A thread of another process, or one that cannot be
   told: another process may unlock it. */
static void owner_gone(tl_report *r, tl_row *row)
{
    char gone[48], path[32];
    uint64_t ns = tl_registry_exit_time(row->waits_for);
    exited(r, row->waits_for, gone, sizeof gone);
    snprintf(path, sizeof path, "/proc/%d", (int)row->waits_for);
    if (row->shared || (!ns && access(path, F_OK) == 0)) {
        set_evidence(r, row, "owner tid %d is not a thread of this process", (int)row->waits_for);
        return;
    }
    set_evidence(r, row, "owner tid %d %s", (int)row->waits_for, gone);
    if (row->robust)
        add_evidence(r, row, "a robust mutex: its owner's death hands it to a waiter");
    else
        orphan(r, row);
}

/* What the reachability scan found, for a judged wait that no other proof settled. */
static void reach_evidence(tl_report *r, tl_row *row)
{
    switch (row->reach) {
    case TL_REACH_UNREACHABLE:
        row->verdict = TL_ORPHANED;
        set_evidence(r, row,
                     "unreachable: no global, no stack or register of a thread that can run, and "
                     "nothing the kernel holds reaches this %s",
                     noun(row->state));
        break;
    case TL_REACH_UNKNOWN:
        add_evidence(r, row, "no root seen reaches it, but %s", row->reach_from);
        break;
    case TL_REACH_REACHABLE:
    case TL_REACH_SHARED:
    case TL_REACH_NONE: break;
    }
}

/* A wait that nothing alive will end, on the evidence of the object alone, or of what can reach
   it; never a wait on an object shared with another process. */
static void find_orphans(tl_report *r, bool (*alive)(const void *, pid_t), const void *ctx)
{
    char gone[48];
    for (size_t i = 0; i < r->nrows; i++) {
        tl_row *row = &r->rows[i];
        const char *verb = wake_verb(row->state);
        bool lock = row->state == TL_MUTEX_LOCK || row->state == TL_RWLOCK_READ ||
                    row->state == TL_RWLOCK_WRITE;
        if (row->verdict != TL_BLOCKED)
            continue;
        if (row->shared || row->reach == TL_REACH_SHARED) {
            set_evidence(r, row, "process-shared: another process may wake it");
            if (lock && row->waits_for && !alive(ctx, row->waits_for))
                add_evidence(r, row, "owner tid %d is not a thread of this process",
                             (int)row->waits_for);
            continue;
        }
        if (lock && row->waits_for && !alive(ctx, row->waits_for)) {
            owner_gone(r, row);
        } else if (row->nwakers < 0 && (row->state == TL_COND_WAIT || row->state == TL_SEM_WAIT)) {
            /* more than it keeps, or a signal that found no room in its table */
            set_evidence(r, row, "its wakers are unknown: threadleak could not record every one");
        } else if (verb && row->nwakers == 0) {
            /* a pool freshly started waits for work: evidence, but no verdict */
            set_evidence(r, row, "never %s", verb);
        } else if (verb && row->nwakers > 0 && row->unsignalled) {
            /* the object at this address is new: whoever signalled it before was not its waker */
            set_evidence(
                r, row,
                "no signal has reached a waiter since it was initialised (tid %d signalled "
                "this address before)",
                (int)row->last_waker);
        } else if (verb && row->nwakers > 0) {
            int living = 0;
            for (int w = 0; w < row->nwakers; w++)
                living += alive(ctx, row->wakers[w]);
            bool last_alive = alive(ctx, row->last_waker);
            exited(r, row->last_waker, gone, sizeof gone);
            if (!living && row->nwakers > 1)
                set_evidence(r, row, "all %d that ever %s it have exited; the last, tid %d, %s",
                             row->nwakers, verb, (int)row->last_waker, gone);
            else
                set_evidence(r, row, "last %s by tid %d%s%s", verb, (int)row->last_waker,
                             last_alive ? "" : ", which ", last_alive ? "" : gone);
            /* Every waker gone: strong evidence, unless a thread that can run still reaches the
               object (then it may wake it), or the scan could not tell. The scan decides for
               objects in memory; pipes and queues, timed waits, and every object when the scan
               is off (reach=0), go by the wakers. */
            if (!living && row->reach == TL_REACH_REACHABLE)
                add_evidence(r, row, "still reachable%s%s", row->reach_direct ? ": " : " ",
                             row->reach_from);
            else if (!living && row->reach == TL_REACH_NONE)
                orphan(r, row);
        }
        if (row->verdict == TL_BLOCKED && !row->timed)
            reach_evidence(r, row);
    }
}

/* A lock's waiter whose owner is alive names it, and what it is doing: "held by tid 7, sleep". */
static void name_owners(tl_report *r, const node *nodes)
{
    for (size_t i = 0; i < r->nrows; i++) {
        tl_row *row = &r->rows[i];
        bool lock = row->state == TL_MUTEX_LOCK || row->state == TL_RWLOCK_READ ||
                    row->state == TL_RWLOCK_WRITE;
        if (!lock || !row->waits_for || row->evidence[0])
            continue;
        size_t owner = target(r, nodes, row);
        set_evidence(r, row, "held%s by tid %d%s%s",
                     row->state == TL_MUTEX_LOCK ? "" : " for writing", (int)row->waits_for,
                     owner == SIZE_MAX ? "" : ", ",
                     owner == SIZE_MAX ? "" : tl_state_name(r->rows[owner].state));
    }
}

void tl_verdicts_assign(tl_report *r, bool (*alive)(const void *, pid_t), const void *ctx)
{
    for (size_t i = 0; i < r->nrows; i++) {
        tl_row *row = &r->rows[i];
        row->evidence = "";
        row->verdict = row->state == TL_EXITED_UNJOINED ? TL_UNJOINED
                       : row->state == TL_RUNNING       ? TL_VERDICT_RUNNING
                                                        : TL_BLOCKED;
    }
    node *nodes = malloc((r->nrows + 1) * sizeof *nodes);
    size_t *next = malloc((r->nrows + 1) * sizeof *next);
    if (nodes && next) {
        for (size_t i = 0; i < r->nrows; i++)
            nodes[i] = (node){r->rows[i].tid, i};
        qsort(nodes, r->nrows, sizeof *nodes, tl_tid_cmp);
        for (size_t i = 0; i < r->nrows; i++)
            next[i] = waits_for_ever(&r->rows[i]) ? target(r, nodes, &r->rows[i]) : SIZE_MAX;
        find_cycles(r, next);
    }
    find_orphans(r, alive, ctx);
    /* Waiting behind a stuck thread is being stuck: spread along the edges until nothing changes.
       */
    for (bool changed = nodes && next; changed;) {
        changed = false;
        for (size_t i = 0; i < r->nrows; i++) {
            tl_row *row = &r->rows[i];
            if (row->verdict != TL_BLOCKED || next[i] == SIZE_MAX)
                continue;
            const tl_row *t = &r->rows[next[i]];
            if (t->verdict == TL_DEADLOCK || t->verdict == TL_ORPHANED) {
                row->verdict = t->verdict;
                set_evidence(r, row, "waits for tid %d, which is %s", (int)t->tid,
                             t->verdict == TL_DEADLOCK ? "deadlocked" : "orphaned");
                changed = true;
            }
        }
    }
    if (nodes)
        name_owners(r, nodes);
    free(nodes);
    free(next);
}
