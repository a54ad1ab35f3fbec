/* The metrics file: the Prometheus text exposition format (0.0.4), as node_exporter's textfile
   collector reads it. Threads are counted by state, verdict and the site that made them, named by
   its first frame of the program's own code (format/site.c), "function file:line". Several groups
   of a report may share those three (they differ in the stack of the wait, or deeper in the
   creation stack): they are one series. The MAX_SERIES largest series are written as they are,
   the others summed into created_at="other", so that the number of series stays bounded whatever
   the program does. */
#include "format/format.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define MAX_SERIES 50
#define MAX_NAMES 4096 /* names kept; past that the cache starts again */

/* Names of creation stacks, kept from sample to sample: stacks are interned, never freed, and
   a stack's name changes only if its module is unloaded and another loaded at its address. Used
   by the helper thread alone. */
typedef struct name {
    UT_hash_handle hh;
    const tl_stack *stack;
    char text[];
} name;
static name *names;
static unsigned nnames;

static const char *site_name(tl_report *r, const tl_stack *s)
{
    name *n;
    if (!s)
        return "unknown";
    HASH_FIND_PTR(names, &s, n);
    if (n)
        return n->text;
    if (nnames >= MAX_NAMES) {
        name *next;
        HASH_ITER(hh, names, n, next)
        {
            HASH_DEL(names, n);
            free(n);
        }
        nnames = 0;
    }
    char text[512];
    tl_site_name(r, s, text, sizeof text);
    if (!(n = malloc(sizeof *n + strlen(text) + 1)))
        return "unknown";
    n->stack = s;
    strcpy(n->text, text);
    HASH_ADD_PTR(names, stack, n);
    nnames++;
    return n->text;
}

/* One series: labels a and b (state and verdict, or kind and nothing), and the site. */
typedef struct series {
    const char *a, *b, *site;
    size_t count;
} series;

static int by_labels(const void *x, const void *y)
{
    const series *p = x, *q = y;
    int c = strcmp(p->a, q->a);
    if (!c)
        c = strcmp(p->b, q->b);
    return c ? c : strcmp(p->site, q->site);
}

static int by_count(const void *x, const void *y)
{
    const series *p = x, *q = y;
    return p->count != q->count ? (p->count < q->count) - (p->count > q->count) : by_labels(x, y);
}

/* Merges series with equal labels, keeps the MAX_SERIES largest and sums the rest into "other"
   ones; returns how many are left. */
static size_t bound(series *s, size_t n)
{
    size_t kept = 0;
    qsort(s, n, sizeof *s, by_labels);
    for (size_t i = 0; i < n; i++) {
        if (kept && by_labels(&s[kept - 1], &s[i]) == 0)
            s[kept - 1].count += s[i].count;
        else
            s[kept++] = s[i];
    }
    qsort(s, kept, sizeof *s, by_count);
    if (kept <= MAX_SERIES)
        return kept;
    for (size_t i = MAX_SERIES; i < kept; i++)
        s[i].site = "other";
    qsort(s + MAX_SERIES, kept - MAX_SERIES, sizeof *s, by_labels);
    n = MAX_SERIES;
    for (size_t i = MAX_SERIES; i < kept; i++) {
        if (n > MAX_SERIES && by_labels(&s[n - 1], &s[i]) == 0)
            s[n - 1].count += s[i].count;
        else
            s[n++] = s[i];
    }
    return n;
}

/* A label value: backslash, double quote and line feed escaped, as the format requires. */
static void label(FILE *out, const char *key, const char *value, bool last)
{
    fprintf(out, "%s=\"", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            fputc('\\', out);
        if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
    fputs(last ? "\"}" : "\",", out);
}

static void family(FILE *out, const char *metric, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

void tl_format_prom(FILE *out, tl_report *r, const tl_prom_process *p)
{
    size_t n = r->ngroups > r->nresources ? r->ngroups : r->nresources;
    series *s = malloc((n + 1) * sizeof *s);
    if (!s)
        return;
    for (size_t i = 0; i < r->ngroups; i++) {
        const tl_row *row = r->groups[i].rows;
        s[i] = (series){tl_state_name(row->state), tl_verdict_name(row->verdict),
                        site_name(r, row->untracked ? NULL : row->created_at), r->groups[i].count};
    }
    n = bound(s, r->ngroups);
    family(out, "threadleak_threads", "gauge",
           "Threads of the process now, by state, verdict and the function that created them.");
    for (size_t i = 0; i < n; i++) {
        fputs("threadleak_threads{", out);
        label(out, "state", s[i].a, false);
        label(out, "verdict", s[i].b, false);
        label(out, "created_at", s[i].site, true);
        fprintf(out, " %zu\n", s[i].count);
    }
    family(out, "threadleak_threads_created_total", "counter",
           "Threads created through pthread_create since the process started.");
    fprintf(out, "threadleak_threads_created_total %llu\n", (unsigned long long)p->created);
    family(out, "threadleak_threads_exited_total", "counter",
           "Threads created through pthread_create that have ended since the process started.");
    fprintf(out, "threadleak_threads_exited_total %llu\n", (unsigned long long)p->exited);

    for (size_t i = 0; i < r->nresources; i++) {
        const tl_resource_group *g = &r->resources[i];
        s[i] = (series){tl_resource_kind_name(g->kind), "", site_name(r, g->created_at), g->count};
    }
    n = bound(s, r->nresources);
    family(out, "threadleak_resources", "gauge",
           "Timers, pipes and message queues made and not yet given back, by kind and the function "
           "that made them.");
    for (size_t i = 0; i < n; i++) {
        fputs("threadleak_resources{", out);
        label(out, "kind", s[i].a, false);
        label(out, "created_at", s[i].site, true);
        fprintf(out, " %zu\n", s[i].count);
    }
    free(s);

    family(out, "threadleak_info", "gauge", "The process threadleak watches; always 1.");
    fputs("threadleak_info{", out);
    label(out, "version", TL_VERSION, false);
    fprintf(out, "pid=\"%d\",", (int)r->pid);
    label(out, "command", p->command, true);
    fputs(" 1\n", out);
}
