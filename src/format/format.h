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
void tl_format_top(FILE *out, tl_report *r);

/* ---- site.c ---- */
/* The frame that names stack s in a list of groups: its first of the program's own code, past the
   C and C++ runtimes (and the sanitizers); the innermost when every frame is theirs; NULL for no
   stack. */
const tl_frame *tl_site_frame(tl_report *r, const tl_stack *s);
void tl_site_name(tl_report *r, const tl_stack *s, char *buf, size_t len); /* "fn file:line" */

/* ---- prom.c ---- */
typedef struct tl_prom_process {
    uint64_t created, exited; /* threads made through pthread_create, and ended, ever */
    const char *command;      /* its arguments, space-separated */
} tl_prom_process;
/* r's threads and resources as Prometheus metrics, for the metrics file. Only from one thread. */
void tl_format_prom(FILE *out, tl_report *r, const tl_prom_process *p);

#endif
