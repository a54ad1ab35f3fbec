/* THREADLEAK_OPTIONS: colon-separated key=value pairs, as the sanitizers read theirs. A bad pair is
   named in one warning and leaves the default in place; nothing here can stop the host. */
#include "tl.h"
#include "dump_protocol.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

tl_options tl_opt;

void tl_options_defaults(tl_options *o)
{
    memset(o, 0, sizeof *o);
    strcpy(o->output, "stderr");
    o->format = TL_FMT_TEXT;
    o->at_exit = true;
    o->signal = SIGUSR1;
    o->max_frames = 32;
    o->grace_ms = 100;
    o->pileup = 100;
}

static const char *const format_names[] = {TL_FORMAT_NAMES};
_Static_assert(sizeof format_names / sizeof *format_names == TL_FMT_FOLDED + 1, "one name a format");

bool tl_format_parse(const char *name, tl_format *out)
{
    for (size_t i = 0; i < sizeof format_names / sizeof *format_names; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (tl_format)i;
            return true;
        }
    return false;
}

static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_signal(const char *s, int *out)
{
    unsigned long n = 0;
    if (strcmp(s, "none") == 0)
        *out = 0;
    else if (strcmp(s, "SIGUSR1") == 0)
        *out = SIGUSR1;
    else if (strcmp(s, "SIGUSR2") == 0)
        *out = SIGUSR2;
    else if (strncmp(s, "SIGRTMIN", 8) == 0 &&
             (s[8] == 0 || (s[8] == '+' && parse_uint(s + 9, 0, (unsigned long)(SIGRTMAX - SIGRTMIN), &n))))
        *out = SIGRTMIN + (int)n;
    else
        return false;
    return true;
}

static bool parse_path(const char *s, char *dst)
{
    size_t n = strlen(s);
    if (n == 0 || n >= PATH_MAX)
        return false;
    memcpy(dst, s, n + 1);
    return true;
}

/* Applies one key=value; false when the key is known but the value is not valid for it. */
static bool apply(tl_options *o, const char *key, const char *val, const char **expected)
{
    unsigned long n;
    if (strcmp(key, "output") == 0) {
        *expected = "stderr, stdout or a file path";
        return parse_path(val, o->output);
    }
    if (strcmp(key, "format") == 0) {
        *expected = "text, full, json, pprof or folded";
        return tl_format_parse(val, &o->format);
    }
    if (strcmp(key, "at_exit") == 0) {
        *expected = "0 or 1";
        if (!parse_uint(val, 0, 1, &n))
            return false;
        o->at_exit = n;
        return true;
    }
    if (strcmp(key, "signal") == 0) {
        *expected = "SIGUSR1, SIGUSR2, SIGRTMIN+N or none";
        return parse_signal(val, &o->signal);
    }
    if (strcmp(key, "max_frames") == 0) {
        *expected = "1 to 128";
        if (!parse_uint(val, 1, TL_MAX_FRAMES, &n))
            return false;
        o->max_frames = (unsigned)n;
        return true;
    }
    if (strcmp(key, "exitcode") == 0) {
        *expected = "0 to 255";
        if (!parse_uint(val, 0, 255, &n))
            return false;
        o->exitcode = (int)n;
        return true;
    }
    if (strcmp(key, "suppressions") == 0) {
        *expected = "a file path";
        return parse_path(val, o->suppressions);
    }
    if (strcmp(key, "grace_ms") == 0) {
        *expected = "0 to 3600000";
        if (!parse_uint(val, 0, 3600000, &n))
            return false;
        o->grace_ms = (unsigned)n;
        return true;
    }
    if (strcmp(key, "pileup") == 0) {
        *expected = "1 or more";
        if (!parse_uint(val, 1, UINT_MAX, &n))
            return false;
        o->pileup = (unsigned)n;
        return true;
    }
    *expected = NULL;
    return false;
}

void tl_options_parse(tl_options *o, const char *spec)
{
    if (!spec)
        return;
    char *copy = strdup(spec);
    if (!copy) {
        tl_warn("out of memory reading THREADLEAK_OPTIONS; using the defaults");
        return;
    }
    char *save = NULL;
    for (char *pair = strtok_r(copy, ":", &save); pair; pair = strtok_r(NULL, ":", &save)) {
        char *eq = strchr(pair, '=');
        if (!eq) {
            tl_warn("THREADLEAK_OPTIONS: '%s' is not key=value; ignored", pair);
            continue;
        }
        *eq = 0;
        const char *expected;
        if (apply(o, pair, eq + 1, &expected))
            continue;
        if (expected)
            tl_warn("THREADLEAK_OPTIONS: bad value '%s' for %s (expected %s); keeping the default",
                    eq + 1, pair, expected);
        else
            tl_warn("THREADLEAK_OPTIONS: unknown option '%s'; ignored", pair);
    }
    free(copy);
}
