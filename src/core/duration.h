/* Durations as the options and the command-line tool write them. Shared by both: no state, no
   other dependency. */
#ifndef TL_CORE_DURATION_H
#define TL_CORE_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "90", "90s", "250ms", "5m", "1h" in ms (a bare number is seconds); false when it is none of
   those, or more than 100,000,000 of its unit. */
bool tl_duration_parse(const char *s, size_t len, uint64_t *ms);

#endif
