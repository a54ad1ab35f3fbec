/* Watching a running process for a group of threads that keeps growing (the watch option).

   Every interval the helper thread counts the program's threads by group: the stack that made them
   (interned, so a pointer) and where they are now: the state and the site of their wait (the
   wrapper's return address, from the wait record), running, or finished but not joined. Nothing is
   unwound, named or read from /proc: the count reads each thread's record once, under the
   registry's lock.

   Each group keeps its counts at its last WINDOW samples on four scales: every sample, every 4th,
   every 16th and every 64th, so that a leak slower than one thread an interval shows on a coarser
   scale. A group keeps growing, on a scale, when its WINDOW counts, cut into four quarters, climb
   from quarter to quarter (the lowest count of each quarter is above the highest of the one
   before) and the last is at least MIN_RISE above the first. A pool that fills up to its size
   within six intervals, a burst that comes and goes, or a count that wanders around a level, does
   not climb through four quarters; a leak of one thread per request does. Such a group gets a
   report (trigger "watch", that group first with its growth), and another one only once it has
   doubled since. */
#include "trigger/watch.h"

#include "core/helper.h"
#include "core/options.h"
#include "format/format.h"
#include "report/report.h"
#include "trigger/metrics.h"
#include "trigger/output.h"

#include <stdlib.h>
#include <string.h>

#define WINDOW 12 /* samples a scale keeps: four quarters of three */
#define QUARTER (WINDOW / 4)
#define SCALES 4   /* scale s takes one sample in 4^s */
#define MIN_RISE 8 /* threads more at the end of the window than at its start */
#define MAX_GROUPS 4096
#define MAX_FOUND 8 /* groups one report puts first; more wait for the next sample */

/* A group as the watch sees it: no verdict, no stack of the wait, only its site. */
typedef struct key {
    const tl_stack *created_at;
    uintptr_t site;  /* 0 when not in a recorded wait */
    uintptr_t state; /* a tl_state */
} key;

typedef struct group {
    key key;
    bool used;
    uint32_t now;      /* its threads in the sample being taken */
    uint32_t reported; /* its size at its last report, 0 for none */
    uint32_t counts[SCALES][WINDOW];
} group;

typedef struct found {
    key key;
    tl_growth growth;
    group *group;
} found;

/* The helper thread's alone, but for the fork child. */
static struct {
    group *table; /* open addressing; size is a power of two */
    size_t size, used;
    bool full;        /* a group found no room in this sample */
    bool warned;      /* about MAX_GROUPS */
    uint64_t samples; /* taken so far */
    uint64_t at[SCALES][WINDOW];
    uint64_t next_ns;
} watch;

static size_t slot_of(const key *k)
{
    uint64_t h = (uint64_t)(uintptr_t)k->created_at * 0x9e3779b97f4a7c15u;
    h ^= (h >> 29) ^ (uint64_t)k->site * 0xc2b2ae3d27d4eb4fu ^ k->state;
    h ^= h >> 32;
    return (size_t)(h * 0x9e3779b97f4a7c15u >> 17) & (watch.size - 1);
}

/* The group of k; a new one if there is none, NULL when there is no room (watch.full is set). */
static group *find(const key *k)
{
    for (size_t i = slot_of(k);; i = (i + 1) & (watch.size - 1)) {
        group *g = &watch.table[i];
        if (g->used && memcmp(&g->key, k, sizeof *k) == 0)
            return g;
        if (g->used)
            continue;
        if ((watch.used + 1) * 4 > watch.size * 3 || watch.used >= MAX_GROUPS) {
            watch.full = true;
            return NULL;
        }
        *g = (group){.key = *k, .used = true};
        watch.used++;
        return g;
    }
}

/* A new table of size slots with every group that still has a thread in its history, or false
   when out of memory (the old one stays). */
static bool rebuild(size_t size)
{
    group *old = watch.table;
    size_t old_size = watch.size;
    group *table = calloc(size, sizeof *table);
    if (!table)
        return false;
    watch.table = table;
    watch.size = size;
    watch.used = 0;
    for (size_t i = 0; i < old_size; i++) {
        const group *g = &old[i];
        bool alive = g->used && g->now;
        for (int s = 0; g->used && s < SCALES && !alive; s++)
            for (int j = 0; j < WINDOW && !alive; j++)
                alive = g->counts[s][j] != 0;
        group *copy = alive ? find(&g->key) : NULL;
        if (copy)
            *copy = *g;
    }
    free(old);
    return true;
}

/* Under the registry's lock: one thread into its group. The wait record is read without pinning
   it: a wait that ends meanwhile is counted as running, and one that ends and begins again is
   counted at one of its two sites, which is all a count needs. */
static void tally(void *ctx, const tl_thread *t)
{
    (void)ctx;
    key k = {.created_at = t->created_at, .state = TL_RUNNING};
    const tl_wait *w = &t->wait;
    if (atomic_load_explicit(&t->exited, memory_order_relaxed)) {
        k.state = TL_EXITED_UNJOINED;
    } else if (atomic_load_explicit(&w->phase, memory_order_acquire) >= TL_WAIT_BLOCKED) {
        tl_state state = __atomic_load_n(&w->state, __ATOMIC_RELAXED);
        uintptr_t site = __atomic_load_n(&w->site, __ATOMIC_RELAXED);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&w->phase, memory_order_relaxed) >= TL_WAIT_BLOCKED) {
            k.state = state;
            k.site = site;
        }
    }
    group *g = find(&k);
    if (g)
        g->now++;
}

/* Counts every thread into watch.table's now; the table grows when a group found no room. */
static void count(void)
{
    for (;;) {
        for (size_t i = 0; i < watch.size; i++)
            watch.table[i].now = 0;
        watch.full = false;
        tl_registry_each(tally, NULL);
        if (!watch.full)
            return;
        if (watch.used >= MAX_GROUPS || !rebuild(watch.size * 4)) {
            if (!watch.warned)
                tl_warn("watch: more than %d groups of threads; the others are not watched",
                        MAX_GROUPS);
            watch.warned = true;
            return;
        }
    }
}

/* Whether g climbs through the window of scale s, whose newest slot is newest. */
static bool climbs(const group *g, int s, size_t newest, tl_growth *growth)
{
    uint32_t x[WINDOW]; /* oldest first */
    for (size_t i = 0; i < WINDOW; i++)
        x[i] = g->counts[s][(newest + 1 + i) % WINDOW];
    for (size_t q = QUARTER; q < WINDOW; q += QUARTER) {
        uint32_t before = 0, lowest = UINT32_MAX;
        for (size_t i = q - QUARTER; i < q; i++)
            before = x[i] > before ? x[i] : before;
        for (size_t i = q; i < q + QUARTER; i++)
            lowest = x[i] < lowest ? x[i] : lowest;
        if (lowest <= before)
            return false;
    }
    if (x[WINDOW - 1] < x[0] + MIN_RISE)
        return false;
    uint64_t first = watch.at[s][(newest + 1) % WINDOW], last = watch.at[s][newest];
    *growth = (tl_growth){x[0], x[WINDOW - 1], (double)(last - first) / 1e9};
    return true;
}

/* Offers a growing group for the report: of more than MAX_FOUND, the largest rises are kept. */
static void offer(found *f, size_t *n, group *g, const tl_growth *growth)
{
    size_t at = *n, rise = growth->to - growth->from;
    if (*n == MAX_FOUND) {
        at = 0;
        for (size_t i = 1; i < *n; i++)
            if (f[i].growth.to - f[i].growth.from < f[at].growth.to - f[at].growth.from)
                at = i;
        if (f[at].growth.to - f[at].growth.from >= rise)
            return;
    } else {
        ++*n;
    }
    f[at] = (found){g->key, *growth, g};
}

static int by_rise(const void *a, const void *b)
{
    const found *x = a, *y = b;
    size_t rx = x->growth.to - x->growth.from, ry = y->growth.to - y->growth.from;
    return (rx < ry) - (rx > ry);
}

/* Keeps the sample in the history of every scale it belongs to, and finds the groups that keep
   growing and have not been reported at this size (on the finest scale that shows it), largest
   rise first. */
static size_t judge(uint64_t now_ns, found *f)
{
    size_t n = 0, slot[SCALES];
    uint64_t sample = watch.samples++, point[SCALES];
    int scales = 0;
    for (uint64_t every = 1; scales < SCALES && sample % every == 0; scales++, every *= 4) {
        point[scales] = sample / every;
        slot[scales] = (size_t)(point[scales] % WINDOW);
        watch.at[scales][slot[scales]] = now_ns;
    }
    for (size_t i = 0; i < watch.size; i++) {
        group *g = &watch.table[i];
        bool taken = false;
        tl_growth growth;
        for (int s = 0; g->used && s < scales; s++) {
            g->counts[s][slot[s]] = g->now;
            if (!taken && point[s] + 1 >= WINDOW && climbs(g, s, slot[s], &growth) &&
                (!g->reported || growth.to >= 2 * (size_t)g->reported)) {
                taken = true;
                offer(f, &n, g, &growth);
            }
        }
    }
    qsort(f, n, sizeof *f, by_rise);
    for (size_t i = 0; i < n; i++)
        f[i].group->reported = (uint32_t)f[i].growth.to;
    return n;
}

/* Whether a report's group holds the threads of a watched group. The report splits them further,
   by verdict and by the whole stack of the wait, whose innermost return address is the site. */
static bool holds(const tl_group *g, const key *k)
{
    const tl_row *row = g->rows;
    if (row->untracked || row->created_at != k->created_at)
        return false;
    if (k->state == TL_RUNNING) /* the kernel may say it waits in a call we do not wrap */
        return row->state == TL_RUNNING || row->state == TL_WAITING;
    return row->state == k->state &&
           (!k->site || !row->blocked_at || row->blocked_at->pc[0] == k->site);
}

/* The groups of r that hold a found group first, with its growth; false when none does (its
   threads are suppressed). */
static bool put_first(tl_report *r, const found *f, size_t n)
{
    tl_group *order = malloc((r->ngroups + 1) * sizeof *order);
    bool *moved = calloc(r->ngroups + 1, sizeof *moved);
    size_t k = 0;
    for (size_t i = 0; order && moved && i < n; i++)
        for (size_t j = 0; j < r->ngroups; j++)
            if (!moved[j] && holds(&r->groups[j], &f[i].key)) {
                moved[j] = true;
                order[k] = r->groups[j];
                order[k++].growth = &f[i].growth;
            }
    bool any = k > 0;
    for (size_t j = 0; any && j < r->ngroups; j++)
        if (!moved[j])
            order[k++] = r->groups[j];
    if (any)
        memcpy(r->groups, order, r->ngroups * sizeof *order);
    free(order);
    free(moved);
    return any;
}

static void report_growth(tl_report *r, const found *f, size_t n)
{
    size_t len;
    char *buf = put_first(r, f, n) ? tl_report_render(r, tl_opt.format, &len) : NULL;
    if (buf)
        tl_output_write(tl_opt.output, buf, len);
    free(buf);
}

/* The helper's job: a sample when one is due; a report when a group keeps growing; the metrics
   file. A sample that comes late (a long report before it) is taken now, and the next one an
   interval later. */
static uint64_t watch_job(uint64_t now_ns)
{
    uint64_t interval = tl_opt.watch_ms * 1000000;
    if (now_ns < watch.next_ns)
        return watch.next_ns;
    watch.next_ns = watch.next_ns && now_ns - watch.next_ns < interval ? watch.next_ns + interval
                                                                       : now_ns + interval;
    if (watch.used * 2 > watch.size || watch.samples % 256 == 0) { /* room, and no dead groups */
        size_t size = 64;
        while (size < watch.used * 4)
            size *= 2;
        rebuild(size);
    }
    if (!watch.table)
        return watch.next_ns;
    count();
    found f[MAX_FOUND];
    size_t n = judge(now_ns, f);
    tl_report *r = NULL;
    if (n || tl_opt.metrics[0])
        r = tl_report_collect("watch", &(tl_filter){.rules = {tl_rules_of_process()}});
    if (r && n)
        report_growth(r, f, n);
    if (r && tl_opt.metrics[0])
        tl_metrics_write(r, tl_opt.metrics);
    tl_report_free(r);
    return watch.next_ns;
}

void tl_watch_start(void)
{
    if (!tl_opt.watch_ms) {
        if (tl_opt.metrics[0])
            tl_warn("metrics=%s is written at every watch sample: set watch too (watch=30s)",
                    tl_opt.metrics);
        return;
    }
    tl_helper_add(watch_job);
    /* A program with no thread but main has no group to grow, and keeps glibc's single-thread
       fast paths until its first thread starts the helper; its metrics file is written from the
       start. */
    if (tl_opt.metrics[0])
        tl_helper_start_now();
}

/* The child's threads are its own: its watch starts afresh, with its helper. */
void tl_watch_fork_child(void)
{
    if (watch.table)
        memset(watch.table, 0, watch.size * sizeof *watch.table);
    watch.used = 0;
    watch.samples = 0;
    watch.next_ns = 0;
}
