/* What `threadleak top` asks a live process for (cli/top.c): the report's groups as lines for the
   tool to parse, not for people. TL_TOP_HEADER, then "TOTAL LEAKED\n", then a line a group,
   largest first: count, state, verdict, the site that made it and where it waits, separated by
   tabs. A site is "function file:line" (format/site.c); where a group waits is its wait's site,
   or what the kernel says it waits in, or "-". */
#include "format/format.h"

/* A name with no tab or line feed in it, which would break the line. */
static void field(FILE *out, const char *text)
{
    fputc('\t', out);
    for (const char *p = text; *p; p++)
        fputc(*p == '\t' || *p == '\n' ? ' ' : *p, out);
}

static void site_field(FILE *out, tl_report *r, const tl_stack *s)
{
    char site[512];
    tl_site_name(r, s, site, sizeof site);
    field(out, site);
}

void tl_format_top(FILE *out, tl_report *r)
{
    fprintf(out, TL_TOP_HEADER "%zu %zu\n", r->threads_total, r->threads_leaked);
    for (size_t i = 0; i < r->ngroups; i++) {
        const tl_group *g = &r->groups[i];
        const tl_row *row = g->rows;
        fprintf(out, "%zu\t%s\t%s", g->count, tl_state_name(row->state),
                tl_verdict_name(row->verdict));
        if (row->untracked)
            field(out, "(not seen created)");
        else
            site_field(out, r, row->created_at);
        if (row->blocked_at)
            site_field(out, r, row->blocked_at);
        else
            field(out, g->object[0] ? g->object : "-");
        fputc('\n', out);
    }
}
