/* THREADLEAK_OPTIONS: colon-separated key=value pairs, as the sanitizers read theirs. A bad pair is
   named in one warning and leaves the default in place; nothing here can stop the host. Pairs are
   read where they stand, without a copy: start-up allocates nothing it can avoid. */
#include "core/options.h"

#include "core/base.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The defaults, fixed at build time: start-up writes nothing it need not (the struct spans pages
   that a memset would fault in). */
tl_options tl_opt = {
    .output = "stderr",
    .format = TL_FMT_TEXT,
    .at_exit = true,
    .signal = SIGUSR1,
    .max_frames = 32,
    .grace_ms = 100,
    .pileup = 100,
    .fatal = true,
    .default_suppressions = true,
    .reach = true,
};

static const char *const format_names[] = {TL_FORMAT_NAMES};
_Static_assert(TL_LENGTH(format_names) == TL_FMT_FOLDED + 1, "one name a format");

bool tl_format_parse(const char *name, size_t len, tl_format *out)
{
    for (size_t i = 0; i < TL_LENGTH(format_names); i++)
        if (strlen(format_names[i]) == len && memcmp(name, format_names[i], len) == 0) {
            *out = (tl_format)i;
            return true;
        }
    return false;
}

const char *tl_format_name(tl_format format)
{
    return format_names[format];
}

/* A value: the text between '=' and the next ':' or the end. */
typedef struct value {
    const char *s;
    size_t len;
} value;

static bool is(value v, const char *word)
{
    return strlen(word) == v.len && memcmp(v.s, word, v.len) == 0;
}

static bool parse_uint(value v, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char digits[24];
    if (v.len == 0 || v.len >= sizeof digits)
        return false;
    memcpy(digits, v.s, v.len);
    digits[v.len] = 0;
    char *end;
    errno = 0;
    unsigned long n = strtoul(digits, &end, 10);
    if (errno || *end || digits[0] == '-' || digits[0] == '+' || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

static bool parse_signal(value v, int *out)
{
    unsigned long n = 0;
    if (is(v, "none"))
        *out = 0;
    else if (is(v, "SIGUSR1"))
        *out = SIGUSR1;
    else if (is(v, "SIGUSR2"))
        *out = SIGUSR2;
    else if (is(v, "SIGRTMIN"))
        *out = SIGRTMIN;
    else if (v.len > 9 && memcmp(v.s, "SIGRTMIN+", 9) == 0 &&
             parse_uint((value){v.s + 9, v.len - 9}, 0, (unsigned long)(SIGRTMAX - SIGRTMIN), &n))
        *out = SIGRTMIN + (int)n;
    else
        return false;
    return true;
}

typedef enum { PATH, FORMAT, BOOL, SIGNAL, UINT, DURATION } kind;

/* Every key: its kind, its field, its range (UINT), and what a bad value is told to be. */
static const struct option {
    const char *key;
    kind kind;
    size_t field;
    unsigned long lo, hi;
    const char *expected;
} options[] = {
    {"output", PATH, offsetof(tl_options, output), 0, 0, "stderr, stdout or a file path"},
    {"format", FORMAT, offsetof(tl_options, format), 0, 0, "text, full, json, pprof or folded"},
    {"at_exit", BOOL, offsetof(tl_options, at_exit), 0, 0, "0 or 1"},
    {"signal", SIGNAL, offsetof(tl_options, signal), 0, 0, "SIGUSR1, SIGUSR2, SIGRTMIN+N or none"},
    {"max_frames", UINT, offsetof(tl_options, max_frames), 1, TL_MAX_FRAMES, "1 to 128"},
    {"exitcode", UINT, offsetof(tl_options, exitcode), 0, 255, "0 to 255"},
    {"suppressions", PATH, offsetof(tl_options, suppressions), 0, 0, "a file path"},
    {"grace_ms", UINT, offsetof(tl_options, grace_ms), 0, 3600000, "0 to 3600000"},
    {"pileup", UINT, offsetof(tl_options, pileup), 1, UINT_MAX, "1 or more"},
    {"fatal", BOOL, offsetof(tl_options, fatal), 0, 0, "0 or 1"},
    {"terminate", BOOL, offsetof(tl_options, terminate), 0, 0, "0 or 1"},
    {"deadline", DURATION, offsetof(tl_options, deadline_ms), 0, 0,
     "a duration: 90, 90s, 5m, 1h or 0"},
    {"watch", DURATION, offsetof(tl_options, watch_ms), 0, 0, "a duration: 30s, 500ms, 5m or 0"},
    {"metrics", PATH, offsetof(tl_options, metrics), 0, 0, "a file path"},
    {"debuginfod", BOOL, offsetof(tl_options, debuginfod), 0, 0, "0 or 1"},
    {"default_suppressions", BOOL, offsetof(tl_options, default_suppressions), 0, 0, "0 or 1"},
    {"reach", BOOL, offsetof(tl_options, reach), 0, 0, "0 or 1"},
};

/* Sets the option's field from v; false when v is not valid for it (the field is left alone). */
static bool apply(tl_options *o, const struct option *opt, value v)
{
    void *field = (char *)o + opt->field;
    unsigned long n;
    switch (opt->kind) {
    case PATH:
        if (v.len == 0 || v.len >= PATH_MAX)
            return false;
        memcpy(field, v.s, v.len);
        ((char *)field)[v.len] = 0;
        return true;
    case FORMAT: return tl_format_parse(v.s, v.len, field);
    case BOOL: return parse_uint(v, 0, 1, &n) && (*(bool *)field = n, true);
    case SIGNAL: return parse_signal(v, field) && (o->signal_given = true);
    case UINT:
        return parse_uint(v, opt->lo, opt->hi, &n) && (*(unsigned *)field = (unsigned)n, true);
    case DURATION: return tl_duration_parse(v.s, v.len, field);
    }
    return false;
}

void tl_options_read(tl_options *o, const char *spec)
{
    for (const char *pair = spec; pair && *pair;) {
        const char *end = strchrnul(pair, ':'), *eq = memchr(pair, '=', (size_t)(end - pair));
        int len = (int)(end - pair), key_len = eq ? (int)(eq - pair) : len;
        const struct option *opt = NULL;
        for (size_t i = 0; eq && !opt && i < TL_LENGTH(options); i++)
            if (is((value){pair, (size_t)key_len}, options[i].key))
                opt = &options[i];
        if (len == 0) {
            /* an empty pair ("a=1::b=2") is nothing to warn about */
        } else if (!eq) {
            tl_warn("THREADLEAK_OPTIONS: '%.*s' is not key=value; ignored", len, pair);
        } else if (!opt) {
            tl_warn("THREADLEAK_OPTIONS: unknown option '%.*s'; ignored", key_len, pair);
        } else if (!apply(o, opt, (value){eq + 1, (size_t)(end - eq - 1)})) {
            tl_warn(
                "THREADLEAK_OPTIONS: bad value '%.*s' for %s (expected %s); keeping the default",
                (int)(end - eq - 1), eq + 1, opt->key, opt->expected);
        }
        pair = *end ? end + 1 : end;
    }
}
