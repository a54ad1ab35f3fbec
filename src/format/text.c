/* The text formats, for people: "text" prints a block per group, "full" a block per thread (as Go's
   debug=2 goroutine dump does). Each block leads with what a reader scans for: how many, in what
   state, judged how, for how long, on what; then the stack of the wait and the stack that made it.
   */
#include "format/format.h"

#include "core/signals.h"

#include <string.h>

#define TIDS_SHOWN 8

static const tl_row *fatal_row(const tl_report *r)
{
    for (size_t i = 0; r->fatal && i < r->nrows; i++)
        if (r->rows[i].fatal_signal)
            return &r->rows[i];
    return NULL;
}

/* Why the report was written: "at exit", "on SIGSEGV in thread 12 "worker"", ... */
static void trigger_words(FILE *out, const tl_report *r)
{
    const tl_row *fatal = fatal_row(r);
    char name[16], limit[32];
    if (strcmp(r->trigger, "exit") == 0) {
        fputs("at exit", out);
    } else if (strcmp(r->trigger, "signal") == 0) {
        fputs("on signal", out);
    } else if (r->fatal) {
        fprintf(out, "on %s", tl_signal_name(r->fatal->sig, name));
        if (fatal)
            fprintf(out, " in thread %d \"%s\"", (int)fatal->tid, fatal->name);
    } else if (strcmp(r->trigger, "watch") == 0) {
        fputs("on watch, growing groups first", out);
    } else if (strcmp(r->trigger, "deadline") == 0) {
        tl_duration(limit, sizeof limit, tl_opt.deadline_ms);
        fprintf(out, "at the deadline (%s)", limit);
    } else {
        fputs("on request", out);
    }
}

/* An argument as a shell would need it: bare when it is plain, else in single quotes. */
static void shell_word(FILE *out, const char *arg)
{
    if (*arg && arg[strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                "_./=:,+-@%")] == 0) {
        fputs(arg, out);
        return;
    }
    fputc('\'', out);
    for (; *arg; arg++) {
        if (*arg == '\'')
            fputs("'\\''", out); /* end the quote, a quoted quote, quote again */
        else
            fputc(*arg, out);
    }
    fputc('\'', out);
}

/* The second line: when, and the command line. */
static void when_and_what(FILE *out, const tl_report *r)
{
    char time[48];
    tl_report_time(r, time, sizeof time);
    fprintf(out, "time: %s", time);
    if (r->command) {
        fputs("  command:", out);
        for (const char *arg = r->command; arg < r->command + r->command_len;
             arg += strlen(arg) + 1) {
            fputc(' ', out);
            shell_word(out, arg);
        }
    }
    fputc('\n', out);
}

static void frame(FILE *out, const tl_frame *f, unsigned index)
{
    fprintf(out, "    #%-2u %s", index, f->function);
    if (f->file)
        fprintf(out, "  %s:%u", f->file, f->line);
    if (f->module) {
        const char *base = strrchr(f->module, '/');
        fprintf(out, "  (%s+0x%lx)", base ? base + 1 : f->module, (unsigned long)f->offset);
    }
    fputc('\n', out);
}

static void frames(FILE *out, tl_report *r, const tl_stack *s)
{
    tl_each_frame(out, r, s, frame);
}

/* After "N threads: " or "thread TID "name": ", the state, the verdict, for how long, on what
   (objects: how many distinct ones, when they differ); and the signal the thread received, in a
   fatal report. */
static void headline(FILE *out, const tl_report *r, const tl_row *row, uint64_t ms_min,
                     uint64_t ms_max, const char *object, size_t objects)
{
    fputs(tl_state_name(row->state), out);
    if (row->verdict != TL_VERDICT_RUNNING)
        fprintf(out, ", %s", tl_verdict_name(row->verdict));
    if (row->since_ns) {
        fputs(row->state == TL_EXITED_UNJOINED ? ", finished " : ", for ", out);
        char from[32], to[32]; /* "1.3 s to 1.3 s" says one time twice */
        tl_duration(from, sizeof from, ms_min);
        tl_duration(to, sizeof to, ms_max);
        fputs(from, out);
        if (strcmp(from, to) != 0)
            fprintf(out, " to %s", to);
        if (row->state == TL_EXITED_UNJOINED)
            fputs(" ago", out);
    }
    if (objects > 1)
        fprintf(out, ", on %zu objects", objects);
    else if (object[0])
        fprintf(out, ", on %s", object);
    if (row->fatal_signal) {
        char name[16];
        fprintf(out, ", received %s", tl_signal_name(row->fatal_signal, name));
        if (r->fatal->cause[0])
            fprintf(out, " (%s)", r->fatal->cause);
    }
    fputc('\n', out);
}

static void stacks(FILE *out, tl_report *r, const tl_row *row, pid_t creator)
{
    if (row->blocked_at) {
        fputs(row->fatal_signal ? "  where the signal came:\n" : "  blocked at:\n", out);
        frames(out, r, row->blocked_at);
    }
    if (row->tid == r->pid)
        fputs("  the main thread\n", out);
    else if (row->untracked)
        fputs("  created by: unknown (a thread threadleak did not see start: glibc's own, or older "
              "than the library)\n",
              out);
    else if (creator) {
        fprintf(out, "  created by tid %d at:\n", (int)creator);
        frames(out, r, row->created_at);
    } else {
        fputs("  created at:\n", out);
        frames(out, r, row->created_at);
    }
}

static void group_block(FILE *out, tl_report *r, const tl_group *g)
{
    const tl_row *rows = g->rows;
    fprintf(out, "%zu thread%s: ", g->count, g->count == 1 ? "" : "s");
    headline(out, r, rows, g->ms_min, g->ms_max, g->object, g->objects);
    if (g->count >= r->pileup)
        fprintf(out, "  pile-up: %zu threads wait at this one site\n", g->count);
    if (g->growth)
        fprintf(out, "  growing: from %zu to %zu threads in %.1f s\n", g->growth->from,
                g->growth->to, g->growth->seconds);
    if (g->evidence[0] || g->evidence_mix[0])
        fprintf(out, "  evidence: %s\n", g->evidence[0] ? g->evidence : g->evidence_mix);
    fputs("  threads:", out);
    pid_t creator = rows[0].creator_tid;
    for (size_t i = 0; i < g->count; i++) {
        if (i < TIDS_SHOWN)
            fprintf(out, "%s %d \"%s\"", i ? "," : "", (int)rows[i].tid, rows[i].name);
        if (rows[i].creator_tid != creator)
            creator = 0; /* several creators: the stack alone is shared */
    }
    if (g->count > TIDS_SHOWN)
        fprintf(out, " and %zu more", g->count - TIDS_SHOWN);
    fputc('\n', out);
    stacks(out, r, rows, creator);
    fputc('\n', out);
}

static void resource_block(FILE *out, tl_report *r, const tl_resource_group *g)
{
    static const char *const never[] = {
        [TL_RES_TIMER] = "deleted", [TL_RES_PIPE] = "closed", [TL_RES_MQUEUE] = "closed"};
    fprintf(out, "%zu %s%s never %s", g->count, tl_resource_kind_name(g->kind),
            g->count == 1 ? "" : "s", never[g->kind]);
    if (g->kind == TL_RES_TIMER && r->timer_helper)
        fprintf(out, " (glibc's timer thread, tid %d, serves them)", (int)r->timer_helper);
    fputs("\n  created at:\n", out);
    frames(out, r, g->created_at);
    fputc('\n', out);
}

static void thread_block(FILE *out, tl_report *r, const tl_row *row)
{
    fprintf(out, "thread %d \"%s\": ", (int)row->tid, row->name);
    uint64_t ms = row->since_ns ? (r->now_ns - row->since_ns) / 1000000 : 0;
    headline(out, r, row, ms, ms, row->object, 1);
    if (row->evidence[0])
        fprintf(out, "  evidence: %s\n", row->evidence);
    stacks(out, r, row, row->creator_tid);
    fputc('\n', out);
}

/* Resources from one creation site look leaked when there are several, and more than two for
   each thread besides main: a pipe, a timer or a queue of its own is most often there by design
   (a self-pipe, a heartbeat), and so are one or two for each thread or event loop (libevent makes
   a pipe per event base, haproxy two per thread); all are open until exit. A leak made once per
   request or per call outgrows that. The json format lists them all. */
bool tl_text_resource_shown(const tl_report *r, const tl_resource_group *g)
{
    size_t others = r->threads_total ? r->threads_total - 1 : 0;
    return g->count >= 2 && g->count > 2 * others;
}

bool tl_text_has_findings(const tl_report *r)
{
    for (size_t i = 0; i < r->nresources; i++)
        if (tl_text_resource_shown(r, &r->resources[i]))
            return true;
    return r->threads_leaked > 0;
}

/* Whether the report is one that accuses: at exit, at the deadline, on a crash or termination,
   and threadleak_verify_none, where a thread still there is a leak. A live dump (a signal,
   threadleak_dump, the watch) describes a running program, whose threads are at work. */
static bool accuses(const tl_report *r)
{
    static const char *const final[] = {"exit", "deadline", "fatal", "terminate"};
    for (size_t i = 0; i < TL_LENGTH(final); i++)
        if (strcmp(r->trigger, final[i]) == 0)
            return true;
    return r->every_thread_leaks;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

/* The first words, before the trigger's: what the report found. "3 leaked threads in 1 group",
   "63 threads waiting in 14 groups, 2 proven stuck", or, when the report holds no thread but
   resources, "3 pipes never closed". */
static void findings(FILE *out, const tl_report *r)
{
    size_t groups = 0, waiting = 0, wgroups = 0, stuck = 0, unjoined = 0;
    size_t shown = 0, kinds = 0, kind = 0;
    for (size_t i = 0; i < r->ngroups; i++) {
        const tl_group *g = &r->groups[i];
        tl_verdict v = g->rows->verdict;
        groups += v != TL_VERDICT_RUNNING || r->every_thread_leaks;
        waiting += v != TL_VERDICT_RUNNING && v != TL_UNJOINED ? g->count : 0;
        wgroups += v != TL_VERDICT_RUNNING && v != TL_UNJOINED;
        stuck += v == TL_DEADLOCK || v == TL_ORPHANED ? g->count : 0;
        unjoined += v == TL_UNJOINED ? g->count : 0;
    }
    for (size_t i = 0; i < r->nresources; i++) {
        const tl_resource_group *g = &r->resources[i];
        if (!tl_text_resource_shown(r, g))
            continue;
        kinds |= 1u << g->kind;
        kind = g->kind;
        shown += g->count;
    }
    if (!r->threads_leaked && shown) {
        static const char *const never[] = {
            [TL_RES_TIMER] = "deleted", [TL_RES_PIPE] = "closed", [TL_RES_MQUEUE] = "closed"};
        if (kinds == 1u << kind)
            fprintf(out, "%zu %s%s never %s", shown, tl_resource_kind_name(kind), plural(shown),
                    never[kind]);
        else
            fprintf(out, "%zu resources never released", shown);
    } else if (accuses(r)) {
        fprintf(out, "%zu leaked thread%s in %zu group%s", r->threads_leaked,
                plural(r->threads_leaked), groups, plural(groups));
    } else {
        fprintf(out, "%zu thread%s waiting in %zu group%s, %zu proven stuck", waiting,
                plural(waiting), wgroups, plural(wgroups), stuck);
        if (unjoined)
            fprintf(out, ", %zu finished but not joined", unjoined);
        fputc(',', out);
    }
}

/* Resources that are each the only one from their site: not listed, but counted. */
static void resources_not_shown(FILE *out, const tl_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nresources; i++)
        n += !tl_text_resource_shown(r, &r->resources[i]);
    if (n)
        fprintf(out,
                "%zu more resource%s, from sites with one, or one for each thread (open by design, "
                "most often): format=json lists %s\n",
                n, plural(n), n == 1 ? "it" : "them");
}

void tl_format_text(FILE *out, tl_report *r, bool per_thread)
{
    fputs("threadleak: ", out);
    findings(out, r);
    fputc(' ', out);
    trigger_words(out, r);
    fprintf(out, " (pid %d, %zu thread%s)\n", (int)r->pid, r->threads_total,
            plural(r->threads_total));
    when_and_what(out, r);
    fputc('\n', out);
    for (size_t i = 0; i < r->ngroups; i++) {
        const tl_group *g = &r->groups[i];
        if (!per_thread)
            group_block(out, r, g);
        else
            for (size_t j = 0; j < g->count; j++)
                thread_block(out, r, &g->rows[j]);
    }
    for (size_t i = 0; i < r->nresources; i++)
        if (tl_text_resource_shown(r, &r->resources[i]))
            resource_block(out, r, &r->resources[i]);
    resources_not_shown(out, r);
}
