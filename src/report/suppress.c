/* Suppressions: rules that hide threads from reports, as in a suppressions file. One rule a line,
   '#' starts a comment, '*' matches any run of characters:
     blocked:PATTERN   any function in the stack where the thread waits
     created:PATTERN   any function in the stack that created it
     name:PATTERN      the thread's name
   A malformed line is named, with its line number, and skipped. */
#include "report/suppress.h"

#include "core/base.h"
#include "core/lock.h"
#include "core/options.h"
#include "report/report.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tl_rules {
    size_t n;
    struct rule {
        enum { BLOCKED, CREATED, NAME } kind;
        char *pattern;
    } * rule;
};

/* '*' matches any run of characters, every other character itself. */
static bool glob(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == *s) {
            p++, s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return !*p;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = 0;
    return s;
}

bool tl_rules_add(tl_rules **rules, const char *text, const char *source)
{
    if (!*rules && !(*rules = calloc(1, sizeof **rules)))
        return false;
    char *copy = strdup(text);
    if (!copy)
        return false;
    unsigned lineno = 0;
    bool ok = true;
    /* strtok_r would skip empty lines and so miscount: split by hand. */
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *rule = trim(line);
        if (!*rule)
            continue;
        struct rule r;
        const char *pattern;
        if (strncmp(rule, "blocked:", 8) == 0)
            r.kind = BLOCKED, pattern = rule + 8;
        else if (strncmp(rule, "created:", 8) == 0)
            r.kind = CREATED, pattern = rule + 8;
        else if (strncmp(rule, "name:", 5) == 0)
            r.kind = NAME, pattern = rule + 5;
        else
            pattern = NULL;
        if (!pattern || !*pattern) {
            tl_warn("%s:%u: '%s' is not blocked:, created: or name: with a pattern; skipped",
                    source, lineno, rule);
            ok = false;
            continue;
        }
        struct rule *grown = realloc((*rules)->rule, ((*rules)->n + 1) * sizeof *grown);
        if (grown)
            (*rules)->rule = grown;
        if (!grown || !(r.pattern = strdup(pattern))) {
            ok = false;
            break;
        }
        (*rules)->rule[(*rules)->n++] = r;
    }
    free(copy);
    return ok;
}

void tl_rules_free(tl_rules *rules)
{
    if (!rules)
        return;
    for (size_t i = 0; i < rules->n; i++)
        free(rules->rule[i].pattern);
    free(rules->rule);
    free(rules);
}

static bool stack_matches(tl_report *r, const tl_stack *s, const char *pattern)
{
    unsigned n;
    for (unsigned i = 0; s && i < s->depth; i++) {
        const tl_frame *f = tl_report_frames(r, s->pc[i], &n);
        for (unsigned j = 0; j < n; j++)
            if (glob(pattern, f[j].function))
                return true;
    }
    return false;
}

bool tl_rules_match_name(const tl_rules *rules, const char *name)
{
    for (size_t i = 0; rules && i < rules->n; i++)
        if (rules->rule[i].kind == NAME && glob(rules->rule[i].pattern, name))
            return true;
    return false;
}

bool tl_rules_match(const tl_rules *rules, tl_report *report, const tl_row *row)
{
    for (size_t i = 0; rules && i < rules->n; i++) {
        const struct rule *r = &rules->rule[i];
        if ((r->kind == NAME && glob(r->pattern, row->name)) ||
            (r->kind == BLOCKED && stack_matches(report, row->blocked_at, r->pattern)) ||
            (r->kind == CREATED && stack_matches(report, row->created_at, r->pattern)))
            return true;
    }
    return false;
}

static tl_lock process_lock;
static tl_rules *process_rules;
static bool process_read;

/* Adds the rules of the file at path; a missing default file is no news, a missing file the user
   named is worth a line. */
static void add_file(const char *path, bool named)
{
    FILE *f = fopen(path, "re");
    char *text = NULL;
    size_t len = 0;
    if (f) {
        FILE *all = open_memstream(&text, &len);
        for (int c; all && (c = getc(f)) != EOF;)
            putc(c, all);
        if (all)
            fclose(all);
        fclose(f);
    }
    if (text)
        tl_rules_add(&process_rules, text, path);
    else if (named)
        tl_warn("cannot read suppressions file %s (%s); its rules do not apply", path,
                strerror(errno));
    free(text);
}

/* The default suppressions: ../share/threadleak/default.supp from the library's own directory
   (the build tree, and a prefix whose libdir is lib), else where this build installs them (a
   libdir such as lib/x86_64-linux-gnu is one level deeper). */
static void add_default_file(void)
{
    char path[PATH_MAX];
    Dl_info self;
    if (dladdr((void *)add_default_file, &self) && self.dli_fname) {
        const char *slash = strrchr(self.dli_fname, '/');
        int dir = slash ? (int)(slash - self.dli_fname) : 1;
        if (snprintf(path, sizeof path, "%.*s/../share/threadleak/default.supp", dir,
                     slash ? self.dli_fname : ".") < (int)sizeof path &&
            access(path, R_OK) == 0) {
            add_file(path, false);
            return;
        }
    }
    add_file(TL_DATADIR "/threadleak/default.supp", false);
}

/* Read at the first report that needs them, not at start-up: start-up allocates nothing it can
   avoid, and a program that never reports never reads them. */
const tl_rules *tl_rules_of_process(void)
{
    tl_lock_acquire(&process_lock);
    if (!process_read) {
        process_read = true;
        if (tl_opt.suppressions[0])
            add_file(tl_opt.suppressions, true);
        if (tl_opt.default_suppressions)
            add_default_file();
    }
    tl_lock_release(&process_lock);
    return process_rules;
}
