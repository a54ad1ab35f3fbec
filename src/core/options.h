/* THREADLEAK_OPTIONS, read once at start-up. */
#ifndef TL_CORE_OPTIONS_H
#define TL_CORE_OPTIONS_H

#include "core/duration.h"
#include "tl.h"

#include <limits.h>

#define TL_MAX_FRAMES 128

typedef enum {
    TL_FMT_TEXT,
    TL_FMT_FULL,
    TL_FMT_JSON,
    TL_FMT_PPROF,
    TL_FMT_FOLDED,
    TL_FMT_TOP
} tl_format;
/* The formats' names, in tl_format's order: also the numbers `threadleak dump` sends. TL_FMT_TOP
   has none: it is what `threadleak top` asks for (format/top.c), not an option's value. */
#define TL_FORMAT_NAMES "text", "full", "json", "pprof", "folded"
/* The first line of a TL_FMT_TOP answer; a library older than it answers a text report. */
#define TL_TOP_HEADER "threadleak-top 1\n"

/* The contract's keys, and threadleak's own (README.md, Options). Durations are in ms. */
typedef struct tl_options {
    tl_format format;
    bool at_exit;
    int signal;        /* 0 for none */
    bool signal_given; /* by the user, who hears when it cannot be had */
    unsigned max_frames;
    unsigned exitcode;
    unsigned grace_ms;
    unsigned pileup;
    bool fatal;                /* report on a fatal signal the program leaves at its default */
    bool terminate;            /* the same for SIGTERM, SIGINT, SIGHUP, SIGQUIT */
    uint64_t deadline_ms;      /* report and exit 124 then; 0 off */
    uint64_t watch_ms;         /* sample that often; 0 off */
    bool debuginfod;           /* symbolizing may fetch debug information over the network */
    bool default_suppressions; /* the installed rules for runtimes' own threads apply */
    bool reach;                /* reports scan memory for who can reach a waited-on object */
    /* Last, so that the values every process reads at start share one page. */
    char output[PATH_MAX];       /* "stderr", "stdout" or a path with %p and %n */
    char suppressions[PATH_MAX]; /* "" for none */
    char metrics[PATH_MAX];      /* Prometheus file rewritten at every sample, "" for none */
} tl_options;

extern tl_options tl_opt;

/* spec's pairs over the values in *o (tl_opt starts with the defaults): one warning per bad pair,
   which keeps the value. Allocates nothing. */
void tl_options_read(tl_options *o, const char *spec);
bool tl_format_parse(const char *name, size_t len, tl_format *out);
const char *tl_format_name(tl_format format);

#endif
