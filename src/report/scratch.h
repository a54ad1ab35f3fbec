/* Memory for a report's arrays of a record a thread, kept from one report to the next. */
#ifndef TL_REPORT_SCRATCH_H
#define TL_REPORT_SCRATCH_H

#include "tl.h"

typedef enum {
    TL_SCRATCH_ROWS, /* the report's rows: until the report is freed */
    TL_SCRATCH_WORK, /* what collecting it works with: until it is collected */
    TL_SCRATCH_KINDS
} tl_scratch_kind;

/* size zeroed bytes, 64-aligned: the kind's kept memory when it is free and fits, else new. NULL
   when the system has none. */
void *tl_scratch_take(tl_scratch_kind kind, size_t size);
/* Gives back what tl_scratch_take gave (NULL: nothing). */
void tl_scratch_give(tl_scratch_kind kind, void *p);
/* The memory the kind keeps, [lo, hi): no memory of the program's, which the reachability scan
   must not read as such. False when it keeps none. Memory a report mapped for itself, when two ran
   at once, is not told: read as the program's, it can only make a verdict more cautious. */
bool tl_scratch_kept(tl_scratch_kind kind, uintptr_t *lo, uintptr_t *hi);

#endif
