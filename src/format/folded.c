/* The folded format, for flame-graph tools: "state;outermost;...;innermost count", one line per
   distinct stack, with the group's one stack (tl_group_stack). Groups that differ in what the
   format does not show (verdict, creation stack of threads waiting in the same place) fold into
   one line with their counts summed, as a flame-graph tool would expect of its input. */
#include "format/format.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

typedef struct line {
    UT_hash_handle hh;
    size_t count;
    char text[]; /* without the count */
} line;

/* Writes the stack of g as folded frames, without the count. */
static void fold(FILE *out, tl_report *r, const tl_group *g)
{
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
}

void tl_format_folded(FILE *out, tl_report *r)
{
    line *lines = NULL, *l, *next;
    for (size_t i = 0; i < r->ngroups; i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
            break;
        fold(f, r, &r->groups[i]);
        if (fclose(f) != 0) {
            free(text);
            break;
        }
        HASH_FIND(hh, lines, text, len, l);
        if (!l && (l = malloc(sizeof *l + len + 1))) {
            memcpy(l->text, text, len + 1);
            l->count = 0;
            HASH_ADD(hh, lines, text[0], len, l); /* kept in the groups' order */
        }
        free(text);
        if (l)
            l->count += r->groups[i].count;
    }
    HASH_ITER(hh, lines, l, next)
    {
        fprintf(out, "%s %zu\n", l->text, l->count);
        HASH_DELETE(hh, lines, l);
        free(l);
    }
}
