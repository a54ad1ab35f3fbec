/* Rendering a report in the format asked for, and the frame walk the formats share. */
#include "format/format.h"

#include <stdlib.h>

void tl_each_frame(FILE *out, tl_report *r, const tl_stack *s, tl_frame_fn *fn)
{
    unsigned index = 0, n;
    for (unsigned i = 0; s && i < s->depth; i++) {
        const tl_frame *f = tl_report_frames(r, s->pc[i], &n);
        for (unsigned j = 0; j < n; j++)
            fn(out, &f[j], index++);
    }
}

char *tl_report_render(tl_report *r, tl_format format, size_t *len)
{
    char *buf = NULL;
    FILE *out = open_memstream(&buf, len);
    if (!out)
        return NULL;
    switch (format) {
    case TL_FMT_TEXT: tl_format_text(out, r, false); break;
    case TL_FMT_FULL: tl_format_text(out, r, true); break;
    case TL_FMT_JSON: tl_format_json(out, r); break;
    case TL_FMT_FOLDED: tl_format_folded(out, r); break;
    case TL_FMT_PPROF: tl_format_pprof(out, r); break;
    case TL_FMT_TOP: tl_format_top(out, r); break;
    }
    if (fclose(out) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
