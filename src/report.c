/* A report: every thread of the process as rows (from the registry, refined by what the kernel
   says), grouped by identical state, verdict and stacks, largest group first, then rendered. */
#include "tl.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int task_cmp(const void *a, const void *b)
{
    pid_t x = ((const tl_task *)a)->tid, y = ((const tl_task *)b)->tid;
    return (x > y) - (x < y);
}

/* A live thread with no recorded wait: running if the kernel runs it, else waiting in its syscall. */
static void kernel_state(tl_row *row, const tl_task *task)
{
    if (!task || task->state == 'R')
        return; /* not started yet, or on a CPU: running */
    row->state = TL_WAITING;
    tl_proc_wait_object(row->tid, row->object, sizeof row->object);
}

int tl_thread_id_cmp(const void *a, const void *b)
{
    pid_t x = ((const tl_thread_id *)a)->tid, y = ((const tl_thread_id *)b)->tid;
    return (x > y) - (x < y);
}

static bool alive(const tl_report *r, pid_t tid)
{
    tl_task key = {.tid = tid};
    const tl_task *t = bsearch(&key, r->tasks, r->ntasks, sizeof key, task_cmp);
    return t && t->state != 'Z' && t->state != 'X';
}

/* The baseline is sorted by tid; a tid may appear twice (alive, and finished but unjoined). */
static bool in_baseline(const tl_filter *f, const tl_row *row)
{
    tl_thread_id key = {.tid = row->tid};
    const tl_thread_id *hit = f->nbaseline ? bsearch(&key, f->baseline, f->nbaseline,
                                                     sizeof key, tl_thread_id_cmp) : NULL;
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
        if (in_baseline(f, row) || tl_rules_match(f->rules[0], r->sym, row) ||
            tl_rules_match(f->rules[1], r->sym, row))
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
    if (x->blocked_at != y->blocked_at)
        return (uintptr_t)x->blocked_at < (uintptr_t)y->blocked_at ? -1 : 1;
    if (x->created_at != y->created_at)
        return (uintptr_t)x->created_at < (uintptr_t)y->created_at ? -1 : 1;
    return (x->tid > y->tid) - (x->tid < y->tid);
}

static bool same_group(const tl_row *x, const tl_row *y)
{
    return x->state == y->state && x->verdict == y->verdict && x->untracked == y->untracked &&
           x->blocked_at == y->blocked_at && x->created_at == y->created_at;
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
            g->object = "(several)";
        if (strcmp(g->evidence, row->evidence) != 0)
            g->evidence = "";
        g->count++;
        if (row->verdict != TL_VERDICT_RUNNING || r->every_thread_leaks)
            r->threads_leaked++;
    }
    qsort(r->groups, r->ngroups, sizeof *r->groups, group_cmp);
    return true;
}

/* A tracked thread's row: the registry knows it; the kernel is asked only what a thread with no
   recorded wait is doing. */
static void refine_tracked(tl_row *row, tl_task *task)
{
    if (row->state == TL_RUNNING)
        kernel_state(row, task && tl_proc_task(row->tid, task) ? task : NULL);
    if (task && row->state == TL_EXITED_UNJOINED)
        task->state = 'Z';
}

/* A thread the library did not make: false when it is gone, or glibc's timer thread. */
static bool untracked_row(tl_report *r, tl_task *task, tl_row *row, size_t *excluded)
{
    if (!tl_proc_task(task->tid, task) || task->state == 'Z' || task->state == 'X')
        return false; /* gone: only its /proc entry lingers */
    if (task->tid == r->timer_helper) {
        ++*excluded; /* listed with the timers it serves */
        return false;
    }
    *row = (tl_row){.tid = task->tid, .start = task->start, .state = TL_RUNNING, .untracked = true};
    memcpy(row->name, task->comm, sizeof row->name);
    kernel_state(row, task);
    return true;
}

tl_report *tl_report_collect(const char *trigger, const tl_filter *filter)
{
    tl_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->trigger = trigger;
    r->every_thread_leaks = filter->every_thread_leaks;
    r->pid = getpid();
    r->pileup = tl_opt.pileup;
    r->timer_helper = tl_timer_helper();
    pid_t *tids;
    tl_registry_settle();
    size_t ntasks = tl_proc_tids(&tids);
    /* The modules first: the unwinder reads their rules, and the symbols their names. */
    r->sym = tl_symbolizer_new();
    tl_unwinder *unwinder = r->sym ? tl_unwinder_new(tl_symbolizer_dwfl(r->sym)) : NULL;
    r->nrows = tl_registry_rows(&r->rows, ntasks, unwinder);
    tl_unwinder_free(unwinder);
    r->now_ns = tl_now_ns();
    /* Every listed thread, its state 0 (alive, as far as we know) until the kernel is asked. */
    tl_task *tasks = calloc(ntasks + 1, sizeof *tasks);
    bool *seen = calloc(ntasks + 1, sizeof *seen); /* seen[i]: task i is tracked */
    for (size_t i = 0; tasks && i < ntasks; i++)
        tasks[i].tid = tids[i];
    free(tids);
    if (!r->rows || !tasks || !seen || !r->sym) {
        free(seen);
        free(tasks);
        tl_report_free(r);
        return NULL;
    }
    pid_t caller = tl_gettid();
    size_t kept = 0, excluded = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        tl_row row = r->rows[i];
        tl_task key = {.tid = row.tid};
        tl_task *task = row.tid ? bsearch(&key, tasks, ntasks, sizeof *tasks, task_cmp) : NULL;
        if (task)
            seen[task - tasks] = true;
        if (row.tid == caller) {
            excluded++;
            continue;
        }
        refine_tracked(&row, task);
        r->rows[kept++] = row;
    }
    for (size_t i = 0; i < ntasks; i++) {
        if (seen[i])
            continue;
        if (tasks[i].tid == caller || tasks[i].tid == r->pid)
            excluded++;
        else if (untracked_row(r, &tasks[i], &r->rows[kept], &excluded))
            kept++;
    }
    r->nrows = kept;
    r->threads_total = kept + excluded;
    free(seen);
    apply_filter(r, filter);
    r->tasks = tasks;
    r->ntasks = ntasks;
    tl_verdicts_assign(r, alive);
    r->tasks = NULL;
    r->ntasks = 0;
    free(tasks);
    if (!filter->no_resources)
        r->nresources = tl_resource_groups(&r->resources);
    if ((!filter->no_resources && !r->resources) || !make_groups(r)) {
        tl_report_free(r);
        return NULL;
    }
    return r;
}

const tl_stack *tl_group_stack(const tl_group *g)
{
    return g->rows->blocked_at ? g->rows->blocked_at : g->rows->created_at;
}

void tl_report_free(tl_report *r)
{
    if (!r)
        return;
    tl_symbolizer_free(r->sym);
    free(r->resources);
    free(r->groups);
    free(r->rows);
    free(r);
}

char *tl_report_render(tl_report *r, tl_format format, size_t *len)
{
    char *buf = NULL;
    FILE *out = open_memstream(&buf, len);
    if (!out)
        return NULL;
    switch (format) {
    case TL_FMT_TEXT: tl_format_text(out, r, false); break;
    case TL_FMT_FULL: tl_format_text(out, r, true); break;
    case TL_FMT_JSON: tl_format_json(out, r); break;
    case TL_FMT_FOLDED: tl_format_folded(out, r); break;
    case TL_FMT_PPROF: tl_format_pprof(out, r); break;
    }
    if (fclose(out) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
