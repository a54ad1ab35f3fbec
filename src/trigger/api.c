/* The public API of include/threadleak.h: snapshots, the leak check for tests, and dumps. */
#include "threadleak.h"

#include "core/start.h"
#include "format/format.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct threadleak_snapshot {
    size_t n;
    tl_thread_id ids[];
};

/* Every thread alive now, and every finished one not yet joined: by tid and start time, so that
   a tid reused later by a new thread is not taken for one of these. */
TL_API threadleak_snapshot *threadleak_snapshot_take(void)
{
    tl_start();
    TL_KEEP_ERRNO;
    tl_guard++;
    tl_registry_settle();
    pid_t *tids;
    tl_thread **ours;
    size_t ntids = tl_proc_tids(&tids), nours = tl_registry_hold_all(&ours);
    threadleak_snapshot *snap =
        tids && ours ? malloc(sizeof *snap + (ntids + nours) * sizeof *snap->ids) : NULL;
    if (snap) {
        snap->n = 0;
        /* A thread just created may not have run yet: a snapshot, taken by a test, can wait for
           it longer than a report would (a second, shared by all). */
        uint64_t deadline = tl_now_ns() + 1000000000;
        for (size_t i = 0; i < nours; i++) {
            pid_t tid = tl_thread_tid(ours[i], deadline);
            if (tid)
                snap->ids[snap->n++] = (tl_thread_id){tid, ours[i]->id};
        }
        qsort(snap->ids, snap->n, sizeof *snap->ids, tl_tid_cmp);
        size_t ntracked = snap->n;
        /* The kernel's start time names the threads we did not make: read only theirs. */
        for (size_t i = 0; i < ntids; i++) {
            tl_thread_id key = {.tid = tids[i]};
            tl_task task;
            if (!bsearch(&key, snap->ids, ntracked, sizeof key, tl_tid_cmp) &&
                tl_proc_task(tids[i], &task))
                snap->ids[snap->n++] = (tl_thread_id){task.tid, task.start};
        }
        qsort(snap->ids, snap->n, sizeof *snap->ids, tl_tid_cmp);
    }
    free(tids);
    tl_registry_release_all(ours, nours);
    tl_guard--;
    return snap;
}

TL_API void threadleak_snapshot_free(threadleak_snapshot *snap)
{
    free(snap);
}

/* The caller's options, checked, with the defaults for what its version of the struct lacks. */
static bool read_opts(const threadleak_opts *in, threadleak_opts *opts, tl_format *format)
{
    static const size_t first_size = offsetof(threadleak_opts, out) + sizeof(FILE *);
    *opts = (threadleak_opts)THREADLEAK_OPTS_INIT;
    *format = TL_FMT_TEXT;
    if (!in)
        return true;
    if (in->size < first_size) {
        tl_warn("threadleak_opts.size is %zu: initialise the options with THREADLEAK_OPTS_INIT",
                in->size);
        return false;
    }
    memcpy(opts, in, in->size < sizeof *opts ? in->size : sizeof *opts);
    if (opts->format && !tl_format_parse(opts->format, strlen(opts->format), format)) {
        tl_warn("threadleak_opts.format: '%s' is not text, full, json, pprof or folded",
                opts->format);
        return false;
    }
    return true;
}

static int write_report(tl_report *r, tl_format format, const threadleak_opts *opts)
{
    size_t len;
    char *buf = tl_report_render(r, format, &len);
    FILE *out = opts->out ? opts->out : stderr;
    int rc = buf && fwrite(buf, 1, len, out) == len && fflush(out) == 0 ? 0 : -1;
    free(buf);
    return rc;
}

/* How long a leaked thread that still runs at the deadline gets to reach a wait. */
#define SETTLE_NS 250000000ull

/* A thread we made, in no wait: one just made may not have reached its first wait yet (a loaded
   machine, a sanitizer's thread start), and its report would say where it was made but not where
   it stops. */
static bool has_running_thread(const tl_report *r)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].state == TL_RUNNING && !r->rows[i].untracked)
            return true;
    return false;
}

/* goleak's schedule: check at once, then after a sleep that doubles from 1 us up to 100 ms, until
   the threads are gone or the time is up. A check that fails with threads still running checks
   again every 10 ms, up to SETTLE_NS more, until they wait or end: only a failing check pays. */
static int verify(const threadleak_opts *opts, tl_format format, const tl_filter *filter)
{
    uint64_t deadline = tl_now_ns() + opts->timeout_ms * 1000000ull;
    uint64_t pause_ns = 1000;
    bool settling = false;
    for (;;) {
        tl_report *r = tl_report_collect("api", filter);
        if (!r)
            return -1;
        int leaked = (int)r->threads_leaked;
        bool running = leaked && has_running_thread(r);
        uint64_t now = tl_now_ns();
        if (running && now >= deadline && !settling) {
            settling = true;
            deadline = now + SETTLE_NS;
            pause_ns = 10000000;
        }
        if (leaked == 0 || now >= deadline || (settling && !running)) {
            if (leaked)
                write_report(r, format, opts);
            tl_report_free(r);
            return leaked;
        }
        tl_report_free(r);
        uint64_t left = deadline - now, ns = pause_ns < left ? pause_ns : left;
        struct timespec t = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
        nanosleep(&t, NULL);
        if (pause_ns < 100000000u && !settling)
            pause_ns *= 2;
    }
}

/* Runs the check (verify) or the dump with the filter that opts asks for: its baseline, and its
   suppressions on top of the suppressions file's. caller: the registers where the program called
   in, for the reachability scan (its frames are roots: it goes on running). */
static int check(const threadleak_opts *in, bool verifying, const tl_caller *caller)
{
    tl_start();
    TL_KEEP_ERRNO;
    threadleak_opts opts;
    tl_format format;
    if (!read_opts(in, &opts, &format))
        return -1;
    tl_guard++;
    tl_rules *rules = NULL;
    if (opts.suppressions)
        tl_rules_add(&rules, opts.suppressions, "threadleak_opts.suppressions");
    tl_filter filter = {
        .rules = {tl_rules_of_process(), rules},
        .baseline = opts.baseline ? opts.baseline->ids : NULL,
        .nbaseline = opts.baseline ? opts.baseline->n : 0,
        .every_thread_leaks = verifying,
        .no_resources = verifying,
        .caller = caller,
    };
    int rc;
    if (verifying) {
        rc = verify(&opts, format, &filter);
    } else {
        tl_report *r = tl_report_collect("api", &filter);
        rc = r ? write_report(r, format, &opts) : -1;
        tl_report_free(r);
    }
    tl_rules_free(rules);
    tl_guard--;
    return rc;
}

TL_API int threadleak_dump(const threadleak_opts *opts)
{
    tl_caller caller = {.exits = false};
    tl_cpu_save(&caller.ctx);
    return check(opts, false, &caller);
}

TL_API int threadleak_verify_none(const threadleak_opts *opts)
{
    tl_caller caller = {.exits = false};
    tl_cpu_save(&caller.ctx);
    return check(opts, true, &caller);
}
