/* Report formats: each renders a collected report into a stream. */
#ifndef TL_FORMAT_FORMAT_H
#define TL_FORMAT_FORMAT_H

#include "core/options.h"
#include "report/report.h"

#include <stdio.h>

/* The report rendered in format, in one malloc'd buffer; NULL when out of memory. */
char *tl_report_render(tl_report *r, tl_format format, size_t *len);

/* Calls fn for every frame of s, innermost first, inlined calls expanded; index counts them. */
typedef void tl_frame_fn(FILE *out, const tl_frame *f, unsigned index);
void tl_each_frame(FILE *out, tl_report *r, const tl_stack *s, tl_frame_fn *fn);

void tl_format_text(FILE *out, tl_report *r, bool per_thread);
void tl_format_json(FILE *out, tl_report *r);
void tl_format_folded(FILE *out, tl_report *r);
void tl_format_pprof(FILE *out, tl_report *r);

#endif
