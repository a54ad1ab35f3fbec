/* What the threads of a group do not share: the objects they wait on, counted, and the evidence
   each part of them has, summed up in one line, so that a group never drops what is known of its
   threads because they do not all say the same. */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct part {
    const char *text;
    size_t count;
} part;

static int text_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int part_cmp(const void *a, const void *b)
{
    const part *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->text, y->text);
}

/* The distinct strings among texts (sorted in place), as parts with their counts, largest first;
   how many there are. parts has room for n. */
static size_t parts_of(const char **texts, size_t n, part *parts)
{
    size_t nparts = 0;
    qsort(texts, n, sizeof *texts, text_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(texts[i], texts[i - 1]) != 0)
            parts[nparts++] = (part){texts[i], 0};
        parts[nparts - 1].count++;
    }
    qsort(parts, nparts, sizeof *parts, part_cmp);
    return nparts;
}

/* "differs: 3 never signalled; 2 last signalled by tid 7; 1 with none", cut with "..." when it
   does not fit. */
static void evidence_mix(tl_group *g, const part *parts, size_t n)
{
    size_t len = sizeof g->evidence_mix, used = (size_t)snprintf(g->evidence_mix, len, "differs:");
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(g->evidence_mix + used, len - used, "%s %zu %s", i ? ";" : "",
                                 parts[i].count, parts[i].text[0] ? parts[i].text : "with none");
    if (used >= len)
        memcpy(g->evidence_mix + len - 4, "...", 4);
}

bool tl_group_mix(tl_group *g)
{
    const char **texts = malloc((g->count + 1) * sizeof *texts);
    part *parts = malloc((g->count + 1) * sizeof *parts);
    bool ok = texts && parts;
    g->objects = g->object[0] ? 1 : 0;
    g->evidence_mix[0] = 0;
    if (ok && !g->object[0]) {
        for (size_t i = 0; i < g->count; i++)
            texts[i] = g->rows[i].object;
        size_t n = parts_of(texts, g->count, parts);
        for (size_t i = 0; i < n; i++)
            g->objects += parts[i].text[0] != 0;
    }
    if (ok && !g->evidence[0]) {
        for (size_t i = 0; i < g->count; i++)
            texts[i] = g->rows[i].evidence;
        size_t n = parts_of(texts, g->count, parts);
        if (n > 1)
            evidence_mix(g, parts, n);
    }
    free(texts);
    free(parts);
    return ok;
}
