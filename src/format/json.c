/* The json format: one object, in the shape the contract fixes. */
#include "format/format.h"

#include "core/signals.h"

#include <string.h>

static void str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void frame(FILE *out, const tl_frame *f, unsigned index)
{
    fputs(index == 0 ? "{\"function\": " : ", {\"function\": ", out);
    str(out, f->function);
    if (f->file) {
        fputs(", \"file\": ", out);
        str(out, f->file);
        fprintf(out, ", \"line\": %u", f->line);
    }
    if (f->module) {
        fputs(", \"module\": ", out);
        str(out, f->module);
    }
    fprintf(out, ", \"address\": \"0x%lx\"}", (unsigned long)f->offset);
}

static void frames(FILE *out, tl_report *r, const tl_stack *s)
{
    fputc('[', out);
    tl_each_frame(out, r, s, frame);
    fputc(']', out);
}

static void group(FILE *out, tl_report *r, const tl_group *g)
{
    const tl_row *row = g->rows;
    fprintf(out, "    {\n      \"count\": %zu, \"state\": \"%s\", \"verdict\": \"%s\",\n", g->count,
            tl_state_name(row->state), tl_verdict_name(row->verdict));
    fputs("      \"object\": ", out);
    str(out, g->object);
    fprintf(out, ", \"blocked_ms_min\": %llu, \"blocked_ms_max\": %llu,",
            (unsigned long long)g->ms_min, (unsigned long long)g->ms_max);
    if (g->count >= r->pileup)
        fputs(" \"pileup\": true,", out);
    if (g->growth)
        fprintf(out, " \"growth\": {\"from\": %zu, \"to\": %zu, \"seconds\": %.1f},",
                g->growth->from, g->growth->to, g->growth->seconds);
    if (row->untracked)
        fputs(" \"untracked\": true,", out);
    if (g->evidence[0]) {
        fputs(" \"evidence\": ", out);
        str(out, g->evidence);
        fputc(',', out);
    }
    fputs("\n      \"threads\": [", out);
    for (size_t i = 0; i < g->count; i++) {
        const tl_row *t = &g->rows[i];
        fprintf(out, "%s{\"tid\": %d, \"name\": ", i ? ", " : "", (int)t->tid);
        str(out, t->name);
        fprintf(out, ", \"creator_tid\": %d, \"object\": ", (int)t->creator_tid);
        str(out, t->object);
        fprintf(out, ", \"blocked_ms\": %llu",
                (unsigned long long)(t->since_ns ? (r->now_ns - t->since_ns) / 1000000 : 0));
        if (t->fatal_signal) {
            char name[16];
            fprintf(out, ", \"fatal_signal\": \"%s\", \"fatal_cause\": ",
                    tl_signal_name(t->fatal_signal, name));
            str(out, r->fatal->cause);
        }
        fputc('}', out);
    }
    fputs("],\n      \"blocked_at\": ", out);
    frames(out, r, row->blocked_at);
    fputs(",\n      \"created_at\": ", out);
    frames(out, r, row->created_at);
    fputs("\n    }", out);
}

void tl_format_json(FILE *out, tl_report *r)
{
    fprintf(out, "{\n  \"tool\": \"threadleak\", \"version\": \"%s\",\n", TL_VERSION);
    char time[48];
    tl_report_time(r, time, sizeof time);
    fprintf(out, "  \"pid\": %d, \"trigger\": \"%s\", \"time\": \"%s\",\n  \"command\": [",
            (int)r->pid, r->trigger, time);
    for (const char *arg = r->command; arg && arg < r->command + r->command_len;
         arg += strlen(arg) + 1) {
        if (arg != r->command)
            fputs(", ", out);
        str(out, arg);
    }
    fputs("],\n", out);
    fprintf(out, "  \"threads_total\": %zu, \"threads_leaked\": %zu,\n", r->threads_total,
            r->threads_leaked);
    fputs("  \"groups\": [", out);
    for (size_t i = 0; i < r->ngroups; i++) {
        fputs(i ? ",\n" : "\n", out);
        group(out, r, &r->groups[i]);
    }
    fputs(r->ngroups ? "\n  ],\n" : "],\n", out);
    fputs("  \"resources\": [", out);
    for (size_t i = 0; i < r->nresources; i++) {
        const tl_resource_group *g = &r->resources[i];
        fprintf(out, "%s\n    {\"kind\": \"%s\", \"count\": %zu, ", i ? "," : "",
                tl_resource_kind_name(g->kind), g->count);
        if (g->kind == TL_RES_TIMER && r->timer_helper)
            fprintf(out, "\"helper_tid\": %d, ", (int)r->timer_helper);
        fputs("\"created_at\": ", out);
        frames(out, r, g->created_at);
        fputc('}', out);
    }
    fputs(r->nresources ? "\n  ]\n}\n" : "]\n}\n", out);
}
