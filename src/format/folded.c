/* The folded format, for flame-graph tools: "state;outermost;...;innermost count" per group, with
   the group's one stack (tl_group_stack). */
#include "format/format.h"

#include <string.h>

void tl_format_folded(FILE *out, tl_report *r)
{
    for (size_t i = 0; i < r->ngroups; i++) {
        const tl_group *g = &r->groups[i];
        const tl_stack *s = tl_group_stack(g);
        fputs(tl_state_name(g->rows->state), out);
        for (unsigned j = s ? s->depth : 0; j-- > 0;) {
            unsigned n;
            const tl_frame *f = tl_report_frames(r, s->pc[j], &n);
            while (n-- > 0) { /* outermost first */
                fputc(';', out);
                /* ';' separates frames and the last ' ' the count: neither may be in a name. */
                for (const char *c = f[n].function; *c; c++)
                    fputc(*c == ';' || *c == ' ' ? '_' : *c, out);
            }
        }
        fprintf(out, " %zu\n", g->count);
    }
}
