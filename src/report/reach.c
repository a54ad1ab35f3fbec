/* The reachability scan: marks every block, stack and chunk that a root reaches, the way a
   conservative collector marks, and judges the waits on memory by it. See reach.h.

   Roots are taken in an order that names them best (globals first, then what the kernel holds,
   then the threads that can run, then other mappings), each followed to its end before the next,
   so that a reached object carries the first root that reached it. Blocks are read in batches,
   many per process_vm_readv, since most are small. A stuck thread whose object gets reached can
   run again: its registers and stack are followed then, with the same root.

   The result holds only if nothing moved while memory was read: every held wait must still be the
   same wait afterwards, none of the threads that could run unseen (a signal handler in a held wait,
   glibc's timer thread) may have run (its schedstat: times put on a CPU, time on one), and no
   thread may have come or gone. Else the caller may try again; after a few tries, unknown. */
#include "report/reach.h"

#include "core/base.h"
#include "core/lock.h"
#include "core/proc.h"
#include "report/reach_map.h"
#include "report/symbols.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define BATCH 512          /* blocks read by one system call */
#define BUFFER (1u << 20)  /* bytes read by one system call */
#define NAMED_GLOBALS 4096 /* globals named one by one; past that, by module */

bool tl_reach_judges(tl_state state)
{
    switch (state) {
    case TL_COND_WAIT:
    case TL_MUTEX_LOCK:
    case TL_RWLOCK_READ:
    case TL_RWLOCK_WRITE:
    case TL_SEM_WAIT:
    case TL_FUTEX_WAIT:
    case TL_BARRIER_WAIT: return true;
    default: return false;
    }
}

typedef struct item {
    uintptr_t lo, hi;
    uint32_t origin;
} item;

/* A judged wait's object, where it lies: key is its block's (or stack region's) start. */
typedef struct candidate {
    uintptr_t key;
    size_t thread;
} candidate;

typedef struct scan {
    tl_space sp;
    tl_reach_thread *threads;
    bool *stuck, *placed, *runs; /* runs: a stuck thread whose object was reached */
    tl_vec items, origins, candidates;
    uint64_t bloom[1024]; /* candidate keys, for a quick "no" */
    unsigned char *buffer;
    pid_t pid;
    size_t named;      /* globals named so far */
    uint64_t deadline; /* of the time it may take */
    bool failed;       /* out of memory */
    bool late;         /* stopped at its deadline */
} scan;

static uint32_t add_origin(scan *s, tl_from from)
{
    tl_from *o = tl_vec_push(&s->origins);
    if (!o) {
        s->failed = true;
        return 0;
    }
    *o = from;
    return (uint32_t)(s->origins.n - 1);
}

static size_t bloom_bit(uintptr_t key)
{
    return (size_t)((key >> 4) * 0x9E3779B97F4A7C15ull >> 48) % (sizeof(((scan *)0)->bloom) * 8);
}

static void push(scan *s, uintptr_t lo, uintptr_t hi, uint32_t origin)
{
    item *it = lo < hi ? tl_vec_push(&s->items) : NULL;
    if (it)
        *it = (item){lo, hi, origin};
    else if (lo < hi)
        s->failed = true;
}

static void mark_word(scan *s, uintptr_t w, uint32_t origin, uintptr_t at);

/* Marks a stack or chunk region, queues what is to be read of it, and tells its waits. */
static void reached(scan *s, uintptr_t key, uint32_t origin);

static void mark_region(scan *s, tl_region *r, uint32_t origin)
{
    r->marked = true;
    if (r->kind == TL_REGION_CHUNK)
        push(s, r->lo + TL_MALLOC_HEADER, r->hi, origin);
    else
        push(s, r->scan_lo, r->scan_hi, origin);
    reached(s, r->lo, origin);
}

/* A stuck thread whose object was reached may run: what it holds is reached too. */
static void runs(scan *s, size_t t, uint32_t origin)
{
    tl_reach_thread *th = &s->threads[t];
    if (s->runs[t])
        return;
    s->runs[t] = true;
    tl_from via = TL_VEC_AT(s->origins, tl_from, origin);
    if (!via.via_wait) { /* the first stuck thread on the way names the way */
        via.via_wait = true;
        via.via_tid = th->tid;
    }
    uint32_t o = add_origin(s, via);
    tl_region *stack = tl_space_region(&s->sp, th->sp);
    if (stack && stack->kind == TL_REGION_STACK && !stack->marked)
        mark_region(s, stack, o);
    for (int i = 0; i < TL_CPU_SAVED; i++)
        mark_word(s, th->regs[i], o, 0);
}

static void reached(scan *s, uintptr_t key, uint32_t origin)
{
    if (!(s->bloom[bloom_bit(key) / 64] >> (bloom_bit(key) % 64) & 1))
        return;
    candidate *c = s->candidates.data;
    size_t lo = 0, hi = s->candidates.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < s->candidates.n && c[lo].key == key; lo++) {
        tl_reach_thread *t = &s->threads[c[lo].thread];
        if (t->result == TL_REACH_REACHABLE)
            continue;
        t->result = TL_REACH_REACHABLE;
        t->from = TL_VEC_AT(s->origins, tl_from, origin);
        if (s->stuck[c[lo].thread])
            runs(s, c[lo].thread, origin);
    }
}

/* The origin of what a word at `at` reaches: a global's own word is named, while few are. */
static uint32_t word_origin(scan *s, uint32_t origin, uintptr_t at)
{
    tl_from from = TL_VEC_AT(s->origins, tl_from, origin);
    if (!at || from.kind != TL_FROM_GLOBAL || from.addr || s->named >= NAMED_GLOBALS)
        return origin;
    s->named++;
    from.addr = at;
    return add_origin(s, from);
}

/* One word that may point into a region (from memory at `at`, or from a register or value when
   0): what it lands in is marked, and queued to be read. Interior pointers land in the block that
   holds them, and so do pointers with low tag bits. */
static void mark_word(scan *s, uintptr_t w, uint32_t origin, uintptr_t at)
{
    tl_region *r = tl_space_region(&s->sp, w);
    uintptr_t chunk, next;
    if (!r)
        return;
    if (r->kind == TL_REGION_ARENA) {
        if (!tl_region_chunk(r, w, &chunk, &next) || tl_region_test(r, chunk))
            return;
        tl_region_set(r, chunk);
        origin = word_origin(s, origin, at);
        /* its memory: after its header, through the next chunk's first word */
        push(s, chunk + TL_MALLOC_HEADER, next + sizeof(uintptr_t) < r->hi ? next + 8 : r->hi,
             origin);
        reached(s, chunk, origin);
    } else if (!r->marked) {
        mark_region(s, r, word_origin(s, origin, at));
    }
}

static void scan_words(scan *s, const unsigned char *bytes, size_t len, uintptr_t at,
                       uint32_t origin)
{
    for (size_t i = 0; i + sizeof(uintptr_t) <= len; i += sizeof(uintptr_t)) {
        uintptr_t w;
        memcpy(&w, bytes + i, sizeof w);
        if (w >= s->sp.lo && w < s->sp.hi)
            mark_word(s, w, origin, at + i);
    }
}

/* Reads and scans the queued items until none is left, many per system call. */
static void drain(scan *s)
{
    struct iovec remote[BATCH];
    item batch[BATCH];
    while (s->items.n && !s->failed) {
        if (tl_now_ns() > s->deadline) {
            s->late = true; /* what is left unread leaves every answer unknown */
            s->items.n = 0;
            break;
        }
        size_t n = 0, bytes = 0;
        while (s->items.n && n < BATCH) {
            item *top = &TL_VEC_AT(s->items, item, s->items.n - 1), it = *top;
            if (it.hi - it.lo > BUFFER - bytes) {
                if (n)
                    break;
                it.hi = it.lo + BUFFER; /* a large one a buffer at a time: the rest stays */
                top->lo += BUFFER;
            } else {
                s->items.n--;
            }
            batch[n] = it;
            remote[n++] = (struct iovec){(void *)it.lo, it.hi - it.lo};
            bytes += it.hi - it.lo;
        }
        struct iovec local = {s->buffer, bytes};
        long got = tl_sys(SYS_process_vm_readv, s->pid, (long)&local, 1, (long)remote, (long)n, 0);
        if (got != (long)bytes) {
            /* One at a time (or refused: through /proc/self/mem); what cannot be read at all went
               away under the scan, and only a thread that ran could do that. */
            size_t at = 0;
            for (size_t i = 0; i < n; i++) {
                size_t len = batch[i].hi - batch[i].lo;
                if (tl_space_read(&s->sp, batch[i].lo, s->buffer + at, len) != len) {
                    tl_space_why(&s->sp, "memory at 0x%lx went away while it was read",
                                 (unsigned long)batch[i].lo);
                    memset(s->buffer + at, 0, len);
                }
                at += len;
            }
        }
        size_t at = 0;
        for (size_t i = 0; i < n; i++) {
            scan_words(s, s->buffer + at, batch[i].hi - batch[i].lo, batch[i].lo, batch[i].origin);
            at += batch[i].hi - batch[i].lo;
        }
    }
}

static int candidate_cmp(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

/* Whether the scan judges thread t's wait. */
static bool judge(const tl_reach_thread *t)
{
    return t->role == TL_THREAD_WAITING && tl_reach_judges(t->state) && !t->timed && !t->shared;
}

/* Where a judged wait's object lies: a block or a stack (a candidate, to be reached or not), a
   root (reachable), memory shared with other processes, or memory the scan cannot divide. */
static void place(scan *s, size_t i)
{
    tl_reach_thread *t = &s->threads[i];
    const tl_root *home;
    tl_region *r = tl_space_region(&s->sp, t->object);
    uintptr_t key = 0, next;
    t->result = TL_REACH_UNKNOWN;
    if (tl_space_shared(&s->sp, t->object)) {
        t->result = TL_REACH_SHARED;
    } else if (r && r->kind == TL_REGION_ARENA) {
        if (!tl_region_chunk(r, t->object, &key, &next) || tl_region_test(r, key)) {
            t->unknown = "it lies in a heap chunk that is not in use";
            key = 0;
        }
    } else if (r) {
        key = r->lo;
    } else if ((home = tl_space_home(&s->sp, t->object))) {
        t->result = TL_REACH_REACHABLE;
        t->from = home->from;
        t->from.direct = true;
        if (t->from.kind == TL_FROM_GLOBAL)
            t->from.addr = t->object;
    } else {
        t->unknown = "it lies in memory the scan cannot divide into blocks";
    }
    candidate *c = key ? tl_vec_push(&s->candidates) : NULL;
    if (c) {
        *c = (candidate){key, i};
        s->bloom[bloom_bit(key) / 64] |= 1ull << (bloom_bit(key) % 64);
        s->placed[i] = true;
    } else if (key) {
        s->failed = true;
    }
}

/* The order roots are followed in: the one that names an object best comes first. */
static int rank(tl_from_kind kind)
{
    switch (kind) {
    case TL_FROM_GLOBAL: return 0;
    case TL_FROM_TIMER:
    case TL_FROM_MQ_NOTIFY:
    case TL_FROM_EPOLL:
    case TL_FROM_PIPE:
    case TL_FROM_SOCKET: return 1;
    case TL_FROM_STACK:
    case TL_FROM_REGISTERS: return 2;
    case TL_FROM_MAPPING: return 3;
    }
    return 3;
}

static void follow_roots(scan *s, size_t n)
{
    for (int level = 0; level <= 3 && !s->failed; level++) {
        /* Stuck threads whose object lies in a root itself (a global condition variable) may run
           too. */
        for (size_t i = 0; i < n && !s->failed; i++) {
            tl_reach_thread *t = &s->threads[i];
            if (s->stuck[i] && t->result == TL_REACH_REACHABLE && rank(t->from.kind) == level) {
                runs(s, i, add_origin(s, t->from));
                drain(s);
            }
        }
        for (size_t i = 0; i < s->sp.values.n && !s->failed; i++) {
            const tl_value *v = &TL_VEC_AT(s->sp.values, tl_value, i);
            if (rank(v->from.kind) == level && tl_space_region(&s->sp, v->value)) {
                mark_word(s, v->value, add_origin(s, v->from), 0);
                drain(s);
            }
        }
        for (size_t i = 0; i < s->sp.roots.n && !s->failed; i++) {
            const tl_root *r = &TL_VEC_AT(s->sp.roots, tl_root, i);
            if (rank(r->from.kind) == level) {
                push(s, r->lo, r->hi, add_origin(s, r->from));
                drain(s);
            }
        }
    }
}

/* The threads that could change the program's memory while the scan reads it without leaving a
   trace in their records: a held wait (a signal handler may run inside it) and glibc's timer thread
   (it starts notification threads). Running and unseen threads already make the answer unknown;
   the library's own threads are not listed; ended ones run nothing of the program. */
static bool may_run(const tl_reach_thread *t)
{
    return t->role == TL_THREAD_WAITING || t->role == TL_THREAD_TIMER_HELPER;
}

/* What schedstat says of each such thread, into runs[2 * i] (0 for the others). Returns the tid
   of one the kernel says nothing of, or 0. */
static pid_t count_runs(const tl_reach_thread *threads, size_t n, unsigned long long *runs)
{
    pid_t unknown = 0;
    for (size_t i = 0; i < n; i++) {
        runs[2 * i] = runs[2 * i + 1] = 0;
        if (may_run(&threads[i]) && !tl_proc_runs(threads[i].tid, &runs[2 * i]))
            unknown = threads[i].tid;
    }
    return unknown;
}

/* A thread that ran since count_runs gave before[], or 0. One that ran meanwhile was put on a
   CPU since (its count grew), or was on one then and left it (its time grew), or still is. */
static pid_t ran_since(const tl_reach_thread *threads, size_t n, const unsigned long long *before,
                       unsigned long long *after)
{
    pid_t busy = count_runs(threads, n, after);
    for (size_t i = 0; i < n && !busy; i++) {
        tl_task task;
        if (!may_run(&threads[i]))
            continue;
        if (after[2 * i] != before[2 * i] || after[2 * i + 1] != before[2 * i + 1] ||
            !tl_proc_task(threads[i].tid, &task) || task.state == 'R')
            busy = threads[i].tid;
    }
    return busy;
}

/* Whether the threads are those the scan was told of, and every held wait the same wait. */
static bool still(const tl_reach_thread *threads, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const tl_reach_thread *t = &threads[i];
        if (t->role == TL_THREAD_WAITING) {
            int phase = atomic_load(&((tl_wait *)t->record)->phase);
            if ((phase != TL_WAIT_BLOCKED && phase != TL_WAIT_PINNED) ||
                t->record->since_ns != t->since_ns)
                return false;
        }
    }
    pid_t *tids;
    size_t ntids = tl_proc_tids(&tids), known = 0;
    bool same = true;
    for (size_t i = 0; i < n; i++)
        if (threads[i].role != TL_THREAD_ENDED) {
            known++;
            same = same && tl_proc_has(tids, ntids, threads[i].tid);
        }
    free(tids);
    return same && ntids == known;
}

/* Judged waits on a global (the common case: a pool waiting on a static condition variable) are
   reachable without a scan. Returns how many judged waits are left for one. */
static size_t left_after_globals(tl_reach_thread *threads, size_t n)
{
    size_t left = 0;
    for (size_t i = 0; i < n; i++) {
        Dl_info where;
        tl_reach_thread *t = &threads[i];
        if (!judge(t))
            continue;
        if (dladdr((void *)t->object, &where) && where.dli_fbase) {
            t->result = TL_REACH_REACHABLE;
            t->from = (tl_from){.kind = TL_FROM_GLOBAL,
                                .direct = true,
                                .addr = t->object,
                                .module = (uintptr_t)where.dli_fbase};
        } else {
            left++;
        }
    }
    return left;
}

static tl_lock scan_lock; /* one scan at a time: its state and the map's window are static */

bool tl_reach_scan(tl_reach_thread *threads, size_t n, const tl_caller *caller,
                   const uintptr_t *ours, size_t nours, unsigned budget_ms, char *why,
                   size_t why_len)
{
    static TL_LARGE scan s;
    pid_t ran = 0;
    size_t judged = 0;
    why[0] = 0;
    for (size_t i = 0; i < n; i++) {
        threads[i].result = TL_REACH_NONE;
        judged += judge(&threads[i]);
        if (threads[i].role == TL_THREAD_WAITING && threads[i].shared &&
            tl_reach_judges(threads[i].state))
            threads[i].result = TL_REACH_SHARED;
        if (threads[i].role == TL_THREAD_UNSEEN && !why[0])
            snprintf(why, why_len, "tid %d %s, and its registers cannot be seen",
                     (int)threads[i].tid, threads[i].unseen ? threads[i].unseen : "runs");
    }
    if (!judged || !left_after_globals(threads, n))
        return false;
    tl_lock_acquire(&scan_lock);
    tl_space_begin();
    s = (scan){.threads = threads,
               .items = TL_VEC(item),
               .origins = TL_VEC(tl_from),
               .candidates = TL_VEC(candidate),
               .pid = getpid(),
               .deadline = tl_now_ns() + budget_ms * 1000000ull};
    tl_vec flags = TL_VEC(bool), buffer = {.elem = BUFFER};
    tl_vec counts = {.elem = 4 * n * sizeof(unsigned long long)};
    unsigned long long *runs = tl_vec_push(&counts);
    for (size_t i = 0; i < 3 * n && !s.failed; i++)
        s.failed = !tl_vec_push(&flags);
    s.failed = s.failed || !runs;
    s.stuck = flags.data;
    s.placed = s.stuck + n;
    s.runs = s.placed + n;
    s.buffer = tl_vec_push(&buffer);
    bool built = !s.failed && s.buffer;
    ran = built ? count_runs(threads, n, runs) : 0;
    for (size_t i = 0; built && i < n; i++)
        s.stuck[i] = judge(&threads[i]);
    built = built && tl_space_build(&s.sp, threads, n, s.stuck, caller);
    if (built) {
        for (size_t i = 0; i < n; i++)
            if (judge(&threads[i]))
                place(&s, i);
        qsort(s.candidates.data, s.candidates.n, sizeof(candidate), candidate_cmp);
        /* The library's own blocks are not the program's: nothing is reached through them. */
        for (size_t i = 0; i < nours; i++) {
            tl_region *r = tl_space_region(&s.sp, ours[i]);
            uintptr_t chunk, next;
            if (r && r->kind == TL_REGION_ARENA && tl_region_chunk(r, ours[i], &chunk, &next) &&
                chunk + TL_MALLOC_HEADER == ours[i])
                tl_region_set(r, chunk);
        }
        follow_roots(&s, n);
    }
    if (!why[0] && s.sp.why[0])
        snprintf(why, why_len, "%s", s.sp.why);
    if (!why[0] && (s.failed || !built))
        snprintf(why, why_len, "the scan ran out of memory");
    if (!why[0] && s.late)
        snprintf(why, why_len, "the scan took longer than %u ms", budget_ms);
    bool moved = false;
    if (!why[0]) {
        if (!ran && !still(threads, n))
            ran = -1;
        else if (!ran)
            ran = ran_since(threads, n, runs, runs + 2 * n);
        moved = ran != 0;
        if (ran > 0)
            snprintf(why, why_len, "tid %d ran while memory was read", (int)ran);
        else if (ran)
            snprintf(why, why_len, "a thread ran while memory was read");
    }
    /* What no root reached is unreachable, when every root was seen; unknown otherwise, and so is
       every judged wait when memory could not even be divided (a foreign malloc). */
    for (size_t i = 0; i < n; i++) {
        if (judge(&threads[i]) && threads[i].result == TL_REACH_NONE)
            threads[i].result = TL_REACH_UNKNOWN;
        if (s.placed && s.placed[i] && threads[i].result == TL_REACH_UNKNOWN && !why[0])
            threads[i].result = TL_REACH_UNREACHABLE;
    }
    tl_space_free(&s.sp);
    tl_vec_free(&s.items);
    tl_vec_free(&s.origins);
    tl_vec_free(&s.candidates);
    tl_vec_free(&buffer);
    tl_vec_free(&flags);
    tl_vec_free(&counts);
    tl_space_end();
    tl_lock_release(&scan_lock);
    return moved;
}

/* The root alone: "global `kept` (server)", "the stack of tid 12". */
static void root_words(const tl_from *from, tl_symbolizer *sym, char *buf, size_t len)
{
    char name[128] = "";
    switch (from->kind) {
    case TL_FROM_GLOBAL:
        tl_symbolize_data(sym, from->addr, from->module, name, sizeof name);
        snprintf(buf, len, "%sglobal %s", from->direct ? "the " : "", name);
        break;
    case TL_FROM_MAPPING:
        snprintf(buf, len, "memory mapped at 0x%lx", (unsigned long)from->addr);
        break;
    case TL_FROM_STACK: snprintf(buf, len, "the stack of tid %d", (int)from->tid); break;
    case TL_FROM_REGISTERS: snprintf(buf, len, "a register of tid %d", (int)from->tid); break;
    case TL_FROM_TIMER:
        snprintf(buf, len, "the sigev_value of timer %lu", (unsigned long)from->addr);
        break;
    case TL_FROM_MQ_NOTIFY: snprintf(buf, len, "the notification of queue fd %d", from->fd); break;
    case TL_FROM_EPOLL:
        snprintf(buf, len, "the data of fd %d in epoll fd %d", from->fd2, from->fd);
        break;
    case TL_FROM_PIPE: snprintf(buf, len, "unread bytes of pipe fd %d", from->fd); break;
    case TL_FROM_SOCKET: snprintf(buf, len, "unread bytes of socket fd %d", from->fd); break;
    }
}

void tl_reach_describe(const tl_from *from, tl_symbolizer *sym, char *buf, size_t len)
{
    char root[160];
    tl_from origin = *from;
    origin.via_wait = false;
    root_words(&origin, sym, root, sizeof root);
    if (from->via_wait)
        snprintf(buf, len, "from the stack of tid %d, which waits on %s%s", (int)from->via_tid,
                 from->direct ? "" : "an object reachable from ", root);
    else if (from->direct)
        snprintf(buf, len, "it %s %s", from->kind == TL_FROM_GLOBAL ? "is" : "lies in", root);
    else
        snprintf(buf, len, "from %s", root);
}
