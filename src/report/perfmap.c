/* /tmp/perf-PID.map, read whole at a report that needs it and kept while the file does not change
   (its size and modification time). */
#include "report/perfmap.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct code {
    uintptr_t start, size;
    size_t line; /* later lines win */
    char *name;
} code;

struct tl_perfmap {
    char path[64];
    off_t size;
    struct timespec mtime;
    size_t n;
    code *code; /* by start, then line */
};

static int code_cmp(const void *a, const void *b)
{
    const code *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* One line, "START SIZE NAME" (START and SIZE in hexadecimal, with or without 0x); false when it
   is not one. */
static bool parse(char *text, code *c)
{
    char *end;
    c->start = (uintptr_t)strtoull(text, &end, 16);
    if (end == text || *end != ' ')
        return false;
    c->size = (uintptr_t)strtoull(end + 1, &text, 16);
    if (text == end + 1 || *text != ' ' || c->size == 0)
        return false;
    text[strcspn(text, "\n")] = 0;
    return (c->name = strdup(text + 1)) != NULL;
}

static tl_perfmap *load(FILE *f, const char *path, const struct stat *st)
{
    tl_perfmap *map = calloc(1, sizeof *map);
    if (!map)
        return NULL;
    snprintf(map->path, sizeof map->path, "%s", path);
    map->size = st->st_size;
    map->mtime = st->st_mtim;
    char *text = NULL;
    size_t room = 0, cap = 0;
    for (size_t line = 0; getline(&text, &room, f) > 0; line++) {
        code c = {.line = line};
        if (!parse(text, &c))
            continue;
        if (map->n == cap) {
            code *grown = realloc(map->code, (cap = cap ? 2 * cap : 256) * sizeof *grown);
            if (!grown) {
                free(c.name);
                break;
            }
            map->code = grown;
        }
        map->code[map->n++] = c;
    }
    free(text);
    qsort(map->code, map->n, sizeof *map->code, code_cmp);
    return map;
}

bool tl_perfmap_refresh(tl_perfmap **map)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    FILE *f = NULL;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        bool had = *map != NULL;
        tl_perfmap_free(*map);
        *map = NULL;
        return had;
    }
    if (*map && (*map)->size == st.st_size && (*map)->mtime.tv_sec == st.st_mtim.tv_sec &&
        (*map)->mtime.tv_nsec == st.st_mtim.tv_nsec) {
        close(fd);
        return false;
    }
    tl_perfmap *fresh = (f = fdopen(fd, "r")) ? load(f, path, &st) : NULL;
    if (f)
        fclose(f);
    else
        close(fd);
    tl_perfmap_free(*map);
    *map = fresh;
    return true;
}

const char *tl_perfmap_find(const tl_perfmap *map, uintptr_t pc, uintptr_t *offset)
{
    if (!map)
        return NULL;
    size_t lo = 0, hi = map->n; /* the first code that starts after pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (map->code[mid].start <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const code *c = &map->code[lo - 1]; /* of those that start at the same place, the latest */
    if (pc - c->start >= c->size)
        return NULL;
    *offset = pc - c->start;
    return c->name;
}

const char *tl_perfmap_path(const tl_perfmap *map)
{
    return map->path;
}

void tl_perfmap_free(tl_perfmap *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->n; i++)
        free(map->code[i].name);
    free(map->code);
    free(map);
}
