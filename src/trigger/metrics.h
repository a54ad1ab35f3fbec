/* The metrics file, rewritten at every watch sample. */
#ifndef TL_TRIGGER_METRICS_H
#define TL_TRIGGER_METRICS_H

#include "report/report.h"

/* Replaces path with r's metrics (format/prom.c) in one rename, so that a reader sees the old file
   or the new one, never a part. One warning while it fails. */
void tl_metrics_write(tl_report *r, const char *path);

#endif
