/* THREADLEAK_OPTIONS: colon-separated key=value pairs, as the sanitizers read theirs. A bad pair is
   named in one warning and leaves the default in place; nothing here can stop the host. Pairs are
   read where they stand, without a copy: start-up allocates nothing it can avoid. */
#include "core/options.h"

#include "core/base.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

tl_options tl_opt;

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

static bool parse_path(value v, char *dst)
{
    if (v.len == 0 || v.len >= PATH_MAX)
        return false;
    memcpy(dst, v.s, v.len);
    dst[v.len] = 0;
    return true;
}

static bool parse_bool(value v, bool *out)
{
    unsigned long n;
    if (!parse_uint(v, 0, 1, &n))
        return false;
    *out = n;
    return true;
}

static bool parse_unsigned(value v, unsigned long lo, unsigned long hi, unsigned *out)
{
    unsigned long n;
    if (!parse_uint(v, lo, hi, &n))
        return false;
    *out = (unsigned)n;
    return true;
}

/* Applies one key=value; false when the key is known but the value is not valid for it, with
   *expected saying what would be; *expected is NULL for an unknown key. */
static bool apply(tl_options *o, value key, value v, const char **expected)
{
    if (is(key, "output"))
        return *expected = "stderr, stdout or a file path", parse_path(v, o->output);
    if (is(key, "format"))
        return *expected = "text, full, json, pprof or folded",
               tl_format_parse(v.s, v.len, &o->format);
    if (is(key, "at_exit"))
        return *expected = "0 or 1", parse_bool(v, &o->at_exit);
    if (is(key, "signal"))
        return *expected = "SIGUSR1, SIGUSR2, SIGRTMIN+N or none", parse_signal(v, &o->signal);
    if (is(key, "max_frames"))
        return *expected = "1 to 128", parse_unsigned(v, 1, TL_MAX_FRAMES, &o->max_frames);
    if (is(key, "exitcode")) {
        unsigned code;
        *expected = "0 to 255";
        return parse_unsigned(v, 0, 255, &code) && (o->exitcode = (int)code, true);
    }
    if (is(key, "suppressions"))
        return *expected = "a file path", parse_path(v, o->suppressions);
    if (is(key, "grace_ms"))
        return *expected = "0 to 3600000", parse_unsigned(v, 0, 3600000, &o->grace_ms);
    if (is(key, "pileup"))
        return *expected = "1 or more", parse_unsigned(v, 1, UINT_MAX, &o->pileup);
    *expected = NULL;
    return false;
}

static void defaults(tl_options *o)
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

void tl_options_read(tl_options *o, const char *spec)
{
    defaults(o);
    for (const char *pair = spec; pair && *pair;) {
        const char *end = strchrnul(pair, ':'), *eq = memchr(pair, '=', (size_t)(end - pair));
        const char *expected;
        int len = (int)(end - pair);
        if (len == 0) {
            /* an empty pair ("a=1::b=2") is nothing to warn about */
        } else if (!eq) {
            tl_warn("THREADLEAK_OPTIONS: '%.*s' is not key=value; ignored", len, pair);
        } else if (!apply(o, (value){pair, (size_t)(eq - pair)},
                          (value){eq + 1, (size_t)(end - eq - 1)}, &expected)) {
            if (expected)
                tl_warn("THREADLEAK_OPTIONS: bad value '%.*s' for %.*s (expected %s); keeping the "
                        "default",
                        (int)(end - eq - 1), eq + 1, (int)(eq - pair), pair, expected);
            else
                tl_warn("THREADLEAK_OPTIONS: unknown option '%.*s'; ignored", (int)(eq - pair),
                        pair);
        }
        pair = *end ? end + 1 : end;
    }
}
