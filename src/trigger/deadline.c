/* deadline=DURATION, Go's `go test -timeout`: if the process still runs DURATION after it started
   (the kernel's start time: a sanitizer's start-up before main counts, as it does for timeout(1)),
   the helper thread writes a report (trigger "deadline") and ends the process with status 124,
   as timeout(1) does. It ends it as a kill would: no exit handler runs (one may wait for the very
   threads that hang), but the program's buffered stdout is flushed first when no thread holds it,
   so that a test's last lines are not lost.

   The helper is started at once, even in a program that never starts a thread: a hung
   single-threaded test needs the deadline as much. Its job runs during exit too, so that a program
   that hangs in its exit handlers or destructors still ends on time.

   A process's first report costs most: libdw inflating libc's debug information (0.2 s of CPU
   here, several times that under ASan or on a busy machine), and then naming each frame once. So
   that the report comes on time, a process still running 5 s before its deadline (at once, for a
   shorter one) reads libc's ahead, and one running halfway to a short deadline (or 5 s before a
   long one) renders a report for nothing, which leaves its frames named. */
#include "trigger/deadline.h"

#include "core/helper.h"
#include "core/options.h"
#include "core/proc.h"
#include "format/format.h"
#include "report/report.h"
#include "trigger/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t end_ns, ahead_ns, rehearse_ns;

static void flush(FILE *f)
{
    if (ftrylockfile(f) == 0) {
        fflush_unlocked(f);
        funlockfile(f);
    }
}

static void rehearse(void)
{
    size_t len;
    tl_report *r = tl_report_collect("deadline", &(tl_filter){.rules = {tl_rules_of_process()}});
    free(r ? tl_report_render(r, tl_opt.format, &len) : NULL);
    tl_report_free(r);
}

static uint64_t expire(uint64_t now_ns)
{
    if (ahead_ns && now_ns >= ahead_ns) {
        ahead_ns = 0;
        tl_libunwind_load(); /* as the first thread would: the modules then stay as they are */
        tl_symbolizer_prepare((uintptr_t)&fflush); /* libc's, as every thread's first frames */
        now_ns = tl_now_ns();
    }
    if (rehearse_ns && now_ns >= rehearse_ns) {
        rehearse_ns = 0;
        rehearse();
        now_ns = tl_now_ns();
    }
    if (now_ns < end_ns)
        return ahead_ns ? ahead_ns : rehearse_ns ? rehearse_ns : end_ns;
    flush(stdout);
    tl_output_report("deadline", &(tl_filter){.rules = {tl_rules_of_process()}});
    _exit(124);
}

/* How long the process has run, at least, from the kernel's start time of its main thread. That
   time is in clock ticks after boot, cut down to a whole tick, so the tick's end is taken: like
   timeout(1)'s, a deadline may come late (by a tick at most), never early. 0 when unknown. */
static uint64_t age_ns(void)
{
    tl_task main;
    struct timespec boot;
    long ticks = sysconf(_SC_CLK_TCK);
    if (!tl_proc_task(getpid(), &main) || ticks <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
        return 0;
    uint64_t now = (uint64_t)boot.tv_sec * 1000000000u + (uint64_t)boot.tv_nsec,
             start = (main.start + 1) * (1000000000u / (uint64_t)ticks);
    return now > start ? now - start : 0;
}

void tl_deadline_start(void)
{
    if (!tl_opt.deadline_ms)
        return;
    uint64_t ns = tl_opt.deadline_ms * 1000000, lead = ns < 5000000000u ? ns : 5000000000u;
    uint64_t age = age_ns();
    end_ns = tl_now_ns() + (ns > age ? ns - age : 0);
    ahead_ns = end_ns > lead ? end_ns - lead : 1;
    rehearse_ns = end_ns - (ns / 2 < lead ? ns / 2 : lead);
    tl_helper_add_lasting(expire);
    tl_helper_start_now();
}
