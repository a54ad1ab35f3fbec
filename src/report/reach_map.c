/* The memory the reachability scan reads: see reach_map.h. */
#include "report/reach_map.h"

#include "core/base.h"
#include "core/held.h"
#include "core/helper.h"
#include "core/libs.h"
#include "core/registry.h"
#include "platform/platform.h"
#include "report/scratch.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <mqueue.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096ul
#define WINDOW (64u << 10)
#define PEEK_MAX (1u << 20)      /* unread bytes of one pipe or socket, read without taking */
#define MAPPING_MAX (64ul << 30) /* a root mapping larger than this is not read */

/* ---- arrays and raw system calls: nothing here may allocate from the heap ---- */

/* The scan's own mappings, which /proc/self/maps lists too: they are no memory of the program's
   (they hold copies of it). One scan at a time uses them (reach.c). While a scan runs, nothing it
   maps is given back: /proc/self/maps is read in pieces while the scan allocates, so it may list
   an address the scan gave back, which a later mapping of the scan's would take, to be read as
   the program's. Given-back mappings stay listed here, and mapped, until the scan ends. */
#define OWNED 512
static struct owned_range {
    uintptr_t lo, hi;
    bool retired; /* given back, unmapped when the scan ends */
} owned[OWNED] TL_LARGE;
static size_t nowned;
static bool owned_lost; /* more mappings than the list holds: the scan must not go on */
static bool scanning;

static void own(void *p, size_t size)
{
    if (nowned < OWNED)
        owned[nowned++] = (struct owned_range){(uintptr_t)p, (uintptr_t)p + size, false};
    else
        owned_lost = true;
}

static void *map(size_t size)
{
    long p =
        tl_sys(SYS_mmap, 0, (long)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p < 0 && p > -4096)
        return NULL;
    own((void *)p, size);
    return (void *)p;
}

static void unmap(void *p, size_t size)
{
    for (size_t i = 0; p && i < nowned; i++)
        if (owned[i].lo == (uintptr_t)p && !owned[i].retired) {
            owned[i].retired = true;
            if (!scanning) {
                tl_sys(SYS_munmap, (long)p, (long)size, 0, 0, 0, 0);
                owned[i] = owned[--nowned];
            }
            return;
        }
}

void tl_space_begin(void)
{
    scanning = true;
    owned_lost = false;
}

void tl_space_end(void)
{
    scanning = false;
    for (size_t i = nowned; i-- > 0;)
        if (owned[i].retired) {
            tl_sys(SYS_munmap, (long)owned[i].lo, (long)(owned[i].hi - owned[i].lo), 0, 0, 0, 0);
            owned[i] = owned[--nowned];
        }
}

static size_t pages(size_t bytes)
{
    return (bytes + PAGE - 1) & ~(PAGE - 1);
}

bool tl_vec_reserve(tl_vec *v, size_t more)
{
    if (v->cap - v->n >= more)
        return true;
    size_t cap = v->cap ? 2 * v->cap : PAGE / v->elem + 1;
    while (cap - v->n < more)
        cap *= 2;
    void *grown = NULL;
    size_t had = pages(v->cap * v->elem), want = pages(cap * v->elem);
    if (v->data) { /* in place if the pages after it are free: never moved, see owned */
        long p = tl_sys(SYS_mremap, (long)v->data, (long)had, (long)want, 0, 0, 0);
        if (!(p < 0 && p > -4096)) {
            grown = (void *)p;
            for (size_t i = 0; i < nowned; i++)
                if (owned[i].lo == (uintptr_t)grown)
                    owned[i].hi = owned[i].lo + want;
        }
    }
    if (!grown && (grown = map(want)) && v->data) {
        memcpy(grown, v->data, v->n * v->elem);
        unmap(v->data, had);
    }
    if (!grown)
        return false;
    v->data = grown;
    v->cap = cap;
    return true;
}

void *tl_vec_push(tl_vec *v)
{
    if (!tl_vec_reserve(v, 1))
        return NULL;
    void *slot = (char *)v->data + v->elem * v->n++;
    memset(slot, 0, v->elem); /* popped elements leave their bytes behind */
    return slot;
}

void tl_vec_free(tl_vec *v)
{
    unmap(v->data, pages(v->cap * v->elem));
    v->data = NULL;
    v->n = v->cap = 0;
}

static int open_raw(const char *path, int flags)
{
    return (int)tl_sys(SYS_openat, AT_FDCWD, (long)path, flags | O_CLOEXEC, 0, 0, 0);
}

static void close_raw(int fd)
{
    if (fd >= 0)
        tl_sys(SYS_close, fd, 0, 0, 0, 0, 0);
}

/* A whole file of /proc, into v (of chars), terminated; false when it cannot be read. */
static bool read_file(const char *path, tl_vec *v)
{
    int fd = open_raw(path, O_RDONLY);
    if (fd < 0)
        return false;
    for (;;) {
        if (!tl_vec_reserve(v, 4096)) {
            close_raw(fd);
            return false;
        }
        long got = tl_sys(SYS_read, fd, (long)((char *)v->data + v->n), (long)(v->cap - v->n - 1),
                          0, 0, 0);
        if (got < 0) {
            close_raw(fd);
            return false;
        }
        if (got == 0)
            break;
        v->n += (size_t)got;
    }
    close_raw(fd);
    ((char *)v->data)[v->n] = 0;
    return true;
}

void tl_space_why(tl_space *sp, const char *fmt, ...)
{
    if (sp->why[0])
        return; /* the first reason stands */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sp->why, sizeof sp->why, fmt, ap);
    va_end(ap);
}

/* process_vm_readv reads another mapping's pages through the kernel: a page that is gone fails
   the read instead of faulting. /proc/self/mem does the same where it is refused (seccomp). */
static int mem_fd = -1;
static pid_t self;

size_t tl_space_read(void *ctx, uintptr_t addr, void *buf, size_t len)
{
    (void)ctx;
    struct iovec local = {buf, len}, remote = {(void *)addr, len};
    if (!self)
        self = (pid_t)tl_sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
    long got = mem_fd < 0 ? tl_sys(SYS_process_vm_readv, self, (long)&local, 1, (long)&remote, 1, 0)
                          : -ENOSYS;
    if (got == -ENOSYS || got == -EPERM) {
        if (mem_fd < 0)
            mem_fd = open_raw("/proc/self/mem", O_RDONLY);
        got = mem_fd < 0 ? -1 : tl_sys(SYS_pread64, mem_fd, (long)buf, (long)len, (long)addr, 0, 0);
    }
    return got > 0 ? (size_t)got : 0;
}

/* ---- mappings ---- */

typedef struct vma {
    uintptr_t lo, hi;
    bool r, w, shared, file;
    const char *name; /* in the maps text, up to its newline; "" for none */
} vma;

static bool parse_maps(tl_vec *text, tl_vec *vmas)
{
    if (!read_file("/proc/self/maps", text))
        return false;
    for (char *line = text->data; *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = 0;
        unsigned long lo, hi, inode;
        char perms[5];
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %4s %*x %*x:%*x %lu %n", &lo, &hi, perms, &inode, &name_at) >=
            4) {
            vma *v = tl_vec_push(vmas);
            if (!v)
                return false;
            *v = (vma){lo,
                       hi,
                       perms[0] == 'r',
                       perms[1] == 'w',
                       perms[3] == 's',
                       inode != 0,
                       name_at ? line + name_at : ""};
        }
        line = end ? end + 1 : line + strlen(line);
    }
    return true;
}

/* ---- modules: their writable segments name globals, and ours are no root ---- */

typedef struct module_range {
    uintptr_t lo, hi, base;
    bool ours;
} module_range;

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    tl_vec *ranges = arg;
    Dl_info lib;
    bool ours =
        tl_libs_own(info->dlpi_addr) || (dladdr((void *)tl_space_build, &lib) && lib.dli_fbase &&
                                         strcmp(lib.dli_fname, info->dlpi_name) == 0);
    uintptr_t base = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        if (!base)
            base = info->dlpi_addr + ph->p_vaddr;
        if (!(ph->p_flags & PF_W))
            continue;
        module_range *m = tl_vec_push(ranges);
        if (!m)
            return 1;
        m->lo = (info->dlpi_addr + ph->p_vaddr) & ~(PAGE - 1);
        m->hi = pages(info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
        m->base = base;
        m->ours = ours;
    }
    return 0;
}

static const module_range *module_of(const tl_vec *ranges, uintptr_t lo, uintptr_t hi)
{
    for (size_t i = 0; i < ranges->n; i++) {
        const module_range *m = &TL_VEC_AT(*ranges, module_range, i);
        if (lo < m->hi && hi > m->lo)
            return m;
    }
    return NULL;
}

/* ---- regions and roots ---- */

static bool push_root(tl_vec *v, uintptr_t lo, uintptr_t hi, tl_from from)
{
    tl_root *r = lo < hi ? tl_vec_push(v) : NULL;
    if (r)
        *r = (tl_root){lo, hi, from};
    return lo >= hi || r;
}

/* A root; home: an object that lies in it is reachable (a global, a stack that can run). */
static bool add_root(tl_space *sp, uintptr_t lo, uintptr_t hi, tl_from from, bool home)
{
    return push_root(&sp->roots, lo, hi, from) && (!home || push_root(&sp->homes, lo, hi, from));
}

static bool add_value(tl_space *sp, uintptr_t value, tl_from from)
{
    tl_value *v = tl_vec_push(&sp->values);
    if (v)
        *v = (tl_value){value, from};
    return v != NULL;
}

/* A mapping of the program's own, read where it has pages (present or swapped out): a page never
   touched holds nothing, and a reservation of terabytes must not be read whole. Of a file's
   private mapping, only pages the program wrote (copied, so anonymous now): the others hold the
   file's bytes, which the program did not put there. */
static bool add_resident(tl_space *sp, int pagemap, uintptr_t lo, uintptr_t hi, tl_from from,
                         bool written)
{
    if (hi - lo > MAPPING_MAX) {
        tl_space_why(sp, "a mapping of %lu GiB at 0x%lx is too large to read", (hi - lo) >> 30,
                     (unsigned long)lo);
        return true;
    }
    if (pagemap < 0)
        return add_root(sp, lo, hi, from, false);
    uint64_t entries[512];
    uintptr_t run = 0, end = pages(hi);
    for (uintptr_t at = lo & ~(PAGE - 1); at < end;) {
        size_t n = (end - at) / PAGE < 512 ? (end - at) / PAGE : 512;
        long got =
            tl_sys(SYS_pread64, pagemap, (long)entries, (long)(n * 8), (long)(at / PAGE * 8), 0, 0);
        if (got != (long)(n * 8)) /* cannot tell: all of what is left */
            return add_root(sp, run ? run : at > lo ? at : lo, hi, from, false);
        for (size_t i = 0; i < n; i++, at += PAGE) {
            /* present (bit 63) or swapped (bit 62); a file's page or shared (bit 61) */
            bool held = entries[i] >> 62 && !(written && entries[i] >> 61 & 1 && entries[i] >> 63);
            if (held && !run)
                run = at > lo ? at : lo;
            else if (!held && run) {
                if (!add_root(sp, run, at < hi ? at : hi, from, false))
                    return false;
                run = 0;
            }
        }
    }
    return !run || add_root(sp, run, hi, from, false);
}

typedef struct walk_ctx {
    tl_region *r;
} walk_ctx;

static void set_bit(uint64_t *bits, size_t i)
{
    bits[i / 64] |= 1ull << (i % 64);
}

static void chunk_seen(void *ctx, uintptr_t chunk, size_t size, bool in_use)
{
    tl_region *r = ((walk_ctx *)ctx)->r;
    (void)size;
    set_bit(r->starts, (chunk - r->lo) / TL_MALLOC_ALIGN);
    if (!in_use) /* nothing to reach in a free chunk */
        set_bit(r->marks, (chunk - r->lo) / TL_MALLOC_ALIGN);
}

/* A glibc heap whose chunks tile [first, end): a region with its bitmaps. false when it is not
   one; the bitmaps are given back then. */
static bool add_arena(tl_space *sp, tl_heap_kind kind, uintptr_t first, uintptr_t end,
                      uintptr_t key)
{
    size_t bits = (end - first) / TL_MALLOC_ALIGN + 1, bytes = pages((bits + 63) / 64 * 8);
    tl_region r = {.lo = first, .hi = end, .kind = TL_REGION_ARENA, .thread = -1};
    r.starts = map(bytes);
    r.marks = map(bytes);
    walk_ctx ctx = {&r};
    if (r.starts && r.marks && tl_malloc_walk(&sp->mem, kind, first, end, key, chunk_seen, &ctx)) {
        set_bit(r.starts, bits - 1); /* the end, for the last chunk's size */
        tl_region *slot = tl_vec_push(&sp->regions);
        if (slot) {
            *slot = r;
            return true;
        }
    }
    unmap(r.starts, bytes);
    unmap(r.marks, bytes);
    return false;
}

typedef struct tile_ctx {
    tl_space *sp;
    bool ok;
} tile_ctx;

static void chunk_mapped(void *ctx, uintptr_t chunk, size_t size, bool in_use)
{
    tile_ctx *t = ctx;
    tl_region *r = tl_vec_push(&t->sp->regions);
    (void)in_use;
    if (!r)
        t->ok = false;
    else
        *r = (tl_region){.lo = chunk, .hi = chunk + size, .kind = TL_REGION_CHUNK, .thread = -1};
}

/* An anonymous writable segment: the heaps of other arenas it holds (at 64 MiB boundaries), chunks
   of their own mappings, and what is neither, a root. */
static bool classify_anon(tl_space *sp, int pagemap, uintptr_t lo, uintptr_t hi, uintptr_t key,
                          tl_from from)
{
    uintptr_t at = lo;
    for (uintptr_t h = (lo + TL_MALLOC_HEAP_MAX - 1) & ~(TL_MALLOC_HEAP_MAX - 1); h < hi;
         h += TL_MALLOC_HEAP_MAX) {
        uintptr_t first, end;
        if (!tl_malloc_arena_heap(&sp->mem, h, hi, PAGE, &first, &end))
            continue;
        if (!classify_anon(sp, pagemap, at, h, key, from))
            return false;
        if (!add_arena(sp, TL_HEAP_ARENA, first, end, key)) {
            /* Its blocks cannot be told apart: all of it is a root, and what lies in it unknown. */
            tl_space_why(sp, "the heap at 0x%lx could not be walked", (unsigned long)h);
            if (!add_root(sp, h, end, from, false))
                return false;
        }
        /* Past its size, a heap's pages are unused (zeroed) up to what glibc keeps mapped. */
        at = end;
        uintptr_t mprotected;
        const void *p = tl_mem_get(&sp->mem, h + 3 * sizeof(uintptr_t), sizeof mprotected);
        if (p) {
            memcpy(&mprotected, p, sizeof mprotected);
            if (h + mprotected <= hi && h + mprotected > at)
                at = h + mprotected;
        }
    }
    if (at >= hi)
        return true;
    size_t before = sp->regions.n;
    tile_ctx t = {sp, true};
    if (tl_malloc_walk(&sp->mem, TL_HEAP_MMAPPED, at, hi, 0, chunk_mapped, &t) && t.ok)
        return true;
    sp->regions.n = before; /* not chunks after all: a mapping of the program's own */
    return add_resident(sp, pagemap, at, hi, from, false);
}

/* ---- threads ---- */

/* A stack glibc made: [lo, hi) from the descriptor at its top and its size. */
static bool glibc_stack(uintptr_t handle, size_t size, uintptr_t *lo, uintptr_t *hi)
{
    if (!handle || !size)
        return false;
    *hi = pages(handle + 1); /* the descriptor is less than a page below the mapping's end */
    *lo = *hi > size ? *hi - size : 0;
    return true;
}

typedef struct claim {
    uintptr_t lo, hi;
} claim;

static bool add_claim(tl_vec *claims, uintptr_t lo, uintptr_t hi)
{
    claim *c = tl_vec_push(claims);
    if (c)
        *c = (claim){lo, hi};
    return c != NULL;
}

static bool add_stack_region(tl_space *sp, uintptr_t lo, uintptr_t hi, uintptr_t scan_lo,
                             uintptr_t scan_hi, long thread)
{
    tl_region *r = tl_vec_push(&sp->regions);
    if (r)
        *r = (tl_region){.lo = lo,
                         .hi = hi,
                         .kind = TL_REGION_STACK,
                         .scan_lo = scan_lo,
                         .scan_hi = scan_hi,
                         .thread = thread};
    return r != NULL;
}

/* The mapping that holds addr: /proc/self/maps lists them in order. */
static const vma *vma_of(const tl_vec *vmas, uintptr_t addr)
{
    const vma *v = vmas->data;
    size_t lo = 0, hi = vmas->n;
    while (lo < hi) { /* the first mapping that ends above addr */
        size_t mid = (lo + hi) / 2;
        if (v[mid].hi <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < vmas->n && addr >= v[lo].lo ? &v[lo] : NULL;
}

/* The stack of a thread: [lo, hi), and where its descriptor starts, above its frames and TLS
   (hi for main, whose descriptor is elsewhere). false for a stack the program gave it
   (pthread_attr_setstack), which lies in memory of the program's that says what it is. */
static bool thread_stack(const tl_vec *vmas, const tl_reach_thread *t, uintptr_t sp_at,
                         uintptr_t *lo, uintptr_t *desc, uintptr_t *hi)
{
    if (t->main) {
        /* main's frames lie below the library's frame at its start; argv and the environment
           above them, which globals point to, are no part of what main may return to */
        uintptr_t top = tl_registry_main_top();
        for (size_t i = 0; i < vmas->n; i++) {
            const vma *v = &TL_VEC_AT(*vmas, vma, i);
            if (strcmp(v->name, "[stack]") == 0) {
                *lo = v->lo;
                *hi = *desc = v->hi;
                if (top > v->lo && top < v->hi)
                    *desc = top;
                return !sp_at || (sp_at >= *lo && sp_at < *desc);
            }
        }
        return false;
    }
    *desc = t->handle;
    return glibc_stack(t->handle, t->stack_size, lo, hi) &&
           (!sp_at || (sp_at >= *lo && sp_at < *desc));
}

/* Each thread's stack: a root from its stack pointer up when it can run, a region when it cannot
   (stuck, finished, or ending the process). A stuck thread whose stack is not one glibc made is
   taken as one that can run: its stack has no bounds of its own to be reached by. */
static bool add_threads(tl_space *sp, const tl_vec *vmas, int pagemap, tl_reach_thread *threads,
                        size_t n, bool *stuck, const tl_caller *caller, tl_vec *claims)
{
    for (size_t i = 0; i < n; i++) {
        tl_reach_thread *t = &threads[i];
        bool exact = t->role == TL_THREAD_WAITING || t->role == TL_THREAD_CALLER;
        uintptr_t lo, desc, hi, sp_at = exact ? t->sp : 0;
        tl_from from = {.kind = TL_FROM_STACK, .tid = t->tid};
        const vma *v;
        if (t->role == TL_THREAD_TIMER_HELPER)
            continue;
        if (!thread_stack(vmas, t, sp_at, &lo, &desc, &hi)) {
            stuck[i] = false;
            /* Its frames lie in memory of the program's: from sp to that mapping's end. */
            if (!exact || (t->role == TL_THREAD_CALLER && caller->exits))
                continue;
            if ((v = vma_of(vmas, t->sp)) && !add_root(sp, t->sp, v->hi, from, true))
                return false;
            for (int r = 0; r < TL_CPU_SAVED; r++)
                if (!add_value(sp, t->regs[r], (tl_from){.kind = TL_FROM_REGISTERS, .tid = t->tid}))
                    return false;
            continue;
        }
        bool ok = add_claim(claims, lo, hi);
        if (t->main && desc < hi)
            ok = ok && add_root(sp, desc, hi, from, true);
        if (exact && !stuck[i] && (t->role != TL_THREAD_CALLER || !caller->exits))
            for (int r = 0; r < TL_CPU_SAVED && ok; r++)
                ok = add_value(sp, t->regs[r], (tl_from){.kind = TL_FROM_REGISTERS, .tid = t->tid});
        switch (t->role) {
        case TL_THREAD_WAITING:
            if (stuck[i])
                ok = ok && add_stack_region(sp, lo, desc, t->sp, desc, (long)i);
            else
                ok = ok && add_root(sp, t->sp, t->main ? desc : hi, from, true);
            break;
        case TL_THREAD_CALLER:
            if (caller->exits)
                ok = ok && add_stack_region(sp, lo, desc, t->sp, desc, -1);
            else
                ok = ok && add_root(sp, t->sp, t->main ? desc : hi, from, true);
            break;
        case TL_THREAD_UNSEEN: /* its stack pointer is unknown: all it holds, for what it tells */
            ok = ok && push_root(&sp->homes, lo, t->main ? desc : hi, from) &&
                 add_resident(sp, pagemap, lo, t->main ? desc : hi, from, false);
            break;
        case TL_THREAD_ENDED:
        case TL_THREAD_TIMER_HELPER:
            ok = ok &&
                 add_stack_region(sp, lo, desc, t->sp > lo && t->sp < desc ? t->sp : lo, desc, -1);
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

/* Threads that ended, whose stacks glibc keeps for the next ones: a finished thread's stack holds
   no frames, but an object in it can still be pointed to. Only a stack whose descriptor is still
   glibc's, and that no live thread now uses. */
static bool add_ended(tl_space *sp, const tl_vec *ended, const tl_reach_thread *threads, size_t n,
                      tl_vec *claims)
{
    for (size_t i = 0; i < ended->n; i++) {
        const tl_ended *e = &TL_VEC_AT(*ended, tl_ended, i);
        uintptr_t lo, hi, words[3];
        bool live = false;
        for (size_t j = 0; j < n && !live; j++)
            live = threads[j].handle == e->handle;
        if (live || !glibc_stack(e->handle, e->stack_size, &lo, &hi) ||
            tl_space_read(sp, e->handle, words, sizeof words) != sizeof words ||
            !tl_glibc_descriptor_at(e->handle, words))
            continue;
        if (!add_claim(claims, lo, hi) ||
            !add_stack_region(sp, lo, e->handle, e->sp > lo && e->sp < e->handle ? e->sp : lo,
                              e->handle, -1))
            return false;
    }
    return true;
}

/* ---- what the kernel holds ---- */

static const char *skip_to(const char *s, const char *field)
{
    const char *at = strstr(s, field);
    return at ? at + strlen(field) : NULL;
}

/* /proc/self/timers: "signal: SIGNO/SIGEV_VALUE" for every timer, the kernel's own list. */
static bool add_timers(tl_space *sp, tl_vec *text)
{
    text->n = 0;
    if (!read_file("/proc/self/timers", text))
        return true; /* not built in: the values noted at timer_create stand alone */
    unsigned long id = 0;
    for (const char *line = text->data; line && *line; line = strchr(line, '\n'), line += !!line) {
        const char *v;
        if (strncmp(line, "ID:", 3) == 0)
            id = strtoul(line + 3, NULL, 10);
        else if (strncmp(line, "signal:", 7) == 0 && (v = strchr(line, '/')) &&
                 !add_value(sp, strtoull(v + 1, NULL, 16),
                            (tl_from){.kind = TL_FROM_TIMER, .addr = id}))
            return false;
    }
    return true;
}

/* An epoll instance's registrations, from its fdinfo: "tfd: FD events: E data: DATA". */
static bool add_epoll(tl_space *sp, int fd, tl_vec *text)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    text->n = 0;
    if (!read_file(path, text)) {
        tl_space_why(sp, "the registrations of epoll fd %d cannot be read", fd);
        return true;
    }
    for (const char *line = text->data; (line = strstr(line, "tfd:"));) {
        const char *data = skip_to(line, "data:");
        int tfd = atoi(line + 4);
        if (data && !add_value(sp, strtoull(data, NULL, 16),
                               (tl_from){.kind = TL_FROM_EPOLL, .fd = fd, .fd2 = tfd}))
            return false;
        line += 4;
    }
    return true;
}

/* Bytes that wait in a pipe or socket: any 8 of them, at any offset, may be a pointer on its way
   to another thread. */
static bool add_bytes(tl_space *sp, const unsigned char *bytes, size_t len, tl_from from)
{
    for (size_t i = 0; i + sizeof(uintptr_t) <= len; i++) {
        uintptr_t w;
        memcpy(&w, bytes + i, sizeof w);
        if (w >= sp->lo && w < sp->hi && !add_value(sp, w, from))
            return false;
    }
    return true;
}

/* What a descriptor may hold for the program: unread bytes, epoll data, an io_uring. */
static bool add_fd(tl_space *sp, int fd, int peek_pipe[2], unsigned char *buf, tl_vec *text)
{
    struct stat st;
    int unread = 0;
    if (tl_sys(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) != 0)
        return true;
    if (S_ISFIFO(st.st_mode)) {
        if (tl_sys(SYS_ioctl, fd, FIONREAD, (long)&unread, 0, 0, 0) != 0 || unread <= 0)
            return true;
        /* tee copies a pipe's bytes into our own pipe without taking them (a write end refuses:
           its bytes are read through the read end, here or in another process). */
        long got = peek_pipe[1] >= 0
                       ? tl_sys(SYS_tee, fd, peek_pipe[1], PEEK_MAX, SPLICE_F_NONBLOCK, 0, 0)
                       : -EBADF;
        if (got == -EBADF || got == -EINVAL)
            return true;
        long n = got > 0 ? tl_sys(SYS_read, peek_pipe[0], (long)buf, got, 0, 0, 0) : -1;
        if (got < unread || n != got) {
            tl_space_why(
                sp, "pipe fd %d holds unread bytes that cannot be read without taking them", fd);
            return true;
        }
        return add_bytes(sp, buf, (size_t)n, (tl_from){.kind = TL_FROM_PIPE, .fd = fd});
    }
    if (S_ISSOCK(st.st_mode)) {
        int type = 0;
        socklen_t len = sizeof type;
        if (tl_sys(SYS_ioctl, fd, FIONREAD, (long)&unread, 0, 0, 0) != 0 || unread <= 0)
            return true;
        long n = tl_sys(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, (long)&type, (long)&len, 0) == 0 &&
                         type == SOCK_STREAM && unread <= (int)PEEK_MAX
                     ? tl_sys(SYS_recvfrom, fd, (long)buf, unread, MSG_PEEK | MSG_DONTWAIT, 0, 0)
                     : -1;
        if (n != unread) {
            tl_space_why(sp, "socket fd %d holds unread data that cannot be read without taking it",
                         fd);
            return true;
        }
        return add_bytes(sp, buf, (size_t)n, (tl_from){.kind = TL_FROM_SOCKET, .fd = fd});
    }
    struct mq_attr attr;
    if (S_ISREG(st.st_mode) && tl_sys(SYS_mq_getsetattr, fd, 0, (long)&attr, 0, 0, 0) == 0) {
        if (attr.mq_curmsgs > 0) /* no call reads a queue's message without taking it */
            tl_space_why(sp, "queue fd %d holds %ld unread message%s", fd, (long)attr.mq_curmsgs,
                         attr.mq_curmsgs == 1 ? "" : "s");
        return true;
    }
    if ((st.st_mode & S_IFMT) != 0)
        return true;
    char path[64], link[64] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    long len = tl_sys(SYS_readlinkat, AT_FDCWD, (long)path, (long)link, sizeof link - 1, 0, 0);
    link[len > 0 ? len : 0] = 0;
    if (strcmp(link, "anon_inode:[eventpoll]") == 0)
        return add_epoll(sp, fd, text);
    if (strcmp(link, "anon_inode:[io_uring]") == 0)
        tl_space_why(sp, "io_uring fd %d: the kernel may hold pointers it has not handed back", fd);
    return true;
}

static bool add_fds(tl_space *sp, tl_vec *text)
{
    int dir = open_raw("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    int peek[2] = {-1, -1};
    unsigned char *buf = map(PEEK_MAX);
    bool ok = dir >= 0 && buf;
    if (!ok)
        tl_space_why(sp, "the process's descriptors cannot be listed");
    if (ok && tl_sys(SYS_pipe2, (long)peek, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0) == 0)
        tl_sys(SYS_fcntl, peek[1], F_SETPIPE_SZ, PEEK_MAX, 0, 0, 0);
    char entries[4096];
    long got;
    while (ok && (got = tl_sys(SYS_getdents64, dir, (long)entries, sizeof entries, 0, 0, 0)) > 0) {
        for (long at = 0; ok && at < got;) {
            struct dirent64 *e = (struct dirent64 *)(entries + at);
            at += e->d_reclen;
            int fd = e->d_name[0] >= '0' && e->d_name[0] <= '9' ? atoi(e->d_name) : -1;
            if (fd >= 0 && fd != dir && fd != peek[0] && fd != peek[1] && fd != mem_fd)
                ok = add_fd(sp, fd, peek, buf, text);
        }
    }
    close_raw(dir);
    close_raw(peek[0]);
    close_raw(peek[1]);
    unmap(buf, PEEK_MAX);
    return ok;
}

/* ---- the whole ---- */

static int region_cmp(const void *a, const void *b)
{
    const tl_region *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

static int root_cmp(const void *a, const void *b)
{
    const tl_root *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* malloc from another allocator (jemalloc, tcmalloc, a sanitizer's): its blocks are nowhere the
   scan can find them. */
static bool foreign_malloc(tl_space *sp)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void *ours = libc ? dlsym(libc, "malloc") : NULL, *used = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info where;
    if (libc)
        dlclose(libc);
    if (ours && ours == used)
        return false;
    tl_space_why(sp, "malloc is not glibc's but %s's: its heap cannot be walked",
                 used && dladdr(used, &where) && where.dli_fname ? where.dli_fname : "another");
    return true;
}

static int claim_cmp(const void *a, const void *b)
{
    const claim *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Claims sorted, and those that overlap or touch made one: disjoint, for unclaimed. */
static void merge_claims(tl_vec *claims)
{
    claim *c = claims->data;
    size_t n = 0;
    if (!claims->n)
        return;
    qsort(c, claims->n, sizeof *c, claim_cmp);
    for (size_t i = 1; i < claims->n; i++) {
        if (c[i].lo <= c[n].hi) {
            if (c[i].hi > c[n].hi)
                c[n].hi = c[i].hi;
        } else {
            c[++n] = c[i];
        }
    }
    claims->n = n + 1;
}

/* The next segment of [*lo, hi) that no claim covers: from *lo (moved past a claim that covers it)
   to *seg_hi. Claims are merged (merge_claims). */
static bool unclaimed(const tl_vec *claims, uintptr_t *lo, uintptr_t hi, uintptr_t *seg_hi)
{
    const claim *c = claims->data;
    size_t at = 0, end = claims->n;
    while (at < end) { /* the first claim that ends above *lo */
        size_t mid = (at + end) / 2;
        if (c[mid].hi <= *lo)
            at = mid + 1;
        else
            end = mid;
    }
    if (at < claims->n && c[at].lo <= *lo)
        *lo = c[at++].hi;
    if (*lo >= hi)
        return false;
    *seg_hi = at < claims->n && c[at].lo < hi ? c[at].lo : hi;
    return true;
}

static bool classify(tl_space *sp, const vma *v, const tl_vec *modules, const tl_vec *claims,
                     int pagemap, uintptr_t key)
{
    if (!v->r || strcmp(v->name, "[vvar]") == 0 || strcmp(v->name, "[vdso]") == 0 ||
        strcmp(v->name, "[vsyscall]") == 0 || (!v->w && v->file))
        return true;
    if (strstr(v->name, "/[aio]"))
        tl_space_why(sp,
                     "kernel AIO is in use: the kernel may hold pointers it has not handed back");
    uintptr_t lo = v->lo, hi;
    while (unclaimed(claims, &lo, v->hi, &hi)) {
        const module_range *m = module_of(modules, lo, hi);
        tl_from from = {.kind = TL_FROM_MAPPING, .addr = lo, .end = hi};
        bool ok = true;
        if (m && m->ours) {
            /* the library's own data: no root of the program's */
        } else if (m && !v->shared) {
            from = (tl_from){.kind = TL_FROM_GLOBAL, .module = m->base};
            ok = push_root(&sp->homes, lo, hi, from) &&
                 add_resident(sp, pagemap, lo, hi, from, v->file);
        } else if (v->shared) {
            ok = push_root(&sp->shared, lo, hi, from) &&
                 add_resident(sp, pagemap, lo, hi, from, false);
        } else if (strcmp(v->name, "[heap]") == 0) {
            if (!add_arena(sp, TL_HEAP_MAIN, lo, hi, key)) {
                tl_space_why(sp, "the heap at 0x%lx could not be walked", (unsigned long)lo);
                ok = add_root(sp, lo, hi, from, false);
            }
        } else if (!v->file && v->w) {
            ok = classify_anon(sp, pagemap, lo, hi, key, from);
        } else {
            ok = add_resident(sp, pagemap, lo, hi, from, v->file);
        }
        if (!ok)
            return false;
        lo = hi;
    }
    return true;
}

bool tl_space_build(tl_space *sp, tl_reach_thread *threads, size_t n, bool *stuck,
                    const tl_caller *caller)
{
    static TL_LARGE unsigned char window[WINDOW]; /* one scan at a time: see reach.c */
    *sp = (tl_space){.regions = TL_VEC(tl_region),
                     .roots = TL_VEC(tl_root),
                     .values = TL_VEC(tl_value),
                     .homes = TL_VEC(tl_root),
                     .shared = TL_VEC(tl_root)};
    sp->mem = (tl_mem){.read = tl_space_read, .ctx = sp, .window = window, .window_size = WINDOW};
    if (foreign_malloc(sp))
        return false;
    /* Everything that allocates, before any heap is read. */
    tl_held *held;
    tl_ended *ended_heap;
    bool held_complete;
    size_t nheld = tl_held_all(&held, &held_complete), nended = tl_registry_ended_all(&ended_heap);
    tl_vec ended = TL_VEC(tl_ended), text = TL_VEC(char), vmas = TL_VEC(vma),
           modules = TL_VEC(module_range), claims = TL_VEC(claim);
    bool ok = true;
    for (size_t i = 0; i < nheld && ok; i++)
        ok = add_value(
            sp, held[i].value,
            (tl_from){.kind = held[i].kind == TL_HELD_TIMER ? TL_FROM_TIMER : TL_FROM_MQ_NOTIFY,
                      .addr = held[i].key,
                      .fd = (int)held[i].key});
    for (size_t i = 0; i < nended && ok; i++)
        if ((ok = tl_vec_push(&ended) != NULL))
            TL_VEC_AT(ended, tl_ended, ended.n - 1) = ended_heap[i];
    free(held);
    free(ended_heap);
    if (!held_complete)
        tl_space_why(sp, "a timer's or notification's value could not be kept (out of memory)");
    uintptr_t key = tl_malloc_tcache_key(&sp->mem);
    dl_iterate_phdr(module_cb, &modules);
    ok = ok && parse_maps(&text, &vmas);
    int pagemap = open_raw("/proc/self/pagemap", O_RDONLY);
    /* The scan's own mappings and the stacks are carved out of the mappings that hold them (claims
       growing only adds to the list, as nothing is given back while a scan runs). */
    for (size_t i = 0; ok && i < nowned; i++)
        ok = add_claim(&claims, owned[i].lo, owned[i].hi);
    if (owned_lost)
        tl_space_why(sp, "the scan's own memory could not be told apart");
    for (int k = 0; ok && k < TL_SCRATCH_KINDS; k++) {
        uintptr_t lo, hi;
        if (tl_scratch_kept(k, &lo, &hi))
            ok = add_claim(&claims, lo, hi);
    }
    uintptr_t helper = tl_helper_stack();
    const vma *hv = helper ? vma_of(&vmas, helper) : NULL;
    ok = ok && (!hv || add_claim(&claims, hv->lo, hv->hi)) &&
         add_threads(sp, &vmas, pagemap, threads, n, stuck, caller, &claims) &&
         add_ended(sp, &ended, threads, n, &claims);
    merge_claims(&claims);
    for (size_t i = 0; ok && i < vmas.n; i++)
        ok = classify(sp, &TL_VEC_AT(vmas, vma, i), &modules, &claims, pagemap, key);
    close_raw(pagemap);
    if (ok && sp->regions.n) {
        qsort(sp->regions.data, sp->regions.n, sizeof(tl_region), region_cmp);
        sp->lo = TL_VEC_AT(sp->regions, tl_region, 0).lo;
        for (size_t i = 0; i < sp->regions.n; i++)
            if (TL_VEC_AT(sp->regions, tl_region, i).hi > sp->hi)
                sp->hi = TL_VEC_AT(sp->regions, tl_region, i).hi;
    }
    if (ok)
        qsort(sp->homes.data, sp->homes.n, sizeof(tl_root), root_cmp);
    ok = ok && add_timers(sp, &text) && add_fds(sp, &text);
    tl_vec_free(&ended);
    tl_vec_free(&text);
    tl_vec_free(&vmas);
    tl_vec_free(&modules);
    tl_vec_free(&claims);
    if (!ok)
        tl_space_why(sp, "out of memory");
    return ok;
}

void tl_space_free(tl_space *sp)
{
    for (size_t i = 0; i < sp->regions.n; i++) {
        tl_region *r = &TL_VEC_AT(sp->regions, tl_region, i);
        if (r->kind == TL_REGION_ARENA) {
            size_t bytes = pages(((r->hi - r->lo) / TL_MALLOC_ALIGN + 1 + 63) / 64 * 8);
            unmap(r->starts, bytes);
            unmap(r->marks, bytes);
        }
    }
    tl_vec_free(&sp->regions);
    tl_vec_free(&sp->roots);
    tl_vec_free(&sp->values);
    tl_vec_free(&sp->homes);
    tl_vec_free(&sp->shared);
    close_raw(mem_fd);
    mem_fd = -1;
    self = 0; /* a fork child has another pid */
}

/* ---- lookups ---- */

tl_region *tl_space_region(tl_space *sp, uintptr_t addr)
{
    if (addr < sp->lo || addr >= sp->hi)
        return NULL;
    tl_region *r = sp->regions.data;
    size_t lo = 0, hi = sp->regions.n;
    while (lo < hi) { /* the last region starting at or before addr */
        size_t mid = (lo + hi) / 2;
        if (r[mid].lo <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo && addr < r[lo - 1].hi ? &r[lo - 1] : NULL;
}

static bool test_bit(const uint64_t *bits, size_t i)
{
    return bits[i / 64] >> (i % 64) & 1;
}

bool tl_region_chunk(const tl_region *r, uintptr_t addr, uintptr_t *chunk, uintptr_t *next)
{
    if (addr < r->lo + TL_MALLOC_HEADER)
        return false;
    size_t bit = (addr - TL_MALLOC_HEADER - r->lo) / TL_MALLOC_ALIGN, word = bit / 64;
    uint64_t w = r->starts[word] & (bit % 64 == 63 ? ~0ull : (2ull << (bit % 64)) - 1);
    while (!w && word > 0)
        w = r->starts[--word];
    if (!w)
        return false;
    size_t at = word * 64 + 63 - (size_t)__builtin_clzll(w),
           last = (r->hi - r->lo) / TL_MALLOC_ALIGN;
    *chunk = r->lo + at * TL_MALLOC_ALIGN;
    /* the next start: there is always one, at hi at the latest */
    size_t b = at + 1;
    word = b / 64;
    w = r->starts[word] & ~((1ull << (b % 64)) - 1);
    while (!w && word < last / 64)
        w = r->starts[++word];
    *next = r->lo + (word * 64 + (size_t)__builtin_ctzll(w)) * TL_MALLOC_ALIGN;
    return *chunk < r->hi;
}

bool tl_region_test(const tl_region *r, uintptr_t chunk)
{
    return test_bit(r->marks, (chunk - r->lo) / TL_MALLOC_ALIGN);
}

void tl_region_set(tl_region *r, uintptr_t chunk)
{
    set_bit(r->marks, (chunk - r->lo) / TL_MALLOC_ALIGN);
}

static const tl_root *find_root(const tl_vec *v, uintptr_t addr)
{
    for (size_t i = 0; i < v->n; i++) {
        const tl_root *r = &TL_VEC_AT(*v, tl_root, i);
        if (addr >= r->lo && addr < r->hi)
            return r;
    }
    return NULL;
}

const tl_root *tl_space_home(tl_space *sp, uintptr_t addr)
{
    return find_root(&sp->homes, addr);
}

const tl_root *tl_space_shared(tl_space *sp, uintptr_t addr)
{
    return find_root(&sp->shared, addr);
}
