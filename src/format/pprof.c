/* The pprof format: a gzip-compressed profile.proto that `go tool pprof` opens. One sample per
   group, its value the thread count (sample type threads/count), labelled with state, verdict and
   the function that created the threads; the sample's stack is where the threads wait, or where
   they were made when no wait is recorded, as in the folded format. Inlined calls are one location
   with several lines, innermost first, as profile.proto says.

   The protobuf is written by hand: a message is its fields as (tag, value) pairs, a nested message
   a length-delimited field holding its own encoding. */
#include "format/format.h"

#include "core/base.h"
#include "report/deps.h"

#include <stdlib.h>
#include <string.h>

typedef struct buf {
    unsigned char *data;
    size_t len, cap;
    bool failed;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (n == 0) /* an empty message (a group with no stack): p may be NULL */
        return;
    if (b->len + n > b->cap && !b->failed) {
        size_t cap = 2 * (b->len + n) + 64;
        unsigned char *grown = realloc(b->data, cap);
        if (grown)
            b->data = grown, b->cap = cap;
        else
            b->failed = true;
    }
    if (b->failed)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void varint(buf *b, uint64_t v)
{
    unsigned char bytes[10];
    size_t n = 0;
    do {
        bytes[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(b, bytes, n);
}

static void field_int(buf *b, unsigned field, uint64_t v)
{
    varint(b, (uint64_t)field << 3); /* wire type 0 */
    varint(b, v);
}

static void field_bytes(buf *b, unsigned field, const void *p, size_t n)
{
    varint(b, (uint64_t)field << 3 | 2);
    varint(b, n);
    put(b, p, n);
}

static void field_message(buf *b, unsigned field, buf *m)
{
    field_bytes(b, field, m->data, m->len);
    b->failed |= m->failed;
    m->len = 0;
}

/* ---- the string table and the ids of functions and locations, found by linear search: a report
   has tens of distinct frames, not thousands ---- */

typedef struct profile {
    buf out, msg, sub;
    const char **strings;
    size_t nstrings;
    const tl_frame **functions; /* by id - 1: name and file identify a function */
    size_t nfunctions;
    uintptr_t *locations; /* by id - 1: the return address */
    size_t nlocations;
} profile;

_Static_assert(sizeof(uintptr_t) == sizeof(void *), "locations are stored as pointers are");

/* Appends the pointer-sized item to *array of *n items; its id is then *n (0 when out of memory).
   */
static uint64_t append(profile *p, void *array, size_t *n, const void *item)
{
    void **items = array, *grown = realloc(*items, (*n + 1) * sizeof(void *));
    if (!grown) {
        p->out.failed = true;
        return 0;
    }
    *items = grown;
    memcpy((char *)grown + *n * sizeof(void *), item, sizeof(void *));
    return ++*n;
}

static uint64_t string_id(profile *p, const char *s)
{
    s = s ? s : "";
    for (size_t i = 0; i < p->nstrings; i++)
        if (strcmp(p->strings[i], s) == 0)
            return i;
    uint64_t id = append(p, &p->strings, &p->nstrings, &s);
    return id ? id - 1 : 0; /* strings count from 0 */
}

static uint64_t function_id(profile *p, const tl_frame *f)
{
    for (size_t i = 0; i < p->nfunctions; i++)
        if (strcmp(p->functions[i]->function, f->function) == 0 &&
            (p->functions[i]->file == f->file ||
             (p->functions[i]->file && f->file && strcmp(p->functions[i]->file, f->file) == 0)))
            return i + 1;
    return append(p, &p->functions, &p->nfunctions, &f);
}

static uint64_t location_id(profile *p, uintptr_t pc)
{
    for (size_t i = 0; i < p->nlocations; i++)
        if (p->locations[i] == pc)
            return i + 1;
    return append(p, &p->locations, &p->nlocations, &pc);
}

static void label(profile *p, const char *key, const char *value)
{
    field_int(&p->sub, 1, string_id(p, key));
    field_int(&p->sub, 2, string_id(p, value));
    field_message(&p->msg, 3, &p->sub);
}

static void sample(profile *p, tl_report *r, const tl_group *g)
{
    const tl_stack *s = tl_group_stack(g);
    for (unsigned i = 0; s && i < s->depth; i++) /* location ids, innermost first */
        varint(&p->sub, location_id(p, s->pc[i]));
    field_message(&p->msg, 1, &p->sub);
    varint(&p->sub, g->count);
    field_message(&p->msg, 2, &p->sub);
    label(p, "state", tl_state_name(g->rows->state));
    label(p, "verdict", tl_verdict_name(g->rows->verdict));
    /* created_by: the first function that is not pthread_create itself (another interposer's, a
       sanitizer's interceptor) */
    for (unsigned i = 0, n; g->rows->created_at && i < g->rows->created_at->depth; i++) {
        const tl_frame *f = tl_report_frames(r, g->rows->created_at->pc[i], &n);
        if (!strstr(f[n - 1].function, "pthread_create")) {
            label(p, "created_by", f[n - 1].function);
            break;
        }
    }
    field_message(&p->out, 2, &p->msg);
}

static void locations(profile *p, tl_report *r)
{
    /* functions are numbered as the locations' lines name them: write locations first */
    for (size_t i = 0; i < p->nlocations; i++) {
        unsigned n;
        const tl_frame *f = tl_report_frames(r, p->locations[i], &n);
        field_int(&p->msg, 1, i + 1);
        field_int(&p->msg, 3, p->locations[i] - 1); /* the call, as the frames' lines */
        for (unsigned j = 0; j < n; j++) {
            field_int(&p->sub, 1, function_id(p, &f[j]));
            field_int(&p->sub, 2, f[j].line);
            field_message(&p->msg, 4, &p->sub);
        }
        field_message(&p->out, 4, &p->msg);
    }
    for (size_t i = 0; i < p->nfunctions; i++) {
        field_int(&p->msg, 1, i + 1);
        field_int(&p->msg, 2, string_id(p, p->functions[i]->function));
        field_int(&p->msg, 3, string_id(p, p->functions[i]->function));
        field_int(&p->msg, 4, string_id(p, p->functions[i]->file));
        field_message(&p->out, 5, &p->msg);
    }
}

/* gzip, as Go writes its profiles. */
static bool gzip_to(FILE *out, const buf *b)
{
    z_stream z = {0};
    unsigned char chunk[16384];
    if (!tl_deps_zlib() || Z(deflateInit2_)(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                                            Z_DEFAULT_STRATEGY, ZLIB_VERSION, sizeof z) != Z_OK)
        return false;
    z.next_in = b->data;
    z.avail_in = (uInt)b->len;
    int rc;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        rc = Z(deflate)(&z, Z_FINISH);
        fwrite(chunk, 1, sizeof chunk - z.avail_out, out);
    } while (rc == Z_OK);
    Z(deflateEnd)(&z);
    return rc == Z_STREAM_END;
}

void tl_format_pprof(FILE *out, tl_report *r)
{
    profile p = {0};
    string_id(&p, ""); /* string_table[0] must be "" */
    field_int(&p.msg, 1, string_id(&p, "threads"));
    field_int(&p.msg, 2, string_id(&p, "count"));
    field_message(&p.out, 1, &p.msg);
    for (size_t i = 0; i < r->ngroups; i++)
        sample(&p, r, &r->groups[i]);
    locations(&p, r);
    field_int(&p.msg, 1, string_id(&p, "threads"));
    field_int(&p.msg, 2, string_id(&p, "count"));
    field_message(&p.out, 11, &p.msg); /* period_type */
    field_int(&p.out, 12, 1);          /* period */
    for (size_t i = 0; i < p.nstrings; i++)
        field_bytes(&p.out, 6, p.strings[i], strlen(p.strings[i]));
    if (p.out.failed || !gzip_to(out, &p.out))
        tl_warn("out of memory writing the pprof report; it is incomplete");
    free(p.out.data);
    free(p.msg.data);
    free(p.sub.data);
    free(p.strings);
    free(p.functions);
    free(p.locations);
}
