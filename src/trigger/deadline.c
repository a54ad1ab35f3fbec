/* deadline=DURATION, Go's `go test -timeout`: if the process still runs DURATION after main
   started, the helper thread writes a report (trigger "deadline") and ends the process with status
   124, as timeout(1) does. It ends it as a kill would: no exit handler runs (one may wait for the
   very threads that hang), but the program's buffered stdout is flushed first when no thread
   holds it, so that a test's last lines are not lost.

   The helper is started at once, even in a program that never starts a thread: a hung
   single-threaded test needs the deadline as much. Its job runs during exit too, so that a program
   that hangs in its exit handlers or destructors still ends on time.

   A process's first report costs most (libdw inflating libc's debug information: 0.2 s of CPU
   here, more on a busy machine), and would come late: a process still running halfway to its
   deadline (or 5 s before it) renders one report for nothing, which leaves the symbols read. */
#include "trigger/deadline.h"

#include "core/helper.h"
#include "core/options.h"
#include "format/format.h"
#include "report/report.h"
#include "trigger/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t end_ns, warm_ns;

static void flush(FILE *f)
{
    if (ftrylockfile(f) == 0) {
        fflush_unlocked(f);
        funlockfile(f);
    }
}

static tl_filter *filter(void)
{
    static tl_filter f;
    f.rules[0] = tl_rules_of_file();
    return &f;
}

static void warm_up(void)
{
    size_t len;
    tl_report *r = tl_report_collect("deadline", filter());
    free(r ? tl_report_render(r, tl_opt.format, &len) : NULL);
    tl_report_free(r);
}

static uint64_t expire(uint64_t now_ns)
{
    if (warm_ns && now_ns >= warm_ns) {
        warm_ns = 0;
        warm_up();
        now_ns = tl_now_ns();
    }
    if (now_ns < end_ns)
        return warm_ns ? warm_ns : end_ns;
    flush(stdout);
    tl_output_report("deadline", filter());
    _exit(124);
}

void tl_deadline_start(void)
{
    if (!tl_opt.deadline_ms)
        return;
    uint64_t ns = tl_opt.deadline_ms * 1000000, lead = ns / 2 < 5000000000u ? ns / 2 : 5000000000u;
    end_ns = tl_now_ns() + ns;
    warm_ns = end_ns - lead;
    tl_helper_add_lasting(expire);
    tl_helper_start_now();
}
