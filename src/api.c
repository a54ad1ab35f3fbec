/* The public API of include/threadleak.h: snapshots, the leak check for tests, and dumps. */
#include "tl.h"
#include "threadleak.h"

#include <errno.h>
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
    tl_ensure_init();
    int saved = errno;
    tl_guard++;
    tl_registry_settle();
    pid_t *tids;
    tl_thread_id *ours;
    size_t ntids = tl_proc_tids(&tids), nours = tl_registry_ids(&ours);
    threadleak_snapshot *snap = tids && ours ? malloc(sizeof *snap + (ntids + nours) * sizeof *snap->ids) : NULL;
    if (snap) {
        snap->n = 0;
        for (size_t i = 0; i < nours; i++)
            if (ours[i].tid)
                snap->ids[snap->n++] = ours[i];
        qsort(snap->ids, snap->n, sizeof *snap->ids, tl_thread_id_cmp);
        size_t ntracked = snap->n;
        /* The kernel's start time names the threads we did not make: read only theirs. */
        for (size_t i = 0; i < ntids; i++) {
            tl_thread_id key = {.tid = tids[i]};
            tl_task task;
            if (!bsearch(&key, snap->ids, ntracked, sizeof key, tl_thread_id_cmp) &&
                tl_proc_task(tids[i], &task))
                snap->ids[snap->n++] = (tl_thread_id){task.tid, task.start};
        }
    }
    free(tids);
    free(ours);
    if (snap)
        qsort(snap->ids, snap->n, sizeof *snap->ids, tl_thread_id_cmp);
    tl_guard--;
    errno = saved;
    return snap;
}

TL_API void threadleak_snapshot_free(threadleak_snapshot *snap)
{
    free(snap);
}

/* The report's format from opts, or false with a warning. */
static bool format_of(const threadleak_opts *opts, tl_format *format)
{
    *format = TL_FMT_TEXT;
    if (opts && opts->format && !tl_format_parse(opts->format, format)) {
        tl_warn("threadleak_opts.format: '%s' is not text, full, json, pprof or folded", opts->format);
        return false;
    }
    return true;
}

static int write_report(tl_report *r, tl_format format, const threadleak_opts *opts)
{
    size_t len;
    char *buf = tl_report_render(r, format, &len);
    FILE *out = opts && opts->out ? opts->out : stderr;
    int rc = buf && fwrite(buf, 1, len, out) == len && fflush(out) == 0 ? 0 : -1;
    free(buf);
    return rc;
}

/* Runs fn with the filter that opts asks for: its baseline, and its suppressions on top of the
   suppressions file's. */
static int with_filter(const threadleak_opts *opts, bool verify,
                       int (*fn)(const threadleak_opts *, const tl_filter *))
{
    tl_ensure_init();
    int saved = errno;
    tl_guard++;
    tl_rules *rules = NULL;
    if (opts && opts->suppressions)
        tl_rules_add(&rules, opts->suppressions, "threadleak_opts.suppressions");
    const threadleak_snapshot *base = opts ? opts->baseline : NULL;
    tl_filter filter = {
        .rules = {tl_file_rules, rules},
        .baseline = base ? base->ids : NULL,
        .nbaseline = base ? base->n : 0,
        .every_thread_leaks = verify,
        .no_resources = verify,
    };
    int rc = fn(opts, &filter);
    tl_rules_free(rules);
    tl_guard--;
    errno = saved;
    return rc;
}

static int dump(const threadleak_opts *opts, const tl_filter *filter)
{
    tl_format format;
    if (!format_of(opts, &format))
        return -1;
    tl_report *r = tl_report_collect("api", filter);
    int rc = r ? write_report(r, format, opts) : -1;
    tl_report_free(r);
    return rc;
}

TL_API int threadleak_dump(const threadleak_opts *opts)
{
    return with_filter(opts, false, dump);
}

/* goleak's schedule: check at once, then after a sleep that doubles from 1 us up to 100 ms, until
   the threads are gone or the time is up. */
static int verify(const threadleak_opts *opts, const tl_filter *filter)
{
    tl_format format;
    if (!format_of(opts, &format))
        format = TL_FMT_TEXT;
    uint64_t deadline = tl_now_ns() + (opts && opts->timeout_ms ? opts->timeout_ms : 1000) * 1000000ull;
    uint64_t pause_ns = 1000;
    for (;;) {
        tl_report *r = tl_report_collect("api", filter);
        if (!r)
            return -1;
        int leaked = (int)r->threads_leaked;
        uint64_t now = tl_now_ns();
        if (leaked == 0 || now >= deadline) {
            if (leaked)
                write_report(r, format, opts);
            tl_report_free(r);
            return leaked;
        }
        tl_report_free(r);
        uint64_t left = deadline - now, ns = pause_ns < left ? pause_ns : left;
        struct timespec t = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
        nanosleep(&t, NULL);
        if (pause_ns < 100000000u)
            pause_ns *= 2;
    }
}

TL_API int threadleak_verify_none(const threadleak_opts *opts)
{
    return with_filter(opts, true, verify);
}
