/* The report at normal exit: return from main, or exit(). */
#include "trigger/exit.h"

#include "core/helper.h"
#include "core/options.h"
#include "format/format.h"
#include "report/report.h"
#include "trigger/live.h"
#include "trigger/output.h"

#include <stdlib.h>
#include <unistd.h>

/* Threads the first report shows still alive get grace_ms to end, polled with a growing sleep, so
   that a thread finishing its last lines is not called a leak. Only they are waited for: a
   runtime's own threads, which the suppressions hide (a JVM's by name, node's inspector by where
   it was made), cost an exit nothing. True when a thread was made or ended since the first look
   (made and ended: the registry's totals before it), which is then taken again. Otherwise the
   first look stands, as of before the wait: a leak's threads never end, and its exit pays for one
   report, as it did. */
static bool grace(const tl_report *r, uint64_t made, uint64_t ended)
{
    pid_t *alive = malloc((r->nrows + 1) * sizeof *alive);
    size_t n = 0;
    for (size_t i = 0; alive && i < r->nrows; i++)
        if (!r->rows[i].untracked && r->rows[i].state != TL_EXITED_UNJOINED && r->rows[i].tid)
            alive[n++] = r->rows[i].tid;
    if (!n) {
        free(alive);
        return false;
    }
    qsort(alive, n, sizeof *alive, tl_tid_cmp);
    uint64_t made_after, ended_after;
    uint64_t deadline = tl_now_ns() + tl_opt.grace_ms * 1000000ull;
    long step_us = 200;
    while (!tl_registry_all_ended(alive, n)) {
        uint64_t now = tl_now_ns();
        if (now >= deadline)
            break;
        uint64_t left_us = (deadline - now) / 1000;
        usleep((useconds_t)(left_us < (uint64_t)step_us ? left_us : (uint64_t)step_us));
        if (step_us < 20000)
            step_us *= 2;
    }
    free(alive);
    tl_registry_totals(&made_after, &ended_after);
    return made_after != made || ended_after != ended;
}

/* A program that never made a thread or a resource has nothing a text report would show, and the
   report is skipped (most processes a shell or a build starts are such). The registry's word is
   taken that main is alone: asking the kernel (/proc/self/task) would cost every such exit 30 us,
   /proc's first lookup in the process. A thread made by clone() makes the registry say no; one
   made by a raw system call goes unseen (README.md). The machine formats are always written. */
static bool nothing_to_say(void)
{
    return (tl_opt.format == TL_FMT_TEXT || tl_opt.format == TL_FMT_FULL) && tl_registry_empty() &&
           tl_resource_none();
}

static void report_at_exit(void *unused)
{
    (void)unused;
    size_t leaked = 0;
    if (nothing_to_say())
        return;
    /* The thread calling exit never returns to its frames: they hold no roots any more. */
    static tl_caller caller = {.exits = true};
    tl_cpu_save(&caller.ctx);
    tl_guard++;
    tl_filter filter = {.rules = {tl_rules_of_process()}, .caller = &caller};
    uint64_t made, ended;
    tl_registry_totals(&made, &ended);
    tl_report *r = tl_report_collect("exit", &filter);
    if (r && tl_opt.grace_ms && grace(r, made, ended)) {
        tl_report_free(r);
        r = tl_report_collect("exit", &filter);
    }
    if (r) {
        leaked = r->threads_leaked;
        /* A clean exit prints nothing for people, as the sanitizers do; the machine formats are
           always written so that a script can tell "clean" from "not run". Resources that look
           leaked are reported (a self-pipe open until exit does not), but only threads change
           the exit status. */
        bool quiet = !tl_text_has_findings(r) &&
                     (tl_opt.format == TL_FMT_TEXT || tl_opt.format == TL_FMT_FULL);
        size_t len;
        char *buf = quiet ? NULL : tl_report_render(r, tl_opt.format, &len);
        if (buf)
            tl_output_write(tl_opt.output, buf, len);
        else if (!quiet)
            tl_warn("out of memory writing the exit report");
        free(buf);
        tl_report_free(r);
    } else {
        tl_warn("out of memory collecting the exit report");
    }
    tl_guard--;
    /* glibc runs the remaining exit handlers and flushes stdio when exit is called from a handler.
       */
    if (leaked && tl_opt.exitcode)
        exit(tl_opt.exitcode);
}

/* The first exit handler of ours: the helper thread finishes what it is doing and starts nothing
   new, and the live requests that came before are answered, ahead of the exit report. */
static void exit_begins(void *unused)
{
    (void)unused;
    tl_helper_stop();
    tl_live_drain();
}

void tl_exit_register(void)
{
    if ((tl_opt.at_exit && __cxa_atexit(report_at_exit, NULL, __dso_handle) != 0) ||
        __cxa_atexit(exit_begins, NULL, __dso_handle) != 0)
        tl_warn("cannot register the exit report");
}
