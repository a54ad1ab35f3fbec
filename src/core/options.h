/* THREADLEAK_OPTIONS, read once at start-up. */
#ifndef TL_CORE_OPTIONS_H
#define TL_CORE_OPTIONS_H

#include "tl.h"

#include <limits.h>

#define TL_MAX_FRAMES 128

typedef enum { TL_FMT_TEXT, TL_FMT_FULL, TL_FMT_JSON, TL_FMT_PPROF, TL_FMT_FOLDED } tl_format;
/* The formats' names, in tl_format's order: also the numbers `threadleak dump` sends. */
#define TL_FORMAT_NAMES "text", "full", "json", "pprof", "folded"

typedef struct tl_options {
    char output[PATH_MAX]; /* "stderr", "stdout" or a path with %p and %n */
    tl_format format;
    bool at_exit;
    int signal; /* 0 for none */
    unsigned max_frames;
    int exitcode;
    char suppressions[PATH_MAX];
    unsigned grace_ms;
    unsigned pileup;
} tl_options;

extern tl_options tl_opt;

/* The defaults, then spec's pairs over them: one warning per bad pair, which keeps the default.
   Allocates nothing. */
void tl_options_read(tl_options *o, const char *spec);
bool tl_format_parse(const char *name, size_t len, tl_format *out);
const char *tl_format_name(tl_format format);

#endif
