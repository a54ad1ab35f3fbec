/* The words of a report that only some rows have (evidence, where a reachable object is reached
   from), copied tightly into chunks the report frees: in the row itself, as arrays, they were two
   thirds of it, and a first report of 10,000 threads touched 1,000 fresh pages for them. */
#ifndef TL_REPORT_STRINGS_H
#define TL_REPORT_STRINGS_H

#include <stddef.h>

typedef struct tl_strings tl_strings;

/* A copy of text that lives until tl_strings_free; "" when out of memory. */
const char *tl_strings_add(tl_strings **s, const char *text);
void tl_strings_free(tl_strings *s);

#endif
